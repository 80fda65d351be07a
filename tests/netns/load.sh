#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The serve rate limit under load, against a real chronyd, in two namespaces
# joined by a veth pair:
#   srv: 192.0.2.1 and 2001:db8::1; a chronyd (-x, local stratum 1) serving
#        everyone, SCHED_FIFO (-P 1, chrony's sched_priority) so that the
#        machine's other work does not stall it; dnsmasq answering ntp.test
#        (the policy's upstream, so that refresh has a DNS element to
#        renew); `ntpwall apply` of a policy serving 198.18.0.0/15 and
#        2001:db8:1::/48 at 16/second, burst 32; routes to both prefixes via
#        cli; and a table of the test's own around the wall counting the
#        legitimate clients' requests that reached the wall (priority
#        filter - 10) and those it let in (filter + 10), and chronyd's
#        answers it let out.
#   cli: the legitimate clients 198.18.0.10 and 2001:db8:1:1::10 (ntp_send
#        every 0.2 s, counting answers), and flood (AF_PACKET) sending
#        requests from spoofed sources of the client prefixes; the replies
#        to those come back to cli and are dropped there (not its addresses).
# Asserts, by counts (answers, rule counters, meter elements), never by time;
# in every part the wall lets in every request of the legitimate client
# that reaches it:
# (a) fail closed: with meter_size 1024 and the meter filled by 2048 spoofed
#     sources, 1023 of them get in and 1025 are dropped; a fresh source's
#     1000 requests are all dropped (serve-ratelimit4 +1000) and none is
#     answered, while the client the meter already holds keeps >= 99% of its
#     answers. Before 9ecbf85 (the limit a separate `limit rate over` drop
#     rule ahead of the accept) this failed open: the update of a full meter
#     fails, the drop rule does not match, and a fresh source's 1000 packets
#     were all accepted (as were all 2048 spoofed sources).
# (b) load: first 1 s at LOAD_PPS (default 20,000/s) from 10,000 sources
#     times chronyd's CPU a request; then 200,000 requests from 100,000
#     spoofed sources at LOAD_PPS, or at half of what one core of chronyd
#     answers if that is less, plus 10,000 from one heavy source at 1/20 of
#     that rate: every spoofed request is accepted (the default meter holds
#     131,072 sources for the /15) and a new source is still served, the
#     heavy source is limited (serve-ratelimit4 counts at least 80% of what
#     it sent beyond the 16/s + 32 it is allowed), the legitimate client
#     keeps >= 99% of its answers.
# (c) IPv6: 1000 addresses of one /64, 10 requests each, are one source in
#     the meter (serve-ratelimit6 counts >= 90% of what exceeds one source's
#     allowance); a client in another /64 keeps >= 99% of its answers.
# (d) `ntpwall refresh` every second for a minute (each renews the DNS element
#     in one batch) loses no allowed exchange (>= 99%) and disturbs neither
#     the meter (a heavy source sending throughout gets one burst, not 30)
#     nor conntrack (the client's flow from one port stays one entry).
# Exchanges lost while the kernel dropped at least as many packets outside
# the wall (chronyd's full socket, the veth pair, the backlog) are reported,
# not failed (see answered()); the wall must still let in every request of
# the client that reached it. Figures (answers, counters, rates the sender achieved,
# chronyd's CPU, kernel drops) are printed as "figure:" lines for
# README.md and doc/testing.md.
# Usage: load.sh NTP_SEND FLOOD   (env: NTPWALL, LOAD_PPS; root; exit 77 = skip)
set -u
: "${NTPWALL:?}"
SEND=${1:?usage: load.sh NTP_SEND FLOOD}
FLOOD=${2:?usage: load.sh NTP_SEND FLOOD}
PPS=${LOAD_PPS:-20000}
SRV=ntpw-load-srv-$$
CLI=ntpw-load-cli-$$
VS=ntpwl-s$$
VC=ntpwl-c$$
SMAC=02:00:5e:10:00:01	# srv's end of the veth pair
T=$(mktemp -d /tmp/ntpwall-load.XXXXXX) || exit 1
S=$T/state
TABLE=ntpwall_load
PIDS=()
fails=0

