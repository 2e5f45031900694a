# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""AMD's Key Distribution Service collateral (AMD KDS specification 57230), kept in the collateral directory.

Offline by default: a VCEK or CRL that evidence did not bring is read from ``<dir>/kds/...``. Only when the user
asks (``download``) is a missing file fetched from KDS and saved there for the next run. Every fetch is a GET of a
public URL; nothing about the cluster is sent but the chip ID and TCB that KDS needs to name the VCEK.
"""

from __future__ import annotations

import os

from ._collateral_cache import keep, read_cached
from ._snp_report import Tcb

try:
    from ansible.module_utils.urls import open_url
except ImportError:  # pragma: no cover - part of ansible-core
    open_url = None

KDS_URL = "https://kdsintf.amd.com"


class KdsError(Exception):
    """The collateral is neither in the directory nor allowed (or able) to be fetched; the message says which."""


def vcek_location(product: str, chip_id: bytes, tcb: Tcb) -> tuple[str, str]:
    """(the file in the collateral directory, the KDS path) of a chip's VCEK at a TCB."""
    query = f"blSPL={tcb.bootloader}&teeSPL={tcb.tee}&snpSPL={tcb.snp}&ucodeSPL={tcb.microcode}"
    name = f"{chip_id.hex()}-bl{tcb.bootloader}-tee{tcb.tee}-snp{tcb.snp}-ucode{tcb.microcode}.der"
    return os.path.join("kds", "vcek", "v1", product, name), f"/vcek/v1/{product}/{chip_id.hex()}?{query}"


def crl_location(product: str) -> tuple[str, str]:
    return os.path.join("kds", "vcek", "v1", product, "crl.der"), f"/vcek/v1/{product}/crl"


class KdsCollateral:
    def __init__(self, directory: str | None, download: bool = False, base_url: str = KDS_URL, timeout: float = 30):
        self.directory, self.download, self.base_url, self.timeout = directory, download, base_url.rstrip("/"), timeout

    def get(self, location: tuple[str, str], what: str) -> bytes:
        relative, path = location
        url = self.base_url + path
        if not self.directory:
            raise KdsError(
                f"{what} is needed and did not come with the evidence: set attestation_collateral_dir "
                f"(and attestation_collateral_download, or save {url} as {relative} there)"
            )
        target = os.path.join(self.directory, relative)
        try:
            cached = read_cached(self.directory, relative)
        except OSError as exc:
            raise KdsError(f"cannot read {target}: {exc.strerror}") from exc
        if cached is not None:
            return cached
        if not self.download:
            raise KdsError(
                f"{what} is not in the collateral directory ({target}); save {url} there, or allow "
                "attestation_collateral_download"
            )
        data = self._fetch(url, what)
        keep(self.directory, relative, data)
        return data

    def _fetch(self, url: str, what: str) -> bytes:
        if open_url is None:  # pragma: no cover
            raise KdsError("fetching from AMD KDS needs ansible-core's module_utils.urls")
        try:
            response = open_url(url, timeout=self.timeout, http_agent="confidential.recovery")
            return response.read()
        except Exception as exc:  # noqa: BLE001 - urllib, ssl and socket errors alike mean the fetch failed
            raise KdsError(f"fetching {what} from {url} failed: {exc}") from exc
