# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""An Azure Resource Manager double on loopback, for the calls discovery and the boot-log lookup make.

Scale sets of one resource group, their VMs (with instance view), their NICs (the Network API's VMSS listing),
``restart`` of one scale-set VM (kept in ``restarts``), ``retrieveBootDiagnosticsData`` and the serial-console
blob it points to (served here too, SAS query and all), and
the Application Insights query API (``POST /v1/<component id>/query``) for the ``traces`` query of the disk UUID.
The model: ``{"subscription", "resource_group", "scale_sets": [{"name", "tags", "vms": [{"instance_id",
"computer_name", "power", "ip", "serial"}]}], "insights": {"<component>": [{"instance-name", "message"}]},
"throttle", "deny"}``. ``throttle`` answers that many requests with
429 and ``Retry-After: 0``; ``deny`` answers 403 AuthorizationFailed.
"""

from __future__ import annotations

import json
import re
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .http_double import reply

_RG = r"^/subscriptions/([^/]+)/resourceGroups/([^/]+)/providers/Microsoft.Compute/virtualMachineScaleSets"
SCALE_SETS = re.compile(_RG + r"$")
VMS = re.compile(_RG + r"/([^/]+)/virtualMachines$")
NICS = re.compile(_RG + r"/([^/]+)/networkInterfaces$")
RESTART = re.compile(_RG + r"/([^/]+)/virtualMachines/([^/]+)/restart$")
BOOT_DIAGNOSTICS = re.compile(_RG + r"/([^/]+)/virtualMachines/([^/]+)/retrieveBootDiagnosticsData$")
BLOB = re.compile(r"^/blob/([^/]+)/([^/]+)/serialconsole\.log$")
INSIGHTS_QUERY = re.compile(
    r"^/v1/subscriptions/([^/]+)/resourceGroups/([^/]+)/providers/Microsoft.Insights/components/([^/]+)/query$"
)
TRACE_OF_NODE = re.compile(r'customDimensions\["instance-name"\]\) == "([^"]+)"')


def _error(code: int, name: str, message: str) -> tuple[int, dict]:
    return code, {"error": {"code": name, "message": message}}


class ArmApi:
    def __init__(self, model, base_url: str = ""):
        self.model = model
        self.base_url = base_url
        self._lock = threading.Lock()
        self.throttled = 0
        self.requests: list[tuple[str, str]] = []
        self.restarts: list[tuple[str, str]] = []  # (scale set, instance ID)

    def handle(self, method: str, path: str, query: dict, body: bytes = b"") -> tuple[int, object]:
        model = self.model()
        with self._lock:
            self.requests.append((method, path))
            if self.throttled < int(model.get("throttle") or 0):
                self.throttled += 1
                return 429, {"error": {"code": "TooManyRequests", "message": "The request is being throttled."}}
        blob = BLOB.match(path)
        if blob:
            vm = self._vm(model, *blob.groups())
            return (
                (200, vm.get("serial", "")) if vm and "sig" in query else _error(403, "AuthenticationFailed", "no SAS")
            )
        if model.get("deny"):
            return _error(
                403,
                "AuthorizationFailed",
                "The client does not have authorization to perform action "
                "'Microsoft.Compute/virtualMachineScaleSets/read'",
            )
        insights = INSIGHTS_QUERY.match(path)
        if insights and method == "POST":
            return self._traces(model, *insights.groups(), json.loads(body or b"{}").get("query", ""))
        routes = (
            (SCALE_SETS, self._scale_sets),
            (VMS, self._vms),
            (NICS, self._nics),
            (BOOT_DIAGNOSTICS, self._boot_diagnostics),
        ) + (((RESTART, self._restart),) if method == "POST" else ())
        for pattern, answer in routes:
            match = pattern.match(path)
            if match:
                subscription, group = match.group(1), match.group(2)
                if (
                    subscription != model.get("subscription")
                    or group.lower() != model.get("resource_group", "").lower()
                ):
                    return _error(404, "ResourceGroupNotFound", f"Resource group '{group}' could not be found.")
                return answer(model, *match.groups()[2:])
        return _error(404, "NotFound", f"no route for {method} {path}")

    @staticmethod
    def _scale_set(model: dict, name: str) -> dict | None:
        return next((s for s in model.get("scale_sets") or [] if s["name"] == name), None)

    def _vm(self, model: dict, scale_set: str, instance_id: str) -> dict | None:
        found = self._scale_set(model, scale_set)
        return next((vm for vm in (found or {}).get("vms") or [] if vm["instance_id"] == instance_id), None)

    def _id(self, model: dict, *parts: str) -> str:
        return (
            f"/subscriptions/{model['subscription']}/resourceGroups/{model['resource_group']}/providers/"
            "Microsoft.Compute/virtualMachineScaleSets/" + "/".join(parts)
        )

    def _scale_sets(self, model: dict) -> tuple[int, dict]:
        return 200, {
            "value": [
                {
                    "name": s["name"],
                    "id": self._id(model, s["name"]),
                    "location": "westeurope",
                    "tags": s.get("tags") or {},
                }
                for s in model.get("scale_sets") or []
            ]
        }

    def _vms(self, model: dict, scale_set: str) -> tuple[int, dict]:
        found = self._scale_set(model, scale_set)
        if found is None:
            return _error(404, "ResourceNotFound", f"scale set {scale_set} not found")
        return 200, {
            "value": [
                {
                    "name": f"{scale_set}_{vm['instance_id']}",
                    "instanceId": vm["instance_id"],
                    "location": "westeurope",
                    "id": self._id(model, scale_set, "virtualMachines", vm["instance_id"]),
                    "tags": found.get("tags") or {},
                    "properties": {
                        "osProfile": {"computerName": vm["computer_name"]},
                        "instanceView": {
                            "statuses": [
                                {"code": "ProvisioningState/succeeded"},
                                {"code": f"PowerState/{vm.get('power', 'running')}"},
                            ]
                        },
                    },
                }
                for vm in found.get("vms") or []
            ]
        }

    def _nics(self, model: dict, scale_set: str) -> tuple[int, dict]:
        found = self._scale_set(model, scale_set) or {}
        return 200, {
            "value": [
                {
                    "name": "node-network",
                    "properties": {
                        "virtualMachine": {"id": self._id(model, scale_set, "virtualMachines", vm["instance_id"])},
                        "ipConfigurations": [
                            {"name": "node-network", "properties": {"primary": True, "privateIPAddress": vm["ip"]}}
                        ],
                    },
                }
                for vm in found.get("vms") or []
                if vm.get("ip")
            ]
        }

    @staticmethod
    def _traces(model: dict, subscription: str, group: str, component: str, query: str) -> tuple[int, dict]:
        """The newest trace of one node that mentions Disk UUID: what the collection's query asks, no other KQL."""
        traces = (model.get("insights") or {}).get(component)
        if subscription != model.get("subscription") or traces is None:
            return _error(
                404, "ResourceNotFound", f"The Resource 'Microsoft.Insights/components/{component}' was not found."
            )
        node = TRACE_OF_NODE.search(query)
        rows = [
            [t["message"]]
            for t in traces
            if "Disk UUID" in t["message"] and node and t.get("instance-name") == node.group(1)
        ]
        return 200, {
            "tables": [{"name": "PrimaryResult", "columns": [{"name": "message", "type": "string"}], "rows": rows[-1:]}]
        }

    def _restart(self, model: dict, scale_set: str, instance_id: str) -> tuple[int, dict]:
        if self._vm(model, scale_set, instance_id) is None:
            return _error(404, "NotFound", f"The entity {scale_set}/{instance_id} was not found")
        with self._lock:
            self.restarts.append((scale_set, instance_id))
        return 200, {}

    def _boot_diagnostics(self, model: dict, scale_set: str, instance_id: str) -> tuple[int, dict]:
        if self._vm(model, scale_set, instance_id) is None:
            return _error(404, "NotFound", f"The entity {scale_set}/{instance_id} was not found")
        blob = f"{self.base_url}/blob/{scale_set}/{instance_id}/serialconsole.log?sv=2021-08-06&sig=lab"
        return 200, {"serialConsoleLogBlobUri": blob, "consoleScreenshotBlobUri": blob.replace(".log", ".bmp")}


def make_server(api: ArmApi, host: str, port: int = 0) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, fmt, *args):
            return

        def _serve(self, method: str) -> None:
            parsed = urllib.parse.urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            request = self.rfile.read(length) if length else b""
            code, body = api.handle(method, parsed.path, urllib.parse.parse_qs(parsed.query), request)
            reply(self, code, body, "application/json", {"Retry-After": "0"} if code == 429 else None)

        def do_GET(self):
            self._serve("GET")

        def do_POST(self):
            self._serve("POST")

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    api.base_url = f"http://{host}:{server.server_address[1]}"
    return server
