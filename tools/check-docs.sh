#!/usr/bin/env bash
# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# Every plugin and role renders with ansible-doc, and antsibull-docs accepts the collection's docs.
# Runs against the installed copy (make collection), as users get it.
set -euo pipefail
collection=${1:?usage: check-docs.sh <path of the installed ansible_collections/confidential/recovery>}
cd "$collection"
status=0
for module in plugins/modules/*.py; do
  name=$(basename "$module" .py)
  ansible-doc "confidential.recovery.$name" >/dev/null || { echo "ansible-doc failed: module $name" >&2; status=1; }
done
for inventory in plugins/inventory/*.py; do
  name=$(basename "$inventory" .py)
  ansible-doc -t inventory "confidential.recovery.$name" >/dev/null || { echo "ansible-doc failed: inventory $name" >&2; status=1; }
done
for role in roles/*/; do
  name=$(basename "$role")
  ansible-doc -t role "confidential.recovery.$name" >/dev/null || { echo "ansible-doc failed: role $name" >&2; status=1; }
done
antsibull-docs lint-collection-docs --plugin-docs --validate-collection-refs=all . || status=1
[ "$status" = 0 ] && echo "docs check: every module, inventory plugin and role renders; antsibull-docs lint passed"
exit "$status"
