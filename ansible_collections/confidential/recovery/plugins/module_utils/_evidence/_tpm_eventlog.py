# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""Replay a TCG event log against quoted PCRs (TCG PC Client Platform Firmware Profile; little-endian).

The rule of go-attestation's replayPCR, which go-tpm-tools v0.4.6 applies: for every quoted PCR that has events
in the log, extending from zero (PCR 0 from its StartupLocality) with the logged digests of that bank must give the
quoted value. PCRs without events pass (Constellation extends PCR 15 later, unlogged); events of other PCRs are
not looked at.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from ._checks import raises_only
from ._tpm import Reader, TpmError, hash_algorithm

try:
    from cryptography.hazmat.primitives import hashes
except ImportError:  # pragma: no cover - the modules report it through missing_required_lib
    pass

EV_NO_ACTION = 0x3
_SPEC_ID = b"Spec ID Event03\x00"
_STARTUP_LOCALITY = b"StartupLocality\x00"
_SHA1_SIZE = 20


@dataclass(frozen=True)
class Event:
    pcr: int
    type: int
    digests: dict[int, bytes]
    data: bytes


def _digest_sizes(spec: bytes) -> dict[int, int]:
    reader = Reader(spec[len(_SPEC_ID) :], "the event log", "<")
    reader.take(4 + 4)  # platformClass, spec version, errata, uintnSize
    return {reader.u16(): reader.u16() for _algorithm in range(reader.u32())}


@raises_only(TpmError, "the event log")
def parse_event_log(log: bytes) -> list[Event]:
    reader = Reader(log, "the event log", "<")
    pcr, kind = reader.u32(), reader.u32()
    first = Event(pcr, kind, {0x0004: reader.take(_SHA1_SIZE)}, reader.take(reader.u32()))
    if not (kind == EV_NO_ACTION and first.data.startswith(_SPEC_ID)):
        events = [first]
        while not reader.done():  # a SHA-1-only log
            pcr, kind = reader.u32(), reader.u32()
            events.append(Event(pcr, kind, {0x0004: reader.take(_SHA1_SIZE)}, reader.take(reader.u32())))
        return events
    sizes = _digest_sizes(first.data)
    events = []
    while not reader.done():
        pcr, kind = reader.u32(), reader.u32()
        digests = {}
        for _digest in range(reader.u32()):
            alg = reader.u16()
            if alg not in sizes:
                raise TpmError(f"the event log uses hash {alg:#06x}, which its header does not declare")
            digests[alg] = reader.take(sizes[alg])
        events.append(Event(pcr, kind, digests, reader.take(reader.u32())))
    return events


def replay(events: list[Event], bank: int, pcrs: dict[int, bytes]) -> None:
    """Raise TpmError when a quoted PCR that has events is not what its events extend to."""
    size = hash_algorithm(bank).digest_size
    for index, quoted in sorted(pcrs.items()):
        value = bytes(size)
        extended = False
        for event in events:
            if event.pcr != index:
                continue
            if event.type == EV_NO_ACTION:
                if (
                    index == 0
                    and event.data.startswith(_STARTUP_LOCALITY)
                    and len(event.data) == len(_STARTUP_LOCALITY) + 1
                ):
                    value = bytes(size - 1) + event.data[-1:]
                continue
            if bank not in event.digests:
                raise TpmError(f"an event of PCR {index} has no digest of the quoted bank")
            context = hashes.Hash(hash_algorithm(bank))
            context.update(value + event.digests[bank])
            value = context.finalize()
            extended = True
        if extended and not hmac.compare_digest(value, quoted):
            raise TpmError(f"the event log does not replay to the quoted PCR {index}")
