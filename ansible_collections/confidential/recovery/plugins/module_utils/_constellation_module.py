# -*- coding: utf-8 -*-
# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""What the Constellation modules share: dependency checks, secrets from params, validators."""

from __future__ import annotations

from ansible.module_utils.basic import missing_required_lib

try:
    import yaml

    HAS_YAML = True
except ImportError:  # pragma: no cover - ansible-core itself needs PyYAML on the controller
    HAS_YAML = False

from . import _attestation, _attestation_config, _intel_pcs, _constellation_keys, _constellation_variants, _constellation_rpc, _contrast_userapi, _grpc_h2

# The generated protobuf code validates the runtime when imported: an older protobuf fails like a missing one.
PROTOBUF_REQUIREMENT = "protobuf>=4.25.1,<8"

DEPENDENCIES = (
    ("cryptography", "cryptography", _constellation_keys.HAS_CRYPTOGRAPHY, _constellation_keys.CRYPTOGRAPHY_IMPORT_ERROR),
    ("h2", "h2", _grpc_h2.HAS_H2, _grpc_h2.H2_IMPORT_ERROR),
    ("protobuf", PROTOBUF_REQUIREMENT, _constellation_rpc.HAS_PROTOBUF, _constellation_rpc.PROTOBUF_IMPORT_ERROR),
    ("protobuf-userapi", PROTOBUF_REQUIREMENT, _contrast_userapi.HAS_PROTOBUF, _contrast_userapi.PROTOBUF_IMPORT_ERROR),
)


def secret_argument_spec(**extra) -> dict:
    """The options of the doc fragments constellation_secret and attestation, plus ``extra``."""
    spec = dict(
        master_secret_file=dict(type="path"),
        master_secret=dict(type="raw", no_log=True),
        cluster_id=dict(type="str"),
        measurement_salt=dict(type="str"),
        attestation=dict(type="str", required=True, choices=_attestation.ATTESTATION_CHOICES),
        attestation_config=dict(type="path"),
        attestation_trust_anchor=dict(type="path"),
        attestation_collateral_dir=dict(type="path"),
        attestation_collateral_download=dict(type="bool", default=False),
        attestation_pccs_url=dict(type="str", default=_intel_pcs.INTEL_PCS_URL),
        timeout=dict(type="float", default=30),
    )
    spec.update(extra)
    return spec


SECRET_CONSTRAINTS = dict(
    required_one_of=[("master_secret_file", "master_secret")],
    mutually_exclusive=[("master_secret_file", "master_secret")],
    required_together=[("cluster_id", "measurement_salt")],
)


def require_libraries(module, names=("cryptography", "h2", "protobuf")) -> None:
    for name, requirement, present, error in DEPENDENCIES:
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


def _load_yaml(data: bytes):
    if not HAS_YAML:
        raise ValueError(missing_required_lib("PyYAML"))
    return yaml.safe_load(data)


def _load_pem(data: bytes) -> bytes:
    if b"-----BEGIN CERTIFICATE-----" not in data:
        raise ValueError("it holds no PEM certificate")
    return data


def pcs_collateral(params: dict) -> _intel_pcs.PcsCollateral:
    """Intel's TDX collateral as the options say: the directory, and Intel PCS or a PCCS only if allowed."""
    return _intel_pcs.PcsCollateral(params.get("attestation_collateral_dir"),
                                    params.get("attestation_collateral_download", False),
                                    params.get("attestation_pccs_url") or _intel_pcs.INTEL_PCS_URL, params["timeout"])


def validator(module, now=None):
    """The attestation validator the user asked for; warns on the lab variant. ``now`` pins the time of the checks."""
    attestation = module.params["attestation"]
    if attestation == _attestation.LAB:
        module.warn(_attestation.LAB_WARNING)
        config = None
    else:
        config = read_option_file(module, "attestation_config", _load_yaml)
    try:
        return _attestation.constellation_validator(
            attestation, config, module.params.get("attestation_config") or "", module.warn,
            trust_anchor=read_option_file(module, "attestation_trust_anchor", _load_pem), now=now,
            collateral_dir=module.params.get("attestation_collateral_dir"), pcs=pcs_collateral(module.params))
    except (NotImplementedError, _attestation_config.AttestationConfigError,
            _constellation_variants.VariantConfigError) as exc:
        module.fail_json(msg=str(exc))
    return None


def master_secret(module):
    """Load the master secret from master_secret or master_secret_file, and check it against the cluster."""
    params = module.params
    try:
        if params.get("master_secret"):
            secret = _constellation_keys.MasterSecret.from_json(params["master_secret"])
        else:
            path = params["master_secret_file"]
            warning = _constellation_keys.file_mode_warning(path)
            if warning:
                module.warn(warning)
            secret = _constellation_keys.MasterSecret.from_file(path)
        if params.get("cluster_id") and params.get("measurement_salt"):
            secret.check_cluster(params["cluster_id"], params["measurement_salt"])
    except _constellation_keys.MasterSecretError as exc:
        module.fail_json(msg=str(exc))
    return secret
