# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The gRPC-over-HTTP/2 reader, fed a server's mutated replies (frames, headers, trailers, message framing, in any
chunking): a call returns its message or raises GrpcError; the v2.0 recovery stream and the Contrast user API's
replies, and the verification service's answer, likewise."""

from __future__ import annotations

from grpc_wire import ScriptedPeer, server_for_one_call
from hypothesis import given
from hypothesis import strategies as st
from mutations import mutated_bytes, only

from ansible_collections.confidential.recovery.plugins.module_utils._constellation import _rpc as _constellation_rpc
from ansible_collections.confidential.recovery.plugins.module_utils._constellation._keys import MasterSecret
from ansible_collections.confidential.recovery.plugins.module_utils._constellation._verify_service import (
    VerifyServiceError,
    document_of,
)
from ansible_collections.confidential.recovery.plugins.module_utils._contrast import _userapi as _contrast_userapi
from ansible_collections.confidential.recovery.plugins.module_utils._generated import (
    recover_stream_pb2,
    userapi_pb2,
    verify_pb2,
)
from ansible_collections.confidential.recovery.plugins.module_utils._net._grpc_h2 import GrpcError, frame, unary_call

MASTER = MasterSecret(bytes(32), bytes(32))


def server_reply(messages, trailers=(("grpc-status", "0"),)) -> bytes:
    """What a gRPC server sends for one call on stream 1: response headers, the messages, the trailers."""
    server = server_for_one_call(validate_outbound_headers=False)  # a hostile server sends whatever headers it likes
    server.send_headers(1, [(":status", "200"), ("content-type", "application/grpc")])
    for message in messages:
        server.send_data(1, frame(message))
    if trailers:
        server.send_headers(1, list(trailers), end_stream=True)
    else:
        server.end_stream(1)
    return server.data_to_send()


UNARY = server_reply([b"\x0a\x03abc"])
STREAM = server_reply(
    [recover_stream_pb2.RecoverResponse(disk_uuid="5c0f8a7e-0000-4000-8000-000000000001").SerializeToString()]
)
MANIFESTS = server_reply([userapi_pb2.GetManifestsResponse(Manifests=[b"{}"], RootCA=b"ca").SerializeToString()])


def chunked(data: bytes):
    """``data`` cut into the pieces recv() hands over."""
    return st.lists(st.integers(1, max(1, len(data))), max_size=6).map(
        lambda cuts: [
            data[a:b] for a, b in zip([0] + sorted(cuts), sorted(cuts) + [len(data)], strict=False) if data[a:b]
        ]
    )


def test_the_genuine_replies_are_read():
    assert unary_call(ScriptedPeer([UNARY]), "a:1", "/p", b"", 5) == b"\x0a\x03abc"
    assert _constellation_rpc.recover_stream(ScriptedPeer([STREAM]), "a:1", MASTER, 5).startswith("5c0f8a7e")
    assert _contrast_userapi.parse_manifests(unary_call(ScriptedPeer([MANIFESTS]), "a:1", "/p", b"", 5)).RootCA == b"ca"


@given(st.data())
def test_unary_replies(data):
    reply = data.draw(mutated_bytes(UNARY, max_random=512))
    only(GrpcError, unary_call, ScriptedPeer(data.draw(chunked(reply))), "a:1", "/p", b"request", 5)


HEADER_NAMES = st.sampled_from(["grpc-status", "grpc-message", "content-type", "x-odd"]) | st.text(
    alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=12
)


@given(
    st.lists(st.binary(max_size=64), max_size=3), st.lists(st.tuples(HEADER_NAMES, st.text(max_size=24)), max_size=3)
)
def test_replies_with_odd_messages_and_trailers(messages, trailers):
    reply = server_reply(messages, trailers)
    only(GrpcError, unary_call, ScriptedPeer([reply]), "a:1", "/p", b"request", 5)


@given(st.sampled_from(["0", "2", "-1", "99", "abc", "", "1e3", "٣"]), st.text(max_size=30))
def test_any_grpc_status_text(status, message):
    reply = server_reply([], [("grpc-status", status), ("grpc-message", message)])
    only(GrpcError, unary_call, ScriptedPeer([reply]), "a:1", "/p", b"request", 5)


@given(st.data())
def test_recovery_stream_replies(data):
    reply = data.draw(mutated_bytes(STREAM, max_random=512))
    only(GrpcError, _constellation_rpc.recover_stream, ScriptedPeer(data.draw(chunked(reply))), "a:1", MASTER, 5)


@given(mutated_bytes(userapi_pb2.GetManifestsResponse(Manifests=[b"{}"], RootCA=b"ca").SerializeToString()))
def test_get_manifests_replies(body):
    only(GrpcError, _contrast_userapi.parse_manifests, body)


VERIFY_ANSWER = verify_pb2.GetAttestationResponse(
    attestation=b'{"Attestation": {}, "UserData": "VmVyaWZ5U2VydmljZQ=="}'
)


@given(mutated_bytes(VERIFY_ANSWER.SerializeToString()))
def test_verification_service_answers(answer):
    only(VerifyServiceError, document_of, answer, "127.0.0.1:30081")
