# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The drill's HTML report as a person sees it: opened in headless Chromium (Debian's package, driven by
Playwright), offline, with its charts drawn and nothing in the console. The screenshot is kept as an artifact."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ansible_collections.confidential.recovery.plugins.module_utils._drill._html import drill_html
from ansible_collections.confidential.recovery.plugins.module_utils._drill._result import checked, with_entry

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is in requirements-dev.txt")

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "build" / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def sample(rto_end: float, failed: bool = False) -> dict:
    nodes = [f"constell-control-plane-{i}" for i in range(3)]
    stages = [{"stage": "detection", "node": None, "start": 0.0, "end": 1.8}]
    for i, node in enumerate(nodes):
        stages.append({"stage": "attestation", "node": node, "start": 1.8, "end": 2.1 + i * 0.05})
        if i < 2:
            stages.append({"stage": "pushes", "node": node, "start": 2.1 + i * 0.05, "end": 2.2 + i * 0.05})
    stages += [
        {"stage": "quorum", "node": None, "start": 2.3, "end": 3.5, "status": "failed" if failed else "ok"},
        {"stage": "all_ready", "node": None, "start": 3.5, "end": rto_end - 4},
        {"stage": "coordinator", "node": None, "start": rto_end - 4, "end": rto_end - 3.2},
        {"stage": "workloads", "node": None, "start": rto_end - 3.2, "end": rto_end - 0.6},
        {"stage": "verify", "node": None, "start": rto_end - 0.6, "end": rto_end},
    ]
    return checked(
        {
            "scenario": {"name": "lose-k-of-n", "parameters": {"k": 2, "n": 3}},
            "target": "lab",
            "started_at": "2026-12-05T03:00:00Z",
            "rto_target_seconds": 45,
            "stages": stages,
            "attestation": [{"node": n, "variant": "qemu-vtpm", "summary": "PCR 4 fa40da13a356ac6d..."} for n in nodes],
        }
    )


@pytest.mark.skipif(
    CHROMIUM is None, reason="make test installs Debian's chromium first (tools/need-debian-package.sh)"
)
def test_the_report_renders_its_charts_without_console_errors(tmp_path):
    history = []
    for rto, failed in ((33.0, False), (36.5, False), (50.0, True), (31.2, False)):
        history = with_entry(history, sample(rto, failed))
    page_file = tmp_path / "drill-report.html"
    page_file.write_text(drill_html(sample(31.2), history), encoding="utf-8")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    problems, requests = [], []
    with playwright_api.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1024, "height": 1200})
            page.on(
                "console",
                lambda message: problems.append(message.text) if message.type in ("error", "warning") else None,
            )
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.on("request", lambda request: requests.append(request.url))
            page.goto(page_file.as_uri())
            bars = page.locator("svg#timeline rect.stage")
            assert bars.count() == 11  # one per stage and node
            box = bars.first.bounding_box()
            assert box and box["width"] > 0 and box["height"] > 0  # drawn, not just present
            assert page.locator("svg#trend circle.drill").count() == 3  # the recovered drills, this one last
            assert page.locator("svg#trend text.drill.failed").count() == 1
            assert page.locator("#verdict").inner_text() == "PASSED"
            assert page.locator("#attestation tr").count() == 4
            page.screenshot(path=str(ARTIFACTS / "drill-report.png"), full_page=True)
        finally:
            browser.close()

    assert problems == []
    assert requests == [page_file.as_uri()]  # the page fetched nothing else
    assert (ARTIFACTS / "drill-report.png").stat().st_size > 10_000
