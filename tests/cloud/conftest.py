# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The cloud API doubles of this suite, each on its own loopback address, serving a model the test sets."""

from __future__ import annotations

import threading

import azure_clusters
import gce_clusters
import openstack_clusters
import pytest

from conflab.arm_api import ArmApi
from conflab.arm_api import make_server as make_arm_server
from conflab.gce_api import GceApi
from conflab.gce_api import make_server as make_gce_server
from conflab.openstack_api import OpenStackApi
from conflab.openstack_api import make_server as make_openstack_server

GCE_HOST = "127.20.10.1"
ARM_HOST = "127.20.10.2"
OPENSTACK_HOST = "127.20.10.3"


class _Double:
    def __init__(self, model: dict):
        self.model = model
        self.api = None
        self.url = ""

    def serve(self, model: dict) -> None:
        self.model = model
        if hasattr(self.api, "throttled"):
            self.api.throttled = 0


def _start(server) -> None:
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()


@pytest.fixture
def gce():
    """A Compute Engine double; ``gce.serve(model)`` sets what it answers, ``gce.api`` keeps what it was asked."""
    double = _Double(gce_clusters.model([]))
    double.api = GceApi(lambda: double.model)
    server = make_gce_server(double.api, GCE_HOST)
    double.url = f"http://{GCE_HOST}:{server.server_address[1]}"
    _start(server)
    yield double
    server.shutdown()
    server.server_close()


def _serve(double: _Double, api, make_server, host: str):
    """Start ``api`` on ``host`` for ``double``; yield it; stop it."""
    double.api = api
    server = make_server(api, host)
    double.url = api.base_url
    _start(server)
    yield double
    server.shutdown()
    server.server_close()


@pytest.fixture
def arm():
    """An Azure Resource Manager double, as ``gce``."""
    double = _Double(azure_clusters.model([]))
    yield from _serve(double, ArmApi(lambda: double.model), make_arm_server, ARM_HOST)


@pytest.fixture
def openstack():
    """A Keystone and Nova double, as ``gce``."""
    double = _Double(openstack_clusters.model([]))
    yield from _serve(double, OpenStackApi(lambda: double.model), make_openstack_server, OPENSTACK_HOST)
