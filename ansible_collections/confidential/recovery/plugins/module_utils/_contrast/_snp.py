# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""Contrast's SEV-SNP attestation of the Coordinator (Contrast internal/attestation/snp, internal/manifest).

The aTLS extension 1.3.9901.2.1 holds go-sev-guest's Attestation protobuf: the report as fields, the VCEK or VLEK,
optionally the ASK and AMD's CRL. The report is rebuilt into its 1184 bytes and verified like any SNP report, with
AMD's roots pinned here and the CRL checked (Contrast checks revocations). Then any one of the manifest's
``ReferenceValues.snp`` entries must accept it: product, launch measurement, guest policy, platform features,
minimum TCB, chip IDs, and the ID-key digest derived from the measurement and policy. REPORT_DATA binds the
connection (SHA-512 of the certificate key and the nonce); HOST_DATA is the Coordinator's policy hash.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import struct
from dataclasses import dataclass

from .._evidence._amd_chain import ChainError, load_certificate, pinned_chain, verify_signing_key
from .._evidence._amd_kds import KdsCollateral, KdsError, crl_location, vcek_location
from .._evidence._checks import raises_only
from .._evidence._snp_report import REPORT_SIZE, ReportFormatError, Tcb, parse_report
from .._evidence._snp_verify import SnpPolicy, SnpVerificationError, verify_report
from ._idblock import guest_policy, id_key_digest
from ._reference_values import NO_POLICY_HASH, require_an_accepting_entry

try:
    from .._generated import sevsnp_pb2

    PROTOBUF_IMPORT_ERROR = sevsnp_pb2.PROTOBUF_IMPORT_ERROR
except ImportError as _exc:  # pragma: no cover - the generated module guards its own imports
    PROTOBUF_IMPORT_ERROR = _exc

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
except ImportError:  # pragma: no cover - the modules report it through missing_required_lib
    pass

CRL_EXTRAS_KEY = "00569ee4-e480-4fba-bbf4-45b629901180"
PRODUCTS = {1: "Milan", 2: "Genoa", 3: "Turin"}
# PLATFORM_INFO feature bits, by the manifest's PlatformInfo names (AMD SEV-SNP ABI).
PLATFORM_BITS = {
    "SMTEnabled": 0,
    "TSMEEnabled": 1,
    "ECCEnabled": 2,
    "RAPLDisabled": 3,
    "CiphertextHidingDRAMEnabled": 4,
    "AliasCheckComplete": 5,
    "TIOEnabled": 7,
}


class ContrastSnpError(Exception):
    """The Coordinator's SNP evidence is not acceptable; the message says why."""


def _abi_bytes(report) -> bytes:
    """go-sev-guest's ReportToAbiBytes: the proto's fields at their offsets in a zeroed 1184-byte report."""
    raw = bytearray(REPORT_SIZE)
    struct.pack_into("<IIQ", raw, 0x000, report.version, report.guest_svn, report.policy)
    for offset, field, size in (
        (0x010, "family_id", 16),
        (0x020, "image_id", 16),
        (0x050, "report_data", 64),
        (0x090, "measurement", 48),
        (0x0C0, "host_data", 32),
        (0x0E0, "id_key_digest", 48),
        (0x110, "author_key_digest", 48),
        (0x140, "report_id", 32),
        (0x160, "report_id_ma", 32),
        (0x1A0, "chip_id", 64),
    ):
        value = getattr(report, field)
        if len(value) != size:
            raise ContrastSnpError(f"the report's {field} has {len(value)} bytes, not {size}")
        raw[offset : offset + size] = value
    struct.pack_into(
        "<IIQQI",
        raw,
        0x030,
        report.vmpl,
        report.signature_algo,
        report.current_tcb,
        report.platform_info,
        report.signer_info,
    )
    struct.pack_into("<Q", raw, 0x180, report.reported_tcb)
    if report.version >= 3:
        eax = report.cpuid1eax_fms
        raw[0x188:0x18B] = bytes(
            [((eax >> 20) & 0xFF) + ((eax >> 8) & 0xF), ((eax >> 16) & 0xF) << 4 | (eax >> 4) & 0xF, eax & 0xF]
        )
    struct.pack_into("<Q", raw, 0x1E0, report.committed_tcb)
    raw[0x1E8:0x1EB] = bytes([report.current_build, report.current_minor, report.current_major])
    raw[0x1EC:0x1EF] = bytes([report.committed_build, report.committed_minor, report.committed_major])
    struct.pack_into("<QQQ", raw, 0x1F0, report.launch_tcb, report.launch_mit_vector, report.current_mit_vector)
    if len(report.signature) != 512:
        raise ContrastSnpError(f"the report's signature has {len(report.signature)} bytes, not 512")
    raw[0x2A0:0x4A0] = report.signature
    return bytes(raw)


