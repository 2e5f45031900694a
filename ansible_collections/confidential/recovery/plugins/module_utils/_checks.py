# -*- coding: utf-8 -*-
# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""A named check and its verdict, as the verifiers report them and attestation_info returns them."""

from __future__ import annotations

from dataclasses import dataclass


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
