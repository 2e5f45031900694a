# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0

from __future__ import annotations

DOCUMENTATION = r"""
name: constellation
short_description: Constellation cluster nodes from the workspace and the cloud's instance list
version_added: 0.1.0
description:
  - Reads the cluster's workspace file (cluster uid, endpoint, cluster ID, measurement salt) and lists the cluster's
    instances from the provider, selected by their C(constellation-uid) tag, never by name (names changed across
    CLI versions, and upgraded clusters keep the old ones).
  - The workspace file is C(constellation-state.yaml) (CLI v2.12 and later; v2.12's integer-list byte fields are
    read too). Without it, C(constellation-id.json) (v2.2 to v2.11) and, beside it, C(constellation-state.json)
    (v2.0 to v2.1). A cluster made with the Terraform provider has none; give O(uid) and O(cluster_endpoint).
    A vault-encrypted file is read through Ansible's loader.
  - Hosts land in the groups C(constellation), C(constellation_control_plane) and C(constellation_worker), and in
    their cluster's own groups, O(cluster_group) (the cluster), O(cluster_group)C(_control_plane) and
    O(cluster_group)C(_worker). Several inventory sources, one per cluster, make a fleet that one C(recover.yml)
    run recovers, cluster by cluster in parallel; the cluster variables are set on each cluster's group, so they
    never mix.
  - Every host runs with C(ansible_connection=local), because the modules talk to the nodes from the controller.
  - Host variables C(constellation_role), C(constellation_node_group), C(constellation_instance_status),
    C(constellation_cloud) (the provider's identifiers of the instance) and C(constellation_boot_log) (where its
    serial console is read); cluster variables C(constellation_cluster_group), C(constellation_workspace),
    C(constellation_cluster_endpoint), C(constellation_cluster_id), C(constellation_measurement_salt),
    C(constellation_cluster_name), C(constellation_cluster_uid).
  - Providers are V(aws) (EC2 through boto3), V(gcp) (the Compute Engine REST API through google-auth),
    V(azure) (scale sets through azure-mgmt-compute and azure-mgmt-network), V(openstack) (OpenStack and STACKIT
    servers through openstacksdk, selected by their C(constellation-uid-<uid>) server tag), V(lab) (the lab twin's
    C(lab-cloud.json)) and V(static) (the instances listed in O(instances)).
author: confidential.recovery maintainers (@confidential-recovery)
requirements:
  - PyYAML
  - boto3 (for O(provider=aws))
  - google-auth and google-api-core (for O(provider=gcp))
  - azure-identity, azure-mgmt-compute and azure-mgmt-network (for O(provider=azure))
  - openstacksdk (for O(provider=openstack))
extends_documentation_fragment:
  - constructed
  - inventory_cache
options:
  plugin:
    description: The name of this plugin.
    type: str
    required: true
    choices: [confidential.recovery.constellation]
  provider:
    description: Where the instance list comes from.
    type: str
    required: true
    choices: [aws, azure, gcp, lab, openstack, static]
  cluster_group:
    description:
      - The name of the cluster's own group. Letters, digits and underscores.
      - By default C(constellation_cluster_) and the cluster's name (or uid), with every other character made C(_).
    type: str
  state_file:
    description:
      - Path of C(constellation-state.yaml), relative to the inventory file.
      - When it does not exist, C(constellation-id.json) in the same directory is read instead (CLI v2.0 to v2.11).
    type: str
    default: constellation-state.yaml
  config_file:
    description: Path of C(constellation-conf.yaml), relative to the inventory file; its C(provider) section says where the cluster runs.
    type: str
    default: constellation-conf.yaml
  uid:
    description: The cluster's uid, for a cluster without a workspace file (made with the Terraform provider).
    type: str
  cluster_endpoint:
    description: The cluster's endpoint, for a cluster without a workspace file.
    type: str
  region:
    description: For O(provider=aws), the region; by default C(provider.aws.region) of O(config_file).
    type: str
    env:
      - name: AWS_REGION
  access_key:
    description: For O(provider=aws), the AWS access key; by default boto3's usual chain (environment, profile, instance role).
    type: str
    env:
      - name: AWS_ACCESS_KEY_ID
      - name: AWS_ACCESS_KEY
  secret_key:
    description: For O(provider=aws), the AWS secret key.
    type: str
    env:
      - name: AWS_SECRET_ACCESS_KEY
      - name: AWS_SECRET_KEY
  session_token:
    description: For O(provider=aws), the AWS session token.
    type: str
    env:
      - name: AWS_SESSION_TOKEN
  profile:
    description: For O(provider=aws), the AWS profile; not together with O(access_key).
    type: str
    env:
      - name: AWS_PROFILE
      - name: AWS_DEFAULT_PROFILE
  endpoint_url:
    description: For O(provider=aws), the EC2 endpoint (a VPC endpoint, or a test double).
    type: str
    env:
      - name: AWS_URL
  project:
    description: For O(provider=gcp), the project; by default C(infrastructure.gcp.projectID) of the state file, else
      C(provider.gcp.project) of O(config_file).
    type: str
    env:
      - name: GCP_PROJECT
  auth_kind:
    description:
      - For O(provider=gcp), how to authenticate, as in C(google.cloud.gcp_compute).
      - V(application) uses Application Default Credentials (C(gcloud auth application-default login),
        C(GOOGLE_APPLICATION_CREDENTIALS), or the VM's service account).
      - V(serviceaccount) reads O(service_account_file).
      - V(anonymous) sends no credentials, for a Compute API double given as O(api_endpoint) (the lab twin's).
    type: str
    choices: [application, serviceaccount, anonymous]
    default: application
    env:
      - name: GCP_AUTH_KIND
  service_account_file:
    description: For O(auth_kind=serviceaccount), the service account's JSON key file.
    type: path
    env:
      - name: GCP_SERVICE_ACCOUNT_FILE
      - name: GCE_CREDENTIALS_FILE_PATH
  api_endpoint:
    description: For O(provider=gcp), the Compute API's address (a Private Service Connect endpoint, or a double).
    type: str
  subscription_id:
    description: For O(provider=azure), the subscription; by default C(infrastructure.azure.subscriptionID) of the state file.
    type: str
    env:
      - name: AZURE_SUBSCRIPTION_ID
  resource_group:
    description: For O(provider=azure), the resource group; by default C(infrastructure.azure.resourceGroup) of the state file.
    type: str
  auth_source:
    description:
      - For O(provider=azure), where the credentials come from, as in C(azure.azcollection.azure_rm).
      - V(auto) tries azure-identity's DefaultAzureCredential chain (environment, workload identity, managed identity,
        Azure CLI); V(env) reads C(AZURE_CLIENT_ID), C(AZURE_SECRET) and C(AZURE_TENANT); V(cli) the Azure CLI's login;
        V(msi) the managed identity; V(anonymous) sends no credentials, for an ARM double given as O(base_url).
    type: str
    choices: [auto, cli, env, msi, anonymous]
    default: auto
    env:
      - name: ANSIBLE_AZURE_AUTH_SOURCE
  base_url:
    description: For O(provider=azure), the Resource Manager's address (another cloud, or a double).
    type: str
  cloud:
    description:
      - For O(provider=openstack), the cloud's name in C(clouds.yaml), as in C(openstack.cloud); without it, C(OS_CLOUD),
        else the only cloud the file defines.
      - C(clouds.yaml) is searched where openstacksdk searches it (the current directory, C(~/.config/openstack),
        C(/etc/openstack)), after O(clouds_yaml_path).
    type: str
    env:
      - name: OS_CLOUD
  clouds_yaml_path:
    description: For O(provider=openstack), a C(clouds.yaml) to read first, relative to the inventory file.
    type: str
    env:
      - name: OS_CLIENT_CONFIG_FILE
  region_name:
    description: For O(provider=openstack), the region; by default the cloud's C(region_name) in C(clouds.yaml).
    type: str
    env:
      - name: OS_REGION_NAME
  lab_cloud_file:
    description: For O(provider=lab), the lab's instance list, relative to the inventory file.
    type: str
    default: lab-cloud.json
  instances:
    description:
      - For O(provider=static), the cluster's instances, each with C(name), C(private_ip) and C(role)
        (V(control-plane) or V(worker)), optionally C(serial_console) and C(cloud_log) (paths of saved boot output).
    type: list
    elements: dict
    default: []
"""

