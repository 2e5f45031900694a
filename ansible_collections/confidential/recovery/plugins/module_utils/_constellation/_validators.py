# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""Constellation's aTLS validators: the lab's ``dummy`` variant, and every hardware variant built from the user's
constellation-conf.yaml (the document validators are in _variants). A validator takes the peer's DER certificate and
the nonce this client sent, and returns evidence (a dict) or raises AttestationFailed."""

from __future__ import annotations

import base64
import hashlib
import json

from .._evidence._checks import CheckFailed, raises_only
from .._evidence._choices import AUTO, CONSTELLATION_OIDS, LAB, LAB_WARNING
from .._evidence._peer_certificate import b64_field, caveat, peer_document, spki_der
from .._net._atls import AttestationFailed
from . import _attestation_config
from ._measurements import cluster_measurement

# Variants whose attestation key comes from the peer's own document, vouched for by no hardware vendor: whoever answers
# on a node's address can sign a quote over the published reference values. Upstream Constellation trusts them the same
# way; they prove the measurements only where the network path to the node is trusted.
NO_HARDWARE_ROOT = {
    "qemu-vtpm": "a QEMU vTPM's key comes from the node's own document",
    "aws-nitro-tpm": "the NitroTPM's key comes from the node's own document (AWS does not sign it)",
}


def no_hardware_root(variant: str, selection: str) -> dict:
    return caveat(
        "no_hardware_root",
        f"attestation {variant} ({selection}) has no hardware root of trust: "
        f"{NO_HARDWARE_ROOT[variant]}, so whoever answers on a node's address can forge a quote for the "
        "published measurements. It proves them only if the path to the nodes is trusted",
    )


def nothing_enforced(variant: str, measurements: dict, source: str) -> dict | None:
    if measurements and all(m.warn_only for m in measurements.values()):
        return caveat(
            "measurements_warn_only",
            f"{source}: every measurement of {variant} is warnOnly: a node with "
            "any measurements at all gets its key, with warnings",
        )
    return None


class ConstellationDummyValidator:
    """Constellation's test variant: extension 1.3.9900.1.1 = JSON {UserData, Nonce}."""

    name = "constellation/dummy"
    caveats = [{"condition": "lab_attestation", "message": LAB_WARNING}]

    @raises_only(AttestationFailed, "the attestation document")
    def validate(self, cert_der: bytes, nonce: bytes) -> dict:
        cert, raw = peer_document(cert_der, CONSTELLATION_OIDS["dummy"])
        return self._checked(raw, nonce, hashlib.sha256(spki_der(cert)).digest(), "certificate hash")

    @raises_only(AttestationFailed, "the attestation document")
    def validate_document(self, raw: bytes, nonce: bytes, user_data: bytes) -> dict:
        """A document without a certificate (the verification service's), issued for ``user_data``."""
        return self._checked(raw, nonce, user_data, "expected user data")

    @staticmethod
    def _checked(raw: bytes, nonce: bytes, expected_user_data: bytes, what: str) -> dict:
        try:
            doc = json.loads(raw)
        except ValueError as exc:
            raise AttestationFailed("attestation document is not JSON") from exc
        if not isinstance(doc, dict):
            raise AttestationFailed("attestation document is not a JSON object")
        got_nonce = b64_field(doc.get("Nonce", ""), "Nonce")
        if got_nonce != nonce:
            raise AttestationFailed(
                f"invalid nonce: expected {base64.b64encode(nonce).decode()}, got {base64.b64encode(got_nonce).decode()}"
            )
        if b64_field(doc.get("UserData", ""), "UserData") != expected_user_data:
            raise AttestationFailed(f"{what} does not match user data")
        return {"variant": "dummy", "oid": CONSTELLATION_OIDS["dummy"]}


