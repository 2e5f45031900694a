# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""An OpenStack double on loopback: Keystone v3 (password and application-credential tokens, with a service catalog)
and the Nova calls of discovery and the boot-log lookup, as openstacksdk makes them.

- ``GET /identity``, ``GET /identity/v3``: version discovery; ``POST /identity/v3/auth/tokens``: 201 with the token in
  ``X-Subject-Token`` and a catalog whose ``compute`` service has a public endpoint ``/compute/v2.1`` in the model's
  region. Wrong credentials answer 401.
- ``GET /compute/``, ``GET /compute/v2.1/``: the version document (microversions 2.1 to 2.96).
- ``GET /compute/v2.1/servers/detail``: the servers, filtered by ``tags`` (every listed tag, as Nova does from 2.26),
  paged with ``limit``/``marker`` (``servers_links``). Before 2.26 (no ``OpenStack-API-Version: compute 2.26`` or
  newer) the ``tags`` filter is ignored and no server shows its tags, as Nova does.
- ``POST /compute/v2.1/servers/<id>/action`` with ``os-getConsoleOutput``: ``{"output": ...}``, the last ``length``
  lines when given.

Every request but discovery needs the token. The model: ``{"region", "project", "user", "password",
"application_credential": {"id", "secret"}, "servers": [{"id", "name", "status", "tags", "metadata", "addresses",
"console"}], "page_size", "deny", "malformed"}``; ``deny`` answers the server listing with 403; ``malformed``
(``{"listing"|"console": body}``) answers that call with the body as it is (a string is sent as text).
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .http_double import reply

MIN_MICROVERSION = "2.1"
MAX_MICROVERSION = "2.96"
TAGS_MICROVERSION = (2, 26)
SERVER_ACTION = re.compile(r"^/compute/v2\.1/servers/([^/]+)/action$")


def _microversion(headers) -> tuple[int, int]:
    wanted = headers.get("OpenStack-API-Version") or ""
    if wanted.startswith("compute "):
        wanted = wanted.split(" ", 1)[1]
    else:
        wanted = headers.get("X-OpenStack-Nova-API-Version") or MIN_MICROVERSION
    if wanted == "latest":
        wanted = MAX_MICROVERSION
    try:
        major, minor = (int(part) for part in wanted.split("."))
    except ValueError:
        return (2, 1)
    return major, minor


def _error(code: int, message: str) -> tuple[int, dict]:
    names = {400: "badRequest", 401: "unauthorized", 403: "forbidden", 404: "itemNotFound"}
    return code, {names.get(code, "computeFault"): {"code": code, "message": message}}


