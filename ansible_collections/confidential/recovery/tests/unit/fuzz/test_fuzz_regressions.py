# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Each input the fuzz suite found to break a reader, kept: it must now raise the reader's typed error."""

from __future__ import annotations

import base64
import datetime
import json

import pytest
from contrast_documents import coordinator_certificate
from cryptography.hazmat.primitives.serialization import Encoding
from grpc_wire import ScriptedPeer, server_for_one_call
from snp_documents import SoftwareSnp
from test_fuzz_grpc_framing import MASTER, server_reply
from vtpm_documents import AK, NONCE, PCRS, _public, document

from ansible_collections.confidential.recovery.plugins.module_utils._constellation import _rpc as _constellation_rpc
from ansible_collections.confidential.recovery.plugins.module_utils._constellation._vtpm import (
    VtpmDocumentError,
    parse_document,
)
from ansible_collections.confidential.recovery.plugins.module_utils._evidence._amd_chain import (
    ChainError,
    verify_signing_key,
)
from ansible_collections.confidential.recovery.plugins.module_utils._evidence._peer_certificate import peer_document
from ansible_collections.confidential.recovery.plugins.module_utils._evidence._tpm import TpmError, parse_public
from ansible_collections.confidential.recovery.plugins.module_utils._generated import recover_stream_pb2
from ansible_collections.confidential.recovery.plugins.module_utils._net._atls import AttestationFailed
from ansible_collections.confidential.recovery.plugins.module_utils._net._grpc_h2 import GrpcError, frame, unary_call
from ansible_collections.confidential.recovery.plugins.plugin_utils._constellation_state import (
    StateError,
    parse_workspace_file,
)

SNP = SoftwareSnp()
VCEK = SNP.vcek.public_bytes(Encoding.DER)
NOW = datetime.datetime.now(datetime.UTC)
P384_OID = b"\x06\x05\x2b\x81\x04\x00\x22"
V3 = b"\xa0\x03\x02\x01\x02"


def _replace_once(data: bytes, old: bytes, new: bytes) -> bytes:
    assert data.count(old) >= 1
    return data.replace(old, new, 1)


@pytest.mark.parametrize(
    "leaf",
    [
        _replace_once(VCEK, P384_OID, b"\x06\x05\x00\x81\x04\x00\x22"),  # a curve cryptography does not know
        _replace_once(
            VCEK, P384_OID + b"\x03\x62\x00\x04", P384_OID + b"\x03\x62\x01\x04"
        ),  # a key that does not parse
        _replace_once(VCEK, V3, b"\xa0\x03\x02\x01\x01"),  # X.509 version 2
    ],
    ids=["unknown curve", "invalid key", "invalid version"],
)
def test_a_signing_key_certificate_cryptography_cannot_read(leaf):
    with pytest.raises(ChainError):
        verify_signing_key(leaf, NOW, SNP.ask.public_bytes(Encoding.DER), SNP.pem(SNP.ark))


def test_an_rsa_key_with_an_even_exponent():
    public = bytearray(_public(AK))
    exponent_offset = 2 + 2 + 2 + 4 + 2 + 2 + 2 + 2  # type, nameAlg, attributes, policy, symmetric, scheme, bits
    public[exponent_offset : exponent_offset + 4] = (4).to_bytes(4, "big")
    with pytest.raises(TpmError):
        parse_public(bytes(public))


@pytest.mark.parametrize("pcrs", [[1], 7, ["AAAA"]], ids=["list", "number", "list of values"])
def test_pcr_values_that_are_not_a_map(pcrs):
    doc = json.loads(document())
    doc["Attestation"]["quotes"][0]["pcrs"]["pcrs"] = pcrs
    with pytest.raises(VtpmDocumentError):
        parse_document(json.dumps(doc).encode())


def test_an_atls_certificate_whose_key_does_not_parse():
    cert = coordinator_certificate(SNP, NONCE)
    marker = b"\x06\x08\x2a\x86\x48\xce\x3d\x03\x01\x07\x03\x42\x00\x04"  # P-256 OID, BIT STRING, uncompressed point
    with pytest.raises(AttestationFailed):
        peer_document(_replace_once(cert, marker, marker[:-1] + b"\x05"), "1.3.9901.2.1")


@pytest.mark.parametrize("status", ["abc", "", "٣"])
def test_a_grpc_status_that_is_not_a_number(status):
    with pytest.raises(GrpcError) as error:
        unary_call(ScriptedPeer([server_reply([b"x"], [("grpc-status", status)])]), "a:1", "/p", b"", 5)
    assert error.value.code_name == "Unknown"


def test_a_disk_uuid_that_is_not_one_gets_no_key():
    reply = server_reply([recover_stream_pb2.RecoverResponse(disk_uuid="\x00" * 32).SerializeToString()])
    peer = ScriptedPeer([reply])
    with pytest.raises(GrpcError, match="announced no disk UUID"):
        _constellation_rpc.recover_stream(peer, "a:1", MASTER, 5)
    assert MASTER.disk_key("5c0f8a7e-0000-4000-8000-000000000001") not in peer.sent


@pytest.mark.parametrize("legacy", ["{", "true", "[1]"])
def test_a_legacy_state_file_that_is_not_a_json_object(legacy):
    id_json = json.dumps({"clusterID": base64.b64encode(bytes(32)).decode(), "uid": "9f3c1a7e"})
    with pytest.raises(StateError):
        parse_workspace_file(id_json, "constellation-id.json", legacy)


def test_the_pcrs_seed_is_complete():
    assert len(PCRS) == 24


def test_a_stream_the_node_closes_before_the_key_is_sent():
    """The long profile's find: the v2.0 node answers with its disk UUID and ends the stream at once."""
    server = server_for_one_call()
    server.send_headers(1, [(":status", "200"), ("content-type", "application/grpc")])
    answer = recover_stream_pb2.RecoverResponse(disk_uuid="5c0f8a7e-0000-4000-8000-000000000001").SerializeToString()
    server.send_data(1, frame(answer))
    server.reset_stream(1)
    with pytest.raises(GrpcError):
        _constellation_rpc.recover_stream(ScriptedPeer([server.data_to_send()]), "a:1", MASTER, 5)
