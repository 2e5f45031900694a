# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""make drill passes extra playbook arguments through and says what happens to the lab (make's dry run)."""

from __future__ import annotations

import subprocess

from labdriver import REPO


def dry_run(*variables: str) -> str:
    result = subprocess.run(
        ["make", "-n", "--no-print-directory", "-o", "collection", "drill", *variables],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return result.stdout.replace("\\\n", "")  # one line per shell command


def test_extra_arguments_reach_ansible_playbook():
    playbook_line = next(
        line for line in dry_run("ARGS=-e constellation_recover_stop_at=all").splitlines() if "ansible-playbook" in line
    )
    assert "-e constellation_recover_stop_at=all" in playbook_line


def test_the_lab_is_stopped_unless_kept():
    default, kept = dry_run(), dry_run("KEEP=1")
    assert 'if [ "0" = 1 ]' in default and 'if [ "1" = 1 ]' in kept
    after_run = default[default.index("ansible-playbook") :]
    assert "conflab down" in after_run and "make drill KEEP=1 keeps it running" in after_run
    assert "make lab-down stops it" in kept


def test_an_automatic_drill_runs_the_rulebook_drill_with_java_and_no_playbook_by_hand():
    automatic = dry_run("AUTOMATIC=1", "WATCH_INTERVAL=3")
    assert "need-debian-package.sh java openjdk-17-jre-headless" in automatic
    assert 'elif [ "1" = 1 ]' in automatic  # the automatic branch is the one taken
    drill = next(line for line in automatic.splitlines() if "automatic-drill" in line)
    assert "--interval 3" in drill and "drills/automatic-drill.json" in drill
    assert 'elif [ "0" = 1 ]' in dry_run()  # and not taken by default


def test_the_coordinator_scenarios_start_a_lab_of_three_coordinators_and_the_others_one():
    def up_line(*variables: str) -> str:
        return next(line for line in dry_run(*variables).splitlines() if "conflab up" in line)

    assert "--coordinators 3" in up_line("SCENARIO=coordinator-one-of-three")
    assert "--coordinators 3" in up_line("SCENARIO=coordinator-all")
    assert "--coordinators 1" in up_line("SCENARIO=both")