def _failed(check: str, message: str) -> AttestationFailed:
    error = AttestationFailed(message)
    error.check = check
    return error


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
        return self._checked(raw, nonce, hashlib.sha256(spki_der(cert)).digest(), "certificate hash")

    @raises_only(AttestationFailed, "the attestation document")
    def validate_document(self, raw: bytes, nonce: bytes, user_data: bytes) -> dict:
        """A document without a certificate (the verification service's), issued for ``user_data``."""
        return self._checked(raw, nonce, user_data, "expected user data")

    def _checked(self, raw: bytes, nonce: bytes, expected_user_data: bytes, what: str) -> dict:
        try:
            result = self.document.validate(raw, nonce)
        except CheckFailed as exc:
            raise _failed(exc.check, f"{self.variant}: {exc}") from exc
        if result.user_data != expected_user_data:
            raise _failed("binding", f"{what} does not match user data")
        for warning in result.warnings:
            self.warn(f"{self.variant}: {warning} (warn-only in the reference values)")
        return {
            "variant": self.variant,
            "oid": CONSTELLATION_OIDS[self.variant],
            "warnings": result.warnings,
            "measurements": {str(index): value.hex() for index, value in sorted(result.pcrs.items())},
            "platform": result.platform,
            "hardware_root": self.variant not in NO_HARDWARE_ROOT,
            "caveats": [c["condition"] for c in self.caveats],
            "selected_by": self.selection,
        }


def constellation_validator(
    attestation: str,
    config=None,
    source: str = "constellation-conf.yaml",
    warn=None,
    trust_anchor: bytes | None = None,
    now=None,
    collateral_dir: str | None = None,
    pcs=None,
    gce_keys=None,
    ec2_images=None,
    cluster_id: bytes | None = None,
):
    """The validator of ``attestation``, with the reference values of ``config`` (the parsed constellation-conf.yaml).
    ``now`` (a callable) pins the time at which certificates must be valid; by default the wall clock.
    ``collateral_dir`` holds evidence captured beforehand (gcp-sev-snp: Compute Engine's attestation keys); ``pcs``
    makes the reader of Intel's collateral for the TDX variants (which reads and, if allowed, fetches it), called only
    for them (by default: only from ``collateral_dir``);
    ``gce_keys`` gives the GCP variants' attestation keys and ``ec2_images`` aws-nitro-tpm's DescribeImages answers
    (by default: only those saved in ``collateral_dir``). With ``cluster_id`` (a running node's document, from the
    verification service), the measurement that carries the cluster ID is required as well.

    Raises NotImplementedError for a variant without a validator, and AttestationConfigError or VariantConfigError
    for a configuration that gives no usable reference values.
    """
    if attestation == LAB:
        return ConstellationDummyValidator()
    # The hardware variants' code is imported only for them: the lab's run does not pay for it.
    from . import _variants as _constellation_variants

    selection = f"attestation: {attestation}"
    if attestation == AUTO:
        if config is None:
            raise NotImplementedError(
                "attestation 'auto' takes the variant from constellation-conf.yaml: give attestation_config"
            )
        attestation = _attestation_config.configured_variant(config, source)
        selection = (
            f"picked by attestation: auto from attestation.{_attestation_config.CONFIG_KEYS[attestation]} in {source}"
        )
    builder = _constellation_variants.BUILDERS.get(attestation)
    if builder is None:
        raise NotImplementedError(
            f"attestation variant {attestation!r} (OID {CONSTELLATION_OIDS.get(attestation, '?')}) has no validator in "
            f"this release; implemented: lab, {', '.join(sorted(_constellation_variants.BUILDERS))}. Refusing to push "
            "keys without attestation."
        )
    if config is None:
        raise NotImplementedError(
            f"attestation {attestation!r} needs reference values (attestation_config); "
            "refusing to push keys to a peer whose measurements nobody checks"
        )
    warn = warn or (lambda message: None)
    measurements = _attestation_config.reference_measurements(config, attestation, source)
    if cluster_id is not None:
        index, measurement = cluster_measurement(attestation, cluster_id)
        measurements = {**measurements, index: measurement}
    caveats = [no_hardware_root(attestation, selection)] if attestation in NO_HARDWARE_ROOT else []
    caveats += [c for c in (nothing_enforced(attestation, measurements, source),) if c]
    settings = _constellation_variants.VariantSettings(
        measurements=measurements,
        section=_attestation_config.variant_section(config, attestation, source),
        source=source,
        trust_anchor=trust_anchor,
        collateral_dir=collateral_dir,
        pcs=pcs,
        gce_keys=gce_keys,
        ec2_images=ec2_images,
        warn=warn,
        caveat=lambda condition, message: caveats.append(caveat(condition, message)),
        **({"now": now} if now else {}),
    )
    document = builder(settings)
    for each in caveats:
        warn(each["message"])
    return ConstellationValidator(attestation, document, warn, now, selection, caveats)
