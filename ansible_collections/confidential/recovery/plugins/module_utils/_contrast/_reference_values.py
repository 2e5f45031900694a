# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""Contrast's rules for the manifest's reference values: any one entry may accept the evidence, and the Coordinator's
policy hash is always compared."""

from __future__ import annotations

# The Coordinator is told from the workloads by its policy hash (SNP HOST_DATA, TDX MRCONFIGID); a validator without
# one to compare would accept any pod VM of the deployment, and refuses instead.
NO_POLICY_HASH = "no Coordinator policy hash to compare the evidence with: refusing to accept any Coordinator"


def require_an_accepting_entry(entries: list, accept, error, what: str) -> None:
    """Contrast's any-of rule: ``accept(entry)`` must hold for one of the manifest's reference-value ``entries``;
    otherwise ``error`` names every entry's reason."""
    if not entries:
        raise error(f"the manifest has no ReferenceValues.{what} entry")
    reasons = []
    if not isinstance(entries, list):
        raise error(f"the manifest's ReferenceValues.{what} is not a list")
    for position, entry in enumerate(entries):
        if not isinstance(entry, dict):
            reasons.append(f"entry {position}: not a JSON object")
            continue
        try:
            accept(entry)
            return
        except error as exc:
            reasons.append(f"entry {position}: {exc}")
        except (TypeError, ValueError, KeyError, AttributeError, OverflowError) as exc:
            # A value of the wrong JSON type somewhere in the entry: that entry cannot accept anything.
            reasons.append(f"entry {position} is malformed ({type(exc).__name__}: {str(exc)[:120]})")
    raise error(f"no ReferenceValues.{what} entry accepts the evidence: " + "; ".join(reasons))
