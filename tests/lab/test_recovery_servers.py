# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The lab's recovery servers answer as a node does (ansible_collections/confidential/recovery/docs/constellation-
protocol.md, Recovery RPC generations), seen through the collection's client."""

from __future__ import annotations

import threading

import pytest

from ansible_collections.confidential.recovery.plugins.module_utils._constellation import _rpc as rpc
from ansible_collections.confidential.recovery.plugins.module_utils._constellation._keys import MasterSecret
from ansible_collections.confidential.recovery.plugins.module_utils._constellation._validators import (
    ConstellationDummyValidator,
)
from ansible_collections.confidential.recovery.plugins.module_utils._generated import keyproto_pb2, recover_pb2
from ansible_collections.confidential.recovery.plugins.module_utils._net._atls import ConnectionRefused, connect
from ansible_collections.confidential.recovery.plugins.module_utils._net._grpc_h2 import GrpcError, unary_call
from conflab.constellation.console import Console
from conflab.constellation.recovery_servers import RecoveryServer

UUID = "5b1e2a3c-0d4f-4e5a-9b6c-7d8e9fa0b1c2"
SECRET = MasterSecret(bytes(range(32)), bytes(range(32, 64)))


@pytest.fixture
def server(tmp_path, request):
    protocol, host = request.param
    delivered = []
    got_keys = threading.Event()

    def on_keys(disk_key, measurement_secret):
        delivered.append((disk_key, measurement_secret))
        got_keys.set()

    srv = RecoveryServer(protocol, host, 9999, UUID, Console(tmp_path / "console.log"), on_keys)
    srv.start()
    yield srv, delivered, got_keys
    srv.stop()


def attested(host):
    return connect(host, 9999, ConstellationDummyValidator(), timeout=5)


@pytest.mark.parametrize("server", [("unary", "127.41.0.10")], indirect=True)
def test_unary_derives_the_disk_key_itself_then_refuses(server):
    srv, delivered, got_keys = server
    conn = attested(srv.host)
    rpc.recover_unary(conn.sock, srv.host, SECRET, 5)
    conn.close()
    assert got_keys.wait(5)
    assert delivered == [(SECRET.disk_key(UUID), SECRET.measurement_secret())]
    with pytest.raises(ConnectionRefused):
        attested(srv.host)


@pytest.mark.parametrize("server", [("unary", "127.41.0.11")], indirect=True)
def test_unary_bad_uri_is_internal_and_keeps_waiting(server):
    srv, delivered, _ = server
    conn = attested(srv.host)
    request = recover_pb2.RecoverMessage(kms_uri="kms://aws-kms?key=AA==&salt=AA==", storage_uri="storage://no-store")
    with pytest.raises(GrpcError) as caught:
        unary_call(conn.sock, srv.host, rpc.RECOVER_PATH, request.SerializeToString(), 5)
    conn.close()
    assert (
        caught.value.code_name == "Internal"
        and "creating kms client: unknown KMS type: aws-kms" in caught.value.message
    )
    attested(srv.host).close()
    assert delivered == []


@pytest.mark.parametrize("server", [("stream", "127.41.0.12")], indirect=True)
def test_stream_node_rejects_the_unary_message_with_the_fallback_text(server):
    srv, delivered, got_keys = server
    conn = attested(srv.host)
    with pytest.raises(GrpcError) as caught:
        rpc.recover_unary(conn.sock, srv.host, SECRET, 5)
    conn.close()
    assert rpc.is_stream_fallback(caught.value)
    conn = attested(srv.host)
    assert rpc.recover_stream(conn.sock, srv.host, SECRET, 5) == UUID
    conn.close()
    assert got_keys.wait(5)
    assert delivered == [(SECRET.disk_key(UUID), SECRET.measurement_secret())]


@pytest.mark.parametrize("server", [("keyservice", "127.41.0.13")], indirect=True)
def test_keyservice_checks_lengths_and_takes_the_callers_uuid(server):
    srv, delivered, got_keys = server
    conn = attested(srv.host)
    short = keyproto_pb2.PushStateDiskKeyRequest(state_disk_key=b"x" * 16, measurement_secret=b"y" * 32)
    with pytest.raises(GrpcError) as caught:
        unary_call(conn.sock, srv.host, rpc.PUSH_KEY_PATH, short.SerializeToString(), 5)
    conn.close()
    assert caught.value.code_name == "InvalidArgument"
    assert caught.value.message == "received invalid passphrase: expected length: 32, but got: 16"
    conn = attested(srv.host)
    with pytest.raises(GrpcError) as caught:
        unary_call(conn.sock, srv.host, rpc.RECOVER_PATH, b"", 5)
    conn.close()
    assert rpc.is_unimplemented(caught.value)
    conn = attested(srv.host)
    rpc.push_state_disk_key(conn.sock, srv.host, SECRET, UUID, 5)
    conn.close()
    assert got_keys.wait(5)
    assert delivered == [(SECRET.disk_key(UUID), SECRET.measurement_secret())]
