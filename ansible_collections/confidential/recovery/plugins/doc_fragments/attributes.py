# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0

from __future__ import annotations


class ModuleDocFragment:
    # What each attribute means; every module of the collection uses this fragment.
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run with C(--check), where it reports what it would change and changes nothing.
  diff_mode:
    description: Reports, with C(--diff), what it changed or would change.
  platform:
    description: Where the module runs.
"""

    # The modules talk to the cluster from the controller (or a jump host), never from the nodes.
    CONTROLLER = r"""
options: {}
attributes:
  platform:
    support: full
    platforms: posix
    details: Runs on the controller or a jump host that reaches the cluster network (C(connection=local)).
"""

    # Modules that only look.
    READ_ONLY = r"""
options: {}
attributes:
  check_mode:
    support: full
    details: It only reads, so check mode runs it unchanged.
  diff_mode:
    support: N/A
    details: It changes nothing.
"""
