# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
from __future__ import annotations

import pytest
from labdriver import REPO, Lab, start_lab

pytestmark = pytest.mark.integration


def pytest_collection_modifyitems(items):
    for item in items:
        item.add_marker(pytest.mark.integration)


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
    lab = start_lab(tmp_path_factory, "lab5", "127.20.0", 5, "--no-contrast")
    try:
        yield lab
    finally:
        lab.down()
