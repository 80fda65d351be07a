#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The NTP header rules at work, in two namespaces joined by a veth pair.
# Server side: a real chronyd (-x, local stratum 1) behind the nft rendering
# of a serve policy (client 192.0.2.2, noquery, nomodify, versions 3-4, rate
# limit): ntpdig gets time; a mode-6 readvar, a mode-7 monlist and an NTPv2
# request are dropped by the rule named for it (counter +1); a request from a
# non-client falls to otherwise; a flood hits the rate limit.
# Client side: a client policy with the server as its only upstream: ntpdig
# works through it, another server is unreachable, a packet from a
# non-upstream to port 123 and an unsolicited "reply" from the upstream
# (no conntrack entry) are dropped.
# Usage: ntp_header.sh GOLDEN_RENDER NTP_SEND   (root; exit 77 = skip)
set -u
# shellcheck source=tests/netns/lib.sh
. "$SRCDIR/tests/netns/lib.sh"
GR=${1:?usage: ntp_header.sh GOLDEN_RENDER NTP_SEND}
SEND=${2:?usage: ntp_header.sh GOLDEN_RENDER NTP_SEND}
SRV=ntpw-compile-srv-$$
CLI=ntpw-compile-cli-$$
TMP=$(mktemp -d /tmp/ntpwall-compile.XXXXXX) || exit 1
CHRONY_PID=
fail=0

skip() {
	echo "SKIP: $*"
	[ "${NTPWALL_REQUIRE_NETNS:-0}" = 1 ] && exit 1
	exit 77
}
cleanup() {
	if [ -n "$CHRONY_PID" ]; then
		kill "$CHRONY_PID" 2>/dev/null
		wait "$CHRONY_PID" 2>/dev/null
	fi
	ip netns del "$SRV" 2>/dev/null
	ip netns del "$CLI" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

for tool in chronyd ntpdig nft ip; do
	command -v $tool >/dev/null || skip "$tool not installed"
done
ip netns add "$SRV" 2>/dev/null || skip "cannot create a network namespace"
ip netns add "$CLI" || skip "cannot create a second network namespace"
srv() { ip netns exec "$SRV" "$@"; }
cli() { ip netns exec "$CLI" "$@"; }

ip link add ntpw-s$$ netns "$SRV" type veth peer name ntpw-c$$ netns "$CLI" ||
	skip "cannot create a veth pair"
srv ip link set lo up
cli ip link set lo up
srv ip addr add 192.0.2.1/24 dev ntpw-s$$
srv ip addr add 192.0.2.4/24 dev ntpw-s$$
cli ip addr add 192.0.2.2/24 dev ntpw-c$$
cli ip addr add 192.0.2.3/24 dev ntpw-c$$
srv ip link set ntpw-s$$ up
cli ip link set ntpw-c$$ up

printf '%s\n' "local stratum 1" "allow all" "cmdport 0" "bindcmdaddress /" \
	"pidfile $TMP/chronyd.pid" "driftfile $TMP/chronyd.drift" > "$TMP/chrony.conf"
# Not through the srv function: in the background that would be a subshell,
# and $! its pid rather than chronyd's (ip netns exec execs chronyd).
ip netns exec "$SRV" chronyd -x -d -u root -f "$TMP/chrony.conf" > "$TMP/chronyd.log" 2>&1 &
CHRONY_PID=$!

ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }

# packets NS TABLE CHAIN COMMENT: the rule's packet counter.
packets() {
	ip netns exec "$1" nft list table inet "$2" | rule_packets "$3" "$4"
}
# expect_plus NS TABLE CHAIN COMMENT BEFORE N WHAT
expect_plus() {
	local now
	now=$(packets "$1" "$2" "$3" "$4")
	if [ "${now:-x}" = $(($5 + $6)) ]; then
		ok "$7 (rule $4 counted $6)"
	else
		bad "$7: rule $3/$4 counted ${now:-none} - $5, expected $6"
		ip netns exec "$1" nft list table inet "$2"
	fi
}

printf '%s\n' "version: 1" "table: ntpwsrv" "families: [ipv4]" "upstreams:" \
	"  - server: 198.51.100.1" "serve:" "  clients: [192.0.2.2/32]" \
	"  rate_limit: {per_source: 16/second, burst: 32}" "restrict:" "  noquery: true" \
	"  nomodify: true" "  version: [3, 4]" > "$TMP/server.yaml"
"$GR" "$TMP/server.yaml" nft > "$TMP/server.nft" || { echo "FAIL: render"; exit 1; }
srv nft -f "$TMP/server.nft" || { echo "FAIL: server rules do not load"; exit 1; }

# chronyd answers from its local reference a moment after it starts.
for _ in $(seq 50); do
	cli ntpdig -t 1 192.0.2.1 > /dev/null 2>&1 && break
	sleep 0.2
done
b_in=$(packets "$SRV" ntpwsrv input serve-clients4)
b_out=$(packets "$SRV" ntpwsrv output serve-reply4)
if cli ntpdig -t 2 192.0.2.1 > "$TMP/ntpdig.out" 2>&1; then
	ok "ntpdig (mode 3) gets an answer through the server's rules"
