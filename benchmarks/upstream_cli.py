# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Baseline: the upstream `constellation recover` algorithm
(ansible_collections/confidential/recovery/docs/constellation-protocol.md, The upstream CLI loop), as a runner.

Sequential, through the load balancer, a new attested connection per attempt, retrying every
``interval`` seconds: a load balancer that is not ready (handshake timeout) is always retried, and
an Unavailable result (nothing listens behind the LB) is retried once. The wire pieces are the
collection's; the loop is upstream's, so the comparison measures the algorithm only.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "collections"))

from ansible_collections.confidential.recovery.plugins.module_utils._constellation._keys import MasterSecret  # noqa: E402
from ansible_collections.confidential.recovery.plugins.module_utils._constellation._rpc import recover_unary  # noqa: E402
from ansible_collections.confidential.recovery.plugins.module_utils._constellation._validators import (
    ConstellationDummyValidator,
)
from ansible_collections.confidential.recovery.plugins.module_utils._net._atls import (
    ConnectionRefused,
    HandshakeFailed,
    Unreachable,
    connect,
)
from ansible_collections.confidential.recovery.plugins.module_utils._net._grpc_h2 import GrpcError  # noqa: E402

UNLIMITED_CALL = 3600.0  # upstream sets no deadline on the call; bound it anyway so a run always ends
MAX_LB_NOT_READY = 120  # upstream retries this forever; a benchmark must stop by itself


class _Unavailable(Exception):
    pass


class _LbNotReady(Exception):
    pass


def _attempt(host: str, port: int, master: MasterSecret) -> None:
    try:
        conn = connect(host, port, ConstellationDummyValidator(), timeout=10)
    except (ConnectionRefused, Unreachable) as exc:
        raise _Unavailable(str(exc)) from exc
    except HandshakeFailed as exc:
        raise _LbNotReady(str(exc)) from exc
    try:
        recover_unary(conn.sock, f"{host}:{port}", master, UNLIMITED_CALL)
    except GrpcError as exc:
        if exc.code_name == "Unavailable":
            raise _Unavailable(str(exc)) from exc
        raise
    finally:
        conn.close()


def recover(lab_dir: Path, interval: float = 5.0) -> dict:
    lab_dir = Path(lab_dir)
    state = yaml.safe_load((lab_dir / "constellation-state.yaml").read_text())
    host, port = state["infrastructure"]["clusterEndpoint"], 9999
    master = MasterSecret.from_file(str(lab_dir / "constellation-mastersecret.json"))
    started = time.monotonic()
    pushed = 0
    lb_not_ready = 0
    while True:
        unavailable_retried = False
        while True:
            try:
                _attempt(host, port, master)
                error = None
                break
            except _LbNotReady as exc:
                error = exc
                lb_not_ready += 1
                if lb_not_ready > MAX_LB_NOT_READY:
                    break
            except _Unavailable as exc:
                error = exc
                if unavailable_retried:
                    break
                unavailable_retried = True
            time.sleep(interval)
        if error is not None:
            break
        pushed += 1
        print("Pushed recovery key.", flush=True)
    if pushed:
        print(f"Recovered {pushed} control-plane nodes.", flush=True)
    else:
        print("No control-plane nodes in need of recovery found. Exiting.", flush=True)
    return {"pushed": pushed, "seconds": time.monotonic() - started}
