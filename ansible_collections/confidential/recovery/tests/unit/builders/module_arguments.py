# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""What the tests of the modules' main() share: module arguments as Ansible hands them over, a master secret, and a
stand-in for every call that check mode must not make."""

from __future__ import annotations

import base64
import contextlib
import json

from ansible.module_utils import basic

__all__ = ["MASTER_SECRET", "kubeconfig", "no_quorum", "patch_module_args", "refuse"]

try:  # ansible-core 2.19 and later
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core 2.18, the oldest this collection supports

    @contextlib.contextmanager
    def patch_module_args(args):
        saved = basic._ANSIBLE_ARGS
        basic._ANSIBLE_ARGS = json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode()
        try:
            yield
        finally:
            basic._ANSIBLE_ARGS = saved


MASTER_KEY = bytes(range(32))
MASTER_SECRET = json.dumps(
    {"key": base64.b64encode(MASTER_KEY).decode(), "salt": base64.b64encode(bytes(range(32, 64))).decode()}
)


def refuse(*_args, **_kwargs):
    raise AssertionError("check mode must not send anything")


KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: abc}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
"""


def kubeconfig(directory) -> str:
    """A kubeconfig that loads, for an API that nothing serves (127.0.0.1:1): a call that goes out fails."""
    path = directory / "admin.conf"
    path.write_text(KUBECONFIG)
    return str(path)


def no_quorum(*_args, **_kwargs) -> dict:
    return {
        "quorum": False,
        "etcd_readyz": "etcd: no quorum",
        "ready_nodes": [],
        "not_ready_nodes": ["cp-0", "cp-1", "cp-2"],
        "control_plane_ready": 0,
        "control_plane_total": 3,
        "api_reachable": True,
    }
