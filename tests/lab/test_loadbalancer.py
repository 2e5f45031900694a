# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The lab's load balancer under its fault switches: a flapping pool comes and goes on its period."""

from __future__ import annotations

import socket
import threading
import time

from conflab import faultfile
from conflab.loadbalancer import Forwarder, probe

BACKEND, FRONT, PORT = "127.41.1.2", "127.41.1.1", 39999


def _backend():
    listener = socket.create_server((BACKEND, PORT))
    stop = threading.Event()

    def serve():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            conn.sendall(b"ok")
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    return listener, stop


def _answers() -> bool:
    try:
        with socket.create_connection((FRONT, PORT), timeout=0.5) as conn:
            return conn.recv(2) == b"ok"
    except OSError:
        return False


def _sample(seconds: float, step: float = 0.1) -> list[bool]:
    seen, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        seen.append(probe(FRONT, PORT, timeout=0.2))
        time.sleep(step)
    return seen


def test_a_flapping_pool_refuses_and_serves_by_turns_and_a_healthy_one_always_serves(tmp_path):
    listener, stop = _backend()
    forwarder = Forwarder(FRONT, PORT, [BACKEND], probe_interval=0.2, lab_dir=tmp_path)
    forwarder.start()
    try:
        time.sleep(0.5)
        assert all(_sample(1.0)) and _answers()

        faultfile.update(tmp_path, lb="flapping", lb_flap_period=0.6)
        flapping = _sample(3.0)
        assert any(flapping) and not all(flapping)
        # It comes back: not a pool that merely died.
        changes = sum(1 for a, b in zip(flapping, flapping[1:], strict=False) if a != b)
        assert changes >= 3, flapping

        faultfile.update(tmp_path, lb=None, lb_flap_period=None)
        time.sleep(0.5)
        assert all(_sample(1.0))
    finally:
        forwarder.stop()
        stop.set()
        listener.close()


def test_a_node_that_left_stays_in_the_pool_until_enough_probes_failed(tmp_path):
    forwarder = Forwarder(FRONT, PORT + 1, [BACKEND], probe_interval=10, lab_dir=tmp_path, unhealthy_threshold=2)
    listener = socket.create_server((BACKEND, PORT + 1))
    try:
        assert forwarder._probe_all() == [BACKEND]
        forwarder.pool = [BACKEND]
        listener.close()
        assert forwarder._probe_all() == [BACKEND]  # one failed probe: still a member
        assert forwarder._probe_all() == []  # the second one drops it
    finally:
        listener.close()


def test_one_backend_per_connection_fails_on_a_member_that_left_since_the_probe(tmp_path):
    alive, gone = "127.41.1.3", "127.41.1.4"
    listener, stop = socket.create_server((alive, PORT + 2)), threading.Event()
    listener.settimeout(1)
    forwarder = Forwarder(FRONT, PORT + 2, [alive, gone], probe_interval=60, lab_dir=tmp_path, one_backend=True)
    forwarder.pool = [alive, gone]  # the last probe still saw both
    forwarder._open_listener()
    try:
        outcomes = []
        for _ in range(12):
            with socket.create_connection((FRONT, PORT + 2), timeout=2) as client:
                client.settimeout(2)
                try:
                    conn, _ = listener.accept()
                    conn.close()
                    outcomes.append("served")
                except OSError:
                    outcomes.append("failed")
        assert "failed" in outcomes and "served" in outcomes, outcomes
    finally:
        forwarder.stop()
        stop.set()
        listener.close()
