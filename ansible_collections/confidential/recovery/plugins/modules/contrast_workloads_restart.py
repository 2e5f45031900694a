#!/usr/bin/python
# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0

from __future__ import annotations

DOCUMENTATION = r"""
module: contrast_workloads_restart
short_description: Restart the Contrast mesh workloads after a Coordinator recovery
version_added: 0.1.0
description:
  - A user recovery gives the Coordinator a new mesh CA, so every mesh workload must get new certificates.
  - Selects pods whose runtime class starts with C(contrast-cc) or that have the C(contrast-initializer) init
    container; skips the Coordinator, C(port-forwarder-*) pods and the node installer.
  - Restarts their Deployments, StatefulSets and DaemonSets as C(kubectl rollout restart) does, deletes bare pods,
    and waits (bounded) until the rollouts are complete.
author: confidential.recovery maintainers (@confidential-recovery)
extends_documentation_fragment:
  - confidential.recovery.attributes
  - confidential.recovery.attributes.controller
  - confidential.recovery.k8s_auth
options:
  namespaces:
    description: Namespaces to look in. All namespaces when empty.
    type: list
    elements: str
    default: []
  only_if_mesh_ca_changed:
    description: Restart only when this is true (pass C(mesh_ca_changed) of M(confidential.recovery.coordinator_recover)).
    type: bool
    default: true
  wait:
    description: Wait until every restarted workload has rolled out.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for the rollouts.
    type: int
    default: 300
requirements:
  - kubernetes
attributes:
  check_mode:
    support: full
    details: Lists the workloads it would restart; patches and deletes nothing.
  diff_mode:
    support: none
seealso:
  - module: confidential.recovery.coordinator_recover
"""

EXAMPLES = r"""
- name: Restart the mesh workloads
  confidential.recovery.contrast_workloads_restart:
    kubeconfig: "{{ constellation_workspace }}/constellation-admin.conf"
    only_if_mesh_ca_changed: "{{ coordinator.mesh_ca_changed }}"
"""

RETURN = r"""
restarted:
  description: Workloads restarted (in check mode, those that would be).
  returned: always
  type: list
  elements: dict
  contains:
    kind:
      description: V(Deployment), V(StatefulSet) or V(DaemonSet).
      type: str
    namespace:
      description: Namespace of the workload.
      type: str
    name:
      description: Name of the workload.
      type: str
  sample: [{kind: Deployment, namespace: contrast-demo, name: web}, {kind: StatefulSet, namespace: contrast-demo, name: db}]
deleted_pods:
  description: Bare mesh pods (no owner to restart them) deleted, so that they come back with the new mesh CA.
  returned: always
  type: list
  elements: dict
  contains:
    kind:
      description: Always V(Pod).
      type: str
    namespace:
      description: Namespace of the pod.
      type: str
    name:
      description: Name of the pod.
      type: str
  sample: [{kind: Pod, namespace: contrast-demo, name: debug-shell}]
left_alone:
  description:
    - Mesh pods' owners left alone (the Coordinator, port-forwarders, the node installer), with the reason.
    - Not called C(skipped), which Ansible reads as "the task was skipped".
  returned: always
  type: list
  elements: dict
  contains:
    kind:
      description: Kind of the owner.
      type: str
    namespace:
      description: Namespace of the owner.
      type: str
    name:
      description: Name of the owner.
      type: str
    reason:
      description: Why it was not restarted.
      type: str
  sample: [{kind: StatefulSet, namespace: contrast-demo, name: coordinator, reason: the Coordinator}]
ready:
  description:
    - Every workload this call restarted is known to have rolled out within O(wait_timeout).
    - True when nothing was restarted (check mode included); false after a restart with O(wait=false).
  returned: always
  type: bool
  sample: true
waited_seconds:
  description: Seconds spent waiting for the rollouts.
  returned: when the mesh CA changed
  type: float
  sample: 4.02
not_ready:
  description: Restarted workloads that had not rolled out when the wait ended.
  returned: when the module waited
  type: list
  elements: dict
  sample: []
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.confidential.recovery.plugins.module_utils._contrast._workloads import restart_workloads
from ansible_collections.confidential.recovery.plugins.module_utils._kube import _client, _cluster_health
from ansible_collections.confidential.recovery.plugins.module_utils._kube._auth import K8S_AUTH, KubeAuth
from ansible_collections.confidential.recovery.plugins.module_utils._module._options import module_arguments


def main():
    module = AnsibleModule(
        **module_arguments(
            K8S_AUTH,
            namespaces=dict(type="list", elements="str", default=[]),
            only_if_mesh_ca_changed=dict(type="bool", default=True),
            wait=dict(type="bool", default=True),
            wait_timeout=dict(type="int", default=300),
        ),
        supports_check_mode=True,
    )
    if not _client.HAS_KUBERNETES:
        module.fail_json(msg=missing_required_lib("kubernetes"), exception=str(_client.KUBERNETES_IMPORT_ERROR))
    if not module.params["only_if_mesh_ca_changed"]:
        module.exit_json(
            changed=False,
            restarted=[],
            deleted_pods=[],
            left_alone=[],
            ready=True,
            msg="the mesh CA did not change: nothing to restart",
        )
    try:
        auth = KubeAuth.from_params(module.params)
        api = _cluster_health.api_client(auth, 30)
        _cluster_health.warned(module, [c for c in (_cluster_health.unverified_api(auth, api.configuration),) if c])
        result = restart_workloads(
            api,
            module.params["namespaces"],
            module.params["wait"],
            module.params["wait_timeout"],
            module.check_mode,
            module.warn,
        )
    except _cluster_health.ClusterUnreachable as exc:
        module.fail_json(msg=str(exc))
    except _client.api_exception() as exc:
        module.fail_json(msg=f"restarting the mesh workloads failed: {_cluster_health.describe_api_error(exc)}")
    except Exception as exc:  # noqa: BLE001 - ApiException and urllib3 errors: report, do not trace
        module.fail_json(msg=f"restarting the mesh workloads failed: {exc.__class__.__name__}: {exc}")
    changed = bool(result["restarted"] or result["deleted_pods"])
    if module.params["wait"] and not result["ready"]:
        module.fail_json(
            msg=f"workloads did not roll out within {module.params['wait_timeout']} s", changed=changed, **result
        )
    module.exit_json(changed=changed, **result)


if __name__ == "__main__":
    main()
