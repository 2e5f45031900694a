# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""A Compute Engine API double on loopback: ``python -m conflab.gce_api --dir D`` serves the lab as a GCP project.

It answers the REST calls that discovery and the boot-log lookup make, in the JSON shape of compute/v1 and
logging/v2:

- ``GET /compute/v1/projects/{project}/aggregated/instances?filter=&maxResults=&pageToken=``: the instances,
  grouped by ``zones/{zone}``, filtered by ``labels.KEY:VALUE`` or ``labels.KEY = "VALUE"``; paged.
- ``GET /compute/v1/projects/{project}/zones/{zone}/instances/{name}/serialPort?port=1&start=N``: the serial
  console, with Compute Engine's retention window: a ``start`` older than the window moves forward and is echoed.
- ``POST /compute/v1/projects/{project}/zones/{zone}/instances/{name}/reset``: a hard reset, answered with a
  finished zone Operation (and ``GET .../zones/{zone}/operations/{operation}`` for a client that polls). Every reset
  is kept in ``resets``; the lab's model also reboots the node (its state disk locked again).
- ``POST /v2/entries:list``: the model's ``log_entries`` (LogEntry JSON) of the filter's log name and
  ``resource.labels.instance_id``, newest first, as CLI v2.0 to v2.15 clusters wrote their disk UUIDs.

