# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""A minimal gRPC client over HTTP/2 (the ``h2`` package) on an already attested socket.

grpcio cannot take a pre-connected socket or a per-connection nonce, so aTLS peers are
spoken to here: ``unary_call`` for unary methods and ``BidiStream`` for the v2.0-v2.4
Constellation recovery stream. Messages are framed as gRPC length-prefixed messages
(``00`` + uint32 big-endian length + body); status comes from ``grpc-status`` and
``grpc-message`` (percent-encoded) in trailers or in a trailers-only response.
"""

from __future__ import annotations

import struct
import time
import urllib.parse

try:
    import h2.config
    import h2.connection
    import h2.events
    import h2.exceptions

    HAS_H2 = True
    H2_IMPORT_ERROR = None
except ImportError as _exc:  # pragma: no cover - exercised only without the dependency
    HAS_H2 = False
    H2_IMPORT_ERROR = _exc

# gRPC status codes (https://grpc.github.io/grpc/core/md_doc_statuscodes.html)
OK = 0
UNKNOWN = 2
INVALID_ARGUMENT = 3
DEADLINE_EXCEEDED = 4
PERMISSION_DENIED = 7
FAILED_PRECONDITION = 9
UNIMPLEMENTED = 12
INTERNAL = 13
UNAVAILABLE = 14

CODE_NAMES = {
    0: "OK",
    1: "Canceled",
    2: "Unknown",
    3: "InvalidArgument",
    4: "DeadlineExceeded",
    5: "NotFound",
    6: "AlreadyExists",
    7: "PermissionDenied",
    8: "ResourceExhausted",
    9: "FailedPrecondition",
    10: "Aborted",
    11: "OutOfRange",
    12: "Unimplemented",
    13: "Internal",
    14: "Unavailable",
    15: "DataLoss",
    16: "Unauthenticated",
}


class GrpcError(Exception):
    def __init__(self, code: int, message: str):
        super().__init__(f"rpc error: code = {CODE_NAMES.get(code, code)} desc = {message}")
        self.code = code
        self.message = message

    @property
    def code_name(self) -> str:
        return CODE_NAMES.get(self.code, str(self.code))


FRAME_HEADER_LENGTH = 9


def frame(body: bytes) -> bytes:
    return b"\x00" + struct.pack(">I", len(body)) + body


class _Call:
    """One HTTP/2 connection carrying one gRPC call."""

    def __init__(self, sock, authority: str, path: str, timeout: float, scheme: str = "https"):
        self.sock = sock
        self.deadline = time.monotonic() + timeout
        self.conn = h2.connection.H2Connection(
            config=h2.config.H2Configuration(client_side=True, header_encoding="utf-8")
        )
        self.conn.initiate_connection()
        self.stream_id = self.conn.get_next_available_stream_id()
        headers = [
            (":method", "POST"),
            (":scheme", scheme),
            (":path", path),
            (":authority", authority),
            ("content-type", "application/grpc"),
            ("te", "trailers"),
            ("grpc-timeout", f"{max(1, int(timeout * 1000))}m"),
            ("user-agent", "confidential.recovery/h2"),
        ]
        self.conn.send_headers(self.stream_id, headers)
        self._flush()
        self._buffer = b""
        self._incoming = b""
        self.terminated = False
        self._messages: list[bytes] = []
        self.status: int | None = None
        self.message = ""
        self.ended = False
        self.http_status: str | None = None

    def _flush(self) -> None:
        data = self.conn.data_to_send()
        if data:
            self._settimeout()
            self.sock.sendall(data)

    def _settimeout(self) -> None:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise GrpcError(DEADLINE_EXCEEDED, "context deadline exceeded")
        self.sock.settimeout(remaining)

    def send_message(self, body: bytes, end_stream: bool = False) -> None:
        data = frame(body)
        while data:
            window = self._on_stream(self._send_window)
            if window <= 0:
                if self.ended:  # the window cannot open any more: the server's own status, at once
                    self.finish()
                    raise GrpcError(UNAVAILABLE, "the server ended the call before it read the whole request")
                self._pump()
                continue
            chunk, data = data[:window], data[window:]
            self._on_stream(self.conn.send_data, self.stream_id, chunk, end_stream=end_stream and not data)
        self._flush()

    def _send_window(self) -> int:
        return min(self.conn.local_flow_control_window(self.stream_id), self.conn.max_outbound_frame_size)

    def end_send(self) -> None:
        self._on_stream(self.conn.end_stream, self.stream_id)
        self._flush()

    def _on_stream(self, action, *args, **kwargs):
        """An action on our stream; a stream the server has already closed or reset is the call's UNAVAILABLE."""
        try:
            return action(*args, **kwargs)
        except h2.exceptions.ProtocolError as exc:
            raise GrpcError(UNAVAILABLE, f"the server closed the stream before the call was sent: {exc!r}") from exc

    def _apply_status(self, headers) -> None:
        values = dict(headers)
        if ":status" in values:
            self.http_status = values[":status"]
        if "grpc-status" in values:
            text = values["grpc-status"]
            self.message = urllib.parse.unquote(values.get("grpc-message", ""))
            if isinstance(text, str) and text.isascii() and text.isdigit():
                self.status = int(text)
            else:  # as gRPC's own clients treat a status they cannot read
                self.status, self.message = UNKNOWN, f"malformed grpc-status {text[:20]!r}: {self.message[:200]}"

    def _pump(self) -> None:
        self._settimeout()
        try:
            data = self.sock.recv(65535)
        except TimeoutError as exc:
            raise GrpcError(DEADLINE_EXCEEDED, "context deadline exceeded") from exc
        except OSError as exc:
            raise GrpcError(UNAVAILABLE, f"connection error: {exc}") from exc
        if not data:
            if not self.ended:
                raise GrpcError(UNAVAILABLE, "connection closed before the call completed: EOF")
            return
        self._incoming += data
        for chunk in self._whole_frames():
            if self.terminated:
                # h2 refuses every frame after the peer's GOAWAY (a gRPC server shutting down sends a PING next).
                break
            try:
                events = self.conn.receive_data(chunk)
            except h2.exceptions.ProtocolError as exc:
                raise GrpcError(INTERNAL, f"HTTP/2 protocol error: {exc}") from exc
            self._handle(events)
        self._flush()

    def _whole_frames(self):
        """The complete frames received so far, one at a time, so that a GOAWAY's events are not lost with what
        follows it. A length above our frame size limit is refused from its header (h2 would wait for all of it)."""
        while len(self._incoming) >= FRAME_HEADER_LENGTH:
            length = int.from_bytes(self._incoming[:3], "big")
            if length > self.conn.max_inbound_frame_size:
                raise GrpcError(
                    INTERNAL,
                    f"HTTP/2 protocol error: a frame of {length} bytes, above the limit of "
                    f"{self.conn.max_inbound_frame_size}",
                )
            end = FRAME_HEADER_LENGTH + length
            if len(self._incoming) < end:
                return
            chunk, self._incoming = self._incoming[:end], self._incoming[end:]
            yield chunk

    def _handle(self, events) -> None:
        for event in events:
            if isinstance(event, (h2.events.ResponseReceived, h2.events.TrailersReceived)):
                self._apply_status(event.headers)
            elif isinstance(event, h2.events.DataReceived):
                self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                self._buffer += event.data
                self._split_messages()
            elif isinstance(event, h2.events.StreamEnded):
                self.ended = True
            elif isinstance(event, h2.events.StreamReset):
                self.ended = True
                if self.status is None:
                    self.status, self.message = UNAVAILABLE, f"stream reset by peer (error code {event.error_code})"
            elif isinstance(event, h2.events.ConnectionTerminated):
                self.ended = self.terminated = True
                if self.status is None:
                    self.status, self.message = (
                        UNAVAILABLE,
                        f"connection terminated by peer (error code {event.error_code})",
                    )

    def _split_messages(self) -> None:
        while len(self._buffer) >= 5:
            compressed, length = self._buffer[0], struct.unpack(">I", self._buffer[1:5])[0]
            if len(self._buffer) < 5 + length:
                return
            if compressed:
                raise GrpcError(INTERNAL, "server sent a compressed message without negotiating compression")
            self._messages.append(self._buffer[5 : 5 + length])
            self._buffer = self._buffer[5 + length :]

    def next_message(self) -> bytes | None:
        """The next response message, or None once the server has ended the stream."""
        while not self._messages and not self.ended:
            self._pump()
        if self._messages:
            return self._messages.pop(0)
        return None

    def finish(self) -> None:
        while not self.ended:
            self._pump()
        if self.status is None:
            if self.http_status not in (None, "200"):
                raise GrpcError(UNKNOWN, f"unexpected HTTP status {self.http_status}")
            raise GrpcError(INTERNAL, "server ended the call without grpc-status")
        if self.status != OK:
            raise GrpcError(self.status, self.message)


def unary_call(sock, authority: str, path: str, request: bytes, timeout: float = 30.0, scheme: str = "https") -> bytes:
    """Send one request message and return the single response message's bytes (``scheme`` http: a plain-TCP call)."""
    call = _Call(sock, authority, path, timeout, scheme)
    call.send_message(request, end_stream=True)
    response = call.next_message()
    call.finish()
    if response is None:
        raise GrpcError(INTERNAL, "server returned OK without a response message")
    return response


class BidiStream:
    """A bidirectional-streaming call: send(), recv(), then close() to read the status."""

    def __init__(self, sock, authority: str, path: str, timeout: float = 30.0):
        self._call = _Call(sock, authority, path, timeout)

    def send(self, body: bytes) -> None:
        self._call.send_message(body)

    def recv(self) -> bytes | None:
        message = self._call.next_message()
        if message is None:
            self._call.finish()
        return message

    def close(self) -> None:
        """Half-close our side and wait for the server's final status (raises GrpcError unless OK)."""
        if not self._call.ended:
            self._call.end_send()
        self._call.finish()
