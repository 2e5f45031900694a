# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""What the Constellation modules share: their dependencies, the secret and attestation options, the validator and the
master secret. Contrast code has no place here: a Constellation module bundles none."""

from __future__ import annotations

import functools
import threading

from .._evidence import _choices
from .._module import _common
from .._module._attestation_options import ATTESTATION, COLLATERAL_DOWNLOAD, CONSTELLATION_ATTESTATION
from .._module._common import PROTOBUF_REQUIREMENT, load_pem, load_yaml, pcs_collateral, read_option_file
from .._module._options import OptionGroup
from .._net import _grpc_h2
from . import _attestation_config
from . import _keys as _constellation_keys
from . import _rpc as _constellation_rpc
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


def validator(module, now=None, cluster_id: bytes | None = None):
    """The attestation validator the user asked for; warns on the lab variant. ``now`` pins the time of the checks;
    ``cluster_id`` (a running node's) requires the measurement that carries it."""
    attestation = module.params["attestation"]
    trust_anchor = read_option_file(module, "attestation_trust_anchor", load_pem)
    if attestation == _choices.LAB:
        module.warn(_choices.LAB_WARNING)
        return constellation_validator(attestation, trust_anchor=trust_anchor)
    config = read_option_file(module, "attestation_config", load_yaml)
    try:
        return constellation_validator(
            attestation,
            config,
            module.params.get("attestation_config") or "",
            module.warn,
            trust_anchor=trust_anchor,
            now=now,
            collateral_dir=module.params.get("attestation_collateral_dir"),
            pcs=functools.partial(pcs_collateral, module.params),
            gce_keys=gce_keys(module.params),
            ec2_images=ec2_images(module.params),
            cluster_id=cluster_id,
        )
    except (
        NotImplementedError,
        _attestation_config.AttestationConfigError,
        _attestation_config.VariantConfigError,
    ) as exc:
        module.fail_json(msg=str(exc))
    return None


def cluster_id_of(module) -> bytes | None:
    """The cluster ID a running node's measurements must carry (cluster_id, hex as in constellation-state.yaml)."""
    text = module.params.get("cluster_id")
    if not text:
        return None
    try:
        return bytes.fromhex(text)
    except ValueError:
        module.fail_json(msg="cluster_id must be hex, as clusterValues.clusterID in constellation-state.yaml")
    return None


def gce_keys(params: dict):
    """The GCP variants' attestation keys: asked of Compute Engine with the inventory's access when
    attestation_gce_api gives it, else only those saved in attestation_collateral_dir."""
    from . import _gce

    saved = _gce.SavedKeys(params.get("attestation_collateral_dir"))
    access = params.get("attestation_gce_api")
    if not access:
        return saved
    return _gce.LiveKeys(_compute_engine(access, float(params.get("timeout") or 30)), access["project"], saved)


def _compute_engine(access: dict, timeout: float):
    """ask(instance): the instance's getShieldedInstanceIdentity answer. Errors that say Compute Engine could not be
    asked (no answer, no credentials, no permission) become ComputeEngineUnreachable; a missing instance refuses.
    Google's libraries are imported at the first question, not before: a variant that never asks (or a node whose key
    is saved) does not pay for them."""
    from . import _gce

    client = []
    lock = threading.Lock()

    def ask(instance):
        from .._cloud import _discovery, _gcp

        try:
            with lock:
                if not client:
                    client.append(_gcp.client_for(access))
            return client[0].shielded_instance_identity(instance.project, instance.zone, instance.instance, timeout)
        except _discovery.DiscoveryError as exc:
            raise _gce.ComputeEngineUnreachable(str(exc)) from exc
        except _gcp.api_exceptions.NotFound as exc:
            raise _gce.GceError(f"Compute Engine has no instance {instance}") from exc
        except (
            _gcp.api_exceptions.GoogleAPICallError,
            _gcp.api_exceptions.RetryError,
            _gcp.google.auth.exceptions.GoogleAuthError,  # credentials that cannot be refreshed
        ) as exc:
            raise _gce.ComputeEngineUnreachable(f"{exc.__class__.__name__}: {str(exc)[:300]}") from exc

    return ask


def ec2_images(params: dict):
    """aws-nitro-tpm's DescribeImages answers: asked of EC2 with the inventory's access when attestation_aws_api gives
    it, else only those saved in attestation_collateral_dir."""
    from . import _aws_nitro

    saved = _aws_nitro.SavedImages(params.get("attestation_collateral_dir"))
    access = params.get("attestation_aws_api")
    if not access:
        return saved
    return _aws_nitro.LiveImages(_ec2(access, float(params.get("timeout") or 30)), access["region"], saved)


def _ec2(access: dict, timeout: float):
    """ask(region, image): EC2's DescribeImages answer. Errors that say EC2 could not be asked become Ec2Unreachable;
    an image EC2 does not know refuses. boto3 is imported at the first question, as Google's libraries are above."""

    from . import _aws_nitro

    def ask(region, image):
        from .._cloud import _aws, _discovery

        try:
            ec2 = _aws.client(_aws.session(profile=access.get("profile")), "ec2", region, access.get("endpoint_url"),
                              max_attempts=3, timeout=timeout)  # fmt: skip
            return ec2.describe_images(ImageIds=[image])
        except _discovery.DiscoveryError as exc:
            raise _aws_nitro.Ec2Unreachable(str(exc)) from exc
        except _aws.botocore.exceptions.ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("InvalidAMIID.NotFound", "InvalidAMIID.Malformed", "InvalidAMIID.Unavailable"):
                raise _aws_nitro.AwsNitroError(f"EC2 has no image {image} in {region} ({code})") from exc
            raise _aws_nitro.Ec2Unreachable(f"{code}: {str(exc)[:300]}") from exc
        except _aws.botocore.exceptions.BotoCoreError as exc:
            raise _aws_nitro.Ec2Unreachable(f"{exc.__class__.__name__}: {str(exc)[:300]}") from exc

    return ask


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
