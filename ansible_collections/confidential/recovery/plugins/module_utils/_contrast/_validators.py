# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""The Contrast Coordinator's aTLS validators: the lab's ``insecure`` variant, and SEV-SNP or TDX evidence checked
against the manifest's reference values and the Coordinator's policy hashes."""

from __future__ import annotations

import datetime
import functools
import hashlib
import json

from .._evidence import _amd_kds, _intel_pcs
from .._evidence._checks import raises_only
from .._evidence._choices import CONTRAST_OIDS, LAB
from .._evidence._peer_certificate import b64_field, peer_document, spki_der
from .._net._atls import AttestationFailed
from . import _snp as _contrast_snp
from . import _tdx as _contrast_tdx
from ._reference_values import NO_POLICY_HASH


class ContrastInsecureValidator:
    """Contrast's insecure variant: extension 1.3.9901.2.3 = JSON {reportData, hostData}.

    reportData must be SHA-512(SPKI || nonce). hostData must be one of the Coordinator's policy
    hashes (``coordinator_policy_hashes``, never empty). A 2024 issuer wrote the raw 64-byte
    reportData instead of JSON; that form carries no hostData, so it cannot pass.
    """

    name = "contrast/insecure"

    def __init__(self, coordinator_policy_hashes: list[str]):
        if not coordinator_policy_hashes:
            raise NotImplementedError(NO_POLICY_HASH)
        self.policy_hashes = {h.lower() for h in coordinator_policy_hashes}

    @raises_only(AttestationFailed, "the attestation document")
    def validate(self, cert_der: bytes, nonce: bytes) -> dict:
        cert, raw = peer_document(cert_der, CONTRAST_OIDS["insecure"])
        expected = hashlib.sha512(spki_der(cert) + nonce).digest()
        host_data = None
        if len(raw) == 64:
            report_data = raw
        else:
            try:
                doc = json.loads(raw)
            except ValueError as exc:
                raise AttestationFailed("attestation document is neither JSON nor raw reportData") from exc
            if not isinstance(doc, dict):
                raise AttestationFailed("attestation document is not a JSON object")
            report_data = b64_field(doc.get("reportData", ""), "reportData")
            host_data = b64_field(doc.get("hostData", ""), "hostData")
        if report_data != expected:
            raise AttestationFailed("report data does not match SHA-512(certificate key || nonce)")
        if host_data is None:
            raise AttestationFailed("wrong policy hash for Coordinator: the document carries no hostData")
        if host_data.hex() not in self.policy_hashes:
            raise AttestationFailed(f"wrong policy hash for Coordinator: hostData is {host_data.hex()[:64]}")
        return {
            "variant": "insecure",
            "oid": CONTRAST_OIDS["insecure"],
            "host_data": host_data.hex() if host_data else None,
        }


class ContrastHardwareValidator:
    """Contrast's SNP or TDX variant: the evidence in the variant's extension, checked by ``check(raw, spki, nonce,
    now)`` (_contrast_snp or _contrast_tdx) against the manifest's reference values and Coordinator policy hashes."""

    def __init__(self, variant: str, check, errors: tuple, now=None):
        self.variant, self.check, self.errors, self.now = variant, check, errors + (ValueError,), now
        self.name = f"contrast/{variant}"

    @raises_only(AttestationFailed, "the attestation document")
    def validate(self, cert_der: bytes, nonce: bytes) -> dict:
        moment = self.now() if self.now else datetime.datetime.now(datetime.UTC)
        cert, raw = peer_document(cert_der, CONTRAST_OIDS[self.variant], moment)
        try:
            platform = self.check(raw, spki_der(cert), nonce, now=moment)
        except self.errors as exc:
            raise AttestationFailed(f"{self.variant}: {exc}") from exc
        return {"variant": self.variant, "oid": CONTRAST_OIDS[self.variant], "platform": platform}


def contrast_validator(
    attestation: str,
    coordinator_policy_hashes: list[str],
    reference_values: dict | None = None,
    now=None,
    trust_anchor: bytes | None = None,
    collateral_dir: str | None = None,
    kds: _amd_kds.KdsCollateral | None = None,
    pcs: _intel_pcs.PcsCollateral | None = None,
):
    """``reference_values`` is the manifest's ReferenceValues (``{"snp": [...], "tdx": [...]}``); ``kds`` fetches
    what SNP evidence did not bring, ``pcs`` Intel's TDX collateral (by default: only what ``collateral_dir`` already
    holds)."""
    if not coordinator_policy_hashes:
        raise NotImplementedError(NO_POLICY_HASH)
    if attestation == LAB:
        return ContrastInsecureValidator(coordinator_policy_hashes)
    values = reference_values or {}
    if attestation == "snp":
        check = functools.partial(
            _contrast_snp.validate,
            reference_values=values.get("snp") or [],
            policy_hashes=coordinator_policy_hashes,
            trust_anchor=trust_anchor,
            collateral=kds or _amd_kds.KdsCollateral(collateral_dir),
        )
        return ContrastHardwareValidator("snp", check, (_contrast_snp.ContrastSnpError,), now)
    if attestation == "tdx":
        check = functools.partial(
            _contrast_tdx.validate,
            reference_values=values.get("tdx") or [],
            policy_hashes=coordinator_policy_hashes,
            collateral=pcs or _intel_pcs.PcsCollateral(collateral_dir),
            trust_anchor=trust_anchor,
        )
        return ContrastHardwareValidator("tdx", check, (_contrast_tdx.ContrastTdxError,), now)
    raise NotImplementedError(
        f"attestation variant {attestation!r} has no Contrast validator in this release; implemented: lab, snp, tdx. "
        "Refusing to send the seed without attestation."
    )