else
	bad "ntpdig got no answer: $(cat "$TMP/ntpdig.out")"
fi
expect_plus "$SRV" ntpwsrv input serve-clients4 "$b_in" 1 "client request accepted"
expect_plus "$SRV" ntpwsrv output serve-reply4 "$b_out" 1 "server reply let out"

# ntpq readvar: LI 0, VN 2, mode 6 (0x16); opcode 2 (read variables).
b=$(packets "$SRV" ntpwsrv input restrict-noquery)
cli "$SEND" -w 500 192.0.2.1 123 160200010000000000000000 && bad "mode 6 was answered"
expect_plus "$SRV" ntpwsrv input restrict-noquery "$b" 1 "mode-6 readvar dropped"

# ntpdc monlist: VN 2, mode 7 (0x17), implementation 3 (XNTPD), request 42.
b=$(packets "$SRV" ntpwsrv input restrict-noquery)
cli "$SEND" -z -w 500 192.0.2.1 123 1700032a && bad "mode 7 was answered"
expect_plus "$SRV" ntpwsrv input restrict-noquery "$b" 1 "mode-7 monlist dropped"

# An NTPv2 client request (0x13): version 2 is not in [3, 4].
b=$(packets "$SRV" ntpwsrv input restrict-version-dport)
cli "$SEND" -z -w 500 192.0.2.1 123 13 && bad "NTPv2 was answered"
expect_plus "$SRV" ntpwsrv input restrict-version-dport "$b" 1 "NTPv2 request dropped"

# An NTPv4 request from an address that is not a client.
b=$(packets "$SRV" ntpwsrv input otherwise-dport)
cli "$SEND" -s 192.0.2.3 -z -w 500 192.0.2.1 123 23 && bad "non-client was answered"
expect_plus "$SRV" ntpwsrv input otherwise-dport "$b" 1 "request from a non-client dropped"

# A valid NTPv4 request from the client is answered (the helper works).
cli "$SEND" -z -w 1000 192.0.2.1 123 23 > /dev/null || bad "v4 request by ntp_send not answered"

# A flood from one client: over 16/s after a burst of 32, the rest is dropped.
b=$(packets "$SRV" ntpwsrv input serve-ratelimit4)
cli "$SEND" -n 80 -z 192.0.2.1 123 23
now=$(packets "$SRV" ntpwsrv input serve-ratelimit4)
if [ "${now:-0}" -gt "$b" ]; then
	ok "rate limit dropped $((now - b)) of 80 flood packets"
else
	bad "rate limit dropped nothing of an 80-packet flood"
fi

# Client side: the server's rules go, the client's come.
srv nft delete table inet ntpwsrv
printf '%s\n' "version: 1" "table: ntpwcli" "families: [ipv4]" "upstreams:" \
	"  - server: 192.0.2.1" "restrict:" "  version: [4]" > "$TMP/client.yaml"
"$GR" "$TMP/client.yaml" nft > "$TMP/client.nft" || { echo "FAIL: render"; exit 1; }
cli nft -f "$TMP/client.nft" || { echo "FAIL: client rules do not load"; exit 1; }

b_out=$(packets "$CLI" ntpwcli output egress-upstreams4)
b_in=$(packets "$CLI" ntpwcli input ingress-upstreams4)
if cli ntpdig -t 2 192.0.2.1 > "$TMP/ntpdig.out" 2>&1; then
	ok "ntpdig works through the client policy (ephemeral source port)"
else
	bad "ntpdig through the client policy: $(cat "$TMP/ntpdig.out")"
fi
expect_plus "$CLI" ntpwcli output egress-upstreams4 "$b_out" 1 "request to the upstream let out"
expect_plus "$CLI" ntpwcli input ingress-upstreams4 "$b_in" 1 "upstream reply let in"

b=$(packets "$CLI" ntpwcli output otherwise-dport)
cli "$SEND" -z -w 500 192.0.2.4 123 23 && bad "a server outside the policy answered"
expect_plus "$CLI" ntpwcli output otherwise-dport "$b" 1 "request to a non-upstream dropped"

b=$(packets "$CLI" ntpwcli input otherwise-dport)
srv "$SEND" -s 192.0.2.4 -z 192.0.2.2 123 23
sleep 0.2
expect_plus "$CLI" ntpwcli input otherwise-dport "$b" 1 "packet from a non-upstream to port 123 dropped"

# An unsolicited mode-4 "reply" from the real upstream: no conntrack entry.
kill "$CHRONY_PID" 2>/dev/null
wait "$CHRONY_PID" 2>/dev/null
CHRONY_PID=
b=$(packets "$CLI" ntpwcli input otherwise-sport)
srv "$SEND" -s 192.0.2.1 -p 123 -z 192.0.2.2 40000 24 || bad "could not send the fake reply"
sleep 0.2
expect_plus "$CLI" ntpwcli input otherwise-sport "$b" 1 "unsolicited reply from the upstream dropped"

[ $fail = 0 ] && echo "ntp-header: all checks passed"
exit $fail
