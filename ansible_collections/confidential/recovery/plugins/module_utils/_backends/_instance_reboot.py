# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""Backend of the instance_reboot module: reboot a drill's named control-plane instances through their cloud's API.

- GCP: ``instances.reset`` (Compute Engine REST), waiting for the zone operation;
- AWS: ``ec2:RebootInstances`` (boto3);
- Azure: the scale-set VM's ``restart`` (azure-mgmt-compute), waiting for the long-running operation.

Each instance is named by its locator, the inventory's ``constellation_boot_log`` host variable: it holds the
instance's identifiers and how to reach its API, never a secret. The run refuses before any call unless the
confirmation is the cluster's name, every instance is a control-plane one, and a check-mode run wrote a plan that
names exactly these instances, recently.
"""

from __future__ import annotations

import datetime
from concurrent.futures import ThreadPoolExecutor

from .._cloud import _aws as _discovery_aws
from .._cloud import _azure as _discovery_azure
from .._cloud import _gcp as _discovery_gcp
from .._cloud._discovery import CONTROL_PLANE, DiscoveryError
from .._drill import _reboot_plan


class RebootRefused(Exception):
    """Nothing was rebooted; the message says why."""


def _gcp(locator: dict, timeout: float) -> str:
    where = f"{locator['project']}/{locator['zone']}/{locator['instance']}"
    try:
        operation = _discovery_gcp.client_for(locator, _discovery_gcp.WRITE_SCOPES).reset(
            locator["project"], locator["zone"], locator["instance"], timeout
        )
    except _discovery_gcp.api_exceptions.GoogleAPICallError as exc:
        raise _discovery_gcp.explain(exc, locator["project"], f"resetting {where}", "compute.instances.reset") from exc
    return f"GCP instances.reset of {where} ({operation.get('name')})"


def _aws(locator: dict, timeout: float) -> str:
    session = _discovery_aws.session(profile=locator.get("profile"))
    ec2 = _discovery_aws.client(session, "ec2", locator["region"], locator.get("endpoint_url"), timeout=timeout)
    try:
        ec2.reboot_instances(InstanceIds=[locator["instance_id"]])
    except (_discovery_aws.botocore.exceptions.BotoCoreError, _discovery_aws.botocore.exceptions.ClientError) as exc:
        raise _discovery_aws.explain(exc, "ec2:RebootInstances", locator["region"]) from exc
    return f"EC2 RebootInstances of {locator['instance_id']} in {locator['region']}"


def _azure(locator: dict, timeout: float) -> str:
    where = f"{locator['scale_set']}/{locator['instance_id']}"
    try:
        _discovery_azure.compute_for(locator).virtual_machine_scale_set_vms.begin_restart(
            locator["resource_group"], locator["scale_set"], locator["instance_id"]
        ).result(timeout=timeout)
    except (_discovery_azure.HttpResponseError, _discovery_azure.ClientAuthenticationError) as exc:
        raise _discovery_azure.explain(exc, f"restarting the scale-set VM {where}") from exc
    return f"Azure restart of scale-set VM {where}"


REBOOTERS = {"gcp-serial-port": _gcp, "aws-console-output": _aws, "azure-boot-diagnostics": _azure}


def refusal(targets: list[dict], cluster: str) -> str | None:
    """Why these targets may not be rebooted at all (checked in check mode too), or None."""
    if not targets:
        return "the scenario names no instance to reboot"
    names = [t["name"] for t in targets]
    if len(set(names)) != len(names):
        return f"an instance is named twice: {', '.join(names)}"
    others = [f"{t['name']} ({t.get('role') or 'no role'})" for t in targets if t.get("role") != CONTROL_PLANE]
    if others:
        return f"a drill reboots control-plane instances only; not {', '.join(others)}"
    unknown = [t["name"] for t in targets if (t.get("locator") or {}).get("source") not in REBOOTERS]
    if unknown:
        return (
            f"no cloud API is known for {', '.join(unknown)} (their constellation_boot_log has no source of "
            f"{', '.join(sorted(REBOOTERS))}): is the inventory's provider lab or static?"
        )
    if not cluster:
        return "the cluster has no name in the inventory (constellation_cluster_name)"
    return None


def reboot_one(target: dict, timeout: float) -> dict:
    locator = target["locator"]
    try:
        how = REBOOTERS[locator["source"]](locator, timeout)
    except DiscoveryError as exc:
        return {"name": target["name"], "rebooted": False, "error": str(exc)}
    return {"name": target["name"], "rebooted": True, "how": how}


def reboot(
    targets: list[dict],
    cluster: str,
    confirm: str | None,
    plan_file: str,
    max_age: float,
    timeout: float,
    check_mode: bool,
    now: datetime.datetime,
) -> dict:
    why = refusal(targets, cluster)
    if why:
        raise RebootRefused(f"nothing was rebooted: {why}")
    if check_mode:
        plan = _reboot_plan.new_plan(cluster, targets, now)
        _reboot_plan.write(plan_file, plan)
        return {"planned": plan, "rebooted": [], "plan_file": plan_file}
    if confirm != cluster:
        raise RebootRefused(
            f"nothing was rebooted: rebooting instances of {cluster!r} needs drill_confirm set to the "
            f"cluster's name, {cluster!r} (got {confirm!r})"
            if confirm
            else f"nothing was rebooted: set drill_confirm to the cluster's name ({cluster!r}) to reboot "
            f"{', '.join(t['name'] for t in targets)}"
        )
    try:
        plan = _reboot_plan.checked(plan_file, cluster, targets, now, max_age)
    except _reboot_plan.PlanError as exc:
        raise RebootRefused(str(exc)) from exc
    _reboot_plan.mark_used(plan_file, plan, now)  # before the calls: a failed run must not be retried on the same plan
    with ThreadPoolExecutor(max_workers=min(len(targets), 8)) as pool:
        outcomes = list(pool.map(lambda target: reboot_one(target, timeout), targets))
    return {"planned": plan, "rebooted": outcomes, "plan_file": plan_file}


def run(module) -> None:
    params = module.params
    targets = [dict(t) for t in params["instances"]]
    try:
        outcome = reboot(
            targets,
            params["cluster_name"],
            params["confirm"],
            params["plan_file"],
            params["plan_max_age"],
            params["timeout"],
            module.check_mode,
            datetime.datetime.now(datetime.UTC),
        )
    except RebootRefused as exc:
        module.fail_json(msg=str(exc))
    failed = [o for o in outcome["rebooted"] if not o["rebooted"]]
    if failed:
        module.fail_json(
            msg="; ".join(f"{o['name']}: {o['error']}" for o in failed), changed=len(failed) < len(targets), **outcome
        )
    module.exit_json(changed=True, **outcome)
