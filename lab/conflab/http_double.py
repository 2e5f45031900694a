# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The answer of a cloud API double (gce_api, arm_api): JSON, or text for a blob, sent whole; a client that went
away mid-answer (a retry, a timeout) is no error of the double."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler


def reply(
    handler: BaseHTTPRequestHandler,
    code: int,
    body,
    content_type: str = "application/json; charset=UTF-8",
    headers: dict | None = None,
) -> None:
    data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    try:
        handler.send_response(code)
        handler.send_header("Content-Type", "text/plain" if isinstance(body, str) else content_type)
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)
    except (BrokenPipeError, ConnectionResetError):
        pass
