# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Constellation's verification service on a running node, as `constellation verify` reaches it
(ansible_collections/confidential/recovery/docs/constellation-protocol.md, The verification service).

Plain gRPC, no TLS, on the node's address and port 30081: /verify.API/GetAttestation answers a nonce with an
attestation document issued for the fixed user data "VerifyService". The document is the lab's attestation mode's
(dummy JSON, or a qemu-vtpm / azure-sev-snp vTPM document) with PCR 15 extended by the cluster ID, as a node's is
once its state disk is open. A node switched to a wrong measurement presents it here too.
"""

from __future__ import annotations

import base64
import json
from concurrent import futures

import grpc

from .._generated import verify_pb2
from .vtpm_issuer import VtpmAttestationIssuer, document, presented_pcrs

USER_DATA = b"VerifyService"
VERIFY_PORT = 30081


def dummy_verify_document(nonce: bytes) -> bytes:
    return json.dumps(
        {"UserData": base64.b64encode(USER_DATA).decode(), "Nonce": base64.b64encode(nonce).decode()}
    ).encode()


class VerifyService:
    def __init__(self, host: str, port: int, issuer: VtpmAttestationIssuer | None, pcr15: bytes, wrong_measurement):
        self.address = f"{host}:{port}"
        self.issuer, self.pcr15, self.wrong_measurement = issuer, pcr15, wrong_measurement
        self._server = None

    def start(self) -> None:
        handler = grpc.unary_unary_rpc_method_handler(
            self._get_attestation,
            request_deserializer=verify_pb2.GetAttestationRequest.FromString,
            response_serializer=verify_pb2.GetAttestationResponse.SerializeToString,
        )
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        server.add_generic_rpc_handlers(
            (grpc.method_handlers_generic_handler("verify.API", {"GetAttestation": handler}),)
        )
        server.add_insecure_port(self.address)
        server.start()
        self._server = server

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop(grace=1)

    def document(self, nonce: bytes) -> bytes:
        if self.issuer is None:
            return dummy_verify_document(nonce)
        pcrs = {**presented_pcrs(self.wrong_measurement()), 15: self.pcr15}
        return document(self.issuer.tpm, USER_DATA, nonce, pcrs, self.issuer.instance_info())

    def _get_attestation(self, request, context):
        if not request.nonce:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "nonce is required to issue attestation")
        return verify_pb2.GetAttestationResponse(attestation=self.document(request.nonce))
