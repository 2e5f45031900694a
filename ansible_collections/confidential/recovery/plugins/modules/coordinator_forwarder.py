#!/usr/bin/python
# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0

from __future__ import annotations

DOCUMENTATION = r"""
module: coordinator_forwarder
short_description: Create or remove the port-forwarder pod of Contrast's recovery guide
version_added: 0.2.0
description:
  - For a cluster whose Contrast Coordinator has no public load balancer. Contrast's recovery guide reaches it through
    a C(port-forwarder-coordinator) pod, which relays its port 1313 to the C(coordinator) Service, because the Kata
    shim cannot port-forward into the confidential Coordinator pod. M(confidential.recovery.coordinator_recover)
    then port-forwards to that pod through the Kubernetes API.
  - With O(state=present), does nothing when the Service O(service) has a load-balancer address, or when a Ready
    forwarder pod exists (by name or by its C(app.kubernetes.io/name) label). Otherwise creates the guide's pod,
    labelled C(app.kubernetes.io/managed-by=confidential.recovery), and waits for it to be Ready within
    O(wait_timeout); a pod that does not become Ready is removed again and the module fails with its state.
  - With O(state=absent), deletes the pod O(name) only if this collection created it (its label says so).
author: confidential.recovery maintainers (@confidential-recovery)
extends_documentation_fragment:
  - confidential.recovery.attributes
  - confidential.recovery.attributes.controller
  - confidential.recovery.k8s_auth
options:
  state:
    description: Whether the forwarder pod should exist.
    type: str
    choices: [present, absent]
    default: present
  namespace:
    description: The Coordinator's namespace, where the pod goes.
    type: str
    default: default
  name:
    description: Name of the pod.
    type: str
    default: port-forwarder-coordinator
  service:
    description: The Coordinator's Service, which the pod relays to.
    type: str
    default: coordinator
  port:
    description: The Coordinator's user API port, on the pod and on the Service.
    type: int
    default: 1313
  image:
    description:
      - A socat image. Contrast's guide uses C(alpine/socat) pinned by digest; pin yours by digest, from a registry
        the cluster's nodes can pull from.
    type: str
    default: docker.io/alpine/socat:1.8.0.3
  wait_timeout:
    description: Seconds to wait for a created pod to become Ready.
    type: float
    default: 120
  timeout:
    description: Seconds for each call to the Kubernetes API.
    type: float
    default: 30
  replicas:
    description:
      - Whether to look for several Coordinators first, as M(confidential.recovery.coordinator_recover) does with its
        option of the same name. Several Coordinators need no forwarder, since that module reaches each one through
        a port-forward to its own pod.
      - V(one) creates the forwarder whenever the Service has no load-balancer address.
      - V(auto), when O(kubeconfig) or O(host) names the API, lists the pods labelled O(coordinator_selector) first,
        and creates none when there is more than one; a list that cannot be read counts as one Coordinator, as it does
        for M(confidential.recovery.coordinator_recover).
      - V(all) never creates one.
    type: str
    choices: [auto, one, all]
    default: one
  coordinator_selector:
    description: The label selector of the Coordinator's pods, for O(replicas).
    type: str
    default: app.kubernetes.io/name=coordinator
requirements:
  - kubernetes
attributes:
  check_mode:
    support: full
    details: Says whether it would create or delete the pod, and returns the manifest; creates and deletes nothing.
  diff_mode:
    support: none
seealso:
  - module: confidential.recovery.coordinator_recover
"""

EXAMPLES = r"""
- name: Make the Coordinator of a private cluster reachable (nothing happens if its Service has a load balancer)
  confidential.recovery.coordinator_forwarder:
    namespace: contrast
    image: registry.example.com/mirror/alpine-socat@sha256:0000000000000000000000000000000000000000000000000000000000000000
    kubeconfig: "{{ constellation_workspace }}/constellation-admin.conf"
  register: forwarder

- name: Remove it again, if this run created it
  confidential.recovery.coordinator_forwarder:
    state: absent
    namespace: contrast
    kubeconfig: "{{ constellation_workspace }}/constellation-admin.conf"
  when: forwarder.created
"""

RETURN = r"""
needed:
  description: With O(state=present), whether the Coordinator needs a forwarder (its Service has no load-balancer address).
  returned: O(state=present) and success
  type: bool
  sample: true
created:
  description: Whether this run created the pod (in check mode, always V(false)).
  returned: O(state=present) and success
  type: bool
  sample: true
pod:
  description: The forwarder pod used or created.
  returned: when a forwarder is needed
  type: str
  sample: port-forwarder-coordinator
manifest:
  description: The pod that would be created.
  returned: check mode, when it would create one
  type: dict
coordinators:
  description: With O(replicas=auto) or O(replicas=all), the Coordinator pods found, when there is no forwarder because of them.
  returned: when several Coordinators made the forwarder unnecessary
  type: list
  elements: str
  sample: [coordinator-0, coordinator-1, coordinator-2]
progress:
  description: The pod's states while the module waited for it.
  returned: when it created a pod
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.confidential.recovery.plugins.module_utils._backends._coordinator_forwarder import run
from ansible_collections.confidential.recovery.plugins.module_utils._kube import _client
from ansible_collections.confidential.recovery.plugins.module_utils._kube._auth import K8S_AUTH
from ansible_collections.confidential.recovery.plugins.module_utils._kube._coordinator_pods import COORDINATOR_SELECTOR
from ansible_collections.confidential.recovery.plugins.module_utils._module._options import module_arguments


def main():
    module = AnsibleModule(
        **module_arguments(
            K8S_AUTH,
            state=dict(type="str", choices=["present", "absent"], default="present"),
            namespace=dict(type="str", default="default"),
            name=dict(type="str", default="port-forwarder-coordinator"),
            service=dict(type="str", default="coordinator"),
            port=dict(type="int", default=1313),
            image=dict(type="str", default="docker.io/alpine/socat:1.8.0.3"),
            wait_timeout=dict(type="float", default=120),
            timeout=dict(type="float", default=30),
            replicas=dict(type="str", choices=["auto", "one", "all"], default="one"),
            coordinator_selector=dict(type="str", default=COORDINATOR_SELECTOR),
        ),
        supports_check_mode=True,
    )
    if not _client.HAS_KUBERNETES:
        module.fail_json(msg=missing_required_lib("kubernetes"), exception=str(_client.KUBERNETES_IMPORT_ERROR))
    run(module)


if __name__ == "__main__":
    main()
