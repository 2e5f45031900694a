# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The ways to bring a rebooted control plane back that the benchmark compares, each timed by the same watch.

- ``limit``: one process, no Ansible, an attested push to every waiting node in parallel threads at t=0; the
  lab's physical floor (etcd start, node unlock, the readiness the API face reports).
- ``upstream-gcp`` / ``upstream-azure``: the upstream ``constellation recover`` loop (upstream_cli.py) through the
  lab's load balancer, with the health-probe profile and CLI retry interval of that cloud (PROFILES).
- ``ours-<stop_at>``: ``recover.yml`` as a user runs it (ansible-playbook, inventory discovery through the lab's
  Compute API double, attestation, report), with that ``constellation_recover_stop_at``.
"""

from __future__ import annotations

import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "collections"))
sys.path.insert(0, str(REPO / "tests" / "system"))

import phases  # noqa: E402
import upstream_cli  # noqa: E402
from labdriver import Lab, conflab  # noqa: E402
from quorum_watch import QuorumWatch  # noqa: E402

from ansible_collections.confidential.recovery.plugins.module_utils._constellation._keys import MasterSecret  # noqa: E402
from ansible_collections.confidential.recovery.plugins.module_utils._constellation._push import Endpoint, push_detecting
from ansible_collections.confidential.recovery.plugins.module_utils._constellation._validators import (
    ConstellationDummyValidator,
)


@dataclass(frozen=True)
class LoadBalancerProfile:
    probe_interval: float
    unhealthy_threshold: int
    cli_interval: float
    source: str


# Where each figure comes from: the upstream CLI's retry interval is 5 s, 20 s on Azure (Constellation CLI,
# cmd/recover.go); upstream set Azure's probe interval to 5 s (its maximum then; Constellation PR #158), and an
# Azure load balancer takes a backend out after 2 failed probes in a row (Azure Load Balancer health probes,
# probeThreshold default); a GCP TCP health check probes every 1 s in Constellation's setup and drops a backend at once.
# Both are layer-4 load balancers: a connection goes to one backend, chosen from the pool as the last probes left it.
PROFILES = {
    "gcp": LoadBalancerProfile(1.0, 1, 5.0, "GCP: probe every 1 s, out after 1 failure; CLI retries every 5 s"),
    "azure": LoadBalancerProfile(5.0, 2, 20.0, "Azure: probe every 5 s, out after 2 failures; CLI retries every 20 s"),
}
OURS = ("all", "quorum_then_all", "quorum")
READY_TIMEOUT = 300.0


def _waiting_nodes(lab: Lab) -> list[dict]:
    return [n for n in lab.status()["nodes"] if n["role"] == "control-plane" and n["state"] == "waiting"]


def set_profile(lab: Lab, name: str) -> None:
    profile = PROFILES[name]
    res = conflab(
        "lb",
        "--dir",
        str(lab.directory),
        "--probe-interval",
        str(profile.probe_interval),
        "--unhealthy-threshold",
        str(profile.unhealthy_threshold),
        "--one-backend",
    )
    assert res.returncode == 0, res.stderr
    time.sleep(max(1.5, profile.probe_interval + 0.5))  # the new pool's first probe round


def _push_to(ip: str, master: MasterSecret) -> str:
    endpoint = Endpoint(ip, 9999, ConstellationDummyValidator(), 30)
    used, _uuid = push_detecting(endpoint, "unary", master, None)
    return used


def run_limit(lab: Lab) -> dict:
    return run_limit_on([lab])[0]


def run_limit_on(labs: list[Lab]) -> list[dict]:
    """The limit over several labs at once (a fleet's floor): every waiting node of every lab pushed at t=0."""
    targets = []
    for lab in labs:
        master = MasterSecret.from_file(str(lab.directory / "constellation-mastersecret.json"))
        targets.append([(node["ip"], master) for node in _waiting_nodes(lab)])
    watches = [QuorumWatch(lab.directory).start() for lab in labs]
    pushes = [target for lab_targets in targets for target in lab_targets]
    with ThreadPoolExecutor(max_workers=len(pushes)) as pool:
        list(pool.map(lambda target: _push_to(*target), pushes))
    for watch in watches:
        watch.wait_all_ready(READY_TIMEOUT)
        watch.stop()
    return [dict(watch.figures(), keys_pushed=len(t)) for watch, t in zip(watches, targets, strict=True)]


def run_upstream(lab: Lab, profile: str) -> dict:
    watch = QuorumWatch(lab.directory).start()
    result = upstream_cli.recover(lab.directory, interval=PROFILES[profile].cli_interval)
    watch.wait_all_ready(READY_TIMEOUT)
    watch.stop()
    return dict(watch.figures(), keys_pushed=result["pushed"], tool_seconds=round(result["seconds"], 2))


def run_ours(lab: Lab, stop_at: str, collections: Path | None = None) -> dict:
    watch = QuorumWatch(lab.directory).start()
    run = phases.timed_run(
        lab, "-e", f"constellation_recover_stop_at={stop_at}", "-e", "recover_contrast=false", "-e",
        "contrast_recover_coordinator=", collections=collections,
    )  # fmt: skip
    watch.wait_all_ready(READY_TIMEOUT)
    watch.stop()
    if run.rc != 0:
        raise RuntimeError(f"recover.yml failed for stop_at={stop_at}:\n{run.output[-3000:]}")
    return dict(
        watch.figures(),
        keys_pushed=run.report["constellation"]["keys_pushed"],
        tool_seconds=run.tool_seconds,
        split=run.split,
    )


def run_strategy(lab: Lab, strategy: str, collections: Path | None = None) -> dict:
    """One run of ``strategy``; ``collections`` (an installed collection's directory) for ours, else this checkout's."""
    if strategy == "limit":
        return run_limit(lab)
    if strategy.startswith("upstream-"):
        profile = strategy.split("-", 1)[1]
        set_profile(lab, profile)
        try:
            return run_upstream(lab, profile)
        finally:
            set_profile(lab, "gcp")
    return run_ours(lab, strategy.split("-", 1)[1], collections)


STRATEGIES = ("limit", "upstream-gcp", "upstream-azure", *(f"ours-{stop_at}" for stop_at in OURS))
