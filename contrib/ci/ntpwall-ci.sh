#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# ntpwall on a CI runner: built from this source tree with only its build
# dependencies (no test framework), then lint. action.yml (GitHub) and
# contrib/ci/gitlab-lint.yml run these steps; tests/ci/ runs them here.
#
#   ntpwall-ci.sh deps        install the missing build dependencies from the
#                             distribution (Debian 12; Ubuntu 24.04 untested):
#                             dpkg-query first, apt-get only for what is
#                             missing, through sudo when not root
#   ntpwall-ci.sh build DIR   configure (-Dtests=false, release) and build
#                             into DIR; adds DIR to $GITHUB_PATH when set
#   ntpwall-ci.sh github      lint with GitHub annotations, and SARIF when
#                             asked; exits with lint's status
#
# The environment of `github`:
#   NTPWALL           the binary (default: ntpwall on PATH)
#   NTPWALL_POLICIES  policy files, directories or bash globs (** recurses),
#                     separated by blanks (default: policies/*.yaml); a
#                     pattern that matches nothing is an error
#   NTPWALL_STRICT    true: fail on warnings too (default false)
#   NTPWALL_SARIF     path of a SARIF file to write; empty: none
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# The same names on Debian 12 and Ubuntu 24.04.
build_deps=(meson ninja-build pkg-config gcc libyaml-dev libnftnl-dev libmnl-dev
	libip4tc-dev libip6tc-dev libxtables-dev libc-ares-dev libjansson-dev)

say() {
	echo "ntpwall-ci: $*"
}

# An error as a GitHub annotation (plain text elsewhere), exit 2 as lint's.
die() {
	if [ -n "${GITHUB_ACTIONS:-}" ]; then
		echo "::error title=ntpwall::$*"
	else
		echo "ntpwall-ci: $*" >&2
	fi
	exit 2
}

cmd_deps() {
	local missing=() p sudo=()

	for p in "${build_deps[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	if ((${#missing[@]} == 0)); then
		say "build dependencies present: ${build_deps[*]}"
		return 0
	fi
	say "installing: ${missing[*]}"
	[ "$(id -u)" -eq 0 ] || sudo=(sudo)
	"${sudo[@]}" apt-get update -qq
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

cmd_build() {
	local dir=${1:?usage: ntpwall-ci.sh build DIR}

	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" "$src" -Dtests=false --buildtype=release
	fi
	ninja -C "$dir"
	"$dir/ntpwall" --version
	if [ -n "${GITHUB_PATH:-}" ]; then
		echo "$dir" >>"$GITHUB_PATH"
	fi
}

cmd_github() {
	local ntpwall=${NTPWALL:-ntpwall} patterns=() files=() matches=() strict=() p rc

	case ${NTPWALL_STRICT:-false} in
	true) strict=(--strict) ;;
	false | '') ;;
	*) die "strict must be true or false, not '${NTPWALL_STRICT}'" ;;
	esac
	# Split on blanks without globbing, then glob each pattern alone, so
	# that one which matches nothing is named.
	set -f
	# shellcheck disable=SC2206
	patterns=(${NTPWALL_POLICIES:-policies/*.yaml})
	set +f
	((${#patterns[@]})) || die "no policies given"
	shopt -s nullglob globstar
	for p in "${patterns[@]}"; do
		# shellcheck disable=SC2206
		matches=($p)
		if ((${#matches[@]} == 0)) || [ ! -e "${matches[0]}" ]; then
			die "no policy file matches '$p'"
		fi
		files+=("${matches[@]}")
	done
	shopt -u nullglob globstar
	if [ -n "${NTPWALL_SARIF:-}" ]; then
		# Findings (1) and unreadable files (2) still give a full log.
		rc=0
		"$ntpwall" lint --format sarif "${files[@]}" >"$NTPWALL_SARIF" || rc=$?
		[ "$rc" -le 2 ] || die "lint --format sarif failed (exit $rc)"
	fi
	exec "$ntpwall" lint --format github "${strict[@]}" "${files[@]}"
}

case ${1:-} in
deps) cmd_deps ;;
build) shift; cmd_build "$@" ;;
github) cmd_github ;;
*)
	echo "usage: ntpwall-ci.sh deps | build DIR | github" >&2
	exit 2
	;;
esac
