# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Fuzz profiles: ``ci`` (make test: a fixed number of examples, the same ones every run) and ``long`` (make fuzz).

HYPOTHESIS_PROFILE picks one; FUZZ_EXAMPLES overrides the number of examples of either.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_COMMON = dict(
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
)
_EXAMPLES = os.environ.get("FUZZ_EXAMPLES")
settings.register_profile("ci", max_examples=int(_EXAMPLES or 120), derandomize=True, **_COMMON)
settings.register_profile("long", max_examples=int(_EXAMPLES or 5000), **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
