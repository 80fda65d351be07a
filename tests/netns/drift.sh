#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Drift that switches the wall off must read as drift: after a real
# `ntpwall apply`, the table is tampered with the way an operator or a
# script would (nft commands, or its own listing edited and loaded back
# with nft -f), and for each tampering `ntpwall diff` exits 1 and shows it,
# `ntpwall status` says drifted, and `ntpwall apply` repairs it. First, the
# listing loaded back unedited must read as in sync (nft merges and
# re-encodes what it loads; that is not drift). The kernel's layout of the
# rules (dispatch gotos, mode chains) changed by hand is drift too. Runs in a private network
# namespace (re-executes itself under `unshare -n`); exit 77 without one.
# Usage: drift.sh   (env: NTPWALL)
set -u
# shellcheck source=tests/netns/lib.sh
. "$SRCDIR/tests/netns/lib.sh"

if [ -z "${DRIFT_IN_NETNS:-}" ]; then
	if ! unshare -n true 2>/dev/null || ! command -v nft >/dev/null; then
		echo "drift.sh: cannot create a network namespace (or no nft)"
		[ "${NTPWALL_REQUIRE_NETNS:-0}" = 1 ] && exit 1
		exit 77
	fi
	DRIFT_IN_NETNS=1 exec unshare -n bash "$0" "$@"
fi

