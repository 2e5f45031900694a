# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""One rule judges an attested probe, for the push loop and for the Event-Driven Ansible watch: a refused port is a node
not waiting, a failed attestation is hostile, only a finished attested handshake is a node waiting for its key."""

from __future__ import annotations

import pytest

from ansible_collections.confidential.recovery.plugins.module_utils._constellation import _quorum_loop
from ansible_collections.confidential.recovery.plugins.module_utils._constellation._push import Endpoint
from ansible_collections.confidential.recovery.plugins.module_utils._net._atls import (
    AtlsError,
    AttestationFailed,
    ConnectionRefused,
    Unreachable,
)
from ansible_collections.confidential.recovery.plugins.plugin_utils._watch import _look, _state


class Connection:
    evidence = {"variant": "lab"}

    def __init__(self):
        self.closed = False

    def close(self):
        self.closed = True


def endpoint_whose_handshake(outcome, monkeypatch) -> Endpoint:
    def handshake(self):
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    monkeypatch.setattr(Endpoint, "open", handshake)
    return Endpoint("127.0.0.1", 9999, validator=None, timeout=1.0)


@pytest.mark.parametrize(
    ("error", "loop_state", "watch_state"),
    [
        (ConnectionRefused("refused"), _quorum_loop.REFUSED, _state.NOT_WAITING),
        (Unreachable("no route"), _quorum_loop.UNREACHABLE, _state.UNREACHABLE),
        (AttestationFailed("measurement 4 differs"), _quorum_loop.HOSTILE, _state.ATTESTATION_FAILED),
        (AtlsError("the handshake broke"), _quorum_loop.ERROR, _state.UNREACHABLE),
    ],
)
def test_a_handshake_that_fails_is_judged_and_leaves_no_connection(error, loop_state, watch_state, monkeypatch):
    result, conn = endpoint_whose_handshake(error, monkeypatch).attest()
    assert (result.state, conn) == (loop_state, None)
    assert _look.PROBE_STATES.get(result.state, _state.UNREACHABLE) == watch_state


def test_only_a_finished_attested_handshake_is_a_waiting_node_and_its_connection_is_kept(monkeypatch):
    opened = Connection()
    result, conn = endpoint_whose_handshake(opened, monkeypatch).attest()
    assert result.state == _quorum_loop.WAITING and result.evidence == {"variant": "lab"}
    assert conn is opened and not opened.closed
    assert _look.PROBE_STATES[result.state] == _state.WAITING
