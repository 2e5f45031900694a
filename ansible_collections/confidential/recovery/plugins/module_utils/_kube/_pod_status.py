# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""A pod's ``metadata`` and ``status`` as the Kubernetes API's JSON gives them. The answer comes from a peer, so any field may be
missing or of another type: what is not of the right type counts as absent."""

from __future__ import annotations


def mapping(value) -> dict:
    return value if isinstance(value, dict) else {}


def metadata_of(pod) -> dict:
    return mapping(mapping(pod).get("metadata"))


def status_of(pod) -> dict:
    return mapping(mapping(pod).get("status"))


def has_ready_condition(status: dict) -> bool:
    """The pod's Ready condition is "True" (for a Coordinator: its readiness probe passes, so it holds the state)."""
    conditions = status.get("conditions") if isinstance(status.get("conditions"), list) else []
    return any(mapping(c).get("type") == "Ready" and mapping(c).get("status") == "True" for c in conditions)
