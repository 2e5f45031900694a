# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""A recovery report as recover.yml writes it, with the times a drill reads its stages from."""

from __future__ import annotations

BROKE_AT = 1_796_440_000.0


def recovery_report(quorum=True, contrast_failed=False) -> dict:
    node = {
        "node": "cp-0",
        "outcome": "pushed",
        "timeline": [
            {"stage": "attestation", "start": 0.05, "end": 0.08, "status": "ok"},
            {"stage": "pushes", "start": 0.08, "end": 0.16, "status": "ok"},
        ],
        "attestation": {
            "variant": "azure-sev-snp",
            "measurements": {"4": "fa40da13a356ac6d" + "00" * 24},
            "platform": {"reported_tcb": {"bootloader": 3, "tee": 0, "snp": 8, "microcode": 115}},
        },
    }
    healed = {
        "node": "cp-1",
        "outcome": "self_healed",
        "timeline": [{"stage": "attestation", "start": 0.06, "end": 0.09, "status": "ok"}],
        "attestation": None,
    }
    constellation = {
        "status": "ok" if quorum else "failed",
        "started_at": BROKE_AT + 4.0,
        "push_loop_started_at": BROKE_AT + 6.5,
        "seconds_to_quorum": 1.2 if quorum else None,
        "seconds_to_all_ready": 27.0 if quorum else None,
        "keys_pushed": 1,
        "control_plane_ready": 2,
        "control_plane_total": 2,
        "nodes": [node, healed],
        "error": None if quorum else "push loop: no quorum",
    }
    contrast = {
        "stages": [
            {"stage": "recover", "status": "ok"},
            {"stage": "restart", "status": "failed" if contrast_failed else "ok", "reason": "timeout"},
            {"stage": "verify", "status": "not_run" if contrast_failed else "ok"},
        ],
        "stage_times": {
            "recover": [BROKE_AT + 31.0, BROKE_AT + 31.7],
            "restart": [BROKE_AT + 31.7, None if contrast_failed else BROKE_AT + 34.0],
            "verify": [None, None] if contrast_failed else [BROKE_AT + 34.0, BROKE_AT + 34.9],
        },
    }
    return {"constellation": constellation, "contrast": contrast}
