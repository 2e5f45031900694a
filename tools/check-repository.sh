#!/usr/bin/env bash
# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# The repository stands alone and a build leaves it clean: no reference to material outside it, and
# (with --after-build) no tracked file changed and no untracked file left that .gitignore does not cover.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
if git grep -n -I -e '\.\./shared' -- ':!tools/check-repository.sh'; then
  echo "repository check: the lines above point outside the repository" >&2
  status=1
fi
if [ "${1:-}" = --after-build ]; then
  dirty=$(git status --porcelain)
  if [ -n "$dirty" ]; then
    echo "repository check: the build changed or left files that git sees (track them or ignore them):" >&2
    echo "$dirty" >&2
    status=1
  fi
fi
[ "$status" = 0 ] && echo "repository check: ok"
exit "$status"
