# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""Hosts and ports as users type them: IPv4, IPv6 with or without brackets, DNS names; ports 1-65535."""

from __future__ import annotations

import ipaddress
import re

_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


class AddressError(ValueError):
    pass


def check_port(value, what: str = "port") -> int:
    if isinstance(value, bool):
        raise AddressError(f"{what} must be a number from 1 to 65535, got {value!r}")
    try:
        port = int(str(value).strip())
    except (TypeError, ValueError) as exc:
        raise AddressError(f"{what} must be a number from 1 to 65535, got {value!r}") from exc
    if not 1 <= port <= 65535:
        raise AddressError(f"{what} must be from 1 to 65535, got {port}")
    return port


def check_host(value, what: str = "host") -> str:
    host = str(value or "").strip()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not host:
        raise AddressError(f"{what} is empty")
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    name = host[:-1] if host.endswith(".") else host
    if len(name) > 253 or not all(_LABEL.match(label) for label in name.split(".")) or name.replace(".", "").isdigit():
        raise AddressError(f"{what} {value!r} is neither an IP address nor a valid host name")
    return name


def split_host_port(text, default_port: int, what: str = "address") -> tuple[str, int]:
    """``host``, ``host:port``, ``1.2.3.4:5``, ``::1``, ``[::1]`` or ``[::1]:1313`` to (host, port)."""
    value = str(text or "").strip()
    if value.startswith("["):
        close = value.find("]")
        if close < 0:
            raise AddressError(f"{what} {text!r} opens '[' without closing it")
        host, rest = value[1:close], value[close + 1 :]
        if rest and not rest.startswith(":"):
            raise AddressError(f"{what} {text!r}: expected ':port' after ']'")
        port = check_port(rest[1:], f"port of {what} {text!r}") if rest else default_port
        try:
            ipaddress.IPv6Address(host)
        except ValueError as exc:
            raise AddressError(f"{what} {text!r}: brackets are for IPv6 addresses only") from exc
        return host, port
    if value.count(":") > 1:  # a bare IPv6 address has no port: 'fe80::1' is never host 'fe80:' port 1
        return check_host(value, what), default_port
    host, sep, port_text = value.partition(":")
    return check_host(host, what), (check_port(port_text, f"port of {what} {text!r}") if sep else default_port)


def join_host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
