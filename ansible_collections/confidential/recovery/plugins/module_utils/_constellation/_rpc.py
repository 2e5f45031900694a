# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""The three generations of the Constellation recovery RPC, spoken on an attested socket.

- unary (v2.5+): ``/recoverproto.API/Recover`` with the KMS and storage URIs;
- stream (v2.0-v2.4): the same path as a bidirectional stream; the node sends its disk UUID;
- keyservice (pre-v2.0): ``/keyproto.API/PushStateDiskKey``; the caller supplies the disk UUID.
"""

from __future__ import annotations

from .._net._addresses import check_port
from .._net._grpc_h2 import INTERNAL, BidiStream, GrpcError, unary_call
from ._keys import STORAGE_URI, MasterSecret

try:
    from .._generated import keyproto_pb2, recover_pb2, recover_stream_pb2

    # The gencode guards its google.protobuf imports and tells whether they worked.
    PROTOBUF_IMPORT_ERROR = recover_pb2.PROTOBUF_IMPORT_ERROR
except Exception as _exc:  # noqa: BLE001  # pylint: disable=broad-except  # newer gencode: VersionError on an old protobuf
    PROTOBUF_IMPORT_ERROR = _exc
HAS_PROTOBUF = PROTOBUF_IMPORT_ERROR is None

RECOVER_PATH = "/recoverproto.API/Recover"
PUSH_KEY_PATH = "/keyproto.API/PushStateDiskKey"

UNARY = "unary"
STREAM = "stream"
KEYSERVICE = "keyservice"
AUTO = "auto"
PROTOCOL_CHOICES = [AUTO, UNARY, STREAM, KEYSERVICE]

# Unverified (docs/constellation-protocol.md, Recovery RPC generations): a v2.0-v2.4 node answers the v2.5 unary message with
# this InvalidArgument text, and that is the signal to fall back to the stream. One place to change.
STREAM_FALLBACK_MESSAGE = "first message is not a measurement secret"


def default_port(protocol: str) -> int:
    return 9000 if protocol == KEYSERVICE else 9999


def recovery_port(port, protocol: str) -> int:
    """The port the user gave (checked to be 1-65535), or the default of the protocol; raises AddressError."""
    return check_port(port) if port is not None else default_port(protocol)


def recover_unary(sock, authority: str, master: MasterSecret, timeout: float) -> None:
    request = recover_pb2.RecoverMessage(kms_uri=master.kms_uri(), storage_uri=STORAGE_URI)
    unary_call(sock, authority, RECOVER_PATH, request.SerializeToString(), timeout)


def recover_stream(sock, authority: str, master: MasterSecret, timeout: float) -> str:
    """Run the v2.0-v2.4 exchange; return the disk UUID the node announced."""
    stream = BidiStream(sock, authority, RECOVER_PATH, timeout)
    stream.send(recover_stream_pb2.RecoverMessage(measurement_secret=master.measurement_secret()).SerializeToString())
    reply = stream.recv()
    if reply is None:
        stream.close()
        raise GrpcError(INTERNAL, "node closed the stream without sending its disk UUID")
    try:
        disk_uuid = recover_stream_pb2.RecoverResponse.FromString(reply).disk_uuid
    except Exception as exc:  # noqa: BLE001 - protobuf raises DecodeError, whose class depends on the runtime
        stream.close()
        raise GrpcError(INTERNAL, f"the node's RecoverResponse does not parse: {exc}") from exc
    try:
        key = master.disk_key(disk_uuid)
    except ValueError as exc:
        stream.close()
        raise GrpcError(INTERNAL, f"the node announced no disk UUID: {str(exc)[:120]}") from exc
    stream.send(recover_stream_pb2.RecoverMessage(state_disk_key=key).SerializeToString())
    stream.close()
    return disk_uuid


def push_state_disk_key(sock, authority: str, master: MasterSecret, disk_uuid: str, timeout: float) -> None:
    request = keyproto_pb2.PushStateDiskKeyRequest(
        state_disk_key=master.disk_key(disk_uuid), measurement_secret=master.measurement_secret()
    )
    unary_call(sock, authority, PUSH_KEY_PATH, request.SerializeToString(), timeout)


def is_stream_fallback(error: GrpcError) -> bool:
    return error.code_name == "InvalidArgument" and STREAM_FALLBACK_MESSAGE in error.message


def is_unimplemented(error: GrpcError) -> bool:
    return error.code_name == "Unimplemented"