EXAMPLES = r"""
---
# aws.constellation.yml, beside constellation-state.yaml and constellation-conf.yaml (region from there)
plugin: confidential.recovery.constellation
provider: aws
# credentials: boto3's usual chain (AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, instance role)
keyed_groups:
  - key: constellation_node_group
    prefix: node_group
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/confidential-recovery-inventory

---
# stackit.constellation.yml, beside the workspace; credentials in clouds.yaml (cloud "stackit")
plugin: confidential.recovery.constellation
provider: openstack
cloud: stackit

---
# cluster.constellation.yml (the lab writes one like it)
plugin: confidential.recovery.constellation
provider: lab
state_file: constellation-state.yaml
lab_cloud_file: lab-cloud.json

---
# cluster.constellation.yml for a real cluster, instances listed by hand
plugin: confidential.recovery.constellation
provider: static
state_file: constellation-state.yaml
instances:
  - {name: mycluster-control-plane-0, private_ip: 10.9.0.5, role: control-plane}
  - {name: mycluster-control-plane-1, private_ip: 10.9.0.6, role: control-plane}
  - {name: mycluster-control-plane-2, private_ip: 10.9.0.7, role: control-plane}
"""

import dataclasses
import json
import os
import re

from ansible.errors import AnsibleParserError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

