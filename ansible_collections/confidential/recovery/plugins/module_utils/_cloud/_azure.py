# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""The cluster's Azure scale-set VMs, found with azure-mgmt-compute and azure-mgmt-network.

The resource group's scale sets tagged ``constellation-uid`` (v2.2 and later; CLI v2.0 and v2.1 tagged ``uid`` and
named the sets ``constellation-scale-set-controlplanes-<uid>`` / ``-workers-<uid>``), their VMs with the instance
view (power state), and their NICs listed per scale set (the primary IP configuration's private address). Host
names are the computer names, which are the Kubernetes node names. 429 and 5xx answers are retried by azure-core's
RetryPolicy, which honours Retry-After.
"""

from __future__ import annotations

import datetime
import os
import re

from ._discovery import DiscoveryError, Instance, require_instances, role_from

try:
    from azure.core.credentials import AccessToken
    from azure.core.exceptions import ClientAuthenticationError, HttpResponseError
    from azure.core.pipeline.policies import SansIOHTTPPolicy
    from azure.identity import (
        AzureCliCredential,
        ClientSecretCredential,
        DefaultAzureCredential,
        ManagedIdentityCredential,
    )
    from azure.mgmt.compute import ComputeManagementClient
    from azure.mgmt.network import NetworkManagementClient

    HAS_AZURE = True
    AZURE_IMPORT_ERROR = None
except ImportError as _exc:  # pragma: no cover - exercised only without the dependency
    HAS_AZURE = False
    AZURE_IMPORT_ERROR = _exc

AUTH_SOURCES = ("auto", "cli", "env", "msi", "anonymous")
V2_0_ROLE = re.compile(r"constellation-scale-set-(controlplanes|workers)-")


class _DoubleCredential:
    """For an ARM double on loopback only: a token nobody checks."""

    @staticmethod
    def get_token(*_scopes, **_kwargs):
        return AccessToken("anonymous", int(datetime.datetime.now().timestamp()) + 3600)


def _env(*names: str) -> str | None:
    return next((os.environ[name] for name in names if os.environ.get(name)), None)


def credential(auth_source: str, base_url: str | None = None):
    if not HAS_AZURE:
        raise DiscoveryError(
            "the azure provider needs azure-identity, azure-mgmt-compute and azure-mgmt-network "
            f"(pip install azure-identity azure-mgmt-compute azure-mgmt-network): {AZURE_IMPORT_ERROR}"
        )
    if auth_source == "anonymous":
        if not base_url:
            raise DiscoveryError(
                "auth_source anonymous is only for an Azure Resource Manager double: give base_url too"
            )
        return _DoubleCredential()
    if auth_source == "env":
        client_id, secret = _env("AZURE_CLIENT_ID"), _env("AZURE_SECRET", "AZURE_CLIENT_SECRET")
        tenant = _env("AZURE_TENANT", "AZURE_TENANT_ID")
        if not (client_id and secret and tenant):
            raise DiscoveryError(
                "no Azure credentials in the environment: auth_source env needs AZURE_CLIENT_ID, "
                "AZURE_SECRET (or AZURE_CLIENT_SECRET) and AZURE_TENANT (or AZURE_TENANT_ID)"
            )
        return ClientSecretCredential(tenant, client_id, secret)
    if auth_source == "cli":
        return AzureCliCredential()
    if auth_source == "msi":
        return ManagedIdentityCredential()
    return DefaultAzureCredential()


def clients(cred, subscription: str, base_url: str | None = None):
    """(compute, network); with ``base_url`` (a double on loopback) the bearer-token policy, which refuses plain
    HTTP, gives way to one that sends nothing."""
    extra = {"base_url": base_url, "authentication_policy": SansIOHTTPPolicy()} if base_url else {}
    settings = {"retry_total": 6, **extra}
    return ComputeManagementClient(cred, subscription, **settings), NetworkManagementClient(
        cred, subscription, **settings
    )


def compute_for(locator: dict):
    """The Compute client for one scale-set VM's locator (the inventory's constellation_boot_log)."""
    base_url = locator.get("base_url")
    compute, _network = clients(
        credential(locator.get("auth_source") or "auto", base_url), locator["subscription_id"], base_url
    )
    return compute


def explain(exc, action: str) -> DiscoveryError:
    message = (str(getattr(exc, "message", "") or exc).strip().splitlines() or [""])[0]
    if isinstance(exc, ClientAuthenticationError):
        return DiscoveryError(
            f"Azure did not accept the credentials for {action}: {message}. Log in "
            "(`az login`) or set AZURE_CLIENT_ID, AZURE_SECRET and AZURE_TENANT"
        )
    status = getattr(exc, "status_code", None)
    if status == 403:
        return DiscoveryError(
            f"Azure denied {action}: {message}. The identity needs Reader on the resource group "
            "(and .../virtualMachines/retrieveBootDiagnosticsData/action for the boot logs)"
        )
    if status == 404:
        return DiscoveryError(f"Azure found nothing for {action}: {message}")
    if status == 429:
        return DiscoveryError(f"Azure kept throttling {action}: {message}")
    return DiscoveryError(f"Azure failed {action}: {message}")


def _role(scale_set, uid: str) -> str | None:
    tags = scale_set.tags or {}
    if tags.get("constellation-uid") == uid:
        return role_from(tags.get("constellation-role"))
    if tags.get("uid") == uid:  # CLI v2.0 and v2.1
        match = V2_0_ROLE.match(scale_set.name)
        return role_from({"controlplanes": "control-plane", "workers": "worker"}[match.group(1)]) if match else None
    return None


def _addresses(network, group: str, scale_set: str) -> dict[str, str]:
    """Instance ID -> the primary private IP, from one listing of the scale set's NICs."""
    found = {}
    for nic in network.network_interfaces.list_virtual_machine_scale_set_network_interfaces(group, scale_set):
        if nic.virtual_machine is None:
            continue
        instance_id = nic.virtual_machine.id.rsplit("/", 1)[-1]
        primary = [ip for ip in nic.ip_configurations or [] if ip.primary] or list(nic.ip_configurations or [])
        if primary and primary[0].private_ip_address:
            found[instance_id] = primary[0].private_ip_address
    return found


