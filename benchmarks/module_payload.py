#!/usr/bin/env python3
# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""What each module carries and how fast it starts: the collection's module_utils files AnsiballZ packs for it (the
import closure from the module file, as ansible-core's finder follows it), their bytes, which product's code is among
them, and the time from a fresh interpreter's start to the module's first network call (median of --reps).

  .venv/bin/python benchmarks/module_payload.py [--reps 5] [--json benchmarks/results/module_payload.json]

The first network call is caught at the socket (connect), so nothing leaves the machine: the module is pointed at a
closed loopback port and stopped the moment it dials.
"""

from __future__ import annotations

import argparse
import ast
import base64
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
COLLECTION = REPO / "ansible_collections" / "confidential" / "recovery"
PACKAGE = "ansible_collections.confidential.recovery.plugins"
MODULES = (
    "node_recover",
    "quorum_recover",
    "recovery_status_info",
    "coordinator_recover",
    "attestation_info",
    "disk_uuid_lookup",
    "contrast_workloads_restart",
    "instance_reboot",
    "drill_report",
    "recovery_lock",
)
# Which product a module_utils file belongs to, by the path it lives under (either layout).
PRODUCT_MARKERS = {"contrast": ("_contrast",), "constellation": ("_constellation",)}


def _resolve(current: str, node: ast.ImportFrom) -> list[str]:
    """The module names an import statement may load (the package itself and each imported name as a submodule)."""
    if node.level:
        base = current.split(".")
        base = (
            base[: len(base) - node.level]
            if current.endswith("__init__") is False
            else base[: len(base) - node.level + 1]
        )
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    return [target] + [f"{target}.{alias.name}" for alias in node.names]


def _path(module: str) -> Path | None:
    if not module.startswith(PACKAGE + ".module_utils"):
        return None
    relative = Path(*module.split(".")[1:])  # drop "ansible_collections"
    for candidate in (
        REPO / "ansible_collections" / relative.with_suffix(".py"),
        REPO / "ansible_collections" / relative / "__init__.py",
    ):
        if candidate.is_file():
            return candidate
    return None


def closure(module_name: str) -> dict[str, Path]:
    """The collection module_utils files the module imports, directly or through others."""
    start = f"{PACKAGE}.modules.{module_name}"
    todo, seen, found = [(start, COLLECTION / "plugins" / "modules" / f"{module_name}.py")], set(), {}
    while todo:
        name, path = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                candidates = _resolve(name, node)
            elif isinstance(node, ast.Import):
                candidates = [alias.name for alias in node.names]
            else:
                continue
            for candidate in candidates:
                target = _path(candidate)
                if target is not None and candidate not in found:
                    found[candidate] = target
                    todo.append((candidate, target))
    return found


DRIVER = r"""
import importlib, json, os, socket, sys, time
started = time.perf_counter()
def first_call(*args, **kwargs):
    sys.__stdout__.write(json.dumps({"seconds": time.perf_counter() - started}) + "\n")
    sys.__stdout__.flush()
    os._exit(0)
socket.create_connection = first_call
socket.socket.connect = first_call
from ansible.module_utils import basic
basic._ANSIBLE_ARGS = json.dumps({"ANSIBLE_MODULE_ARGS": json.loads(sys.argv[2])}).encode()
basic._ANSIBLE_PROFILE = "legacy"  # what the controller names since ansible-core 2.19; older cores ignore it
importlib.import_module("ansible_collections.confidential.recovery.plugins.modules." + sys.argv[1]).main()
"""


def fixtures(directory: Path) -> dict[str, dict]:
    """Arguments that make each network module dial a closed loopback port at once."""
    secret = directory / "master-secret.json"
    secret.write_text(
        json.dumps({"key": base64.b64encode(bytes(32)).decode(), "salt": base64.b64encode(bytes(32)).decode()})
    )
    kubeconfig = directory / "kubeconfig"
    kubeconfig.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "c",
                "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:9"}}],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
            }
        )
    )
    (directory / "manifest.json").write_text(json.dumps({"Policies": {"ab" * 32: {"SANs": [], "Role": "coordinator"}}}))
    node = {"master_secret_file": str(secret), "attestation": "lab", "timeout": 1}
    return {
        "node_recover": dict(node, endpoint="127.0.0.1", port=9),
        "quorum_recover": dict(
            node, nodes=[{"name": "cp-0", "address": "127.0.0.1"}], kubeconfig=str(kubeconfig), port=9
        ),
        "recovery_status_info": {
            "check": "node",
            "endpoint": "127.0.0.1",
            "port": 9,
            "attestation": "lab",
            "timeout": 1,
        },
        "coordinator_recover": {
            "coordinator": "127.0.0.1:9",
            "workspace_dir": str(directory),
            "attestation": "lab",
            "timeout": 1,
        },
        "attestation_info": {"endpoint": "127.0.0.1", "port": 9, "attestation": "lab", "timeout": 1},
    }


def time_to_first_call(module: str, args: dict, reps: int) -> dict | None:
    env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONDONTWRITEBYTECODE="1")
    samples = []
    for _ in range(reps):
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", DRIVER, module, json.dumps(args)],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
        try:
            inside = json.loads(done.stdout.strip().splitlines()[0])["seconds"]
        except (IndexError, ValueError, KeyError):
            print(
                f"  {module}: did not reach a network call: {done.stdout[-300:]} {done.stderr[-300:]}", file=sys.stderr
            )
            return None
        samples.append({"process": time.perf_counter() - started, "in_module": inside})
    return {key: round(statistics.median(s[key] for s in samples), 3) for key in ("process", "in_module")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--json", type=Path, default=REPO / "benchmarks" / "results" / "module_payload.json")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        arguments = fixtures(Path(tmp))
        for module in MODULES:
            files = closure(module)
            products = sorted(
                p
                for p, markers in PRODUCT_MARKERS.items()
                if any(any(part.startswith(m) for part in name.split(".")) for m in markers for name in files)
            )
            row = {
                "module": module,
                "files": len(files),
                "bytes": sum(p.stat().st_size for p in files.values()),
                "products": products,
                "first_call": None,
            }
            if module in arguments:
                row["first_call"] = time_to_first_call(module, arguments[module], args.reps)
            rows.append(row)
    print(f"{'module':28} {'files':>5} {'bytes':>8}  {'products':28} {'to first call (s)':>18}")
    for row in rows:
        first = row["first_call"]
        timing = f"{first['process']:.3f} ({first['in_module']:.3f})" if first else "-"
        print(
            f"{row['module']:28} {row['files']:>5} {row['bytes']:>8}  {', '.join(row['products']) or '-':28} {timing:>18}"
        )
    print(
        "to first call: whole process, median of", args.reps, "(in brackets: from the interpreter's start of our code)"
    )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps(
            {
                "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "reps": args.reps,
                "python": sys.version.split()[0],
                "modules": rows,
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
