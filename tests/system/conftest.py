# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
from __future__ import annotations

from pathlib import Path

import pytest
from labdriver import REPO, Lab, running_lab

pytestmark = pytest.mark.integration


HERE = Path(__file__).resolve().parent
# The system-test files, longest first (seconds of a serial run on 2 CPUs, 2026-12-06). make test hands whole files
# to its xdist workers in collection order (--no-loadscope-reorder): starting the longest first keeps one long file
# from starting last and running alone at the end.
LONGEST_FIRST = (
    "test_faults_runs.py",  # 404 (seconds in a full make test, 3 workers, 2026-12-06)
    "test_faults_peers.py",  # 396
    "test_hardware_attestation.py",
    "test_drill.py",  # 232
    "test_faults_nodes.py",  # 202
    "test_constellation_recover.py",  # 126
    "test_contrast_recover.py",  # 95
    "test_drill_cloud.py",
    "test_constellation_reach.py",
    "test_rehearsal.py",  # 53 alone
    "test_coordinator_port_forward.py",
    "test_rpc_generations.py",
    "test_awx_job.py",
    "test_fleet.py",
)


def _rank(item) -> int:
    path = Path(str(item.fspath))
    if path.parent != HERE:
        return len(LONGEST_FIRST) + 1
    return LONGEST_FIRST.index(path.name) if path.name in LONGEST_FIRST else len(LONGEST_FIRST)


def pytest_collection_modifyitems(items):
    """This conftest sees every collected item: mark only the system tests, and put them first, longest first."""
    for item in items:
        if Path(str(item.fspath)).parent == HERE:
            item.add_marker(pytest.mark.integration)
    items.sort(key=_rank)  # stable: the order within a file, and of all other tests, stays


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    labs = {id(value): value for value in getattr(item, "funcargs", {}).values() if isinstance(value, Lab)}
    for value in labs.values():
        try:
            report.sections.append(("lab diagnostics", value.diagnostics()))
        except Exception as exc:  # noqa: BLE001 - diagnostics must never hide the failure itself
            report.sections.append(("lab diagnostics", f"could not collect: {exc}"))


@pytest.fixture(scope="session")
def collection_installed():
    if not (REPO / "collections" / "ansible_collections" / "confidential" / "recovery" / "MANIFEST.json").exists():
        pytest.fail("the collection is not installed: run the tests through `make test`")


@pytest.fixture(scope="module")
def constellation_lab(tmp_path_factory, collection_installed):
    yield from running_lab(tmp_path_factory, "lab5", "127.20.0", 5, "--no-contrast")
