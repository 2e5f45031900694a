# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Stopping several lab processes: as an outage takes nodes down, all of them at once."""

from __future__ import annotations

import subprocess
import sys
import threading

from conflab import processes

# Writes "term <clock>" when SIGTERM arrives, then takes half a second to shut down, like a node stopping etcd.
SLOW_TO_STOP = """
import signal, sys, time
def stop(signum, frame):
    with open(sys.argv[1], "a") as out:
        out.write(f"term {time.monotonic()}\\n")
    time.sleep(0.5)
    with open(sys.argv[1], "a") as out:
        out.write(f"exit {time.monotonic()}\\n")
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
print("ready", flush=True)
time.sleep(60)
"""


def test_every_process_is_signalled_before_the_first_one_has_stopped(tmp_path):
    journal = tmp_path / "journal.txt"
    names = [f"node-{i}" for i in range(3)]
    children = []
    for name in names:
        child = subprocess.Popen(
            [sys.executable, "-c", SLOW_TO_STOP, str(journal)],
            stdout=subprocess.PIPE,
            start_new_session=True,
            text=True,
        )
        assert child.stdout.readline().strip() == "ready"
        processes.pid_file(tmp_path, name).parent.mkdir(parents=True, exist_ok=True)
        processes.pid_file(tmp_path, name).write_text(str(child.pid))
        children.append(child)
    reapers = [threading.Thread(target=child.wait) for child in children]  # our children: no zombies left "alive"
    for reaper in reapers:
        reaper.start()

    processes.stop_many(tmp_path, names)

    for reaper in reapers:
        reaper.join(timeout=10)
    assert all(child.poll() is not None for child in children)
    assert not any(processes.pid_file(tmp_path, name).exists() for name in names)
    entries = [line.split() for line in journal.read_text().splitlines()]
    terms = [float(t) for kind, t in entries if kind == "term"]
    exits = [float(t) for kind, t in entries if kind == "exit"]
    assert len(terms) == len(exits) == 3
    assert max(terms) < min(exits)  # one after another, the first would have exited before the last was signalled
