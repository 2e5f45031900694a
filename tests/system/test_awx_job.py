# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""A recovery as AWX runs it: the three credential types rendered as AWX renders them, the job run by
ansible-runner (AWX's own runner, whose job events AWX stores), the secrets only in the credentials' files.

The lab's workspace keeps what a project may hold (the state file, the manifest, the seed shares); its master secret,
admin kubeconfig and seed-share owner key are taken out for the run, so that only the credentials can supply them.
The weekly rehearsal job runs the same way, with the same credentials, and keeps its report and stats."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import ansible_runner
import pytest
import yaml
from labdriver import REPO, PlaybookRun, ansible_env, running_lab
from reporting import assert_no_constellation_leak

sys.path.insert(0, str(REPO / "ansible_collections" / "confidential" / "recovery" / "tests" / "unit" / "builders"))
from awx_injectors import inject  # noqa: E402 - the builders folder of the unit tests, put on the path just above

CREDENTIAL_TYPES = (
    REPO / "ansible_collections" / "confidential" / "recovery" / "extensions" / "awx" / "credential_types"
)


@pytest.fixture(scope="module")
def lab(tmp_path_factory, collection_installed):
    yield from running_lab(tmp_path_factory, "lab-awx", "127.20.21", 3)


def _credentials(lab, job_directory: Path) -> tuple[dict, list[str]]:
    """The job's extra vars from the three credentials, and the secret texts they carry."""
    secrets = {
        "constellation_master_secret.yml": lab.directory / "constellation-mastersecret.json",
        "kubernetes_admin_kubeconfig.yml": lab.directory / "constellation-admin.conf",
        "contrast_seedshare_owner.yml": lab.directory / "contrast" / "seedshare-owner.pem",
    }
    extra_vars, texts = {}, []
    for type_file, secret_file in secrets.items():
        text = secret_file.read_text()
        texts.append(text)
        extra_vars.update(inject(CREDENTIAL_TYPES / type_file, text, job_directory))
        secret_file.rename(secret_file.with_suffix(secret_file.suffix + ".held"))
    return extra_vars, texts


def _restore(lab) -> None:
    for held in [*lab.directory.glob("*.held"), *lab.directory.glob("contrast/*.held")]:
        held.rename(held.with_suffix(""))


def _job_vars(lab) -> dict:
    """The job template's extra vars: the lab's recover-vars without the paths of the secrets."""
    template_vars = yaml.safe_load((lab.directory / "recover-vars.yml").read_text())
    template_vars.pop("contrast_recover_kubeconfig", None)
    return template_vars


def _run_job(lab, job: Path, playbook: str, extravars: dict):
    """ansible-runner as an AWX job runs it: the credentials' injected files and vars, the template's vars."""
    (job / "env").mkdir(parents=True)
    try:
        credential_vars, secrets = _credentials(lab, job)
        env = ansible_env()
        runner = ansible_runner.run(
            private_data_dir=str(job),
            playbook=playbook,
            inventory=str(lab.directory / "inventory.constellation.yml"),
            extravars={**_job_vars(lab), **credential_vars, **extravars},
            envvars={key: env[key] for key in ("ANSIBLE_CONFIG", "ANSIBLE_COLLECTIONS_PATH", "PATH")},
            project_dir=str(lab.directory),
            quiet=True,
            timeout=600,
        )
    finally:
        _restore(lab)
    return runner, secrets


def _published(runner, name: str) -> dict:
    stats = [event for event in runner.events if event["event"] == "playbook_on_stats"]
    assert len(stats) == 1
    return stats[0]["event_data"]["artifact_data"][name]


def _assert_no_secret_in(record: str, secrets: list[str]) -> None:
    for secret in secrets:  # the lines long enough to be key material: base64 of keys, certificates, the secret
        for line in (line.strip() for line in secret.splitlines()):
            assert len(line) < 40 or line not in record, "a secret reached the job's record"


def test_an_awx_job_recovers_with_the_credentials_and_keeps_its_report_and_stats(lab, tmp_path):
    lab.break_control_plane()
    lab.break_("--restart-coordinator")
    kept_report = tmp_path / "reports" / "recovery-report-42.json"
    kept_report.parent.mkdir()
    runner, secrets = _run_job(
        lab, tmp_path / "awx_42", "confidential.recovery.recover", {"recovery_report_file": str(kept_report)}
    )
    output = runner.stdout.read()
    assert runner.rc == 0 and runner.status == "successful", output[-4000:]

    published = _published(runner, "confidential_recovery")
    assert published["outcome"] == "recovered" and published["failures"] == []
    cluster = published["constellation"][0]
    assert cluster["quorum"] is True and cluster["all_ready"] is True
    assert cluster["keys_pushed"] == 3 and cluster["keys_needed"] == 2
    assert set(cluster["nodes"].values()) == {"pushed", "rejoined"}, cluster["nodes"]
    assert cluster["seconds_to_all_ready"] > 0
    assert published["contrast"]["status"] == "recovered" and published["contrast"]["manifest_verified"] is True
    assert published["report_file"] == str(kept_report)

    report = json.loads(kept_report.read_text())
    assert report["constellation"]["keys_pushed"] == cluster["keys_pushed"]
    assert {node["node"]: node["outcome"] for node in report["constellation"]["nodes"]} == cluster["nodes"]

    _assert_no_secret_in(json.dumps(list(runner.events)) + kept_report.read_text(), secrets)
    assert_no_constellation_leak(lab, PlaybookRun(runner.rc, output, report))


def test_the_weekly_rehearsal_job_passes_with_the_same_credentials_and_keeps_its_report(lab, tmp_path):
    if set(lab.control_plane_states().values()) != {"unlocked"}:
        assert lab.run().rc == 0
    kept_report = tmp_path / "reports" / "rehearsal-43.json"
    kept_report.parent.mkdir()
    runner, secrets = _run_job(
        lab, tmp_path / "awx_43", "confidential.recovery.rehearse", {"recovery_report_rehearsal_file": str(kept_report)}
    )
    output = runner.stdout.read()
    assert runner.rc == 0 and runner.status == "successful", output[-4000:]

    published = _published(runner, "confidential_rehearsal")
    assert published["outcome"] == "passed" and published["failures"] == []
    assert published["checks_failed"] == 0 and published["checks_passed"] == 7
    assert published["report_file"] == str(kept_report)
    report = json.loads(kept_report.read_text())
    assert {c["check"] for c in report["checks"]} == {
        "attestation",
        "kubernetes_api",
        "master_secret",
        "coordinator",
        "workloads",
    }
    _assert_no_secret_in(json.dumps(list(runner.events)) + kept_report.read_text(), secrets)
