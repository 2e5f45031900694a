# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""A running node's document, from the verification service: no certificate, issued for the user data
"VerifyService", and with the cluster ID extended into PCR 15 once its disk is open."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from vtpm_documents import NONCE, PCRS, document

from ansible_collections.confidential.recovery.plugins.module_utils._constellation._measurements import (
    cluster_measurement,
)
from ansible_collections.confidential.recovery.plugins.module_utils._constellation._validators import (
    constellation_validator,
)
from ansible_collections.confidential.recovery.plugins.module_utils._constellation._verify_service import USER_DATA
from ansible_collections.confidential.recovery.plugins.module_utils._net._atls import AttestationFailed

CLUSTER_ID = bytes.fromhex("6b" * 32)
PCR15 = hashlib.sha256(bytes(32) + hashlib.sha256(CLUSTER_ID).digest()).digest()
CONF = {
    "attestation": {"qemuVTPM": {"measurements": {i: {"expected": PCRS[i].hex(), "warnOnly": False} for i in (4, 9)}}}
}


def running(cluster_id=CLUSTER_ID):
    return constellation_validator("qemu-vtpm", CONF, "conf.yaml", cluster_id=cluster_id)


def test_the_cluster_measurement_is_pcr_15_extended_from_zero_and_rtmr_2_on_tdx():
    assert cluster_measurement("qemu-vtpm", CLUSTER_ID) == (15, cluster_measurement("azure-sev-snp", CLUSTER_ID)[1])
    assert cluster_measurement("qemu-vtpm", CLUSTER_ID)[1].expected == PCR15
    index, measurement = cluster_measurement("qemu-tdx", CLUSTER_ID)
    assert index == 3 and not measurement.warn_only
    assert measurement.expected == hashlib.sha384(bytes(48) + hashlib.sha384(CLUSTER_ID).digest()).digest()


def test_a_running_nodes_document_passes_with_its_cluster_id():
    raw = document(user_data=USER_DATA, quoted_pcrs={**PCRS, 15: PCR15}, sent_pcrs={**PCRS, 15: PCR15})
    evidence = running().validate_document(raw, NONCE, USER_DATA)
    assert evidence["measurements"]["15"] == PCR15.hex()


def test_a_node_of_another_cluster_fails_the_measurements_check():
    raw = document(user_data=USER_DATA)  # PCR 15 as the builder's, not this cluster's
    with pytest.raises(AttestationFailed, match="at index 15") as failure:
        running().validate_document(raw, NONCE, USER_DATA)
    assert failure.value.check == "measurements"


def test_a_document_issued_for_other_user_data_fails_the_binding():
    raw = document(
        user_data=b"a certificate key's hash", quoted_pcrs={**PCRS, 15: PCR15}, sent_pcrs={**PCRS, 15: PCR15}
    )
    with pytest.raises(AttestationFailed, match="expected user data does not match") as failure:
        running().validate_document(raw, NONCE, USER_DATA)
    assert failure.value.check == "binding"


def test_the_lab_variant_checks_the_nonce_and_the_user_data():
    lab = constellation_validator("lab")
    good = json.dumps({"UserData": base64.b64encode(USER_DATA).decode(), "Nonce": base64.b64encode(NONCE).decode()})
    assert lab.validate_document(good.encode(), NONCE, USER_DATA)["variant"] == "dummy"
    with pytest.raises(AttestationFailed, match="invalid nonce"):
        lab.validate_document(good.encode(), b"another nonce", USER_DATA)
    with pytest.raises(AttestationFailed, match="expected user data does not match"):
        lab.validate_document(good.encode(), NONCE, b"something else")
