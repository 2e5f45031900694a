# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Kubeconfig problems are clear errors before anything is sent, never tracebacks."""

from __future__ import annotations

import pytest

from ansible_collections.confidential.recovery.plugins.module_utils._cluster_health import (
    ClusterUnreachable, api_client, cluster_health,
)

VALID_SHAPE = """apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: abc}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
"""


@pytest.mark.parametrize(("content", "message"), [
    ("{{{{ not yaml", "malformed|cannot load"),
    ("just a string", "malformed|cannot load"),
    ("apiVersion: v1\nkind: Config\ncontexts: 42\n", "malformed|cannot load"),
    ("apiVersion: v1\nkind: Config\n", "cannot load|malformed"),
])
def test_malformed_kubeconfig_is_a_clear_error(tmp_path, content, message):
    path = tmp_path / "admin.conf"
    path.write_text(content)
    with pytest.raises(ClusterUnreachable, match=message) as caught:
        api_client(str(path), 1)
    assert "Traceback" not in str(caught.value)


def test_missing_kubeconfig(tmp_path):
    with pytest.raises(ClusterUnreachable, match="does not exist"):
        api_client(str(tmp_path / "absent.conf"), 1)


def test_unreachable_api_is_reported_not_raised(tmp_path):
    path = tmp_path / "admin.conf"
    path.write_text(VALID_SHAPE)
    health = cluster_health(str(path), 1)
    assert health["quorum"] is False and health["api_reachable"] is False
    assert health["etcd_readyz"].startswith("Kubernetes API unreachable")
