# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The AWX credential types hand the secret over as a file and name only its path in the extra vars."""

from __future__ import annotations

import re
from pathlib import Path

import jinja2.sandbox
import pytest
import yaml

COLLECTION = Path(__file__).resolve().parents[4]
TYPES = sorted((COLLECTION / "extensions" / "awx" / "credential_types").glob("*.yml"))
SECRET = "-----BEGIN RSA PRIVATE KEY-----\nnot-a-real-key\n-----END RSA PRIVATE KEY-----"


class UnsafeLoader(yaml.SafeLoader):
    """Reads Ansible's !unsafe tag as the plain string that AWX receives."""


UnsafeLoader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))


def load(path: Path) -> dict:
    return yaml.load(path.read_text(), Loader=UnsafeLoader)  # noqa: S506 - SafeLoader plus one scalar tag


def role_options() -> set[str]:
    options = set()
    for spec in (COLLECTION / "roles").glob("*/meta/argument_specs.yml"):
        for entry_point in yaml.safe_load(spec.read_text())["argument_specs"].values():
            options |= set(entry_point.get("options") or {})
    return options


def render(credential_type: dict, value: str) -> tuple[dict, dict]:
    """What AWX does: render the file templates with the inputs, then the extra vars with the file names."""
    env = jinja2.sandbox.ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined)
    inputs = {field["id"]: value for field in credential_type["inputs"]["fields"]}
    files = {
        name.split(".", 1)[1]: env.from_string(template).render(**inputs)
        for name, template in credential_type["injectors"]["file"].items()
    }
    tower = {"filename": {name: f"/tmp/awx_42_{name}" for name in files}}
    extra_vars = {
        name: env.from_string(template).render(tower=tower, **inputs)
        for name, template in credential_type["injectors"]["extra_vars"].items()
    }
    return files, extra_vars


@pytest.mark.parametrize("path", TYPES, ids=lambda p: p.stem)
def test_the_secret_goes_to_a_file_and_only_its_path_to_extra_vars(path):
    credential_type = load(path)
    files, extra_vars = render(credential_type, SECRET)
    assert list(files.values()) == [SECRET]
    assert extra_vars and all(value.startswith("/tmp/awx_42_") for value in extra_vars.values())
    assert not any(SECRET in value for value in extra_vars.values())
    assert "env" not in credential_type["injectors"], "environment variables show up in job output and process lists"


@pytest.mark.parametrize("path", TYPES, ids=lambda p: p.stem)
def test_every_input_is_secret_and_required(path):
    fields = load(path)["inputs"]["fields"]
    assert all(field.get("secret") is True for field in fields)
    assert {field["id"] for field in fields} == set(load(path)["inputs"]["required"])


@pytest.mark.parametrize("path", TYPES, ids=lambda p: p.stem)
def test_the_injected_variables_are_role_options(path):
    _files, extra_vars = render(load(path), SECRET)
    assert set(extra_vars) <= role_options(), (
        "an injected variable no role reads would leave the job without its secret"
    )


@pytest.mark.parametrize("path", TYPES, ids=lambda p: p.stem)
def test_templates_are_marked_unsafe_for_ansible(path):
    # Loaded with include_vars, an unmarked template would be rendered by Ansible before AWX sees it.
    for line in path.read_text().splitlines():
        if re.search(r"\{\{.*\}\}", line):
            assert "!unsafe" in line, line
