# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""What the SEV-SNP variants of constellation-conf.yaml share (Constellation v2.x, internal/config/attestation.go):
the minimum firmware versions, and PEM certificate lists."""

from __future__ import annotations

from ._snp_report import Tcb

TCB_KEYS = ("bootloaderVersion", "teeVersion", "snpVersion", "microcodeVersion")


def _version(section: dict, config_key: str, key: str, error) -> int:
    value = section.get(key)
    if value == "latest":
        raise error(
            f"attestation.{config_key}.{key} is 'latest': give the number (the CLI resolves 'latest' from "
            "Constellation's signed CDN list; this collection does not fetch it)"
        )
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 255:
        raise error(f"attestation.{config_key}.{key} must be a number from 0 to 255, got {value!r}")
    return value


def minimum_tcb(section: dict, config_key: str, error=ValueError) -> Tcb:
    """The TCB that bootloaderVersion, teeVersion, snpVersion and microcodeVersion give; ``error`` is raised otherwise."""
    bootloader, tee, snp, microcode = (_version(section, config_key, key, error) for key in TCB_KEYS)
    return Tcb.from_parts([bootloader, tee, 0, 0, 0, 0, snp, microcode])


def first_certificate(pem_chain: bytes) -> bytes | None:
    """The first PEM certificate of a chain (the ASK or ASVK; the ARK after it is never used), or None."""
    end = b"-----END CERTIFICATE-----"
    if end not in pem_chain:
        return None
    return pem_chain[: pem_chain.index(end) + len(end)] + b"\n"
