# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""What the Constellation modules share: their dependencies, the secret and attestation options, the validator and the
master secret. Contrast code has no place here: a Constellation module bundles none."""

from __future__ import annotations

from .._evidence import _choices
from .._module import _common
from .._module._attestation_options import ATTESTATION, COLLATERAL_DOWNLOAD, CONSTELLATION_ATTESTATION
from .._module._common import PROTOBUF_REQUIREMENT, load_pem, load_yaml, pcs_collateral, read_option_file
from .._module._options import OptionGroup
from .._net import _grpc_h2
from . import _attestation_config
from . import _keys as _constellation_keys
from . import _rpc as _constellation_rpc
from . import _variants as _constellation_variants
from ._validators import constellation_validator

DEPENDENCIES = (
    (
        "cryptography",
        "cryptography",
        _constellation_keys.HAS_CRYPTOGRAPHY,
        _constellation_keys.CRYPTOGRAPHY_IMPORT_ERROR,
    ),
    ("h2", "h2", _grpc_h2.HAS_H2, _grpc_h2.H2_IMPORT_ERROR),
    ("protobuf", PROTOBUF_REQUIREMENT, _constellation_rpc.HAS_PROTOBUF, _constellation_rpc.PROTOBUF_IMPORT_ERROR),
)


SECRET = OptionGroup(
    "confidential.recovery.constellation_secret",
    dict(
        master_secret_file=dict(type="path"),
        master_secret=dict(type="raw", no_log=True),
        cluster_id=dict(type="str"),
        measurement_salt=dict(type="str"),
    ),
    dict(
        required_one_of=[("master_secret_file", "master_secret")],
        mutually_exclusive=[("master_secret_file", "master_secret")],
        required_together=[("cluster_id", "measurement_salt")],
    ),
)
# What every module that pushes keys takes: the master secret and a Constellation attestation variant.
PUSHING = (SECRET, ATTESTATION, CONSTELLATION_ATTESTATION, COLLATERAL_DOWNLOAD)


def require_libraries(module, names=("cryptography", "h2", "protobuf")) -> None:
    _common.require_libraries(module, DEPENDENCIES, names)


def validator(module, now=None):
    """The attestation validator the user asked for; warns on the lab variant. ``now`` pins the time of the checks."""
    attestation = module.params["attestation"]
    if attestation == _choices.LAB:
        module.warn(_choices.LAB_WARNING)
        config = None
    else:
        config = read_option_file(module, "attestation_config", load_yaml)
    try:
        return constellation_validator(
            attestation,
            config,
            module.params.get("attestation_config") or "",
            module.warn,
            trust_anchor=read_option_file(module, "attestation_trust_anchor", load_pem),
            now=now,
            collateral_dir=module.params.get("attestation_collateral_dir"),
            pcs=pcs_collateral(module.params),
        )
    except (
        NotImplementedError,
        _attestation_config.AttestationConfigError,
        _constellation_variants.VariantConfigError,
    ) as exc:
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
