# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""A real etcd member for an unlocked lab control-plane node.

Like the kubelet with etcd's static pod, the node restarts a member that exits, with a growing
pause, a bounded number of times; each exit is logged to the node's console.
"""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import urllib.error
import urllib.request
from pathlib import Path

RESTART_PAUSES = (1.0, 2.0, 4.0, 8.0, 16.0)


def etcd_healthy(client_url: str, timeout: float = 1.0) -> bool:
    """True when this member answers /health with health "true" (it has a leader, so quorum)."""
    try:
        with urllib.request.urlopen(client_url.rstrip("/") + "/health", timeout=timeout) as resp:
            return json.loads(resp.read()).get("health") == "true"
    except (OSError, ValueError, urllib.error.URLError):
        return False


class EtcdMember:
    def __init__(self, lab: dict, node: dict, node_dir: Path, on_exit=None, faulted=None):
        self.lab, self.node, self.node_dir = lab, node, Path(node_dir)
        self._faulted = faulted or (lambda: False)
        self._process: subprocess.Popen | None = None
        self._on_exit = on_exit or (lambda message: None)
        self._stopping = threading.Event()
        self._lock = threading.Lock()

    @property
    def data_dir(self) -> Path:
        return self.node_dir / "etcd"

    def _initial_cluster(self) -> str:
        members = [n for n in self.lab["nodes"] if n["role"] == "control-plane"]
        return ",".join(f"{n['name']}={n['etcd_peer_url']}" for n in members)

    def start(self, new_cluster: bool) -> None:
        self._launch(new_cluster)
        threading.Thread(target=self._supervise, daemon=True, name="etcd-supervisor").start()

    def _supervise(self) -> None:
        for pause in RESTART_PAUSES:
            code = self._process.wait()
            if self._stopping.is_set():
                return
            self._on_exit(f"etcd member exited with code {code}; restarting it in {pause:g} s")
            if self._stopping.wait(pause):
                return
            self._launch(new_cluster=False)
        code = self._process.wait()
        if not self._stopping.is_set():
            self._on_exit(f"etcd member exited with code {code}; giving up after {len(RESTART_PAUSES)} restarts")

    def _launch(self, new_cluster: bool) -> None:
        with self._lock:
            if not self._stopping.is_set():
                self._process = self._spawn(new_cluster)

    def _spawn(self, new_cluster: bool) -> subprocess.Popen:
        node = self.node
        args = [
            self.lab["etcd_bin"],
            "--name",
            node["name"],
            "--data-dir",
            str(self.data_dir),
            "--listen-client-urls",
            node["etcd_client_url"],
            "--advertise-client-urls",
            node["etcd_client_url"],
            "--listen-peer-urls",
            node["etcd_peer_url"],
            "--initial-advertise-peer-urls",
            node["etcd_peer_url"],
            "--initial-cluster",
            self._initial_cluster(),
            "--initial-cluster-token",
            self.lab["cluster_name"],
            "--initial-cluster-state",
            "new" if new_cluster else "existing",
            "--heartbeat-interval",
            "100",
            "--election-timeout",
            "1000",
            "--log-level",
            "warn",
        ]
        if self._faulted():  # fault injection: a member that crashes at start, as with a damaged data dir
            args.append("--conflab-fault-member-crashes")
        with (self.node_dir / "etcd.log").open("ab") as log:
            return subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def stop(self) -> None:
        with self._lock:
            self._stopping.set()
            process = self._process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
