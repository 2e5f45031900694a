# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""A Kubernetes API double on 127.0.0.1: fixed answers to GET, and a record of every request, writes included."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class KubeApiDouble:
    """``answers`` maps a path to the JSON object a GET returns; other paths and all writes get 404/405."""

    def __init__(self, answers: dict[str, dict]):
        self.answers = answers
        self.requests: list[tuple[str, str]] = []
        double = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                path = self.path.split("?", 1)[0]
                double.requests.append((self.command, path))
                if self.command != "GET":
                    self._send(405, {"kind": "Status", "code": 405})
                elif path in double.answers:
                    self._send(200, double.answers[path])
                else:
                    self._send(404, {"kind": "Status", "code": 404})

            def _send(self, code: int, body: dict):
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_PATCH = do_DELETE = do_POST = do_PUT = _answer

            def log_message(self, *_args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> KubeApiDouble:
        self.thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def kubeconfig(self, directory) -> str:
        path = directory / "double.conf"
        path.write_text(
            "apiVersion: v1\nkind: Config\n"
            f"clusters: [{{name: d, cluster: {{server: '{self.url}'}}}}]\n"
            "users: [{name: u, user: {token: abc}}]\n"
            "contexts: [{name: d, context: {cluster: d, user: u}}]\ncurrent-context: d\n"
        )
        return str(path)

    def writes(self) -> list[tuple[str, str]]:
        return [request for request in self.requests if request[0] != "GET"]


def pod(name: str, namespace: str, runtime_class: str = "contrast-cc", owner: dict | None = None) -> dict:
    metadata = {"name": name, "namespace": namespace}
    if owner:
        metadata["ownerReferences"] = [dict(owner, apiVersion="apps/v1", uid="u-" + owner["name"], controller=True)]
    return {"metadata": metadata, "spec": {"runtimeClassName": runtime_class, "containers": [{"name": "app"}]}}
