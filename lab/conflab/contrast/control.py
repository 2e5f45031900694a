# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Start, restart, stop and inspect the lab Coordinator replicas (used by the `conflab` CLI)."""

from __future__ import annotations

import json
import secrets
import socket
import time
from pathlib import Path

from .. import processes
from . import replicas
from .replicas import replica_dir, state_dir
from .snp_evidence import reference_entry
from .workspace import create_workspace, with_names_policies

MODULE = "conflab.contrast.coordinator"


def _wait_listening(host: str, port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the lab Coordinator did not listen on {host}:{port} within {timeout:.0f} s")


def _start(config: dict, replica: int) -> None:
    directory = Path(config["dir"])
    folder = replica_dir(directory, replica)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "status.json").unlink(missing_ok=True)
    name = replicas.process_name(replica)
    processes.spawn(directory, name, MODULE, "--replica", str(replica), log=folder / "process.log")
    _wait_listening(replicas.address(config, replica), config["coordinator"]["port"])


def up(config: dict) -> None:
    directory = Path(config["dir"])
    folder = state_dir(directory)
    folder.mkdir(parents=True, exist_ok=True)
    identity_file = folder / "identity.json"
    if not identity_file.exists():
        # Stands for the hash of the Coordinator's pod policy (its HOSTDATA on SNP).
        identity_file.write_text(json.dumps({"policy_hash": secrets.token_bytes(32).hex()}))
    for replica in range(replicas.count(config)):
        _start(config, replica)
    workspace = directory / "contrast"
    if not (workspace / "seed-shares.json").exists():
        settings = config["coordinator"]
        policy_hash = bytes.fromhex(json.loads(identity_file.read_text())["policy_hash"])
        snp = [reference_entry()] if config.get("attestation") == "snp" else None
        create_workspace(workspace, settings["ip"], settings["port"], policy_hash, settings["paths"], snp)
    if replicas.count(config) > 1:
        _wait_all_ready(config)


def _wait_all_ready(config: dict) -> None:
    """The other replicas take the state from coordinator-0 through peer recovery, one interval after it was set."""
    interval = float(config["coordinator"].get("peer_interval", replicas.UPSTREAM_PEER_INTERVAL))
    deadline = time.monotonic() + 3 * interval + 30
    while time.monotonic() < deadline:
        if all(state(config, r) == "ready" for r in range(replicas.count(config))):
            return
        time.sleep(0.2)
    raise RuntimeError("the lab's Coordinator replicas did not all recover from coordinator-0 through peer recovery")


def restart(config: dict, which: list[int] | None = None) -> None:
    """Restart the given replicas (all by default) at once: each comes back in recovery mode."""
    chosen = list(range(replicas.count(config))) if which is None else which
    processes.stop_many(Path(config["dir"]), [replicas.process_name(replica) for replica in chosen])
    for replica in chosen:
        _start(config, replica)


def down(config: dict) -> None:
    processes.stop_many(Path(config["dir"]), [replicas.process_name(r) for r in range(replicas.count(config))])


def status(config: dict, replica: int) -> dict:
    """``state`` (down, stale, ready, uninitialized), ``recovered_by`` (seed, peer <pod>) and ``seed_recoveries``."""
    directory = Path(config["dir"])
    down_status = {"state": "down", "recovered_by": None, "seed_recoveries": 0}
    if not processes.is_running(directory, replicas.process_name(replica)):
        return down_status
    try:
        found = json.loads((replica_dir(directory, replica) / "status.json").read_text())
    except (OSError, ValueError):
        return down_status
    return {key: found.get(key, default) for key, default in down_status.items()}


def state(config: dict, replica: int = 0) -> str:
    return status(config, replica)["state"]


ORIGINAL_MANIFEST = "manifest.json.original"


def rewrite_manifest_with_names(config: dict) -> None:
    """The workspace's manifest.json in Contrast v0.7's Policies form; the original is kept for restore_manifest."""
    workspace = Path(config["dir"]) / "contrast"
    original = workspace / ORIGINAL_MANIFEST
    if not original.exists():
        (workspace / "manifest.json").replace(original)
    manifest = json.loads(original.read_text())
    (workspace / "manifest.json").write_text(json.dumps(with_names_policies(manifest), indent=2))


def restore_manifest(config: dict) -> None:
    workspace = Path(config["dir"]) / "contrast"
    original = workspace / ORIGINAL_MANIFEST
    if original.exists():
        original.replace(workspace / "manifest.json")
