# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Every plugin's DOCUMENTATION, EXAMPLES and RETURN is YAML that ansible-doc can read."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
PLUGINS = sorted(p for kind in ("modules", "inventory", "doc_fragments") for p in (REPO / "plugins" / kind).glob("*.py"))


def doc_strings(path: Path) -> dict[str, str]:
    found = {}
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id in ("DOCUMENTATION", "EXAMPLES", "RETURN"):
                    found[target.id] = node.value.value
    return found


@pytest.mark.parametrize("path", PLUGINS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_docs_parse(path):
    docs = doc_strings(path)
    assert "DOCUMENTATION" in docs, f"{path.name} has no DOCUMENTATION"
    for name, text in docs.items():
        parsed = [doc for doc in yaml.safe_load_all(text) if doc]  # inventory EXAMPLES hold several files
        assert parsed, f"{path.name}: {name} is empty"
    if path.parent.name == "modules":
        assert {"EXAMPLES", "RETURN"} <= set(docs), f"{path.name} lacks EXAMPLES or RETURN"
        documentation = yaml.safe_load(docs["DOCUMENTATION"])
        assert documentation["module"] == path.stem
        assert documentation["short_description"] and documentation["description"]


def descriptions(node):
    """Every description in a DOCUMENTATION tree (top level, options, suboptions, attributes)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "description":
                yield value
            else:
                yield from descriptions(value)
    elif isinstance(node, list):
        for item in node:
            yield from descriptions(item)


@pytest.mark.parametrize("path", PLUGINS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_descriptions_are_text(path):
    # A plain line such as "- Runs with C(x=y): because" is a YAML mapping; ansible-doc then refuses the plugin.
    documentation = yaml.safe_load(doc_strings(path)["DOCUMENTATION"])
    for description in descriptions(documentation):
        lines = description if isinstance(description, list) else [description]
        assert all(isinstance(line, str) for line in lines), f"{path.name}: a description line is not text: {lines!r}"
