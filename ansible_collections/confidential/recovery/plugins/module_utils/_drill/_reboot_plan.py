# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""The reviewed plan of a drill on a real cluster: which instances it will reboot, written by a check-mode run and
required, unchanged and recent, by the run that reboots. One plan allows one reboot run."""

from __future__ import annotations

import datetime
import hashlib
import json
import os

from .._files import write_atomically

# Schema 2 added the API each instance is reached through; a schema-1 plan does not say which API it was made against.
PLAN_SCHEMA = 2
# The locator fields that name one instance; credentials may differ between the two runs.
IDENTITY_KEYS = (
    "source",
    "project",
    "zone",
    "instance",
    "region",
    "instance_id",
    "subscription_id",
    "resource_group",
    "scale_set",
)
# Where the instance's API is: a plan made against a double (or another AWS profile) with the same names must not
# authorise the real cloud. Absent means the cloud's public API.
API_KEYS = ("api_endpoint", "endpoint_url", "base_url", "profile")


class PlanError(Exception):
    """The reboot run has no valid plan; the message says how to make one."""


def identity(target: dict) -> dict:
    locator = target.get("locator") or {}
    return {
        "name": target["name"],
        **{key: locator[key] for key in IDENTITY_KEYS if locator.get(key)},
        "api": {key: locator[key] for key in API_KEYS if locator.get(key)},
    }


def fingerprint(cluster: str, targets: list[dict]) -> str:
    canonical = json.dumps(
        {"cluster": cluster, "instances": sorted((identity(t) for t in targets), key=lambda i: i["name"])},
        sort_keys=True,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def new_plan(cluster: str, targets: list[dict], now: datetime.datetime) -> dict:
    return {
        "schema": PLAN_SCHEMA,
        "cluster": cluster,
        "planned_at": now.isoformat(timespec="seconds"),
        "instances": [identity(t) for t in targets],
        "fingerprint": fingerprint(cluster, targets),
    }


def write(path: str, plan: dict) -> None:
    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, exist_ok=True)
    write_atomically(path, json.dumps(plan, indent=2))


def _where(instance: dict) -> str:
    api = instance.get("api")
    through = ", ".join(f"{k}={v}" for k, v in sorted(api.items())) if isinstance(api, dict) and api else "public API"
    return f"{instance.get('name', '?')} ({through})"


def _rerun(path: str) -> str:
    return f"run the drill in check mode first (--check): it writes the plan to {path} for you to review"


def checked(path: str, cluster: str, targets: list[dict], now: datetime.datetime, max_age: float) -> dict:
    """The plan at ``path``, when it names exactly these instances of this cluster and is at most ``max_age`` old."""
    try:
        with open(path, encoding="utf-8") as handle:
            plan = json.load(handle)
    except FileNotFoundError:
        raise PlanError(f"no reviewed plan at {path}: {_rerun(path)}") from None
    except (OSError, ValueError) as exc:
        raise PlanError(f"cannot read the plan {path} ({exc}): {_rerun(path)}") from exc
    if not isinstance(plan, dict) or plan.get("schema") != PLAN_SCHEMA:
        raise PlanError(f"{path} is not a drill plan of schema {PLAN_SCHEMA}: {_rerun(path)}")
    if plan.get("used_at"):
        raise PlanError(
            f"the plan {path} was used by the drill at {plan['used_at']}; each reboot run needs a fresh "
            f"one: {_rerun(path)}"
        )
    if plan.get("cluster") != cluster or plan.get("fingerprint") != fingerprint(cluster, targets):
        planned = ", ".join(_where(i) for i in plan.get("instances") or [] if isinstance(i, dict))
        asked = ", ".join(_where(identity(t)) for t in targets)
        raise PlanError(
            f"the plan {path} is for cluster {plan.get('cluster')!r}, instances {planned or 'none'}; this "
            f"run would reboot {asked} of {cluster!r}. Nothing was rebooted: {_rerun(path)}"
        )
    try:
        planned_at = datetime.datetime.fromisoformat(plan["planned_at"])
    except (KeyError, TypeError, ValueError) as exc:
        raise PlanError(f"the plan {path} has no valid planned_at: {_rerun(path)}") from exc
    age = (now - planned_at).total_seconds()
    if age > max_age or age < -60:
        raise PlanError(
            f"the plan {path} was made at {plan['planned_at']}, {age:.0f} s ago, more than the "
            f"{max_age:.0f} s it stays valid: {_rerun(path)}"
        )
    return plan


def mark_used(path: str, plan: dict, now: datetime.datetime) -> None:
    write(path, dict(plan, used_at=now.isoformat(timespec="seconds")))
