# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Watch a lab's Kubernetes API face in the background: when did etcd quorum return, when was every node Ready."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from kubernetes import client, config


def _api(lab_dir: Path) -> client.ApiClient:
    return config.new_client_from_config(config_file=str(lab_dir / "constellation-admin.conf"))


def has_quorum(api: client.ApiClient) -> bool:
    try:
        response = api.call_api("/readyz/etcd", "GET", auth_settings=["BearerToken"], _preload_content=False, _request_timeout=2)
        return response.status == 200
    except Exception:  # noqa: BLE001 - no quorum looks like 5xx or a refused connection
        return False


def all_nodes_ready(api: client.ApiClient) -> bool:
    try:
        nodes = client.CoreV1Api(api).list_node(_request_timeout=2).items
    except Exception:  # noqa: BLE001
        return False
    return bool(nodes) and all(
        any(c.type == "Ready" and c.status == "True" for c in (n.status.conditions or [])) for n in nodes
    )


class QuorumWatch:
    def __init__(self, lab_dir: Path, poll: float = 0.2):
        self.api = _api(lab_dir)
        self.poll = poll
        self.quorum_at: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set() and self.quorum_at is None:
            if has_quorum(self.api):
                self.quorum_at = time.monotonic()
                return
            self._stop.wait(self.poll)

    def seconds_to_quorum(self, started: float) -> float | None:
        return round(self.quorum_at - started, 2) if self.quorum_at else None

    def wait_all_ready(self, timeout: float) -> float | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all_nodes_ready(self.api):
                return time.monotonic()
            time.sleep(self.poll)
        return None
