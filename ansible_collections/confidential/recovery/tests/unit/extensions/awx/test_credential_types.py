# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The AWX credential types hand the secret over as a file and name only its path in the extra vars."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from awx_injectors import inject, load, render

COLLECTION = Path(__file__).resolve().parents[4]
TYPES = sorted((COLLECTION / "extensions" / "awx" / "credential_types").glob("*.yml"))
SECRET = "-----BEGIN RSA PRIVATE KEY-----\nnot-a-real-key\n-----END RSA PRIVATE KEY-----"


def role_options() -> set[str]:
    options = set()
    for spec in (COLLECTION / "roles").glob("*/meta/argument_specs.yml"):
        for entry_point in yaml.safe_load(spec.read_text())["argument_specs"].values():
            options |= set(entry_point.get("options") or {})
    return options


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


@pytest.mark.parametrize("path", TYPES, ids=lambda p: p.stem)
def test_the_files_are_written_for_the_job_owner_only(path, tmp_path):
    extra_vars = inject(path, SECRET, tmp_path)
    for value in set(extra_vars.values()):
        written = Path(value)
        assert written.read_text() == SECRET and written.stat().st_mode & 0o777 == 0o600


def test_the_kubeconfig_reaches_both_stages():
    _files, extra_vars = render(
        load(COLLECTION / "extensions" / "awx" / "credential_types" / "kubernetes_admin_kubeconfig.yml"), SECRET
    )
    assert set(extra_vars) == {"constellation_recover_kubeconfig", "contrast_recover_kubeconfig"}
    assert len(set(extra_vars.values())) == 1