@dataclass(frozen=True)
class Evidence:
    report_bytes: bytes
    signer: bytes | None
    intermediate: bytes | None
    crl: bytes | None
    product: str | None


def parse_attestation(raw: bytes) -> Evidence:
    if PROTOBUF_IMPORT_ERROR is not None:
        raise ContrastSnpError(f"reading Contrast's SNP attestation needs protobuf: {PROTOBUF_IMPORT_ERROR}")
    try:
        attestation = sevsnp_pb2.Attestation.FromString(raw)
    except Exception as exc:  # noqa: BLE001 - protobuf raises DecodeError, whose class depends on the runtime
        raise ContrastSnpError("the attestation document is not go-sev-guest's Attestation protobuf") from exc
    if not attestation.HasField("report"):
        raise ContrastSnpError("the attestation document carries no report")
    chain = attestation.certificate_chain
    signer = chain.vcek_cert or chain.vlek_cert or None
    return Evidence(
        report_bytes=_abi_bytes(attestation.report),
        signer=signer,
        intermediate=chain.ask_cert or None,
        crl=chain.extras.get(CRL_EXTRAS_KEY),
        product=PRODUCTS.get(attestation.product.name),
    )


def check_revocation(
    crl_der: bytes | None,
    product: str,
    kind: str,
    ark_pem: bytes | None,
    intermediate: bytes | None,
    now: datetime.datetime,
) -> None:
    """AMD's CRL for the product, signed by the ARK and current, must not list the ASK/ASVK (Contrast: revocations on)."""
    if not crl_der:
        raise ContrastSnpError("the attestation carries no AMD CRL, and revocations must be checked")
    try:
        crl = x509.load_der_x509_crl(crl_der)
    except ValueError as exc:
        raise ContrastSnpError(f"the AMD CRL cannot be parsed: {exc}") from exc
    intermediate_cert, ark = pinned_chain(product, kind)
    if ark_pem is not None:
        ark = load_certificate(ark_pem)
    if intermediate:
        intermediate_cert = load_certificate(intermediate)
    if not crl.is_signature_valid(ark.public_key()):
        raise ContrastSnpError("the AMD CRL is not signed by the ARK")
    if crl.next_update_utc is not None and now > crl.next_update_utc:
        raise ContrastSnpError(f"the AMD CRL expired on {crl.next_update_utc:%Y-%m-%d}")
    if crl.get_revoked_certificate_by_serial_number(intermediate_cert.serial_number) is not None:
        raise ContrastSnpError(f"AMD revoked the {kind.upper()} issuer {intermediate_cert.subject.rfc4514_string()}")


def _platform_problem(platform_info: int, allowed: dict) -> str | None:
    allowed_mask = sum(1 << bit for name, bit in PLATFORM_BITS.items() if allowed.get(name))
    extra = platform_info & ~allowed_mask & 0xFF
    if extra:
        names = [name for name, bit in PLATFORM_BITS.items() if extra & 1 << bit]
        return f"the platform enables {', '.join(names) or hex(extra)}, which the reference values do not allow"
    return None


# What upstream Contrast's manifest validation requires of an SNP entry (internal/manifest referencevalues.go): the
# product, the launch measurement and all four parts of the minimum TCB. An entry without one of them is refused by
# name; it is never "not checked".
MEASUREMENT_SIZE = 48
MINIMUM_TCB_PARTS = ("BootloaderVersion", "TEEVersion", "SNPVersion", "MicrocodeVersion")


def _tcb(minimum) -> Tcb:
    if not isinstance(minimum, dict) or not minimum:
        raise ContrastSnpError("MinimumTCB is missing, and upstream Contrast requires it of every SNP entry")
    parts = {}
    for name in MINIMUM_TCB_PARTS:
        value = minimum.get(name)
        if value is None:
            raise ContrastSnpError(f"MinimumTCB.{name} is missing, and upstream Contrast requires it")
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 0xFF:
            raise ContrastSnpError(f"MinimumTCB.{name} is not a number from 0 to 255: {str(value)[:40]!r}")
        parts[name] = value
    return Tcb.from_parts(
        [parts["BootloaderVersion"], parts["TEEVersion"], 0, 0, 0, 0, parts["SNPVersion"], parts["MicrocodeVersion"]]
    )


def _measurement(entry: dict) -> bytes:
    value = entry.get("TrustedMeasurement")
    if not value:
        raise ContrastSnpError("TrustedMeasurement is missing, and upstream Contrast requires it of every SNP entry")
    try:
        measurement = bytes.fromhex(value)
    except (TypeError, ValueError) as exc:
        raise ContrastSnpError("TrustedMeasurement is not hex") from exc
    if len(measurement) != MEASUREMENT_SIZE:
        raise ContrastSnpError(f"TrustedMeasurement has {len(measurement)} bytes, not {MEASUREMENT_SIZE}")
    return measurement


