# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The Compute Engine REST answers are input from outside: any malformed answer is a DiscoveryError that names the
call, never a KeyError or a TypeError; a failed or endless zone operation is GCP's error."""

from __future__ import annotations

import pytest
from gce_answers import NODE, compute

from ansible_collections.confidential.recovery.plugins.module_utils._cloud import _gcp
from ansible_collections.confidential.recovery.plugins.module_utils._cloud._boot_log import _serial_page
from ansible_collections.confidential.recovery.plugins.module_utils._cloud._discovery import DiscoveryError


def listed(*answers):
    return _gcp.instances(compute(*answers), "p", "uid", retry_seconds=1)


def test_a_well_formed_page_gives_the_instance_and_its_locator():
    (found,) = listed((200, {"items": {"zones/europe-west3-b": {"instances": [NODE]}}}))
    assert found.name == "cp-0" and found.private_ip == "10.9.0.2" and found.role == "control-plane"
    assert found.boot_log["zone"] == "europe-west3-b" and found.boot_log["instance_id"] == "123"


def test_pages_are_followed_by_their_token():
    session_answers = (
        (200, {"items": {"zones/a": {"instances": [NODE]}}, "nextPageToken": "2"}),
        (200, {"items": {"zones/a": {"instances": [dict(NODE, name="cp-1")]}}}),
    )
    client = compute(*session_answers)
    names = [i.name for i in _gcp.instances(client, "p", "uid", retry_seconds=1)]
    assert names == ["cp-0", "cp-1"] and client.session.requests[1][2]["pageToken"] == "2"


@pytest.mark.parametrize(
    "body",
    [
        b"<html>not json</html>",
        b"[1, 2]",
        {"items": ["zones/a"]},
        {"items": {"zones/a": ["cp-0"]}},
        {"items": {"zones/a": {"instances": {"cp-0": NODE}}}},
        {"items": {"zones/a": {"instances": ["cp-0"]}}},
        {"items": {"zones/a": {"instances": [dict(NODE, name=None)]}}},
        {"items": {"zones/a": {"instances": [dict(NODE, labels=["constellation-uid"])]}}},
        {"items": {"zones/a": {"instances": [dict(NODE, networkInterfaces={"nic0": {}})]}}},
    ],
)
def test_a_malformed_answer_is_a_discovery_error_that_names_gcp(body):
    answers = [(200, body), (200, body)]  # a second listing by metadata when no label matched
    with pytest.raises(DiscoveryError, match="GCP failed listing the instances of project p"):
        listed(*answers)


@pytest.mark.parametrize("metadata", [{"items": "x"}, ["constellation-uid"], {"items": [{"value": "no key"}, 7]}])
def test_malformed_metadata_of_an_old_cluster_is_a_discovery_error(metadata):
    unlabelled = dict(NODE, labels={}, metadata=metadata)
    with pytest.raises(DiscoveryError, match="GCP failed|no running instance carries"):
        listed((200, {"items": {}}), (200, {"items": {"zones/a": {"instances": [unlabelled]}}}))


def test_an_http_error_keeps_gcps_message_and_the_permission():
    denied = {"error": {"code": 403, "message": "Required 'compute.instances.list' permission", "errors": []}}
    with pytest.raises(DiscoveryError, match="GCP denied listing the instances of project p: .*compute.instances.list"):
        listed((403, denied))


def test_an_unreachable_api_is_named():
    client = _gcp.Compute(_gcp.AnonymousCredentials(), "http://127.0.0.1:1")
    with pytest.raises(DiscoveryError, match="cannot reach the Compute Engine API at http://127.0.0.1:1"):
        _gcp.instances(client, "p", "uid", retry_seconds=1)


@pytest.mark.parametrize(
    "answer",
    [{"contents": "x", "start": "zero", "next": "1"}, {"contents": 42, "start": "0", "next": "1"}, {"start": [1]}],
)
def test_malformed_serial_console_offsets_are_named(answer):
    with pytest.raises(DiscoveryError, match="serial console of p/z/i"):
        _serial_page(answer, "p/z/i")


def test_a_reset_waits_for_its_operation_and_a_failed_one_is_gcps_error(monkeypatch):
    monkeypatch.setattr(_gcp.time, "sleep", lambda seconds: None)
    running = {"name": "op-1", "status": "RUNNING"}
    done = {"name": "op-1", "status": "DONE"}
    assert compute((200, running), (200, done)).reset("p", "z", "i", 30)["status"] == "DONE"
    failed = dict(done, error={"errors": [{"code": "RESOURCE_NOT_READY"}]})
    with pytest.raises(_gcp.api_exceptions.GoogleAPICallError, match="RESOURCE_NOT_READY"):
        compute((200, running), (200, failed)).reset("p", "z", "i", 30)


def test_a_reset_whose_operation_never_ends_gives_up_at_its_timeout(monkeypatch):
    clock = iter(range(0, 1000, 10))
    monkeypatch.setattr(_gcp.time, "monotonic", lambda: next(clock))
    monkeypatch.setattr(_gcp.time, "sleep", lambda seconds: None)
    running = {"name": "op-1", "status": "RUNNING"}
    with pytest.raises(_gcp.api_exceptions.DeadlineExceeded, match="did not finish within 30 s"):
        compute(*[(200, running)] * 10).reset("p", "z", "i", 30)
