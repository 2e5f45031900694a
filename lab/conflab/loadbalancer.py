# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The cluster endpoint's load balancer: ``python -m conflab.loadbalancer --dir D``
(ansible_collections/confidential/recovery/docs/constellation-protocol.md, The upstream CLI loop).

Per port, the pool holds the control-plane nodes whose port accepts a TCP connect (the cloud's
TCP health probe); a member leaves after ``lb_unhealthy_threshold`` failed probes in a row. Each connection goes to a random pool member. With an empty pool the
listener is closed, so connects are refused, as a cloud LB with no healthy backend does.
Fault switches (faults.json): ``lb: stale-pool`` keeps nodes that left in the pool; ``lb: flapping`` empties the
pool every other ``lb_flap_period`` seconds.
"""

from __future__ import annotations

import argparse
import json
import random
import select
import signal
import socket
import threading
import time
from pathlib import Path

from . import faultfile

IDLE_TIMEOUT = 120.0


def probe(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _pipe(a: socket.socket, b: socket.socket) -> None:
    try:
        while True:
            ready, _, _ = select.select([a, b], [], [], IDLE_TIMEOUT)
            if not ready:
                return
            for sock in ready:
                data = sock.recv(65536)
                if not data:
                    return
                (b if sock is a else a).sendall(data)
    except OSError:
        return
    finally:
        a.close()
        b.close()


class Forwarder:
    def __init__(
        self,
        host: str,
        port: int,
        backends: list[str],
        probe_interval: float,
        lab_dir: Path,
        unhealthy_threshold: int = 1,
        one_backend: bool = False,
    ):
        self.host, self.port = host, port
        self.backends = backends
        self.probe_interval = probe_interval
        # A pool member leaves after this many failed probes in a row (Azure's probe threshold); one good probe
        # brings a node in.
        self.unhealthy_threshold = unhealthy_threshold
        self._failures = {ip: 0 for ip in backends}
        # As a cloud's layer-4 load balancer: a connection goes to one pool member, and if that member has gone
        # since the last probe, the connection fails (no second backend is tried).
        self.one_backend = one_backend
        self.lab_dir = lab_dir
        self.pool: list[str] = []
        self._listener: socket.socket | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def start(self) -> None:
        threading.Thread(target=self._probe_loop, daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
        self._close_listener()

    def stale_pool(self) -> bool:
        """Fault injection: the pool keeps nodes that left, as an LB between two health checks does."""
        return faultfile.read(self.lab_dir).get("lb") == "stale-pool"

    def flap_period(self) -> float | None:
        """Fault injection: the whole pool drops out and comes back every period, as with flapping health checks."""
        faults = faultfile.read(self.lab_dir)
        return float(faults.get("lb_flap_period") or 2.0) if faults.get("lb") == "flapping" else None

    def _probe_loop(self) -> None:
        while not self._stop.is_set():
            period = self.flap_period()
            if period is not None and int(time.monotonic() / period) % 2:
                healthy = []
            elif self.stale_pool():
                healthy = list(self.backends)
            else:
                healthy = self._probe_all()
            with self._lock:
                self.pool = healthy
            if healthy and self._listener is None:
                self._open_listener()
            elif not healthy and self._listener is not None:
                self._close_listener()
            self._stop.wait(min(self.probe_interval, period / 4) if period else self.probe_interval)

    def _probe_all(self) -> list[str]:
        with self._lock:
            members = set(self.pool)
        healthy = []
        for ip in self.backends:
            self._failures[ip] = 0 if probe(ip, self.port) else self._failures[ip] + 1
            if self._failures[ip] == 0 or (ip in members and self._failures[ip] < self.unhealthy_threshold):
                healthy.append(ip)
        return healthy

    def _open_listener(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept_loop, args=(listener,), daemon=True).start()

    def _close_listener(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            try:
                listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            listener.close()

    def _accept_loop(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=self._forward, args=(client,), daemon=True).start()

    def _forward(self, client: socket.socket) -> None:
        with self._lock:
            candidates = list(self.pool)
        random.shuffle(candidates)
        if self.stale_pool() or self.one_backend:
            candidates = candidates[:1]  # no second chance: the connection to a node that left is reset
        for ip in candidates:
            try:
                backend = socket.create_connection((ip, self.port), timeout=2)
            except OSError:
                continue
            backend.settimeout(None)
            _pipe(client, backend)
            return
        client.close()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="conflab-loadbalancer")
    parser.add_argument("--dir", required=True, type=Path)
    args = parser.parse_args(argv)
    lab = json.loads((args.dir / "lab.json").read_text())
    lb = lab["load_balancer"]
    control_plane = [n["ip"] for n in lab["nodes"] if n["role"] == "control-plane"]
    ports = [lb["join_port"]]
    if lab["protocol"] in ("unary", "stream"):
        ports.append(lb["recovery_port"])
    forwarders = [
        Forwarder(
            lb["ip"],
            port,
            control_plane,
            float(lab["lb_probe_interval"]),
            args.dir,
            int(lab.get("lb_unhealthy_threshold") or 1),
            bool(lab.get("lb_one_backend")),
        )
        for port in ports
    ]
    for forwarder in forwarders:
        forwarder.start()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    while not stopped.wait(1.0):
        pass
    for forwarder in forwarders:
        forwarder.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
