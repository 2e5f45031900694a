# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""What Constellation's GCP variants take from Compute Engine (Constellation v2.x, internal/attestation/gcp; the
platform state as google/go-tpm-tools v0.4.6 server/eventlog.go reads it).

The attestation key a GCP variant trusts is the one Compute Engine reports for the instance
(compute.instances.getShieldedInstanceIdentity, signingKey.ekPub), as upstream's validator asks for it. With the
inventory's GCP credentials it is asked for live (LiveKeys); the key saved beforehand in the collateral directory
(SavedKeys) is the offline fallback, used only when Compute Engine cannot be asked at all.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from dataclasses import dataclass

from .._evidence._tpm_eventlog import Event
from ._cloud_fallback import live_or_saved

try:
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
except ImportError:  # pragma: no cover - the modules report it through missing_required_lib
    UnsupportedAlgorithm = ValueError

# Compute Engine resource names: lowercase letters, digits, hyphens (projects may also contain dots and colons).
_NAME = re.compile(r"^[a-z0-9][a-z0-9.:-]{0,99}$")
EV_SEPARATOR, EV_S_CRTM_VERSION, EV_NONHOST_INFO = 0x4, 0x8, 0x11
NONHOST_SIGNATURE = b"GCE NonHostInfo\x00"
FIRMWARE_PREFIX = "GCE Virtual Firmware v".encode("utf-16-le")
TECHNOLOGIES = {0: "none", 1: "AMD SEV", 2: "AMD SEV-ES", 3: "Intel TDX", 4: "AMD SEV-SNP"}


class GceError(Exception):
    """The instance's identity or platform state cannot be established; the message says why."""


@dataclass(frozen=True)
class GceInstance:
    project: str
    zone: str
    instance: str

    @classmethod
    def from_fields(cls, fields: dict) -> GceInstance:
        names = [fields.get(key) for key in ("project_id", "zone", "instance_name")]
        if not all(isinstance(name, str) and _NAME.match(name) for name in names):
            raise GceError(f"the document names no valid project, zone and instance: {names!r}")
        return cls(*names)

    def __str__(self) -> str:
        return f"{self.project}/{self.zone}/{self.instance}"


class ComputeEngineUnreachable(Exception):
    """Compute Engine could not be asked: no answer, no credentials, or no permission to read the instance."""


class SavedKeys:
    """Each instance's key as the user saved it beforehand: gce/<project>/<zone>/<instance>.pem in the directory."""

    def __init__(self, collateral_dir: str | None):
        self.collateral_dir = collateral_dir

    def key(self, instance: GceInstance):
        capture = (
            f"gcloud compute instances get-shielded-identity {instance.instance} --zone {instance.zone} "
            f"--project {instance.project} --format='value(signingKey.ekPub)'"
        )
        relative = os.path.join("gce", instance.project, instance.zone, f"{instance.instance}.pem")
        if not self.collateral_dir:
            raise GceError(
                f"the instance's attestation key comes from Compute Engine: give the inventory's GCP access "
                f"(attestation_gce_api), or set attestation_collateral_dir and save the output of `{capture}` as "
                f"{relative} in it"
            )
        path = os.path.join(self.collateral_dir, relative)
        try:
            with open(path, "rb") as handle:
                return serialization.load_pem_public_key(handle.read())
        except OSError as exc:
            raise GceError(
                f"no Compute Engine attestation key for {instance} at {path} ({exc.strerror}): save the output "
                f"of `{capture}` there"
            ) from exc
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise GceError(f"{path} is not a PEM public key") from exc


class LiveKeys:
    """The key Compute Engine reports for the instance now, asked through ``ask(instance)`` (an answer of
    getShieldedInstanceIdentity). The node's own document names its instance, so only an instance of the cluster's
    project is asked for. A definite answer (no such instance, no key) refuses; ``saved`` answers only when
    Compute Engine cannot be asked (ComputeEngineUnreachable)."""

    def __init__(self, ask, project: str, saved: SavedKeys):
        self.ask, self.project, self.saved = ask, project, saved

    def key(self, instance: GceInstance):
        if instance.project != self.project:
            raise GceError(
                f"the node's document names project {instance.project}, but the cluster runs in {self.project}"
            )
        return live_or_saved(
            lambda: key_from_identity(self.ask(instance), instance),
            lambda: self.saved.key(instance),
            ComputeEngineUnreachable,
            GceError,
            "Compute Engine",
        )


def key_from_identity(answer, instance: GceInstance):
    """signingKey.ekPub of a getShieldedInstanceIdentity answer, as a public key; GceError otherwise."""
    signing = answer.get("signingKey") if isinstance(answer, dict) else None
    pem = signing.get("ekPub") if isinstance(signing, dict) else None
    if not isinstance(pem, str) or not pem.strip():
        raise GceError(f"Compute Engine reports no vTPM signing key (signingKey.ekPub) for {instance}")
    try:
        return serialization.load_pem_public_key(pem.encode())
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise GceError(f"Compute Engine's signingKey.ekPub for {instance} is not a PEM public key") from exc


def _firmware_version(data: bytes) -> int | None:
    """GCE's S-CRTM version: UCS-2 "GCE Virtual Firmware v<number>" and a terminator; None for other firmware."""
    if not data.startswith(FIRMWARE_PREFIX):
        return None
    digits = data[len(FIRMWARE_PREFIX) :].decode("utf-16-le", "replace").rstrip("\x00")
    return int(digits) if digits.isdigit() else None


def platform_state(events: list[Event], bank: int, digest) -> tuple[int | None, int | None]:
    """(GCE firmware version, confidential technology) from the PCR 0 events before the separator.

    ``digest(data)`` hashes with the quoted bank; an S-CRTM or NonHostInfo event whose digest is not the hash of its
    data is refused, since its type and data are not covered by the quote otherwise.
    """
    version = technology = None
    for event in events:
        if event.pcr != 0:
            continue
        if event.type == EV_SEPARATOR:
            break
        if event.type not in (EV_S_CRTM_VERSION, EV_NONHOST_INFO):
            continue
        if not hmac.compare_digest(event.digests.get(bank, b""), digest(event.data)):
            raise GceError(f"PCR 0 event {event.type:#x} does not match its digest")
        if event.type == EV_S_CRTM_VERSION:
            version = _firmware_version(event.data)
        elif len(event.data) > len(NONHOST_SIGNATURE) and event.data.startswith(NONHOST_SIGNATURE):
            technology = event.data[len(NONHOST_SIGNATURE)]
    return version, technology


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()
