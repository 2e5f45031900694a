# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""A named check and its verdict, as the verifiers report them and attestation_info returns them."""

from __future__ import annotations

import functools
import struct
from dataclasses import dataclass

try:
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.x509 import InvalidVersion

    _CRYPTOGRAPHY_ERRORS = (UnsupportedAlgorithm, InvalidVersion)
except ImportError:  # pragma: no cover - the modules report the missing library through missing_required_lib
    _CRYPTOGRAPHY_ERRORS = ()

# What a reader of hostile bytes or JSON can trip over in the libraries it calls, beyond its own checks: lazily parsed
# certificates, struct unpacking, decoding, a value of the wrong JSON type.
MALFORMED = (
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    AttributeError,
    OverflowError,
    struct.error,
    UnicodeError,
) + _CRYPTOGRAPHY_ERRORS


def raises_only(error, what: str):
    """Decorate a reader of untrusted input so that it raises only ``error``: anything in MALFORMED becomes ``error``
    naming ``what`` and the cause. Its own ``error`` passes unchanged."""

    def decorate(reader):
        @functools.wraps(reader)
        def guarded(*args, **kwargs):
            try:
                return reader(*args, **kwargs)
            except error:
                raise
            except MALFORMED as exc:
                raise error(f"{what} is malformed ({type(exc).__name__}: {str(exc)[:160]})") from exc

        return guarded

    return decorate


@dataclass(frozen=True)
class Check:
    """One check and its verdict: ``passed`` True or False, or None when nobody asked for it."""

    name: str
    passed: bool | None
    detail: str = ""

    def as_dict(self) -> dict:
        verdict = {True: "passed", False: "failed", None: "not checked"}[self.passed]
        return {"check": self.name, "verdict": verdict, "detail": self.detail}


def check(name: str, problem: str | None, asked: bool = True) -> Check:
    """A check that passed when there is no ``problem``; "not checked" when the policy did not ask for it."""
    if not asked:
        return Check(name, None, "not asked for by the policy")
    return Check(name, problem is None, problem or "")


class CheckFailed(Exception):
    """Validation stopped at a check; ``check`` names it, the message says why."""

    check = "document"
