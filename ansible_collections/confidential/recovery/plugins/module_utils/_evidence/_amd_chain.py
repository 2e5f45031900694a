# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""The key that signed an SNP report, and its chain to AMD's pinned root (AMD KDS spec 57230).

VCEK (per chip and TCB) or VLEK (per cloud provider) <- ASK or ASVK <- ARK, every link RSASSA-PSS with SHA-384,
MGF1-SHA-384 and a 48-byte salt. x509.verification's PolicyBuilder refuses AMD's certificates (no authority key
identifier), so each link is checked here: signature, names, validity at the caller's "now", and the pinned root.
"""

from __future__ import annotations

import datetime
import hashlib
import warnings
from dataclasses import dataclass

from ._checks import raises_only
from ._snp_report import Tcb

try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    from cryptography.x509.oid import NameOID

    HAS_CRYPTOGRAPHY = True
except ImportError:  # pragma: no cover - the modules report it through missing_required_lib
    HAS_CRYPTOGRAPHY = False

from ._amd_roots import ARK_SHA256, ARKS, INTERMEDIATES

# Products whose report and VCEK TCB layout this code reads. Turin encodes its TCB differently (an FMC SPL) and
# upstream's verifier (go-sev-guest af1c107) does not handle it either; its roots are pinned, its reports refused.
SUPPORTED_PRODUCTS = ("Milan", "Genoa")
VCEK = "vcek"
VLEK = "vlek"

KDS_OID = "1.3.6.1.4.1.3704.1."
_HW_ID = KDS_OID + "4"
_CSP_ID = KDS_OID + "5"
# TCB_VERSION byte -> KDS extension: bl, tee, spl4..spl7, snp, ucode.
_TCB_OIDS = tuple(KDS_OID + f"3.{n}" for n in (1, 2, 4, 5, 6, 7, 3, 8))


class ChainError(Exception):
    """The signing key does not chain to AMD's pinned root, or its certificate is not a VCEK/VLEK."""


@dataclass(frozen=True)
class SigningKey:
    certificate: object
    kind: str
    product: str
    tcb: Tcb
    hw_id: bytes | None
    csp_id: str | None

    @property
    def public_key(self):
        return self.certificate.public_key()


def load_certificate(data: bytes):
    """PEM or DER. AMD's VCEKs have serial number 0, which cryptography parses with a deprecation warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if data.lstrip().startswith(b"-----BEGIN"):
                return x509.load_pem_x509_certificate(data)
            return x509.load_der_x509_certificate(data)
        except ValueError as exc:
            raise ChainError(
                f"cannot parse an AMD certificate ({exc}); AMD's RSA-PSS certificates need cryptography 43 or newer"
            ) from exc


def _cn(name) -> str:
    values = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return values[0].value if values else ""


def _der_value(der: bytes) -> bytes:
    """The contents of a short DER TLV (an INTEGER or an IA5String of a KDS extension)."""
    if len(der) < 2 or der[1] >= 0x80:
        raise ChainError("a KDS certificate extension is not a short DER value")
    return der[2 : 2 + der[1]]


def _extension(cert, oid: str) -> bytes | None:
    try:
        return cert.extensions.get_extension_for_oid(x509.ObjectIdentifier(oid)).value.value
    except x509.ExtensionNotFound:
        return None


def _tcb_of(cert) -> Tcb:
    parts = []
    for oid in _TCB_OIDS:
        value = _extension(cert, oid)
        if value is None:
            raise ChainError(f"the signing certificate lacks the KDS TCB extension {oid}")
        number = int.from_bytes(_der_value(value), "big")
        if not 0 <= number <= 255:
            raise ChainError(f"KDS TCB extension {oid} is out of range: {number}")
        parts.append(number)
    return Tcb.from_parts(parts)


def _check_pss_link(child, parent, what: str) -> None:
    if not isinstance(parent.public_key(), rsa.RSAPublicKey):
        raise ChainError(f"{what}: the issuer's key is not RSA")
    algorithm = child.signature_algorithm_parameters
    if not isinstance(algorithm, padding.PSS) or not isinstance(child.signature_hash_algorithm, hashes.SHA384):
        raise ChainError(f"{what}: not signed with RSASSA-PSS and SHA-384")
    try:
        parent.public_key().verify(
            child.signature,
            child.tbs_certificate_bytes,
            padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48),
            hashes.SHA384(),
        )
    except InvalidSignature as exc:
        raise ChainError(f"{what}: the signature does not verify") from exc
    if child.issuer != parent.subject:
        raise ChainError(f"{what}: issued by {_cn(child.issuer)!r}, not by {_cn(parent.subject)!r}")


def _check_validity(cert, now: datetime.datetime, what: str) -> None:
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        raise ChainError(
            f"{what} is valid from {cert.not_valid_before_utc:%Y-%m-%d} to {cert.not_valid_after_utc:%Y-%m-%d}, "
            f"not at {now:%Y-%m-%d %H:%M} UTC"
        )


def pinned_chain(product: str, kind: str):
    """The pinned (intermediate, ARK) of a product, the ARK checked against its SHA-256 pin."""
    try:
        intermediate_pem, ark_pem = INTERMEDIATES[(product, kind)], ARKS[product]
    except KeyError as exc:
        raise ChainError(f"no pinned AMD root for {product} {kind.upper()}") from exc
    ark = load_certificate(ark_pem.encode())
    if hashlib.sha256(ark.public_bytes(serialization.Encoding.DER)).hexdigest() != ARK_SHA256[product]:
        raise ChainError(f"the pinned ARK-{product} does not match its SHA-256 pin")
    return load_certificate(intermediate_pem.encode()), ark


def _product_of(leaf, kind: str) -> str:
    issuer = _cn(leaf.issuer)
    prefix = "SEV-VLEK-" if kind == VLEK else "SEV-"
    if not issuer.startswith(prefix):
        raise ChainError(
            f"the {kind.upper()} is issued by {issuer!r}, not by an AMD {'ASVK' if kind == VLEK else 'ASK'}"
        )
    return issuer[len(prefix) :]


def is_pinned_ark(pem: bytes) -> bool:
    """Whether ``pem`` is one of AMD's ARKs as pinned here."""
    der = load_certificate(pem).public_bytes(serialization.Encoding.DER)
    return hashlib.sha256(der).hexdigest() in ARK_SHA256.values()


