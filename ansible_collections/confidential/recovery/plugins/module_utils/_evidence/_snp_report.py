# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""The AMD SEV-SNP attestation report: 1184 little-endian bytes (AMD SEV-SNP ABI spec 56860, as google/go-sev-guest
abi/abi.go reads it). Parsing only; the signature and the checks are in _snp_verify.py."""

from __future__ import annotations

from dataclasses import dataclass

from ._checks import raises_only

REPORT_SIZE = 0x4A0
SIGNED_SIZE = 0x2A0
SUPPORTED_VERSIONS = range(2, 6)
ECDSA_P384_SHA384 = 1

# SIGNING_KEY in the signer-info word (bits 2-4).
SIGNER_VCEK = 0
SIGNER_VLEK = 1
SIGNER_NONE = 7

# Guest policy bits (above the ABI minor/major bytes).
POLICY_SMT = 1 << 16
POLICY_RESERVED_ONE = 1 << 17
POLICY_MIGRATE_MA = 1 << 18
POLICY_DEBUG = 1 << 19
POLICY_SINGLE_SOCKET = 1 << 20
POLICY_CXL_ALLOW = 1 << 21
POLICY_MBZ = ~((1 << 26) - 1) & ((1 << 64) - 1)


class ReportFormatError(ValueError):
    """The bytes are not an SNP attestation report this code can read."""


@dataclass(frozen=True)
class Tcb:
    """A TCB_VERSION of Milan and Genoa: byte 0 boot loader, 1 TEE, 2-5 reserved (KDS spl4-spl7), 6 SNP, 7 microcode."""

    raw: int

    @property
    def parts(self) -> tuple[int, ...]:
        return tuple(self.raw.to_bytes(8, "little"))

    @property
    def bootloader(self) -> int:
        return self.parts[0]

    @property
    def tee(self) -> int:
        return self.parts[1]

    @property
    def snp(self) -> int:
        return self.parts[6]

    @property
    def microcode(self) -> int:
        return self.parts[7]

    @classmethod
    def from_parts(cls, parts) -> Tcb:
        return cls(int.from_bytes(bytes(parts), "little"))

    def at_least(self, minimum: Tcb) -> bool:
        """Component-wise, over all eight bytes, as go-sev-guest compares TCBs."""
        return all(mine >= theirs for mine, theirs in zip(self.parts, minimum.parts, strict=False))

    def __str__(self) -> str:
        return f"bl {self.bootloader}, tee {self.tee}, snp {self.snp}, ucode {self.microcode}"

    def as_dict(self) -> dict:
        return {"bootloader": self.bootloader, "tee": self.tee, "snp": self.snp, "microcode": self.microcode}


def _u32(data: bytes, offset: int) -> int:
    return int.from_bytes(data[offset : offset + 4], "little")


def _u64(data: bytes, offset: int) -> int:
    return int.from_bytes(data[offset : offset + 8], "little")


@dataclass(frozen=True)
class SnpReport:
    raw: bytes
    version: int
    guest_svn: int
    policy: int
    family_id: bytes
    image_id: bytes
    vmpl: int
    signature_algo: int
    current_tcb: Tcb
    platform_info: int
    signer_info: int
    report_data: bytes
    measurement: bytes
    host_data: bytes
    id_key_digest: bytes
    author_key_digest: bytes
    report_id: bytes
    reported_tcb: Tcb
    cpuid: tuple[int, int, int] | None
    chip_id: bytes
    committed_tcb: Tcb
    launch_tcb: Tcb
    signature_r: int
    signature_s: int

    @property
    def signed_bytes(self) -> bytes:
        return self.raw[:SIGNED_SIZE]

    @property
    def signing_key(self) -> int:
        return (self.signer_info >> 2) & 0x7

    @property
    def abi(self) -> tuple[int, int]:
        return (self.policy >> 8) & 0xFF, self.policy & 0xFF

    def policy_has(self, bit: int) -> bool:
        return bool(self.policy & bit)

    def summary(self) -> dict:
        """What an operator audits: the fields that identify the guest, the platform and its firmware."""
        return {
            "version": self.version,
            "guest_svn": self.guest_svn,
            "policy": f"{self.policy:#x}",
            "vmpl": self.vmpl,
            "measurement": self.measurement.hex(),
            "host_data": self.host_data.hex(),
            "report_data": self.report_data.hex(),
            "id_key_digest": self.id_key_digest.hex(),
            "chip_id": self.chip_id.hex(),
            "reported_tcb": self.reported_tcb.as_dict(),
            "current_tcb": self.current_tcb.as_dict(),
            "committed_tcb": self.committed_tcb.as_dict(),
            "launch_tcb": self.launch_tcb.as_dict(),
            "platform_info": f"{self.platform_info:#x}",
        }


@raises_only(ReportFormatError, "the SEV-SNP report")
def parse_report(data: bytes) -> SnpReport:
    """Parse the first 1184 bytes of ``data`` (Azure's HCL report and others append their own bytes)."""
    if len(data) < REPORT_SIZE:
        raise ReportFormatError(f"an SNP report has {REPORT_SIZE} bytes, got {len(data)}")
    raw = bytes(data[:REPORT_SIZE])
    version = _u32(raw, 0x000)
    if version not in SUPPORTED_VERSIONS:
        raise ReportFormatError(f"SNP report version {version} is not supported (2 to 5 are)")
    signature_algo = _u32(raw, 0x034)
    if signature_algo != ECDSA_P384_SHA384:
        raise ReportFormatError(f"SNP report signature algorithm {signature_algo} is not ECDSA P-384 with SHA-384")
    policy = _u64(raw, 0x008)
    if not policy & POLICY_RESERVED_ONE:
        raise ReportFormatError("SNP guest policy bit 17 must be set")
    if policy & POLICY_MBZ:
        raise ReportFormatError(f"SNP guest policy {policy:#x} sets reserved bits")
    signer_info = _u32(raw, 0x048)
    if signer_info >> 5:
        raise ReportFormatError(f"SNP signer info {signer_info:#x} sets reserved bits")
    if any(raw[0x330:REPORT_SIZE]):
        raise ReportFormatError("the bytes after the SNP report signature must be zero")
    return SnpReport(
        raw=raw,
        version=version,
        guest_svn=_u32(raw, 0x004),
        policy=policy,
        family_id=raw[0x010:0x020],
        image_id=raw[0x020:0x030],
        vmpl=_u32(raw, 0x030),
        signature_algo=signature_algo,
        current_tcb=Tcb(_u64(raw, 0x038)),
        platform_info=_u64(raw, 0x040),
        signer_info=signer_info,
        report_data=raw[0x050:0x090],
        measurement=raw[0x090:0x0C0],
        host_data=raw[0x0C0:0x0E0],
        id_key_digest=raw[0x0E0:0x110],
        author_key_digest=raw[0x110:0x140],
        report_id=raw[0x140:0x160],
        reported_tcb=Tcb(_u64(raw, 0x180)),
        cpuid=(raw[0x188], raw[0x189], raw[0x18A]) if version >= 3 else None,
        chip_id=raw[0x1A0:0x1E0],
        committed_tcb=Tcb(_u64(raw, 0x1E0)),
        launch_tcb=Tcb(_u64(raw, 0x1F0)),
        signature_r=int.from_bytes(raw[0x2A0:0x2E8], "little"),
        signature_s=int.from_bytes(raw[0x2E8:0x330], "little"),
    )
