#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Every nft rendering loads (nft -c, then nft -f twice: a reload must work)
# in a private network namespace, and the kernel lists back exactly the rules
# of the rendered listing (counters aside), with every set and chain, and
# ntpwall reads the loaded table back equal to the compiled IR (nft merges
# and reorders what it loads; drift detection must not see that as drift).
# Every iptables/ip6tables rendering passes --test and a real load.
# Usage: compile_load.sh GOLDEN_RENDER BACKEND_RT   (needs root; 77 = skip)
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

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() {
	echo "FAIL: $*"
	fail=1
}

# The rule lines of a table listing, counters and expiry left out.
rules() {
	sed -e 's/counter packets [0-9]* bytes [0-9]*/counter/' "$1" |
		grep -E '^		[^	]' | grep -vE '^		(type|flags|size|timeout|elements) '
}

check_nft() {
	p=$1 name=$2 script=$3 listing=$4
	table=$(sed -n 's/^table inet \([^ ]*\) {$/\1/p' "$listing")
	nft -c -f "$script" || { bad "$name: nft -c"; return; }
	nft -f "$script" || { bad "$name: nft -f"; return; }
	nft -f "$script" || { bad "$name: reload"; return; }
	nft list table inet "$table" > "$tmp/kernel" || { bad "$name: list"; return; }
	rules "$listing" > "$tmp/want.rules"
	rules "$tmp/kernel" > "$tmp/got.rules"
	diff -u "$tmp/want.rules" "$tmp/got.rules" || bad "$name: kernel rules differ from the listing"
	for obj in $(sed -n 's/^	\(set\|chain\) \([^ ]*\) {$/\1:\2/p' "$listing"); do
		grep -q "^	${obj%%:*} ${obj#*:} {" "$tmp/kernel" || bad "$name: $obj missing"
	done
	"$rt" same "$p" > "$tmp/same" 2>&1 || { bad "$name: read back differs from the compiled IR"; cat "$tmp/same"; }
	grep -q '^	chain input {' "$tmp/kernel" || bad "$name: no input chain"
	grep -q '^	chain output {' "$tmp/kernel" || bad "$name: no output chain"
	# Elements: every rendered element is in the kernel's listing.
	for e in $(sed -n 's/^		\(elements = { \|	     \)\([0-9a-f.:/]*\).*/\2/p' "$listing"); do
		grep -qF "$e" "$tmp/kernel" || bad "$name: element $e missing"
	done
	nft delete table inet "$table" || bad "$name: delete"
}

check_ipt() {
	name=$1 tool=$2 file=$3
	"$tool-legacy-restore" --test --noflush < "$file" || { bad "$name: $tool --test"; return; }
	"$tool-legacy-restore" --noflush < "$file" || { bad "$name: $tool load"; return; }
	"$tool-legacy-save" > "$tmp/saved"
	grep -c '^-A' "$file" > "$tmp/n.want"
	want=$(cat "$tmp/n.want")
	got=$(grep -c '^-A' "$tmp/saved")
	[ "$got" -ge "$want" ] || bad "$name: $tool has $got rules, rendered $want"
	grep -q -- '-j [A-Za-z0-9_-]*-IN$' "$tmp/saved" || bad "$name: $tool: no jump to -IN"
}

n=0
for p in "$SRCDIR"/policies/*.yaml "$SRCDIR"/tests/golden/*.yaml; do
	name=$(basename "$p" .yaml)
	"$gr" "$p" nft > "$tmp/s.nft" && "$gr" "$p" nft-listing > "$tmp/l.nft" ||
		{ bad "$name: render"; continue; }
	check_nft "$p" "$name" "$tmp/s.nft" "$tmp/l.nft"
	"$gr" "$p" iptables > "$tmp/i4" && check_ipt "$name" iptables "$tmp/i4"
	"$gr" "$p" ip6tables > "$tmp/i6" && check_ipt "$name" ip6tables "$tmp/i6"
	n=$((n + 1))
done

# The CLI renders the same script (no DNS with --literal-only) and it loads.
"$NTPWALL" compile --literal-only "$SRCDIR/policies/demo-literal.yaml" > "$tmp/cli.nft" ||
	bad "ntpwall compile failed"
nft -f "$tmp/cli.nft" && nft -f "$tmp/cli.nft" || bad "ntpwall compile output does not load"
nft list table inet ntpwall_demo | grep -q 'egress-upstreams4' || bad "cli table incomplete"
# Loading touches nothing but our table: another table survives.
nft add table inet bystander && nft -f "$tmp/cli.nft" && nft list table inet bystander >/dev/null ||
	bad "loading removed another table"

# Big sets load too (the kernel splits nothing for us: nft -f does).
[ $n -ge 5 ] || bad "only $n policies"
[ $fail = 0 ] && echo "compile-load: $n policies loaded and listed back"
exit $fail
