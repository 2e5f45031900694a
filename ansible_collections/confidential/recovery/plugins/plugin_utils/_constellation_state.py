# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""What a Constellation workspace says about its cluster, in every form the CLI has written.

- ``constellation-state.yaml`` (``version: v1``, CLI v2.12 and later). Byte fields are hex strings; v2.12 wrote
  them as YAML integer lists, which upstream's reader still accepts, so this one does too.
- ``constellation-id.json`` (CLI v2.2 to v2.11): ``clusterID``, ``uid``, ``ip``, ``measurementSalt`` (Go []byte,
  so base64), ``cloudprovider``.
- ``constellation-state.json`` (CLI v2.0 to v2.1) with ``constellation-id.json`` beside it: ``uid``, ``name``,
  ``cloudprovider`` and the provider's fields (``gcpproject``, ``azureresourcegroup``, ``azuresubscription``).

The region, zone and project are not in any of them: they come from ``constellation-conf.yaml`` (``provider:``).
Clusters made with the Terraform provider have no state file; their uid and endpoint come from the inventory
options instead (see ``ClusterState.from_values``).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field

from ..module_utils._evidence._checks import raises_only

UID_PATTERN = re.compile(r"^[0-9a-z]{5,8}$")


class StateError(ValueError):
    """The workspace file is not one the CLI writes, or lacks what discovery needs; the message says which."""


@dataclass(frozen=True)
class ClusterState:
    uid: str
    cluster_endpoint: str
    source: str
    name: str = ""
    cluster_id: str = ""  # hex
    measurement_salt: str = ""  # hex
    cloud: str = ""  # aws, gcp, azure, or empty when the file does not say
    azure: dict = field(default_factory=dict)  # resource_group, subscription_id
    gcp: dict = field(default_factory=dict)  # project_id
    form: str = "state-yaml-v1"

    @classmethod
    def from_values(cls, uid: str, cluster_endpoint: str, source: str = "inventory options", **extra) -> ClusterState:
        """For a cluster without a state file (the Terraform provider's): the values the user gave."""
        state = cls(
            uid=str(uid or ""), cluster_endpoint=str(cluster_endpoint or ""), source=source, form="options", **extra
        )
        return state.checked()

    def checked(self) -> ClusterState:
        if not self.uid:
            raise StateError(
                f"{self.source}: no cluster uid (infrastructure.uid): discovery selects the instances "
                "tagged constellation-uid=<uid>"
            )
        if not UID_PATTERN.match(self.uid):
            raise StateError(
                f"{self.source}: {self.uid!r} is not a Constellation uid (5 to 8 lowercase letters or digits)"
            )
        if not self.cluster_endpoint:
            raise StateError(f"{self.source}: no cluster endpoint (infrastructure.clusterEndpoint)")
        return self


def hex_bytes(value, what: str, source: str) -> str:
    """A byte field as hex: a hex string, or the integer list CLI v2.12 wrote."""
    if value in (None, ""):
        return ""
    if isinstance(value, list):
        if not all(isinstance(item, int) and 0 <= item <= 255 for item in value):
            raise StateError(f"{source}: {what} is a list, but not of bytes")
        return bytes(value).hex()
    if isinstance(value, str):
        try:
            return bytes.fromhex(value).hex()
        except ValueError as exc:
            raise StateError(f"{source}: {what} is not hex") from exc
    raise StateError(f"{source}: {what} is neither hex nor a list of bytes")


def _go_bytes(value, what: str, source: str) -> str:
    """A Go []byte in JSON (base64) as hex; a 64-digit hex string is taken as it is."""
    if value in (None, ""):
        return ""
    if not isinstance(value, str):
        raise StateError(f"{source}: {what} is not a string")
    if re.fullmatch(r"[0-9a-fA-F]{64}", value):
        return value.lower()
    try:
        return base64.b64decode(value, validate=True).hex()
    except (binascii.Error, ValueError) as exc:
        raise StateError(f"{source}: {what} is neither hex nor base64") from exc


