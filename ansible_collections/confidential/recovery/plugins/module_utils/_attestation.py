# -*- coding: utf-8 -*-
# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Attestation validators for aTLS peers: a pluggable interface.

A validator takes the peer's DER certificate and the nonce this client sent, and returns
evidence (a dict) or raises AttestationFailed. The lab variants (Constellation ``dummy``,
Contrast ``insecure``) are selected only when the user explicitly sets ``attestation: lab``;
every use warns. The Constellation hardware variants with a validator are in _constellation_variants; the
others are named so that selecting one fails clearly instead of silently falling back.
"""

from __future__ import annotations

import base64
import datetime
import functools
import hashlib
import json

from . import _amd_kds, _attestation_config, _intel_pcs, _constellation_variants, _contrast_snp, _contrast_tdx
from ._atls import AttestationFailed
from ._checks import NO_POLICY_HASH, CheckFailed, raises_only

try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_IMPORT_ERROR = None
except ImportError as _exc:  # pragma: no cover - exercised only without the dependency
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = _exc

# Constellation: 1.3.9900.<provider>.<variant>
CONSTELLATION_OIDS = {
    "dummy": "1.3.9900.1.1",
    "aws-nitro-tpm": "1.3.9900.2.1",
    "aws-sev-snp": "1.3.9900.2.2",
    "gcp-sev-es": "1.3.9900.3.1",
    "gcp-sev-snp": "1.3.9900.3.2",
    "azure-sev-snp": "1.3.9900.4.1",
    "azure-trustedlaunch": "1.3.9900.4.2",
    "azure-tdx": "1.3.9900.4.3",
    "qemu-vtpm": "1.3.9900.5.1",
    "qemu-tdx": "1.3.9900.5.99",
}

# Contrast: 1.3.9901.2.<platform>; the attestation option names them as here (snp, tdx) for the Coordinator.
CONTRAST_OIDS = {
    "snp": "1.3.9901.2.1",
    "tdx": "1.3.9901.2.2",
    "insecure": "1.3.9901.2.3",
}

# Variants whose attestation key comes from the peer's own document, vouched for by no hardware vendor: whoever answers
# on a node's address can sign a quote over the published reference values. Upstream Constellation trusts them the same
# way; they prove the measurements only where the network path to the node is trusted.
NO_HARDWARE_ROOT = {
    "qemu-vtpm": "a QEMU vTPM's key comes from the node's own document",
    "aws-nitro-tpm": "the NitroTPM's key comes from the node's own document (AWS does not sign it)",
}
LAB = "lab"
AUTO = "auto"  # Constellation: the variant constellation-conf.yaml configures
HARDWARE_VARIANTS = sorted(v for v in CONSTELLATION_OIDS if v != "dummy")
ATTESTATION_CHOICES = [LAB, AUTO] + HARDWARE_VARIANTS + ["snp", "tdx"]
LAB_WARNING = (
    "attestation: lab accepts the lab twin's test attestation (Constellation 'dummy', Contrast "
    "'insecure'). It proves nothing about the hardware: never use it against a production cluster."
)


def spki_der(cert) -> bytes:
    return cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def check_self_signed(cert, now: datetime.datetime | None = None) -> None:
    """The leaf must verify as its own root and be inside its validity window."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        raise AttestationFailed(
            f"certificate is not valid now ({cert.not_valid_before_utc:%Y-%m-%dT%H:%M:%SZ} .. "
            f"{cert.not_valid_after_utc:%Y-%m-%dT%H:%M:%SZ})"
        )
    key = cert.public_key()
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm))
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), cert.signature_hash_algorithm)
        else:
            raise AttestationFailed(f"unsupported certificate key type {type(key).__name__}")
    except InvalidSignature as exc:
        raise AttestationFailed("certificate is not self-signed by its own key") from exc


def _extension_value(cert, oid: str) -> bytes:
    for ext in cert.extensions:
        if ext.oid.dotted_string == oid:
            return ext.value.value
    got = ", ".join(ext.oid.dotted_string for ext in cert.extensions) or "none"
    raise AttestationFailed(
        f"certificate does not contain compatible attestation documents: got extension OIDs [{got}], want {oid}"
    )


@raises_only(AttestationFailed, "the peer's aTLS certificate")
def peer_document(cert_der: bytes, oid: str, now: datetime.datetime | None = None):
    """The peer's self-signed aTLS certificate, checked, and the raw attestation document of extension ``oid``."""
    try:
        cert = x509.load_der_x509_certificate(cert_der)
    except ValueError as exc:
        raise AttestationFailed(f"the peer's certificate is not DER X.509: {exc}") from exc
    check_self_signed(cert, now)
    return cert, _extension_value(cert, oid)


