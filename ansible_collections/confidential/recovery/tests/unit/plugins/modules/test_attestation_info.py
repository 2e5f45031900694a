# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""attestation_info's main(): exactly one kind of evidence, and the same offline verdict in check mode."""

from __future__ import annotations

import pytest
from fixture_files import FIXTURES

from ansible_collections.confidential.recovery.plugins.modules import attestation_info

SNP = {
    "snp_report": str(FIXTURES / "snp" / "milan-report.bin"),
    "snp_signing_key": str(FIXTURES / "snp" / "milan-vcek.der"),
    "now": "2026-11-25T00:00:00Z",
}


def test_evidence_is_required(run_module):
    result = run_module(attestation_info, {"now": SNP["now"]})
    assert result["failed"] and "one of the following is required" in result["msg"]


def test_two_kinds_of_evidence_are_refused(run_module):
    result = run_module(attestation_info, dict(SNP, tdx_quote="/quote.bin"))
    assert result["failed"] and "mutually exclusive" in result["msg"]


def test_a_live_peer_needs_its_attestation_variant(run_module):
    result = run_module(attestation_info, {"endpoint": "127.0.0.1"})
    assert result["failed"] and "attestation" in result["msg"]


def test_check_mode_verifies_a_saved_report_offline(run_module):
    reference = {"allow_debug": True, "minimum_tcb": {"bootloader": 2, "tee": 0, "snp": 5, "microcode": 68}}
    result = run_module(attestation_info, dict(SNP, snp_reference=reference), check_mode=True)
    assert result["rc"] == 0 and result["changed"] is False
    checks = {check["check"]: check["verdict"] for check in result["checks"]}
    assert checks["certificate_chain"] == "passed" and checks["signature"] == "passed"
    assert checks["minimum_tcb"] == "passed" and checks["guest_policy"] == "passed"


@pytest.mark.parametrize(
    "args",
    [
        {"endpoint": "127.0.0.1", "attestation": "qemu-vtpm"},  # a waiting node shows no cluster ID yet
        {"endpoint": "127.0.0.1", "attestation": "lab", "peer": "constellation_verify_service"},  # no measurements
        dict(SNP),  # saved evidence
    ],
)
def test_a_cluster_id_that_would_not_be_checked_is_refused(run_module, args):
    result = run_module(attestation_info, dict(args, cluster_id="ab" * 32))
    assert result["failed"] and "cluster_id is checked only against a running node's measurements" in result["msg"]


def test_a_port_forward_reaches_only_a_coordinator(run_module):
    args = {"port_forward": {"pod": "port-forwarder-coordinator"}, "attestation": "qemu-vtpm"}
    result = run_module(attestation_info, args)
    assert result["failed"] and "port_forward reaches a Contrast Coordinator" in result["msg"], result["msg"]
