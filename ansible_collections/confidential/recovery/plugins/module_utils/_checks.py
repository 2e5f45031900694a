# -*- coding: utf-8 -*-
# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
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
MALFORMED = (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError, struct.error,
             UnicodeError) + _CRYPTOGRAPHY_ERRORS


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


# The Coordinator is told from the workloads by its policy hash (SNP HOST_DATA, TDX MRCONFIGID); a validator without
# one to compare would accept any pod VM of the deployment, and refuses instead.
NO_POLICY_HASH = "no Coordinator policy hash to compare the evidence with: refusing to accept any Coordinator"


def require_an_accepting_entry(entries: list, accept, error, what: str) -> None:
    """Contrast's any-of rule: ``accept(entry)`` must hold for one of the manifest's reference-value ``entries``;
    otherwise ``error`` names every entry's reason."""
    if not entries:
        raise error(f"the manifest has no ReferenceValues.{what} entry")
    reasons = []
    if not isinstance(entries, list):
        raise error(f"the manifest's ReferenceValues.{what} is not a list")
    for position, entry in enumerate(entries):
        if not isinstance(entry, dict):
            reasons.append(f"entry {position}: not a JSON object")
            continue
        try:
            accept(entry)
            return
        except error as exc:
            reasons.append(f"entry {position}: {exc}")
        except (TypeError, ValueError, KeyError, AttributeError, OverflowError) as exc:
            # A value of the wrong JSON type somewhere in the entry: that entry cannot accept anything.
            reasons.append(f"entry {position} is malformed ({type(exc).__name__}: {str(exc)[:120]})")
    raise error(f"no ReferenceValues.{what} entry accepts the evidence: " + "; ".join(reasons))
