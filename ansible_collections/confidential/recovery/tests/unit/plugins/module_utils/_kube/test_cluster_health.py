# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Kubernetes API credentials: kubernetes.core's options, and clear errors before anything is sent."""

from __future__ import annotations

import pytest

from ansible_collections.confidential.recovery.plugins.module_utils._kube._auth import AUTH_ARG_SPEC, KubeAuth
from ansible_collections.confidential.recovery.plugins.module_utils._kube._cluster_health import (
    ClusterUnreachable,
    api_client,
    check_api_credentials,
    cluster_health,
)

VALID_SHAPE = """apiVersion: v1
kind: Config
clusters:
  - {name: c, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}
  - {name: other, cluster: {server: "https://127.0.0.2:6443", insecure-skip-tls-verify: true}}
users: [{name: u, user: {token: abc}}]
contexts:
  - {name: x, context: {cluster: c, user: u}}
  - {name: y, context: {cluster: other, user: u}}
current-context: x
"""


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{{{{ not yaml", "malformed|cannot load"),
        ("just a string", "malformed|cannot load"),
        ("apiVersion: v1\nkind: Config\ncontexts: 42\n", "malformed|cannot load"),
        ("apiVersion: v1\nkind: Config\n", "cannot load|malformed"),
    ],
)
def test_malformed_kubeconfig_is_a_clear_error(tmp_path, content, message):
    path = tmp_path / "admin.conf"
    path.write_text(content)
    with pytest.raises(ClusterUnreachable, match=message) as caught:
        api_client(KubeAuth(kubeconfig=str(path)), 1)
    assert "Traceback" not in str(caught.value)


def test_missing_kubeconfig(tmp_path):
    with pytest.raises(ClusterUnreachable, match="does not exist"):
        api_client(KubeAuth(kubeconfig=str(tmp_path / "absent.conf")), 1)


def test_unreachable_api_is_reported_not_raised(tmp_path):
    path = tmp_path / "admin.conf"
    path.write_text(VALID_SHAPE)
    health = cluster_health(KubeAuth(kubeconfig=str(path)), 1)
    assert health["quorum"] is False and health["api_reachable"] is False
    assert health["etcd_readyz"].startswith("Kubernetes API unreachable")


def test_context_picks_the_cluster(tmp_path):
    path = tmp_path / "admin.conf"
    path.write_text(VALID_SHAPE)
    assert api_client(KubeAuth(kubeconfig=str(path)), 1).configuration.host == "https://127.0.0.1:1"
    assert api_client(KubeAuth(kubeconfig=str(path), context="y"), 1).configuration.host == "https://127.0.0.2:6443"


def test_host_and_token_without_a_kubeconfig():
    auth = KubeAuth(host="https://127.0.0.3:6443", api_key="s3cr3t-token", validate_certs=False, ca_cert="/ca.pem")
    configuration = api_client(auth, 1).configuration
    assert configuration.host == "https://127.0.0.3:6443"
    assert configuration.api_key == {"authorization": "Bearer s3cr3t-token"}
    assert configuration.verify_ssl is False and configuration.ssl_ca_cert == "/ca.pem"
    assert "s3cr3t" not in auth.describe() and "s3cr3t" not in repr(auth)


def test_overrides_win_over_the_kubeconfig(tmp_path):
    path = tmp_path / "admin.conf"
    path.write_text(VALID_SHAPE)
    configuration = api_client(KubeAuth(kubeconfig=str(path), host="https://127.0.0.4:6443"), 1).configuration
    assert configuration.host == "https://127.0.0.4:6443"


@pytest.mark.parametrize(
    ("option", "variable"),
    [
        ("kubeconfig", "K8S_AUTH_KUBECONFIG"),
        ("context", "K8S_AUTH_CONTEXT"),
        ("host", "K8S_AUTH_HOST"),
        ("api_key", "K8S_AUTH_API_KEY"),
        ("ca_cert", "K8S_AUTH_SSL_CA_CERT"),
        ("client_cert", "K8S_AUTH_CERT_FILE"),
        ("client_key", "K8S_AUTH_KEY_FILE"),
        ("validate_certs", "K8S_AUTH_VERIFY_SSL"),
    ],
)
def test_kubernetes_core_environment_variables(monkeypatch, option, variable):
    monkeypatch.setenv(variable, "from-the-environment")
    fallback, names = AUTH_ARG_SPEC[option]["fallback"]
    assert fallback(*names) == "from-the-environment"


def test_the_token_is_never_logged():
    assert AUTH_ARG_SPEC["api_key"]["no_log"] is True


def test_an_unverified_api_is_a_caveat_from_the_kubeconfig_or_the_option(tmp_path):
    insecure = tmp_path / "insecure.conf"
    insecure.write_text(VALID_SHAPE)
    caveats = check_api_credentials(KubeAuth(kubeconfig=str(insecure)))
    assert [c["condition"] for c in caveats] == ["kube_api_unverified"]
    assert "insecure-skip-tls-verify" in caveats[0]["message"] and str(insecure) in caveats[0]["message"]
    assert [
        c["condition"] for c in check_api_credentials(KubeAuth(host="https://127.0.0.3:6443", validate_certs=False))
    ] == ["kube_api_unverified"]


def test_a_verified_api_has_no_caveat(tmp_path):
    verified = tmp_path / "verified.conf"
    verified.write_text(VALID_SHAPE.replace("insecure-skip-tls-verify: true", "certificate-authority-data: ''"))
    assert check_api_credentials(KubeAuth(kubeconfig=str(verified))) == []
    assert check_api_credentials(KubeAuth(host="https://127.0.0.3:6443")) == []
