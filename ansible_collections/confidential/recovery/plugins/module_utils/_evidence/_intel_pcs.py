# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""Intel's TDX collateral for a quote's platform, kept in the collateral directory as ``pcs/tdx/<FMSPC>.json``.

The file is in the form dcap-qvl reads (TCB info, QE identity, the PCK and root CA CRLs, with their issuer chains).
Offline by default. Only when the user asks (``download``) is a missing file fetched, by dcap-qvl's own PCS client,
from Intel PCS or the PCCS the user names (Azure's, a private one), and kept for the next run. A fetch sends the
platform's FMSPC and the PCK CA type that the PCS API asks for, nothing about the cluster.
"""

from __future__ import annotations

import json
import os

from ._checks import CheckFailed
from ._choices import INTEL_PCS_URL
from ._collateral_cache import keep, read_cached
from ._tdx_verify import HAS_DCAP_QVL

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
except ImportError:  # pragma: no cover - the modules report it through missing_required_lib
    pass

try:
    import dcap_qvl
except ImportError:  # pragma: no cover - HAS_DCAP_QVL says so
    pass


class CollateralError(CheckFailed):
    """Intel's collateral is neither in the directory nor allowed (or able) to be fetched; the message says which."""

    check = "tcb_status"


def pck_extension(quote):
    """dcap-qvl's reading of the SGX extension of the quote's PCK certificate (FMSPC, SGX type, PIID, ...)."""
    if not HAS_DCAP_QVL:
        raise CollateralError("reading the PCK certificate's SGX extension needs the Python package dcap-qvl")
    try:
        leaf = x509.load_pem_x509_certificates(quote.pck_chain_pem)[0]
        return dcap_qvl.parse_pck_extension_from_pem(leaf.public_bytes(serialization.Encoding.PEM))
    except (ValueError, IndexError) as exc:
        raise CollateralError(f"cannot read the SGX extension of the PCK certificate: {exc}") from exc


def fmspc_of(quote) -> str:
    """The platform's FMSPC: it names the collateral the quote needs."""
    return bytes(pck_extension(quote).fmspc).hex().upper()


class PcsCollateral:
    def __init__(
        self, directory: str | None, download: bool = False, base_url: str = INTEL_PCS_URL, timeout: float = 30
    ):
        self.directory, self.download, self.base_url, self.timeout = directory, download, base_url.rstrip("/"), timeout

    def tdx(self, quote) -> str:
        """The collateral JSON for the quote's platform."""
        if not HAS_DCAP_QVL:
            raise CollateralError("evaluating a TDX quote's TCB needs the Python package dcap-qvl")
        fmspc = fmspc_of(quote)
        relative = os.path.join("pcs", "tdx", f"{fmspc}.json")
        if not self.directory:
            raise CollateralError(
                f"the quote's TCB needs Intel's collateral for FMSPC {fmspc}: set "
                f"attestation_collateral_dir and save it as {relative} there (or allow "
                "attestation_collateral_download)"
            )
        path = os.path.join(self.directory, relative)
        try:
            cached = read_cached(self.directory, relative)
        except OSError as exc:
            raise CollateralError(f"cannot read the collateral for FMSPC {fmspc} at {path} ({exc.strerror})") from exc
        if cached is not None:
            return cached.decode("utf-8", errors="replace")
        if not self.download:
            raise CollateralError(
                f"no collateral for FMSPC {fmspc} at {path}; save Intel's collateral there, or allow "
                f"attestation_collateral_download to fetch it from {self.base_url}"
            )
        collateral = self._fetch(quote.raw, fmspc)
        keep(self.directory, relative, collateral.encode())
        return collateral

    def _fetch(self, raw_quote: bytes, fmspc: str) -> str:
        import asyncio  # only a download needs it: importing it costs every push loop's start 0.03 s

        async def fetch():
            return await asyncio.wait_for(dcap_qvl.get_collateral(self.base_url, raw_quote), self.timeout)

        try:
            collateral = asyncio.run(fetch())
        except TimeoutError as exc:
            raise CollateralError(
                f"fetching the collateral for FMSPC {fmspc} from {self.base_url} took longer than {self.timeout:g} s"
            ) from exc
        except (ValueError, RuntimeError) as exc:
            raise CollateralError(
                f"fetching the collateral for FMSPC {fmspc} from {self.base_url} failed: {exc}"
            ) from exc
        document = collateral.to_json()
        json.loads(document)  # dcap-qvl's own JSON; a failure here is a bug worth a traceback
        return document
