#!/usr/bin/env bash
# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# A change to the collection comes with a changelog fragment: the commits in RANGE (default: the last
# commit) that touch plugins/, roles/, playbooks/ or meta/ must also add or edit changelogs/fragments/.
set -euo pipefail
cd "$(dirname "$0")/../ansible_collections/confidential/recovery"
range=${1:-HEAD~1..HEAD}
if ! git rev-parse --verify --quiet "${range%%..*}" >/dev/null; then
  echo "changelog check: no base for $range (a first commit); nothing to compare"
  exit 0
fi
touched=$(git diff --name-only "$range" -- plugins roles playbooks meta)
fragments=$(git diff --name-only --diff-filter=AM "$range" -- changelogs/fragments)
if [ -n "$touched" ] && [ -z "$fragments" ]; then
  echo "changelog check: $range changes the collection but adds no changelogs/fragments/*.yml:" >&2
  while IFS= read -r path; do echo "  $path"; done <<<"$touched" >&2
  exit 1
fi
echo "changelog check: ok for $range"
