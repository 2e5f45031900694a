# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""How the modules reach the Kubernetes API: kubernetes.core's option names, aliases and K8S_AUTH_* variables."""

from __future__ import annotations

from dataclasses import dataclass

from ansible.module_utils.basic import env_fallback

from .._module._options import OptionGroup


def _env(name: str) -> tuple:
    return (env_fallback, [name])


AUTH_ARG_SPEC = dict(
    kubeconfig=dict(type="path", fallback=_env("K8S_AUTH_KUBECONFIG")),
    context=dict(type="str", fallback=_env("K8S_AUTH_CONTEXT")),
    host=dict(type="str", fallback=_env("K8S_AUTH_HOST")),
    api_key=dict(type="str", no_log=True, fallback=_env("K8S_AUTH_API_KEY")),
    ca_cert=dict(type="path", aliases=["ssl_ca_cert"], fallback=_env("K8S_AUTH_SSL_CA_CERT")),
    client_cert=dict(type="path", aliases=["cert_file"], fallback=_env("K8S_AUTH_CERT_FILE")),
    client_key=dict(type="path", aliases=["key_file"], no_log=False, fallback=_env("K8S_AUTH_KEY_FILE")),
    validate_certs=dict(type="bool", aliases=["verify_ssl"], fallback=_env("K8S_AUTH_VERIFY_SSL")),
)


K8S_AUTH = OptionGroup("confidential.recovery.k8s_auth", AUTH_ARG_SPEC)


@dataclass(frozen=True)
class KubeAuth:
    kubeconfig: str | None = None
    context: str | None = None
    host: str | None = None
    api_key: str | None = None
    ca_cert: str | None = None
    client_cert: str | None = None
    client_key: str | None = None
    validate_certs: bool | None = None

    @classmethod
    def from_params(cls, params: dict) -> KubeAuth:
        return cls(**{name: params.get(name) for name in AUTH_ARG_SPEC})

    @property
    def explicit(self) -> bool:
        """The user named an API (a kubeconfig or a host), as opposed to relying on the client's default file."""
        return bool(self.kubeconfig or self.host)

    def describe(self) -> str:
        """Where the API is, for messages; never the token."""
        if self.host:
            return f"Kubernetes API {self.host}"
        where = f"kubeconfig {self.kubeconfig}" if self.kubeconfig else "the default kubeconfig"
        return f"{where} (context {self.context})" if self.context else where

    def __repr__(self) -> str:
        return f"KubeAuth({self.describe()})"
