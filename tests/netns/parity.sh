#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Parity of the two backends: the same traffic gives the same outcome under
# backend: nft and backend: iptables. Run three times in fresh namespaces
# (no wall, nft, iptables), each time three namespaces joined by veth pairs:
#   srv:  a real chronyd the policy trusts (198.51.100.1, 2001:db8:2::1) and
#         servers it does not (198.51.100.9, 2001:db8:2::9);
#   host: `ntpwall apply` of a policy trusting the chronyd and serving
#         192.0.2.10 and 2001:db8:3::10, restrict noquery and nomodify; a
#         server that answers every datagram, whatever its mode, on
#         192.0.2.1 and 2001:db8:3::1 port 123 (so only the wall keeps one
#         unanswered), and a listener on port 40000;
#   lan:  the served clients and unlisted ones (192.0.2.20, 2001:db8:3::20).
# Cases: the host syncs from the trusted chronyd (ntpdig, both families);
# the untrusted servers stay silent; served clients are answered; mode 6 and
# mode 7 from a served client, requests from unlisted ones, an IPv6 mode-6
# query behind a Destination Options header, and an unsolicited "reply"
# from the trusted server to an ephemeral port are dropped.
# Asserts: with no wall every case gets through (the test can fail); under
# each backend every case has its expected outcome; nft's and iptables'
# outcome lists are identical.
# Usage: parity.sh FAKE_NTPD NTP_SEND   (env NTPWALL; root; exit 77 = skip)
set -u
: "${NTPWALL:?}"
FAKE=${1:?usage: parity.sh FAKE_NTPD NTP_SEND}
SEND=${2:?usage: parity.sh FAKE_NTPD NTP_SEND}
T=$(mktemp -d /tmp/ntpwall-parity.XXXXXX) || exit 1
export XTABLES_LOCKFILE=$T/xtables.lock
PIDS=()
NSS=()
fails=0

skip() {
	echo "SKIP: $*"
	[ "${NTPWALL_REQUIRE_NETNS:-0}" = 1 ] && exit 1
	exit 77
}
stop() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	PIDS=()
	for ns in "${NSS[@]}"; do ip netns del "$ns" 2>/dev/null; done
	NSS=()
}
trap 'stop; rm -rf "$T"' EXIT
ok() { echo "ok: $*"; }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

for tool in chronyd ntpdig nft ip iptables-legacy; do
	command -v $tool >/dev/null || skip "$tool not installed"
done
ip netns add "ntpw-par-probe-$$" 2>/dev/null || skip "cannot create a network namespace"
ip netns del "ntpw-par-probe-$$"

# setup RUN: the three namespaces and their daemons.
setup() {
	local r=$1
	SRV=ntpw-par-s-$r-$$ HOST=ntpw-par-h-$r-$$ LAN=ntpw-par-l-$r-$$
	for ns in "$SRV" "$HOST" "$LAN"; do ip netns add "$ns" && NSS+=("$ns") || return 1; done
	ip link add ps$$ netns "$SRV" type veth peer name ph$$ netns "$HOST" &&
		ip link add pl$$ netns "$LAN" type veth peer name pw$$ netns "$HOST" || return 1
	for ns in "$SRV" "$HOST" "$LAN"; do ip -n "$ns" link set lo up; done
	ip -n "$SRV" addr add 203.0.113.2/24 dev ps$$
	ip -n "$SRV" addr add 2001:db8:1::2/64 dev ps$$ nodad
	ip -n "$HOST" addr add 203.0.113.1/24 dev ph$$
	ip -n "$HOST" addr add 2001:db8:1::1/64 dev ph$$ nodad
	ip -n "$HOST" addr add 192.0.2.1/24 dev pw$$
	ip -n "$HOST" addr add 2001:db8:3::1/64 dev pw$$ nodad
	for a in 192.0.2.10/24 192.0.2.20/24; do ip -n "$LAN" addr add $a dev pl$$; done
	for a in 2001:db8:3::10/64 2001:db8:3::20/64; do ip -n "$LAN" addr add $a dev pl$$ nodad; done
	for l in "$SRV ps$$" "$HOST ph$$" "$HOST pw$$" "$LAN pl$$"; do
		# shellcheck disable=SC2086
		set -- $l
		ip -n "$1" link set "$2" up
	done
	for a in 198.51.100.1 198.51.100.9; do ip -n "$SRV" addr add $a/32 dev lo; done
	for a in 2001:db8:2::1 2001:db8:2::9; do ip -n "$SRV" addr add $a/128 dev lo nodad; done
	ip -n "$HOST" route add 198.51.100.0/24 via 203.0.113.2
	ip -n "$HOST" route add 2001:db8:2::/64 via 2001:db8:1::2
	ip -n "$SRV" route add 192.0.2.0/24 via 203.0.113.1
	ip -n "$SRV" route add 2001:db8:3::/64 via 2001:db8:1::1
	ip netns exec "$HOST" sysctl -qw net.ipv4.ip_forward=0

	printf '%s\n' "local stratum 1" "allow all" "bindaddress 198.51.100.1" \
		"bindaddress 2001:db8:2::1" "cmdport 0" "bindcmdaddress /" \
		"pidfile $T/chronyd-$r.pid" "driftfile $T/chronyd-$r.drift" >"$T/chrony-$r.conf"
	ip netns exec "$SRV" chronyd -x -d -u root -f "$T/chrony-$r.conf" >"$T/chronyd-$r.log" 2>&1 &
	PIDS+=($!)
	ip netns exec "$SRV" "$FAKE" 198.51.100.9:ok 2001:db8:2::9:ok >"$T/untrusted-$r.log" 2>&1 &
	PIDS+=($!)
	ip netns exec "$HOST" "$FAKE" 192.0.2.1:echo 2001:db8:3::1:echo >"$T/echo-$r.log" 2>&1 &
	PIDS+=($!)
	FAKE_NTPD_PORT=40000 ip netns exec "$HOST" "$FAKE" 203.0.113.1:echo >"$T/eph-$r.log" 2>&1 &
	PIDS+=($!)
	# chronyd answers from its local reference a moment after it starts.
	for _ in $(seq 50); do
		ip netns exec "$HOST" ntpdig -t 1 198.51.100.1 >/dev/null 2>&1 && break
		sleep 0.2
	done
	grep -q ready "$T/echo-$r.log" && grep -q ready "$T/eph-$r.log"
}

