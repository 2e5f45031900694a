# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""A drill as JUnit XML: one test suite per drill, one test case per stage (per node where the stage is per node),
and one for the RTO target, so CI systems list a drill as tests and show what failed."""

from __future__ import annotations

from xml.etree import ElementTree

from ._result import verdict


def _case(suite, classname: str, name: str, seconds: float, failure: str | None = None, skipped: str | None = None):
    case = ElementTree.SubElement(suite, "testcase", classname=classname, name=name, time=f"{seconds:.3f}")
    if failure is not None:
        ElementTree.SubElement(case, "failure", message=failure, type="DrillFailure").text = failure
    if skipped is not None:
        ElementTree.SubElement(case, "skipped", message=skipped)
    return case


def junit_xml(result: dict) -> str:
    scenario = result["scenario"]["name"]
    classname = f"drill.{scenario}"
    outcome = verdict(result)
    suites = ElementTree.Element("testsuites")
    suite = ElementTree.SubElement(
        suites,
        "testsuite",
        name=f"drill {scenario} on {result.get('target') or 'lab'}",
        timestamp=str(result.get("started_at") or ""),
    )
    failures = skipped = 0
    for stage in result["stages"]:
        name = stage["stage"] + (f" [{stage['node']}]" if stage.get("node") else "")
        detail = stage.get("detail") or f"{stage['stage']} {stage['status']}"
        failed, skip = stage["status"] == "failed", stage["status"] == "skipped"
        failures += failed
        skipped += skip
        _case(
            suite, classname, name, stage["end"] - stage["start"], detail if failed else None, detail if skip else None
        )
    target = result.get("rto_target_seconds")
    if target is not None:
        missed = outcome["rto_seconds"] is None or outcome["rto_seconds"] > target
        failures += missed
        _case(
            suite,
            classname,
            f"rto within {target:g} s",
            outcome["rto_seconds"] or 0.0,
            outcome["reason"] if missed else None,
        )
    cases = len(suite)
    suite.set("tests", str(cases))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    suite.set("skipped", str(skipped))
    suite.set("time", f"{outcome['rto_seconds'] or max(s['end'] for s in result['stages']):.3f}")
    suites.set("tests", str(cases))
    suites.set("failures", str(failures))
    ElementTree.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(suites, encoding="unicode") + "\n"
