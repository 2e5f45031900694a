# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The HTTP/2 gRPC client against a server's exact bytes: what a server that shuts down sends around a call."""

from __future__ import annotations

import time

import pytest
from grpc_wire import ScriptedPeer, server_for_one_call
from hyperframe.frame import PingFrame

from ansible_collections.confidential.recovery.plugins.module_utils._net._grpc_h2 import (
    INTERNAL,
    PERMISSION_DENIED,
    UNAVAILABLE,
    GrpcError,
    frame,
    unary_call,
)

# gRPC servers shutting down gracefully send a GOAWAY and then a PING (to learn when the client has read it).
PING_AFTER_GOAWAY = PingFrame(0, opaque_data=b"shutdown").serialize()


def answered(server, message: bytes) -> None:
    server.send_headers(1, [(":status", "200"), ("content-type", "application/grpc")])
    server.send_data(1, frame(message))
    server.send_headers(1, [("grpc-status", "0")], end_stream=True)


def test_a_goaway_and_ping_before_the_answer_is_unavailable_so_the_caller_may_retry():
    server = server_for_one_call()
    server.close_connection()
    with pytest.raises(GrpcError) as caught:
        unary_call(ScriptedPeer([server.data_to_send() + PING_AFTER_GOAWAY]), "a:1", "/p", b"request", 5)
    assert caught.value.code == UNAVAILABLE, caught.value
    assert "connection terminated by peer" in caught.value.message


def test_an_answer_followed_by_goaway_and_ping_in_the_same_read_is_kept():
    server = server_for_one_call()
    answered(server, b"\x0a\x03abc")
    server.close_connection()
    assert (
        unary_call(ScriptedPeer([server.data_to_send() + PING_AFTER_GOAWAY]), "a:1", "/p", b"request", 5)
        == b"\x0a\x03abc"
    )


def test_an_answer_cut_mid_frame_is_put_back_together():
    server = server_for_one_call()
    answered(server, b"\x0a\x03abc")
    reply = server.data_to_send()
    pieces = [reply[i : i + 7] for i in range(0, len(reply), 7)]
    assert unary_call(ScriptedPeer(pieces), "a:1", "/p", b"request", 5) == b"\x0a\x03abc"


def test_a_frame_longer_than_the_limit_is_refused_before_it_is_read_to_the_end():
    server = server_for_one_call()
    oversize = (1 << 24) - 1
    with pytest.raises(GrpcError) as caught:
        unary_call(
            ScriptedPeer([server.data_to_send() + oversize.to_bytes(3, "big") + b"\x00\x00\x00\x00\x00\x01"]),
            "a:1",
            "/p",
            b"request",
            5,
        )
    assert caught.value.code == INTERNAL, caught.value


def test_a_request_larger_than_the_window_stops_when_the_server_ends_the_call():
    """The request outgrows the stream's send window (64 KiB), and while we wait for the window to open the server
    answers with its own status and closes the connection: that status, at once, not a wait until the deadline."""
    server = server_for_one_call()
    server.send_headers(1, [(":status", "200"), ("grpc-status", "7"), ("grpc-message", "not allowed")], end_stream=True)
    server.close_connection()
    started = time.monotonic()
    with pytest.raises(GrpcError) as caught:
        unary_call(ScriptedPeer([server.data_to_send()]), "a:1", "/p", b"x" * 100_000, 30)
    assert caught.value.code == PERMISSION_DENIED and caught.value.message == "not allowed", caught.value
    assert time.monotonic() - started < 25, "waited for the deadline"
