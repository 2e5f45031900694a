#!/usr/bin/python
# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0

from __future__ import annotations

DOCUMENTATION = r"""
module: drill_report
short_description: Write a disaster-recovery drill's reports, JSON, JUnit XML and HTML, and keep its history
version_added: 0.2.0
description:
  - Takes a drill's result (the scenario, and when each recovery stage started and ended, per node where the stage
    is per node) and writes three files in O(output_dir). The JSON is the source of truth; the JUnit XML has one
    test case per stage and one for the RTO target, so CI systems and AWX list a drill as tests; the HTML is one
    self-contained page (inline CSS and SVG, nothing fetched when it is viewed) with the verdict, a timeline of the
    stages per node, the RTO trend of the last drills and the attestation evidence each node presented.
  - The RTO is the end of the last stage, in seconds since the drill broke the cluster. A failed stage fails the
    drill; so does an RTO above O(rto_target).
  - With O(history_file), the drill is added to that JSON list (the newest 50 are kept), and the trend is drawn from it.
  - Writes nothing in check mode, and reports what it would have found.
author: confidential.recovery maintainers (@confidential-recovery)
extends_documentation_fragment:
  - confidential.recovery.attributes
  - confidential.recovery.attributes.controller
options:
  result:
    description:
      - The drill result, schema 1. C(scenario) (C(name), C(parameters)), C(target), C(started_at) (ISO 8601),
        C(stages) (each with C(stage), C(node) or null, C(start), C(end), C(status) V(ok), V(failed) or V(skipped),
        C(detail)) and C(attestation) (each with C(node), C(variant), C(summary)).
      - C(stage) is one of C(detection), C(attestation), C(pushes), C(quorum), C(all_ready), C(coordinator),
        C(workloads), C(verify).
      - Give either O(result), or O(recovery_report) with O(broke_at) and O(scenario).
    type: dict
  recovery_report:
    description:
      - The JSON report that C(recover.yml) wrote (C(recovery_report_file)); the stages are read off it. Detection
        runs from O(broke_at) to the push loop's start; attestation and pushes come from each node's timeline,
        quorum and all Ready from the Constellation summary, the Coordinator, workloads and verify stages from the
        Contrast summary.
    type: path
  broke_at:
    description: When the drill broke the cluster, in seconds since the epoch (for O(recovery_report)).
    type: float
  event_at:
    description:
      - For a recovery that Event-Driven Ansible started, when the event source's event was seen, in seconds since the
        epoch. Detection is then two spans, from O(broke_at) to the event and from the event to the push loop's
        start (the rulebook started the playbook, which discovered the nodes).
    type: float
    version_added: 0.2.0
  scenario:
    description: The scenario, C(name) and C(parameters) (for O(recovery_report)).
    type: dict
  target:
    description: What the drill ran on (for O(recovery_report)).
    type: str
    default: lab
  started_at:
    description: When the drill began, ISO 8601 (for O(recovery_report)).
    type: str
  rto_target:
    description: The RTO target in seconds; overrides C(rto_target_seconds) of O(result). Unset, no target applies.
    type: float
  output_dir:
    description: Where the reports go; created when missing.
    type: path
    required: true
  name:
    description: The reports' file name without extension.
    type: str
    default: drill-report
  history_file:
    description: The JSON history of drills, normally in the workspace; created on the first drill.
    type: path
attributes:
  check_mode:
    support: full
    details: Reports the verdict and writes no file.
  diff_mode:
    support: none
seealso:
  - module: confidential.recovery.recovery_status_info
"""

EXAMPLES = r"""
- name: Write the drill's reports and add it to the workspace's history
  confidential.recovery.drill_report:
    result: "{{ drill_result }}"
    rto_target: 300
    output_dir: "{{ constellation_workspace }}/drills/{{ now(utc=true).strftime('%Y%m%dT%H%M%SZ') }}"
    history_file: "{{ constellation_workspace }}/drills/history.json"
  register: drill_report

- name: Fail the job when the drill missed its RTO target
  ansible.builtin.assert:
    that: drill_report.passed
    fail_msg: "{{ drill_report.reason }}"
"""

RETURN = r"""
passed:
  description: Every stage succeeded and the RTO met the target.
  returned: success
  type: bool
  sample: true
rto_seconds:
  description: When the last stage ended, in seconds after the break; null when a stage failed.
  returned: success
  type: float
  sample: 27.4
rto_target_seconds:
  description: The target the RTO was held against, or null.
  returned: success
  type: float
  sample: 300.0
reason:
  description: The verdict in words.
  returned: success
  type: str
  sample: RTO 27.4 s within the target of 300.0 s
files:
  description: The paths of the reports, written unless in check mode.
  returned: success
  type: dict
  sample: {"json": "drills/drill-report.json", "junit": "drills/drill-report.junit.xml", "html": "drills/drill-report.html"}
history_length:
  description: How many drills the history holds with this one.
  returned: success
  type: int
  sample: 4
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.confidential.recovery.plugins.module_utils._backends._drill_report import run


def main():
    module = AnsibleModule(
        argument_spec=dict(
            result=dict(type="dict"),
            recovery_report=dict(type="path"),
            broke_at=dict(type="float"),
            event_at=dict(type="float"),
            scenario=dict(type="dict"),
            target=dict(type="str", default="lab"),
            started_at=dict(type="str"),
            rto_target=dict(type="float"),
            output_dir=dict(type="path", required=True),
            name=dict(type="str", default="drill-report"),
            history_file=dict(type="path"),
        ),
        required_one_of=[("result", "recovery_report")],
        mutually_exclusive=[("result", "recovery_report")],
        required_by={"recovery_report": ("broke_at", "scenario")},
        supports_check_mode=True,
    )
    run(module)


if __name__ == "__main__":
    main()
