# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Writes replace the file in one step and never follow a link planted where the temporary file would go."""

from __future__ import annotations

import json
import os
import stat

import pytest

from ansible_collections.confidential.recovery.plugins.module_utils import _files
from ansible_collections.confidential.recovery.plugins.module_utils._drill import _reboot_plan
from ansible_collections.confidential.recovery.plugins.module_utils._evidence import _collateral_cache

# The predictable names the writers used before: a link there sent the write elsewhere.
PLANTED = {"verify": ".{name}.tmp", "plan": "{name}.tmp", "report": "{name}.partial"}


def plant_links(directory, name, victim):
    for pattern in PLANTED.values():
        os.symlink(victim, directory / pattern.format(name=name))


@pytest.mark.parametrize(
    "write",
    [
        lambda path: _files.write_atomically(str(path), b"new"),
        lambda path: _reboot_plan.write(str(path), {"schema": 1}),
        lambda path: _collateral_cache.keep(str(path.parent), path.name, b"new"),
    ],
    ids=["write_atomically", "reboot_plan", "collateral_cache"],
)
def test_a_planted_link_is_not_followed(tmp_path, write):
    victim = tmp_path / "victim"
    victim.write_text("precious")
    target = tmp_path / "out" / "file.json"
    target.parent.mkdir()
    plant_links(target.parent, target.name, victim)
    write(target)
    assert victim.read_text() == "precious"
    assert target.exists() and not target.is_symlink()
    leftovers = (
        {p.name for p in target.parent.iterdir()}
        - {target.name}
        - {pattern.format(name=target.name) for pattern in PLANTED.values()}
    )
    assert not leftovers  # no temporary file stays behind


def test_the_mode_is_what_was_asked_and_a_link_at_the_target_is_replaced_not_followed(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious")
    target = tmp_path / "key"
    os.symlink(victim, target)
    _files.write_atomically(str(target), "secret", mode=0o600)
    assert victim.read_text() == "precious"
    assert stat.S_IMODE(target.lstat().st_mode) == 0o600 and target.read_text() == "secret"


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "plan.json"
    target.write_text(json.dumps({"old": True}))

    def broken(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_files.os, "replace", broken)
    with pytest.raises(OSError):
        _files.write_atomically(str(target), b"new")
    assert json.loads(target.read_text()) == {"old": True}
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]
