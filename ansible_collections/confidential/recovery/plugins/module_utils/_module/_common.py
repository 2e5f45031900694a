# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""What every module shares, whichever product it serves: dependency checks, option files, Intel's collateral."""

from __future__ import annotations

from ansible.module_utils.basic import missing_required_lib

try:
    import yaml

    HAS_YAML = True
except ImportError:  # pragma: no cover - ansible-core itself needs PyYAML on the controller
    HAS_YAML = False

# The generated protobuf code validates the runtime when imported: an older protobuf fails like a missing one.
PROTOBUF_REQUIREMENT = "protobuf>=4.25.1,<8"


def require_libraries(module, dependencies, names) -> None:
    """Fail the module with missing_required_lib for the first of ``names`` whose import failed. ``dependencies`` is a
    product's table of (name, requirement, present, import error)."""
    for name, requirement, present, error in dependencies:
        if name in names and not present:
            module.fail_json(msg=missing_required_lib(requirement), exception=str(error))


def read_option_file(module, option: str, loader=bytes):
    """The contents of the file an option names, through ``loader``; fails the module with a clear message."""
    path = module.params.get(option)
    if not path:
        return None
    try:
        with open(path, "rb") as handle:
            return loader(handle.read())
    except OSError as exc:
        module.fail_json(msg=f"cannot read {option} {path}: {exc.strerror}")
    except (ValueError, yaml.YAMLError) as exc:
        module.fail_json(msg=f"{option} {path} is not valid: {exc}")
    return None


def load_yaml(data: bytes):
    if not HAS_YAML:
        raise ValueError(missing_required_lib("PyYAML"))
    return yaml.safe_load(data)


def load_pem(data: bytes) -> bytes:
    if b"-----BEGIN CERTIFICATE-----" not in data:
        raise ValueError("it holds no PEM certificate")
    return data


def pcs_collateral(params: dict):
    """Intel's TDX collateral as the options say (an _intel_pcs.PcsCollateral): the directory, and Intel PCS or a
    PCCS only if allowed. Imported here, not above: only the TDX variants read it, and it brings dcap-qvl."""
    from .._evidence import _intel_pcs

    return _intel_pcs.PcsCollateral(
        params.get("attestation_collateral_dir"),
        params.get("attestation_collateral_download", False),
        params.get("attestation_pccs_url") or _intel_pcs.INTEL_PCS_URL,
        params["timeout"],
    )
