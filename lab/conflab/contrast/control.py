# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Start, restart, stop and inspect the lab Coordinator (used by the `conflab` CLI)."""

from __future__ import annotations

import json
import secrets
import socket
import time
from pathlib import Path

from .. import processes
from .coordinator import state_dir
from .snp_evidence import reference_entry
from .workspace import create_workspace, with_names_policies

NAME = "coordinator"
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


def _start(config: dict) -> None:
    directory = Path(config["dir"])
    folder = state_dir(directory)
    (folder / "status.json").unlink(missing_ok=True)
    processes.spawn(directory, NAME, MODULE, log=folder / "process.log")
    settings = config["coordinator"]
    _wait_listening(settings["ip"], settings["port"])


def up(config: dict) -> None:
    directory = Path(config["dir"])
    folder = state_dir(directory)
    folder.mkdir(parents=True, exist_ok=True)
    identity_file = folder / "identity.json"
    if not identity_file.exists():
        # Stands for the hash of the Coordinator's pod policy (its HOSTDATA on SNP).
        identity_file.write_text(json.dumps({"policy_hash": secrets.token_bytes(32).hex()}))
    _start(config)
    workspace = directory / "contrast"
    if not (workspace / "seed-shares.json").exists():
        settings = config["coordinator"]
        policy_hash = bytes.fromhex(json.loads(identity_file.read_text())["policy_hash"])
        snp = [reference_entry()] if config.get("attestation") == "snp" else None
        create_workspace(workspace, settings["ip"], settings["port"], policy_hash, settings["paths"], snp)


def restart(config: dict) -> None:
    processes.stop(Path(config["dir"]), NAME)
    _start(config)


def down(config: dict) -> None:
    processes.stop(Path(config["dir"]), NAME)


def state(config: dict) -> str:
    directory = Path(config["dir"])
    if not processes.is_running(directory, NAME):
        return "down"
    try:
        return json.loads((state_dir(directory) / "status.json").read_text())["state"]
    except (OSError, ValueError, KeyError):
        return "down"


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
