#!/usr/bin/python
# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0

from __future__ import annotations

DOCUMENTATION = r"""
module: recovery_lock
short_description: Make sure only one recovery run works on a cluster at a time
version_added: 0.2.0
description:
  - Creates a lock file in the workspace that names the running C(ansible-playbook) (run ID, pid, host, user, start).
  - A second run finds the file and waits up to O(wait) seconds, then stops with a message that names the holder,
    so that two runs never push keys side by side or count each other's pushes as self-healing.
  - A lock whose holder died on this host (Ctrl-C, a killed job) is taken over with a warning.
  - Runs on the controller (an action plugin); nothing is sent to any host.
  - Never reports C(changed), neither when it takes the lock nor when it releases it. The lock is the run's own
    bookkeeping, not a change to the cluster, so a run that had nothing to recover stays at C(changed=0).
author: confidential.recovery maintainers (@confidential-recovery)
extends_documentation_fragment:
  - confidential.recovery.attributes
  - confidential.recovery.attributes.controller
options:
  path:
    description: The lock file, normally C(.confidential-recovery.lock) in the Constellation or Contrast workspace.
    type: path
    required: true
  state:
    description: V(present) takes the lock; V(absent) releases it if O(run_id) still holds it.
    type: str
    choices: [present, absent]
    default: present
  run_id:
    description: The C(run_id) that O(state=present) returned; required to release.
    type: str
  wait:
    description: Seconds to wait for another run to finish before giving up.
    type: float
    default: 0
attributes:
  check_mode:
    support: full
    details: The lock is still taken, so a dry run never probes while another run pushes.
  diff_mode:
    support: none
  action:
    description: Runs as an action plugin on the controller.
    support: full
seealso:
  - module: confidential.recovery.quorum_recover
"""

EXAMPLES = r"""
- name: Take the recovery lock
  confidential.recovery.recovery_lock:
    path: "{{ workspace }}/.confidential-recovery.lock"
    wait: 60
  register: lock

- name: Release it
  confidential.recovery.recovery_lock:
    path: "{{ workspace }}/.confidential-recovery.lock"
    state: absent
    run_id: "{{ lock.run_id }}"
"""

RETURN = r"""
run_id:
  description: Identifies this run's hold on the lock.
  returned: O(state=present)
  type: str
  sample: 3f2a9c1b7d4e
took_over:
  description: The holder of a stale lock that was taken over, or null.
  returned: O(state=present)
  type: dict
  contains:
    run_id:
      description: The run ID of the run that held the lock.
      type: str
    pid:
      description: Its C(ansible-playbook) process ID.
      type: int
    host:
      description: The host it ran on.
      type: str
    user:
      description: The user who ran it.
      type: str
    started_at:
      description: When it took the lock (UTC, ISO 8601).
      type: str
  sample: {run_id: 9c1e0b2a4f6d, pid: 41872, host: jump-1, user: sre, started_at: "2026-11-25T03:12:09Z"}
released:
  description: Whether the lock was released.
  returned: O(state=absent)
  type: bool
  sample: true
holder:
  description: This run's entry in the lock file (the same fields as RV(took_over)).
  returned: O(state=present)
  type: dict
  sample: {run_id: 3f2a9c1b7d4e, pid: 52113, host: jump-1, user: sre, started_at: "2026-11-25T03:20:41Z"}
path:
  description: The lock file.
  returned: always
  type: str
  sample: /home/sre/mycluster/.confidential-recovery.lock
"""
