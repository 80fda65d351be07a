#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# End to end: ntpwall between a real chrony client and real NTP servers, in
# three namespaces joined by veth pairs.
#   srv:  three chronyd servers the policy trusts (198.51.100.1-3), one it
#         does not (198.51.100.9), dnsmasq answering pool.test and ntp1.test.
#   host: `ntpwall apply` of a policy naming pool.test (max 3) and ntp1.test
#         and serving the LAN 192.0.2.0/24; a chronyd (-x) whose sources are
#         `ntpwall compile --target chrony` plus 198.51.100.9, and which serves
#         the LAN.
#   lan:  a client at 192.0.2.10.
# Asserts: chronyd reaches the trusted servers and never 198.51.100.9; the
# wall's egress, ingress and output otherwise-dport counters moved;
# `ntpwall probe POLICY` is OK through the wall and 198.51.100.9 is not;
# the LAN client gets time from the host; (with NTP_SEND) a mode-6 query from
# the LAN is dropped by restrict-noquery; after `ntpwall remove`,
# 198.51.100.9 answers (the wall was what blocked it).
# Usage: e2e.sh [NTP_SEND]   (env: NTPWALL; root; exit 77 = skip)
set -u
# shellcheck source=tests/netns/lib.sh
. "$SRCDIR/tests/netns/lib.sh"
: "${NTPWALL:?}"
SEND=${1:-}
SRV=ntpw-e2e-srv-$$
HOST=ntpw-e2e-host-$$
LAN=ntpw-e2e-lan-$$
T=$(mktemp -d /tmp/ntpwall-e2e.XXXXXX) || exit 1
S=$T/state
P=$T/policy.yaml
SOCK=$T/chronyd.sock
TABLE=ntpwall_e2e
PIDS=()

skip() {
	echo "SKIP: $*"
	[ "${NTPWALL_REQUIRE_NETNS:-0}" = 1 ] && exit 1
	exit 77
}
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	for ns in "$SRV" "$HOST" "$LAN"; do
		# Anything else still running in the namespace (nothing, normally).
		ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$T"
}
trap cleanup EXIT


for tool in chronyd chronyc dnsmasq ntpdig nft ip; do
	command -v $tool >/dev/null || skip "$tool not installed"
done
ip netns add "$SRV" 2>/dev/null || skip "cannot create a network namespace"
ip netns add "$HOST" || skip "cannot create a second network namespace"
ip netns add "$LAN" || skip "cannot create a third network namespace"
srv() { ip netns exec "$SRV" "$@"; }
host() { ip netns exec "$HOST" "$@"; }
lan() { ip netns exec "$LAN" "$@"; }
nw() { host "$NTPWALL" --state-dir "$S" "$@"; }

# srv <-> host over 203.0.113.0/24, host <-> lan over 192.0.2.0/24.
ip link add e2es$$ netns "$SRV" type veth peer name e2eh$$ netns "$HOST" ||
	skip "cannot create a veth pair"
ip link add e2el$$ netns "$LAN" type veth peer name e2ew$$ netns "$HOST" ||
	skip "cannot create a second veth pair"
for ns in "$SRV" "$HOST" "$LAN"; do ip -n "$ns" link set lo up; done
ip -n "$SRV" addr add 203.0.113.2/24 dev e2es$$
ip -n "$HOST" addr add 203.0.113.1/24 dev e2eh$$
ip -n "$HOST" addr add 192.0.2.1/24 dev e2ew$$
ip -n "$LAN" addr add 192.0.2.10/24 dev e2el$$
ip -n "$SRV" link set e2es$$ up
ip -n "$HOST" link set e2eh$$ up
ip -n "$HOST" link set e2ew$$ up
ip -n "$LAN" link set e2el$$ up
for a in 1 2 3 9 53; do ip -n "$SRV" addr add 198.51.100.$a/32 dev lo; done
ip -n "$HOST" route add 198.51.100.0/24 via 203.0.113.2

# Daemons are started by `ip netns exec` directly, not through a shell
# function: in the background that would be a subshell and $! its pid
# rather than the daemon's (ip netns exec execs it).
start_server() {	# NAME ADDR
	printf '%s\n' "local stratum 1" "allow all" "bindaddress $2" "cmdport 0" \
		"bindcmdaddress /" "pidfile $T/$1.pid" "driftfile $T/$1.drift" > "$T/$1.conf"
	ip netns exec "$SRV" chronyd -x -d -u root -f "$T/$1.conf" > "$T/$1.log" 2>&1 &
	PIDS+=($!)
}
start_server s1 198.51.100.1
start_server s2 198.51.100.2
start_server s3 198.51.100.3
start_server s9 198.51.100.9