def _b64(value, what: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (TypeError, ValueError) as exc:
        raise AttestationFailed(f"attestation document field {what} is not base64") from exc


class ConstellationDummyValidator:
    """Constellation's test variant: extension 1.3.9900.1.1 = JSON {UserData, Nonce}."""

    name = "constellation/dummy"
    caveats = [{"condition": "lab_attestation", "message": LAB_WARNING}]

    @raises_only(AttestationFailed, "the attestation document")
    def validate(self, cert_der: bytes, nonce: bytes) -> dict:
        cert, raw = peer_document(cert_der, CONSTELLATION_OIDS["dummy"])
        try:
            doc = json.loads(raw)
        except ValueError as exc:
            raise AttestationFailed("attestation document is not JSON") from exc
        if not isinstance(doc, dict):
            raise AttestationFailed("attestation document is not a JSON object")
        got_nonce = _b64(doc.get("Nonce", ""), "Nonce")
        if got_nonce != nonce:
            raise AttestationFailed(
                f"invalid nonce: expected {base64.b64encode(nonce).decode()}, got {base64.b64encode(got_nonce).decode()}"
            )
        user_data = _b64(doc.get("UserData", ""), "UserData")
        if user_data != hashlib.sha256(spki_der(cert)).digest():
            raise AttestationFailed("certificate hash does not match user data")
        return {"variant": "dummy", "oid": CONSTELLATION_OIDS["dummy"]}


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
            report_data = _b64(doc.get("reportData", ""), "reportData")
            host_data = _b64(doc.get("hostData", ""), "hostData")
        if report_data != expected:
            raise AttestationFailed("report data does not match SHA-512(certificate key || nonce)")
        if host_data is None:
            raise AttestationFailed("wrong policy hash for Coordinator: the document carries no hostData")
        if host_data.hex() not in self.policy_hashes:
            raise AttestationFailed(f"wrong policy hash for Coordinator: hostData is {host_data.hex()[:64]}")
        return {"variant": "insecure", "oid": CONTRAST_OIDS["insecure"], "host_data": host_data.hex() if host_data else None}


def _failed(check: str, message: str) -> AttestationFailed:
    error = AttestationFailed(message)
    error.check = check
    return error


def caveat(condition: str, message: str) -> dict:
    """What a configuration does not prove: warned on every use, and carried into results and reports."""
    return {"condition": condition, "message": message}


def no_hardware_root(variant: str, selection: str) -> dict:
    return caveat("no_hardware_root", f"attestation {variant} ({selection}) has no hardware root of trust: "
                  f"{NO_HARDWARE_ROOT[variant]}, so whoever answers on a node's address can forge a quote for the "
                  "published measurements. It proves them only if the path to the nodes is trusted")


def nothing_enforced(variant: str, measurements: dict, source: str) -> dict | None:
    if measurements and all(m.warn_only for m in measurements.values()):
        return caveat("measurements_warn_only", f"{source}: every measurement of {variant} is warnOnly: a node with "
                      "any measurements at all gets its key, with warnings")
    return None


class ConstellationValidator:
    """A hardware variant: the document in the variant's extension, validated by the variant's document validator,
    bound to the certificate by UserData == SHA-256(SPKI). Warn-only measurement mismatches go to ``warn``. A
    failure carries the name of the failed check in ``check``; ``checks`` lists them in order."""

    def __init__(self, variant: str, document, warn=None, now=None, selection: str = "as configured", caveats=()):
        self.variant, self.document = variant, document
        self.checks = ("certificate",) + document.checks + ("binding",)
        self.warn = warn or (lambda message: None)
        self.now = now
        self.name = f"constellation/{variant}"
        self.selection = selection
        self.caveats = list(caveats)

    @raises_only(AttestationFailed, "the attestation document")
    def validate(self, cert_der: bytes, nonce: bytes) -> dict:
        try:
            cert, raw = peer_document(cert_der, CONSTELLATION_OIDS[self.variant], self.now() if self.now else None)
        except AttestationFailed as exc:
            raise _failed("certificate", str(exc)) from exc
        try:
            result = self.document.validate(raw, nonce)
        except CheckFailed as exc:
            raise _failed(exc.check, f"{self.variant}: {exc}") from exc
        if result.user_data != hashlib.sha256(spki_der(cert)).digest():
            raise _failed("binding", "certificate hash does not match user data")
        for warning in result.warnings:
            self.warn(f"{self.variant}: {warning} (warn-only in the reference values)")
        return {"variant": self.variant, "oid": CONSTELLATION_OIDS[self.variant], "warnings": result.warnings,
                "measurements": {str(index): value.hex() for index, value in sorted(result.pcrs.items())},
                "platform": result.platform, "hardware_root": self.variant not in NO_HARDWARE_ROOT,
                "caveats": [c["condition"] for c in self.caveats]}


def constellation_validator(attestation: str, config=None, source: str = "constellation-conf.yaml", warn=None,
                            trust_anchor: bytes | None = None, now=None, collateral_dir: str | None = None,
                            pcs: _intel_pcs.PcsCollateral | None = None):
    """The validator of ``attestation``, with the reference values of ``config`` (the parsed constellation-conf.yaml).
    ``now`` (a callable) pins the time at which certificates must be valid; by default the wall clock.
    ``collateral_dir`` holds evidence captured beforehand (gcp-sev-snp: Compute Engine's attestation keys); ``pcs``
    reads (and, if allowed, fetches) Intel's collateral for the TDX variants (by default: only from ``collateral_dir``).

    Raises NotImplementedError for a variant without a validator, and AttestationConfigError or VariantConfigError
    for a configuration that gives no usable reference values.
    """
    if attestation == LAB:
        return ConstellationDummyValidator()
    selection = f"attestation: {attestation}"
    if attestation == AUTO:
        if config is None:
            raise NotImplementedError("attestation 'auto' takes the variant from constellation-conf.yaml: give attestation_config")
        attestation = _attestation_config.configured_variant(config, source)
        selection = f"picked by attestation: auto from attestation.{_attestation_config.CONFIG_KEYS[attestation]} in {source}"
    builder = _constellation_variants.BUILDERS.get(attestation)
    if builder is None:
        raise NotImplementedError(
            f"attestation variant {attestation!r} (OID {CONSTELLATION_OIDS.get(attestation, '?')}) has no validator in "
            f"this release; implemented: lab, {', '.join(sorted(_constellation_variants.BUILDERS))}. Refusing to push "
            "keys without attestation.")
    if config is None:
        raise NotImplementedError(f"attestation {attestation!r} needs reference values (attestation_config); "
                                  "refusing to push keys to a peer whose measurements nobody checks")
    warn = warn or (lambda message: None)
    measurements = _attestation_config.reference_measurements(config, attestation, source)
    caveats = [no_hardware_root(attestation, selection)] if attestation in NO_HARDWARE_ROOT else []
    caveats += [c for c in (nothing_enforced(attestation, measurements, source),) if c]
    settings = _constellation_variants.VariantSettings(
        measurements=measurements,
        section=_attestation_config.variant_section(config, attestation, source), source=source,
        trust_anchor=trust_anchor, collateral_dir=collateral_dir, pcs=pcs or _intel_pcs.PcsCollateral(collateral_dir),
        warn=warn, caveat=lambda condition, message: caveats.append(caveat(condition, message)),
        **({"now": now} if now else {}))
    document = builder(settings)
    for each in caveats:
        warn(each["message"])
    return ConstellationValidator(attestation, document, warn, now, selection, caveats)


class ContrastHardwareValidator:
    """Contrast's SNP or TDX variant: the evidence in the variant's extension, checked by ``check(raw, spki, nonce,
    now)`` (_contrast_snp or _contrast_tdx) against the manifest's reference values and Coordinator policy hashes."""

    def __init__(self, variant: str, check, errors: tuple, now=None):
        self.variant, self.check, self.errors, self.now = variant, check, errors + (ValueError,), now
        self.name = f"contrast/{variant}"

    @raises_only(AttestationFailed, "the attestation document")
    def validate(self, cert_der: bytes, nonce: bytes) -> dict:
        moment = self.now() if self.now else datetime.datetime.now(datetime.timezone.utc)
        cert, raw = peer_document(cert_der, CONTRAST_OIDS[self.variant], moment)
        try:
            platform = self.check(raw, spki_der(cert), nonce, now=moment)
        except self.errors as exc:
            raise AttestationFailed(f"{self.variant}: {exc}") from exc
        return {"variant": self.variant, "oid": CONTRAST_OIDS[self.variant], "platform": platform}


def contrast_validator(attestation: str, coordinator_policy_hashes: list[str], reference_values: dict | None = None,
                       now=None, trust_anchor: bytes | None = None, collateral_dir: str | None = None,
                       kds: _amd_kds.KdsCollateral | None = None, pcs: _intel_pcs.PcsCollateral | None = None):
    """``reference_values`` is the manifest's ReferenceValues (``{"snp": [...], "tdx": [...]}``); ``kds`` fetches
    what SNP evidence did not bring, ``pcs`` Intel's TDX collateral (by default: only what ``collateral_dir`` already
    holds)."""
    if not coordinator_policy_hashes:
        raise NotImplementedError(NO_POLICY_HASH)
    if attestation == LAB:
        return ContrastInsecureValidator(coordinator_policy_hashes)
    values = reference_values or {}
    if attestation == "snp":
        check = functools.partial(_contrast_snp.validate, reference_values=values.get("snp") or [],
                                  policy_hashes=coordinator_policy_hashes, trust_anchor=trust_anchor,
                                  collateral=kds or _amd_kds.KdsCollateral(collateral_dir))
        return ContrastHardwareValidator("snp", check, (_contrast_snp.ContrastSnpError,), now)
    if attestation == "tdx":
        check = functools.partial(_contrast_tdx.validate, reference_values=values.get("tdx") or [],
                                  policy_hashes=coordinator_policy_hashes,
                                  collateral=pcs or _intel_pcs.PcsCollateral(collateral_dir), trust_anchor=trust_anchor)
        return ContrastHardwareValidator("tdx", check, (_contrast_tdx.ContrastTdxError,), now)
    raise NotImplementedError(
        f"attestation variant {attestation!r} has no Contrast validator in this release; implemented: lab, snp, tdx. "
        "Refusing to send the seed without attestation."
    )
