# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""One look at a cluster, with the collection's own readers: what the Kubernetes API says, each control-plane node's
recovery endpoint, and the Contrast Coordinator.

Nothing here sends a byte of application data to a recovery endpoint: a node is probed with an attested TLS
handshake that is dropped at once (recovery_status_info's node check), and the Coordinator is asked GetManifests,
the read-only call ``contrast verify`` makes. No secret is read: neither the master secret nor the seed share.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from ...module_utils._backends import _recovery_status_info
from ...module_utils._constellation import _quorum_loop
from ...module_utils._constellation._module import validator as constellation_validator
from ...module_utils._constellation._push import Endpoint
from ...module_utils._constellation._rpc import recovery_port
from ...module_utils._contrast._coordinator import CoordinatorError, CoordinatorRecovery
from ...module_utils._contrast._workspace import Workspace, WorkspaceError
from ...module_utils._kube._auth import KubeAuth
from ...module_utils._kube._cluster_health import ClusterUnreachable, cluster_health
from ...module_utils._net._addresses import AddressError
from ...module_utils._net._atls import AtlsError
from .._in_process import ControllerModule, ModuleExit
from ._clusters import WatchedCluster
from ._state import (
    ATTESTATION_FAILED,
    COORDINATOR_READY,
    COORDINATOR_RECOVERY_MODE,
    NOT_WAITING,
    UNREACHABLE,
    WAITING,
    Look,
)

# The push loop's verdicts on a probe, as the watch names them (the others: it cannot tell, so unreachable).
PROBE_STATES = {
    _quorum_loop.WAITING: WAITING,
    _quorum_loop.REFUSED: NOT_WAITING,
    _quorum_loop.HOSTILE: ATTESTATION_FAILED,
}

COORDINATOR_DEFAULTS = {
    "coordinator_policy_hash": None,
    "attestation_collateral_dir": None,
    "attestation_collateral_download": False,
    "attestation_kds_url": "https://kdsintf.amd.com",
    "attestation_pccs_url": None,
}


class WatchSetupError(Exception):
    """A cluster's attestation or Coordinator settings cannot be used; the message says why."""


def _module_exit_message(done: ModuleExit) -> str:
    return str(done.result.get("msg") or done.result)


class ClusterEyes:
    """The readers of one cluster, set up once: the validators are built from the reference values at the start, so
    a missing or broken one stops the watch before its first look (fail closed), not at 3 a.m."""

    def __init__(self, cluster: WatchedCluster, timeout: float):
        self.cluster = cluster
        self.timeout = timeout
        args = dict(cluster.attestation, check="node", endpoint=cluster.nodes[0].address, timeout=timeout)
        try:
            module = ControllerModule(_recovery_status_info.ARGUMENTS, args, check_mode=True)
            self.validator = constellation_validator(module)
            self.port = recovery_port(cluster.port, "auto")
        except ModuleExit as done:
            raise WatchSetupError(f"cluster {cluster.name}: {_module_exit_message(done)}") from None
        except AddressError as exc:
            raise WatchSetupError(f"cluster {cluster.name}: {exc}") from exc
        self.warnings = list(module.warnings)
        self.auth = KubeAuth(kubeconfig=cluster.kubeconfig)
        self.coordinator = self._coordinator_reader() if cluster.coordinator else None

    def _coordinator_reader(self) -> CoordinatorRecovery:
        options = dict(COORDINATOR_DEFAULTS, **self.cluster.coordinator, timeout=self.timeout)
        workspace = Workspace(f"{options['workspace_dir']}/manifest.json")  # the manifest only: no seed, no key
        try:
            workspace.manifest()
            return CoordinatorRecovery(options, workspace, _anchor(options.get("attestation_trust_anchor")))
        except (WorkspaceError, AddressError, NotImplementedError, OSError) as exc:
            raise WatchSetupError(f"cluster {self.cluster.name}: the Coordinator cannot be watched: {exc}") from exc

    def look(self) -> Look:
        """The API, every node and the Coordinator, asked at the same time; each answer bounded by the timeout."""
        nodes = self.cluster.nodes
        with ThreadPoolExecutor(max_workers=min(32, len(nodes)) + 2) as pool:
            api = pool.submit(self._api)
            coordinator = pool.submit(self._coordinator) if self.coordinator else None
            answers = list(pool.map(self._node, nodes))
            api_view = api.result()
            coordinator_state, coordinator_detail = coordinator.result() if coordinator else (None, "")
        return Look(
            api=api_view,
            nodes={node.name: answer[0] for node, answer in zip(nodes, answers, strict=True)},
            node_details={node.name: answer[1] for node, answer in zip(nodes, answers, strict=True)},
            coordinator=coordinator_state,
            coordinator_detail=coordinator_detail,
        )

    def _api(self) -> dict:
        try:
            return cluster_health(self.auth, self.timeout)
        except ClusterUnreachable as exc:
            return {"quorum": False, "api_reachable": False, "etcd_readyz": f"Kubernetes API unreachable: {exc}"}
        except Exception as exc:  # noqa: BLE001 - a broken answer costs this look, never the watch
            return {"quorum": False, "api_reachable": False, "etcd_readyz": f"{type(exc).__name__}: {exc}"}

    def _node(self, node) -> tuple[str, str]:
        """The push loop's probe, judged by the same rule: only an attested handshake counts as waiting."""
        try:
            result, conn = Endpoint(node.address, self.port, self.validator, self.timeout).attest()
        except Exception as exc:  # noqa: BLE001 - one hostile node costs only its own answer
            return UNREACHABLE, f"{type(exc).__name__}: {exc}"
        if conn is not None:
            conn.close()
        return PROBE_STATES.get(result.state, UNREACHABLE), result.detail

    def _coordinator(self) -> tuple[str, str]:
        try:
            state = self.coordinator.probe()
        except (CoordinatorError, AtlsError) as exc:
            return "unreachable" if isinstance(exc, AtlsError) else "error", str(exc)
        except Exception as exc:  # noqa: BLE001 - as for a node
            return "error", f"{type(exc).__name__}: {exc}"
        if state == "stale":
            return COORDINATOR_RECOVERY_MODE, f"{self.coordinator.address} is in recovery mode"
        return COORDINATOR_READY, f"{self.coordinator.address} serves its manifest"


def _anchor(path) -> bytes | None:
    if not path:
        return None
    with open(path, "rb") as handle:
        return handle.read()
