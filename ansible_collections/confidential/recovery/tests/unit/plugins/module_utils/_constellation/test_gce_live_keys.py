# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The GCP variants ask Compute Engine for each node's vTPM key (getShieldedInstanceIdentity), over the real client
path against a Compute API double on 127.0.0.1; the saved key answers only when Compute Engine cannot be asked."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from snp_documents import GCP_INSTANCE, SoftwareSnp, gcp_config, gcp_instance_info, save_gce_key
from vtpm_documents import AK, NONCE, node_certificate

from ansible_collections.confidential.recovery.plugins.module_utils._constellation import _gce
from ansible_collections.confidential.recovery.plugins.module_utils._constellation._module import gce_keys
from ansible_collections.confidential.recovery.plugins.module_utils._constellation._validators import (
    constellation_validator,
)
from ansible_collections.confidential.recovery.plugins.module_utils._net._atls import AttestationFailed

PLATFORM = SoftwareSnp()
INSTANCE = _gce.GceInstance(GCP_INSTANCE["project_id"], GCP_INSTANCE["zone"], GCP_INSTANCE["instance_name"])
IDENTITY_PATH = (
    f"/compute/v1/projects/{INSTANCE.project}/zones/{INSTANCE.zone}/instances/{INSTANCE.instance}"
    "/getShieldedInstanceIdentity"
)


def pem(public_key) -> str:
    return public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


class ComputeEngine:
    """Answers getShieldedInstanceIdentity with (status, body) and records every path asked for."""

    def __init__(self, status: int, body):
        self.status, self.body, self.paths = status, body, []
        double = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args):
                return

            def do_GET(self):
                double.paths.append(self.path)
                data = json.dumps(double.body).encode()
                self.send_response(double.status if self.path == IDENTITY_PATH else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def compute_engine():
    doubles = []

    def start(status=200, body=None):
        double = ComputeEngine(status, {"signingKey": {"ekPub": pem(AK.public_key())}} if body is None else body)
        doubles.append(double)
        return double

    yield start
    for double in doubles:
        double.close()


def keys(endpoint: str, collateral_dir=None, project=INSTANCE.project, timeout=2):
    access = {"project": project, "auth_kind": "anonymous", "api_endpoint": endpoint}
    return gce_keys({"attestation_gce_api": access, "attestation_collateral_dir": collateral_dir, "timeout": timeout})


def validate_gcp_sev_snp(double: ComputeEngine) -> dict:
    """A genuine gcp-sev-snp certificate, validated with the keys Compute Engine's double reports."""
    validator = constellation_validator(
        "gcp-sev-snp",
        gcp_config(),
        "conf.yaml",
        trust_anchor=PLATFORM.pem(PLATFORM.ark),
        gce_keys=keys(double.endpoint),
    )
    return validator.validate(node_certificate(oid="1.3.9900.3.2", instance_info=gcp_instance_info(PLATFORM)), NONCE)


def test_the_key_compute_engine_reports_is_the_one_used(compute_engine):
    double = compute_engine()
    key = keys(double.endpoint).key(INSTANCE)
    assert pem(key) == pem(AK.public_key())
    assert double.paths == [IDENTITY_PATH]


def test_genuine_gcp_sev_snp_evidence_passes_with_the_live_key_and_no_saved_one(compute_engine):
    double = compute_engine()
    assert validate_gcp_sev_snp(double)["platform"]["instance"] == str(INSTANCE)


def test_a_key_that_compute_engine_does_not_report_is_refused(compute_engine):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    double = compute_engine(body={"signingKey": {"ekPub": pem(other)}})
    with pytest.raises(AttestationFailed, match="not the one the variant trusts"):
        validate_gcp_sev_snp(double)


def test_an_instance_of_another_project_is_refused_without_asking(compute_engine):
    double = compute_engine()
    with pytest.raises(_gce.GceError, match="names project my-project, but the cluster runs in prod-project"):
        keys(double.endpoint, project="prod-project").key(INSTANCE)
    assert double.paths == []


def test_an_instance_compute_engine_does_not_know_is_refused_even_with_a_saved_key(compute_engine, tmp_path):
    save_gce_key(tmp_path, AK.public_key())
    double = compute_engine(404, {"error": {"code": 404, "message": "The resource was not found", "errors": []}})
    with pytest.raises(_gce.GceError, match="has no instance my-project/europe-west3-b/constell-control-plane-0"):
        keys(double.endpoint, str(tmp_path)).key(INSTANCE)


@pytest.mark.parametrize(
    "body",
    [{}, {"signingKey": {}}, {"signingKey": {"ekPub": ""}}, {"signingKey": "x"}, {"signingKey": {"ekPub": "no"}}],
)
def test_an_answer_without_a_usable_key_is_refused(compute_engine, body):
    double = compute_engine(body=body)
    with pytest.raises(_gce.GceError, match="signingKey.ekPub"):
        keys(double.endpoint).key(INSTANCE)


def test_when_compute_engine_cannot_be_asked_the_saved_key_answers(compute_engine, tmp_path):
    save_gce_key(tmp_path, AK.public_key())
    double = compute_engine(403, {"error": {"code": 403, "message": "Required 'compute.instances.get' permission"}})
    assert pem(keys(double.endpoint, str(tmp_path)).key(INSTANCE)) == pem(AK.public_key())


def test_with_neither_an_answer_nor_a_saved_key_both_reasons_are_named(compute_engine, tmp_path):
    double = compute_engine()
    double.close()  # nothing listens any more
    with pytest.raises(_gce.GceError, match=r"Compute Engine could not be asked \(.*\), and no Compute Engine"):
        keys(double.endpoint, str(tmp_path)).key(INSTANCE)


def test_without_access_only_the_saved_key_is_read(tmp_path):
    saved = gce_keys({"attestation_gce_api": None, "attestation_collateral_dir": str(tmp_path)})
    assert isinstance(saved, _gce.SavedKeys)
    with pytest.raises(_gce.GceError, match="attestation_gce_api"):
        gce_keys({"attestation_gce_api": None, "attestation_collateral_dir": None}).key(INSTANCE)
