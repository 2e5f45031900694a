# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""What the fault suite's files share: how a case breaks the lab, records its run, and leaves the lab healthy.

Each case checks the outcome and its message, that nothing is lost (a rerun after repair finishes the job), and
that no key material reaches the output or the report. Each file of the suite has a lab of its own, on its own
address prefix, so that the files can run side by side.
"""

from __future__ import annotations

import json

import pytest
from labdriver import REPO, running_lab

CP = [f"conflab-control-plane-{i}" for i in range(5)]
# These faults are about the quorum loop's arithmetic (how many keys, which nodes count as up), so the runs pin
# stop_at=quorum; recover.yml's default pushes every waiting node.
QUORUM_ONLY = ("-e", "constellation_recover_stop_at=quorum")
FAST = (
    "-e",
    "constellation_recover_call_timeout=5",
    "-e",
    "constellation_recover_heal_timeout=8",
    "-e",
    "constellation_recover_quorum_timeout=45",
    *QUORUM_ONLY,
)
CONSTELLATION_ONLY = ("-e", "contrast_recover_coordinator=", *QUORUM_ONLY)
RECEIVED = "Received recover call"


def fault_lab(tmp_path_factory, prefix: str):
    """The fault suite's lab: five control-plane nodes, Contrast, on ``prefix``.0/24; stopped at the end."""
    yield from running_lab(tmp_path_factory, "lab-faults", prefix, 5)


@pytest.fixture(scope="module")
def table(request):
    """What each case did, for the maintainers' notes: build/fault-suite.<file>.json. Recorded, never asserted."""
    rows = []
    yield rows
    out = REPO / "build" / f"fault-suite.{request.module.__name__}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(rows, indent=2))


@pytest.fixture
def record(table, request):
    def add(run, note=""):
        summary = (run.report or {}).get("constellation") or {}
        table.append(
            {
                "case": request.node.name,
                "rc": run.rc,
                "seconds": run.seconds,
                "quorum": summary.get("quorum"),
                "keys_pushed": summary.get("keys_pushed"),
                "keys_needed": summary.get("keys_needed"),
                "failures": (run.report or {}).get("failures"),
                "note": note,
            }
        )

    return add


@pytest.fixture
def broken(lab):
    """Every fault of the previous case repaired, then the whole control plane rebooted and waiting."""
    lab.repair("--kubeapi", "--workloads", "--lb", "--nodes", "all")
    lab.break_control_plane()
    return lab


def settle(lab) -> None:
    """Leave a healthy cluster for the next case: nodes back, and a green run."""
    lab.repair("--kubeapi", "--workloads", "--lb", "--nodes", "all")
    run = lab.run(*CONSTELLATION_ONLY, "-e", "constellation_recover_stop_at=all")
    assert run.rc == 0, run.output[-3000:]


def received(lab) -> int:
    return lab.consoles().count(RECEIVED)
