# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""One Coordinator, attested: probe it, recover it from the seed share, verify what it serves and write verify/.

Used for a single Coordinator and for each Coordinator of a set (``_backends``), and by the event source's watch."""

from __future__ import annotations

import json
import os

from .._evidence._amd_kds import KdsCollateral
from .._files import write_atomically
from .._module._common import pcs_collateral
from .._net._addresses import join_host_port, split_host_port
from .._net._grpc_h2 import GrpcError
from ._userapi import ALREADY_RECOVERED, NO_MANIFEST, RECOVERY_MODE, UserApi
from ._validators import contrast_validator
from ._workspace import Workspace, public_key_der

RECOVERED = "recovered"
ALREADY = "already_recovered"
WOULD_RECOVER = "would_recover"
DEFAULT_PORT = 1313
MESH_CA_FILE = "mesh-ca.pem"


class CoordinatorError(Exception):
    pass


def _explain(exc: GrpcError) -> str:
    text = f"{exc.code_name}: {exc.message}"
    if exc.code_name == "PermissionDenied":
        return f"the Coordinator refused the seedshare owner key ({text}); is this the owner's seedshare-owner.pem?"
    if "latest transition signature is invalid" in exc.message:
        return (
            f"the Coordinator rejected the seed ({text}): the seed share does not belong to this Coordinator's history"
        )
    if "recovered peers are available" in exc.message:
        return f"{text}: ready Coordinator peers will recover this one; set force only if you must"
    if "no state to recover from" in exc.message:
        return f"{text}: the Coordinator was never initialized; run `contrast set`, not recover"
    return text


class CoordinatorRecovery:
    def __init__(self, params: dict, workspace: Workspace, trust_anchor: bytes | None = None, tunnel=None):
        """``tunnel``: (Tunnel, dial) to reach the Coordinator through a port-forward instead of its address."""
        self.params = params
        self.workspace = workspace
        if tunnel:
            host, port, dial = "localhost", tunnel[0].port, tunnel[1]
            self.address = tunnel[0].describe()
        else:
            host, port = split_host_port(params["coordinator"], DEFAULT_PORT, "coordinator")
            dial, self.address = None, join_host_port(host, port)
        hashes = workspace.coordinator_policy_hashes(params.get("coordinator_policy_hash"))
        kds = KdsCollateral(
            params.get("attestation_collateral_dir"),
            params["attestation_collateral_download"],
            params["attestation_kds_url"],
            params["timeout"],
        )
        validator = contrast_validator(
            params["attestation"],
            hashes,
            workspace.reference_values(),
            collateral_dir=params.get("attestation_collateral_dir"),
            trust_anchor=trust_anchor,
            kds=kds,
            pcs=pcs_collateral(params),
        )
        self.api = UserApi(host, port, validator, params["timeout"], dial=dial)

    def probe(self) -> str:
        """'ready' or 'stale', attested, without a client certificate."""
        try:
            self.api.get_manifests()
            return "ready"
        except GrpcError as exc:
            if RECOVERY_MODE in exc.message:
                return "stale"
            if NO_MANIFEST in exc.message:
                raise CoordinatorError(f"{self.address}: {exc.message}; run `contrast set`, not recover") from exc
            raise CoordinatorError(f"{self.address}: probing the Coordinator failed: {_explain(exc)}") from exc

    def recover(self) -> str:
        seed, salt = self.workspace.seed_and_salt()
        try:
            return self.api.recover(seed, salt, self.workspace.client_identity(), force=self.params["force"])
        except GrpcError as exc:
            if ALREADY_RECOVERED in exc.message:
                return ""
            raise CoordinatorError(f"{self.address}: recovery failed: {_explain(exc)}") from exc

    def verify(self) -> dict:
        served = self.api.get_manifests()
        if not served.Manifests:
            raise CoordinatorError(f"{self.address} serves no manifest")
        expected = self.workspace.manifest()
        try:
            active = json.loads(served.Manifests[-1])
        except ValueError as exc:
            raise CoordinatorError(f"{self.address} serves a manifest that is not JSON") from exc
        verify_dir = self.params["verify_dir"]
        saved_mesh = os.path.join(verify_dir, MESH_CA_FILE)
        if not os.path.exists(saved_mesh):
            saved_mesh = os.path.join(self.params["workspace_dir"], MESH_CA_FILE)
        mesh_ca_changed = True
        if os.path.exists(saved_mesh):
            with open(saved_mesh, "rb") as handle:
                mesh_ca_changed = public_key_der(handle.read()) != public_key_der(served.MeshCA)
        return {
            "manifest_verified": active == expected,
            "manifest_count": len(served.Manifests),
            "mesh_ca_changed": mesh_ca_changed,
            "served": served,
        }

    def write_verify_outputs(self, served, record_mesh_ca: bool) -> list[str]:
        """Write verify/ like ``contrast verify``. The mesh CA is the baseline the next run compares against:
        it is recorded only once the workloads carry certificates of it (``record_mesh_ca``)."""
        verify_dir = self.params["verify_dir"]
        os.makedirs(verify_dir, exist_ok=True)
        written = {"coordinator-root-ca.pem": served.RootCA}
        if record_mesh_ca:
            written[MESH_CA_FILE] = served.MeshCA
        for index, manifest in enumerate(served.Manifests):
            written[f"manifest.{index}.json"] = manifest
        if served.LatestTransition.TransitionHash:
            written["latest-transition"] = served.LatestTransition.TransitionHash.hex().encode()
        for name, data in written.items():
            write_atomically(os.path.join(verify_dir, name), data)
        return sorted(written)
