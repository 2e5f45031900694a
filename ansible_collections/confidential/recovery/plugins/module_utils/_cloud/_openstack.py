# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""The cluster's OpenStack (STACKIT) servers, found through the Compute API (Nova) with openstacksdk.

Constellation's Terraform (CLI v2.6 and later) tags every server with ``constellation-uid-<uid>`` and
``constellation-role-<role>``, and from v2.9 with ``constellation-node-group-<group>``; the servers are listed with
that uid tag as Nova's server-side filter (``GET /servers/detail?tags=``, microversion 2.26 and later), as the nodes
themselves list their peers. The role comes from the role tag, else from the ``constellation-role`` metadata key;
the address is the first fixed IPv4 address, on the cluster's own network (``<name>-<uid>``) when there is one.

Server metadata is read for the role only and never copied: clusters of CLI v2.7 to v2.16.0 keep the OpenStack
user name and password in it.

The connection follows openstack.cloud's conventions: a cloud of ``clouds.yaml`` (by name, or ``OS_CLOUD``), searched
where openstacksdk searches (the current directory, ``~/.config/openstack``, ``/etc/openstack``), or the file named by
``clouds_yaml_path`` first. The boot log is Nova's console output (``os-getConsoleOutput``).
"""

from __future__ import annotations

import importlib.util
import ipaddress
from types import SimpleNamespace

from ._discovery import DiscoveryError, Instance, require_instances, role_from

# openstacksdk is imported when an OpenStack cloud is asked (it takes about half a second): disk_uuid_lookup on the
# other clouds, and every other module, do not pay for it. Whether it is installed is known at once.
HAS_OPENSTACK = importlib.util.find_spec("openstack") is not None
OPENSTACK_IMPORT_ERROR = None if HAS_OPENSTACK else ModuleNotFoundError("No module named 'openstack'")

UID_TAG = "constellation-uid-"
ROLE_TAG = "constellation-role-"
NODE_GROUP_TAG = "constellation-node-group-"
ROLE_METADATA = "constellation-role"
CONSOLE_SOURCE = "openstack-console-output"
MAX_SERVERS = 10000  # a bound on the listing: far beyond any cluster, so a looping pager cannot hang discovery


def _sdk() -> SimpleNamespace:
    """openstacksdk's pieces this file uses; raises DiscoveryError when it is missing or broken."""
    try:
        import openstack.config
        import openstack.connection
        import openstack.exceptions
        from keystoneauth1 import exceptions as keystone_exceptions
    except ImportError as exc:
        raise DiscoveryError(f"the openstack provider needs openstacksdk (pip install openstacksdk): {exc}") from exc
    return SimpleNamespace(
        config=openstack.config,
        connection=openstack.connection,
        errors=(openstack.exceptions.SDKException, keystone_exceptions.ClientException),
    )


def explain(exc: Exception, doing: str) -> DiscoveryError:
    """An openstacksdk or keystoneauth error as a DiscoveryError that says what was done and what to check."""
    status = getattr(exc, "status_code", None) or getattr(exc, "http_status", None)
    hints = {
        401: "the credentials of clouds.yaml were refused (check auth and the project)",
        403: "the project's user may not do this (it needs the compute API's server listing and console output)",
        404: "not found (a deleted server, or the wrong region)",
    }
    hint = hints.get(status, "")
    return DiscoveryError(f"{doing} failed: {exc}{f'; {hint}' if hint else ''}")


def connect(cloud: str | None, clouds_yaml_path: str | None = None, region_name: str | None = None, timeout=60.0):
    """A Connection to the named cloud of clouds.yaml (``clouds_yaml_path`` searched first), as openstack.cloud makes
    one; every API call bounded by ``timeout``. Raises DiscoveryError when openstacksdk is missing, or the cloud cannot
    be found or is incomplete."""
    sdk = _sdk()
    files = ([clouds_yaml_path] if clouds_yaml_path else []) + list(sdk.config.loader.CONFIG_FILES)
    try:
        region = sdk.config.OpenStackConfig(config_files=files).get_one(
            cloud=cloud, region_name=region_name, api_timeout=timeout
        )
        return sdk.connection.Connection(config=region)
    except sdk.errors as exc:
        raise DiscoveryError(
            f"cannot use the OpenStack cloud {cloud or '(OS_CLOUD, or the only one of clouds.yaml)'}: {exc} "
            "(name a cloud of clouds.yaml with cloud or OS_CLOUD, or point clouds_yaml_path at the file)"
        ) from exc


def _tag_value(tags: list, prefix: str) -> str | None:
    for tag in tags:
        if isinstance(tag, str) and tag.startswith(prefix) and len(tag) > len(prefix):
            return tag[len(prefix) :]
    return None


