# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""Constellation's azure-sev-snp variant: which attestation key to trust (Constellation v2.x,
internal/attestation/azure/snp and internal/attestation/azure/azure.go).

The vTPM document's InstanceInfo carries the SEV-SNP report of the Azure HCL, the VCEK and ASK that Azure's THIM
service handed out, and the HCL's runtime data. The key is trusted when the report verifies (chain to the pinned
ARK, signature, Azure's policy, the ID-key digest rule) and the runtime data, bound by REPORT_DATA, names it.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import hmac
import json
from dataclasses import dataclass

from .._evidence._amd_chain import ChainError, verify_signing_key
from .._evidence._snp_config import first_certificate, minimum_tcb
from .._evidence._snp_report import ReportFormatError, Tcb, parse_report
from .._evidence._snp_verify import SnpPolicy, SnpVerificationError, verify_report
from ._vtpm import go_bytes, instance_info_object

EQUAL, MAA_FALLBACK, WARN_ONLY = "equal", "maafallback", "warnonly"


class AzureSnpError(Exception):
    """The document or the configuration does not let the attestation key be trusted; the message says why."""


@dataclass(frozen=True)
class AzureInstanceInfo:
    report_signer: bytes
    cert_chain: bytes
    attestation_report: bytes
    runtime_data: bytes
    maa_token: str


def _field(doc: dict, name: str, required: bool = True) -> bytes:
    return go_bytes(doc.get(name), f"InstanceInfo.{name}", allow_null=not required, error=AzureSnpError)


def parse_instance_info(raw: bytes) -> AzureInstanceInfo:
    doc = instance_info_object(raw, AzureSnpError)
    if not isinstance(doc.get("Azure"), dict):
        raise AzureSnpError("InstanceInfo has no Azure section: not an azure-sev-snp document")
    azure = doc["Azure"]
    return AzureInstanceInfo(
        report_signer=_field(doc, "ReportSigner"),
        cert_chain=_field(doc, "CertChain", required=False),
        attestation_report=_field(doc, "AttestationReport"),
        runtime_data=_field(azure, "RuntimeData"),
        maa_token=azure.get("MAAToken") or "",
    )


@dataclass(frozen=True)
class AzureSnpConfig:
    minimum_tcb: Tcb
    accepted_key_digests: tuple[bytes, ...]
    enforcement: str


def parse_config(section: dict) -> AzureSnpConfig:
    """The azureSEVSNP section of constellation-conf.yaml, as upstream reads it."""
    minimum = minimum_tcb(section, "azureSEVSNP", AzureSnpError)
    signer = section.get("firmwareSignerConfig") or {}
    policy = signer.get("enforcementPolicy", EQUAL)
    if isinstance(policy, bool):  # the old form: true enforced the digests, false only warned
        policy = EQUAL if policy else WARN_ONLY
    policy = str(policy).lower()
    if policy not in (EQUAL, MAA_FALLBACK, WARN_ONLY):
        raise AzureSnpError(f"firmwareSignerConfig.enforcementPolicy {policy!r} is not Equal, MAAFallback or WarnOnly")
    digests = []
    for text in signer.get("acceptedKeyDigests") or []:
        try:
            digest = bytes.fromhex(str(text))
        except ValueError as exc:
            raise AzureSnpError(f"acceptedKeyDigests entry {text!r} is not hex") from exc
        if len(digest) != 48:
            raise AzureSnpError(f"acceptedKeyDigests entry {text!r} is not 48 bytes (a SHA-384)")
        digests.append(digest)
    return AzureSnpConfig(minimum, tuple(digests), policy)


def check_id_key_digest(digest: bytes, config: AzureSnpConfig, warn) -> None:
    if any(hmac.compare_digest(digest, accepted) for accepted in config.accepted_key_digests):
        return
    message = f"the firmware's ID key digest {digest.hex()} is not in acceptedKeyDigests"
    if config.enforcement == WARN_ONLY:
        warn(message + " (enforcementPolicy WarnOnly)")
        return
    if config.enforcement == MAA_FALLBACK:
        raise AzureSnpError(
            message + "; enforcementPolicy MAAFallback would ask Microsoft Azure Attestation, which this "
            "release does not: add the digest to acceptedKeyDigests once you trust it"
        )
    raise AzureSnpError(message)


def _b64url(text: str) -> bytes:
    """A JWK member: base64url without padding."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _jwk_exponent(text: str) -> int:
    # Upstream zero-pads the decoded bytes to four and reads them little-endian; for "AQAB" that is 65537 either way.
    raw = _b64url(text)
    return int.from_bytes(raw.ljust(4, b"\x00")[:4], "little")


def check_runtime_data(runtime_data: bytes, report_data: bytes, ak) -> None:
    """REPORT_DATA binds the HCL's runtime data, whose first key is the TPM's attestation key."""
    if not hmac.compare_digest(hashlib.sha256(runtime_data).digest(), report_data[:32]):
        raise AzureSnpError("REPORT_DATA does not bind the HCL runtime data")
    try:
        key = json.loads(runtime_data)["keys"][0]
        modulus = _b64url(key["n"])
        exponent = _jwk_exponent(key["e"])
    except (ValueError, KeyError, IndexError, TypeError, binascii.Error) as exc:
        raise AzureSnpError("the HCL runtime data has no readable RSA key in keys[0]") from exc
    numbers = ak.public_numbers()
    if int.from_bytes(modulus, "big") != numbers.n or exponent != numbers.e:
        raise AzureSnpError("the attestation key is not the one the HCL runtime data names")


def trusted_ak(
    info: AzureInstanceInfo, ak, config: AzureSnpConfig, now: datetime.datetime, warn, trust_anchor: bytes | None = None
):
    """(``ak``, a summary of the SNP evidence) if the evidence vouches for the key; AzureSnpError otherwise."""
    try:
        report = parse_report(info.attestation_report)
        signing_key = verify_signing_key(
            info.report_signer, now, intermediate_bytes=first_certificate(info.cert_chain), trust_anchor=trust_anchor
        )
        policy = SnpPolicy(
            allow_debug=False,
            allow_smt=True,
            vmpl=0,
            minimum_tcb=config.minimum_tcb,
            minimum_launch_tcb=config.minimum_tcb,
            permit_provisional_firmware=True,
        )
        verify_report(report, signing_key, policy)
    except (ReportFormatError, ChainError, SnpVerificationError) as exc:
        raise AzureSnpError(str(exc)) from exc
    check_id_key_digest(report.id_key_digest, config, warn)
    check_runtime_data(info.runtime_data, report.report_data, ak)
    return ak, dict(report.summary(), product=signing_key.product, signer=signing_key.kind)