# outcome NAME CMD...: "NAME pass" when CMD exits 0, else "NAME drop".
outcome() {
	local name=$1
	shift
	if "$@" >/dev/null 2>&1; then echo "$name pass"; else echo "$name drop"; fi
}
host() { ip netns exec "$HOST" "$@"; }
lan() { ip netns exec "$LAN" "$@"; }
srv() { ip netns exec "$SRV" "$@"; }
# A datagram from the trusted server's port 123 to the host's port 40000
# with no request before it: did the listener get it?
unsolicited() {
	local before after
	before=$(grep -c '^from' "$T/eph-$1.log")
	srv "$SEND" -s 198.51.100.1 -p 123 -z 203.0.113.1 40000 24 || return 2
	sleep 0.3
	after=$(grep -c '^from' "$T/eph-$1.log")
	[ "$after" -gt "$before" ]
}

# pad HEX: zeros up to 48 bytes.
pad() {
	local h=$1
	while [ ${#h} -lt 96 ]; do h=${h}0; done
	echo "$h"
}
# delivered RUN [-x] SRC DST HEX: did the host's server get the datagram?
delivered() {
	local r=$1 x= before after
	shift
	[ "$1" = -x ] && { x=-x; shift; }
	before=$(grep -c '^from' "$T/echo-$r.log")
	lan "$SEND" $x -s "$1" "$2" 123 "$3" || return 2
	sleep 0.3
	after=$(grep -c '^from' "$T/echo-$r.log")
	[ "$after" -gt "$before" ]
}

cases() {
	local r=$1
	outcome trusted-chronyd-v4 host ntpdig -t 2 198.51.100.1
	outcome trusted-chronyd-v6 host ntpdig -t 2 2001:db8:2::1
	outcome untrusted-v4 host "$SEND" -z -w 700 198.51.100.9 123 23
	outcome untrusted-v6 host "$SEND" -z -w 700 2001:db8:2::9 123 23
	outcome served-v4 lan "$SEND" -s 192.0.2.10 -z -w 700 192.0.2.1 123 23
	outcome served-v6 lan "$SEND" -s 2001:db8:3::10 -z -w 700 2001:db8:3::1 123 23
	outcome mode6-v4 delivered "$r" 192.0.2.10 192.0.2.1 160200010000000000000000
	outcome mode6-v6 delivered "$r" 2001:db8:3::10 2001:db8:3::1 160200010000000000000000
	outcome mode7-v4 delivered "$r" 192.0.2.10 192.0.2.1 "$(pad 1700032a)"
	outcome mode6-v6-dstopts delivered "$r" -x 2001:db8:3::10 2001:db8:3::1 160200010000000000000000
	outcome unlisted-v4 delivered "$r" 192.0.2.20 192.0.2.1 "$(pad 23)"
	outcome unlisted-v6 delivered "$r" 2001:db8:3::20 2001:db8:3::1 "$(pad 23)"
	outcome unsolicited-v4 unsolicited "$r"
}

policy() {
	cat <<EOF
version: 1
table: ntpwall_par
backend: $1
upstreams:
  - server: 198.51.100.1
  - server: "2001:db8:2::1"
serve:
  clients: [192.0.2.10/32, "2001:db8:3::10/128"]
restrict:
  noquery: true
  nomodify: true
EOF
}

run() {
	local r=$1
	setup "$r" || { fail "$r: setting up the namespaces"; stop; return; }
	if [ "$r" != none ]; then
		policy "$r" >"$T/p-$r.yaml"
		host "$NTPWALL" --state-dir "$T/state-$r" apply "$T/p-$r.yaml" >"$T/apply-$r" 2>&1 ||
			fail "$r: apply: $(cat "$T/apply-$r")"
	fi
	cases "$r" >"$T/out-$r"
	stop
}

run none
grep -v ' pass$' "$T/out-none" >"$T/bad" && fail "without a wall, not everything passes: $(tr '\n' ' ' <"$T/bad")"
ok "without a wall every case passes ($(wc -l <"$T/out-none") cases)"

cat >"$T/expected" <<'EOF'
trusted-chronyd-v4 pass
trusted-chronyd-v6 pass
untrusted-v4 drop
untrusted-v6 drop
served-v4 pass
served-v6 pass
mode6-v4 drop
mode6-v6 drop
mode7-v4 drop
mode6-v6-dstopts drop
unlisted-v4 drop
unlisted-v6 drop
unsolicited-v4 drop
EOF
for b in nft iptables; do
	run $b
	diff "$T/expected" "$T/out-$b" >"$T/d" && ok "$b: every case as expected" ||
		fail "$b: $(grep '^[<>]' "$T/d" | tr '\n' ' ')"
done
cmp -s "$T/out-nft" "$T/out-iptables" && ok "nft and iptables: the same outcome for every case" ||
	fail "nft and iptables differ: $(diff "$T/out-nft" "$T/out-iptables" | grep '^[<>]' | tr '\n' ' ')"

[ $fails = 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "parity: all checks passed"
