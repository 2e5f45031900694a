# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""Backend of the coordinator_recover module: probe, recover, verify, write verify/."""

from __future__ import annotations

import json
import os
import time

from .._contrast._module import require_libraries
from .._contrast._userapi import ALREADY_RECOVERED, NO_MANIFEST, RECOVERY_MODE, UserApi
from .._contrast._validators import contrast_validator
from .._contrast._workspace import Workspace, WorkspaceError, public_key_der
from .._evidence._amd_kds import KdsCollateral
from .._files import write_atomically
from .._kube._auth import KubeAuth
from .._kube._cluster_health import ClusterUnreachable, api_client
from .._kube._coordinator_service import NoLoadBalancer, ServiceLookupError, find_coordinator
from .._kube._port_forward import FORWARDER_NAME, PortForwardError, Tunnel, dialer, find_forwarder
from .._module._common import pcs_collateral, read_option_file
from .._net._addresses import AddressError, join_host_port, split_host_port
from .._net._atls import AtlsError
from .._net._grpc_h2 import GrpcError

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


def _trust_anchor(module) -> bytes | None:
    anchor = read_option_file(module, "attestation_trust_anchor")
    if anchor is not None:
        module.warn(
            "the Coordinator's evidence is checked against the root in attestation_trust_anchor instead of the "
            "vendors' pinned roots: use this only for a test platform such as the lab"
        )
    return anchor


def _check(module, recovery: CoordinatorRecovery, workspace: Workspace, state: str, found_by: str) -> None:
    """Check mode: prove what a recovery would need, send nothing. The share decrypts and the manifest authorizes the
    owner key, whatever the state; a Coordinator that is not in recovery mode must serve the workspace's manifest."""
    workspace.seed_and_salt()
    workspace.check_owner_authorized()
    if state == "stale":
        module.exit_json(
            changed=True,
            status=WOULD_RECOVER,
            coordinator=recovery.address,
            coordinator_found_by=found_by,
            mesh_ca_changed=False,
            seed_share_checked=True,
            msg=f"would recover {recovery.address} (attestation passed, the seed share decrypts; check mode sent nothing)",
        )
    outcome = recovery.verify()
    outcome.pop("served")
    result = dict(
        outcome,
        changed=False,
        status=ALREADY,
        coordinator=recovery.address,
        coordinator_found_by=found_by,
        seed_share_checked=True,
    )
    if not outcome["manifest_verified"]:
        module.fail_json(
            msg=f"{recovery.address} is not in recovery mode and serves a manifest that differs from "
            f"{workspace.manifest_file}: a recovery's manifest check would fail",
            **result,
        )
    module.exit_json(
        msg=f"{recovery.address} is not in recovery mode; it serves the workspace's manifest, and the seed share "
        "decrypts with an owner key the manifest authorizes",
        **result,
    )


def _locate(module) -> tuple[str, tuple | None]:
    """How to reach the Coordinator, and in words how it was found: the user's address; else the user's
    port_forward; else, as Contrast's recovery guide does, the load-balancer address of its Service, and without one
    the guide's port-forwarder-coordinator pod through a port-forward. Returns (found_by, tunnel or None)."""
    params = module.params
    if params["coordinator"]:
        return "given", None
    require_libraries(module, ("kubernetes",))
    auth = KubeAuth.from_params(params)
    forward = params["port_forward"]
    if forward is None:
        namespace, service = params["coordinator_namespace"], params["coordinator_service"]
        try:
            params["coordinator"] = find_coordinator(auth, namespace, service, params["timeout"])
            return f"the load balancer of Service {namespace}/{service}", None
        except NoLoadBalancer as exc:
            no_balancer = str(exc)
        forward = {"namespace": namespace, "pod": None, "selector": None, "port": DEFAULT_PORT}
    namespace = forward.get("namespace") or params["coordinator_namespace"]
    try:
        client = api_client(auth, params["timeout"])
        pod = find_forwarder(client, namespace, forward.get("pod"), forward.get("selector"), params["timeout"])
    except ClusterUnreachable as exc:
        raise PortForwardError(f"cannot look for a forwarder pod: {exc}") from exc
    if pod is None:
        wanted = forward.get("pod") or forward.get("selector") or f"{FORWARDER_NAME} (by name or label)"
        if params["port_forward"] is None:
            raise PortForwardError(f"{no_balancer}. No Ready forwarder pod {wanted} in namespace {namespace} either")
        raise PortForwardError(f"no Ready pod {wanted} in namespace {namespace} to port-forward to")
    tunnel = Tunnel(namespace, pod, forward.get("port") or DEFAULT_PORT)
    return tunnel.describe(), (tunnel, dialer(client, tunnel, params["timeout"]))


def run(module) -> None:
    from ._coordinator_set import find_set, run_set  # the set builds on this module's single-Coordinator recovery

    params = module.params
    started = time.monotonic()
    workspace = Workspace(params["manifest"], params["seed_shares"], params["seedshare_owner_key"])
    address = None
    try:
        found = find_set(module)
        if found is not None:
            run_set(module, workspace, _trust_anchor(module), found)
            return
        found_by, tunnel = _locate(module)
        workspace.manifest()
        recovery = CoordinatorRecovery(params, workspace, _trust_anchor(module), tunnel)
        address = recovery.address
        state = recovery.probe()
        if module.check_mode:
            _check(module, recovery, workspace, state, found_by)
        path = recovery.recover() if state == "stale" else ""
        outcome = recovery.verify()
        written = recovery.write_verify_outputs(outcome.pop("served"), params["record_mesh_ca"])
    except (
        WorkspaceError,
        CoordinatorError,
        AtlsError,
        GrpcError,
        AddressError,
        ServiceLookupError,
        PortForwardError,
    ) as exc:
        text = str(exc)
        about_the_peer = isinstance(exc, AtlsError) and address and not text.startswith(address)
        module.fail_json(
            msg=f"{address}: {text}" if about_the_peer else text, coordinator=address or params["coordinator"]
        )
    except NotImplementedError as exc:
        module.fail_json(msg=str(exc))
    recovered = bool(path)
    if not outcome["manifest_verified"]:
        module.fail_json(
            msg=f"{recovery.address} serves a manifest that differs from {params['manifest']}",
            changed=recovered,
            status=RECOVERED if recovered else ALREADY,
            **outcome,
        )
    module.exit_json(
        changed=recovered,
        status=RECOVERED if recovered else ALREADY,
        coordinator=recovery.address,
        coordinator_found_by=found_by,
        api_path=path or None,
        verify_files=written,
        elapsed=round(time.monotonic() - started, 3),
        **outcome,
        msg=f"recovered {recovery.address}; manifest verified"
        if recovered
        else f"{recovery.address} was already recovered; manifest verified",
    )
