# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Compute Engine REST answers, scripted: a session that answers each request with the next (status, body)."""

from __future__ import annotations

import json

import requests

from ansible_collections.confidential.recovery.plugins.module_utils._cloud import _gcp


class ScriptedSession:
    """Answers each request with the next (status, body) of the script, the last one for ever; a body that is not bytes
    is sent as JSON."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.requests = []

    def request(self, method, url, params=None, timeout=None):
        self.requests.append((method, url, params))
        status, body = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        response = requests.Response()
        response.status_code = status
        response._content = body if isinstance(body, bytes) else json.dumps(body).encode()
        response.headers["Content-Type"] = "application/json"
        response.request = requests.Request(method, url).prepare()
        return response


def compute(*answers) -> _gcp.Compute:
    client = _gcp.Compute(_gcp.AnonymousCredentials(), "http://127.0.0.1:1")
    client.session = ScriptedSession(*answers)
    return client


NODE = {
    "name": "cp-0",
    "zone": "https://www.googleapis.com/compute/v1/projects/p/zones/europe-west3-b",
    "status": "RUNNING",
    "id": "123",
    "labels": {"constellation-uid": "uid", "constellation-role": "control-plane"},
    "networkInterfaces": [{"name": "nic0", "networkIP": "10.9.0.2"}],
}