def _power(vm) -> str:
    statuses = vm.instance_view.statuses if vm.instance_view else []
    return next((s.code.split("/", 1)[1] for s in statuses or [] if s.code.startswith("PowerState/")), "")


def instances(compute, network, subscription: str, group: str, uid: str) -> list[Instance]:
    found = []
    action = f"listing the scale sets of resource group {group}"
    try:
        for scale_set in compute.virtual_machine_scale_sets.list(group):
            role = _role(scale_set, uid)
            if role is None:
                continue
            action = f"listing the VMs of scale set {scale_set.name}"
            addresses = _addresses(network, group, scale_set.name)
            for vm in compute.virtual_machine_scale_set_vms.list(group, scale_set.name, expand="instanceView"):
                name = vm.os_profile.computer_name if vm.os_profile and vm.os_profile.computer_name else vm.name
                found.append(
                    Instance(
                        name=name,
                        role=role,
                        private_ip=addresses.get(vm.instance_id),
                        status=_power(vm),
                        node_group=(scale_set.tags or {}).get("constellation-node-group", ""),
                        cloud={
                            "provider": "azure",
                            "subscription_id": subscription,
                            "resource_group": group,
                            "scale_set": scale_set.name,
                            "instance_id": vm.instance_id,
                            "vm_name": vm.name,
                        },
                        boot_log={
                            "source": "azure-boot-diagnostics",
                            "subscription_id": subscription,
                            "resource_group": group,
                            "scale_set": scale_set.name,
                            "instance_id": vm.instance_id,
                            "computer_name": name,
                        },
                    )
                )
    except (HttpResponseError, ClientAuthenticationError) as exc:
        raise explain(exc, action) from exc
    return require_instances(
        sorted(found, key=lambda i: (i.role, i.name)),
        uid,
        f"Azure resource group {group} (subscription {subscription})",
    )