skip() {
	echo "SKIP: $*"
	[ "${NTPWALL_REQUIRE_NETNS:-0}" = 1 ] && exit 1
	exit 77
}
cleanup() {
	touch "$T/stop"
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	for ns in "$SRV" "$CLI"; do
		# Anything else still running in the namespace (nothing, normally).
		ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$T"
}
trap cleanup EXIT

ok() { echo "ok: $*"; }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
figure() { echo "figure: $*"; }

for tool in chronyd chronyc dnsmasq nft ip jq; do
	command -v $tool >/dev/null || skip "$tool not installed"
done
ip netns add "$SRV" 2>/dev/null || skip "cannot create a network namespace"
ip netns add "$CLI" || skip "cannot create a second network namespace"
srv() { ip netns exec "$SRV" "$@"; }
cli() { ip netns exec "$CLI" "$@"; }
nw() { srv "$NTPWALL" --state-dir "$S" "$@"; }

ip link add $VS netns "$SRV" address $SMAC type veth peer name $VC netns "$CLI" ||
	skip "cannot create a veth pair"
for ns in "$SRV" "$CLI"; do ip -n "$ns" link set lo up; done
ip -n "$SRV" addr add 192.0.2.1/24 dev $VS
ip -n "$SRV" addr add 2001:db8::1/64 dev $VS nodad
ip -n "$SRV" addr add 192.0.2.53/32 dev lo
ip -n "$CLI" addr add 192.0.2.2/24 dev $VC
ip -n "$CLI" addr add 2001:db8::2/64 dev $VC nodad
# The legitimate clients, and the fresh source of (a) and (b).
ip -n "$CLI" addr add 198.18.0.10/32 dev $VC
ip -n "$CLI" addr add 198.19.200.1/32 dev $VC
ip -n "$CLI" addr add 2001:db8:1:1::10/128 dev $VC nodad
ip -n "$SRV" link set $VS up
ip -n "$CLI" link set $VC up
# Replies to the whole client prefixes go to cli through one neighbour (a
# route on the link would need an ARP entry per spoofed source).
ip -n "$SRV" route add 198.18.0.0/15 via 192.0.2.2
ip -n "$SRV" -6 route add 2001:db8:1::/48 via 2001:db8::2
srv sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.$VS.rp_filter=0

# Daemons are started by `ip netns exec` directly, not through srv: in the
# background that would be a subshell and $! its pid, not the daemon's.
mkdir -m 700 "$T/chrony"
printf '%s\n' "local stratum 1" "allow all" "cmdport 0" "bindcmdaddress $T/chrony/sock" \
	"pidfile $T/chrony/pid" "driftfile $T/chrony/drift" >"$T/chrony.conf"
ip netns exec "$SRV" chronyd -P 1 -x -d -u root -f "$T/chrony.conf" >"$T/chronyd.log" 2>&1 &
CHRONY_PID=$!
PIDS+=("$CHRONY_PID")
ip netns exec "$SRV" dnsmasq --keep-in-foreground --no-resolv --no-hosts \
	--conf-file=/dev/null --user=root --bind-interfaces --listen-address=192.0.2.53 \
	--port=53 --local=/test/ --cache-size=0 --pid-file="$T/dnsmasq.pid" \
	--host-record=ntp.test,198.51.100.1 --log-facility="$T/dnsmasq.log" 2>"$T/dnsmasq.err" &
PIDS+=($!)

