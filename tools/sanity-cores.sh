#!/usr/bin/env bash
# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# ansible-test sanity on the supported ansible-core releases other than the main venv's, each in a venv of its own
# (.venv-core-<release>) with its own ignore file (tests/sanity/ignore-<release>.txt).
#   tools/sanity-cores.sh 2.18 2.20
# ansible-core 2.20 runs on Python 3.12 or newer only: the script takes the newest python3.12..3.14 it finds on PATH
# or under pyenv. Without one, that release is reported as SKIPPED (and why), not as passed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
collection=ansible_collections/confidential/recovery
uv=$root/.venv/bin/uv
status=0

python_for() {
  local release=$1 minor candidate
  if [ "${release#2.}" -lt 20 ]; then
    command -v python3.11 || command -v python3
    return
  fi
  for minor in 14 13 12; do
    for candidate in "$(command -v "python3.$minor" || true)" "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3."$minor".*/bin/python3; do
      if [ -n "$candidate" ] && [ -x "$candidate" ] && "$candidate" -c 'import ssl, venv' 2>/dev/null; then
        echo "$candidate"
        return
      fi
    done
  done
}

for release in "$@"; do
  python=$(python_for "$release" || true)
  if [ -z "$python" ]; then
    echo "SKIPPED sanity on ansible-core $release: it needs Python 3.12 or newer, and none was found on PATH or under pyenv"
    continue
  fi
  venv=.venv-core-$release
  version=$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
  if [ ! -x "$venv/bin/ansible-test" ]; then
    "$uv" venv --quiet --python "$python" "$venv"
    "$uv" pip install --quiet --python "$venv/bin/python" "ansible-core==$release.*"
  fi
  echo "== ansible-test sanity, $("$venv/bin/ansible" --version | head -n 1), Python $version"
  # ansible-test's pip bootstrap, per pip version: the offline stand-in (Makefile, sanity-bootstrap).
  pip_version=$("$venv/bin/python" - <<'PY'
import inspect, re
from ansible_test._internal import python_requirements
print(re.search(r"pip='([0-9.]+)'", inspect.getsource(python_requirements.get_venv_packages)).group(1))
PY
)
  mkdir -p "$HOME/.ansible/test/cache"
  cp tools/ansible-test-get-pip.py "$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
  if (cd "$collection" && PATH="$root/$venv/bin:$PATH" ansible-test sanity --venv --python "$version" --color no); then
    echo "== sanity on ansible-core $release: passed"
  else
    echo "== sanity on ansible-core $release: FAILED"
    status=1
  fi
done
exit "$status"
