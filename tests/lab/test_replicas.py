# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Where the lab's Coordinator replicas live, and which ones a `--restart-coordinator` names."""

from __future__ import annotations

import pytest

from conflab.contrast import replicas

CONFIG = {"ip_prefix": "127.20.9", "coordinator": {"ip": "127.20.9.3", "port": 1313, "replicas": 3}}


def test_replica_zero_keeps_the_single_coordinators_address_and_process_name():
    assert [replicas.address(CONFIG, r) for r in range(3)] == ["127.20.9.3", "127.20.9.91", "127.20.9.92"]
    assert [replicas.process_name(r) for r in range(3)] == ["coordinator", "coordinator-1", "coordinator-2"]
    assert replicas.count({"coordinator": {}}) == 1


@pytest.mark.parametrize("spec, chosen", [("all", [0, 1, 2]), ("1", [1]), ("2,0,2", [0, 2])])
def test_replicas_are_chosen_by_number_or_all(spec, chosen):
    assert replicas.select(CONFIG, spec) == chosen


@pytest.mark.parametrize("spec", ["3", "x", "1,", "-1"])
def test_a_replica_the_lab_does_not_have_is_refused_by_name(spec):
    with pytest.raises(ValueError, match="replicas 0..2"):
        replicas.select(CONFIG, spec)


def test_only_statefulset_pod_names_have_an_ordinal():
    assert [replicas.ordinal(n) for n in ("coordinator-0", "coordinator-12", "coordinator", "web-1")] == [
        0,
        12,
        None,
        None,
    ]
