#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The key backend test: a hand-built IR using every match type, statement
# and verdict is applied through netlink and read back equal
# (ir_ruleset_equal); a stale genid is refused with ERESTART; 100,000
# elements go in one batch and come back. Runs in a private namespace.
# Usage: backend_rt.sh PATH-TO-backend_rt
set -u
rt=$1
if [ -z "${BACKEND_IN_NETNS:-}" ]; then
	if ! unshare -n true 2>/dev/null; then
		echo "backend_rt.sh: cannot create a network namespace"
		[ "${NTPWALL_REQUIRE_NETNS:-0}" = 1 ] && exit 1
		exit 77
	fi
	BACKEND_IN_NETNS=1 exec unshare -n sh "$0" "$@"
fi
fails=0
"$rt" roundtrip || { echo "FAIL: round trip"; fails=$((fails + 1)); }
[ "$("$rt" stale t_stale)" = ERESTART ] || { echo "FAIL: stale genid not refused"; fails=$((fails + 1)); }
nft list table inet t_stale >/dev/null 2>&1 && { echo "FAIL: stale batch applied"; fails=$((fails + 1)); }
err=$("$rt" overlap t_overlap 2>&1) && echo "$err" | grep -q 'set clients4 element 198\.51\.100\.64' ||
	{ echo "FAIL: rejected element not named: $err"; fails=$((fails + 1)); }
nft list table inet t_overlap >/dev/null 2>&1 && { echo "FAIL: rejected batch applied"; fails=$((fails + 1)); }
"$rt" apply big 100000 || { echo "FAIL: 100k apply"; fails=$((fails + 1)); }
out=$("$rt" read big)
[ "$out" = "sets 5 elems 100006 rules 11" ] || { echo "FAIL: 100k read: $out"; fails=$((fails + 1)); }
[ "$(nft list set inet big upstreams4 | grep -o '198\.1[89]\.' | wc -l)" = 100000 ] ||
	{ echo "FAIL: nft does not list 100000 elements"; fails=$((fails + 1)); }
[ $fails = 0 ] && echo "backend round trip: ok"
[ $fails = 0 ]
