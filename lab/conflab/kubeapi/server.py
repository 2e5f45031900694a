# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""HTTPS server of the lab's Kubernetes API face: ``python -m conflab.kubeapi --dir D``.

Health endpoints reflect the lab's real etcd: ``/readyz/etcd`` is ``ok`` only while a member
answers healthy. Without quorum, every other API call fails with 503, as a real API server
that cannot reach etcd does.
"""

from __future__ import annotations

import hmac
import json
import re
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from .. import faultfile
from ..constellation.etcd_member import etcd_healthy
from ..contrast.replicas import MESH_API_PORT
from .controllers import Controllers
from .coordinator_pods import coordinator_pod_status
from .nodes import node_list, node_object
from .portforward import forward
from .seed import coordinator_service, seed
from .store import Store, status_object
from .workloads import WorkloadApi

STALL_LIMIT = 600.0
USER_API_PORT = 1313
ETCD_CHECK_SECONDS = 2.0
HEALTH_PATHS = ("/readyz", "/livez", "/healthz", "/readyz/etcd", "/livez/etcd", "/healthz/etcd")
PORT_FORWARD_PATH = re.compile(r"^/api/v1/namespaces/(?P<namespace>[^/]+)/pods/(?P<name>[^/]+)/portforward$")


class KubeApi:
    def __init__(self, config: dict):
        self.config = config
        self.token = Path(config["kube_api"]["token_file"]).read_text().strip()
        self.routes = []  # (method, prefix, handler) added by extensions; checked before the built-ins
        self.store = None  # the objects, for the port-forward, which needs the connection itself

    def port_forward(self, handler, path: str, query: str) -> tuple[int, object] | None:
        """A WebSocket upgrade of pods/portforward; None once served, else the refusal to send as JSON."""
        found = PORT_FORWARD_PATH.match(path)
        if not found:
            return 404, status_object(404, "NotFound", "the server could not find the requested resource")
        if not self.etcd_quorum():
            return 503, status_object(503, "ServiceUnavailable", "etcdserver: request timed out (no etcd quorum)")
        with self.store.lock:
            pod = self.store.get("Pod", found.group("namespace"), found.group("name"))
        coordinator = (self.config["coordinator"]["ip"], self.config["coordinator"]["port"])
        refused = forward(handler, pod, query, coordinator, (USER_API_PORT, MESH_API_PORT))
        if refused is None:
            return None
        code, message = refused
        return code, status_object(code, "NotFound" if code == 404 else "BadRequest", message)

    def etcd_quorum(self) -> bool:
        """Ask every member at once, bounded by kube-apiserver's default etcd check timeout (2 s)."""
        urls = [n["etcd_client_url"] for n in self.config["nodes"] if n["role"] == "control-plane"]
        with ThreadPoolExecutor(max_workers=len(urls)) as pool:
            return any(pool.map(lambda url: etcd_healthy(url, timeout=ETCD_CHECK_SECONDS), urls))

    def faults(self) -> dict:
        return faultfile.read(self.config["dir"])

    def stall_while_faulted(self) -> None:
        """Fault injection: hold the request unanswered while the stall switch is on."""
        ends = time.monotonic() + STALL_LIMIT
        while self.faults().get("kubeapi") == "stall" and time.monotonic() < ends:
            time.sleep(0.5)

    def handle(self, method: str, path: str, query: str, body: bytes, headers) -> tuple[int, object]:
        if method == "PATCH" and path.startswith("/apis/apps/v1/") and self.faults().get("workloads") == "fail":
            return 500, status_object(
                500,
                "InternalError",
                'Internal error occurred: failed calling webhook "conflab-fault": connection refused',
            )
        if path == "/version":
            return 200, {"major": "1", "minor": "31", "gitVersion": "v1.31.0-conflab", "platform": "linux/amd64"}
        if path in HEALTH_PATHS:
            if self.etcd_quorum():
                return 200, "ok"
            return 500, "[-]etcd failed: reason withheld\nhealthz check failed"
        if not self.etcd_quorum():
            return 503, status_object(503, "ServiceUnavailable", "etcdserver: request timed out (no etcd quorum)")
        for route_method, prefix, handler in self.routes:
            if method == route_method and path.startswith(prefix):
                return handler(method, path, query, body, headers)
        if method == "GET" and path == "/api/v1/nodes":
            return 200, node_list(self.config)
        if method == "GET" and path.startswith("/api/v1/nodes/"):
            name = path.rsplit("/", 1)[1]
            for node in self.config["nodes"]:
                if node["name"] == name:
                    return 200, node_object(self.config, node)
            return 404, status_object(404, "NotFound", f'nodes "{name}" not found')
        return 404, status_object(404, "NotFound", "the server could not find the requested resource")


def make_handler(api: KubeApi):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):  # keep the lab's log quiet
            return

        def _authorized(self) -> bool:
            header = self.headers.get("Authorization", "")
            return header.startswith("Bearer ") and hmac.compare_digest(header[7:].strip(), api.token)

        def _serve(self, method: str) -> None:
            api.stall_while_faulted()
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            path, _, query = self.path.partition("?")
            upgrade = (self.headers.get("Upgrade") or "").lower() == "websocket"
            if not self._authorized():
                code, payload = 401, status_object(401, "Unauthorized", "Unauthorized")
            elif method == "GET" and upgrade:
                answer = api.port_forward(self, path.rstrip("/"), query)
                if answer is None:
                    return
                code, payload = answer
            else:
                try:
                    code, payload = api.handle(method, path.rstrip("/") or "/", query, body, self.headers)
                except Exception as exc:  # noqa: BLE001 - answer like an API server, never crash
                    code, payload = 500, status_object(500, "InternalError", f"{exc.__class__.__name__}: {exc}")
            if isinstance(payload, str):
                data, ctype = payload.encode(), "text/plain; charset=utf-8"
            else:
                data, ctype = json.dumps(payload).encode(), "application/json"
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            self._serve("GET")

        def do_POST(self):
            self._serve("POST")

        def do_PATCH(self):
            self._serve("PATCH")

        def do_PUT(self):
            self._serve("PUT")

        def do_DELETE(self):
            self._serve("DELETE")

    return Handler


def serve(config: dict, stopped: threading.Event) -> None:
    api = KubeApi(config)
    store = Store()
    api.store = store
    seed(
        store,
        forwarder=config["coordinator"].get("load_balancer", True),
        coordinators=config["coordinator"].get("replicas", 1),
    )
    if config["coordinator"].get("enabled", True):
        store.put(coordinator_service(config))
    controllers = Controllers(
        store, [n["name"] for n in config["nodes"]], api.faults, lambda pod: coordinator_pod_status(config, pod)
    )
    controllers.start()
    workloads = WorkloadApi(store)
    for method in ("GET", "PATCH", "DELETE", "POST"):
        api.routes.append((method, "/api/v1/namespaces", workloads.handle))
        api.routes.append((method, "/api/v1/pods", workloads.handle))
        api.routes.append((method, "/apis/apps/v1/", workloads.handle))
    settings = config["kube_api"]
    httpd = ThreadingHTTPServer((settings["ip"], settings["port"]), make_handler(api))
    httpd.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(settings["cert"], settings["key"])
    # Handshake in the per-connection thread, so a client that never speaks TLS blocks nobody else.
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True, do_handshake_on_connect=False)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.5}, daemon=True)
    thread.start()
    stopped.wait()
    controllers.stop()
    httpd.shutdown()
    httpd.server_close()
