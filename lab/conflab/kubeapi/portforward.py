# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""``pods/{name}/portforward``: the WebSocket channel protocol (``v4.channel.k8s.io``) that the kubernetes client's
``portforward`` speaks, as kube-apiserver and the kubelet serve it.

Each forwarded port has a data channel (2i) and an error channel (2i+1); the server opens each with a frame of the
channel byte and the port number (two bytes, little endian), then every data frame is the channel byte and the
payload. The lab's forwarder pods relay their port 1313 to the Coordinator, as the socat pod of Contrast's recovery
guide relays to the ``coordinator`` Service. WebSocket framing comes from websocket-client, the client's own
library. Every relay ends by itself: when either side closes, when a frame stalls for FRAME_TIMEOUT seconds, or after
RELAY_LIMIT seconds.
"""

from __future__ import annotations

import base64
import hashlib
import select
import socket
import time
import urllib.parse

from websocket import ABNF, WebSocketException
from websocket._abnf import frame_buffer

PROTOCOL = "v4.channel.k8s.io"
WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
RELAY_PORT = 1313
RELAY_LIMIT = 600.0
FRAME_TIMEOUT = 30.0  # a client that stops in the middle of a frame
FORWARDER_PREFIX = "port-forwarder-coordinator"


def accept_key(key: str) -> str:
    return base64.b64encode(hashlib.sha1((key + WEBSOCKET_GUID).encode()).digest()).decode()


def _frame(data: bytes, opcode=ABNF.OPCODE_BINARY) -> bytes:
    """A server frame: never masked (RFC 6455 5.1)."""
    return ABNF(1, 0, 0, 0, opcode, 0, data).format()


def _running(pod: dict) -> bool:
    """As the kubelet: a port-forward needs a running pod, not a Ready one (a Coordinator in recovery mode is not)."""
    return (pod.get("status") or {}).get("phase") == "Running"


def _target(pod: dict, port: int, coordinator: tuple[str, int], coordinator_ports) -> tuple[str, int] | None:
    """Where the lab relays a port-forward: the guide's forwarder pod relays 1313 to the ``coordinator`` Service, a
    Coordinator pod serves its own user and mesh API ports on its pod IP; nothing else listens."""
    if pod["metadata"]["name"].startswith(FORWARDER_PREFIX):
        return coordinator if port == RELAY_PORT else None
    labels = pod["metadata"].get("labels") or {}
    pod_ip = (pod.get("status") or {}).get("podIP")
    if labels.get("app.kubernetes.io/name") == "coordinator" and pod_ip and port in coordinator_ports:
        return pod_ip, port
    return None


def forward(
    handler, pod: dict | None, query: str, coordinator: tuple[str, int], coordinator_ports=()
) -> tuple[int, str] | None:
    """Serve one port-forward on ``handler``'s connection. Returns (code, message) when the request is refused before
    the upgrade; None once the WebSocket has been served."""
    if pod is None:
        return 404, "pod not found"
    ports = urllib.parse.parse_qs(query).get("ports") or []
    offered = [p.strip() for p in (handler.headers.get("Sec-WebSocket-Protocol") or "").split(",")]
    key = handler.headers.get("Sec-WebSocket-Key")
    if len(ports) != 1 or not ports[0].isdigit() or PROTOCOL not in offered or not key:
        return 400, f"want one port, a Sec-WebSocket-Key and the {PROTOCOL} subprotocol"
    if not _running(pod):
        return 400, f"pod {pod['metadata']['name']} is not running"
    port = int(ports[0])
    handler.send_response(101, "Switching Protocols")
    handler.send_header("Upgrade", "websocket")
    handler.send_header("Connection", "Upgrade")
    handler.send_header("Sec-WebSocket-Accept", accept_key(key))
    handler.send_header("Sec-WebSocket-Protocol", PROTOCOL)
    handler.end_headers()
    handler.wfile.flush()
    handler.close_connection = True
    sock = handler.connection
    port_bytes = port.to_bytes(2, "little")
    sock.sendall(_frame(b"\x00" + port_bytes) + _frame(b"\x01" + port_bytes))
    target = _target(pod, port, coordinator, coordinator_ports)
    relays = target is not None
    try:
        upstream = socket.create_connection(target, timeout=10) if relays else None
    except OSError as exc:
        upstream = None
        reason = f"error forwarding port {port} to pod {pod['metadata']['name']}: {exc}"
    else:
        reason = None if relays else f"pod {pod['metadata']['name']} has nothing listening on port {port}"
    if upstream is None:
        sock.sendall(_frame(b"\x01" + reason.encode()) + _frame(b"", ABNF.OPCODE_CLOSE))
        return None
    try:
        _relay(sock, upstream)
    finally:
        upstream.close()
    return None


def _relay(sock, upstream) -> None:
    sock.settimeout(FRAME_TIMEOUT)
    try:
        _pump(sock, upstream)
    except (OSError, WebSocketException):
        return


def _pump(sock, upstream) -> None:
    frames = frame_buffer(sock.recv, skip_utf8_validation=True)
    ends = time.monotonic() + RELAY_LIMIT
    while time.monotonic() < ends:
        pending = sock.pending() if hasattr(sock, "pending") else 0
        readable = [sock] if pending else select.select([sock, upstream], [], [], 1.0)[0]
        if sock in readable:
            frame = frames.recv_frame()
            if frame.opcode == ABNF.OPCODE_CLOSE:
                return
            if frame.opcode == ABNF.OPCODE_BINARY and frame.data[:1] == b"\x00" and len(frame.data) > 1:
                upstream.sendall(frame.data[1:])
        if upstream in readable:
            data = upstream.recv(65536)
            if not data:
                sock.sendall(_frame(b"", ABNF.OPCODE_CLOSE))
                return
            sock.sendall(_frame(b"\x00" + data))