ip netns exec "$SRV" dnsmasq --keep-in-foreground --no-resolv --no-hosts \
	--conf-file=/dev/null --user=root --bind-interfaces --listen-address=198.51.100.53 \
	--port=53 --local=/test/ --cache-size=0 --pid-file="$T/dnsmasq.pid" \
	--host-record=pool.test,198.51.100.1 --host-record=pool.test,198.51.100.2 \
	--host-record=pool.test,198.51.100.3 --host-record=ntp1.test,198.51.100.1 \
	--log-facility="$T/dnsmasq.log" 2> "$T/dnsmasq.err" &
PIDS+=($!)

cat > "$P" <<'EOF'
version: 1
table: ntpwall_e2e
families: [ipv4]
resolvers: ["198.51.100.53"]
resolve: {timeout: 500ms, attempts: 2}
upstreams:
  - pool: pool.test
    max: 3
  - server: ntp1.test
serve:
  clients: [192.0.2.0/24]
  rate_limit: {per_source: 16/second, burst: 32}
restrict:
  noquery: true
  nomodify: true
probe: {timeout: 500ms, samples: 2, interval: 200ms}
EOF

# packets CHAIN COMMENT: the packet counter of the wall's rule.
packets() {
	host nft list table inet $TABLE | rule_packets "$1" "$2"
}
# The servers answer from their local reference a moment after they start,
# dnsmasq once it listens: wait for both (before the wall is up).
for _ in $(seq 50); do
	nw probe --samples 1 --timeout 200ms 198.51.100.1 198.51.100.2 198.51.100.3 \
		198.51.100.9 > /dev/null 2>&1 && nw resolve "$P" > /dev/null 2>&1 && break
	sleep 0.2
done

# 1. The policy lints clean and applies.
nw lint --strict "$P" > "$T/out" 2>&1 && ok "policy lints clean" || fail "lint: $(cat "$T/out")"
if nw apply "$P" > "$T/out" 2>&1; then
	ok "apply: $(head -n 1 "$T/out")"
else
	fail "apply: $(cat "$T/out")"
	exit 1
fi
set4=$(host nft list set inet $TABLE upstreams4 | grep -oE '198\.51\.100\.[0-9]+' | sort -u | tr '\n' ' ')
[ "$set4" = "198.51.100.1 198.51.100.2 198.51.100.3 " ] &&
	ok "upstreams4 holds the pool and ntp1.test: $set4" || fail "upstreams4 is '$set4'"

# 2. A chrony client in host: the sources ntpwall compiles, plus an
# untrusted server polled every second; it serves the LAN too.
mkdir "$T/sources"
nw compile "$P" --target chrony > "$T/sources/ntpwall.sources" ||
	fail "compile --target chrony: $(cat "$T/sources/ntpwall.sources")"
grep '^server ' "$T/sources/ntpwall.sources" | sort > "$T/servers"
printf '%s\n' "server 198.51.100.1 iburst" "server 198.51.100.2 iburst" \
	"server 198.51.100.3 iburst" | cmp -s - "$T/servers" &&
	ok "chrony sources: one server line per trusted address" ||
	fail "chrony sources: $(cat "$T/sources/ntpwall.sources")"
# The serving lines compile puts in comments, for chrony.conf.
sed -n 's/^#   \(allow\|ratelimit\) /\1 /p' "$T/sources/ntpwall.sources" > "$T/serve.conf"
grep -qx 'allow 192.0.2.0/24' "$T/serve.conf" || fail "no allow line to copy: $(cat "$T/serve.conf")"
{
	echo "sourcedir $T/sources"
	echo "server 198.51.100.9 iburst minpoll 0 maxpoll 0"
	cat "$T/serve.conf"
	printf '%s\n' "cmdport 0" "bindcmdaddress $SOCK" "pidfile $T/client.pid" \
		"driftfile $T/client.drift"
} > "$T/client.conf"
b_egress=$(packets output egress-upstreams4)
b_ingress=$(packets input ingress-upstreams4)
b_other=$(packets output otherwise-dport)
ip netns exec "$HOST" chronyd -x -d -u root -f "$T/client.conf" > "$T/client.log" 2>&1 &
PIDS+=($!)

# reach ADDR: chronyd's reach register (octal) for the source, empty if none.
reach() { awk -F, -v a="$1" '$3 == a { print $6 }' "$T/sources.csv"; }
for _ in $(seq 100); do
	host chronyc -c -n -h "$SOCK" sources > "$T/sources.csv" 2>&1
	r1=$(reach 198.51.100.1) r2=$(reach 198.51.100.2) r3=$(reach 198.51.100.3)
	[ "${r1:-0}" != 0 ] && [ "${r2:-0}" != 0 ] && [ "${r3:-0}" != 0 ] && break
	sleep 0.2
done
# .9 is polled every second: wait until the wall has dropped three requests
# to it, so that a reach of 0 means several requests went unanswered.
for _ in $(seq 50); do
	[ "$(packets output otherwise-dport)" -ge $((${b_other:-0} + 3)) ] 2>/dev/null && break
	sleep 0.2
