# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The recovery servers of every node generation (ansible_collections/confidential/recovery/docs/constellation-protocol.md, Recovery RPC generations).

Each is a plaintext ``grpc.server`` on a loopback port behind the lab aTLS terminator with the
dummy attestation. Calls are serialized. The first call that yields keys wins: the reply is sent,
then the listener closes (later connects are refused) and ``on_keys`` gets the keys.
"""

from __future__ import annotations

import socket
import threading
from concurrent import futures

import grpc

from .._generated import keyproto_pb2, recover_pb2, recover_stream_pb2
from ..atls_server import AtlsTerminator
from .keys import derive
from .kms_uri import UriError, check_storage_uri, parse_kms_uri
from .node_certs import DummyAttestationIssuer

RECOVER_PATH = "/recoverproto.API/Recover"
PUSH_KEY_PATH = "/keyproto.API/PushStateDiskKey"
UNARY, STREAM, STREAM_V20, KEYSERVICE = "unary", "stream", "stream-v2.0", "keyservice"
PROTOCOLS = (UNARY, STREAM, STREAM_V20, KEYSERVICE)


def recovery_port(protocol: str) -> int:
    return 9000 if protocol in (STREAM_V20, KEYSERVICE) else 9999


class RecoveryServer:
    def __init__(self, protocol: str, host: str, port: int, disk_uuid: str, console, on_keys, issue=None):
        if protocol not in PROTOCOLS:
            raise ValueError(f"unknown recovery protocol {protocol!r}")
        self.protocol, self.host, self.port = protocol, host, port
        self.disk_uuid = disk_uuid
        self.console = console
        self.on_keys = on_keys
        self._issue = issue  # the aTLS certificate issuer of the lab's attestation variant; dummy by default
        self._call_lock = threading.Lock()
        self._done = threading.Event()
        self._grpc = None
        self._terminator = None

    @property
    def _group(self) -> str:
        return "keyService" if self.protocol == KEYSERVICE else "recoveryServer"

    def start(self) -> None:
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        server.add_generic_rpc_handlers((self._handlers(),))
        backend_port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        self._grpc = server
        self._terminator = AtlsTerminator(
            self.host, self.port, backend_port, self._issue or DummyAttestationIssuer().issue
        )
        self._terminator.start()

    def stop(self, reason: str | None = None) -> None:
        if reason and not self._done.is_set():
            self.console.log("INFO", reason, group=self._group)
        self._done.set()
        if self._terminator is not None:
            self._terminator.stop()
        if self._grpc is not None:
            self._grpc.stop(grace=1)

    # -- handlers ---------------------------------------------------------
    def _handlers(self):
        if self.protocol == UNARY:
            handler = grpc.unary_unary_rpc_method_handler(
                self._recover_unary,
                request_deserializer=recover_pb2.RecoverMessage.FromString,
                response_serializer=recover_pb2.RecoverResponse.SerializeToString,
            )
            return grpc.method_handlers_generic_handler("recoverproto.API", {"Recover": handler})
        if self.protocol in (STREAM, STREAM_V20):
            handler = grpc.stream_stream_rpc_method_handler(
                self._recover_stream,
                request_deserializer=recover_stream_pb2.RecoverMessage.FromString,
                response_serializer=recover_stream_pb2.RecoverResponse.SerializeToString,
            )
            return grpc.method_handlers_generic_handler("recoverproto.API", {"Recover": handler})
        handler = grpc.unary_unary_rpc_method_handler(
            self._push_state_disk_key,
            request_deserializer=keyproto_pb2.PushStateDiskKeyRequest.FromString,
            response_serializer=keyproto_pb2.PushStateDiskKeyResponse.SerializeToString,
        )
        return grpc.method_handlers_generic_handler("keyproto.API", {"PushStateDiskKey": handler})

    def _deliver(self, context, disk_key: bytes, measurement_secret: bytes) -> None:
        """Hand the keys over once the reply has left, so the client sees OK before the listener closes."""
        self._done.set()

        def after_reply():
            self.console.log("INFO", "finished call", group="grpc", **{"grpc.method": "Recover", "grpc.code": "OK"})
            if self._terminator is not None:
                self._terminator.stop()
            threading.Thread(target=self.on_keys, args=(disk_key, measurement_secret), daemon=True).start()

        context.add_callback(after_reply)

    def _recover_unary(self, request, context):
        with self._call_lock:
            if self._done.is_set():
                context.abort(grpc.StatusCode.UNAVAILABLE, "server is shutting down")
            self.console.log("INFO", "Received recover call", group="recoveryServer")
            try:
                key, salt = parse_kms_uri(request.kms_uri)
                check_storage_uri(request.storage_uri)
            except UriError as exc:
                context.abort(grpc.StatusCode.INTERNAL, f"creating kms client: {exc}")
            measurement_secret = derive(key, salt, "key-measurementSecret")
            disk_key = derive(key, salt, f"key-{self.disk_uuid}")
            self.console.log(
                "INFO", "Received state disk key and measurement secret, shutting down server", group="recoveryServer"
            )
            self._deliver(context, disk_key, measurement_secret)
            return recover_pb2.RecoverResponse()

    def _recover_stream(self, request_iterator, context):
        with self._call_lock:
            if self._done.is_set():
                context.abort(grpc.StatusCode.UNAVAILABLE, "server is shutting down")
            self.console.log("INFO", "Received recover call", group="recoveryServer")
            try:
                first = next(request_iterator)
            except StopIteration:
                context.abort(grpc.StatusCode.INTERNAL, "failed to receive message")
            if first.WhichOneof("request") != "measurement_secret":
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, "first message is not a measurement secret")
            yield recover_stream_pb2.RecoverResponse(disk_uuid=self.disk_uuid)
            try:
                second = next(request_iterator)
            except StopIteration:
                context.abort(grpc.StatusCode.INTERNAL, "failed to receive message")
            if second.WhichOneof("request") != "state_disk_key":
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, "second message is not a state disk key")
            self.console.log(
                "INFO", "Received state disk key and measurement secret, shutting down server", group="recoveryServer"
            )
            self._deliver(context, second.state_disk_key, first.measurement_secret)

    def _push_state_disk_key(self, request, context):
        with self._call_lock:
            if self._done.is_set():
                context.abort(grpc.StatusCode.FAILED_PRECONDITION, "node already received a passphrase")
            for name in ("state_disk_key", "measurement_secret"):
                value = getattr(request, name)
                if len(value) != 32:
                    what = "passphrase" if name == "state_disk_key" else "measurement secret"
                    context.abort(
                        grpc.StatusCode.INVALID_ARGUMENT,
                        f"received invalid {what}: expected length: 32, but got: {len(value)}",
                    )
            self.console.log(
                "INFO", "Received state disk key and measurement secret, shutting down server", group="keyService"
            )
            self._deliver(context, request.state_disk_key, request.measurement_secret)
            return keyproto_pb2.PushStateDiskKeyResponse()


class WorkerStub:
    """Workers bind the recovery port but never handshake
    (ansible_collections/confidential/recovery/docs/constellation-protocol.md, Flow): connects succeed, then
    nothing."""

    def __init__(self, host: str, port: int, hold_seconds: float = 60.0):
        self.host, self.port, self.hold_seconds = host, port, hold_seconds
        self._listener = None
        self._stopped = threading.Event()

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port))
        listener.listen(16)
        self._listener = listener
        threading.Thread(target=self._accept_loop, daemon=True).start()

    def _accept_loop(self) -> None:
        while not self._stopped.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            timer = threading.Timer(self.hold_seconds, conn.close)
            timer.daemon = True
            timer.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._listener is not None:
            self._listener.close()
