# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Which Coordinator of a set gets the seed, if any, and how each one is reported: with Coordinators whose answers
are scripted, probe by probe."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from vtpm_documents import atls_certificate

from ansible_collections.confidential.recovery.plugins.module_utils._backends import _coordinator_set
from ansible_collections.confidential.recovery.plugins.module_utils._contrast._coordinator import (
    CoordinatorError,
)
from ansible_collections.confidential.recovery.plugins.module_utils._kube._coordinator_pods import CoordinatorPod
from ansible_collections.confidential.recovery.plugins.module_utils._net._atls import AttestationFailed

MANIFEST = {"Policies": {}, "SeedshareOwnerPubKeys": ["00"]}


def mesh_ca() -> bytes:
    """A mesh CA certificate with a fresh key: two of them are two different mesh CAs."""
    der = atls_certificate("1.3.9901.9.9", lambda digest: digest)
    return x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM)


SHARED_MESH = mesh_ca()


class Coordinator:
    """A scripted Coordinator: each probe answers the next of ``states`` (the last one repeats); an exception
    instance is raised instead."""

    def __init__(self, name: str, states, mesh: bytes = SHARED_MESH, refuses: str | None = None):
        self.address = f"pod x/{name}"
        self.states = list(states)
        self.mesh = mesh
        self.refuses = refuses
        self.recovered = 0
        self.api = SimpleNamespace(get_manifests=self.served)

    def probe(self):
        state = self.states.pop(0) if len(self.states) > 1 else self.states[0]
        if isinstance(state, Exception):
            raise state
        return state

    def recover(self):
        if self.refuses:
            raise CoordinatorError(self.refuses)
        self.recovered += 1
        self.states = ["ready"]
        return "/edgelesssys.contrast.userapi.UserAPI/"

    def served(self):
        return SimpleNamespace(Manifests=[json.dumps(MANIFEST).encode()], MeshCA=self.mesh)

    def verify(self):
        return {"manifest_verified": True, "manifest_count": 1, "mesh_ca_changed": True, "served": self.served()}

    def write_verify_outputs(self, served, record_mesh_ca):
        return ["manifest.0.json"]


class Exited(Exception):
    def __init__(self, failed: bool, result: dict):
        super().__init__(result.get("msg"))
        self.failed, self.result = failed, result


class Module:
    def __init__(self, check_mode=False, **params):
        self.check_mode = check_mode
        self.params = {
            "coordinator_namespace": "contrast",
            "coordinator_selector": "app.kubernetes.io/name=coordinator",
            "coordinator_reach": "port_forward",
            "peer_wait_timeout": 5,
            "manifest": "manifest.json",
            "record_mesh_ca": False,
            "timeout": 5,
            **params,
        }

    def exit_json(self, **result):
        raise Exited(False, result)

    def fail_json(self, **result):
        raise Exited(True, result)


class Workspace:
    manifest_file = "manifest.json"

    def manifest(self):
        return MANIFEST

    def seed_and_salt(self):
        return b"s" * 32, b"t" * 32

    def check_owner_authorized(self):
        return None


def run(monkeypatch, coordinators: dict, check_mode=False, pods=None) -> Exited:
    pods = pods or [CoordinatorPod(name, int(name[-1]), "Running", "10.0.0.1", False) for name in coordinators]
    monkeypatch.setattr(_coordinator_set.CoordinatorSet, "_reach", lambda self, pod: coordinators[pod.name])
    monkeypatch.setattr(_coordinator_set.CoordinatorSet, "_listed", lambda self: pods)
    monkeypatch.setattr(_coordinator_set, "POLL_SECONDS", 0.01)
    with pytest.raises(Exited) as exited:
        _coordinator_set.run_set(Module(check_mode), Workspace(), None, (None, pods))
    return exited.value


def outcomes(result: dict) -> dict:
    return {c["name"]: c["outcome"] for c in result["coordinators"]}


