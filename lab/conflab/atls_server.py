# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Lab aTLS terminator: TLS with a per-connection, nonce-bound certificate, then plaintext
HTTP/2 forwarded to a real ``grpc.server`` on a loopback port.

The nonce arrives as SNI (padded standard base64) and, when ``alpn_nonce`` is on, as an
``atls:v1:nonce:<hex>`` ALPN protocol, which wins. ``issue_cert(nonce)`` returns the
(cryptography) certificate and key to serve for that nonce. When ``request_client_cert``
is on, the CertificateRequest carries exactly one CA DN, ``CN=<b64 server nonce>``; any
self-signed client certificate is accepted and recorded, keyed by the forwarder's local
port, so the gRPC servicer can find it through ``context.peer()``.
"""

from __future__ import annotations

import base64
import binascii
import logging
import secrets
import select
import socket
import threading
import time

from OpenSSL import SSL, crypto

log = logging.getLogger(__name__)

ATLS_ALPN_PREFIX = b"atls:"
ATLS_ALPN_V1 = b"atls:v1:nonce:"


class _Reject(Exception):
    pass


def _retry(op, sock, deadline):
    while True:
        try:
            return op()
        except SSL.WantReadError:
            want = ([sock], [])
        except SSL.WantWriteError:
            want = ([], [sock])
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("TLS operation timed out")
        select.select(want[0], want[1], [], remaining)


class AtlsTerminator:
    def __init__(
        self,
        host: str,
        port: int,
        backend_port: int,
        issue_cert,
        *,
        alpn_nonce: bool = False,
        request_client_cert: bool = False,
        handshake_timeout: float = 25.0,
        idle_timeout: float = 120.0,
    ):
        self.host, self.port, self.backend_port = host, port, backend_port
        self.issue_cert = issue_cert
        self.alpn_nonce = alpn_nonce
        self.request_client_cert = request_client_cert
        self.handshake_timeout = handshake_timeout
        self.idle_timeout = idle_timeout
        self._peer_certs: dict[int, object] = {}
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._stopped = threading.Event()

    # -- public -----------------------------------------------------------
    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept_loop, name=f"atls-{self.host}:{self.port}", daemon=True).start()

    def stop(self) -> None:
        """Close the listener: later connects are refused, as on a node that got its key."""
        self._stopped.set()
        if self._listener is not None:
            try:
                self._listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._listener.close()
            self._listener = None

    def client_cert_for_peer(self, peer: str):
        """Map a grpc ``context.peer()`` such as ``ipv4:127.0.0.1:41234`` to the TLS client cert (or None)."""
        try:
            port = int(peer.rsplit(":", 1)[1])
        except (IndexError, ValueError):
            return None
        with self._lock:
            return self._peer_certs.get(port)

    # -- internals --------------------------------------------------------
    def _accept_loop(self) -> None:
        while not self._stopped.is_set():
            listener = self._listener
            if listener is None:
                return
            try:
                client, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _context(self, state: dict) -> SSL.Context:
        ctx = SSL.Context(SSL.TLS_SERVER_METHOD)
        ctx.set_min_proto_version(SSL.TLS1_2_VERSION)

        def on_servername(conn):
            sni = conn.get_servername()
            nonce = b""
            if sni:
                try:
                    nonce = base64.b64decode(sni, validate=True)
                except (binascii.Error, ValueError):
                    state["error"] = "invalid nonce in SNI"
                    return
            state["nonce"] = nonce
            self._use_cert(conn, nonce)

        ctx.set_tlsext_servername_callback(on_servername)

        def on_alpn(conn, protos):
            if self.alpn_nonce:
                for proto in protos:
                    if proto.startswith(ATLS_ALPN_PREFIX):
                        if not proto.startswith(ATLS_ALPN_V1):
                            state["error"] = "proto refers to an unsupported atls version"
                            return SSL.NO_OVERLAPPING_PROTOCOLS
                        try:
                            nonce = bytes.fromhex(proto[len(ATLS_ALPN_V1) :].decode())
                        except ValueError:
                            state["error"] = "invalid nonce in ALPN"
                            return SSL.NO_OVERLAPPING_PROTOCOLS
                        state["nonce"] = nonce
                        self._use_cert(conn, nonce)
                        break
            if b"h2" not in protos:
                return SSL.NO_OVERLAPPING_PROTOCOLS
            return b"h2"

        ctx.set_alpn_select_callback(on_alpn)
        if self.request_client_cert:
            ctx.set_verify(SSL.VERIFY_PEER, lambda *args: True)
            name = crypto.X509().get_subject()
            name.CN = base64.b64encode(secrets.token_bytes(32)).decode()
            ctx.set_client_ca_list([name])
        return ctx

    def _use_cert(self, conn, nonce: bytes) -> None:
        cert, key = self.issue_cert(nonce)
        conn.use_certificate(cert)
        conn.use_privatekey(key)

    def _serve(self, client: socket.socket) -> None:
        state: dict = {}
        backend = None
        local_port = None
        try:
            client.setblocking(False)
            conn = SSL.Connection(self._context(state), client)
            conn.set_accept_state()
            try:
                _retry(conn.do_handshake, client, time.monotonic() + self.handshake_timeout)
            except (SSL.Error, TimeoutError, OSError) as exc:
                log.info("aTLS handshake failed: %s %s", state.get("error", ""), exc)
                return
            if "nonce" not in state:
                log.info("aTLS: no nonce in supported protos or SNI")
                return
            backend = socket.create_connection(("127.0.0.1", self.backend_port), timeout=5)
            backend.setblocking(False)
            local_port = backend.getsockname()[1]
            peer = conn.get_peer_certificate()
            with self._lock:
                self._peer_certs[local_port] = peer.to_cryptography() if peer is not None else None
            self._pump(conn, client, backend)
        except Exception:  # noqa: BLE001 - a lab connection must never take the server down
            log.exception("aTLS connection failed")
        finally:
            if local_port is not None:
                with self._lock:
                    self._peer_certs.pop(local_port, None)
            for sock in (client, backend):
                if sock is not None:
                    try:
                        sock.close()
                    except OSError:
                        pass

    def _pump(self, conn, client, backend) -> None:
        """Copy bytes both ways in one thread: one TLS object must never be used from two threads."""
        while True:
            readable = [client, backend]
            if conn.pending():
                ready = [client]
            else:
                ready, _, _ = select.select(readable, [], [], self.idle_timeout)
                if not ready:
                    return
            if client in ready:
                try:
                    data = conn.recv(65536)
                except SSL.WantReadError:
                    data = None
                except (SSL.ZeroReturnError, SSL.SysCallError, SSL.Error):
                    return
                if data == b"":
                    return
                if data:
                    backend.setblocking(True)
                    backend.sendall(data)
                    backend.setblocking(False)
            if backend in ready:
                try:
                    data = backend.recv(65536)
                except BlockingIOError:
                    continue
                except OSError:
                    return
                if not data:
                    try:
                        conn.shutdown()
                    except SSL.Error:
                        pass
                    return
                view = memoryview(data)
                deadline = time.monotonic() + self.idle_timeout
                while view:
                    chunk = view.tobytes()[:16384]
                    sent = _retry(lambda chunk=chunk: conn.send(chunk), client, deadline)
                    view = view[sent:]