The model (a dict) comes from a callable, so the lab serves its live nodes and tests serve fixtures. Fault
switches in the model: ``throttle`` (that many requests answer 429 first), ``deny`` (every request answers 403),
``deny_logging`` (only the Logging API answers 403).
"""

from __future__ import annotations

import argparse
import json
import re
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from .http_double import reply

AGGREGATED = re.compile(r"^/compute/v1/projects/([^/]+)/aggregated/instances$")
SERIAL = re.compile(r"^/compute/v1/projects/([^/]+)/zones/([^/]+)/instances/([^/]+)/serialPort$")
RESET = re.compile(r"^/compute/v1/projects/([^/]+)/zones/([^/]+)/instances/([^/]+)/reset$")
OPERATION = re.compile(r"^/compute/v1/projects/([^/]+)/zones/([^/]+)/operations/([^/]+)$")
LOG_ENTRIES = "/v2/entries:list"
FILTER_TERM = re.compile(r'([\w.]+)(=|:)"([^"]*)"')
LABEL_FILTER = re.compile(r'^labels\.([\w-]+)\s*(?::\s*|=\s*)"?([^"\s]*)"?$')
SERIAL_WINDOW = 1024 * 1024  # Compute Engine keeps the last 1 MB of each serial port


def _error(code: int, reason: str, message: str) -> tuple[int, dict]:
    return code, {"error": {"code": code, "message": message, "errors": [{"reason": reason, "message": message}]}}


class GceApi:
    def __init__(self, model, on_reset=None):
        self.model = model  # callable returning {"project", "instances": [...], "throttle", "deny", "page_size", ...}
        self.on_reset = on_reset  # called with the instance's name after a reset was accepted
        self._lock = threading.Lock()
        self.throttled = 0
        self.requests: list[str] = []
        self.resets: list[tuple[str, str, str]] = []  # (project, zone, name)

    def handle(self, path: str, query: dict) -> tuple[int, dict]:
        model = self.model()
        with self._lock:
            self.requests.append(path)
            if self.throttled < int(model.get("throttle") or 0):
                self.throttled += 1
                return _error(429, "rateLimitExceeded", "Quota exceeded for quota metric 'Read requests'")
        if model.get("deny"):
            return _error(
                403, "forbidden", f"Required 'compute.instances.list' permission for 'projects/{model.get('project')}'"
            )
        match = AGGREGATED.match(path)
        if match:
            return self._aggregated(model, match.group(1), query)
        match = SERIAL.match(path)
        if match:
            return self._serial(model, *match.groups(), query)
        match = OPERATION.match(path)
        if match:
            return 200, self._operation(*match.groups(), "reset")
        return _error(404, "notFound", f"The resource '{path}' was not found")

    def reset(self, path: str) -> tuple[int, dict]:
        model = self.model()
        with self._lock:
            self.requests.append(path)
        if model.get("deny"):
            return _error(403, "forbidden", "Required 'compute.instances.reset' permission")
        match = RESET.match(path)
        if not match:
            return _error(404, "notFound", f"no route for POST {path}")
        project, zone, name = match.groups()
        if project != model.get("project") or not self._find(model, zone, name):
            return _error(
                404, "notFound", f"The resource 'projects/{project}/zones/{zone}/instances/{name}' was not found"
            )
        with self._lock:
            self.resets.append((project, zone, name))
            number = len(self.resets)
        if self.on_reset is not None:
            self.on_reset(name)
        return 200, self._operation(project, zone, f"operation-reset-{number}", "reset", name)

    @staticmethod
    def _operation(project: str, zone: str, name: str, kind: str, instance: str = "") -> dict:
        zone_url = f"https://www.googleapis.com/compute/v1/projects/{project}/zones/{zone}"
        return {
            "kind": "compute#operation",
            "id": name.rsplit("-", 1)[-1],
            "name": name,
            "operationType": kind,
            "status": "DONE",
            "progress": 100,
            "zone": zone_url,
            "selfLink": f"{zone_url}/operations/{name}",
            "targetLink": f"{zone_url}/instances/{instance}" if instance else "",
        }

    @staticmethod
    def _find(model: dict, zone: str, name: str) -> dict | None:
        return next(
            (i for i in model.get("instances") or [] if i["name"] == name and i["zone"].endswith(f"/zones/{zone}")),
            None,
        )

    def entries(self, body: dict) -> tuple[int, dict]:
        model = self.model()
        with self._lock:
            self.requests.append(LOG_ENTRIES)
        if model.get("deny") or model.get("deny_logging"):
            return _error(
                403, "forbidden", "Permission 'logging.logEntries.list' denied on resource (or it may not exist)."
            )
        terms = {key: value for key, _op, value in FILTER_TERM.findall(body.get("filter", ""))}
        found = [
            entry
            for entry in model.get("log_entries") or []
            if entry.get("logName") == terms.get("logName")
            and entry.get("resource", {}).get("labels", {}).get("instance_id")
            == terms.get("resource.labels.instance_id")
            and terms.get("textPayload", "") in entry.get("textPayload", "")
        ]
        return 200, {"entries": sorted(found, key=lambda entry: entry.get("timestamp", ""), reverse=True)}

    @staticmethod
    def _selected(instances: list[dict], expression: str) -> list[dict] | None:
        if not expression:
            return instances
        match = LABEL_FILTER.match(expression.strip())
        if not match:
            return None
        key, value = match.groups()
        return [i for i in instances if (i.get("labels") or {}).get(key) == value]

    def _aggregated(self, model: dict, project: str, query: dict) -> tuple[int, dict]:
        if project != model.get("project"):
            return _error(404, "notFound", f"The resource 'projects/{project}' was not found")
        instances = self._selected(
            [self._public(i) for i in model.get("instances") or []], query.get("filter", [""])[0]
        )
        if instances is None:
            return _error(400, "invalid", f"Invalid value for field 'filter': '{query['filter'][0]}'")
        size = int(query.get("maxResults", [model.get("page_size") or 500])[0])
        offset = int(query.get("pageToken", ["0"])[0] or 0)
        page = instances[offset : offset + size]
        items: dict = {
            f"zones/{zone}": {"warning": {"code": "NO_RESULTS_ON_PAGE", "message": "no results"}}
            for zone in model.get("zones") or []
        }
        for instance in page:
            zone = instance["zone"].rsplit("/", 1)[-1]
            items.setdefault(f"zones/{zone}", {}).pop("warning", None)
            items[f"zones/{zone}"].setdefault("instances", []).append(instance)
        body = {"kind": "compute#instanceAggregatedList", "items": items}
        if offset + size < len(instances):
            body["nextPageToken"] = str(offset + size)
        return 200, body

    @staticmethod
    def _public(instance: dict) -> dict:
        return {k: v for k, v in instance.items() if not k.startswith("_")}

    def _serial(self, model: dict, project: str, zone: str, name: str, query: dict) -> tuple[int, dict]:
        instance = self._find(model, zone, name)
        if project != model.get("project") or instance is None:
            return _error(
                404, "notFound", f"The resource 'projects/{project}/zones/{zone}/instances/{name}' was not found"
            )
        text = instance.get("_serial", "")
        if instance.get("_serial_file"):
            try:
                text = Path(instance["_serial_file"]).read_text(errors="replace")
            except OSError:
                text = ""
        data = text.encode()
        window = int(model.get("serial_window") or SERIAL_WINDOW)
        first = max(0, len(data) - window)
        start = max(first, int(query.get("start", ["0"])[0] or 0))
        return 200, {
            "kind": "compute#serialPortOutput",
            "contents": data[start:].decode(errors="replace"),
            "start": str(start),
            "next": str(len(data)),
        }


def make_server(api: GceApi, host: str, port: int = 0) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, fmt, *args):
            return

        def do_GET(self):
            parsed = urllib.parse.urlsplit(self.path)
            reply(self, *api.handle(parsed.path, urllib.parse.parse_qs(parsed.query)))

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            request = json.loads(self.rfile.read(length) or b"{}") if length else {}
            path = urllib.parse.urlsplit(self.path).path
            reply(self, *(api.entries(request) if path == LOG_ENTRIES else api.reset(path)))

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server


def lab_model(lab_dir: Path):
    """The lab's nodes as Compute Engine instances, read afresh on every request (nodes come and go)."""

    def model() -> dict:
        config = json.loads((lab_dir / "lab.json").read_text())
        cloud = config["cloud"]
        state = (
            json.loads((lab_dir / "cloud-state.json").read_text()) if (lab_dir / "cloud-state.json").exists() else {}
        )
        zone_url = f"https://www.googleapis.com/compute/v1/projects/{cloud['project']}/zones/{cloud['zone']}"
        instances = []
        for number, node in enumerate(config["nodes"], start=1):
            labels = {
                "constellation-uid": cloud["uid"],
                "constellation-role": node["role"],
                "constellation-node-group": "control_plane_default"
                if node["role"] == "control-plane"
                else "worker_default",
            }
            instances.append(
                {
                    "kind": "compute#instance",
                    "id": str(number),
                    "name": node["name"],
                    "zone": zone_url,
                    "status": "RUNNING",
                    "labels": labels,
                    "networkInterfaces": [{"name": "nic0", "networkIP": node["ip"]}],
                    "_serial_file": str(lab_dir / "nodes" / node["name"] / "console.log"),
                }
            )
        return {"project": cloud["project"], "zones": [cloud["zone"]], "instances": instances, **state}

    return model


def lab_reset(lab_dir: Path):
    """A reset of a lab node reboots it as ``conflab break --reboot NAME`` does, and is written to
    ``cloud-operations.log`` (one JSON line per operation), so that tests see exactly which nodes the cloud reset."""
    from . import processes
    from .cli import load_config, start_node  # the node's process control lives with the CLI

    def reset(name: str) -> None:
        config = load_config(lab_dir)
        node = next(n for n in config["nodes"] if n["name"] == name)
        processes.stop(lab_dir, name)
        start_node(config, node, "reboot")
        with (lab_dir / "cloud-operations.log").open("a") as log:
            log.write(json.dumps({"operation": "reset", "instance": name, "at": time.time()}) + "\n")

    return reset


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="conflab-gce-api")
    parser.add_argument("--dir", required=True, type=Path)
    args = parser.parse_args(argv)
    config = json.loads((args.dir / "lab.json").read_text())
    api = GceApi(lab_model(args.dir), on_reset=lab_reset(args.dir))
    server = make_server(api, config["cloud"]["ip"], config["cloud"]["port"])
    server.serve_forever(poll_interval=0.5)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
