#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# `lint --resolve` on a CI runner without DNS: when no DNS server answers
# any query (nothing listens, no route, packets dropped), lint says so on
# stderr and exits 2 within the resolver's time budget, instead of blaming
# every name of the policy with NW140. A server that does answer NXDOMAIN is
# still an NW140 finding (exit 1).
# Runs itself again inside `unshare -n -m`: a network namespace with only lo
# (and a veth pair for a silent black hole), and a private mount namespace
# in which a temporary file is bind-mounted over /etc/resolv.conf. The
# host's resolv.conf and network are never touched. dnsmasq (from
# dnsmasq-base) answers on 127.0.0.1 inside the namespace.
set -u
: "${NTPWALL:?path of the ntpwall binary}"

skip() {
	if [ "${NTPWALL_REQUIRE_NETNS:-0}" = 1 ]; then
		echo "FAIL: $1 (NTPWALL_REQUIRE_NETNS=1)"
		exit 1
	fi
	echo "SKIP: $1"
	exit 77
}

if [ "${1:-}" != --inside ]; then
	[ "$(id -u)" = 0 ] || skip "not root"
	command -v dnsmasq >/dev/null || skip "no dnsmasq (install dnsmasq-base)"
	unshare -n -m true 2>/dev/null || skip "cannot create network and mount namespaces"
	exec unshare -n -m sh "$0" --inside
fi

