# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The load-balancer push loop stops at once on a peer that does not speak TLS, and retries only transient drops."""

from __future__ import annotations

import socket
import ssl
import threading

import pytest

from ansible_collections.confidential.recovery.plugins.module_utils._constellation import _push
from ansible_collections.confidential.recovery.plugins.module_utils._constellation._keys import MasterSecret
from ansible_collections.confidential.recovery.plugins.module_utils._constellation._push import (
    Endpoint,
    PushError,
    push_through_load_balancer,
)

SECRET = MasterSecret(bytes(range(32)), bytes(range(32, 64)))


class NeverCalled:
    def validate(self, der, nonce):
        raise AssertionError("no certificate should reach the validator")


class CountingServer:
    """Loopback listener that answers each connection with ``reply`` (or just closes) and counts them."""

    def __init__(self, reply: bytes | None):
        self.reply = reply
        self.connections = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _peer = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            with conn:
                conn.settimeout(2)
                try:
                    conn.recv(4096)
                    if self.reply:
                        conn.sendall(self.reply)
                except OSError:
                    pass

    def close(self):
        self.listener.close()


@pytest.fixture
def http_server():
    server = CountingServer(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    yield server
    server.close()


@pytest.fixture
def dropping_server():
    server = CountingServer(None)
    yield server
    server.close()


def test_plain_http_stops_at_once_with_its_cause(http_server):
    endpoint = Endpoint("127.0.0.1", http_server.port, NeverCalled(), 2)
    with pytest.raises(PushError) as stopped:
        push_through_load_balancer(endpoint, "auto", SECRET, interval=0.05, max_pushes=3, deadline_seconds=600)
    assert "does not speak TLS" in str(stopped.value) and "retrying cannot help" in str(stopped.value)
    assert http_server.connections == 1


def test_dropped_handshakes_are_retried_until_the_deadline_and_the_cause_is_kept(dropping_server):
    endpoint = Endpoint("127.0.0.1", dropping_server.port, NeverCalled(), 2)
    with pytest.raises(PushError) as gave_up:
        push_through_load_balancer(endpoint, "auto", SECRET, interval=0.05, max_pushes=3, deadline_seconds=1.0)
    message = str(gave_up.value)
    assert "gave up after 1s with 0 key(s) pushed" in message
    assert "closed the connection during the TLS handshake" in message
    assert dropping_server.connections > 1


def test_the_cluster_saying_quorum_ends_the_loop_instead_of_the_deadline(dropping_server):
    endpoint = Endpoint("127.0.0.1", dropping_server.port, NeverCalled(), 2)
    looks = []

    def done(timeout):
        looks.append(timeout)
        return "etcd quorum is back (Kubernetes API)" if len(looks) >= 3 else None

    run = push_through_load_balancer(
        endpoint, "auto", SECRET, interval=0.01, max_pushes=3, deadline_seconds=600, done=done
    )
    assert run.stop_reason == "etcd quorum is back (Kubernetes API)" and run.pushed == 0
    assert dropping_server.connections == 3


def _refusing_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return probe.getsockname()[1]  # closed again: connects to it are refused


def test_refusals_end_the_loop_without_the_clusters_word():
    endpoint = Endpoint("127.0.0.1", _refusing_port(), NeverCalled(), 1)

    run = push_through_load_balancer(endpoint, "auto", SECRET, interval=0.01, max_pushes=None, deadline_seconds=60)

    assert run.stop_reason.startswith("no control-plane node waits behind") and run.attempts == 2


def test_refusals_are_retried_while_the_cluster_says_it_is_not_back():
    """A flapping load balancer refuses between good spells: only the cluster's word or the deadline ends the loop."""
    endpoint = Endpoint("127.0.0.1", _refusing_port(), NeverCalled(), 1)
    looks = []

    def done(timeout):
        looks.append(timeout)
        return "etcd quorum is back (Kubernetes API)" if len(looks) >= 5 else None

    run = push_through_load_balancer(
        endpoint, "auto", SECRET, interval=0.01, max_pushes=None, deadline_seconds=60, done=done
    )

    assert run.stop_reason == "etcd quorum is back (Kubernetes API)" and run.attempts == 5


def test_refusals_until_the_deadline_fail_with_the_cause():
    endpoint = Endpoint("127.0.0.1", _refusing_port(), NeverCalled(), 1)

    with pytest.raises(PushError, match="gave up after 0.3s with 0 key.*refuse"):
        push_through_load_balancer(
            endpoint, "auto", SECRET, interval=0.05, max_pushes=None, deadline_seconds=0.3, done=lambda timeout: None
        )


@pytest.mark.parametrize("lost", [ssl.SSLEOFError(8, "EOF occurred in violation of protocol"), ConnectionResetError()])
def test_a_connection_closed_before_the_answer_is_retried_and_not_counted(monkeypatch, lost):
    answers = [lost, ("unary", None)]

    def push(endpoint, protocol, master, disk_uuid):
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(_push, "push_detecting", push)
    lines = []
    run = push_through_load_balancer(
        Endpoint("127.0.0.1", 1, NeverCalled(), 1.0),
        "auto",
        SECRET,
        0.01,
        1,
        10,
        progress=lines.append,
    )
    assert run.pushed == 1 and run.attempts == 2 and answers == []
    assert "closed the connection before answering" in lines[0]