def _against_entry(report, signing_key, entry: dict, report_data: bytes) -> None:
    """Raise ContrastSnpError unless this ReferenceValues.snp entry accepts the report."""
    product = entry.get("ProductName")
    if not product:
        raise ContrastSnpError("ProductName is missing, and upstream Contrast requires it of every SNP entry")
    if product != signing_key.product:
        raise ContrastSnpError(f"product {signing_key.product}, not {str(product)[:40]}")
    if entry.get("APEIP"):
        raise ContrastSnpError(
            "the entry gives APEIP (a launch digest per vCPU count), which this release cannot derive yet"
        )
    if entry.get("MinimumMitigationVector"):
        raise ContrastSnpError(
            "the entry gives MinimumMitigationVector, which needs the mitigation vectors of SNP "
            "report version 5 that this release does not read yet"
        )
    measurement = _measurement(entry)
    minimum = _tcb(entry.get("MinimumTCB"))
    policy_fields = entry.get("GuestPolicy") or {}
    if not isinstance(policy_fields, dict):
        raise ContrastSnpError("GuestPolicy is not a JSON object")
    policy = SnpPolicy(
        allow_debug=bool(policy_fields.get("Debug")),
        allow_migrate_ma=bool(policy_fields.get("MigrateMA")),
        allow_smt=bool(policy_fields.get("SMT")),
        allow_cxl=bool(policy_fields.get("CXLAllowed")),
        vmpl=0,
        minimum_tcb=minimum,
        minimum_launch_tcb=minimum,
        permit_provisional_firmware=True,
        report_data=report_data,
        measurement=measurement,
        trusted_id_key_digests=(id_key_digest(measurement, guest_policy(policy_fields)),),
        require_id_block=True,
    )
    try:
        verify_report(report, signing_key, policy)
    except SnpVerificationError as exc:
        raise ContrastSnpError(str(exc)) from exc
    problem = _platform_problem(report.platform_info, entry.get("PlatformInfo") or {})
    if problem:
        raise ContrastSnpError(problem)
    chips = [str(chip).lower() for chip in entry.get("AllowedChipIDs") or []]
    if chips and report.chip_id.hex() not in chips:
        raise ContrastSnpError(f"chip {report.chip_id.hex()[:16]}... is not in AllowedChipIDs")


def _from_kds(collateral: KdsCollateral | None, location, what: str) -> bytes:
    if collateral is None:
        raise ContrastSnpError(f"{what} did not come with the evidence, and no collateral directory is set")
    try:
        return collateral.get(location, what)
    except KdsError as exc:
        raise ContrastSnpError(str(exc)) from exc


@raises_only(ContrastSnpError, "the Coordinator's SEV-SNP evidence")
def validate(
    raw: bytes,
    spki: bytes,
    nonce: bytes,
    reference_values: list[dict],
    policy_hashes: list[str],
    now: datetime.datetime,
    trust_anchor: bytes | None = None,
    collateral: KdsCollateral | None = None,
) -> dict:
    """The report summary if the Coordinator's evidence holds; ContrastSnpError naming every reason otherwise.
    A VCEK or CRL the evidence did not bring comes from ``collateral`` (AMD KDS, cached in the collateral directory)."""
    if not policy_hashes:
        raise ContrastSnpError(NO_POLICY_HASH)
    evidence = parse_attestation(raw)
    try:
        report = parse_report(evidence.report_bytes)
        signer = evidence.signer
        if signer is None:
            if not evidence.product:
                raise ContrastSnpError("the attestation carries no VCEK and names no product to fetch it for")
            signer = _from_kds(
                collateral, vcek_location(evidence.product, report.chip_id, report.reported_tcb), "the chip's VCEK"
            )
        signing_key = verify_signing_key(signer, now, evidence.intermediate, trust_anchor)
    except (ReportFormatError, ChainError) as exc:
        raise ContrastSnpError(str(exc)) from exc
    if evidence.product and evidence.product != signing_key.product:
        raise ContrastSnpError(
            f"the attestation names product {evidence.product}, but its signing key is {signing_key.product}'s"
        )
    crl = evidence.crl or _from_kds(collateral, crl_location(signing_key.product), "AMD's CRL")
    check_revocation(crl, signing_key.product, signing_key.kind, trust_anchor, evidence.intermediate, now)
    report_data = hashlib.sha512(spki + nonce).digest()
    require_an_accepting_entry(
        reference_values, lambda entry: _against_entry(report, signing_key, entry, report_data), ContrastSnpError, "snp"
    )
    if not any(hmac.compare_digest(report.host_data.hex(), h.lower()) for h in policy_hashes):
        raise ContrastSnpError(f"wrong policy hash for Coordinator: HOST_DATA is {report.host_data.hex()}")
    return dict(report.summary(), product=signing_key.product, signer=signing_key.kind)


def spki_of(cert) -> bytes:
    return cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
