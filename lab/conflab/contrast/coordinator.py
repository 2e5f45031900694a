# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""A lab Coordinator replica: ``python -m conflab.contrast.coordinator --dir D [--replica N]``.

The user API over aTLS on the real port (1313): nonce from ALPN with SNI fallback, a fresh certificate per
connection (Contrast's insecure variant, or SEV-SNP evidence in a lab started with --attestation snp), a client
certificate requested but optional. The mesh API (7777) serves peer recovery, and a loop recovers this replica from
a ready peer while it waits in recovery mode (peers.py).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import threading
import time
from concurrent import futures
from pathlib import Path

import grpc

from .. import faultfile
from ..atls_server import AtlsTerminator
from .attestation_certs import InsecureIssuer
from .history import History
from .peers import MeshApi, PeerRecoveryLoop, ready_peers
from .replicas import MESH_API_PORT, UPSTREAM_PEER_INTERVAL, address, pod_name, replica_dir, state_dir
from .snp_evidence import SnpCoordinatorIssuer
from .userapi_service import Coordinator, generic_handlers
from .workspace import workload_policy_hash


def write_status(folder: Path, coordinator: Coordinator) -> None:
    status = {
        "state": coordinator.state,
        "recovered_by": coordinator.recovered_by,
        "seed_recoveries": coordinator.seed_recoveries,
        "pid": os.getpid(),
        "updated": time.time(),
    }
    tmp = folder / "status.json.tmp"
    tmp.write_text(json.dumps(status))
    os.replace(tmp, folder / "status.json")


def _serve_grpc(handlers) -> tuple[grpc.Server, int]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers(handlers)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, port


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="conflab-coordinator")
    parser.add_argument("--dir", required=True, type=Path)
    parser.add_argument("--replica", type=int, default=0)
    args = parser.parse_args(argv)
    lab = json.loads((args.dir / "lab.json").read_text())
    settings = lab["coordinator"]
    ip = address(lab, args.replica)
    folder = replica_dir(args.dir, args.replica)
    folder.mkdir(parents=True, exist_ok=True)
    identity = json.loads((state_dir(args.dir) / "identity.json").read_text())
    coordinator = Coordinator(History(state_dir(args.dir) / "store"), lambda _state: write_status(folder, coordinator))
    server, backend_port = _serve_grpc(generic_handlers(coordinator, settings["paths"]))
    own_hash = bytes.fromhex(identity["policy_hash"])

    def policy_hash() -> bytes:
        """Its own policy's hash; a workload's under `conflab break --coordinator-presents WORKLOAD` (an impostor: a pod
        VM of the deployment, with the same launch measurement, answering on the Coordinator's address); only on the
        replicas of `--presents-on`, when given."""
        faults = faultfile.read(args.dir)
        impostor, only_on = faults.get("coordinator_presents"), faults.get("coordinator_presents_on")
        if impostor and (only_on is None or args.replica in only_on):
            return workload_policy_hash(impostor)
        return own_hash

    issuer = (
        SnpCoordinatorIssuer(args.dir, policy_hash) if lab.get("attestation") == "snp" else InsecureIssuer(policy_hash)
    )
    terminator = AtlsTerminator(
        ip, settings["port"], backend_port, issuer.issue, alpn_nonce=True, request_client_cert=True
    )
    coordinator.client_cert_for_peer = terminator.client_cert_for_peer
    coordinator.guards_peers = lambda: bool(faultfile.read(args.dir).get("coordinator_guards_peers"))
    coordinator.ready_peer_count = lambda: _ready_peer_count(lab, args.replica)
    mesh = MeshApi(coordinator, lambda peer: None)
    mesh_server, mesh_backend = _serve_grpc(mesh.handlers())
    mesh_terminator = AtlsTerminator(
        ip,
        MESH_API_PORT,
        mesh_backend,
        InsecureIssuer(lambda: own_hash).issue,
        alpn_nonce=True,
        request_client_cert=True,
    )
    mesh.client_cert_for_peer = mesh_terminator.client_cert_for_peer
    terminator.start()
    mesh_terminator.start()
    write_status(folder, coordinator)

    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    if lab.get("kube_api", {}).get("enabled", True):
        interval = float(settings.get("peer_interval", UPSTREAM_PEER_INTERVAL))
        PeerRecoveryLoop(lab, args.replica, coordinator, own_hash, folder, _log, interval).start(stopped)
    while not stopped.wait(1.0):
        pass
    terminator.stop()
    mesh_terminator.stop()
    server.stop(grace=1)
    mesh_server.stop(grace=1)
    return 0


def _ready_peer_count(lab: dict, replica: int) -> int:
    try:
        return len(ready_peers(lab, pod_name(replica)))
    except (OSError, ValueError, KeyError):
        return 0  # the API cannot say: the user's recovery goes ahead, as with no peers


def _log(line: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {line}", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