@raises_only(ChainError, "the SEV-SNP signing key or its chain")
def verify_signing_key(
    leaf_bytes: bytes,
    now: datetime.datetime,
    intermediate_bytes: bytes | None = None,
    trust_anchor: bytes | None = None,
) -> SigningKey:
    """Check a VCEK or VLEK and its chain to the pinned ARK; return the key with its TCB and hardware ID.

    An intermediate that came with the evidence is used only if the root signed it (upstream ignores the ARK that
    comes with the evidence, and so does this); otherwise the pinned intermediate is. ``trust_anchor`` (PEM)
    replaces AMD's pinned root, for a test platform such as the lab; the evidence must then bring its intermediate.
    """
    leaf = load_certificate(leaf_bytes)
    subject = _cn(leaf.subject)
    kind = {"SEV-VCEK": VCEK, "SEV-VLEK": VLEK}.get(subject)
    if kind is None:
        raise ChainError(f"the signing certificate is {subject!r}, neither SEV-VCEK nor SEV-VLEK")
    if leaf.version != x509.Version.v3:
        raise ChainError(f"the {kind.upper()} is not an X.509 v3 certificate")
    key = leaf.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP384R1):
        raise ChainError(f"the {kind.upper()} key is not ECDSA P-384")
    product = _product_of(leaf, kind)
    if product not in SUPPORTED_PRODUCTS:
        raise ChainError(f"{product} is not supported: this release reads Milan and Genoa reports only")
    if trust_anchor is not None:
        if not intermediate_bytes:
            raise ChainError("with an explicitly trusted root, the evidence must bring its ASK/ASVK")
        ark = load_certificate(trust_anchor)
    else:
        intermediate, ark = pinned_chain(product, kind)
        intermediate_name = _cn(intermediate.subject)
    if intermediate_bytes:
        intermediate = load_certificate(intermediate_bytes)
        intermediate_name = f"the {_cn(intermediate.subject)} that came with the evidence"
    _check_pss_link(intermediate, ark, intermediate_name)
    _check_pss_link(leaf, intermediate, f"the {kind.upper()}")
    _check_pss_link(ark, ark, _cn(ark.subject))
    for cert, what in (
        (leaf, f"the {kind.upper()}"),
        (intermediate, _cn(intermediate.subject)),
        (ark, _cn(ark.subject)),
    ):
        _check_validity(cert, now, what)
    hw_id = _extension(leaf, _HW_ID)
    csp_id = _extension(leaf, _CSP_ID)
    if kind == VCEK and (hw_id is None or len(hw_id) != 64):
        raise ChainError("the VCEK lacks its 64-byte hardware ID")
    return SigningKey(
        certificate=leaf,
        kind=kind,
        product=product,
        tcb=_tcb_of(leaf),
        hw_id=hw_id,
        csp_id=_der_value(csp_id).decode("ascii", "replace") if csp_id else None,
    )
