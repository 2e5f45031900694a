# -*- coding: utf-8 -*-
# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""Option groups several modules share: each is one object holding its argument spec, the constraints between its
options, and the doc fragment that documents exactly those options. A module names the fragment in its DOCUMENTATION
and the group in its argument spec; a unit test holds every group to its fragment."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class OptionGroup:
    fragment: str  # as extends_documentation_fragment names it
    spec: dict
    constraints: dict = field(default_factory=dict)


def module_arguments(*groups: OptionGroup, **options) -> dict:
    """AnsibleModule's keyword arguments for ``groups`` and the module's own ``options`` (which come last, and so may
    refine a group's option, as recovery_status_info makes ``attestation`` optional)."""
    spec, constraints = {}, {}
    for group in groups:
        spec.update(group.spec)
        for kind, rules in group.constraints.items():
            constraints.setdefault(kind, []).extend(rules)
    spec.update(options)
    return dict(argument_spec=spec, **constraints)


PROGRESS = OptionGroup("confidential.recovery.progress", dict(progress_file=dict(type="path")))
