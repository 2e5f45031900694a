# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Ansible's doc markup closes at the first ``)``: C(f(x)) shows as C(f(x) plus a stray ``)``. No markup of the
collection's documentation may hold a parenthesis."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

COLLECTION = Path(__file__).resolve().parents[3]
MARKUP = re.compile(r"\b([CVOIBLUEP])\(([^)]*)\)", re.S)


def _documents():
    for path in sorted((COLLECTION / "plugins").rglob("*.py")):
        if "module_utils" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)
            ):
                names = [getattr(target, "id", "") for target in node.targets]
                if any(name.isupper() for name in names):
                    yield f"{path.relative_to(COLLECTION)}:{names[0]}", node.value.value
    for path in sorted((COLLECTION / "roles").glob("*/meta/argument_specs.yml")):
        yield str(path.relative_to(COLLECTION)), path.read_text()


DOCUMENTS = list(_documents())


def broken_markup(text: str) -> list[str]:
    return [f"{kind}({content})" for kind, content in MARKUP.findall(text) if "(" in content]


@pytest.mark.parametrize(("where", "text"), DOCUMENTS, ids=[document[0] for document in DOCUMENTS])
def test_no_markup_holds_a_parenthesis(where, text):
    assert broken_markup(text) == [], where


def test_the_check_finds_what_it_looks_for():
    assert broken_markup("run C(gcloud --format='value(x)') first") == ["C(gcloud --format='value(x)"]
    assert broken_markup("see O(attestation=lab) and C(a b)") == []
