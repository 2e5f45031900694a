# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The Kubernetes client, imported when first needed: the real library once loaded, a stand-in that never matches
when it is missing, and a warm-up that a later call shares."""

from __future__ import annotations

from fresh_interpreter import run_fresh

from ansible_collections.confidential.recovery.plugins.module_utils._kube import _client


def test_the_library_is_the_official_client():
    from kubernetes.client.rest import ApiException

    assert _client.HAS_KUBERNETES and _client.KUBERNETES_IMPORT_ERROR is None
    assert _client.api_exception() is ApiException
    assert _client.library() is _client.library()
    assert _client.library().client.CoreV1Api.__module__.startswith("kubernetes.client")


def test_without_the_library_nothing_is_caught_as_an_api_error(monkeypatch):
    monkeypatch.setattr(_client, "HAS_KUBERNETES", False)
    assert _client.api_exception() is _client.MissingApiException


def test_importing_the_module_does_not_import_the_client_and_the_warm_up_does():
    code = (
        "import sys\n"
        "from ansible_collections.confidential.recovery.plugins.modules import quorum_recover\n"
        "assert 'kubernetes' not in sys.modules, 'imported at module import'\n"
        "from ansible_collections.confidential.recovery.plugins.module_utils._kube import _client\n"
        "_client.warm_up()\n"
        "_client.library()\n"
        "assert 'kubernetes.client' in sys.modules\n"
    )
    done = run_fresh(code)
    assert done.returncode == 0, done.stderr