done
host chronyc -c -n -h "$SOCK" sources > "$T/sources.csv" 2>&1
for a in 198.51.100.1 198.51.100.2 198.51.100.3; do
	r=$(reach $a)
	[ -n "$r" ] && [ "$r" != 0 ] && ok "chronyd reaches trusted $a (reach $r)" ||
		fail "trusted $a: reach '${r}': $(cat "$T/sources.csv")"
done
r=$(reach 198.51.100.9)
[ "$r" = 0 ] && ok "chronyd never reaches untrusted 198.51.100.9 (reach 0)" ||
	fail "untrusted 198.51.100.9: reach '$r': $(cat "$T/sources.csv")"

# 3. The wall's counters: requests out, replies in, and the requests to .9
# (polled every second) dropped by otherwise.
now=$(packets output egress-upstreams4)
[ "${now:-0}" -gt "${b_egress:-0}" ] && ok "egress-upstreams4 counted $((now - b_egress))" ||
	fail "egress-upstreams4: ${b_egress} -> ${now}"
now=$(packets input ingress-upstreams4)
[ "${now:-0}" -gt "${b_ingress:-0}" ] && ok "ingress-upstreams4 counted $((now - b_ingress))" ||
	fail "ingress-upstreams4: ${b_ingress} -> ${now}"
now=$(packets output otherwise-dport)
[ "${now:-0}" -ge $((${b_other:-0} + 3)) ] &&
	ok "output otherwise-dport dropped $((now - b_other)) requests to 198.51.100.9" ||
	fail "output otherwise-dport: ${b_other} -> ${now}"

# 4. ntpwall's prober goes through the same rules.
nw probe "$P" > "$T/probe.out" 2>&1; rc=$?
[ $rc = 0 ] && [ "$(grep -c ' OK ' "$T/probe.out")" = 3 ] &&
	ok "probe POLICY through the wall: 3 servers OK" || fail "probe POLICY: exit $rc: $(cat "$T/probe.out")"
grep -Eq '^pool\.test,ntp1\.test +198\.51\.100\.1 ' "$T/probe.out" &&
	ok "probe names every upstream that gave an address" || fail "probe labels: $(cat "$T/probe.out")"
nw probe --samples 1 --timeout 300ms 198.51.100.9 > "$T/probe.out" 2>&1; rc=$?
[ $rc = 2 ] && ok "probe of 198.51.100.9 through the wall: CRITICAL" ||
	fail "probe 198.51.100.9 with the wall: exit $rc: $(cat "$T/probe.out")"

# 5. The LAN: a client in the serve prefix gets time from host's chronyd.
b_in=$(packets input serve-clients4)
b_out=$(packets output serve-reply4)
# chronyd answers as unsynchronised (ntpdig refuses that) until it has
# selected a source: retry for a while.
got=
for i in $(seq 15); do
	lan ntpdig -t 1 192.0.2.1 > "$T/ntpdig.out" 2>&1 && got=$i && break
	sleep 0.5
done
[ -n "$got" ] && ok "LAN client gets time from host (try $got)" || fail "ntpdig from the LAN: $(cat "$T/ntpdig.out")"
now=$(packets input serve-clients4)
[ "${now:-0}" -gt "${b_in:-0}" ] && ok "serve-clients4 counted $((now - b_in))" ||
	fail "serve-clients4: ${b_in} -> ${now}"
now=$(packets output serve-reply4)
[ "${now:-0}" -gt "${b_out:-0}" ] && ok "serve-reply4 counted $((now - b_out))" ||
	fail "serve-reply4: ${b_out} -> ${now}"
if [ -n "$SEND" ]; then
	# ntpq readvar: LI 0, VN 2, mode 6 (0x16); opcode 2 (read variables).
	b=$(packets input restrict-noquery)
	lan "$SEND" -w 500 192.0.2.1 123 160200010000000000000000 && fail "mode 6 was answered"
	now=$(packets input restrict-noquery)
	[ "${now:-x}" = $((${b:-0} + 1)) ] && ok "mode-6 query from the LAN dropped by restrict-noquery" ||
		fail "restrict-noquery: ${b} -> ${now}, expected +1"
else
	echo "note: no NTP_SEND argument, mode-6 check left out"
fi

# 6. Without the wall, 198.51.100.9 answers: the wall was what blocked it.
nw remove > "$T/out" 2>&1 || fail "remove: $(cat "$T/out")"
host nft list table inet $TABLE > /dev/null 2>&1 && fail "table still there after remove"
nw probe --samples 1 --timeout 1s 198.51.100.9 > "$T/probe.out" 2>&1; rc=$?
[ $rc = 0 ] && ok "after remove, 198.51.100.9 answers the probe" ||
	fail "probe 198.51.100.9 after remove: exit $rc: $(cat "$T/probe.out")"

if [ $fails != 0 ]; then
	echo "$fails failure(s)"
	exit 1
fi
echo "e2e: all checks passed"
