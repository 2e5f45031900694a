# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The RejoinClient every waiting node runs (ansible_collections/confidential/recovery/docs/constellation-protocol.md,
Flow): ask the JoinService for its keys, every interval."""

from __future__ import annotations

import os
import socket
import ssl
import threading
from pathlib import Path

import grpc

from .._generated import join_pb2, join_pb2_grpc
from ..atls_client import connect_atls, serve_once
from .node_certs import DummyAttestationIssuer

GROUP = "rejoinClient"


def request_ticket(host: str, port: int, disk_uuid: str, cert_file: Path, timeout: float):
    """One IssueRejoinTicket call; returns the response or raises (OSError, ssl.SSLError, grpc.RpcError)."""
    tls = connect_atls(host, port, cert_file, timeout)
    local_port = serve_once(tls, timeout + 5)
    with grpc.insecure_channel(f"127.0.0.1:{local_port}") as channel:
        stub = join_pb2_grpc.APIStub(channel)
        return stub.IssueRejoinTicket(join_pb2.IssueRejoinTicketRequest(disk_uuid=disk_uuid), timeout=timeout)


def _describe(exc: Exception) -> str:
    if isinstance(exc, grpc.RpcError):
        return f"rpc error: code = {exc.code().name.title().replace('_', '')} desc = {exc.details()}"
    if isinstance(exc, ConnectionRefusedError):
        return "connect: connection refused"
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return "dial tcp: i/o timeout"
    return str(exc)


class RejoinClient:
    def __init__(self, lab: dict, node: dict, console, on_ticket, node_dir: Path, legacy_lines: bool = False):
        self.lab, self.node, self.console = lab, node, console
        self.on_ticket = on_ticket
        self.node_dir = Path(node_dir)
        self.legacy_lines = legacy_lines
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rejoin-client", daemon=True)

    def endpoints(self) -> list[str]:
        port = self.lab["load_balancer"]["join_port"]
        others = [n["ip"] for n in self.lab["nodes"] if n["role"] == "control-plane" and n["name"] != self.node["name"]]
        return [f"{ip}:{port}" for ip in [self.lab["load_balancer"]["ip"], *others]]

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if not self._stop.is_set():
            self._stop.set()
            self.console.log("INFO", "RejoinClient stopped", group=GROUP)

    def _client_cert_file(self) -> Path:
        path = self.node_dir / "rejoin-client.pem"
        cert_pem, key_pem = DummyAttestationIssuer().client_identity()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(cert_pem + key_pem)
        return path

    def _run(self) -> None:
        interval = float(self.lab["rejoin_interval"])
        timeout = min(30.0, interval)
        cert_file = self._client_cert_file()
        while not self._stop.is_set():
            endpoints = self.endpoints()
            self.console.log("INFO", "Received list with JoinService endpoints", group=GROUP, endpoints=endpoints)
            for endpoint in endpoints:
                if self._stop.is_set():
                    return
                host, port = endpoint.rsplit(":", 1)
                self.console.log("INFO", "Requesting rejoin ticket", group=GROUP, endpoint=endpoint)
                try:
                    ticket = request_ticket(host, int(port), self.node["disk_uuid"], cert_file, timeout)
                except (OSError, ssl.SSLError, grpc.RpcError) as exc:
                    if self.legacy_lines:
                        self.console.log(
                            "ERROR",
                            "Failed to request rejoin ticket",
                            group=GROUP,
                            error=_describe(exc),
                            endpoint=endpoint,
                        )
                    else:
                        self.console.log(
                            "WARN", "Failed to rejoin on endpoint", group=GROUP, error=_describe(exc), endpoint=endpoint
                        )
                    continue
                if self._stop.is_set():
                    return
                self.console.log("INFO", "Successfully retrieved rejoin ticket", group=GROUP)
                self._stop.set()
                self.on_ticket(ticket.state_disk_key, ticket.measurement_secret)
                return
            if not self.legacy_lines:
                self.console.log("ERROR", "Failed to rejoin on all endpoints", group=GROUP)
            self._stop.wait(interval)
