# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""A push run imports the attestation code of its own variant only: the lab's run none of the hardware variants',
a vTPM variant's not the TDX variants' (dcap-qvl and Intel's collateral). The import is paid before the first key."""

from __future__ import annotations

import json

from fresh_interpreter import run_fresh

PACKAGE = "ansible_collections.confidential.recovery.plugins.module_utils"
HARDWARE_CODE = (
    f"{PACKAGE}._constellation._variants",
    f"{PACKAGE}._constellation._gce",
    f"{PACKAGE}._evidence._amd_chain",
)
TDX_CODE = (f"{PACKAGE}._evidence._tdx_verify", f"{PACKAGE}._evidence._intel_pcs", "dcap_qvl")


def modules_loaded_after_building(attestation: str, config: dict | None, **options) -> tuple[set[str], dict]:
    """The modules loaded once the push module built its validator, and what the validator's Intel collateral says
    (for a TDX variant)."""
    code = f"""
import json, sys, tempfile, yaml
from {PACKAGE}._backends import _quorum_recover
from {PACKAGE}._constellation import _module

config = {config!r}
params = dict(attestation={attestation!r}, attestation_config=None, attestation_trust_anchor=None, timeout=30)
params.update({options!r})
if config is not None:
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as out:
        yaml.safe_dump(config, out)
    params["attestation_config"] = out.name


class Module:
    params = params
    def warn(self, message): pass
    def fail_json(self, msg, **_): raise SystemExit(msg)


validator = _module.validator(Module())
validate = getattr(getattr(validator, "document", None), "validate", None)
collateral = getattr(validate, "keywords", {{}}).get("collateral")
print(json.dumps([validator.name, sorted(sys.modules), vars(collateral) if collateral else {{}}]))
"""
    done = run_fresh(code)
    assert done.returncode == 0, done.stderr
    name, loaded, collateral = json.loads(done.stdout)
    assert name == f"constellation/{'dummy' if attestation == 'lab' else attestation}"
    return set(loaded), collateral


def test_the_lab_variant_loads_no_hardware_variants_code():
    loaded, _collateral = modules_loaded_after_building("lab", None)
    assert not loaded & set(HARDWARE_CODE + TDX_CODE), sorted(loaded & set(HARDWARE_CODE + TDX_CODE))


def test_a_vtpm_variant_loads_its_own_code_and_not_the_tdx_variants():
    config = {"version": "v4", "attestation": {"qemuVTPM": {"measurements": {4: {"expected": "aa" * 32}}}}}
    loaded, _collateral = modules_loaded_after_building("qemu-vtpm", config)
    assert f"{PACKAGE}._constellation._variants" in loaded
    assert not loaded & set(TDX_CODE), sorted(loaded & set(TDX_CODE))


def test_a_tdx_variant_gets_intel_collateral_as_the_options_say():
    config = {"attestation": {"qemuTDX": {"measurements": {0: {"expected": "bb" * 48, "warnOnly": False}}}}}
    options = dict(
        attestation_collateral_dir="/saved", attestation_collateral_download=True, attestation_pccs_url="https://pccs/"
    )
    loaded, collateral = modules_loaded_after_building("qemu-tdx", config, **options)
    assert set(TDX_CODE) <= loaded
    assert collateral == {"directory": "/saved", "download": True, "base_url": "https://pccs", "timeout": 30}
