# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""Attested TLS (aTLS) client.

The client sends a fresh 32-byte nonce in the ClientHello (as SNI in padded standard
base64, and optionally also as an ``atls:v1:nonce:<hex>`` ALPN protocol), then validates
the server's per-connection certificate with a pluggable validator *before* any
application byte is written. Only a socket whose peer passed validation is returned.
"""

from __future__ import annotations

import base64
import errno
import os
import secrets
import shutil
import socket
import ssl
import tempfile
from dataclasses import dataclass, field

from ._addresses import join_host_port

NONCE_SIZE = 32


class AtlsError(Exception):
    """Base class for everything that can go wrong while opening an aTLS connection."""


class Unreachable(AtlsError):
    """The TCP connection timed out or had no route: the host is down or filtered."""


class ConnectionRefused(AtlsError):
    """The port is closed. A recovery server closes its port once it has its key."""


class HandshakeFailed(AtlsError):
    """TCP connected but TLS did not complete: the peer does not speak TLS as expected (protocol alert)."""


class HandshakeTimeout(HandshakeFailed):
    """TCP connected but no TLS answer in time: a stalled server, a worker's stub, or a load balancer in flux."""


class HandshakeDropped(HandshakeFailed):
    """The peer closed or reset the connection during the handshake (a load balancer whose backend just left)."""


class AttestationFailed(AtlsError):
    """The peer completed TLS but its attestation did not validate. Nothing was sent."""


@dataclass
class ClientIdentity:
    """A client certificate and its key, both PEM bytes (the key stays in memory or a 0600 temp file)."""

    cert_pem: bytes
    key_pem: bytes


@dataclass
class AttestedConnection:
    sock: ssl.SSLSocket
    nonce: bytes
    peer_cert_der: bytes
    evidence: dict = field(default_factory=dict)
    alpn: str | None = None

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def encode_nonce_sni(nonce: bytes) -> str:
    return base64.b64encode(nonce).decode("ascii")


def encode_nonce_alpn(nonce: bytes) -> str:
    return "atls:v1:nonce:" + nonce.hex()


def _client_context(identity: ClientIdentity | None, alpn: list[str]) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    # Certificate trust is decided by the attestation validator, not by a CA store.
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(alpn)
    if identity is not None:
        _load_identity(ctx, identity)
    return ctx


def _load_identity(ctx: ssl.SSLContext, identity: ClientIdentity) -> None:
    # ssl only loads keys from files: use a private directory, readable by us only, and remove it at once.
    tmpdir = tempfile.mkdtemp(prefix="atls-client-")
    try:
        os.chmod(tmpdir, 0o700)
        cert_path = os.path.join(tmpdir, "cert.pem")
        key_path = os.path.join(tmpdir, "key.pem")
        for path, data in ((cert_path, identity.cert_pem), (key_path, identity.key_pem)):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
        ctx.load_cert_chain(cert_path, key_path)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


def connect(
    host: str,
    port: int,
    validator,
    timeout: float = 10.0,
    identity: ClientIdentity | None = None,
    nonce_in_alpn: bool = False,
    dial=None,
) -> AttestedConnection:
    """Open TCP + TLS to host:port and validate the peer with ``validator``.

    ``validator.validate(cert_der, nonce)`` must return a dict of evidence or raise
    AttestationFailed. On any failure the socket is closed without writing application data.
    ``dial()``, when given, opens the stream instead of TCP (a port-forward through the Kubernetes API); ``host`` and
    ``port`` then only name the peer in messages. TLS and attestation run over it unchanged.
    """
    nonce = secrets.token_bytes(NONCE_SIZE)
    alpn = ([encode_nonce_alpn(nonce)] if nonce_in_alpn else []) + ["h2"]
    ctx = _client_context(identity, alpn)
    address = join_host_port(host, port)
    try:
        raw = dial() if dial else socket.create_connection((host, port), timeout=timeout)
    except ConnectionRefusedError as exc:
        raise ConnectionRefused(f"{address}: connection refused") from exc
    except TimeoutError as exc:
        raise Unreachable(f"{address}: TCP connect timed out after {timeout:g}s") from exc
    except OSError as exc:
        raise Unreachable(f"{address}: {exc.strerror or exc}") from exc
    raw.settimeout(timeout)
    try:
        tls = ctx.wrap_socket(raw, server_hostname=encode_nonce_sni(nonce))
    except TimeoutError as exc:
        raw.close()
        raise HandshakeTimeout(
            f"{address}: TCP connected but no TLS handshake within {timeout:g}s "
            "(a stalled server, a worker node's recovery stub, or a load balancer in flux)"
        ) from exc
    except (ssl.SSLError, OSError) as exc:
        raw.close()
        if _is_dropped(exc):
            raise HandshakeDropped(
                f"{address}: the peer closed the connection during the TLS handshake ({exc})"
            ) from exc
        raise HandshakeFailed(
            f"{address}: TLS handshake failed, the peer does not speak TLS as expected: {exc}"
        ) from exc
    conn = AttestedConnection(sock=tls, nonce=nonce, peer_cert_der=b"", alpn=tls.selected_alpn_protocol())
    try:
        der = tls.getpeercert(binary_form=True)
        if not der:
            raise AttestationFailed(f"{address}: the server presented no certificate")
        conn.peer_cert_der = der
        # Servers before Constellation v2.19 negotiate no ALPN at all and speak h2 implicitly.
        if conn.alpn not in (None, "h2"):
            raise HandshakeFailed(f"{address}: server negotiated ALPN {conn.alpn!r}, not h2")
        conn.evidence = _validated(validator, der, nonce, address)
    except BaseException:
        conn.close()
        raise
    return conn


def _validated(validator, der: bytes, nonce: bytes, address: str) -> dict:
    """The validator's evidence. Evidence that breaks a reader in a way nobody foresaw is a failed attestation, like
    any other: the peer chose those bytes, and it gets nothing."""
    try:
        return validator.validate(der, nonce)
    except AtlsError:
        raise
    except Exception as exc:  # noqa: BLE001 - the typed errors are converted by the validators; this is the rest
        text = str(exc)[:300]
        raise AttestationFailed(
            f"{address}: the attestation document is malformed ({type(exc).__name__}: {text})"
        ) from exc


def _is_dropped(exc: BaseException) -> bool:
    if isinstance(exc, (ssl.SSLEOFError, ssl.SSLZeroReturnError, ConnectionResetError, BrokenPipeError)):
        return True
    if isinstance(exc, ssl.SSLError) and "EOF" in str(exc).upper():
        return True
    return isinstance(exc, OSError) and exc.errno in (errno.ECONNRESET, errno.EPIPE)
