# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""A gRPC server's side of the wire, for the HTTP/2 client's tests: a socket double that hands over exactly the bytes
a test scripted, and an h2 server that has read a client's request headers on stream 1 and may answer anything."""

from __future__ import annotations

import h2.config
import h2.connection


class ScriptedPeer:
    """A socket whose peer sends ``chunks``, one per recv(), and then hangs up; what we send is kept."""

    def __init__(self, chunks):
        self.chunks = list(chunks)
        self.sent = b""

    def sendall(self, data):
        self.sent += data

    def recv(self, size):
        return self.chunks.pop(0) if self.chunks else b""

    def settimeout(self, timeout):
        pass


def server_for_one_call(validate_outbound_headers: bool = True) -> h2.connection.H2Connection:
    """A server connection past a client's opening and request headers on stream 1 (False: a hostile server that
    sends whatever headers it likes)."""
    client = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True))
    client.initiate_connection()
    client.send_headers(1, [(":method", "POST"), (":scheme", "https"), (":path", "/p"), (":authority", "a")])
    server = h2.connection.H2Connection(
        config=h2.config.H2Configuration(client_side=False, validate_outbound_headers=validate_outbound_headers)
    )
    server.initiate_connection()
    server.receive_data(client.data_to_send())
    return server
