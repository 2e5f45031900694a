# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""REST routes for namespaces, pods and the apps/v1 workload kinds, backed by the Store."""

from __future__ import annotations

import json
import re
import time
import urllib.parse

from .store import Store, json_patch, merge_patch
from .store import status_object as status

KINDS = {  # plural -> (kind, apiVersion, namespaced)
    "namespaces": ("Namespace", "v1", False),
    "pods": ("Pod", "v1", True),
    "deployments": ("Deployment", "apps/v1", True),
    "replicasets": ("ReplicaSet", "apps/v1", True),
    "statefulsets": ("StatefulSet", "apps/v1", True),
    "daemonsets": ("DaemonSet", "apps/v1", True),
    "services": ("Service", "v1", True),
}
ROUTE = re.compile(
    r"^/(?:api/v1|apis/apps/v1)(?:/namespaces/(?P<ns>[^/]+))?/(?P<plural>[a-z]+)(?:/(?P<name>[^/]+)(?:/status)?)?$"
)
NAMESPACE_ROUTE = re.compile(r"^/api/v1/namespaces(?:/(?P<name>[^/]+))?$")
PATCH_TYPES = ("application/strategic-merge-patch+json", "application/merge-patch+json", "application/json-patch+json")


def public(obj: dict) -> dict:
    return {k: v for k, v in obj.items() if not k.startswith("_")}


class WorkloadApi:
    def __init__(self, store: Store):
        self.store = store

    def handle(self, method: str, path: str, query: str, body: bytes, headers):
        params = urllib.parse.parse_qs(query)
        selector = (params.get("labelSelector") or [""])[0]
        found = NAMESPACE_ROUTE.match(path)
        if found:
            namespace, plural, name = None, "namespaces", found.group("name")
        else:
            found = ROUTE.match(path)
            if not found or found.group("plural") not in KINDS:
                return 404, status(404, "NotFound", "the server could not find the requested resource")
            namespace, plural, name = found.group("ns"), found.group("plural"), found.group("name")
        kind, api_version, namespaced = KINDS[plural]
        expected_prefix = "/api/v1" if api_version == "v1" else "/apis/apps/v1"
        if not path.startswith(expected_prefix):
            return 404, status(404, "NotFound", "the server could not find the requested resource")
        with self.store.lock:
            if name is None:
                if method == "POST" and kind == "Pod" and namespace:
                    return self._create_pod(namespace, body)
                if method != "GET":
                    return 405, status(405, "MethodNotAllowed", f"{method} is not supported on a list")
                items = [public(o) for o in self.store.list(kind, namespace if namespaced else None, selector)]
                return 200, {
                    "kind": f"{kind}List",
                    "apiVersion": api_version,
                    "metadata": {"resourceVersion": self.store.resource_version()},
                    "items": items,
                }
            obj = self.store.get(kind, namespace or "" if namespaced else "", name)
            if obj is None:
                return 404, status(404, "NotFound", f'{plural} "{name}" not found')
            if method == "GET":
                return 200, public(obj)
            if method == "DELETE" and kind == "Pod":
                self.store.delete(kind, namespace, name)
                return 200, public(obj)
            if method == "PATCH":
                return self._patch(obj, body, headers)
        return 405, status(405, "MethodNotAllowed", f"{method} is not supported on {plural}")

    def _create_pod(self, namespace: str, body: bytes):
        try:
            pod = json.loads(body or b"null")
            name = pod["metadata"]["name"]
            containers = pod["spec"]["containers"]
        except (ValueError, KeyError, TypeError) as exc:
            return 422, status(422, "Invalid", f"invalid pod: {exc.__class__.__name__} {exc}")
        if not isinstance(name, str) or not name or not isinstance(containers, list) or not containers:
            return 422, status(422, "Invalid", "a pod needs metadata.name and at least one container")
        if self.store.get("Pod", namespace, name) is not None:
            return 409, status(409, "AlreadyExists", f'pods "{name}" already exists')
        pod["metadata"]["namespace"] = namespace
        pod["status"] = {"phase": "Pending", "conditions": [{"type": "Ready", "status": "False"}]}
        pod["_created"] = time.monotonic()
        pod["_created_through_api"] = True
        self.store.put(pod)
        return 201, public(pod)

    def _patch(self, obj: dict, body: bytes, headers):
        content_type = (headers.get("Content-Type") or "").split(";")[0].strip()
        if content_type not in PATCH_TYPES:
            return 415, status(
                415, "UnsupportedMediaType", f"the body of the request was in an unknown format: {content_type}"
            )
        try:
            patch = json.loads(body or b"null")
            patched = json_patch(obj, patch) if content_type.endswith("json-patch+json") else merge_patch(obj, patch)
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            return 422, status(422, "Invalid", f"invalid patch: {exc}")
        template_changed = patched.get("spec") != obj.get("spec")
        obj.clear()
        obj.update(patched)
        if template_changed:
            obj["metadata"]["generation"] = obj["metadata"].get("generation", 1) + 1
        self.store.put(obj)
        return 200, public(obj)
