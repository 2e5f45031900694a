# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""A hostile recovery server in place of a node: ``python -m conflab.faults --dir D --name N --kind K``.

- stall:     accepts TCP and never answers the TLS handshake;
- drop:      reads the ClientHello and closes the connection mid-handshake;
- plain-tls: completes TLS with a certificate that carries no attestation;
- http:      answers in plain HTTP/1.1, as a misrouted web server would;
- malformed: passes the lab's attestation, then answers the RPC with bytes that are not HTTP/2.
"""

from __future__ import annotations

import argparse
import json
import signal
import socket
import threading
from pathlib import Path

from .atls_server import AtlsTerminator
from .constellation.node_certs import DummyAttestationIssuer

KINDS = ("stall", "drop", "plain-tls", "http", "malformed")
HOLD_SECONDS = 600.0


def _listen(host: str, port: int) -> socket.socket:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.listen(64)
    return listener


def _serve_raw(listener: socket.socket, handle) -> None:
    while True:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        threading.Thread(target=handle, args=(conn,), daemon=True).start()


def _stall(conn: socket.socket) -> None:
    timer = threading.Timer(HOLD_SECONDS, conn.close)
    timer.daemon = True
    timer.start()


def _drop(conn: socket.socket) -> None:
    conn.settimeout(5)
    try:
        conn.recv(4096)
    except OSError:
        pass
    conn.close()


def _http(conn: socket.socket) -> None:
    conn.settimeout(5)
    try:
        conn.recv(4096)
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    except OSError:
        pass
    conn.close()


def _garbage_backend() -> int:
    """A loopback backend that answers anything with bytes that are no HTTP/2 frame."""
    listener = _listen("127.0.0.1", 0)

    def handle(conn: socket.socket) -> None:
        conn.settimeout(5)
        try:
            conn.recv(4096)
            conn.sendall(b"\x00\x00\x04\x09\xff\xff\xff\xffnot a frame" * 4)
        except OSError:
            pass
        conn.close()

    threading.Thread(target=_serve_raw, args=(listener, handle), daemon=True).start()
    return listener.getsockname()[1]


def start(kind: str, host: str, port: int):
    issuer = DummyAttestationIssuer()
    if kind == "plain-tls":
        terminator = AtlsTerminator(host, port, _garbage_backend(), issuer.issue_plain)
        terminator.start()
        return terminator
    if kind == "malformed":
        terminator = AtlsTerminator(host, port, _garbage_backend(), issuer.issue)
        terminator.start()
        return terminator
    handler = {"stall": _stall, "drop": _drop, "http": _http}[kind]
    listener = _listen(host, port)
    threading.Thread(target=_serve_raw, args=(listener, handler), daemon=True).start()
    return listener


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="conflab-fault")
    parser.add_argument("--dir", required=True, type=Path)
    parser.add_argument("--name", required=True)
    parser.add_argument("--kind", required=True, choices=KINDS)
    args = parser.parse_args(argv)
    lab = json.loads((args.dir / "lab.json").read_text())
    node = next(n for n in lab["nodes"] if n["name"] == args.name)
    start(args.kind, node["ip"], lab["recovery_port"])
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    while not stopped.wait(1.0):
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