def _fixed_ipv4(addresses, uid: str) -> str | None:
    """The first fixed IPv4 address, preferring the cluster's own network (named ``<name>-<uid>`` by Terraform)."""
    if not isinstance(addresses, dict):
        return None
    own_first = sorted(addresses, key=lambda network: not str(network).endswith(f"-{uid}"))
    for network in own_first:
        entries = addresses[network]
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, dict) or entry.get("OS-EXT-IPS:type", "fixed") != "fixed":
                continue
            try:
                address = ipaddress.ip_address(str(entry.get("addr")))
            except ValueError:
                continue
            if address.version == 4:
                return str(address)
    return None


def instance_from_server(server: dict, uid: str, where: dict) -> Instance | None:
    """One server of the listing (its JSON as Nova sends it) as an Instance, or None when it is not a node of this
    cluster (no uid tag of it, or no known role). ``where`` is the cloud and region, for the boot log. Raises only
    DiscoveryError, for a record that is not a server at all."""
    if not isinstance(server, dict):
        raise DiscoveryError(f"the Compute API listed something that is not a server: {type(server).__name__}")
    tags = server.get("tags") if isinstance(server.get("tags"), list) else []
    if f"{UID_TAG}{uid}" not in tags:
        return None
    metadata = server.get("metadata") if isinstance(server.get("metadata"), dict) else {}
    role = role_from(_tag_value(tags, ROLE_TAG)) or role_from(metadata.get(ROLE_METADATA))
    name, server_id = server.get("name"), server.get("id")
    if role is None or not isinstance(name, str) or not name or not isinstance(server_id, str) or not server_id:
        return None
    return Instance(
        name=name,
        role=role,
        private_ip=_fixed_ipv4(server.get("addresses"), uid),
        node_group=_tag_value(tags, NODE_GROUP_TAG) or "",
        status=str(server.get("status") or ""),
        cloud={"server_id": server_id, **where},
        boot_log={"source": CONSOLE_SOURCE, "server_id": server_id, **where},
    )


# What openstacksdk raises on an answer of the wrong shape (not JSON, a list where an object belongs...): a hostile or
# broken API is a DiscoveryError, never a crash of the inventory or the module.
MALFORMED = (ValueError, TypeError, KeyError, AttributeError)


def _record(server) -> dict:
    """The fields of an openstacksdk Server that discovery reads, as Nova sent them."""
    return {key: getattr(server, key, None) for key in ("id", "name", "status", "tags", "metadata", "addresses")}


def instances(conn, uid: str, where: dict) -> list[Instance]:
    """The cluster's servers: listed with the uid tag as Nova's filter, checked again here (a server that lacks the
    tag is never a node of the cluster, whatever the API answered)."""
    errors = _sdk().errors
    found = []
    try:
        for count, server in enumerate(conn.compute.servers(details=True, tags=f"{UID_TAG}{uid}")):
            if count >= MAX_SERVERS:
                raise DiscoveryError(f"the Compute API listed more than {MAX_SERVERS} servers for one uid tag")
            instance = instance_from_server(_record(server), uid, where)
            if instance is not None:
                found.append(instance)
    except errors as exc:
        raise explain(exc, f"listing the servers tagged {UID_TAG}{uid}") from exc
    except MALFORMED as exc:
        raise DiscoveryError(f"the Compute API's server list is malformed: {type(exc).__name__}: {exc}") from exc
    found.sort(key=lambda i: (i.role != "control-plane", i.name))
    return require_instances(found, uid, f"OpenStack cloud {where.get('cloud') or '(default)'}")


def console_output(boot_log: dict, timeout: float) -> str:
    """The server's console log as Nova keeps it (libvirt keeps the newest 100 KiB)."""
    server_id = boot_log.get("server_id")
    if not isinstance(server_id, str) or not server_id:
        raise DiscoveryError("the boot_log of an OpenStack server needs its server_id")
    conn = connect(boot_log.get("cloud"), boot_log.get("clouds_yaml_path"), boot_log.get("region_name"), timeout)
    try:
        answer = conn.compute.get_server_console_output(server_id)
    except _sdk().errors as exc:
        raise explain(exc, f"reading the console output of server {server_id}") from exc
    except MALFORMED as exc:
        raise DiscoveryError(f"the console output of server {server_id} is malformed: {type(exc).__name__}") from exc
    output = answer.get("output") if isinstance(answer, dict) else None
    if not isinstance(output, str):
        raise DiscoveryError(f"the console output of server {server_id} is not text")
    return output