# policy [METER_SIZE]: the served prefixes at 16/s, burst 32; the upstream a name.
policy() {
	printf '%s\n' "version: 1" "table: $TABLE" 'resolvers: ["192.0.2.53"]' \
		"resolve: {timeout: 500ms, attempts: 2}" "upstreams:" "  - server: ntp.test" \
		"serve:" '  clients: [198.18.0.0/15, "2001:db8:1::/48"]' \
		"  rate_limit: {per_source: 16/second, burst: 32${1:+, meter_size: $1}}" >"$T/p.yaml"
}
# packets CHAIN COMMENT: the packet counter of the wall's rule, read by
# `ntpwall status` (which leaves out the meter's elements: `nft list chain`
# fetches every one of them, seconds per call once the meter holds 100,000);
# 0 when the wall has no such rule (a policy without a rate limit).
packets() {
	local n
	n=$(nw status --format json | jq -r --arg c "$1" --arg r "$2" \
		'.live.chains[] | select(.name == $c) | .rules[] | select(.comment == $r) | .packets' | head -n 1)
	echo "${n:-0}"
}
# handles: the wall's rules by handle (a table replaced gets new ones).
handles() {
	nw status --format json | jq -r '.live.chains[] | .name as $c | .rules[] | "\($c) \(.comment) \(.handle)"'
}
# settle CHAIN COMMENT...: wait until the rules' counters stop moving (a
# flood's backlog is processed after the sender exits): until their sum
# moves by at most 5 in 0.5 s (the polling client adds 2 or 3).
settle() {
	local a b
	a=$(for c in "${@:2}"; do packets "$1" "$c"; done | awk '{ s += $1 } END { print s }')
	for _ in $(seq 60); do
		sleep 0.5
		b=$(for c in "${@:2}"; do packets "$1" "$c"; done | awk '{ s += $1 } END { print s }')
		[ $((b - a)) -le 5 ] && return
		a=$b
	done
}
# meter SET: how many sources the meter holds (seconds for 100,000).
meter() { srv nft list set inet $TABLE "$1" | grep -o 'expires' | wc -l; }
# served SRC DST [SPORT]: one exchange; waits up to 1 s for the answer.
served() { cli "$SEND" -s "$1" ${3:+-p "$3"} -z -w 1000 "$2" 123 23 >/dev/null; }
# poll_start SRC DST [SPORT]: the legitimate client asks every 0.2 s (one
# exchange, waiting up to 1 s for the answer) until poll_stop; poll_stop
# sets POLL_N (asked) and POLL_A (answered), P_PRE (its requests that
# reached the wall), P_IN and P_OUT (those the wall let in, chronyd's
# answers the wall let out) and P_DROPS (what the kernel dropped meanwhile
# outside the wall: full UDP sockets in srv, the veth pair, the backlog).
poll_start() {
	POLL_F=4
	case $1 in *:*) POLL_F=6 ;; esac
	P_PRE=$(probe pre$POLL_F) P_IN=$(probe in$POLL_F) P_OUT=$(probe out$POLL_F) P_DROPS=$(drops)
	rm -f "$T/stop" "$T/poll.count"
	ip netns exec "$CLI" bash -c 'n=0 a=0
		while [ ! -e "$1/stop" ]; do
			n=$((n + 1))
			"$2" -s "$3" ${5:+-p "$5"} -z -w 1000 "$4" 123 23 >/dev/null && a=$((a + 1))
			sleep 0.2
		done
		echo "$n $a" >"$1/poll.count"' poll "$T" "$SEND" "$1" "$2" "${3:-}" &
	POLL_PID=$!
	PIDS+=("$POLL_PID")
}
poll_stop() {
	local b a
	touch "$T/stop"
	wait "$POLL_PID"
	read -r POLL_N POLL_A <"$T/poll.count" || { POLL_N=0 POLL_A=0; }
	P_PRE=$(($(probe pre$POLL_F) - P_PRE))
	P_IN=$(($(probe in$POLL_F) - P_IN))
	P_OUT=$(($(probe out$POLL_F) - P_OUT))
	read -ra b <<<"$P_DROPS"
	read -ra a <<<"$(drops)"
	P_DROPS=0
	for i in "${!a[@]}"; do P_DROPS=$((P_DROPS + a[i] - b[i])); done
}
# answered WHAT: the wall let in every request of the legitimate client
# that reached it, and >= 99% of its exchanges were answered. The wall's
# part is the first; the second also needs the machine: on a busy one the
# kernel's receive processing runs late and hands packets over in bursts of
# up to its backlog's 1000, or chronyd is late and its socket (some 250
# requests: the default 208 KiB, 832 bytes each) overflows, and the kernel
# drops what does not fit, whoever sent it. Exchanges lost while the kernel
# dropped at least as many packets outside the wall are counted and
# reported, not failed.
answered() {
	local lost=$((POLL_N - POLL_A))
	[ "$P_IN" = "$P_PRE" ] && [ "$P_PRE" -gt 0 ] &&
		ok "$1: the wall let in all $P_PRE requests of the legitimate client that reached it (of $POLL_N)" ||
		fail "$1: the wall let in $P_IN of the $P_PRE requests of the legitimate client that reached it"
	if [ "$POLL_N" -gt 0 ] && [ $((POLL_A * 100)) -ge $((POLL_N * 99)) ]; then
		ok "$1: the legitimate client got $POLL_A of $POLL_N answers"
	elif [ "$POLL_N" -gt 0 ] && [ "$P_IN" = "$P_PRE" ] && [ "$P_DROPS" -ge "$lost" ]; then
		echo "note: $1: the legitimate client got $POLL_A of $POLL_N answers; the wall let in all" \
			"$P_PRE that reached it, chronyd's answers out $P_OUT, while the kernel dropped" \
			"$P_DROPS packets outside the wall"
	else
		fail "$1: the legitimate client got $POLL_A of $POLL_N answers (< 99%; reached the wall" \
			"$P_PRE, let in $P_IN, answers out $P_OUT, kernel drops outside the wall $P_DROPS)"
	fi
}
# flood ARGS...: run flood in cli to srv's MAC, print its line, set SENT and
# ELAPSED (whole seconds, rounded up).
flood_out() {
	SENT=$(sed -n 's/^flood: sent \([0-9]*\) of.*/\1/p' "$1")
	ELAPSED=$(sed -n 's/.* in \([0-9]*\)\.[0-9]* s .*/\1/p' "$1")
	ELAPSED=$((${ELAPSED:-0} + 1))
	cat "$1"
}
# drops: the kernel's drops that matter here, one line (UDP receive
# buffers in srv, both ends of the veth, the per-CPU backlog).
drops() {
	local udp udp6 veth backlog
	udp=$(rcvbuf 4)
	udp6=$(rcvbuf 6)
	veth=$(srv ip -j -s link show $VS | jq -r '.[0].stats64 | "\(.rx.dropped) \(.tx.dropped)"')
	veth="$veth $(cli ip -j -s link show $VC | jq -r '.[0].stats64 | "\(.rx.dropped) \(.tx.dropped)"')"
	backlog=0
	while read -r _ d _; do backlog=$((backlog + 16#$d)); done </proc/net/softnet_stat
	echo "$udp $udp6 $veth $backlog"
}
# rcvbuf 4|6: requests the kernel dropped at full UDP sockets in srv.
rcvbuf() {
	if [ "$1" = 4 ]; then
		srv awk '/^Udp:/ { if (h) { print $6 } else h = 1 }' /proc/net/snmp
	else
		srv awk '$1 == "Udp6RcvbufErrors" { print $2 }' /proc/net/snmp6
	fi
}
# probe COMMENT: a counter of the test's own table.
probe() {
	srv nft list table inet ntpwall_load_probe |
		sed -n "s/.*counter packets \([0-9]*\) bytes.*comment \"$1\"\$/\1/p"
}
# drops_print BEFORE AFTER
drops_print() {
	local b a
	read -ra b <<<"$1"
	read -ra a <<<"$2"
	figure "kernel drops: srv UDP receive buffer $((a[0] - b[0])) (IPv6 $((a[1] - b[1])))," \
		"srv veth rx/tx $((a[2] - b[2]))/$((a[3] - b[3])), cli veth rx/tx $((a[4] - b[4]))/$((a[5] - b[5]))," \
		"backlog $((a[6] - b[6]))"
}
# cpu_ticks: chronyd's CPU time so far, in 1/HZ s.
HZ=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$CHRONY_PID/stat"; }
serverstats() {
	srv chronyc -h "$T/chrony/sock" serverstats 2>/dev/null |
		awk -F' *: *' '/NTP packets received/ { r = $2 } /NTP packets dropped/ { d = $2 }
			END { printf "%d %d\n", r, d }'
}

# The test's own table counts the legitimate clients' packets around the
# wall: the requests that reached it (priority filter - 10), and behind it
# (filter + 10: only what the wall accepted gets there) the requests it let
# in, chronyd's answers it let out, and for (d) the IPv4 client's flow from
# port 40010 by conntrack state.
srv nft -f - <<'EOF'
table inet ntpwall_load_probe {
	chain pre {
		type filter hook input priority filter - 10; policy accept;
		ip saddr 198.18.0.10 udp dport 123 counter comment "pre4"
		ip6 saddr 2001:db8:1:1::10 udp dport 123 counter comment "pre6"
	}
	chain input {
		type filter hook input priority filter + 10; policy accept;
		ip saddr 198.18.0.10 udp dport 123 counter comment "in4"
		ip6 saddr 2001:db8:1:1::10 udp dport 123 counter comment "in6"
		ip saddr 198.18.0.10 udp sport 40010 ct state new counter comment "new"
		ip saddr 198.18.0.10 udp sport 40010 ct state established counter comment "established"
	}
	chain output {
		type filter hook output priority filter + 10; policy accept;
		ip daddr 198.18.0.10 udp sport 123 counter comment "out4"
		ip6 daddr 2001:db8:1:1::10 udp sport 123 counter comment "out6"
	}
}
EOF

# chronyd answers from its local reference a moment after it starts,
# dnsmasq once it listens: wait for both (before the wall is up).
policy
for _ in $(seq 50); do
	served 198.18.0.10 192.0.2.1 && served 2001:db8:1:1::10 2001:db8::1 &&
		nw resolve "$T/p.yaml" >/dev/null 2>&1 && break
	sleep 0.2
done
served 198.18.0.10 192.0.2.1 || { fail "chronyd does not answer: $(cat "$T/chronyd.log")"; exit 1; }

# --- (a) fail closed: a full meter serves no new source -----------------------
policy 1024
nw apply "$T/p.yaml" >"$T/out" 2>&1 || { fail "apply (meter 1024): $(cat "$T/out")"; exit 1; }
served 198.18.0.10 192.0.2.1 || fail "(a) the legitimate client is not served through the wall"
b_acc=$(packets input serve-clients4)
b_lim=$(packets input serve-ratelimit4)
poll_start 198.18.0.10 192.0.2.1
# 2048 sources from 198.18.1.0, one request each: the meter holds the
# legitimate client, so 1023 of them get in, 1025 are dropped.
cli "$FLOOD" -i $VC -m $SMAC -d 192.0.2.1 -s 198.18.0.0/15 -o 256 -N 2048 -c 2048 -r 5000 >"$T/flood" ||
	fail "(a) flood: $(cat "$T/flood")"
flood_out "$T/flood"
settle input serve-clients4 serve-ratelimit4
n=$(meter rl4)
[ "$n" = 1024 ] && ok "(a) the meter is full: 1024 sources" || fail "(a) the meter holds $n sources, not 1024"
lim=$(($(packets input serve-ratelimit4) - b_lim))
[ "$lim" = 1025 ] && ok "(a) 1025 of 2048 spoofed sources found the meter full and were dropped" ||
	fail "(a) serve-ratelimit4 counted $lim of the spoofed sources, expected 1025"
# A fresh source: 1000 requests back to back, none answered, all dropped.
b_lim=$(packets input serve-ratelimit4)
cli "$SEND" -s 198.19.200.1 -n 1000 -z -w 1500 192.0.2.1 123 23 >/dev/null &&
	fail "(a) the fresh source was answered while the meter was full (fails open)"
settle input serve-clients4 serve-ratelimit4
lim=$(($(packets input serve-ratelimit4) - b_lim))
[ "$lim" = 1000 ] && ok "(a) a fresh source's 1000 requests: none answered, serve-ratelimit4 +1000" ||
	fail "(a) a fresh source's 1000 requests: serve-ratelimit4 +$lim, expected +1000"
poll_stop
acc=$(($(packets input serve-clients4) - b_acc))
answered "(a) meter full"
# Accepted: the legitimate client's requests and the 1023 sources that got
# in, nothing else (failing open, the fresh source's 1000 would be here).
[ "$acc" = $((P_IN + 1023)) ] && ok "(a) serve-clients4 +$acc: the client's $P_IN and 1023 sources" ||
	fail "(a) serve-clients4 +$acc, not the client's $P_IN and 1023 sources"
figure "(a) meter 1024: 2048 spoofed sources -> 1023 in, 1025 dropped; fresh source 1000 -> $lim dropped, 0 answered; legitimate client $POLL_A/$POLL_N answered"

# --- (b) load: 100,000 spoofed sources and a heavy one ------------------------
nw remove >"$T/out" 2>&1 || fail "remove: $(cat "$T/out")"
policy
nw apply "$T/p.yaml" >"$T/out" 2>&1 || { fail "apply: $(cat "$T/out")"; exit 1; }
size=$(srv nft list set inet $TABLE rl4 | sed -n 's/^[[:space:]]*size \([0-9]*\)$/\1/p')
[ "$size" = 131072 ] && ok "(b) the default meter holds the /15's 131072 sources" ||
	fail "(b) the default meter's size is '$size', not 131072"
served 198.18.0.10 192.0.2.1 || fail "(b) the legitimate client is not served through the wall"
# How much chronyd can answer here: 1 s at LOAD_PPS from 10,000 other
# sources (198.19.135.160 on, two requests each; they stay in the meter),
# timing chronyd's CPU (its replies' way out through the wall and the veth
# is charged to it too). A flood beyond what chronyd can take measures
# chronyd, not the wall: its socket overflows (UDP receive buffer errors)
# and drops the legitimate client's requests with the rest. So the load
# runs at most at half of what one core of chronyd answers (the machine's
# other work and the meter's growth vary the cost), in steps of 1000/s, at
# least 4000/s; the packet count stays.
b_drops=$(drops)
b_stats=$(serverstats)
c0=$(cpu_ticks)
cli "$FLOOD" -i $VC -m $SMAC -d 192.0.2.1 -s 198.18.0.0/15 -o 100256 -N 10000 -c $PPS -r "$PPS" \
	>"$T/flood" || fail "(b) calibration flood: $(cat "$T/flood")"
flood_out "$T/flood"
settle input serve-clients4
ticks=$(($(cpu_ticks) - c0))
read -r d0 _ <<<"$b_drops"
read -r d1 _ <<<"$(drops)"
read -r r0 _ <<<"$b_stats"
read -r r1 _ <<<"$(serverstats)"
got=$((r1 - r0))
rate=$PPS
if [ "$ticks" -gt 0 ]; then
	core=$((got * HZ / ticks))
	[ $((core / 2)) -lt "$rate" ] && rate=$((core / 2 / 1000 * 1000))
	[ "$rate" -ge 4000 ] || rate=4000
	figure "(b) chronyd: $((ticks * 1000000 / HZ / (got > 0 ? got : 1))) us of CPU a request, one core answers about $core/s"
fi
figure "(b) $(sed 's/^flood: //' "$T/flood"): chronyd received $got, $((d1 - d0)) lost at its socket; the load runs at $rate/s"
b_acc=$(packets input serve-clients4)
b_lim=$(packets input serve-ratelimit4)
b_rep=$(packets output serve-reply4)
b_drops=$(drops)
b_stats=$(serverstats)
c0=$(cpu_ticks)
poll_start 198.18.0.10 192.0.2.1
# Two requests from each of 100,000 sources from 198.18.1.0 (the second
# round after the first), and the heavy source at 1/20 of the rate, both
# for 10 s at 20,000/s. A sender that cannot keep its rate just takes
# longer: the heavy source's allowance is counted from its own run.
ip netns exec "$CLI" "$FLOOD" -i $VC -m $SMAC -d 192.0.2.1 -s 198.18.0.0/15 -o 256 \
	-N 100000 -c 200000 -r "$rate" >"$T/flood" 2>&1 &
f1=$!
PIDS+=("$f1")
ip netns exec "$CLI" "$FLOOD" -i $VC -m $SMAC -d 192.0.2.1 -s 198.18.0.99 -p 40999 \
	-c 10000 -r $((rate / 20)) >"$T/heavy" 2>&1 &
f2=$!
PIDS+=("$f2")
wait $f1 || fail "(b) flood: $(cat "$T/flood")"
wait $f2 || fail "(b) heavy source: $(cat "$T/heavy")"
flood_out "$T/flood"
main_sent=$SENT
flood_out "$T/heavy"
heavy_sent=$SENT heavy_time=$ELAPSED
settle input serve-clients4 serve-ratelimit4
poll_stop
answered "(b) 100,000 spoofed sources"
acc=$(($(packets input serve-clients4) - b_acc))
lim=$(($(packets input serve-ratelimit4) - b_lim))
rep=$(($(packets output serve-reply4) - b_rep))
a_stats=$(serverstats)
a_drops=$(drops)
ticks=$(($(cpu_ticks) - c0))
# Allowed: 16/s over the heavy source's whole run (rounded up) and the
# burst; at least 80% of the rest must be dropped (all of it, normally).
allow=$((16 * heavy_time + 32))
want=$(((heavy_sent - allow) * 8 / 10))
[ "$lim" -ge "$want" ] && [ "$lim" -le "$heavy_sent" ] &&
	ok "(b) the heavy source is limited: serve-ratelimit4 +$lim of its $heavy_sent (>= $want)" ||
	fail "(b) serve-ratelimit4 +$lim: expected $want to $heavy_sent of the heavy source's $heavy_sent"
# A new source (outside the flood's range) still finds room in the meter.
served 198.19.200.1 192.0.2.1 && ok "(b) a new client is served after the flood" ||
	fail "(b) a new client is not served after the flood"
# Every spoofed request is accepted (2 a source is within the burst), and
# an accepted one passed `update @rl4`: its source is in the meter.
spoofed=$((acc - POLL_N - (heavy_sent - lim)))
[ "$spoofed" -ge $((main_sent * 99 / 100)) ] &&
	ok "(b) the wall accepted $spoofed of $main_sent spoofed requests: 100,000 sources in the meter" ||
	fail "(b) the wall accepted $spoofed of $main_sent spoofed requests (< 99%)"
read -r r0 _ <<<"$b_stats"
read -r r1 _ <<<"$a_stats"
figure "(b) $(sed 's/^flood: //' "$T/flood") + heavy $(sed 's/^flood: //' "$T/heavy")"
figure "(b) accepted: spoofed $spoofed of $main_sent, heavy $((heavy_sent - lim)) of $heavy_sent (allowance $allow), serve-ratelimit4 +$lim"
figure "(b) chronyd received $((r1 - r0)), answered $rep, CPU $((ticks * 1000 / HZ)) ms; legitimate client $POLL_A/$POLL_N answered"
drops_print "$b_drops" "$a_drops"

# --- (c) IPv6: one /64 is one source ------------------------------------------
served 2001:db8:1:1::10 2001:db8::1 || fail "(c) the IPv6 client is not served through the wall"
b_lim=$(packets input serve-ratelimit6)
poll_start 2001:db8:1:1::10 2001:db8::1
cli "$FLOOD" -i $VC -m $SMAC -d 2001:db8::1 -s 2001:db8:1::/64 -o 1 -N 1000 -c 10000 -r "$PPS" >"$T/flood" ||
	fail "(c) flood: $(cat "$T/flood")"
flood_out "$T/flood"
settle input serve-clients6 serve-ratelimit6
poll_stop
answered "(c) one /64 flooding"
lim=$(($(packets input serve-ratelimit6) - b_lim))
allow=$((16 * ELAPSED + 32))
want=$(((SENT - allow) * 9 / 10))
[ "$lim" -ge "$want" ] && ok "(c) 1000 addresses of one /64 limited as one source: serve-ratelimit6 +$lim of $SENT" ||
	fail "(c) serve-ratelimit6 +$lim of $SENT, expected >= $want"
srv nft list set inet $TABLE rl6 >"$T/rl6"
n=$(grep -o expires "$T/rl6" | wc -l)
[ "$n" = 2 ] && grep -q '2001:db8:1:: ' "$T/rl6" && grep -q '2001:db8:1:1:: ' "$T/rl6" &&
	ok "(c) the IPv6 meter holds two /64s" || fail "(c) the IPv6 meter: $(cat "$T/rl6")"
figure "(c) IPv6: 1000 addresses of one /64, 10 requests each: serve-ratelimit6 +$lim of $SENT; client in another /64 $POLL_A/$POLL_N answered"

# --- (d) refresh every second while a client polls ----------------------------
# The client's flow from one port stays one conntrack entry: the test's
# table counts it new once, established after.
new=$(probe new) est=$(probe established)
handles >"$T/handles"
b_lim=$(packets input serve-ratelimit4)
poll_start 198.18.0.10 192.0.2.1 40010
# The heavy source (in the meter since (b)) sends 100/s throughout: a
# meter emptied or replaced would give it a fresh burst each time.
ip netns exec "$CLI" "$FLOOD" -i $VC -m $SMAC -d 192.0.2.1 -s 198.18.0.99 -p 40999 \
	-c 6000 -r 100 >"$T/heavy" 2>&1 &
f2=$!
PIDS+=("$f2")
renewed=0
for _ in $(seq 60); do
	sleep 1 &
	tick=$!
	nw refresh "$T/p.yaml" >"$T/out" 2>&1 && grep -q '^refresh: 0 added, 0 removed, 1 renewed$' "$T/out" &&
		renewed=$((renewed + 1))
	wait $tick
done
wait $f2 || fail "(d) heavy source: $(cat "$T/heavy")"
flood_out "$T/heavy"
poll_stop
[ "$renewed" = 60 ] && ok "(d) 60 refreshes, each renewed the DNS element" ||
	fail "(d) $renewed of 60 refreshes renewed the DNS element; the last said: $(cat "$T/out")"
answered "(d) refresh every second"
handles | cmp -s - "$T/handles" &&
	ok "(d) the rules kept their handles" || fail "(d) refresh changed the table's handles"
# The heavy source's bucket: at most burst + rate (48, a bucket idle since
# (b) is full) and 16/s over its run rounded up, plus a second's margin;
# 60 fresh buckets would add 1,920.
heavy=$((SENT - ($(packets input serve-ratelimit4) - b_lim)))
allow=$((48 + 16 * (ELAPSED + 1)))
[ "$heavy" -le "$allow" ] && ok "(d) the meter kept the heavy source's bucket: $heavy of $SENT accepted (<= $allow)" ||
	fail "(d) the heavy source got $heavy of $SENT accepted, more than $allow: the meter was reset"
new=$(($(probe new) - new)) est=$(($(probe established) - est))
[ "$new" = 1 ] && [ "$est" = $((POLL_N - 1)) ] &&
	ok "(d) the client's flow stayed one conntrack entry ($new new, $est established)" ||
	fail "(d) the client's flow: $new new, $est established, $POLL_N requests"
figure "(d) 60 refreshes in 60 s: legitimate client $POLL_A/$POLL_N answered (conntrack: $new new, $est established); heavy source $heavy of $SENT accepted (allowance $allow)"

# flood's checksums are right: the kernel took every request it sent.
csum=$(srv awk '/^Udp:/ { if (h) { print $8 } else h = 1 }' /proc/net/snmp)
csum6=$(srv awk '$1 == "Udp6InCsumErrors" { print $2 }' /proc/net/snmp6)
[ "$csum" = 0 ] && [ "$csum6" = 0 ] && ok "no UDP checksum errors in srv (IPv4 and IPv6)" ||
	fail "UDP checksum errors in srv: IPv4 $csum, IPv6 $csum6"

[ $fails = 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "load: all checks passed"
