# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The lab Coordinator process: ``python -m conflab.contrast.coordinator --dir D``.

The user API over aTLS on the real port (1313): nonce from ALPN with SNI fallback, a fresh certificate per
connection (Contrast's insecure variant, or SEV-SNP evidence in a lab started with --attestation snp), a client
certificate requested but optional.
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
from .snp_evidence import SnpCoordinatorIssuer
from .userapi_service import Coordinator, generic_handlers
from .workspace import workload_policy_hash


def state_dir(lab_dir: Path) -> Path:
    return Path(lab_dir) / "contrast-lab"


def write_status(lab_dir: Path, state: str) -> None:
    folder = state_dir(lab_dir)
    tmp = folder / "status.json.tmp"
    tmp.write_text(json.dumps({"state": state, "pid": os.getpid(), "updated": time.time()}))
    os.replace(tmp, folder / "status.json")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="conflab-coordinator")
    parser.add_argument("--dir", required=True, type=Path)
    args = parser.parse_args(argv)
    lab = json.loads((args.dir / "lab.json").read_text())
    settings = lab["coordinator"]
    folder = state_dir(args.dir)
    identity = json.loads((folder / "identity.json").read_text())
    coordinator = Coordinator(History(folder / "store"), lambda state: write_status(args.dir, state))

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers(generic_handlers(coordinator, settings["paths"]))
    backend_port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    own_hash = bytes.fromhex(identity["policy_hash"])

    def policy_hash() -> bytes:
        """Its own policy's hash; a workload's under `conflab break --coordinator-presents WORKLOAD` (an impostor: a pod
        VM of the deployment, with the same launch measurement, answering on the Coordinator's address)."""
        impostor = faultfile.read(args.dir).get("coordinator_presents")
        return workload_policy_hash(impostor) if impostor else own_hash

    issuer = (
        SnpCoordinatorIssuer(args.dir, policy_hash) if lab.get("attestation") == "snp" else InsecureIssuer(policy_hash)
    )
    terminator = AtlsTerminator(
        settings["ip"], settings["port"], backend_port, issuer.issue, alpn_nonce=True, request_client_cert=True
    )
    coordinator.client_cert_for_peer = terminator.client_cert_for_peer
    terminator.start()
    write_status(args.dir, coordinator.state)

    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    while not stopped.wait(1.0):
        pass
    terminator.stop()
    server.stop(grace=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
