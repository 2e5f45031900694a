#!/usr/bin/env python3
# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The collection's layers as Graphviz dot, read from the code's own imports: each plugin kind and each module_utils
subpackage is a box, an arrow means "imports from". `make architecture` renders it to docs/images/architecture.svg.

  python tools/architecture_graph.py > architecture.dot
"""

from __future__ import annotations

import ast
import sys
from collections import Counter
from pathlib import Path

PLUGINS = Path(__file__).resolve().parent.parent / "ansible_collections" / "confidential" / "recovery" / "plugins"
PACKAGE = "ansible_collections.confidential.recovery.plugins"
# What each box holds, in a few words.
LABELS = {
    "modules": "modules\\n(docs, argspec, a call)",
    "action": "action plugins\\n(live progress, locks)",
    "inventory": "inventory plugin",
    "plugin_utils": "plugin_utils\\n(controller only)",
    "_backends": "_backends\\n(one per module)",
    "_module": "_module\\n(options, dependencies)",
    "_constellation": "_constellation\\n(keys, RPC, push loop,\\nattestation variants)",
    "_contrast": "_contrast\\n(workspace, user API,\\nSNP/TDX Coordinator)",
    "_evidence": "_evidence\\n(SNP, TDX, TPM, roots,\\ncollateral, aTLS cert)",
    "_net": "_net\\n(addresses, aTLS,\\ngRPC over h2, deadlines)",
    "_kube": "_kube\\n(Kubernetes API)",
    "_cloud": "_cloud\\n(AWS, GCP, Azure\\ndiscovery and logs)",
    "_drill": "_drill\\n(reports, reboot plan)",
    "_generated": "_generated\\n(protobuf)",
    "_files": "_files\\n(atomic writes)",
}


def box(module: str) -> str | None:
    """The box a dotted module name belongs to."""
    if not module.startswith(PACKAGE + "."):
        return None
    parts = module[len(PACKAGE) + 1 :].split(".")
    if parts[0] == "module_utils":
        return parts[1] if len(parts) > 1 else None
    return parts[0]


def module_name(path: Path) -> str:
    relative = path.relative_to(PLUGINS).with_suffix("")
    return ".".join([PACKAGE, *relative.parts])


def imports(path: Path) -> set[str]:
    name = module_name(path)
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")[: -node.level]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def edges() -> Counter:
    counted = Counter()
    for path in PLUGINS.rglob("*.py"):
        if "_generated" in path.parts or path.parent.name == "doc_fragments":
            continue
        source = box(module_name(path))
        for target in {box(name) for name in imports(path)} - {None, source}:
            counted[(source, target)] += 1
    return counted


def main() -> int:
    counted = edges()
    lines = [
        "digraph layers {",
        '  rankdir=TB; node [shape=box, fontname="Helvetica", fontsize=10];',
        '  edge [color="#777777", arrowsize=0.6];',
    ]
    for name in sorted({n for pair in counted for n in pair}):
        lines.append(f'  "{name}" [label="{LABELS.get(name, name)}"];')
    lines += [f'  "{a}" -> "{b}" [penwidth={min(3, 0.6 + n / 6):.1f}];' for (a, b), n in sorted(counted.items())]
    lines.append("}")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