def from_state_yaml(doc, source: str) -> ClusterState:
    if not isinstance(doc, dict) or doc.get("version") != "v1":
        raise StateError(f"{source} is not a constellation-state.yaml (expected version: v1)")
    infrastructure, values = doc.get("infrastructure") or {}, doc.get("clusterValues") or {}
    azure, gcp = infrastructure.get("azure") or {}, infrastructure.get("gcp") or {}
    cloud = "azure" if azure.get("resourceGroup") else "gcp" if gcp.get("projectID") else ""
    return ClusterState(
        uid=str(infrastructure.get("uid") or ""),
        cluster_endpoint=str(infrastructure.get("clusterEndpoint") or ""),
        name=str(infrastructure.get("name") or ""),
        source=source,
        cloud=cloud,
        cluster_id=hex_bytes(values.get("clusterID"), "clusterValues.clusterID", source),
        measurement_salt=hex_bytes(values.get("measurementSalt"), "clusterValues.measurementSalt", source),
        azure={"resource_group": azure.get("resourceGroup"), "subscription_id": azure.get("subscriptionID")}
        if azure
        else {},
        gcp={"project_id": gcp.get("projectID")} if gcp else {},
    ).checked()


def from_id_json(doc, source: str, legacy_state=None) -> ClusterState:
    """constellation-id.json (v2.2 to v2.11), or with ``legacy_state`` the v2.0 to v2.1 pair."""
    if not isinstance(doc, dict) or not (doc.get("clusterID") or doc.get("uid")):
        raise StateError(f"{source} is not a constellation-id.json (no clusterID or uid)")
    legacy = legacy_state or {}
    cloud = str(doc.get("cloudprovider") or legacy.get("cloudprovider") or "").lower()
    state = ClusterState(
        uid=str(doc.get("uid") or legacy.get("uid") or ""),
        cluster_endpoint=str(doc.get("ip") or ""),
        name=str(legacy.get("name") or ""),
        source=source,
        cloud=cloud,
        cluster_id=_go_bytes(doc.get("clusterID"), "clusterID", source),
        measurement_salt=_go_bytes(doc.get("measurementSalt"), "measurementSalt", source),
        azure={"resource_group": legacy.get("azureresourcegroup"), "subscription_id": legacy.get("azuresubscription")}
        if legacy.get("azureresourcegroup")
        else {},
        gcp={"project_id": legacy.get("gcpproject")} if legacy.get("gcpproject") else {},
        form="state-json-v2.0" if legacy_state is not None else "id-json",
    )
    return state.checked()


@raises_only(StateError, "the workspace file")
def parse_workspace_file(text: str, source: str, legacy_state_text: str | None = None) -> ClusterState:
    """The cluster state of one workspace file's text (YAML or JSON; JSON is YAML too, so one parser reads both)."""
    import yaml  # PyYAML is a requirement of the collection; imported here so the module loads without it

    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise StateError(f"{source} is neither YAML nor JSON: {exc}") from exc
    if isinstance(doc, dict) and "version" in doc:
        return from_state_yaml(doc, source)
    legacy = None
    if legacy_state_text is not None:
        try:
            legacy = json.loads(legacy_state_text)
        except ValueError as exc:
            raise StateError(f"the constellation-state.json beside {source} is not JSON: {exc}") from exc
        if not isinstance(legacy, dict):
            raise StateError(f"the constellation-state.json beside {source} is not a JSON object")
    return from_id_json(doc, source, legacy)


def terraform_name(state: ClusterState, conf) -> str:
    """The cluster's Terraform name, ``<configured name>-<uid>``. The YAML state file's ``infrastructure.name`` is
    that already; CLI v2.0 and v2.1 kept the configured name alone, CLI v2.2 to v2.11 none (then it comes from
    constellation-conf.yaml, default ``constell``)."""
    configured = state.name or str((conf or {}).get("name") or "constell")
    return configured if configured.endswith(f"-{state.uid}") else f"{configured}-{state.uid}"


def cloud_location(conf) -> dict:
    """Where the cluster runs, from constellation-conf.yaml's ``provider:`` section: the cloud and its region,
    zone, project, subscription or resource group, as far as the file says."""
    provider = (conf or {}).get("provider") or {}
    for cloud in ("aws", "gcp", "azure"):
        section = provider.get(cloud)
        if isinstance(section, dict):
            keys = {
                "aws": ("region", "zone"),
                "gcp": ("project", "region", "zone"),
                "azure": ("subscription", "tenant", "location", "resourceGroup"),
            }[cloud]
            return {"cloud": cloud, **{key: section.get(key) for key in keys if section.get(key)}}
    return {}
