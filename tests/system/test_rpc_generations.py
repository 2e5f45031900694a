# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Older clusters: the v2.0-v2.4 stream (auto-detected) and the pre-v2.0 key service with disk UUIDs from the cloud log."""

from __future__ import annotations

import pytest
from labdriver import start_lab
from reporting import assert_every_control_plane_node_recovered


@pytest.mark.parametrize(
    ("protocol", "prefix", "extra_vars"),
    [
        ("stream", "127.20.1", []),
        (
            "stream-v2.0",
            "127.20.2",
            ["-e", "constellation_recover_port=9000", "-e", "constellation_recover_protocol=auto"],
        ),
        ("keyservice", "127.20.3", ["-e", "constellation_recover_protocol=keyservice"]),
    ],
)
def test_recover_older_generations(tmp_path_factory, collection_installed, protocol, prefix, extra_vars):
    lab = start_lab(tmp_path_factory, f"lab-{protocol}", prefix, 3, "--protocol", protocol, "--no-contrast")
    try:
        lab.break_control_plane()

        run = lab.run(*extra_vars)

        assert run.rc == 0, run.output[-4000:]
        summary = run.report["constellation"]
        assert summary["quorum"] is True and summary["all_ready"] is True
        pushed = assert_every_control_plane_node_recovered(summary)  # the default pushes every waiting node
        assert all(n["disk_uuid"] for n in pushed), pushed
        assert set(lab.control_plane_states().values()) == {"unlocked"}
    finally:
        lab.down()
