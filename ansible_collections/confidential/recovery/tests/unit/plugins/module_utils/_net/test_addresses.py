# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Ports and hosts as users type them."""

from __future__ import annotations

import pytest

from ansible_collections.confidential.recovery.plugins.module_utils._net._addresses import (
    AddressError,
    check_port,
    join_host_port,
    split_host_port,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10.0.0.5", ("10.0.0.5", 1313)),
        ("10.0.0.5:7777", ("10.0.0.5", 7777)),
        ("coordinator.example.com:1313", ("coordinator.example.com", 1313)),
        ("::1", ("::1", 1313)),
        ("fe80::1", ("fe80::1", 1313)),
        ("[::1]", ("::1", 1313)),
        ("[::1]:1313", ("::1", 1313)),
        ("[2001:db8::7]:4000", ("2001:db8::7", 4000)),
    ],
)
def test_split_host_port(text, expected):
    assert split_host_port(text, 1313) == expected


@pytest.mark.parametrize(
    "text",
    ["[::1", "[::1]x", "[10.0.0.1]:1", "host:0", "host:70000", "host:abc", "", "bad host", "-bad.example", "1.2.3.4.5"],
)
def test_split_host_port_rejects(text):
    with pytest.raises(AddressError):
        split_host_port(text, 1313)


@pytest.mark.parametrize("value", [0, 70000, -1, "x", True, None])
def test_ports_outside_range_are_refused_not_wrapped(value):
    with pytest.raises(AddressError):
        check_port(value)


def test_port_bounds():
    assert check_port(1) == 1 and check_port("65535") == 65535


def test_join_brackets_ipv6():
    assert join_host_port("::1", 9999) == "[::1]:9999"
    assert join_host_port("10.0.0.1", 9999) == "10.0.0.1:9999"
