# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""TPM 2.0 quotes as the vTPM attestation variants carry them (TPM 2.0 Library spec, part 2; all big-endian).

verify_quote follows google/go-tpm-tools v0.4.6 (the version Constellation pins): the signature (RSASSA-PKCS1-v1_5
or ECDSA, never with SHA-1), TPMS_ATTEST magic and type, extraData equal to the nonce, the PCR selection equal to the
PCRs sent along, and the PCR digest computed with the signature's hash.
"""

from __future__ import annotations

import hmac
import struct
from dataclasses import dataclass

from ._checks import raises_only

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
except ImportError:  # pragma: no cover - the modules report it through missing_required_lib
    pass

ALG_RSA = 0x0001
ALG_SHA1 = 0x0004
ALG_SHA256 = 0x000B
ALG_SHA384 = 0x000C
ALG_SHA512 = 0x000D
ALG_NULL = 0x0010
ALG_RSASSA = 0x0014
ALG_RSAPSS = 0x0016
ALG_ECDSA = 0x0018
ALG_ECC = 0x0023
ATTEST_MAGIC = 0xFF544347
ATTEST_QUOTE = 0x8018

_CURVES = {0x0003: "SECP256R1", 0x0004: "SECP384R1", 0x0005: "SECP521R1"}
_HASHES = {ALG_SHA1: "SHA1", ALG_SHA256: "SHA256", ALG_SHA384: "SHA384", ALG_SHA512: "SHA512"}
# The hash-algorithm numbers of go-tpm-tools' PCRs message are the TPM's own.
HASH_NAMES = {ALG_SHA1: "sha1", ALG_SHA256: "sha256", ALG_SHA384: "sha384", ALG_SHA512: "sha512"}


class TpmError(Exception):
    """A TPM structure is malformed, or a quote does not verify."""


class Reader:
    """Fields of a TPM structure (big-endian) or of a TCG event log (byteorder "<")."""

    def __init__(self, data: bytes, what: str, byteorder: str = ">"):
        self.data, self.offset, self.what, self.byteorder = data, 0, what, byteorder

    def done(self) -> bool:
        return self.offset >= len(self.data)

    def take(self, size: int) -> bytes:
        if self.offset + size > len(self.data):
            raise TpmError(f"{self.what} is truncated")
        chunk = self.data[self.offset : self.offset + size]
        self.offset += size
        return chunk

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return struct.unpack(self.byteorder + "H", self.take(2))[0]

    def u32(self) -> int:
        return struct.unpack(self.byteorder + "I", self.take(4))[0]

    def tpm2b(self) -> bytes:
        return self.take(self.u16())


def hash_algorithm(alg: int):
    try:
        return getattr(hashes, _HASHES[alg])()
    except KeyError as exc:
        raise TpmError(f"hash algorithm {alg:#06x} is not supported") from exc


@raises_only(TpmError, "the TPM public key")
def parse_public(tpmt_public: bytes):
    """TPMT_PUBLIC -> a cryptography public key (RSA or ECC)."""
    reader = Reader(tpmt_public, "TPMT_PUBLIC")
    key_type, _name_alg, _attributes = reader.u16(), reader.u16(), reader.u32()
    reader.tpm2b()  # authPolicy
    symmetric = reader.u16()
    if symmetric != ALG_NULL:
        reader.u16()
        reader.u16()
    scheme = reader.u16()
    if scheme != ALG_NULL:
        reader.u16()
    if key_type == ALG_RSA:
        reader.u16()  # keyBits: the modulus says it
        exponent = reader.u32() or 65537
        modulus = int.from_bytes(reader.tpm2b(), "big")
        return rsa.RSAPublicNumbers(exponent, modulus).public_key()
    if key_type == ALG_ECC:
        curve_id = reader.u16()
        if reader.u16() != ALG_NULL:  # kdf
            reader.u16()
        x, y = int.from_bytes(reader.tpm2b(), "big"), int.from_bytes(reader.tpm2b(), "big")
        try:
            curve = getattr(ec, _CURVES[curve_id])()
        except KeyError as exc:
            raise TpmError(f"ECC curve {curve_id:#06x} is not supported") from exc
        return ec.EllipticCurvePublicNumbers(x, y, curve).public_key()
    raise TpmError(f"TPM key type {key_type:#06x} is neither RSA nor ECC")


@dataclass(frozen=True)
class Attest:
    extra_data: bytes
    selection: dict[int, frozenset[int]]
    pcr_digest: bytes


@raises_only(TpmError, "the TPM quote")
def parse_attest(tpms_attest: bytes) -> Attest:
    reader = Reader(tpms_attest, "TPMS_ATTEST")
    if reader.u32() != ATTEST_MAGIC:
        raise TpmError("TPMS_ATTEST has the wrong magic number")
    if reader.u16() != ATTEST_QUOTE:
        raise TpmError("TPMS_ATTEST is not a quote")
    reader.tpm2b()  # qualifiedSigner
    extra_data = reader.tpm2b()
    reader.take(8 + 4 + 4 + 1 + 8)  # clockInfo, firmwareVersion
    selection = {}
    for _entry in range(reader.u32()):
        bank, size = reader.u16(), reader.u8()
        bits = reader.take(size)
        selection[bank] = frozenset(i for i in range(size * 8) if bits[i // 8] >> (i % 8) & 1)
    return Attest(extra_data=extra_data, selection=selection, pcr_digest=reader.tpm2b())


def _verify_signature(key, raw_sig: bytes, message: bytes) -> int:
    """Check TPMT_SIGNATURE over message; return the signature's hash algorithm."""
    reader = Reader(raw_sig, "TPMT_SIGNATURE")
    sig_alg, hash_alg = reader.u16(), reader.u16()
    if hash_alg not in (ALG_SHA256, ALG_SHA384, ALG_SHA512):
        raise TpmError(f"quote signed with hash {hash_alg:#06x}; SHA-1 and unknown hashes are refused")
    digest = hash_algorithm(hash_alg)
    try:
        if isinstance(key, rsa.RSAPublicKey):
            if sig_alg != ALG_RSASSA:
                raise TpmError(f"an RSA attestation key must sign with RSASSA, not {sig_alg:#06x}")
            key.verify(reader.tpm2b(), message, padding.PKCS1v15(), digest)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            if sig_alg != ALG_ECDSA:
                raise TpmError(f"an ECC attestation key must sign with ECDSA, not {sig_alg:#06x}")
            r, s = int.from_bytes(reader.tpm2b(), "big"), int.from_bytes(reader.tpm2b(), "big")
            key.verify(encode_dss_signature(r, s), message, ec.ECDSA(digest))
        else:
            raise TpmError("the attestation key is neither RSA nor ECC")
    except InvalidSignature as exc:
        raise TpmError("the quote's signature does not verify with the attestation key") from exc
    return hash_alg


@raises_only(TpmError, "the TPM quote or its signature")
def verify_quote(key, quote: bytes, raw_sig: bytes, bank: int, pcrs: dict[int, bytes], nonce: bytes) -> Attest:
    """A quote of ``pcrs`` (bank ``bank``) signed by ``key`` for ``nonce``; raises TpmError otherwise."""
    hash_alg = _verify_signature(key, raw_sig, quote)
    attest = parse_attest(quote)
    if not hmac.compare_digest(attest.extra_data, nonce):
        raise TpmError("the quote was made for another nonce (a replayed quote)")
    if attest.selection != {bank: frozenset(pcrs)}:
        raise TpmError("the quote selects other PCRs than the ones sent with it")
    computed = hashes.Hash(hash_algorithm(hash_alg))
    for index in sorted(pcrs):
        computed.update(pcrs[index])
    if not hmac.compare_digest(computed.finalize(), attest.pcr_digest):
        raise TpmError("the PCR values sent with the quote are not the quoted ones")
    return attest