T=$(mktemp -d /tmp/ntpwall-nodns.XXXXXX) || exit 1
DNSMASQ_PID=
cleanup() {
	[ -n "$DNSMASQ_PID" ] && kill "$DNSMASQ_PID" 2>/dev/null
	umount /etc/resolv.conf 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
fail=0
ok() { echo "ok: $1"; }
bad() {
	echo "FAIL: $1"
	echo "--- stdout:"; cat "$T/out"; echo "--- stderr:"; cat "$T/err"
	fail=1
}

ip link set lo up || exit 1
# A black hole: 192.0.2.54 sits behind v0 with a neighbour entry nobody
# answers for, so its queries leave and are never answered (a real timeout,
# no ICMP error). 198.51.100.53 has no route at all.
ip link add v0 type veth peer name v1 && ip link set v1 up && ip link set v0 up &&
	ip addr add 192.0.2.1/24 dev v0 &&
	ip neigh add 192.0.2.54 lladdr 02:00:00:00:00:54 dev v0 nud permanent || exit 1

# use_resolv_conf LINES: /etc/resolv.conf of this namespace only.
use_resolv_conf() {
	umount /etc/resolv.conf 2>/dev/null
	printf '%s' "$1" > "$T/resolv.conf"
	mount --bind "$T/resolv.conf" /etc/resolv.conf || exit 1
}

policy() {
	cat > "$T/$1"
	echo "$T/$1"
}

# lint ARGS...: ntpwall lint --resolve, output in $T/out and $T/err, exit
# status in $rc, wall time in whole seconds (rounded up) in $secs.
lint() {
	t0=$(date +%s%N)
	"$NTPWALL" lint --resolve "$@" > "$T/out" 2> "$T/err"
	rc=$?
	secs=$((($(date +%s%N) - t0 + 999999999) / 1000000000))
}

# no_dns WHAT RESOLVERS MAX_SECONDS: the last lint exited 2 with the DNS
# message naming RESOLVERS, no NW140 finding, in at most MAX_SECONDS.
no_dns() {
	msg="ntpwall: lint --resolve: no DNS server answered (resolvers: $2): cannot check names"
	if [ "$rc" -eq 2 ] && grep -Fxq -- "$msg" "$T/err" && ! grep -q NW140 "$T/out" &&
	   [ "$secs" -le "$3" ]; then
		ok "$1: exit 2 in ${secs}s, DNS named"
	else
		bad "$1: want exit 2, '$msg', no NW140, <= $3 s; got exit $rc in ${secs}s"
	fi
}

# Four names and the default resolve settings (2 s timeout, 2 attempts):
# one resolver's budget is 4 s.
names=$(policy names.yaml <<'EOF'
version: 1
families: [ipv4]
upstreams:
  - server: ntp1.test
  - server: ntp2.test
  - server: ntp3.test
  - pool: pool.test
    max: 4
EOF
)

use_resolv_conf 'nameserver 127.0.0.1
'
lint "$names"
no_dns "nothing listens on 127.0.0.1" 127.0.0.1:53 8

use_resolv_conf 'nameserver 198.51.100.53
'
lint "$names"
no_dns "no route to the resolver" 198.51.100.53:53 8

use_resolv_conf 'nameserver 192.0.2.54
'
lint "$names"
no_dns "the resolver's packets are dropped (timeouts)" 192.0.2.54:53 8

# c-ares falls back to 127.0.0.1 when resolv.conf names no server.
use_resolv_conf '# no nameserver here
'
lint "$names"
no_dns "resolv.conf without a nameserver" 127.0.0.1:53 8

# The policy's own resolvers: two dead ones, 1 s each, one attempt.
dead=$(policy dead.yaml <<'EOF'
version: 1
upstreams:
  - server: ntp1.test
  - server: ntp2.test
  - server: ntp3.test
  - server: ntp4.test
resolvers: ["192.0.2.54", "198.51.100.53:5353"]
resolve: {timeout: 1s, attempts: 1}
EOF
)
lint "$dead"
no_dns "the policy's resolvers are dead" "192.0.2.54:53,198.51.100.53:5353" 5

# With several files, the others are still linted (without --resolve) and
# their findings reported; the resolver is not tried again for each file.
badkey=$(policy badkey.yaml <<'EOF'
version: 1
upstream:
  - server: ntp1.test
EOF
)
lint --format json "$dead" "$names" "$badkey"
no_dns "several files" "192.0.2.54:53,198.51.100.53:5353" 5
grep -q '"code": "NW110"' "$T/out" && grep -q '"code": "NW112"' "$T/out" ||
	bad "several files: the findings of the other files are missing"

# A resolver that answers: NXDOMAIN is a finding about the policy (NW140,
# exit 1), not a missing DNS.
dnsmasq --keep-in-foreground --no-resolv --no-hosts --conf-file=/dev/null --user=root \
	--pid-file="$T/dnsmasq.pid" --bind-interfaces --listen-address=127.0.0.1 --port=53 \
	--local=/test/ --log-facility="$T/dnsmasq.log" --cache-size=0 \
	--host-record=ntp1.test,192.0.2.11 --host-record=ntp2.test,192.0.2.12 \
	--host-record=ntp3.test,192.0.2.13 --host-record=ntp4.test,192.0.2.14 \
	--host-record=pool.test,198.51.100.1 --host-record=pool.test,198.51.100.2 \
	--host-record=pool.test,198.51.100.3 --host-record=pool.test,198.51.100.4 \
	2> "$T/dnsmasq.err" &
DNSMASQ_PID=$!
n=0
until grep -q 'started, version' "$T/dnsmasq.log" 2>/dev/null; do
	n=$((n + 1))
	[ $n -le 50 ] || { echo "FAIL: dnsmasq did not start"; cat "$T/dnsmasq.err"; exit 1; }
	sleep 0.1
done
use_resolv_conf 'nameserver 127.0.0.1
'
lint "$names"
if [ "$rc" -eq 0 ] && [ ! -s "$T/out" ] && ! grep -q 'DNS' "$T/err"; then
	ok "a working resolver: exit 0, no finding"
else
	bad "a working resolver: want exit 0 and nothing printed, got exit $rc"
fi
nx=$(policy nx.yaml <<'EOF'
version: 1
families: [ipv4]
upstreams:
  - server: ntp1.test
  - server: ntp2.test
  - server: ntp3.test
  - server: nx.test
EOF
)
lint "$nx"
if [ "$rc" -eq 1 ] && grep -Fxq "$nx:7:13: error: 'nx.test' does not exist (NXDOMAIN) [NW140]" "$T/out" &&
   ! grep -q 'no DNS server' "$T/err"; then
	ok "NXDOMAIN: NW140, exit 1"
else
	bad "NXDOMAIN: want NW140 and exit 1, got exit $rc"
fi
# One dead resolver and a live one: the live one answers, so names that
# fail are findings, not a missing DNS.
mixed=$(policy mixed.yaml <<'EOF'
version: 1
upstreams:
  - server: ntp1.test
  - server: ntp2.test
  - server: ntp3.test
  - server: nx.test
resolvers: ["192.0.2.54", "127.0.0.1"]
resolve: {timeout: 500ms, attempts: 2}
EOF
)
lint "$mixed"
if [ "$rc" -eq 1 ] && grep -q "'nx.test' does not exist (NXDOMAIN) \[NW140\]" "$T/out" &&
   ! grep -q 'no DNS server' "$T/err"; then
	ok "a dead and a live resolver: NW140 for nx.test only, exit 1"
else
	bad "a dead and a live resolver: want exit 1 with NW140 for nx.test, got exit $rc"
fi

[ "$fail" -eq 0 ] && echo "all lint --resolve DNS checks passed"
exit $fail
