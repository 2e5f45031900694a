# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""When an attestation input that upstream asks the cloud for (GCE's instance key, EC2's image) may come from a file
saved beforehand instead: only when the cloud could not be asked at all."""

from __future__ import annotations


def live_or_saved(live, saved, unreachable: type, error: type, cloud: str):
    """``live()``; ``saved()`` only when ``live`` raised ``unreachable`` (no answer, no credentials, no permission).
    A definite answer of the cloud, such as "no such instance", is never replaced by a saved one. With neither,
    ``error`` names both reasons."""
    try:
        return live()
    except unreachable as exc:
        try:
            return saved()
        except error as saved_exc:
            raise error(f"{cloud} could not be asked ({exc}), and {saved_exc}") from exc
