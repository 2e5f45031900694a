# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The lab's aTLS client side: open TLS with a nonce (SNI, optionally ALPN too), then let a
plaintext grpcio channel ride on it through a one-shot loopback forwarder.

grpcio cannot set a per-connection nonce or present a per-connection certificate, so the TLS
connection is made here and grpcio only sees a loopback TCP port.
"""

from __future__ import annotations

import base64
import secrets
import select
import socket
import ssl
import threading
from pathlib import Path


def connect_atls(
    host: str, port: int, cert_file: Path | None, timeout: float, alpn_nonce: bool = False, nonce: bytes | None = None
) -> ssl.SSLSocket:
    """``nonce``: the caller's, when it checks the server's evidence against it; else a fresh one."""
    nonce = nonce or secrets.token_bytes(32)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(([f"atls:v1:nonce:{nonce.hex()}"] if alpn_nonce else []) + ["h2"])
    if cert_file is not None:
        ctx.load_cert_chain(cert_file)
    raw = socket.create_connection((host, port), timeout=timeout)
    try:
        return ctx.wrap_socket(raw, server_hostname=base64.b64encode(nonce).decode())
    except BaseException:
        raw.close()
        raise


def _pump(tls: ssl.SSLSocket, plain: socket.socket, idle: float) -> None:
    try:
        while True:
            ready = [tls] if tls.pending() else select.select([tls, plain], [], [], idle)[0]
            if not ready:
                return
            for sock in ready:
                other = plain if sock is tls else tls
                try:
                    data = sock.recv(65536)
                except ssl.SSLWantReadError:
                    continue
                if not data:
                    return
                other.sendall(data)
    except OSError:
        return
    finally:
        for sock in (tls, plain):
            try:
                sock.close()
            except OSError:
                pass


def serve_once(tls: ssl.SSLSocket, idle: float) -> int:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(idle)

    def run():
        try:
            plain, _ = listener.accept()
        except OSError:
            tls.close()
            return
        finally:
            listener.close()
        _pump(tls, plain, idle)

    threading.Thread(target=run, daemon=True).start()
    return listener.getsockname()[1]
