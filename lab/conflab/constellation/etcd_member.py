# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""A real etcd member for an unlocked lab control-plane node."""

from __future__ import annotations

import json
import signal
import subprocess
import urllib.error
import urllib.request
from pathlib import Path


def etcd_healthy(client_url: str, timeout: float = 1.0) -> bool:
    """True when this member answers /health with health "true" (it has a leader, so quorum)."""
    try:
        with urllib.request.urlopen(client_url.rstrip("/") + "/health", timeout=timeout) as resp:
            return json.loads(resp.read()).get("health") == "true"
    except (OSError, ValueError, urllib.error.URLError):
        return False


class EtcdMember:
    def __init__(self, lab: dict, node: dict, node_dir: Path):
        self.lab, self.node, self.node_dir = lab, node, Path(node_dir)
        self._process: subprocess.Popen | None = None

    @property
    def data_dir(self) -> Path:
        return self.node_dir / "etcd"

    def _initial_cluster(self) -> str:
        members = [n for n in self.lab["nodes"] if n["role"] == "control-plane"]
        return ",".join(f"{n['name']}={n['etcd_peer_url']}" for n in members)

    def start(self, new_cluster: bool) -> None:
        node = self.node
        args = [
            self.lab["etcd_bin"],
            "--name", node["name"],
            "--data-dir", str(self.data_dir),
            "--listen-client-urls", node["etcd_client_url"],
            "--advertise-client-urls", node["etcd_client_url"],
            "--listen-peer-urls", node["etcd_peer_url"],
            "--initial-advertise-peer-urls", node["etcd_peer_url"],
            "--initial-cluster", self._initial_cluster(),
            "--initial-cluster-token", self.lab["cluster_name"],
            "--initial-cluster-state", "new" if new_cluster else "existing",
            "--heartbeat-interval", "100",
            "--election-timeout", "1000",
            "--log-level", "warn",
        ]
        log = (self.node_dir / "etcd.log").open("ab")
        self._process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()

    def stop(self) -> None:
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
