# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""The cluster_watch event source's loop: its settings, the inventory, and one look per cluster when it is due.

Every wait is bounded: a look's calls by ``timeout``, the inventory by ``inventory_timeout``, the pause between
looks by the schedule of _state.next_delay, and the whole watch by ``max_looks`` when it is set.
"""

from __future__ import annotations

import asyncio
import logging
import random
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ._clusters import InventoryError, clusters_from_inventory
from ._state import ClusterWatch, next_delay

LOG = logging.getLogger("confidential.recovery.cluster_watch")


class SettingsError(ValueError):
    """An option of the event source is wrong; the message names it."""


def _number(args: dict, name: str, default: float, low: float, high: float) -> float:
    value = args.get(name, default)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise SettingsError(f"cluster_watch: {name} must be a number of seconds, got {value!r}") from None
    if not low <= number <= high:
        raise SettingsError(f"cluster_watch: {name} must be between {low:g} and {high:g}, got {number:g}")
    return number


@dataclass(frozen=True)
class Settings:
    inventory: tuple
    interval: float = 10.0
    jitter: float = 0.2
    timeout: float = 5.0
    max_backoff: float = 300.0
    repeat_after: float = 300.0
    inventory_timeout: float = 120.0
    watch_contrast: bool | None = None
    max_looks: int = 0

    @classmethod
    def from_args(cls, args: dict) -> Settings:
        if not isinstance(args, dict):
            raise SettingsError("cluster_watch: its options must be a mapping")
        known = set(cls.__dataclass_fields__) | {"eda_feedback_queue"}
        unknown = sorted(set(args) - known)
        if unknown:
            raise SettingsError(f"cluster_watch: unknown options: {', '.join(map(str, unknown))}")
        inventory = args.get("inventory")
        sources = [inventory] if isinstance(inventory, str) else inventory
        if not sources or not all(isinstance(s, str) and s for s in sources):
            raise SettingsError("cluster_watch: inventory (a path, or a list of paths) is required")
        interval = _number(args, "interval", 10.0, 0.5, 3600)
        max_backoff = _number(args, "max_backoff", 300.0, interval, 86400)
        watch_contrast = args.get("watch_contrast")
        if watch_contrast is not None and not isinstance(watch_contrast, bool):
            raise SettingsError("cluster_watch: watch_contrast must be true or false")
        max_looks = args.get("max_looks", 0)
        if not isinstance(max_looks, int) or isinstance(max_looks, bool) or max_looks < 0:
            raise SettingsError("cluster_watch: max_looks must be a whole number, 0 for no limit")
        return cls(
            inventory=tuple(sources),
            interval=interval,
            jitter=_number(args, "jitter", 0.2, 0.0, 0.9),
            timeout=_number(args, "timeout", 5.0, 0.5, 300),
            max_backoff=max_backoff,
            repeat_after=_number(args, "repeat_after", 300.0, 1, 86400),
            inventory_timeout=_number(args, "inventory_timeout", 120.0, 1, 3600),
            watch_contrast=watch_contrast,
            max_looks=max_looks,
        )


def read_inventory(settings: Settings) -> str:
    """``ansible-inventory --list`` of the sources, as the playbook would see them (same plugins, same config)."""
    beside = Path(sys.executable).parent / "ansible-inventory"
    program = str(beside) if beside.exists() else shutil.which("ansible-inventory")
    if not program:
        raise InventoryError("ansible-inventory is not installed beside ansible-rulebook")
    command = [program, "--list"]
    for source in settings.inventory:
        command += ["-i", source]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=settings.inventory_timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise InventoryError(f"ansible-inventory did not finish within {settings.inventory_timeout:g} s") from exc
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1][:300]
        raise InventoryError(f"ansible-inventory failed (rc {done.returncode}): {last}")
    return done.stdout


async def run_watch(
    queue, args: dict, eyes_for=None, inventory_reader=read_inventory, clock=time.time, sleep=asyncio.sleep, rng=None
):
    """Watch until ``max_looks`` looks per cluster (0: until the rulebook stops). ``eyes_for(cluster, timeout)``
    builds a cluster's readers (by default _look.ClusterEyes); tests give their own, and their own clock and sleep."""
    settings = Settings.from_args(args)
    if eyes_for is None:
        from ._look import ClusterEyes

        eyes_for = ClusterEyes
    clusters = clusters_from_inventory(
        await asyncio.to_thread(inventory_reader, settings), watch_contrast=settings.watch_contrast
    )
    eyes = {cluster.name: eyes_for(cluster, settings.timeout) for cluster in clusters}
    for name, reader in eyes.items():
        for warning in getattr(reader, "warnings", []):
            LOG.warning("cluster %s: %s", name, warning)
    watches = {name: ClusterWatch(name, settings.repeat_after) for name in eyes}
    rng = rng or random.Random()
    due = dict.fromkeys(eyes, 0.0)
    looks = dict.fromkeys(eyes, 0)
    LOG.info("watching %s every %g s", ", ".join(eyes), settings.interval)
    while True:
        now = clock()
        ready = [name for name, at in due.items() if at <= now and _more(looks[name], settings)]
        if not ready and not any(_more(count, settings) for count in looks.values()):
            return
        started = clock()
        results = await asyncio.gather(*(asyncio.to_thread(eyes[name].look) for name in ready))
        for name, look in zip(ready, results, strict=True):
            looks[name] += 1
            events = watches[name].update(look, clock())
            LOG.debug("cluster %s: look %d: %s", name, looks[name], watches[name].state)
            for event in events:
                body = event["confidential_recovery"]
                LOG.info("cluster %s: %s: %s", name, body["type"], body["why"])
                await queue.put(event)
            # From the start of this look: a slow answer (an API whose etcd check times out) does not stretch the
            # time between looks; a look that took longer than the pause is followed at once.
            delay = next_delay(settings.interval, settings.jitter, watches[name].refusals, settings.max_backoff, rng)
            due[name] = started + delay
        pending = [at for name, at in due.items() if _more(looks[name], settings)]
        if pending:
            await sleep(max(0.0, min(pending) - clock()))


def _more(count: int, settings: Settings) -> bool:
    return settings.max_looks == 0 or count < settings.max_looks
