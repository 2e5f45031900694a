# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""The Contrast Coordinator's user API over aTLS: GetManifests and Recover, under both path prefixes.

Servers since late 2024 serve ``/edgelesssys.contrast.userapi.UserAPI/``, older ones
``/userapi.UserAPI/``. The new path is tried first; UNIMPLEMENTED means the other one.
The nonce goes both ways (ALPN and SNI), as the client rules of the protocol doc ask.
"""

from __future__ import annotations

from .._net._atls import connect
from .._net._grpc_h2 import INTERNAL, GrpcError, unary_call

try:
    from .._generated import userapi_pb2

    # The gencode guards its google.protobuf imports and tells whether they worked.
    PROTOBUF_IMPORT_ERROR = userapi_pb2.PROTOBUF_IMPORT_ERROR
except Exception as _exc:  # noqa: BLE001  # pylint: disable=broad-except  # newer gencode: VersionError on an old protobuf
    PROTOBUF_IMPORT_ERROR = _exc
HAS_PROTOBUF = PROTOBUF_IMPORT_ERROR is None

SERVICE_PATHS = ("/edgelesssys.contrast.userapi.UserAPI/", "/userapi.UserAPI/")
RECOVERY_MODE = "coordinator is in recovery mode"
ALREADY_RECOVERED = "coordinator is already recovered"
NO_MANIFEST = "no manifest configured"


class UserApi:
    def __init__(self, host: str, port: int, validator, timeout: float, dial=None):
        self.host, self.port = host, port
        self.validator = validator
        self.timeout = timeout
        self.authority = f"{host}:{port}"
        self.dial = dial  # a fresh stream per call (a port-forward), instead of TCP to host:port

    def _call(self, method: str, request: bytes, identity=None) -> tuple[bytes, str]:
        """One call on a fresh attested connection per path; falls back only on UNIMPLEMENTED."""
        last_error = None
        for prefix in SERVICE_PATHS:
            conn = connect(
                self.host,
                self.port,
                self.validator,
                timeout=self.timeout,
                identity=identity,
                nonce_in_alpn=True,
                dial=self.dial,
            )
            try:
                return unary_call(conn.sock, self.authority, prefix + method, request, self.timeout), prefix
            except GrpcError as exc:
                if exc.code_name != "Unimplemented":
                    raise
                last_error = exc
            finally:
                conn.close()
        raise last_error

    def get_manifests(self):
        body, _prefix = self._call("GetManifests", userapi_pb2.GetManifestsRequest().SerializeToString())
        return parse_manifests(body)

    def recover(self, seed: bytes, salt: bytes, identity, force: bool = False) -> str:
        request = userapi_pb2.RecoverRequest(Seed=seed, Salt=salt, Force=force)
        _body, prefix = self._call("Recover", request.SerializeToString(), identity=identity)
        return prefix


def parse_manifests(body: bytes):
    """The GetManifests reply; a body that is not one is the server's INTERNAL error, as gRPC's own client names it."""
    try:
        return userapi_pb2.GetManifestsResponse.FromString(body)
    except Exception as exc:  # noqa: BLE001 - protobuf raises DecodeError, whose class depends on the runtime
        raise GrpcError(INTERNAL, f"the Coordinator's GetManifests reply does not parse: {exc}") from exc
