# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Hostile recovery servers: each gets nothing, fails alone, and the rest of the cluster recovers."""

from __future__ import annotations

import pytest
from faultkit import (
    CONSTELLATION_ONLY,
    CP,
    FAST,
    broken,
    fault_lab,
    received,
    record,
    settle,
    table,
)
from reporting import assert_no_constellation_leak, node

__all__ = ["broken", "record", "table"]  # fixtures, used by name


@pytest.fixture(scope="module")
def lab(tmp_path_factory, collection_installed):
    yield from fault_lab(tmp_path_factory, "127.20.16")


# -- hostile recovery servers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "outcome", "message"),
    [
        ("stall", "down", "no TLS handshake within"),
        ("drop", "down", "closed the connection during the TLS handshake"),
        ("http", "down", "does not speak TLS"),
        ("plain-tls", "failed", "attestation failed, nothing sent"),
        ("malformed", "failed", "HTTP/2 protocol error"),
    ],
)
def test_a_hostile_recovery_server_gets_nothing_and_the_rest_recovers(broken, kind, outcome, message, record):
    lab = broken
    lab.break_("--fault", f"{CP[0]}={kind}")
    before = received(lab)

    run = lab.run(*CONSTELLATION_ONLY, *FAST)
    record(run, "run")

    assert run.rc != 0  # the hostile "node" never becomes Ready
    summary = run.report["constellation"]
    assert summary["quorum"] is True, summary
    assert sum(1 for n in summary["nodes"] if n["outcome"] == "pushed") == 3
    hostile = node(run, CP[0])
    why = {key: hostile[key] for key in ("outcome", "keys", "error", "note")}  # pytest cuts a long dict short
    assert hostile["outcome"] == outcome and hostile["keys"] == 0, why
    assert message in (hostile["error"] or hostile["note"] or ""), why
    assert received(lab) - before == 3
    assert_no_constellation_leak(lab, run)
    settle(lab)
