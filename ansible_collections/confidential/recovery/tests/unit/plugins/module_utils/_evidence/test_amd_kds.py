# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""AMD KDS collateral for SNP evidence that does not bring its VCEK and CRL: offline from the collateral directory
by default, fetched (here from a loopback double of KDS) only when the user allows it, and then cached."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from contrast_documents import POLICY_HASH, coordinator_certificate, reference_entry
from cryptography.hazmat.primitives.serialization import Encoding
from snp_documents import CHIP_ID, TCB, SoftwareSnp

from ansible_collections.confidential.recovery.plugins.module_utils._contrast._validators import contrast_validator
from ansible_collections.confidential.recovery.plugins.module_utils._evidence._amd_kds import KdsCollateral
from ansible_collections.confidential.recovery.plugins.module_utils._net._atls import AttestationFailed

NONCE = b"k" * 32
PLATFORM = SoftwareSnp()
VCEK_PATH = (
    f"/vcek/v1/Milan/{CHIP_ID.hex()}?blSPL={TCB['bootloader']}&teeSPL={TCB['tee']}&snpSPL={TCB['snp']}"
    f"&ucodeSPL={TCB['microcode']}"
)


@pytest.fixture
def kds():
    """A loopback KDS that serves the software platform's VCEK and CRL, and records what it was asked."""
    answers = {VCEK_PATH: PLATFORM.vcek.public_bytes(Encoding.DER), "/vcek/v1/Milan/crl": PLATFORM.crl()}
    asked = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            asked.append(self.path)
            body = answers.get(self.path)
            self.send_response(200 if body else 404)
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", asked
    finally:
        server.shutdown()
        server.server_close()


def validate(collateral: KdsCollateral):
    validator = contrast_validator(
        "snp", [POLICY_HASH], {"snp": [reference_entry()]}, trust_anchor=PLATFORM.pem(PLATFORM.ark), kds=collateral
    )
    return validator.validate(coordinator_certificate(PLATFORM, NONCE, crl=None, with_vcek=False), NONCE)


def test_without_a_collateral_directory_the_missing_vcek_is_named():
    with pytest.raises(AttestationFailed, match="the chip's VCEK is needed and did not come with the evidence"):
        validate(KdsCollateral(None))


def test_offline_by_default_the_file_and_the_url_are_named(tmp_path, kds):
    url, asked = kds
    with pytest.raises(
        AttestationFailed, match=r"kds/vcek/v1/Milan/.*\.der\); save http://127.0.0.1:\d+/vcek/v1/Milan/"
    ):
        validate(KdsCollateral(str(tmp_path), download=False, base_url=url))
    assert asked == [], "nothing may be fetched unless the user allows it"


def test_allowed_downloads_are_fetched_once_and_cached(tmp_path, kds):
    url, asked = kds
    assert validate(KdsCollateral(str(tmp_path), download=True, base_url=url))["variant"] == "snp"
    assert asked == [VCEK_PATH, "/vcek/v1/Milan/crl"]
    cached = tmp_path / "kds" / "vcek" / "v1" / "Milan"
    vcek_file = f"{CHIP_ID.hex()}-bl{TCB['bootloader']}-tee{TCB['tee']}-snp{TCB['snp']}-ucode{TCB['microcode']}.der"
    assert (cached / vcek_file).read_bytes() == PLATFORM.vcek.public_bytes(Encoding.DER)
    assert (cached / "crl.der").stat().st_size > 0
    validate(KdsCollateral(str(tmp_path), download=False, base_url=url))
    assert len(asked) == 2, "the second validation must use the cache"


def test_a_failing_kds_is_reported(tmp_path, kds):
    url = kds[0]
    with pytest.raises(AttestationFailed, match="fetching the chip's VCEK from .* failed"):
        validate(KdsCollateral(str(tmp_path), download=True, base_url=url + "/nowhere"))
