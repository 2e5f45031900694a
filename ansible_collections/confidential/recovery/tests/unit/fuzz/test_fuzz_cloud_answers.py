# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The cloud APIs' answers, mutated: the Compute Engine instance list, serial console and zone operation each give a
result or a DiscoveryError / google-api-core error, and an instance's shielded identity a key or a GceError, never
anything else. A Nova server record gives an instance, None (not this cluster's node) or a DiscoveryError, and never
carries the metadata's credentials into the inventory. The Kubernetes API's Service of the Contrast Coordinator gives an address or a ServiceLookupError;
its pod list gives Coordinator pods of the right types, never an exception."""

from __future__ import annotations

import pytest
from gce_answers import NODE, compute
from hypothesis import given
from mutations import mutated_json, mutated_json_bytes, only

from ansible_collections.confidential.recovery.plugins.module_utils._cloud import _gcp, _openstack
from ansible_collections.confidential.recovery.plugins.module_utils._cloud._boot_log import _serial_page
from ansible_collections.confidential.recovery.plugins.module_utils._cloud._discovery import DiscoveryError
from ansible_collections.confidential.recovery.plugins.module_utils._constellation import _gce
from ansible_collections.confidential.recovery.plugins.module_utils._kube import (
    _coordinator_pods,
    _coordinator_service,
    _forwarder_pod,
    _port_forward,
)

LIST = {"items": {"zones/europe-west3-b": {"instances": [NODE, dict(NODE, name="cp-1")]}}, "nextPageToken": ""}
SERIAL = {"contents": "Disk UUID: 2f6a52b6-4bb8-4bd8-9ff1-1cbd4c1c6b7e", "start": "0", "next": "48"}
OPERATION = {"name": "op-1", "status": "DONE", "error": {"errors": []}}
IDENTITY = {
    "kind": "compute#shieldedInstanceIdentity",
    "signingKey": {
        "ekPub": "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE"
        + "A" * 86
        + "==\n-----END PUBLIC KEY-----\n"
    },
    "encryptionKey": {"ekPub": "", "ekCert": ""},
}


@given(mutated_json_bytes(LIST))
def test_gcp_instance_list(body):
    only(DiscoveryError, _gcp.instances, compute((200, body)), "p", "uid", retry_seconds=1)


NOVA_SERVER = {
    "id": "0b0c0d0e-1111-2222-3333-444455556666",
    "name": "constell-1a2b3c4d-control-plane-9f8e7d6c-0",
    "status": "ACTIVE",
    "tags": [
        "constellation-node-group-control_plane_default",
        "constellation-role-control-plane",
        "constellation-uid-1a2b3c4d",
    ],
    "metadata": {"constellation-role": "control-plane", "openstack-password": "never-copied"},
    "addresses": {"constell-1a2b3c4d": [{"addr": "192.168.178.10", "version": 4, "OS-EXT-IPS:type": "fixed"}]},
}


@given(mutated_json(NOVA_SERVER))
def test_openstack_server_record(server):
    instance = only(DiscoveryError, _openstack.instance_from_server, server, "1a2b3c4d", {"cloud": "stackit"})
    if instance is not None:
        assert instance.role in ("control-plane", "worker") and "never-copied" not in repr(instance)


@given(mutated_json(SERIAL))
def test_gcp_serial_console_page(answer):
    if isinstance(answer, dict):
        only(DiscoveryError, _serial_page, answer, "p/z/i")


@given(mutated_json_bytes(OPERATION))
def test_gcp_reset_operation(body):
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_gcp.time, "sleep", lambda seconds: None)  # an operation that never ends polls until 10 ms pass
        only((DiscoveryError, _gcp.api_exceptions.GoogleAPICallError), compute((200, body)).reset, "p", "z", "i", 0.01)


@given(mutated_json(IDENTITY))
def test_gce_shielded_instance_identity(answer):
    only(_gce.GceError, _gce.key_from_identity, answer, _gce.GceInstance("p", "z", "i"))


COORDINATOR_SERVICE = {
    "kind": "Service",
    "metadata": {"name": "coordinator", "namespace": "contrast"},
    "spec": {"type": "LoadBalancer", "ports": [{"name": "userapi", "port": 1313}, {"name": "meshapi", "port": 7777}]},
    "status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.7"}]}},
}


@given(mutated_json(COORDINATOR_SERVICE))
def test_kubernetes_coordinator_service(answer):
    only(_coordinator_service.ServiceLookupError, _coordinator_service.load_balancer_address, answer, "Service x/y")


FORWARDER_PODS = {
    "items": [
        {
            "metadata": {"name": "port-forwarder-coordinator"},
            "status": {
                "phase": "Running",
                "conditions": [{"type": "Ready", "status": "True"}, {"type": "PodScheduled", "status": "True"}],
            },
        }
    ]
}


@given(mutated_json(FORWARDER_PODS))
def test_kubernetes_forwarder_pods(answer):
    items = answer.get("items") if isinstance(answer, dict) else answer
    pods = items if isinstance(items, list) else []
    chosen = _port_forward.ready_forwarder(pods)
    assert chosen is None or isinstance(chosen, str) and chosen
    for pod in pods:
        if isinstance(pod, dict):
            assert isinstance(_forwarder_pod._why_not_ready(pod), str)


COORDINATOR_PODS = {
    "items": [
        {
            "metadata": {"name": f"coordinator-{n}", "labels": {"app.kubernetes.io/name": "coordinator"}},
            "status": {"phase": "Running", "podIP": f"10.0.0.{n}", "conditions": [{"type": "Ready", "status": "True"}]},
        }
        for n in range(3)
    ]
}


@given(mutated_json(COORDINATOR_PODS))
def test_kubernetes_coordinator_pods(answer):
    pods = _coordinator_pods.coordinator_pods(answer.get("items") if isinstance(answer, dict) else answer)
    for pod in pods:
        assert isinstance(pod.name, str) and pod.name and isinstance(pod.ready, bool) and isinstance(pod.phase, str)
        assert pod.ip is None or isinstance(pod.ip, str) and pod.ip
        assert pod.ordinal is None or isinstance(pod.ordinal, int)
    assert len({pod.name for pod in pods}) == len(pods)
