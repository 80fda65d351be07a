#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# What a netlink apply of every golden policy leaves in the kernel, as nft
# lists it: `nft -s list table inet T` equals tests/golden/<policy>.nft-listing.
# A policy that needs no DNS (its --literal-only compile is its fake-resolved
# one) and writes no daemon file goes through `ntpwall apply`; the others
# through `backend_rt load`, the same backend apply fed by the goldens' fake
# resolver. Normalised on both sides: element expiry (`expires ...` counts
# down), and the wrapping of set elements (nft puts two addresses on a line,
# the listing one so that its diffs read well: render_nft.c).
# Runs in a private network namespace. Usage: apply_listing.sh GOLDEN_RENDER
# BACKEND_RT   (needs root; 77 = skip)
set -u
gr=$1
rt=$2
skip() {
	if [ "${NTPWALL_REQUIRE_NETNS:-}" = 1 ]; then
		echo "FAIL: $1 (NTPWALL_REQUIRE_NETNS=1)"
		exit 1
	fi
	echo "SKIP: $1"
	exit 77
}
if [ -z "${NTPWALL_IN_NETNS:-}" ]; then
	command -v nft >/dev/null || skip "nft not installed"
	unshare -n true 2>/dev/null || skip "cannot create a network namespace"
	NTPWALL_IN_NETNS=1 exec unshare -n sh "$0" "$@"
fi
: "${NTPWALL:?}" "${SRCDIR:?}"

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() {
	echo "FAIL: $*"
	fail=1
}

# One element per line (quotes respected), expiry left out.
norm() {
	sed -E 's/ expires [0-9dhms]+//g' "$1" | awk '
	# Where the element list that s starts opens ends: its "}", or 0.
	function list_end(s,   i, c, q, d) {
		d = 1
		for (i = 1; i <= length(s); i++) {
			c = substr(s, i, 1)
			if (c == "\"")
				q = !q
			else if (!q && c == "{")
				d++
			else if (!q && c == "}" && --d == 0)
				return i
		}
		return 0
	}
	function emit(s, end,   i, c, q, cur, sep, rest) {
		rest = substr(s, end + 1)
		s = substr(s, 1, end - 1)
		sub(/[ \t]+$/, "", s)
		printf "\t\telements = { "
		for (i = 1; i <= length(s); i++) {
			c = substr(s, i, 1)
			if (c == "\"")
				q = !q
			if (!q && c == ",") {
				printf "%s%s", sep, cur
				sep = ",\n\t\t\t     "
				cur = ""
				i++	# the space after the comma
				continue
			}
			cur = cur c
		}
		printf "%s%s }%s\n", sep, cur, rest
	}
	function maybe_emit(   e) {
		e = list_end(buf)
		if (e) {
			emit(buf, e)
			inb = 0
		}
	}
	inb { line = $0; sub(/^[ \t]+/, "", line); buf = buf " " line; maybe_emit(); next }
	/^\t\telements = \{ / { inb = 1; buf = substr($0, index($0, "{") + 2); maybe_emit(); next }
	{ print }'
}

n=0
n_cli=0
for p in "$SRCDIR"/policies/*.yaml "$SRCDIR"/tests/golden/*.yaml; do
	name=$(basename "$p" .yaml)
	want=$SRCDIR/tests/golden/$name.nft-listing
	table=$(sed -n 's/^table inet \([^ ]*\) {$/\1/p' "$want")
	"$NTPWALL" compile --literal-only "$p" 2>/dev/null | grep -v '^#' > "$tmp/literal"
	"$gr" "$p" nft | grep -v '^#' > "$tmp/fake"
	if cmp -s "$tmp/literal" "$tmp/fake" && ! grep -q '^daemon:' "$p"; then
		how="ntpwall apply"
		"$NTPWALL" --state-dir "$tmp/state.$name" -q apply "$p" > "$tmp/out" 2>&1
		n_cli=$((n_cli + 1))
	else
		how="backend_rt load"
		"$rt" load "$p" > "$tmp/out" 2>&1
	fi || { bad "$name: $how failed"; cat "$tmp/out"; continue; }
	nft -s list table inet "$table" > "$tmp/live" || { bad "$name: no table $table"; continue; }
	norm "$want" > "$tmp/want"
	norm "$tmp/live" > "$tmp/got"
	diff -u "$tmp/want" "$tmp/got" || bad "$name ($how): nft lists other than $want"
	nft delete table inet "$table" || bad "$name: delete"
	n=$((n + 1))
done
[ $n -ge 7 ] || bad "only $n policies applied"
[ $n_cli -ge 2 ] || bad "only $n_cli policies through ntpwall apply"
[ $fail = 0 ] && echo "apply-listing: $n policies ($n_cli by ntpwall apply) list as their golden"
exit $fail
