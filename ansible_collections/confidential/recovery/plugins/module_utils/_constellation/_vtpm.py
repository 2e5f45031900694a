# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""Constellation's vTPM attestation document and its validation (Constellation v2.x,
internal/attestation/vtpm/attestation.go), shared by every variant except qemu-tdx.

The document is Go encoding/json of {Attestation, InstanceInfo, UserData}: byte fields are standard base64,
go-tpm-tools' hash enum is a number (SHA-256 = 11), PCR indices are decimal strings. Validation, in upstream's
order: extraData = SHA256(UserData || nonce); the variant names the trusted attestation key (AK) from the
document and extraData; the quote's nonce is SHA256(InstanceInfo || extraData) over InstanceInfo's bytes exactly
as sent; quote and event log; the variant's own checks; the SHA-256 PCRs against the reference measurements.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass, field

from .._evidence._checks import CheckFailed, raises_only
from .._evidence._tpm import ALG_SHA256, TpmError, parse_public, verify_quote
from .._evidence._tpm_eventlog import parse_event_log, replay
from ._measurements import compare

try:
    from cryptography.hazmat.primitives import serialization
except ImportError:  # pragma: no cover - the modules report it through missing_required_lib
    pass


class VtpmDocumentError(CheckFailed):
    """The document is malformed, or fails validation; the message says why, ``check`` which check."""


@dataclass(frozen=True)
class Quote:
    quote: bytes
    raw_sig: bytes
    bank: int
    pcrs: dict[int, bytes]


@dataclass(frozen=True)
class VtpmDocument:
    ak_pub: bytes
    quotes: tuple[Quote, ...]
    event_log: bytes
    instance_info: bytes
    user_data: bytes


@dataclass
class VtpmResult:
    user_data: bytes
    pcrs: dict[int, bytes]
    warnings: list[str] = field(default_factory=list)
    platform: dict = field(default_factory=dict)


def go_bytes(value, what: str, allow_null: bool = False, error=VtpmDocumentError) -> bytes:
    """A []byte field of Go's encoding/json: standard base64, or null where the field may be empty."""
    if value is None:
        if allow_null:
            return b""
        raise error(f"{what} is missing")
    if not isinstance(value, str):
        raise error(f"{what} is not a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise error(f"{what} is not valid base64") from exc


def instance_info_object(raw: bytes, error) -> dict:
    """A variant's InstanceInfo as the JSON object it must be; ``error`` is raised otherwise."""
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise error("InstanceInfo is not JSON") from exc
    if not isinstance(doc, dict):
        raise error("InstanceInfo is not a JSON object")
    return doc


def _quote(entry, position: int) -> Quote:
    if not isinstance(entry, dict) or not isinstance(entry.get("pcrs"), dict):
        raise VtpmDocumentError(f"quote {position} is malformed")
    pcrs = entry["pcrs"]
    bank = pcrs.get("hash")
    if not isinstance(bank, int):
        raise VtpmDocumentError(f"quote {position}: the PCR bank is not a number")
    values = {}
    sent = pcrs.get("pcrs") or {}
    if not isinstance(sent, dict):
        raise VtpmDocumentError(f"quote {position}: the PCR values are not a map of index to value")
    for index, value in sent.items():
        try:
            values[int(index)] = go_bytes(value, f"quote {position} PCR {index}")
        except ValueError as exc:
            raise VtpmDocumentError(f"quote {position}: PCR index {index!r} is not a number") from exc
    return Quote(
        go_bytes(entry.get("quote"), f"quote {position}"),
        go_bytes(entry.get("raw_sig"), f"quote {position} signature"),
        bank,
        values,
    )


@raises_only(VtpmDocumentError, "the attestation document")
def parse_document(raw: bytes) -> VtpmDocument:
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise VtpmDocumentError("the attestation document is not JSON") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("Attestation"), dict):
        raise VtpmDocumentError("the attestation document has no Attestation object")
    attestation = doc["Attestation"]
    quotes = attestation.get("quotes")
    if not isinstance(quotes, list) or not quotes:
        raise VtpmDocumentError("the attestation document carries no quote")
    return VtpmDocument(
        ak_pub=go_bytes(attestation.get("ak_pub"), "ak_pub"),
        quotes=tuple(_quote(entry, position) for position, entry in enumerate(quotes)),
        event_log=go_bytes(attestation.get("event_log"), "event_log", allow_null=True),
        instance_info=go_bytes(doc.get("InstanceInfo"), "InstanceInfo", allow_null=True),
        user_data=go_bytes(doc.get("UserData"), "UserData"),
    )


def _same_key(one, other) -> bool:
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    return one.public_bytes(serialization.Encoding.DER, spki) == other.public_bytes(serialization.Encoding.DER, spki)


# The checks of validate(), in the order they run; an error names the one that failed.
CHECKS = ("document", "attestation_key", "quote", "event_log", "platform", "measurements")


@raises_only(VtpmDocumentError, "the attestation document")
def validate(raw: bytes, nonce: bytes, trusted_ak, measurements, check_cvm=None) -> VtpmResult:
    """``trusted_ak(document, extra_data)`` returns the AK the variant trusts and a summary of the platform evidence
    that vouched for it (or raises VtpmDocumentError); ``check_cvm(document)`` runs the variant's own checks;
    ``measurements`` maps PCR index to Measurement. A VtpmDocumentError names the failed check in ``check``."""
    check = "document"
    try:
        doc = parse_document(raw)
        check = "attestation_key"
        extra_data = hashlib.sha256(doc.user_data + nonce).digest()
        ak, platform = trusted_ak(doc, extra_data)
        if not _same_key(parse_public(doc.ak_pub), ak):
            raise VtpmDocumentError("the document's attestation key is not the one the variant trusts")
        check = "quote"
        tpm_nonce = hashlib.sha256(doc.instance_info + extra_data).digest()
        sha256 = [quote for quote in doc.quotes if quote.bank == ALG_SHA256]
        if not sha256:
            raise VtpmDocumentError("the document has no quote of the SHA-256 PCR bank")
        quote = sha256[0]
        verify_quote(ak, quote.quote, quote.raw_sig, quote.bank, quote.pcrs, tpm_nonce)
        check = "event_log"
        if doc.event_log:
            replay(parse_event_log(doc.event_log), quote.bank, quote.pcrs)
        check = "platform"
        if check_cvm:
            check_cvm(doc)
        check = "measurements"
        errors, warnings = compare(measurements, quote.pcrs)
        if errors:
            raise VtpmDocumentError("measurements do not match: " + "; ".join(errors))
    except (VtpmDocumentError, TpmError) as exc:
        error = VtpmDocumentError(str(exc))
        error.check = check
        raise error from exc
    return VtpmResult(user_data=doc.user_data, pcrs=quote.pcrs, warnings=warnings, platform=platform)


def ak_from_document(doc: VtpmDocument, _extra_data: bytes):
    """qemu-vtpm: the AK is trusted as the document carries it (upstream's QEMU validator does the same)."""
    try:
        return parse_public(doc.ak_pub), {}
    except TpmError as exc:
        raise VtpmDocumentError(str(exc)) from exc
