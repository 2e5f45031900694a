# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""The document validator of each Constellation hardware variant, built from the variant's section of the user's
constellation-conf.yaml: for a vTPM variant, which attestation key it trusts; for qemu-tdx, the quote's checks.
One builder per variant; a variant without a builder has no validator yet."""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass, field

from .._evidence._amd_chain import ChainError, is_pinned_ark
from .._evidence._tpm import ALG_SHA256, TpmError
from .._evidence._tpm_eventlog import parse_event_log
from . import (
    _aws_nitro,
    _aws_snp,
    _azure_snp,
    _gce,
    _gcp_snp,
)
from . import (
    _vtpm as _constellation_vtpm,
)
from ._attestation_config import VariantConfigError
from ._vtpm import VtpmDocumentError, ak_from_document, instance_info_object


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


@dataclass(frozen=True)
class VariantSettings:
    section: dict
    source: str
    measurements: dict = field(default_factory=dict)
    trust_anchor: bytes | None = None
    collateral_dir: str | None = None
    # A function that makes Intel's collateral for the TDX variants (an _intel_pcs.PcsCollateral), called only for them
    # since it brings dcap-qvl; by default only what is saved in collateral_dir.
    pcs: object = None
    gce_keys: object = None  # _gce.LiveKeys or SavedKeys: the GCP variants' attestation keys
    ec2_images: object = None  # _aws_nitro.LiveImages or SavedImages: aws-nitro-tpm's DescribeImages answers
    warn: object = field(default=lambda message: None)
    now: object = field(default=_utc_now)
    # caveat(condition, message): the configuration enforces less than the variant could; warned and reported.
    caveat: object = field(default=lambda condition, message: None)

    def keys_of_gce(self):
        return self.gce_keys or _gce.SavedKeys(self.collateral_dir)

    def collateral_of_intel(self):
        if self.pcs is not None:
            return self.pcs()
        from .._evidence import _intel_pcs

        return _intel_pcs.PcsCollateral(self.collateral_dir)

    def images_of_ec2(self):
        return self.ec2_images or _aws_nitro.SavedImages(self.collateral_dir)


@dataclass(frozen=True)
class DocumentValidator:
    """``validate(raw, nonce)`` returns the result (user_data, pcrs, warnings, platform) or raises CheckFailed;
    ``checks`` names its checks in order."""

    validate: object
    checks: tuple


def _vtpm(settings: VariantSettings, trusted_ak, check_cvm=None) -> DocumentValidator:
    return DocumentValidator(
        functools.partial(
            _constellation_vtpm.validate, trusted_ak=trusted_ak, measurements=settings.measurements, check_cvm=check_cvm
        ),
        _constellation_vtpm.CHECKS,
    )


def _root(settings: VariantSettings, config_key: str, setting: str, is_pinned, warning: str, refusal: str):
    """The root a chain must end in: None for the vendor's pinned roots, else the explicitly given trust anchor.

    Upstream takes the root from the configuration (``amdRootKey``, ``intelRootKey``) and never checks that it is
    the vendor's. Here a configured root that is not pinned is refused (``refusal``); another root is trusted only
    when the user passes it explicitly (attestation_trust_anchor), with ``warning``.
    """
    if settings.trust_anchor is not None:
        settings.warn(warning)
        return settings.trust_anchor
    configured = settings.section.get(setting)
    if not configured:
        return None
    try:
        pinned = is_pinned(str(configured).encode())
    except ChainError as exc:
        raise VariantConfigError(f"{settings.source}: attestation.{config_key}.{setting}: {exc}") from exc
    if not pinned:
        raise VariantConfigError(
            f"{settings.source}: attestation.{config_key}.{setting} {refusal}; refusing it. To trust "
            "another root on purpose, pass it with attestation_trust_anchor"
        )
    return None


def amd_root(settings: VariantSettings, config_key: str) -> bytes | None:
    return _root(
        settings,
        config_key,
        "amdRootKey",
        is_pinned_ark,
        "SEV-SNP evidence is checked against the root in attestation_trust_anchor instead of AMD's pinned "
        "ARKs: use this only for a test platform such as the lab",
        "is not one of AMD's ARKs (Milan, Genoa, Turin)",
    )


def intel_root(settings: VariantSettings, config_key: str) -> bytes | None:
    from .._evidence._tdx_verify import is_pinned_intel_root

    return _root(
        settings,
        config_key,
        "intelRootKey",
        is_pinned_intel_root,
        "TDX evidence is checked against the root in attestation_trust_anchor instead of Intel's pinned "
        "root: use this only for a test platform",
        "is not Intel's SGX Root CA",
    )


def qemu_vtpm(settings: VariantSettings):
    return _vtpm(settings, ak_from_document)


def _vouched_by_snp(settings: VariantSettings, config_key: str, error, parse_config, vouch):
    """The trust rule of a variant whose TPM key an SEV-SNP report vouches for.

    ``parse_config(section)`` reads the variant's settings; ``vouch(doc, extra_data, config, now, root)`` returns the
    key to trust and a summary of the evidence, or raises ``error``.
    """
    try:
        config = parse_config(settings.section)
    except error as exc:
        raise VariantConfigError(f"{settings.source}: attestation.{config_key}: {exc}") from exc
    root = amd_root(settings, config_key)

    def trusted(doc, extra_data):
        try:
            return vouch(doc, extra_data, config, settings.now(), root)
        except error as exc:
            raise VtpmDocumentError(f"SEV-SNP evidence: {exc}") from exc

    return _vtpm(settings, trusted)


def azure_sev_snp(settings: VariantSettings):
    def vouch(doc, extra_data, config, now, root):
        info = _azure_snp.parse_instance_info(doc.instance_info)
        return _azure_snp.trusted_ak(info, ak_from_document(doc, extra_data)[0], config, now, settings.warn, root)

    def parse_config(section):
        config = _azure_snp.parse_config(section)
        if config.enforcement == _azure_snp.WARN_ONLY:
            settings.caveat(
                "id_key_digests_warn_only",
                f"{settings.source}: attestation.azureSEVSNP.firmwareSignerConfig."
                "enforcementPolicy is WarnOnly: a node whose firmware's ID-key digest is none of "
                "acceptedKeyDigests still gets its key, with a warning",
            )
        return config

    return _vouched_by_snp(settings, "azureSEVSNP", _azure_snp.AzureSnpError, parse_config, vouch)


def aws_sev_snp(settings: VariantSettings):
    def vouch(doc, extra_data, config, now, root):
        return _aws_snp.trusted_ak(doc.instance_info, ak_from_document(doc, extra_data)[0], config, now, root)

    return _vouched_by_snp(settings, "awsSEVSNP", _aws_snp.AwsSnpError, _aws_snp.parse_config, vouch)


def gcp_sev_snp(settings: VariantSettings):
    def vouch(doc, extra_data, config, now, root):
        return _gcp_snp.trusted_ak(doc.instance_info, extra_data, config, now, settings.keys_of_gce(), root)

    return _vouched_by_snp(settings, "gcpSEVSNP", _gcp_snp.GcpSnpError, _gcp_snp.parse_config, vouch)


# The TDX variants' code is imported by their builders: it brings dcap-qvl, which no other variant needs.
def azure_tdx(settings: VariantSettings):
    from . import _azure_tdx

    try:
        config = _azure_tdx.parse_config(settings.section)
    except _azure_tdx.AzureTdxError as exc:
        raise VariantConfigError(f"{settings.source}: attestation.azureTDX: {exc}") from exc
    root = intel_root(settings, "azureTDX")
    pcs = settings.collateral_of_intel()

    def trusted(doc, extra_data):
        try:
            return _azure_tdx.trusted_ak(
                doc.instance_info, ak_from_document(doc, extra_data)[0], config, settings.now(), pcs, root
            )
        except _azure_tdx.AzureTdxError as exc:
            raise VtpmDocumentError(f"TDX evidence: {exc}") from exc

    return _vtpm(settings, trusted)


# gcp-sev-es: the firmware must be GCE's (version 1 or later) and GCE must report AMD SEV memory encryption, as
# Constellation v2.23 internal/attestation/gcp/es checks it.
GCE_MINIMUM_FIRMWARE = 1
GCE_REQUIRED_TECHNOLOGY = 1  # AMD SEV in go-tpm-tools' GCEConfidentialTechnology


def gcp_sev_es(settings: VariantSettings):
    def trusted(doc, _extra_data):
        try:
            instance = _gce.GceInstance.from_fields(instance_info_object(doc.instance_info, _gce.GceError))
            return settings.keys_of_gce().key(instance), {"instance": str(instance)}
        except _gce.GceError as exc:
            raise VtpmDocumentError(f"GCE identity: {exc}") from exc

    def check_cvm(doc):
        if not doc.event_log:
            raise VtpmDocumentError("the document carries no event log: GCE's platform state cannot be read")
        try:
            version, technology = _gce.platform_state(parse_event_log(doc.event_log), ALG_SHA256, _gce.sha256)
        except (TpmError, _gce.GceError) as exc:
            raise VtpmDocumentError(f"GCE platform state: {exc}") from exc
        if version is None or version < GCE_MINIMUM_FIRMWARE:
            raise VtpmDocumentError(
                f"the firmware is not GCE's virtual firmware v{GCE_MINIMUM_FIRMWARE} or later "
                f"(found {version if version is not None else 'another firmware'})"
            )
        if technology != GCE_REQUIRED_TECHNOLOGY:
            found = (
                "none (no NonHostInfo event)"
                if technology is None
                else _gce.TECHNOLOGIES.get(technology, str(technology))
            )
            raise VtpmDocumentError(
                f"GCE reports confidential technology {found}, not {_gce.TECHNOLOGIES[GCE_REQUIRED_TECHNOLOGY]}"
            )

    return _vtpm(settings, trusted, check_cvm)


def aws_nitro_tpm(settings: VariantSettings):
    def check_cvm(doc):
        try:
            _aws_nitro.check_image(doc.instance_info, settings.images_of_ec2())
        except _aws_nitro.AwsNitroError as exc:
            raise VtpmDocumentError(f"EC2 image: {exc}") from exc

    return _vtpm(settings, ak_from_document, check_cvm)


def qemu_tdx(settings: VariantSettings):
    from . import _tdx as _constellation_tdx

    return DocumentValidator(
        functools.partial(
            _constellation_tdx.validate,
            measurements=settings.measurements,
            collateral=settings.collateral_of_intel(),
            now=settings.now,
            trust_anchor=intel_root(settings, "qemuTDX"),
        ),
        _constellation_tdx.CHECKS,
    )


BUILDERS = {
    "qemu-vtpm": qemu_vtpm,
    "azure-sev-snp": azure_sev_snp,
    "aws-sev-snp": aws_sev_snp,
    "gcp-sev-snp": gcp_sev_snp,
    "qemu-tdx": qemu_tdx,
    "azure-tdx": azure_tdx,
    "gcp-sev-es": gcp_sev_es,
    "aws-nitro-tpm": aws_nitro_tpm,
}
