#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# `ntpwall compile` from the shell: every target renders a literal-only
# policy (no DNS), output matches the library's, errors exit 2 with the
# diagnostic on stderr and nothing on stdout. Needs no root: compile never
# opens a netlink socket.
set -u
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
fail=0
demo=$SRCDIR/policies/demo-literal.yaml

bad() {
	echo "FAIL: $*"
	echo "--- stdout:"; head -20 "$tmp/out"; echo "--- stderr:"; cat "$tmp/err"
	fail=1
}
# run WANT_RC ARGS...
run() {
	want=$1
	shift
	"$NTPWALL" compile "$@" > "$tmp/out" 2> "$tmp/err"
	rc=$?
	[ $rc = "$want" ] || bad "compile $*: exit $rc, expected $want"
}

run 0 "$demo"
grep -q '^table inet ntpwall_demo {$' "$tmp/out" || bad "default target is not nft"
grep -q '^delete table inet ntpwall_demo$' "$tmp/out" || bad "nft script lacks the replace preamble"
grep -q 'hash [0-9a-f]\{16\}' "$tmp/out" || bad "no policy hash in the header"
# Nothing of ours on stderr (sanitizer reports of other modules aside).
grep -qE '^ntpwall:|: (error|warning):' "$tmp/err" && bad "diagnostics on success"

run 0 --listing "$demo"
head -n 1 "$tmp/out" | grep -q '^table inet ntpwall_demo {$' || bad "--listing has a preamble"
# As nft lists it after apply: the base chain's dispatch into input-ntp.
grep -q '^		udp dport 123 goto input-ntp$' "$tmp/out" || bad "--listing is not the kernel layout"

run 0 --target iptables "$demo"
grep -q '^\*filter$' "$tmp/out" && grep -q '^COMMIT$' "$tmp/out" || bad "iptables: no *filter/COMMIT"
grep -q -- '-d 192.0.2.1/32 -m comment --comment "egress-upstreams4" -g ' "$tmp/out" ||
	bad "iptables: no egress rule"
# What the policy accepts is RETURN: the host's own rules still see it.
grep -q -- '-j ACCEPT' "$tmp/out" && bad "iptables: an ACCEPT would skip the host's rules"
grep -q -- '-I INPUT 1 -p udp -m multiport --ports 123 ' "$tmp/out" || bad "iptables: no jump first in INPUT"
grep -q -- '2001:db8::1' "$tmp/out" && bad "iptables output holds an IPv6 address"

run 0 --target ip6tables "$demo"
grep -q -- '-d 2001:db8::1/128 ' "$tmp/out" || bad "ip6tables: no egress rule"
grep -q -- '192.0.2.1' "$tmp/out" && bad "ip6tables output holds an IPv4 address"

run 0 --target chrony "$demo"
grep -qx 'server 192.0.2.1 iburst' "$tmp/out" || bad "chrony: no server line"
run 0 --target ntpd "$demo"
grep -q '^restrict default .*noquery' "$tmp/out" || bad "ntpd: no restrict default"
grep -qx 'server 2001:db8::1 iburst' "$tmp/out" || bad "ntpd: no server line"

# A name, without DNS: its sets exist and stay empty.
run 0 --literal-only "$SRCDIR/policies/client-uk-pool.yaml"
grep -q 'set upstreams4 {' "$tmp/out" || bad "literal-only: no upstreams4 set"

# Errors: usage and bad policies exit 2, with the reason on stderr.
run 2
run 2 "$demo" "$demo"
run 2 --target pf "$demo"
grep -q -- '--target pf' "$tmp/err" || bad "bad target not named"
run 2 "$tmp/missing.yaml"
grep -q 'missing.yaml' "$tmp/err" || bad "missing file not named"
printf 'version: 1\nupstreams: [{server: 192.0.2.1}]\nbogus: 1\n' > "$tmp/bad.yaml"
run 2 "$tmp/bad.yaml"
grep -q 'bad.yaml:3:1: error' "$tmp/err" || bad "policy error without its location"
[ -s "$tmp/out" ] && bad "output on a bad policy"
printf 'version: 1\nfamilies: [ipv6]\nupstreams: [{server: 192.0.2.1}]\n' > "$tmp/none.yaml"
run 2 --literal-only "$tmp/none.yaml"
grep -q 'NW131' "$tmp/err" || bad "nothing-to-allow error missing"
run 0 --help
grep -q -- '--target' "$tmp/out" || bad "--help lacks --target"

[ $fail = 0 ] && echo "compile-cli: ok"
exit $fail
