#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The npm tools of the CI tests, pinned, installed once into a cache
# directory outside the build (so a fresh clone and build reuse them and a
# CI run needs the npm registry only the first time). Prints the directory.
#   npm_tools.sh [DIR]
# DIR defaults to $NTPWALL_NPM_TOOLS, else ~/.cache/ntpwall/npm-tools.
# contrib/bootstrap runs it; tests/ci/validate.sh runs it again (a no-op
# once installed) and fails when npm cannot install the tools.
set -eu
# @action-validator/cli takes its core as a peer dependency: pin both.
# (chalk, its only other dependency, it pins itself.)
pins="@action-validator/cli@0.6.0 @action-validator/core@0.6.0"
dir=${1:-${NTPWALL_NPM_TOOLS:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/ntpwall/npm-tools}}

if [ -x "$dir/node_modules/.bin/action-validator" ] &&
   [ "$(cat "$dir/.ntpwall-pins" 2>/dev/null)" = "$pins" ]; then
	echo "$dir"
	exit 0
fi
command -v npm >/dev/null || { echo "npm_tools: npm is not installed (contrib/bootstrap installs it)" >&2; exit 1; }
mkdir -p "$dir"
rm -f "$dir/.ntpwall-pins"
# shellcheck disable=SC2086
npm install --prefix "$dir" --no-audit --no-fund --no-update-notifier --loglevel=error \
	--save-exact $pins >&2
printf '%s\n' "$pins" >"$dir/.ntpwall-pins"
echo "$dir"