class OpenStackApi:
    def __init__(self, model, base_url: str = ""):
        self.model = model
        self.base_url = base_url
        self._lock = threading.Lock()
        self._tokens: set[str] = set()
        self.requests: list[tuple[str, str]] = []
        self.token_requests: list[dict] = []

    # -- Keystone ------------------------------------------------------------------------------------------------
    def _versions(self, path: str) -> tuple[int, dict]:
        v3 = {
            "id": "v3.14",
            "status": "stable",
            "updated": "2020-04-07T00:00:00Z",
            "links": [{"rel": "self", "href": f"{self.base_url}/identity/v3/"}],
            "media-types": [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}],
        }
        if path.rstrip("/").endswith("/v3"):
            return 200, {"version": v3}
        return 300, {"versions": {"values": [v3]}}

    def _token(self, body: dict) -> tuple[int, dict, dict]:
        model = self.model()
        identity = (body.get("auth") or {}).get("identity") or {}
        self.token_requests.append({"methods": identity.get("methods"), "scope": (body.get("auth") or {}).get("scope")})
        methods = identity.get("methods") or []
        accepted = False
        if "password" in methods:
            user = (identity.get("password") or {}).get("user") or {}
            accepted = user.get("name") == model.get("user") and user.get("password") == model.get("password")
        elif "application_credential" in methods:
            given = identity.get("application_credential") or {}
            wanted = model.get("application_credential") or {}
            accepted = (
                bool(wanted) and given.get("id") == wanted.get("id") and given.get("secret") == wanted.get("secret")
            )
        if not accepted:
            return (
                401,
                {
                    "error": {
                        "code": 401,
                        "title": "Unauthorized",
                        "message": "The request you have made requires authentication.",
                    }
                },
                {},
            )
        token = secrets.token_hex(16)
        with self._lock:
            self._tokens.add(token)
        compute = f"{self.base_url}/compute/v2.1"
        answer = {
            "token": {
                "methods": methods,
                "expires_at": "2099-01-01T00:00:00.000000Z",
                "issued_at": "2026-01-01T00:00:00.000000Z",
                "user": {
                    "id": "u-1",
                    "name": model.get("user") or "app",
                    "domain": {"id": "default", "name": "Default"},
                },
                "project": {
                    "id": "p-1",
                    "name": model.get("project") or "constellation",
                    "domain": {"id": "default", "name": "Default"},
                },
                "roles": [{"id": "r-1", "name": "member"}],
                "catalog": [
                    {
                        "type": "compute",
                        "name": "nova",
                        "id": "s-compute",
                        "endpoints": [
                            {
                                "id": "e-1",
                                "interface": "public",
                                "region": model.get("region"),
                                "region_id": model.get("region"),
                                "url": compute,
                            }
                        ],
                    },
                    {
                        "type": "identity",
                        "name": "keystone",
                        "id": "s-identity",
                        "endpoints": [
                            {
                                "id": "e-2",
                                "interface": "public",
                                "region": model.get("region"),
                                "region_id": model.get("region"),
                                "url": f"{self.base_url}/identity/v3",
                            }
                        ],
                    },
                ],
            }
        }
        return 201, answer, {"X-Subject-Token": token}

    # -- Nova ----------------------------------------------------------------------------------------------------
    def _compute_version(self) -> dict:
        return {
            "id": "v2.1",
            "status": "CURRENT",
            "version": MAX_MICROVERSION,
            "min_version": MIN_MICROVERSION,
            "updated": "2013-07-23T11:33:21Z",
            "links": [{"rel": "self", "href": f"{self.base_url}/compute/v2.1/"}],
        }

    def _servers(self, query: dict, microversion: tuple[int, int]) -> tuple[int, dict]:
        model = self.model()
        if model.get("deny"):
            return _error(403, "Policy doesn't allow os_compute_api:servers:detail to be performed.")
        servers = list(model.get("servers") or [])
        with_tags = microversion >= TAGS_MICROVERSION
        wanted = [tag for tag in (query.get("tags") or [""])[0].split(",") if tag] if with_tags else []
        servers = [s for s in servers if all(tag in (s.get("tags") or []) for tag in wanted)]
        marker = (query.get("marker") or [None])[0]
        if marker:
            ids = [s.get("id") for s in servers]
            if marker not in ids:
                return _error(400, f"marker [{marker}] not found")
            servers = servers[ids.index(marker) + 1 :]
        page = int((query.get("limit") or [model.get("page_size") or 1000])[0])
        page = min(page, int(model.get("page_size") or page))
        shown, rest = servers[:page], servers[page:]
        body = {"servers": [self._server(s, with_tags) for s in shown]}
        if rest:
            following = dict(query, marker=[shown[-1]["id"]], limit=[str(page)])
            body["servers_links"] = [
                {
                    "rel": "next",
                    "href": f"{self.base_url}/compute/v2.1/servers/detail?{urllib.parse.urlencode(following, doseq=True)}",
                }
            ]
        return 200, body

    @staticmethod
    def _server(server: dict, with_tags: bool) -> dict:
        shown = {
            "id": server.get("id"),
            "name": server.get("name"),
            "status": server.get("status", "ACTIVE"),
            "metadata": server.get("metadata") or {},
            "addresses": server.get("addresses") or {},
            "OS-EXT-STS:vm_state": "active",
            "links": [],
        }
        if with_tags:
            shown["tags"] = server.get("tags") or []
        return shown

    def _action(self, server_id: str, body: dict) -> tuple[int, dict]:
        server = next((s for s in self.model().get("servers") or [] if s.get("id") == server_id), None)
        if server is None:
            return _error(404, f"Instance {server_id} could not be found.")
        if "os-getConsoleOutput" not in body:
            return _error(400, "this double answers os-getConsoleOutput only")
        lines = (server.get("console") or "").splitlines(keepends=True)
        length = (body.get("os-getConsoleOutput") or {}).get("length")
        if length not in (None, ""):
            lines = lines[-int(length) :] if int(length) > 0 else []
        return 200, {"output": "".join(lines)}

    # -- routing -------------------------------------------------------------------------------------------------
    def handle(self, method: str, path: str, query: dict, headers, body: bytes) -> tuple[int, object, dict]:
        with self._lock:
            self.requests.append((method, path))
        if path.rstrip("/") in ("/identity", "/identity/v3") and method == "GET":
            return (*self._versions(path), {})
        if path == "/identity/v3/auth/tokens" and method == "POST":
            return self._token(json.loads(body or b"{}"))
        if path.rstrip("/") in ("/compute", "/compute/v2.1") and method == "GET":
            if path.rstrip("/") == "/compute":
                return 200, {"versions": [self._compute_version()]}, {}
            return 200, {"version": self._compute_version()}, {}
        if headers.get("X-Auth-Token") not in self._tokens:
            return 401, {"error": {"code": 401, "message": "The request you have made requires authentication."}}, {}
        malformed = self.model().get("malformed") or {}  # {"listing" or "console": a raw body answered with 200}
        if path == "/compute/v2.1/servers/detail" and method == "GET":
            if "listing" in malformed:
                return 200, malformed["listing"], {}
            return (*self._servers(query, _microversion(headers)), {})
        action = SERVER_ACTION.match(path)
        if action and method == "POST":
            if "console" in malformed:
                return 200, malformed["console"], {}
            return (*self._action(action.group(1), json.loads(body or b"{}")), {})
        return (*_error(404, f"no route for {method} {path}"), {})


def make_server(api: OpenStackApi, host: str, port: int = 0) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self, method: str) -> None:
            url = urllib.parse.urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            code, answer, headers = api.handle(method, url.path, urllib.parse.parse_qs(url.query), self.headers, body)
            reply(self, code, answer, headers=headers)

        def do_GET(self):  # noqa: N802 - http.server's name
            self._serve("GET")

        def do_POST(self):  # noqa: N802 - http.server's name
            self._serve("POST")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    api.base_url = f"http://{host}:{server.server_address[1]}"
    return server
