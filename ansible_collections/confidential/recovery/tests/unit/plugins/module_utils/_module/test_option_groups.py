# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Every shared option group is one object: its argument spec documents exactly the options of its doc fragment, with
the same types and defaults, so a module that names the fragment and takes the group cannot drift from either."""

from __future__ import annotations

import importlib

import pytest
import yaml

from ansible_collections.confidential.recovery.plugins.module_utils._constellation._module import SECRET
from ansible_collections.confidential.recovery.plugins.module_utils._kube._auth import K8S_AUTH
from ansible_collections.confidential.recovery.plugins.module_utils._module._attestation_options import (
    ATTESTATION,
    COLLATERAL_DOWNLOAD,
    CONSTELLATION_ATTESTATION,
)
from ansible_collections.confidential.recovery.plugins.module_utils._module._options import PROGRESS, module_arguments

GROUPS = [ATTESTATION, CONSTELLATION_ATTESTATION, COLLATERAL_DOWNLOAD, PROGRESS, SECRET, K8S_AUTH]


def documented_options(fragment: str) -> dict:
    """The options a fragment documents: confidential.recovery.NAME[.SECTION] is ModuleDocFragment.SECTION of NAME."""
    _namespace, _collection, name, *section = fragment.split(".")
    module = importlib.import_module(f"ansible_collections.confidential.recovery.plugins.doc_fragments.{name}")
    return yaml.safe_load(getattr(module.ModuleDocFragment, section[0].upper() if section else "DOCUMENTATION"))[
        "options"
    ]


@pytest.mark.parametrize("group", GROUPS, ids=[g.fragment for g in GROUPS])
def test_a_group_takes_exactly_what_its_fragment_documents(group):
    documented = documented_options(group.fragment)
    assert set(group.spec) == set(documented)
    for name, spec in group.spec.items():
        assert spec["type"] == documented[name]["type"], name
        assert spec.get("default") == documented[name].get("default"), name
        assert bool(spec.get("required")) == bool(documented[name].get("required")), name
        assert sorted(spec.get("aliases", [])) == sorted(documented[name].get("aliases", [])), name


def test_secrets_are_never_logged():
    assert SECRET.spec["master_secret"]["no_log"] is True and K8S_AUTH.spec["api_key"]["no_log"] is True


def test_module_options_come_last_and_constraints_add_up():
    arguments = module_arguments(SECRET, ATTESTATION, attestation=dict(type="str"))
    assert arguments["argument_spec"]["attestation"] == dict(type="str")
    assert arguments["required_one_of"] == [("master_secret_file", "master_secret")]
    assert set(arguments) == {"argument_spec", "required_one_of", "mutually_exclusive", "required_together"}
