# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""Reference measurements as constellation-conf.yaml holds them, and their comparison (Constellation v2.x,
internal/attestation/measurements): an enforced mismatch rejects the peer, a warn-only one becomes a warning."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

DIGEST_SIZES = (32, 48)


class MeasurementsError(ValueError):
    """The reference measurements themselves are malformed."""


@dataclass(frozen=True)
class Measurement:
    expected: bytes
    warn_only: bool


def _digest(index: int, text) -> bytes:
    try:
        value = bytes.fromhex(str(text))
    except ValueError as exc:
        raise MeasurementsError(f"measurement {index}: {text!r} is not hex") from exc
    if len(value) not in DIGEST_SIZES:
        raise MeasurementsError(f"measurement {index}: {len(value)} bytes; a measurement has 32 or 48")
    return value


def parse_measurements(config: dict) -> dict[int, Measurement]:
    """``{index: {expected: hex, warnOnly: bool}}``, or the legacy ``{index: hex}`` (enforced)."""
    if not isinstance(config, dict) or not config:
        raise MeasurementsError("measurements must be a non-empty mapping of PCR index to expected value")
    parsed = {}
    for key, entry in config.items():
        try:
            index = int(key)
        except (TypeError, ValueError) as exc:
            raise MeasurementsError(f"measurement index {key!r} is not a number") from exc
        if not 0 <= index < 2**32:
            raise MeasurementsError(f"measurement index {index} is out of range")
        if isinstance(entry, dict):
            if "expected" not in entry:
                raise MeasurementsError(f"measurement {index} has no 'expected' value")
            warn_only = entry.get("warnOnly", False)
            if not isinstance(warn_only, bool):
                raise MeasurementsError(f"measurement {index}: warnOnly must be true or false")
            parsed[index] = Measurement(_digest(index, entry["expected"]), warn_only)
        else:
            parsed[index] = Measurement(_digest(index, entry), False)
    return parsed


def compare(expected: dict[int, Measurement], actual: dict[int, bytes]) -> tuple[list[str], list[str]]:
    """(errors, warnings): one line per index that is missing or differs, in index order, as upstream words them."""
    errors, warnings = [], []
    for index in sorted(expected):
        reference = expected[index]
        value = actual.get(index)
        if value is None:
            line = f"missing measurement value for index {index}"
        elif not hmac.compare_digest(value, reference.expected):
            line = f"untrusted measurement value {value.hex()} at index {index}"
        else:
            continue
        (warnings if reference.warn_only else errors).append(line)
    return errors, warnings


def cluster_measurement(variant: str, cluster_id: bytes) -> tuple[int, Measurement]:
    """The measurement a running node shows once its state disk is open: the cluster ID extended into PCR 15 from
    zero (SHA-256), or into RTMR 2, measurement index 3, for qemu-tdx (SHA-384), as `constellation verify` expects
    it (Constellation v2.24 cli/internal/cmd/verify.go). Always enforced."""
    digest = hashlib.sha384 if variant == "qemu-tdx" else hashlib.sha256
    index = 3 if variant == "qemu-tdx" else 15
    size = digest().digest_size
    return index, Measurement(digest(bytes(size) + digest(cluster_id).digest()).digest(), warn_only=False)
