# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""In-memory Kubernetes objects with resourceVersion, generation, label selectors and patches."""

from __future__ import annotations

import copy
import datetime
import itertools
import threading
import uuid


def now_iso() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def status_object(code: int, reason: str, message: str) -> dict:
    """A Kubernetes ``Status`` error body."""
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


def matches_selector(labels: dict, selector: str) -> bool:
    for term in filter(None, (t.strip() for t in (selector or "").split(","))):
        if "!=" in term:
            key, value = term.split("!=", 1)
            if labels.get(key) == value:
                return False
        elif "=" in term:
            key, value = term.split("=", 1)
            if labels.get(key.rstrip("=")) != value:
                return False
        elif term.startswith("!"):
            if term[1:] in labels:
                return False
        elif term not in labels:
            return False
    return True


def merge_patch(target, patch):
    """RFC 7386 merge; also what strategic merge does for the maps the lab patches (annotations, labels)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def json_patch(target: dict, operations: list) -> dict:
    """RFC 6902 add / replace / remove (the operations `kubectl rollout restart` style clients use)."""
    doc = copy.deepcopy(target)
    for op in operations:
        parts = [p.replace("~1", "/").replace("~0", "~") for p in op["path"].lstrip("/").split("/")]
        parent = doc
        for part in parts[:-1]:
            parent = parent.setdefault(part, {}) if isinstance(parent, dict) else parent[int(part)]
        last = parts[-1]
        if op["op"] in ("add", "replace"):
            if isinstance(parent, list):
                parent.insert(len(parent) if last == "-" else int(last), op["value"])
            else:
                parent[last] = op["value"]
        elif op["op"] == "remove":
            if isinstance(parent, list):
                parent.pop(int(last))
            else:
                parent.pop(last, None)
        else:
            raise ValueError(f"unsupported JSON patch operation {op['op']!r}")
    return doc


class Store:
    def __init__(self):
        self._objects: dict[tuple[str, str, str], dict] = {}
        self._versions = itertools.count(100)
        self.lock = threading.RLock()

    def put(self, obj: dict) -> dict:
        with self.lock:
            meta = obj.setdefault("metadata", {})
            meta.setdefault("uid", str(uuid.uuid4()))
            meta.setdefault("creationTimestamp", now_iso())
            meta.setdefault("labels", {})
            meta.setdefault("annotations", {})
            meta["resourceVersion"] = str(next(self._versions))
            self._objects[(obj["kind"], meta.get("namespace", ""), meta["name"])] = obj
            return obj

    def get(self, kind: str, namespace: str, name: str) -> dict | None:
        with self.lock:
            return self._objects.get((kind, namespace, name))

    def delete(self, kind: str, namespace: str, name: str) -> dict | None:
        with self.lock:
            return self._objects.pop((kind, namespace, name), None)

    def list(self, kind: str, namespace: str | None = None, selector: str = "") -> list[dict]:
        with self.lock:
            return [
                o
                for (k, ns, _), o in sorted(self._objects.items())
                if k == kind
                and (namespace is None or ns == namespace)
                and matches_selector(o["metadata"].get("labels") or {}, selector)
            ]

    def owned_by(self, kind: str, owner: dict) -> list[dict]:
        uid = owner["metadata"]["uid"]
        return [
            o
            for o in self.list(kind, owner["metadata"].get("namespace"))
            if any(ref.get("uid") == uid for ref in o["metadata"].get("ownerReferences") or [])
        ]

    def resource_version(self) -> str:
        return str(next(self._versions))