def test_with_a_ready_peer_no_seed_is_sent_and_the_waiting_one_is_reported_recovered_from_it(monkeypatch):
    set_ = {
        "coordinator-0": Coordinator("coordinator-0", ["ready"]),
        "coordinator-1": Coordinator("coordinator-1", ["stale", "stale", "ready"]),
        "coordinator-2": Coordinator("coordinator-2", ["ready"]),
    }

    done = run(monkeypatch, set_)

    assert not done.failed, done.result["msg"]
    assert done.result["seeds_sent"] == 0 and done.result["status"] == "recovered_from_peers"
    assert outcomes(done.result) == {
        "coordinator-0": "ready",
        "coordinator-1": "recovered_from_peer",
        "coordinator-2": "ready",
    }
    assert sum(c.recovered for c in set_.values()) == 0
    assert not done.result["changed"]


def test_with_every_coordinator_waiting_the_lowest_numbered_one_gets_the_only_seed(monkeypatch):
    set_ = {
        "coordinator-0": Coordinator("coordinator-0", ["stale"]),
        "coordinator-1": Coordinator("coordinator-1", ["stale", "stale", "ready"]),
        "coordinator-2": Coordinator("coordinator-2", ["stale", "ready"]),
    }

    done = run(monkeypatch, set_)

    assert not done.failed, done.result["msg"]
    assert [c.recovered for c in set_.values()] == [1, 0, 0]
    assert done.result["seeds_sent"] == 1 and done.result["recovered_coordinator"] == "coordinator-0"
    assert outcomes(done.result) == {
        "coordinator-0": "recovered_by_seed",
        "coordinator-1": "recovered_from_peer",
        "coordinator-2": "recovered_from_peer",
    }
    assert done.result["changed"] and done.result["status"] == "recovered"


def test_a_ready_coordinator_whose_evidence_fails_neither_counts_as_holding_the_state_nor_gets_anything(monkeypatch):
    impostor = Coordinator("coordinator-0", [AttestationFailed("HOST_DATA is not a Coordinator policy")])
    set_ = {"coordinator-0": impostor, "coordinator-1": Coordinator("coordinator-1", ["stale"])}

    done = run(monkeypatch, set_)

    assert impostor.recovered == 0 and set_["coordinator-1"].recovered == 1
    assert done.failed and "coordinator-0 did not recover" in done.result["msg"]
    unverified = {c["name"]: c for c in done.result["coordinators"]}["coordinator-0"]
    assert unverified["outcome"] == "unverified" and "HOST_DATA is not a Coordinator policy" in unverified["why"]


def test_a_coordinator_that_stays_in_recovery_mode_fails_the_run_naming_it_after_the_wait(monkeypatch):
    set_ = {"coordinator-0": Coordinator("coordinator-0", ["ready"]), "coordinator-1": Coordinator("c1", ["stale"])}
    monkeypatch.setattr(_coordinator_set, "POLL_SECONDS", 0.01)

    done = run(monkeypatch, set_)

    assert done.failed and done.result["seeds_sent"] == 0
    waiting = {c["name"]: c for c in done.result["coordinators"]}["coordinator-1"]
    assert waiting["outcome"] == "waiting" and waiting["why"].startswith("still in recovery mode")
    assert "after waiting 5 s" in waiting["why"]


def test_coordinators_that_serve_different_mesh_cas_are_a_split_set_and_fail(monkeypatch):
    set_ = {
        "coordinator-0": Coordinator("coordinator-0", ["ready"]),
        "coordinator-1": Coordinator("coordinator-1", ["ready"], mesh=mesh_ca()),
    }

    done = run(monkeypatch, set_)

    assert done.failed and "coordinator-1 serves another mesh CA than coordinator-0" in done.result["msg"]


def test_a_refused_recovery_fails_with_each_coordinator_reported_and_no_seed_counted(monkeypatch):
    set_ = {
        "coordinator-0": Coordinator("coordinator-0", ["stale"], refuses="PermissionDenied: peer not authorized"),
        "coordinator-1": Coordinator("coordinator-1", ["stale"]),
    }

    done = run(monkeypatch, set_)

    assert done.failed and done.result["seeds_sent"] == 0 and not done.result["changed"]
    assert done.result["msg"] == "coordinator-0: PermissionDenied: peer not authorized"
    assert set_["coordinator-1"].recovered == 0
    assert len(done.result["coordinators"]) == 2