: "${NTPWALL:?}"
T=$(mktemp -d /tmp/ntpwall-drift.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT
S=$T/state
P=$T/p.yaml
TABLE=ntpwall_d
live() { nft list table inet "$TABLE"; }

# No interfaces (so the loopback exemption is there), a peer (sport+dport,
# which nft merges), and a per-source rate limit (the meter).
cat >"$P" <<EOF
version: 1
table: $TABLE
upstreams: [{server: 192.0.2.1}, {server: 192.0.2.2}, {server: 192.0.2.3}, {server: "2001:db8::1"}]
peers: [198.51.100.8]
serve: {clients: [198.51.100.0/24], rate_limit: {per_source: 8/second, burst: 16}}
EOF

# The table replaced by its own listing edited with sed expression $1.
reload() {
	live >"$T/list.nft" || { fail "list before: $1"; return 1; }
	sed "$1" "$T/list.nft" >"$T/edit.nft"
	[ -n "${2:-}" ] || ! cmp -s "$T/list.nft" "$T/edit.nft" || { fail "sed '$1' changed nothing"; return 1; }
	nft delete table inet "$TABLE" && nft -f "$T/edit.nft" || { fail "nft -f of: $1"; return 1; }
}

# After a tampering called $1: diff exits 1 and its output matches the
# extended regex $2; status says drifted; apply repairs it (diff exits 0)
# and the live listing no longer matches the regex $3.
expect_drift() {
	local rc before=$fails
	nw diff "$P" >"$T/diff" 2>&1; rc=$?
	[ $rc = 1 ] || fail "$1: diff exits $rc, not 1: $(cat "$T/diff")"
	grep -Eq -- "$2" "$T/diff" || fail "$1: diff does not show /$2/: $(cat "$T/diff")"
	nw status >"$T/status" 2>&1
	grep -q "^table inet $TABLE: drifted$" "$T/status" || fail "$1: status: $(head -2 "$T/status")"
	nw apply "$P" >"$T/apply" 2>&1 || fail "$1: apply: $(cat "$T/apply")"
	nw diff "$P" >"$T/diff2" 2>&1 || fail "$1: diff after apply: $(cat "$T/diff2")"
	! live | grep -Eq -- "$3" || fail "$1: apply left /$3/ in place"
	[ $fails = "$before" ] && ok "$1"
}

ip link set lo up
nw apply "$P" >"$T/out" 2>&1 || { cat "$T/out"; exit 1; }
reload 's/^//' same
out=$(nw diff "$P" 2>&1) || fail "unedited listing loaded back reads as drift: $out"
ok "the table's own listing, loaded back by nft -f, is in sync"

# (a) A dormant table is there, but its hooks are not: it filters nothing.
# A datagram to port 123 of an address that is no upstream is dropped on
# the way out (sendto gets EPERM) while the wall is up, and goes out while
# it sleeps.
ip link add nw0 type veth peer name nw1 && ip link set nw1 up &&
	ip addr add 203.0.113.100/24 dev nw0 && ip link set nw0 up || fail "veth"
send() { { printf x >/dev/udp/203.0.113.5/123; } 2>/dev/null; }
send && fail "the wall lets a datagram to 203.0.113.5:123 out"
nft add table inet "$TABLE" '{ flags dormant; }' || fail "nft: flags dormant"
send || fail "the datagram is still dropped while the table is dormant"
expect_drift "table flags dormant" '^-[[:space:]]flags dormant$' 'flags dormant'
send && fail "after the repair the datagram still goes out"

# (b) The input chain made again as a nat chain with the same hook,
# priority and rules (the kernel takes priority filter for an inet nat
# chain on input): it sees only the first packet of a connection.
reload '/chain input {/,/}/s/type filter hook input/type nat hook input/' &&
	expect_drift "input chain of type nat" '^-[[:space:]]+type nat hook input priority filter;' 'type nat'

# (c) The loopback exemption widened to every interface whose name starts
# with "lo" (nft: a compare of 2 bytes instead of the padded 16).
reload 's/iifname "lo" /iifname "lo*" /' &&
	expect_drift 'iifname "lo" made the wildcard "lo*"' '^-.*iifname.*comment "loopback-dport"' 'iifname "lo\*"'

# (d) A timeout in the meter's update: each source's entry, and with it
# its rate, expires on another schedule than the set's.
reload 's/update @rl4 { ip saddr limit/update @rl4 { ip saddr timeout 10s limit/' &&
	expect_drift "a timeout in the rate-limit update" '^-.*dynset.*timeout 10000ms.*comment "serve-clients4"' 'timeout 10s limit'

# (e) Sets made again with another size, policy or gc interval.
reload '/set rl4 {/,/}/s/size [0-9]*/size 17/' &&
	expect_drift "the meter's size" '^-[[:space:]]+size 17$' 'size 17$'
reload '/set upstreams4 {/,/}/s/type ipv4_addr/type ipv4_addr; policy memory/' &&
	expect_drift "a set's policy" '^-[[:space:]]+policy memory$' 'policy memory'
reload '/set rl4 {/,/}/s/type ipv4_addr/type ipv4_addr; gc-interval 1h/' &&
	expect_drift "the meter's gc interval" '^-[[:space:]]+gc-interval 1h$' 'gc-interval'

# (f) A base chain's priority or policy changed: another order against
# other tables' chains, or everything else on the hook dropped.
reload '/chain input {/,/}/s/priority filter;/priority 10;/' &&
	expect_drift "the input chain's priority" '^-[[:space:]]+type filter hook input priority 10;' 'priority 10;'
reload '/chain output {/,/}/s/policy accept;/policy drop;/' &&
	expect_drift "the output chain's policy" '^-[[:space:]]+type filter hook output .*policy drop;' 'policy drop;'

# A catch-all element in the upstream set: every address is in it, so NTP
# to any server passes the egress rule.
nft add element inet "$TABLE" upstreams4 '{ * }' &&
	expect_drift "a catch-all element in upstreams4" '^-[[:space:]]+# foreign: ' '\*'

# (g) A device: the kernel refuses one on an inet input, output or
# prerouting chain (EOPNOTSUPP), so the input chain is made again on the
# ingress hook of lo instead, where it sees lo's packets and nothing else.
reload '/chain input {/,/}/s/type filter hook input priority filter;/type filter hook ingress device "lo" priority filter;/' &&
	expect_drift "the input chain moved to ingress on lo" '^-[[:space:]]+type filter hook ingress device "lo" priority filter;' 'hook ingress'

# (h) The kernel's layout (doc/design.md "Packet path") changed by hand:
# the rules read back unchanged, but packets no longer reach them. A
# dispatch to another port lets NTP past every rule; a mode's jump gone
# lets its packets past that mode's rules; a rule added to a mode chain.
reload '/chain input {/,/}/s/udp dport 123 goto input-ntp/udp dport 124 goto input-ntp/' &&
	expect_drift "the input dispatch moved to port 124" '^-[[:space:]]+udp dport 124 goto input-ntp' 'dport 124 goto'
reload '/jump input-mode3/d' &&
	expect_drift "the input chain's jump to its mode-3 rules deleted" '^-[[:space:]]+chain input-mode3 \{' 'NOT-IN-ANY-LISTING'
live | grep -q '@th,64,8 & 0x7 == 0x3 jump input-mode3' || fail "the repair did not bring the mode-3 jump back"
nft add rule inet "$TABLE" input-mode1 udp dport 123 accept &&
	expect_drift "an accept added to input-mode1" '^-[[:space:]]+udp dport 123 accept$' 'udp dport 123 accept$'

# (i) Not drift: a base chain the layout leaves as it is (one rule: a
# notrack server of one family has one in each raw chain) beside laid-out
# ones reads back in sync right after apply.
cat >"$T/one.yaml" <<EOF
version: 1
table: ${TABLE}1
families: [ipv4]
upstreams: [{server: 192.0.2.1}, {server: 192.0.2.2}, {server: 192.0.2.3}, {server: 192.0.2.4}]
serve: {clients: [198.51.100.0/24], notrack: true}
EOF
nw apply "$T/one.yaml" >"$T/apply" 2>&1 || fail "apply of a one-family notrack policy: $(tail -2 "$T/apply")"
nft list chain inet "${TABLE}1" raw_prerouting | grep -q 'notrack comment "notrack-clients4"' ||
	fail "raw_prerouting does not hold its one rule as it is"
nw diff "$T/one.yaml" >"$T/diff" 2>&1 || fail "one-family notrack policy: diff exits 1: $(grep '^[-+]' "$T/diff" | head -4)"
nw status >"$T/status" 2>&1
grep -q "^table inet ${TABLE}1: drifted$" "$T/status" && fail "one-family notrack policy: status says drifted"

[ $fails = 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all drift tests passed"
