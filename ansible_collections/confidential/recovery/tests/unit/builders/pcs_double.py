# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""A loopback stand-in for Intel PCS / a PCCS (API v4), serving one platform's collateral.

It answers the four requests a collateral fetch makes (PCK CRL, TCB info, QE identity, root CA CRL), with the
issuer chains in the URL-encoded headers Intel uses, and records every path it was asked for.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class PcsDouble:
    def __init__(self, collateral: dict, fmspc: str, host: str = "127.0.0.1"):
        self.collateral, self.fmspc = collateral, fmspc
        self.requests: list[str] = []
        self.fail_with: int | None = None
        self.stall_seconds = 0.0  # hold every answer this long (bounded: the double never hangs a test)
        self._server = ThreadingHTTPServer((host, 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()

    def answer(self, path: str, query: dict) -> tuple[int, dict, bytes]:
        c = self.collateral
        if self.fail_with:
            return self.fail_with, {}, b"unavailable"
        if path == "/sgx/certification/v4/pckcrl":
            return 200, {"SGX-PCK-CRL-Issuer-Chain": c["pck_crl_issuer_chain"]}, bytes.fromhex(c["pck_crl"])
        if path == "/tdx/certification/v4/tcb" and query.get("fmspc", [""])[0].upper() == self.fmspc:
            body = '{"tcbInfo":' + c["tcb_info"] + ',"signature":"' + c["tcb_info_signature"] + '"}'
            return 200, {"TCB-Info-Issuer-Chain": c["tcb_info_issuer_chain"]}, body.encode()
        if path == "/tdx/certification/v4/qe/identity":
            body = '{"enclaveIdentity":' + c["qe_identity"] + ',"signature":"' + c["qe_identity_signature"] + '"}'
            return 200, {"SGX-Enclave-Identity-Issuer-Chain": c["qe_identity_issuer_chain"]}, body.encode()
        if path == "/sgx/certification/v4/rootcacrl":
            return 200, {}, c["root_ca_crl"].encode()  # a PCCS answers hex
        return 404, {}, json.dumps({"error": "not found"}).encode()

    def _handler(self):
        double = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, fmt, *args):
                return

            def do_GET(self):
                parsed = urllib.parse.urlsplit(self.path)
                double.requests.append(parsed.path)
                time.sleep(min(double.stall_seconds, 10.0))
                code, headers, body = double.answer(parsed.path, urllib.parse.parse_qs(parsed.query))
                try:
                    self.send_response(code)
                    for name, value in headers.items():
                        self.send_header(name, urllib.parse.quote(value))
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up first (the stall test's timeout)

        return Handler
