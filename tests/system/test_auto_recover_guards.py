# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The automatic recovery's guards, each on its own: the playbook confidential.recovery.auto_recover with the event
ansible-rulebook would pass, a ledger of earlier runs, and no cluster at all. A guard that holds must stop the run
before recover.yml starts (no play of it runs, the ledger is not touched), and say why."""

from __future__ import annotations

import json
import subprocess
import time

import pytest
from labdriver import BIN, ansible_env

CLUSTER = "constellation_cluster_lab"
DIRECTORY = object()  # a directory where the ledger file should be: it exists, and slurp cannot read it


def event(kind="nodes_waiting"):
    return {"confidential_recovery": {"type": kind, "cluster": CLUSTER, "why": "5 of 5 nodes wait", "observed_at": 1.0}}


def auto_recover(tmp_path, ledger, **variables):
    ledger_file = tmp_path / "ledger.json"
    if ledger is DIRECTORY:
        ledger_file.mkdir()
    elif ledger is not None:
        ledger_file.write_text(ledger if isinstance(ledger, str) else json.dumps(ledger))
    extra = {"ansible_eda": {"event": event(variables.pop("kind", "nodes_waiting"))}, **variables}
    extra["auto_recover_ledger_file"] = str(ledger_file)
    done = subprocess.run(
        [
            str(BIN / "ansible-playbook"),
            "-i",
            "localhost,",
            "confidential.recovery.auto_recover",
            "-e",
            json.dumps(extra),
        ],
        capture_output=True,
        text=True,
        env=ansible_env(),
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    return done, ledger_file


def run(cluster=CLUSTER, started=None, finished=None):
    entry = {"cluster": cluster, "event": "nodes_waiting", "started_at": started}
    if finished is not None:
        entry.update(finished_at=finished, outcome="recovered")
    return entry


@pytest.mark.parametrize(
    ("ledger", "variables", "why"),
    [
        # Runs are placed relative to the moment the test runs (under xdist that can be many minutes after import).
        (lambda now: [run(started=now - 100, finished=now - 60)], {"auto_recover_cooldown": 300}, "cooldown: the last"),
        (
            lambda now: [run(started=now - 3000 + i * 600, finished=now - 2990 + i * 600) for i in range(3)],
            {"auto_recover_cooldown": 0},
            "3 automatic recoveries of constellation_cluster_lab in the last hour (limit 3): a person must look",
        ),
        (lambda now: [run(started=now - 30)], {}, "has not finished"),
        ("{not a list", {}, "cannot be read: refusing automatic runs"),
        ("[1, 2", {}, "cannot be read: refusing automatic runs"),
        ([{"cluster": 5}], {}, "cannot be read (entry 1 is not a run): refusing automatic runs"),
        ([], {"auto_recover_rehearsal_only": True}, "rehearsal only: would run confidential.recovery.recover"),
        ([], {"kind": "quorum_lost"}, "event quorum_lost needs no recovery run"),
    ],
    ids=[
        "cooldown",
        "runs-per-hour",
        "still-running",
        "not-a-list",
        "broken-json",
        "not-a-run",
        "rehearsal-only",
        "quorum-lost",
    ],
)
def test_a_guard_that_holds_stops_the_run_before_recover_yml_and_says_why(tmp_path, ledger, variables, why):
    ledger = ledger(time.time()) if callable(ledger) else ledger
    before = None if ledger is None else (ledger if isinstance(ledger, str) else json.dumps(ledger))
    done, ledger_file = auto_recover(tmp_path, ledger, **variables)

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert why in " ".join(done.stdout.split()), done.stdout[-3000:]  # the YAML callback wraps long lines
    assert not (tmp_path / "recovery-report.json").exists()  # recover.yml's report (PWD) was never written
    assert (ledger_file.read_text() if ledger_file.exists() else None) == before  # nothing recorded: nothing ran


def test_other_clusters_runs_do_not_count(tmp_path):
    now = time.time()
    ledger = [run(cluster="another", started=now - 100, finished=now - 60)] * 5
    done, _ledger_file = auto_recover(tmp_path, ledger, auto_recover_rehearsal_only=True)
    assert "rehearsal only: would run" in " ".join(done.stdout.split()), done.stdout[-3000:]


def test_a_ledger_that_exists_but_cannot_be_read_refuses(tmp_path):
    done, _ledger_file = auto_recover(tmp_path, DIRECTORY)
    assert "cannot be read: refusing automatic runs" in " ".join(done.stdout.split()), done.stdout[-3000:]
    assert not (tmp_path / "recovery-report.json").exists()
