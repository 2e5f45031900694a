# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Watch a lab's Kubernetes API face in the background: when did etcd quorum return, when was every node Ready.

The same watch measures every strategy, so the figures compare like with like: it polls ``/readyz/etcd`` and the
node list every ``poll`` seconds and keeps the first moment each condition held.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from kubernetes import client, config


def _api(lab_dir: Path) -> client.ApiClient:
    return config.new_client_from_config(config_file=str(lab_dir / "constellation-admin.conf"))


def has_quorum(api: client.ApiClient) -> bool:
    try:
        response = api.call_api(
            "/readyz/etcd", "GET", auth_settings=["BearerToken"], _preload_content=False, _request_timeout=2
        )
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
    def __init__(self, lab_dir: Path, poll: float = 0.1):
        self.api = _api(lab_dir)
        self.poll = poll
        self.started = time.monotonic()
        self.quorum_at: float | None = None
        self.all_ready_at: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> QuorumWatch:
        self.started = time.monotonic()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set() and self.all_ready_at is None:
            if self.quorum_at is None and has_quorum(self.api):
                self.quorum_at = time.monotonic()
            if self.quorum_at is not None and all_nodes_ready(self.api):
                self.all_ready_at = time.monotonic()
                return
            self._stop.wait(self.poll)

    def wait_all_ready(self, timeout: float) -> bool:
        """Block until every node is Ready (or ``timeout`` passes); the watch keeps the moment."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.all_ready_at is None and self._thread.is_alive():
            time.sleep(0.05)
        return self.all_ready_at is not None

    def figures(self) -> dict:
        def since(moment):
            return round(moment - self.started, 2) if moment is not None else None

        return {"seconds_to_quorum": since(self.quorum_at), "seconds_to_all_ready": since(self.all_ready_at)}
