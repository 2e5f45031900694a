# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0

from __future__ import annotations


class ModuleDocFragment:
    # Modules that wait, and whose action plugin shows their progress live.
    DOCUMENTATION = r"""
options:
  progress_file:
    description:
      - Where to append progress lines as they happen. The collection's action plugin sets it to show them live;
        there is no need to set it by hand.
    type: path
"""