def test_with_no_coordinator_verified_nothing_is_sent(monkeypatch):
    set_ = {
        "coordinator-0": Coordinator("coordinator-0", [AttestationFailed("wrong measurement")]),
        "coordinator-1": Coordinator("coordinator-1", [CoordinatorError("connection refused")]),
    }

    done = run(monkeypatch, set_)

    assert done.failed and "no Coordinator could be verified" in done.result["msg"]
    assert sum(c.recovered for c in set_.values()) == 0


def test_check_mode_names_the_one_it_would_recover_and_why_and_sends_nothing(monkeypatch):
    set_ = {
        "coordinator-0": Coordinator("coordinator-0", ["stale"]),
        "coordinator-1": Coordinator("coordinator-1", ["stale"]),
    }

    done = run(monkeypatch, set_, check_mode=True)

    assert not done.failed and done.result["status"] == "would_recover"
    assert done.result["would_recover"] == "coordinator-0" and done.result["changed"]
    assert "no verified Coordinator holds the state" in done.result["reason"]
    assert sum(c.recovered for c in set_.values()) == 0


def test_check_mode_with_a_ready_peer_would_wait_for_it(monkeypatch):
    set_ = {"coordinator-0": Coordinator("coordinator-0", ["ready"]), "coordinator-1": Coordinator("c1", ["stale"])}

    done = run(monkeypatch, set_, check_mode=True)

    assert not done.failed and done.result["status"] == "would_wait_for_peers"
    assert done.result["would_recover"] is None and not done.result["changed"]
    whys = {c["name"]: c["why"] for c in done.result["coordinators"]}
    assert whys["coordinator-1"] == "in recovery mode; would recover from a ready peer"


def test_a_pod_that_is_not_running_is_not_dialled_and_a_pod_started_later_joins_the_set(monkeypatch):
    set_ = {
        "coordinator-0": Coordinator("coordinator-0", ["stale"]),
        "coordinator-1": Coordinator("coordinator-1", ["ready"]),
    }
    pending = CoordinatorPod("coordinator-1", 1, "Pending", None, False)
    running = CoordinatorPod("coordinator-1", 1, "Running", "10.0.0.2", True)
    first = [CoordinatorPod("coordinator-0", 0, "Running", "10.0.0.1", False), pending]
    listings = iter([first[:1] + [running]])
    monkeypatch.setattr(_coordinator_set.CoordinatorSet, "_reach", lambda self, pod: set_[pod.name])
    monkeypatch.setattr(_coordinator_set.CoordinatorSet, "_listed", lambda self: next(listings, first[:1] + [running]))
    monkeypatch.setattr(_coordinator_set, "POLL_SECONDS", 0.01)

    with pytest.raises(Exited) as exited:
        _coordinator_set.run_set(Module(), Workspace(), None, (None, first))

    done = exited.value
    assert not done.failed, done.result["msg"]
    assert outcomes(done.result) == {"coordinator-0": "recovered_by_seed", "coordinator-1": "recovered_from_peer"}


def test_a_pod_whose_probe_breaks_in_an_unforeseen_way_costs_only_itself(monkeypatch):
    set_ = {
        "coordinator-0": Coordinator("coordinator-0", [RuntimeError("websocket closed")]),
        "coordinator-1": Coordinator("coordinator-1", ["stale"]),
    }

    done = run(monkeypatch, set_)

    assert set_["coordinator-1"].recovered == 1 and set_["coordinator-0"].recovered == 0
    broken = {c["name"]: c for c in done.result["coordinators"]}["coordinator-0"]
    assert broken["outcome"] == "waiting" and "RuntimeError: websocket closed" in broken["why"], broken
    assert done.failed


def test_a_recovery_call_that_breaks_off_says_the_seed_may_have_arrived(monkeypatch):
    class BreaksOff(Coordinator):
        def recover(self):
            raise ConnectionError("port-forward closed")

    set_ = {"coordinator-0": BreaksOff("coordinator-0", ["stale"]), "coordinator-1": Coordinator("c1", ["stale"])}

    done = run(monkeypatch, set_)

    assert done.failed and "whether the seed arrived is unknown" in done.result["msg"]
    assert set_["coordinator-1"].recovered == 0
