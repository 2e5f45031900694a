# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""One lab node as a process: ``python -m conflab.constellation.node --dir D --name N --boot initial|reboot``.

initial: format and open the state disk, start etcd (control plane) and the JoinService.
reboot:  the disk is locked; serve the recovery server of the lab's generation and race the
         RejoinClient against it; the first to deliver keys unlocks the disk (ansible_collections/confidential/recovery/docs/constellation-protocol.md, Flow).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

from .. import faultfile
from .console import SLOG, ZAP, Console
from .disk import StateDisk, WrongPassphrase
from .etcd_member import EtcdMember
from .join_service import JoinService
from .keys import MasterSecret, cluster_id
from .recovery_servers import KEYSERVICE, RecoveryServer, WorkerStub
from .rejoin_client import RejoinClient
from .snp_issuer import SnpAttestationIssuer, SoftwareSnpChip
from .verify_service import VERIFY_PORT, VerifyService
from .vtpm_issuer import VtpmAttestationIssuer

CONTROL_PLANE = "control-plane"
REBOOT_SECONDS = 2.0
FATAL_LINE = "disk-mapper has failed. In most cases, this is due to a misconfiguration or transient error with the infrastructure."


class Node:
    def __init__(self, lab_dir: Path, name: str):
        self.lab_dir = Path(lab_dir)
        self.lab = json.loads((self.lab_dir / "lab.json").read_text())
        matches = [n for n in self.lab["nodes"] if n["name"] == name]
        if not matches:
            raise SystemExit(f"node {name!r} is not in {self.lab_dir / 'lab.json'}")
        self.node = matches[0]
        self.dir = self.lab_dir / "nodes" / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.is_control_plane = self.node["role"] == CONTROL_PLANE
        protocol = self.lab["protocol"]
        fmt = ZAP if protocol == KEYSERVICE else self.lab.get("log_format", SLOG)
        self.console = Console(self.dir / "console.log", fmt)
        self.disk = StateDisk(self.dir / "state-disk.json")
        self.etcd = (
            EtcdMember(
                self.lab,
                self.node,
                self.dir,
                on_exit=lambda message: self.console.log("ERROR", message),
                faulted=lambda: name in (faultfile.read(self.lab_dir).get("etcd_fails") or []),
            )
            if self.is_control_plane
            else None
        )
        self.join_service: JoinService | None = None
        self.verify_service: VerifyService | None = None
        self.recovery = None
        self.rejoin: RejoinClient | None = None
        self._keys_lock = threading.Lock()
        self._keys_taken = False
        self.stopped = threading.Event()

    # -- status -----------------------------------------------------------
    def set_state(self, state: str) -> None:
        doc = {
            "state": state,
            "role": self.node["role"],
            "ip": self.node["ip"],
            "updated": time.time(),
            "pid": os.getpid(),
        }
        if self.is_control_plane:
            doc["etcd_client_url"] = self.node["etcd_client_url"]
        tmp = self.dir / "status.json.tmp"
        tmp.write_text(json.dumps(doc))
        os.replace(tmp, self.dir / "status.json")

    # -- boots ------------------------------------------------------------
    def boot_initial(self) -> None:
        master = MasterSecret.load(Path(self.lab["cluster_secret_file"]))
        uuid = self.node["disk_uuid"]
        if not self.disk.exists():
            self.disk.format(uuid, master.disk_key(uuid))
            with (self.dir / "cloud.log").open("a") as log:
                log.write(f"Disk UUID: {uuid}\n")
        self.console.log("INFO", "Starting disk-mapper")
        self.console.log("INFO", "Preparing new state disk", group="setupManager", uuid=uuid)
        self._open(master.disk_key(uuid), master.measurement_secret(), new_cluster=True)

    def boot_reboot(self) -> None:
        uuid = self.disk.uuid
        self.set_state("waiting")
        protocol = self.lab["protocol"]
        port = self.lab["recovery_port"]
        if protocol != KEYSERVICE:  # pre-v2.0 nodes printed the UUID only to cloud logging
            self.console.log("INFO", "Starting disk-mapper")
            self.console.log("INFO", "Preparing existing state disk", group="setupManager", uuid=uuid)
        if not self.is_control_plane:
            self.recovery = WorkerStub(self.node["ip"], port)
            self.console.log("INFO", "Running as worker node, skipping recovery server", group="recoveryServer")
        else:
            self.recovery = RecoveryServer(
                protocol,
                self.node["ip"],
                port,
                uuid,
                self.console,
                self._keys_from_recovery,
                issue=self._attestation_issuer(),
            )
            if protocol == KEYSERVICE:
                self.console.log("INFO", "Waiting for decryption key. Listening on: [::]:9000", group="keyService")
            else:
                self.console.log("INFO", "Starting RecoveryServer", group="recoveryServer")
        self.recovery.start()
        self.rejoin = RejoinClient(
            self.lab, self.node, self.console, self._keys_from_rejoin, self.dir, legacy_lines=protocol == KEYSERVICE
        )
        if protocol != KEYSERVICE:
            self.console.log("INFO", "Starting RejoinClient", group="rejoinClient")
        self.rejoin.start()

    def _switched(self, switch: str):
        return lambda: self.node["name"] in (faultfile.read(self.lab_dir).get(switch) or [])

    def _issuer(self):
        """The attestation issuer of the lab's attestation mode; None for upstream's dummy variant."""
        mode = self.lab.get("attestation")
        wrong, malformed = self._switched("wrong_measurement"), self._switched("malformed_evidence")
        if mode == "qemu-vtpm":
            return VtpmAttestationIssuer(wrong, malformed)
        if mode == "snp":
            chip = SoftwareSnpChip(self.lab_dir, self.lab_dir / ".cluster", self.node["name"])
            return SnpAttestationIssuer(chip, wrong, malformed)
        return None

    def _attestation_issuer(self):
        """The aTLS certificate issuer of the recovery server; None for upstream's dummy variant."""
        issuer = self._issuer()
        return issuer.issue if issuer is not None else None

    # -- keys -------------------------------------------------------------
    def _claim_keys(self) -> bool:
        with self._keys_lock:
            if self._keys_taken:
                return False
            self._keys_taken = True
            return True

    def _keys_from_recovery(self, disk_key: bytes, measurement_secret: bytes) -> None:
        if not self._claim_keys():
            return
        self.rejoin.stop()
        if faultfile.take_reboot_after_push(self.lab_dir, self.node["name"]):
            self._crash_and_reboot()
            return
        self._unlock(disk_key, measurement_secret)

    def _crash_and_reboot(self) -> None:
        """Fault injection: lose the key as a crash would, and boot again with the disk locked."""
        self.console.log("ERROR", "conflab fault: node crashed right after receiving its key; rebooting")
        self.set_state("booting")
        time.sleep(REBOOT_SECONDS)
        os.execv(
            sys.executable,
            [
                sys.executable,
                "-m",
                "conflab.constellation.node",
                "--dir",
                str(self.lab_dir),
                "--name",
                self.node["name"],
                "--boot",
                "reboot",
            ],
        )

    def _keys_from_rejoin(self, disk_key: bytes, measurement_secret: bytes) -> None:
        if not self._claim_keys():
            return
        if isinstance(self.recovery, RecoveryServer):
            self.recovery.stop("Context canceled, shutting down server")
        else:
            self.recovery.stop()
        self._unlock(disk_key, measurement_secret)

    def _unlock(self, disk_key: bytes, measurement_secret: bytes) -> None:
        try:
            self.disk.unlock(disk_key)
        except WrongPassphrase:
            self.console.log(
                "ERROR", FATAL_LINE, error="unable to unlock state disk: no key available with this passphrase"
            )
            self.set_state("failed")
            return
        self._open(disk_key, measurement_secret, new_cluster=False)

    def _open(self, disk_key: bytes, measurement_secret: bytes, new_cluster: bool) -> None:
        salt = bytes.fromhex(self.lab["measurement_salt"])
        pcr15 = hashlib.sha256(b"\x00" * 32 + hashlib.sha256(cluster_id(measurement_secret, salt)).digest()).hexdigest()
        self.console.log("INFO", "Extended PCR 15 with the cluster ID", pcr15=pcr15)
        self.console.raw(f"Disk UUID: {self.disk.uuid}")
        self.verify_service = VerifyService(
            self.node["ip"], self.lab.get("verify_port", VERIFY_PORT), self._issuer(), bytes.fromhex(pcr15),
            self._switched("wrong_measurement"),
        )  # fmt: skip
        self.verify_service.start()
        if not self.is_control_plane:
            self.set_state("joined")
            return
        self.etcd.start(new_cluster=new_cluster)
        self.join_service = JoinService(self.lab, self.node)
        self.join_service.start()
        self.set_state("unlocked")

    def shutdown(self) -> None:
        for part in (self.rejoin, self.recovery, self.join_service, self.verify_service):
            if part is not None:
                try:
                    part.stop()
                except Exception:  # noqa: BLE001 - shutting down regardless
                    pass
        if self.etcd is not None:
            self.etcd.stop()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="conflab-node")
    parser.add_argument("--dir", required=True, type=Path)
    parser.add_argument("--name", required=True)
    parser.add_argument("--boot", required=True, choices=("initial", "reboot"))
    args = parser.parse_args(argv)
    node = Node(args.dir, args.name)
    signal.signal(signal.SIGTERM, lambda *_: node.stopped.set())
    signal.signal(signal.SIGINT, lambda *_: node.stopped.set())
    try:
        if args.boot == "initial":
            node.boot_initial()
        else:
            node.boot_reboot()
        while not node.stopped.wait(1.0):
            pass
    finally:
        node.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
