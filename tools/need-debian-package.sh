#!/usr/bin/env bash
# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# Make sure a command from a Debian package is there (shellcheck for the sanity test, say):
# install the package with apt-get when the command is missing. Usage: need-debian-package.sh COMMAND [PACKAGE]
set -euo pipefail
command=${1:?usage: need-debian-package.sh COMMAND [PACKAGE]}
package=${2:-$command}
if command -v "$command" >/dev/null; then
  exit 0
fi
sudo=()
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "$command is missing and this user cannot install $package: apt-get install $package" >&2; exit 1; }
  sudo=(sudo)
fi
echo "installing the Debian package $package (for $command)"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get install -y -q "$package" >/dev/null || {
  "${sudo[@]}" apt-get update -q >/dev/null
  "${sudo[@]}" apt-get install -y -q "$package" >/dev/null
}
command -v "$command" >/dev/null