from ansible_collections.confidential.recovery.plugins.module_utils._cloud._discovery import (
    DiscoveryError,
    Instance,
    role_from,
)
from ansible_collections.confidential.recovery.plugins.plugin_utils import _constellation_state

try:
    import yaml

    HAS_YAML = True
except ImportError:  # pragma: no cover
    HAS_YAML = False

ROLE_GROUPS = {"control-plane": "constellation_control_plane", "worker": "constellation_worker"}
LEGACY_ID_FILE = "constellation-id.json"
LEGACY_STATE_FILE = "constellation-state.json"


def _with_access(instances, access):
    """The boot-log source of each instance, with how discovery reached the cloud (never a secret)."""
    for instance in instances:
        instance.boot_log.update({key: value for key, value in access.items() if value})
    return instances


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    NAME = "confidential.recovery.constellation"

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith((".constellation.yml", ".constellation.yaml"))

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        base = os.path.dirname(os.path.abspath(path))
        try:
            state, workspace = self._cluster_state(base)
            instances = self._cached_instances(path, cache, base, state)
        except (_constellation_state.StateError, DiscoveryError) as exc:
            raise AnsibleParserError(str(exc)) from exc
        self._populate(state, workspace, instances)

    # -- the workspace ----------------------------------------------------------------------------------------
    def _relative(self, base, option):
        return os.path.join(base, os.path.expanduser(self.get_option(option)))

    def _read_text(self, path):
        """The file's text, decrypted when it is vault-encrypted."""
        try:
            return to_text(self.loader._get_file_contents(path)[0])  # pylint: disable=protected-access
        except Exception as exc:  # noqa: BLE001 - the loader raises AnsibleFileNotFound, AnsibleError, OSError
            raise _constellation_state.StateError(f"cannot read {path}: {exc}") from exc

    def _cluster_state(self, base):
        if self.get_option("uid"):
            return _constellation_state.ClusterState.from_values(
                self.get_option("uid"), self.get_option("cluster_endpoint")
            ), base
        state_path = self._relative(base, "state_file")
        if os.path.exists(state_path):
            return _constellation_state.parse_workspace_file(self._read_text(state_path), state_path), os.path.dirname(
                state_path
            )
        directory = os.path.dirname(state_path)
        id_path = os.path.join(directory, LEGACY_ID_FILE)
        if not os.path.exists(id_path):
            raise _constellation_state.StateError(
                f"no Constellation workspace file: neither {state_path} nor {id_path} exists (for a cluster made with "
                "the Terraform provider, give uid and cluster_endpoint)"
            )
        legacy_path = os.path.join(directory, LEGACY_STATE_FILE)
        legacy = self._read_text(legacy_path) if os.path.exists(legacy_path) else None
        return _constellation_state.parse_workspace_file(self._read_text(id_path), id_path, legacy), directory

    def _config(self, base):
        path = self._relative(base, "config_file")
        if not os.path.exists(path):
            return {}
        if not HAS_YAML:
            raise AnsibleParserError("the constellation inventory needs PyYAML")
        try:
            return yaml.safe_load(self._read_text(path)) or {}
        except yaml.YAMLError as exc:
            raise _constellation_state.StateError(f"{path} is not YAML: {exc}") from exc

    # -- the instances ----------------------------------------------------------------------------------------
    def _cached_instances(self, path, cache, base, state):
        key = self.get_cache_key(path)
        use_cache = self.get_option("cache") and cache
        if use_cache and key in self._cache:
            return [Instance(**item) for item in self._cache[key]]
        instances = self._instances(base, state)
        if self.get_option("cache"):
            self._cache[key] = [dataclasses.asdict(instance) for instance in instances]
        return instances

    def _instances(self, base, state):
        provider = self.get_option("provider")
        cloud = {
            "aws": self._aws_instances,
            "gcp": self._gcp_instances,
            "azure": self._azure_instances,
            "openstack": self._openstack_instances,
        }.get(provider)
        if cloud:
            # Where CLI v2.0 to v2.15 clusters logged their disk UUIDs is named after the cluster.
            named = {"uid": state.uid, "log_name": _constellation_state.terraform_name(state, self._config(base))}
            return _with_access(cloud(base, state), named)
        if provider == "static":
            records = self.get_option("instances")
        else:
            records = self._lab_instances(self._relative(base, "lab_cloud_file"))
        return [self._record(record) for record in records]

    def _aws_instances(self, base, state):
        # Each provider's SDK is imported when that provider is asked: an inventory of one cloud (or the lab)
        # does not pay for the other clouds' SDKs at every ansible-playbook start.
        from ansible_collections.confidential.recovery.plugins.module_utils._cloud import _aws as _discovery_aws

        location = _constellation_state.cloud_location(self._config(base))
        region = self.get_option("region") or (location.get("region") if location.get("cloud") == "aws" else None)
        if not region:
            raise DiscoveryError(
                "the aws provider needs a region: set region (or AWS_REGION), or provider.aws.region "
                f"in {self._relative(base, 'config_file')}"
            )
        if self.get_option("profile") and self.get_option("access_key"):
            raise DiscoveryError("give either profile or access_key and secret_key, not both")
        session = _discovery_aws.session(
            self.get_option("access_key"),
            self.get_option("secret_key"),
            self.get_option("session_token"),
            self.get_option("profile"),
        )
        ec2 = _discovery_aws.client(session, "ec2", region, self.get_option("endpoint_url"))
        found = _discovery_aws.instances(ec2, state.uid, region)
        access = {"profile": self.get_option("profile"), "endpoint_url": self.get_option("endpoint_url")}
        return _with_access(found, access)

    def _gcp_instances(self, base, state):
        from ansible_collections.confidential.recovery.plugins.module_utils._cloud import _gcp as _discovery_gcp

        location = _constellation_state.cloud_location(self._config(base))
        project = (
            self.get_option("project")
            or state.gcp.get("project_id")
            or (location.get("project") if location.get("cloud") == "gcp" else None)
        )
        if not project:
            raise DiscoveryError(
                "the gcp provider needs a project: set project (or GCP_PROJECT), or keep "
                f"provider.gcp.project in {self._relative(base, 'config_file')}"
            )
        endpoint = self.get_option("api_endpoint")
        creds = _discovery_gcp.credentials(
            self.get_option("auth_kind"), self.get_option("service_account_file"), endpoint
        )
        found = _discovery_gcp.instances(_discovery_gcp.client(creds, endpoint), project, state.uid)
        access = {
            "auth_kind": self.get_option("auth_kind"),
            "service_account_file": self.get_option("service_account_file"),
            "api_endpoint": endpoint,
        }
        return _with_access(found, access)

    def _azure_instances(self, base, state):
        from ansible_collections.confidential.recovery.plugins.module_utils._cloud import _azure as _discovery_azure

        location = _constellation_state.cloud_location(self._config(base))
        from_config = location if location.get("cloud") == "azure" else {}
        subscription = (
            self.get_option("subscription_id") or state.azure.get("subscription_id") or from_config.get("subscription")
        )
        group = (
            self.get_option("resource_group") or state.azure.get("resource_group") or from_config.get("resourceGroup")
        )
        if not subscription or not group:
            raise DiscoveryError(
                "the azure provider needs a subscription and a resource group: set subscription_id "
                "(or AZURE_SUBSCRIPTION_ID) and resource_group, or keep them in constellation-state.yaml"
            )
        base_url = self.get_option("base_url")
        compute, network = _discovery_azure.clients(
            _discovery_azure.credential(self.get_option("auth_source"), base_url), subscription, base_url
        )
        found = _discovery_azure.instances(compute, network, subscription, group, state.uid)
        return _with_access(found, {"auth_source": self.get_option("auth_source"), "base_url": base_url})

    def _openstack_instances(self, base, state):
        from ansible_collections.confidential.recovery.plugins.module_utils._cloud import (
            _openstack as _discovery_openstack,
        )

        clouds_yaml = self.get_option("clouds_yaml_path")
        clouds_yaml = self._relative(base, "clouds_yaml_path") if clouds_yaml else None
        conn = _discovery_openstack.connect(self.get_option("cloud"), clouds_yaml, self.get_option("region_name"))
        where = {
            "cloud": self.get_option("cloud"),
            "clouds_yaml_path": clouds_yaml,
            "region_name": self.get_option("region_name") or conn.config.get_region_name(),
        }
        return _discovery_openstack.instances(conn, state.uid, {k: v for k, v in where.items() if v})

    @staticmethod
    def _record(record):
        role = role_from(record.get("role"))
        if role is None:
            raise AnsibleParserError(f"instance {record.get('name')!r} has unknown role {record.get('role')!r}")
        if not record.get("name") or not record.get("private_ip"):
            raise AnsibleParserError(f"every instance needs name and private_ip (got {record!r})")
        saved_logs = {key: record[key] for key in ("serial_console", "cloud_log") if record.get(key)}
        return Instance(
            name=record["name"],
            role=role,
            private_ip=record["private_ip"],
            status=record.get("status") or "",
            node_group=record.get("node_group") or "",
            saved_logs=saved_logs,
        )

    @staticmethod
    def _lab_instances(path):
        try:
            with open(path, encoding="utf-8") as handle:
                doc = json.load(handle)
        except (OSError, ValueError) as exc:
            raise AnsibleParserError(f"cannot read the lab instance list {path}: {exc}") from exc
        return doc.get("instances") or []

    # -- the inventory ----------------------------------------------------------------------------------------
    def _cluster_group(self, state, workspace):
        name = self.get_option("cluster_group") or f"constellation_cluster_{state.name or state.uid}"
        group = re.sub(r"[^A-Za-z0-9_]", "_", name)
        if not re.match(r"^[A-Za-z_]", group) or group in ("constellation", *ROLE_GROUPS.values()):
            raise AnsibleParserError(f"cluster_group {name!r} cannot name a cluster's group: choose another name")
        existing = self.inventory.groups.get(group)
        other = existing.get_vars().get("constellation_workspace") if existing else None
        if other not in (None, workspace):
            raise AnsibleParserError(
                f"the clusters of {other} and {workspace} would both be group {group}: give one "
                "of their inventory sources another cluster_group"
            )
        return group

    def _populate(self, state, workspace, instances):
        self.inventory.add_group("constellation")
        for group in ROLE_GROUPS.values():
            self.inventory.add_group(group)
            self.inventory.add_child("constellation", group)
        cluster = self._cluster_group(state, workspace)
        self.inventory.add_group(cluster)
        self.inventory.add_child("constellation", cluster)
        for role_group in ROLE_GROUPS.values():
            self.inventory.add_group(f"{cluster}{role_group[len('constellation') :]}")
            self.inventory.add_child(cluster, f"{cluster}{role_group[len('constellation') :]}")
        group_vars = {
            "constellation_cluster_group": cluster,
            "constellation_workspace": workspace,
            "constellation_cluster_endpoint": state.cluster_endpoint,
            "constellation_cluster_name": state.name,
            "constellation_cluster_uid": state.uid,
            "constellation_cluster_id": state.cluster_id,
            "constellation_measurement_salt": state.measurement_salt,
        }
        for name, value in group_vars.items():
            self.inventory.set_variable(cluster, name, value)
        strict = self.get_option("strict")
        for instance in instances:
            host = instance.name
            known = self.inventory.hosts.get(host)
            other = known.get_vars().get("constellation_cluster_group") if known else None
            if other not in (None, cluster):
                raise AnsibleParserError(
                    f"host {host} is in the clusters {other} and {cluster}: a fleet's clusters need distinct node names"
                )
            self.inventory.add_host(host, group=ROLE_GROUPS[instance.role])
            self.inventory.add_host(host, group=f"{cluster}{ROLE_GROUPS[instance.role][len('constellation') :]}")
            if instance.private_ip:
                self.inventory.set_variable(host, "ansible_host", instance.private_ip)
            else:
                self.display.warning(
                    f"{host} ({instance.role}) has no private IP yet: it is listed, but no key can reach it"
                )
            host_vars = {
                "constellation_cluster_group": cluster,
                "ansible_connection": "local",
                "constellation_role": instance.role,
                "constellation_node_group": instance.node_group,
                "constellation_instance_status": instance.status,
                "constellation_cloud": instance.cloud,
                "constellation_boot_log": instance.boot_log,
            }
            for key, path in instance.saved_logs.items():
                host_vars[f"constellation_{key}"] = path
            for name, value in host_vars.items():
                self.inventory.set_variable(host, name, value)
            variables = self.inventory.get_host(host).get_vars()
            self._set_composite_vars(self.get_option("compose"), variables, host, strict=strict)
            self._add_host_to_composed_groups(self.get_option("groups"), variables, host, strict=strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), variables, host, strict=strict)
