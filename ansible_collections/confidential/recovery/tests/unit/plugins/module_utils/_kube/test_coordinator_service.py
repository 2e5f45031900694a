# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The Coordinator's address from its Service, as Contrast's recovery guide finds it, and clear refusals when the
Service gives none."""

from __future__ import annotations

import pytest
from kube_api_double import KubeApiDouble

from ansible_collections.confidential.recovery.plugins.module_utils._kube._auth import KubeAuth
from ansible_collections.confidential.recovery.plugins.module_utils._kube._coordinator_service import (
    ServiceLookupError,
    find_coordinator,
    load_balancer_address,
)

PORTS = ({"name": "userapi", "port": 1313, "targetPort": 1313}, {"name": "meshapi", "port": 7777})


def service(ingress, ports=PORTS, kind="LoadBalancer") -> dict:
    ports = list(ports) if isinstance(ports, tuple) else ports
    return {"spec": {"type": kind, "ports": ports}, "status": {"loadBalancer": {"ingress": ingress}}}


@pytest.mark.parametrize(
    "ingress, ports, expected",
    [
        ([{"ip": "203.0.113.7"}], PORTS, "203.0.113.7:1313"),
        ([{"hostname": "abc.elb.eu-west-1.amazonaws.com"}], PORTS, "abc.elb.eu-west-1.amazonaws.com:1313"),
        ([{"ip": "2001:db8::7"}], PORTS, "[2001:db8::7]:1313"),
        ([{"ipMode": "VIP"}, {"ip": "198.51.100.2"}], PORTS, "198.51.100.2:1313"),
        ([{"ip": "203.0.113.7"}], [{"name": "userapi", "port": 443}], "203.0.113.7:443"),
    ],
)
def test_the_first_load_balancer_address_and_the_user_api_port(ingress, ports, expected):
    assert load_balancer_address(service(ingress, ports), "Service ns/coordinator") == expected


@pytest.mark.parametrize(
    "answer, message",
    [
        (service([], kind="ClusterIP"), "(type ClusterIP) has no load-balancer address yet; reach the Coordinator one of three ways"),
        (service(None), "has no load-balancer address yet"),
        ({"status": "pending"}, "has no load-balancer address yet"),
        (service([{"ip": "not an address!"}]), "is neither an IP address nor a valid host name"),
        (service([{"ip": "203.0.113.7"}], [{"name": "http", "port": 80}]), "has no port 1313 and none named 'userapi' (ports: 80)"),
        (service([{"ip": "203.0.113.7"}], [{"name": "userapi", "port": "1313"}]), "has no port 1313"),
        (service([{"ip": "203.0.113.7"}], None), "(ports: none)"),
        (["a", "list"], "not a Service object"),
    ],
)  # fmt: skip
def test_a_service_that_gives_no_address_is_refused_with_the_ways_to_give_one(answer, message):
    with pytest.raises(ServiceLookupError) as caught:
        load_balancer_address(answer, "Service ns/coordinator")
    assert message in str(caught.value)


def test_the_service_is_read_from_the_api_with_get_only(tmp_path):
    answers = {"/api/v1/namespaces/contrast/services/coordinator": service([{"ip": "203.0.113.7"}])}
    with KubeApiDouble(answers) as api:
        address = find_coordinator(KubeAuth(kubeconfig=api.kubeconfig(tmp_path)), "contrast", "coordinator", 5)
        assert api.writes() == []
    assert address == "203.0.113.7:1313"


def test_a_missing_service_names_itself_and_the_ways(tmp_path):
    with KubeApiDouble({}) as api:
        with pytest.raises(ServiceLookupError) as caught:
            find_coordinator(KubeAuth(kubeconfig=api.kubeconfig(tmp_path)), "contrast", "coordinator", 5)
    assert "Service contrast/coordinator does not exist" in str(caught.value)
    assert "port-forward" in str(caught.value)


def test_an_unreachable_api_is_a_lookup_error(tmp_path):
    with KubeApiDouble({}) as api:
        kubeconfig = api.kubeconfig(tmp_path)
    with pytest.raises(ServiceLookupError, match="cannot look up Service contrast/coordinator"):
        find_coordinator(KubeAuth(kubeconfig=kubeconfig), "contrast", "coordinator", 2)
