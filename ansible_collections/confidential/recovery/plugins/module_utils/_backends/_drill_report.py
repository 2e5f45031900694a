# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""Backend of the drill_report module: check the result, add it to the history, write JSON, JUnit and HTML."""

from __future__ import annotations

import json
import os

from .._drill._html import drill_html
from .._drill._junit import junit_xml
from .._drill._result import DrillResultError, checked, read_history, verdict, with_entry
from .._drill._stages import from_recovery_report
from .._files import write_atomically


def _result(params) -> dict:
    if params["result"] is not None:
        return dict(params["result"])
    try:
        with open(params["recovery_report"], encoding="utf-8") as handle:
            report = json.load(handle)
    except (OSError, ValueError) as exc:
        raise DrillResultError(f"cannot read the recovery report {params['recovery_report']}: {exc}") from exc
    return from_recovery_report(
        report,
        params["broke_at"],
        params["scenario"],
        params["target"],
        params["started_at"] or "",
        event_at=params.get("event_at"),
    )


def run(module) -> None:
    params = module.params
    try:
        target = {} if params["rto_target"] is None else {"rto_target_seconds": params["rto_target"]}
        result = checked(dict(_result(params), **target))
        history = read_history(params["history_file"]) if params["history_file"] else []
    except DrillResultError as exc:
        module.fail_json(msg=str(exc))
    history = with_entry(history, result)
    outcome = verdict(result)
    directory, prefix = params["output_dir"], params["name"]
    files = {
        kind: os.path.join(directory, f"{prefix}.{extension}")
        for kind, extension in (("json", "json"), ("junit", "junit.xml"), ("html", "html"))
    }
    rendered = {
        "json": json.dumps(dict(result, verdict=outcome), indent=2, sort_keys=True) + "\n",
        "junit": junit_xml(result),
        "html": drill_html(result, history),
    }
    if not module.check_mode:
        try:
            os.makedirs(directory, exist_ok=True)
            for kind, path in files.items():
                write_atomically(path, rendered[kind])
            if params["history_file"]:
                write_atomically(params["history_file"], json.dumps(history, indent=1) + "\n")
        except OSError as exc:
            module.fail_json(msg=f"cannot write the drill reports in {directory}: {exc}")
    module.exit_json(changed=not module.check_mode, files=files, history_length=len(history), **outcome)
