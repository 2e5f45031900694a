# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""Backend of the coordinator_recover module: probe, recover, verify, write verify/."""

from __future__ import annotations

import time

from .._contrast._coordinator import (
    ALREADY,
    DEFAULT_PORT,
    RECOVERED,
    WOULD_RECOVER,
    CoordinatorError,
    CoordinatorRecovery,
)
from .._contrast._module import require_libraries
from .._contrast._workspace import Workspace, WorkspaceError
from .._kube._auth import KubeAuth
from .._kube._cluster_health import ClusterUnreachable, api_client
from .._kube._coordinator_service import NoLoadBalancer, ServiceLookupError, find_coordinator
from .._kube._port_forward import FORWARDER_NAME, PortForwardError, Tunnel, dialer, find_forwarder
from .._module._common import read_option_file
from .._net._addresses import AddressError
from .._net._atls import AtlsError
from .._net._grpc_h2 import GrpcError
from ._coordinator_set import find_set, run_set


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
