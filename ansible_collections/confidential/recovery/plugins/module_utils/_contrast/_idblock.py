# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""The ID-key digest a Contrast SEV-SNP guest must report (Contrast internal/idblock).

Contrast launches its guests with an ID block whose signing key nobody holds: the block is "signed" with the fixed
signature r = 2, s = 1, and the key is whatever P-384 public key makes that signature valid for the block, recovered
from it. So the key, and the SHA-384 digest of it in AMD's 0x404-byte public-key format, follows from the launch
measurement and the guest policy alone. A report whose ID_KEY_DIGEST differs was not launched with Contrast's block.

The recovery needs elliptic-curve point arithmetic, which ``cryptography`` does not expose; it is done here in
plain integers, and ``cryptography`` then checks that the recovered key does verify the block's signature.
"""

from __future__ import annotations

import hashlib
import struct

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
except ImportError:  # pragma: no cover - the modules report it through missing_required_lib
    pass

# NIST P-384 (FIPS 186-4, D.1.2.4).
_P = 2**384 - 2**128 - 2**96 + 2**32 - 1
_A = -3
_B = 0xB3312FA7E23EE7E4988E056BE3F82D19181D9C6EFE8141120314088F5013875AC656398D8A2ED19D2A85C8EDD3EC2AEF
_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973
_G = (
    0xAA87CA22BE8B05378EB1C71EF320AD746E1D3B628BA79B9859F741E082542A385502F25DBF55296C3A545E3872760AB7,
    0x3617DE4A96262C6F5D9E98BF9292DC29F8F41DBD289A147CE9DA3113B5F0B8C00A60B1CE1D7E819D7A431D7C90EA0E5F,
)

SIGNATURE_R, SIGNATURE_S = 2, 1
FAMILY_ID = b"\x01" + bytes(15)
IMAGE_ID = b"\x02" + bytes(15)
ID_BLOCK_VERSION = 1
ID_BLOCK_GUEST_SVN = 2
CURVE_P384 = 2
ID_KEY_SIZE = 0x404

# Guest policy flags above the ABI bytes (AMD SEV-SNP ABI, GUEST_POLICY), by Contrast's manifest names.
POLICY_BITS = {
    "SMT": 16,
    "MigrateMA": 18,
    "Debug": 19,
    "SingleSocket": 20,
    "CXLAllowed": 21,
    "MemAES256XTS": 22,
    "RAPLDis": 23,
    "CipherTextHidingDRAM": 24,
    "PageSwapDisable": 25,
}
POLICY_RESERVED_ONE = 1 << 17


class IdBlockError(ValueError):
    """The inputs do not make an ID block; the message says why."""


def guest_policy(policy: dict) -> int:
    """The 64-bit guest policy of a manifest's GuestPolicy (ABIMinor, ABIMajor and the flags)."""
    value = (policy.get("ABIMinor", 0) & 0xFF) | (policy.get("ABIMajor", 0) & 0xFF) << 8 | POLICY_RESERVED_ONE
    for name, bit in POLICY_BITS.items():
        if policy.get(name):
            value |= 1 << bit
    return value


def id_block(launch_digest: bytes, policy: int) -> bytes:
    if len(launch_digest) != 48:
        raise IdBlockError(f"a launch digest has 48 bytes, got {len(launch_digest)}")
    return launch_digest + FAMILY_ID + IMAGE_ID + struct.pack("<IIQ", ID_BLOCK_VERSION, ID_BLOCK_GUEST_SVN, policy)


def _add(one, other):
    if one is None:
        return other
    if other is None:
        return one
    (x1, y1), (x2, y2) = one, other
    if x1 == x2 and (y1 + y2) % _P == 0:
        return None
    if one == other:
        slope = (3 * x1 * x1 + _A) * pow(2 * y1, -1, _P) % _P
    else:
        slope = (y2 - y1) * pow(x2 - x1, -1, _P) % _P
    x3 = (slope * slope - x1 - x2) % _P
    return x3, (slope * (x1 - x3) - y1) % _P


def _multiply(scalar: int, point):
    result = None
    while scalar:
        if scalar & 1:
            result = _add(result, point)
        point = _add(point, point)
        scalar >>= 1
    return result


def recovered_key(block: bytes) -> tuple[int, int]:
    """The public key for which (r = 2, s = 1) is a valid ECDSA P-384/SHA-384 signature of ``block``: of the two
    candidates Q = r^-1 (s R - z G), the smaller by (x, y)."""
    z = int.from_bytes(hashlib.sha384(block).digest(), "big") % _N
    rhs = (SIGNATURE_R**3 + _A * SIGNATURE_R + _B) % _P
    y = pow(rhs, (_P + 1) // 4, _P)  # P = 3 mod 4
    r_inverse = pow(SIGNATURE_R, -1, _N)
    minus_z_g = _multiply(z, _G)
    minus_z_g = (minus_z_g[0], (-minus_z_g[1]) % _P)
    candidates = sorted(
        _multiply(r_inverse, _add(_multiply(SIGNATURE_S, (SIGNATURE_R, ry)), minus_z_g)) for ry in (y, _P - y)
    )
    x, qy = candidates[0]
    try:
        ec.EllipticCurvePublicNumbers(x, qy, ec.SECP384R1()).public_key().verify(
            encode_dss_signature(SIGNATURE_R, SIGNATURE_S), block, ec.ECDSA(hashes.SHA384())
        )
    except InvalidSignature as exc:  # pragma: no cover - would mean the arithmetic above is wrong
        raise IdBlockError("the recovered ID key does not verify the ID block") from exc
    return x, qy


def id_key_digest(launch_digest: bytes, policy: int) -> bytes:
    """SHA-384 of the ID key in AMD's public-key format: curve, then X and Y as 72-byte little-endian numbers."""
    x, y = recovered_key(id_block(launch_digest, policy))
    key = struct.pack("<I", CURVE_P384) + x.to_bytes(72, "little") + y.to_bytes(72, "little")
    return hashlib.sha384(key.ljust(ID_KEY_SIZE, b"\x00")).digest()
