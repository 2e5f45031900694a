# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""The Intel TDX quote, version 4 (Intel TDX DCAP Quote Generation Library and Quote Verification Library API,
quote format v4; as google/go-tdx-guest abi/abi.go reads it). Parsing only; the checks are in _tdx_verify.py.

All integers are little-endian; the ECDSA signatures are 32-byte big-endian r and s.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ._checks import raises_only

HEADER_SIZE = 0x30
SIGNED_SIZE = 0x278  # header and TD report body
TEE_TDX = 0x81
ECDSA_P256 = 2
QE_REPORT_SIZE = 384
CERTIFICATION_QE_REPORT = 6
CERTIFICATION_PCK_CHAIN = 5
RTMR_OFFSETS = (0x178, 0x1A8, 0x1D8, 0x208)
# Header bytes 8-11: go-tdx-guest reads a PCE SVN then a QE SVN there; Intel's v4 spec calls them reserved.
# Unconfirmed which is which: they are only reported, never checked.
HEADER_SVN_NAMES = ("pce_svn", "qe_svn")


class QuoteFormatError(ValueError):
    """The bytes are not a TDX v4 quote this code can read."""


@dataclass(frozen=True)
class QeReport:
    raw: bytes
    cpu_svn: bytes
    misc_select: int
    attributes: bytes
    mr_enclave: bytes
    mr_signer: bytes
    isv_prod_id: int
    isv_svn: int
    report_data: bytes


@dataclass(frozen=True)
class TdxQuote:
    raw: bytes
    version: int
    tee_type: int
    header_svns: tuple[int, int]
    qe_vendor_id: bytes
    tee_tcb_svn: bytes
    mr_seam: bytes
    mr_signer_seam: bytes
    seam_attributes: bytes
    td_attributes: bytes
    xfam: bytes
    mr_td: bytes
    mr_config_id: bytes
    mr_owner: bytes
    mr_owner_config: bytes
    rtmrs: tuple[bytes, bytes, bytes, bytes]
    report_data: bytes
    signature: bytes
    attestation_key: bytes
    qe_report: QeReport
    qe_report_signature: bytes
    qe_auth_data: bytes
    pck_chain_pem: bytes

    @property
    def signed_bytes(self) -> bytes:
        return self.raw[:SIGNED_SIZE]

    def summary(self) -> dict:
        return {
            "version": self.version,
            "tee_tcb_svn": self.tee_tcb_svn.hex(),
            "mr_seam": self.mr_seam.hex(),
            "mr_signer_seam": self.mr_signer_seam.hex(),
            "td_attributes": self.td_attributes.hex(),
            "xfam": self.xfam.hex(),
            "mr_td": self.mr_td.hex(),
            "mr_config_id": self.mr_config_id.hex(),
            "mr_owner": self.mr_owner.hex(),
            "mr_owner_config": self.mr_owner_config.hex(),
            "rtmrs": [r.hex() for r in self.rtmrs],
            "report_data": self.report_data.hex(),
            "qe_vendor_id": self.qe_vendor_id.hex(),
            **dict(zip(HEADER_SVN_NAMES, self.header_svns, strict=False)),
        }


class _Cursor:
    def __init__(self, data: bytes, offset: int) -> None:
        self.data, self.offset = data, offset

    def take(self, size: int, what: str) -> bytes:
        if self.offset + size > len(self.data):
            raise QuoteFormatError(f"the quote ends inside its {what}")
        chunk = self.data[self.offset : self.offset + size]
        self.offset += size
        return chunk

    def unpack(self, fmt: str, what: str):
        return struct.unpack(fmt, self.take(struct.calcsize(fmt), what))


def _qe_report(raw: bytes) -> QeReport:
    return QeReport(
        raw=raw,
        cpu_svn=raw[0:16],
        misc_select=struct.unpack_from("<I", raw, 16)[0],
        attributes=raw[48:64],
        mr_enclave=raw[64:96],
        mr_signer=raw[128:160],
        isv_prod_id=struct.unpack_from("<H", raw, 256)[0],
        isv_svn=struct.unpack_from("<H", raw, 258)[0],
        report_data=raw[320:384],
    )


@raises_only(QuoteFormatError, "the TDX quote")
def parse_quote(data: bytes) -> TdxQuote:
    if len(data) < SIGNED_SIZE + 4:
        raise QuoteFormatError(f"a TDX v4 quote has at least {SIGNED_SIZE + 4} bytes, got {len(data)}")
    version, key_type, tee_type = struct.unpack_from("<HHI", data, 0)
    if version != 4:
        raise QuoteFormatError(f"TDX quote version {version} is not supported (4 is)")
    if key_type != ECDSA_P256:
        raise QuoteFormatError(f"attestation key type {key_type} is not ECDSA P-256")
    if tee_type != TEE_TDX:
        raise QuoteFormatError(f"TEE type {tee_type:#x} is not TDX ({TEE_TDX:#x})")
    cursor = _Cursor(data, SIGNED_SIZE)
    (signed_data_size,) = cursor.unpack("<I", "signature data size")
    if SIGNED_SIZE + 4 + signed_data_size > len(data):
        raise QuoteFormatError("the quote is shorter than its signature data")
    signature = cursor.take(64, "signature")
    attestation_key = cursor.take(64, "attestation key")
    cert_type, _size = cursor.unpack("<HI", "certification data header")
    if cert_type != CERTIFICATION_QE_REPORT:
        raise QuoteFormatError(f"certification data type {cert_type} is not the QE report ({CERTIFICATION_QE_REPORT})")
    qe_report = _qe_report(cursor.take(QE_REPORT_SIZE, "QE report"))
    qe_report_signature = cursor.take(64, "QE report signature")
    (auth_size,) = cursor.unpack("<H", "QE authentication data size")
    qe_auth_data = cursor.take(auth_size, "QE authentication data")
    inner_type, inner_size = cursor.unpack("<HI", "PCK certification data header")
    if inner_type != CERTIFICATION_PCK_CHAIN:
        raise QuoteFormatError(f"certification data type {inner_type} is not a PCK chain ({CERTIFICATION_PCK_CHAIN})")
    pck_chain = cursor.take(inner_size, "PCK certificate chain").rstrip(b"\x00")
    return TdxQuote(
        raw=bytes(data),
        version=version,
        tee_type=tee_type,
        header_svns=struct.unpack_from("<HH", data, 8),
        qe_vendor_id=data[12:28],
        tee_tcb_svn=data[0x30:0x40],
        mr_seam=data[0x40:0x70],
        mr_signer_seam=data[0x70:0xA0],
        seam_attributes=data[0xA0:0xA8],
        td_attributes=data[0xA8:0xB0],
        xfam=data[0xB0:0xB8],
        mr_td=data[0xB8:0xE8],
        mr_config_id=data[0xE8:0x118],
        mr_owner=data[0x118:0x148],
        mr_owner_config=data[0x148:0x178],
        rtmrs=tuple(data[offset : offset + 48] for offset in RTMR_OFFSETS),
        report_data=data[0x238:0x278],
        signature=signature,
        attestation_key=attestation_key,
        qe_report=qe_report,
        qe_report_signature=qe_report_signature,
        qe_auth_data=qe_auth_data,
        pck_chain_pem=pck_chain,
    )
