# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""Constellation's verification service, as `constellation verify` asks it (Constellation v2.24 verify/, the
collection's docs/constellation-protocol.md): every running node answers on TCP port 30081, plain gRPC without TLS,
``/verify.API/GetAttestation``. A fresh nonce goes out, nothing else; the node's attestation document comes back,
issued for the fixed user data ``VerifyService``. It is how a healthy cluster's nodes are attested before an outage.
"""

from __future__ import annotations

import os
import socket

from .._net._addresses import join_host_port
from .._net._grpc_h2 import GrpcError, unary_call

try:
    from .._generated import verify_pb2

    PROTOBUF_IMPORT_ERROR = verify_pb2.PROTOBUF_IMPORT_ERROR
except Exception as _exc:  # noqa: BLE001  # pylint: disable=broad-except  # newer gencode: VersionError on an old protobuf
    PROTOBUF_IMPORT_ERROR = _exc

VERIFY_PORT = 30081
USER_DATA = b"VerifyService"
PATH = "/verify.API/GetAttestation"
NONCE_BYTES = 32


class VerifyServiceError(Exception):
    """The verification service gave no usable answer; the message says why. Nothing was sent but a nonce."""


def get_attestation(host: str, port: int, nonce: bytes, timeout: float) -> bytes:
    """The attestation document the node at ``host``:``port`` issues for ``nonce``; VerifyServiceError otherwise."""
    address = join_host_port(host, port)
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except OSError as exc:
        raise VerifyServiceError(f"the verification service at {address} does not answer: {exc}") from exc
    request = verify_pb2.GetAttestationRequest(nonce=nonce).SerializeToString()
    try:
        with sock:
            answer = unary_call(sock, address, PATH, request, timeout, scheme="http")
    except GrpcError as exc:
        raise VerifyServiceError(f"the verification service at {address}: {exc}") from exc
    except OSError as exc:
        raise VerifyServiceError(f"the verification service at {address} dropped the call: {exc}") from exc
    return document_of(answer, address)


def document_of(answer: bytes, address: str) -> bytes:
    """The attestation document of a GetAttestationResponse; VerifyServiceError for anything else."""
    try:
        document = verify_pb2.GetAttestationResponse.FromString(answer).attestation
    except Exception as exc:  # noqa: BLE001 - protobuf raises DecodeError, whose class depends on the runtime
        raise VerifyServiceError(
            f"the verification service at {address} answered with no GetAttestationResponse"
        ) from exc
    if not document:
        raise VerifyServiceError(f"the verification service at {address} answered without an attestation document")
    return document


def attest_running_node(validator, host: str, port: int, timeout: float) -> dict:
    """The evidence of the running node at ``host``, by ``validator.validate_document``; raises AttestationFailed
    (the document does not pass) or VerifyServiceError (no document)."""
    nonce = os.urandom(NONCE_BYTES)
    return validator.validate_document(get_attestation(host, port, nonce, timeout), nonce, USER_DATA)
