#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Packet-path benchmark (issue 14): what a host's firewall costs the traffic
# it passes, on one veth pair between two network namespaces:
#   srv: 192.0.2.1; a chronyd (-x, local stratum 1, allow all) on port 123,
#        a sink (udp_blast) on port 9000, and the host's own base ruleset
#        with one conntrack rule (`ct state invalid drop` in table inet
#        filter, chain input), as most firewalled hosts have.
#   cli: 192.0.2.2, and the served client 198.19.56.121 in the last of the
#        client prefixes (so that a per-prefix rule list is walked whole).
# Configurations:
#   a     the conntrack rule only;
#   b     + `ntpwall apply` of a served-client policy like
#         policies/lan-server.yaml (restrict: noquery, nomodify, nopeer,
#         version 3-4, an ignore prefix, a query_from host; otherwise drop)
#         without a per-source rate limit, so the figure is the rules' cost,
#         with 10 client prefixes;
#   c     the same with 10,000 client prefixes;
#   m     the least any wall that judges both directions costs: a table of
#         two rules by hand, the served clients' request accepted on input
#         and their reply on output (the 10 prefixes' set, the NTP mode,
#         conntrack state, a counter: ntpwall's own serve and reply rules),
#         other NTP dropped; no restrict checks;
#   d10, d10k  the classic iptables recipe instead of ntpwall
#         (`iptables-legacy -A INPUT -s PREFIX -p udp --dport 123 -j ACCEPT`
#         per prefix, then a DROP of the rest of udp/123), 10 and 10,000.
# The prefixes are /30s 8 addresses apart in 198.18.0.0/15 (no two adjacent,
# so no set merges them). Each round sets up every configuration in turn
# (the order alternates from round to round, so a drift in the machine's
# load hits all alike) and measures, for SECONDS each:
#   udp/s  48-byte datagrams to port 9000 as fast as one sender can, counted
#          by the sink (received / span from its first datagram to its last);
#   ntp/s  NTP client requests (mode 3, 48 bytes) as fast as one sender can,
#          counting chronyd's replies (replies / SECONDS).
# Prints every round, then the medians, and the medians of the ratios
# against (a) of the same round.
# Reported, not asserted: exit 0 unless a step fails; 77 when the machine
# cannot run it (no namespaces, chronyd, nft or iptables-legacy).
# Usage: bench_path.sh [--rounds N] [--seconds S]   (root; env: NTPWALL,
#        default build/ntpwall; UDP_BLAST, default next to NTPWALL's
#        tests/udp_blast)
set -u
ROUNDS=5
SECS=2
while [ $# -gt 0 ]; do
	case $1 in
	--rounds) ROUNDS=${2:?}; shift 2 ;;
	--seconds) SECS=${2:?}; shift 2 ;;
	*) echo "usage: bench_path.sh [--rounds N] [--seconds S]" >&2; exit 2 ;;
	esac
done
NTPWALL=${NTPWALL:-build/ntpwall}
BLAST=${UDP_BLAST:-$(dirname "$NTPWALL")/tests/udp_blast}
SRV=ntpw-path-srv-$$
CLI=ntpw-path-cli-$$
VS=ntpwp-s$$
VC=ntpwp-c$$
T=$(mktemp -d /tmp/ntpwall-benchpath.XXXXXX) || exit 1
S=$T/state
TABLE=ntpwall_bench
CONFIGS=(a b c m d10 d10k)
PIDS=()

skip() {
	echo "bench_path.sh: skipped: $*"
	exit 77
}
die() {
	echo "bench_path.sh: $*" >&2
	exit 1
}
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	ip netns del "$SRV" 2>/dev/null
	ip netns del "$CLI" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

for tool in chronyd nft ip iptables-legacy-restore; do
	command -v $tool >/dev/null || skip "$tool not installed"
done
[ -x "$NTPWALL" ] || die "no ntpwall at $NTPWALL (set NTPWALL)"
[ -x "$BLAST" ] || die "no udp_blast at $BLAST (set UDP_BLAST)"
NTPWALL=$(realpath "$NTPWALL")
BLAST=$(realpath "$BLAST")
# Never the host's /run/xtables.lock: iptables-legacy honours this too.
export XTABLES_LOCKFILE=$T/xtables.lock

ip netns add "$SRV" 2>/dev/null || skip "cannot create a network namespace"
ip netns add "$CLI" || die "cannot create a second network namespace"
srv() { ip netns exec "$SRV" "$@"; }
# Senders on one CPU, receivers (sink, chronyd) on another: left to the
# scheduler, chronyd sometimes shares the sender's CPU, and its replies/s
# fall by two thirds for that measurement.
PIN_TX=() PIN_RX=()
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
	PIN_TX=(taskset -c 0) PIN_RX=(taskset -c 1)
fi
cli() { ip netns exec "$CLI" "$@"; }

# The client prefixes are 198.18.0.0 + 8 i, i = 0..N-2, /30 each, and the
# served client's own, the last: prefix CLIENT_N of the largest configuration.
CLIENT_N=9999
CLIENT=198.19.56.121

# prefixes N: the N client prefixes, the client's last.
prefixes() {
	awk -v n="$1" -v last=$CLIENT_N 'function p(i, a) {
			a = 198 * 16777216 + 18 * 65536 + 8 * i
			printf "%d.%d.%d.%d/30\n", int(a / 16777216) % 256, int(a / 65536) % 256,
				int(a / 256) % 256, a % 256
		}
		BEGIN { for (i = 0; i < n - 1; i++) p(i); p(last) }'
}

setup_net() {
	ip link add $VS netns "$SRV" type veth peer name $VC netns "$CLI" || die "no veth pair"
	ip -n "$SRV" link set lo up
	ip -n "$CLI" link set lo up
	ip -n "$SRV" addr add 192.0.2.1/24 dev $VS
	ip -n "$CLI" addr add 192.0.2.2/24 dev $VC
	ip -n "$SRV" link set $VS up
	ip -n "$CLI" link set $VC up
	ip -n "$SRV" route add 198.18.0.0/15 via 192.0.2.2
	srv sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.$VS.rp_filter=0
	# The host's own ruleset: one conntrack rule.
	srv nft -f - <<-EOF || die "base ruleset"
	table inet filter {
		chain input {
			type filter hook input priority filter; policy accept;
			ct state invalid drop
		}
	}
	EOF
}

# policy N FILE: lan-server.yaml's shape, no rate limit, N client prefixes.
policy() {
	{
		printf '%s\n' "version: 1" "table: $TABLE" "families: [ipv4]" "upstreams:" \
			"  - server: 198.51.100.1" "serve:" "  notrack: false" "  clients:"
		prefixes "$1" | sed 's/^/    - /'
		printf '%s\n' "restrict:" "  noquery: true" "  nomodify: true" "  nopeer: true" \
			"  noserve: false" "  version: [3, 4]" "  ignore: [203.0.113.0/24]" \
			"  query_from: [192.0.2.99]" "otherwise: drop"
	} >"$2"
}

# ipt_rules N FILE: the classic recipe, for iptables-legacy-restore.
ipt_rules() {
	{
		echo "*filter"
		prefixes "$1" | sed 's/.*/-A INPUT -s & -p udp --dport 123 -j ACCEPT/'
		echo "-A INPUT -p udp --dport 123 -j DROP"
		echo "COMMIT"
	} >"$2"
}

# minimal_wall FILE: configuration m, for nft -f.
minimal_wall() {
	cat >"$1" <<-EOF
	table inet $TABLE {
		set clients4 {
			type ipv4_addr; flags interval
			elements = { $(prefixes 10 | paste -sd, -) }
		}
		chain input {
			type filter hook input priority filter; policy accept;
			udp dport 123 ip saddr @clients4 @th,64,8 & 0x7 == 3 ct state new,established counter accept
			udp dport 123 counter drop
		}
		chain output {
			type filter hook output priority filter; policy accept;
			udp sport 123 ip daddr @clients4 @th,64,8 & 0x7 == 4 ct state established counter accept
			udp sport 123 counter drop
		}
	}
	EOF
}

start_daemons() {
	mkdir -m 700 "$T/chrony"
	printf '%s\n' "local stratum 1" "allow all" "cmdport 0" "bindcmdaddress $T/chrony/sock" \
		"pidfile $T/chrony/pid" "driftfile $T/chrony/drift" >"$T/chrony.conf"
	# Started by `ip netns exec` directly: $! is then the daemon's pid.
	ip netns exec "$SRV" "${PIN_RX[@]}" chronyd -x -d -u root -f "$T/chrony.conf" >"$T/chronyd.log" 2>&1 &
	PIDS+=($!)
	for _ in $(seq 50); do
		cli "$BLAST" send -n -t 1 -r 10 192.0.2.1 123 2>/dev/null | grep -q 'replies [1-9]' && return
	done
	die "chronyd does not answer: $(cat "$T/chronyd.log")"
}

# configure NAME: make the configuration live (from a bare base ruleset).
configure() {
	case $1 in
	a) ;;
	b) srv "$NTPWALL" --state-dir "$S" --run-dir "$T/run" apply "$T/p10.yaml" >>"$T/ntpwall.log" 2>&1 ;;
	c) srv "$NTPWALL" --state-dir "$S" --run-dir "$T/run" apply "$T/p10000.yaml" >>"$T/ntpwall.log" 2>&1 ;;
	m) srv nft -f "$T/m.nft" ;;
	d10) srv iptables-legacy-restore <"$T/i10.rules" ;;
	d10k) srv iptables-legacy-restore <"$T/i10000.rules" ;;
	esac
}
# unconfigure NAME: back to the bare base ruleset.
unconfigure() {
	case $1 in
	b | c) srv "$NTPWALL" --state-dir "$S" --run-dir "$T/run" remove >>"$T/ntpwall.log" 2>&1 ;;
	m) srv nft delete table inet $TABLE ;;
	d10 | d10k) srv iptables-legacy -F INPUT ;;
	esac
}

# measure_udp: datagrams/s to port 9000, as the sink counted them.
measure_udp() {
	local out=$T/sink.out n span
	: >"$out"
	ip netns exec "$SRV" "${PIN_RX[@]}" "$BLAST" sink 9000 >"$out" &
	local pid=$!
	until grep -q ready "$out"; do sleep 0.05; done
	cli "${PIN_TX[@]}" "$BLAST" send -t "$SECS" 192.0.2.1 9000 >/dev/null || return 1
	wait $pid
	read -r _ n _ span < <(grep received "$out")
	awk -v n="$n" -v s="$span" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }'
}
# measure_ntp: chronyd's replies/s to the served client.
measure_ntp() {
	local n
	n=$(cli "${PIN_TX[@]}" "$BLAST" send -n -s "$CLIENT" -t "$SECS" 192.0.2.1 123) || return 1
	awk -v n="${n##* }" -v s="$SECS" 'BEGIN { printf "%.0f", n / s }'
}

# median FILE: the median of a column of numbers.
median() {
	sort -n "$1" | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2];
		else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

setup_net
ip -n "$CLI" addr add "$CLIENT/32" dev $VC
for n in 10 10000; do
	policy $n "$T/p$n.yaml"
	ipt_rules $n "$T/i$n.rules"
done
minimal_wall "$T/m.nft"
srv iptables-legacy -L -n >/dev/null || die "iptables-legacy"
start_daemons
# gate CONFIG: under it the served client is answered and others are not.
gate() {
	configure "$1" || die "configuration $1 does not load"
	cli "$BLAST" send -n -s "$CLIENT" -t 1 -r 100 192.0.2.1 123 | grep -q 'replies [1-9]' ||
		die "the served client gets no answer through configuration $1"
	cli "$BLAST" send -n -s 192.0.2.2 -t 1 -r 100 192.0.2.1 123 | grep -q 'replies 0' ||
		die "an unlisted client is answered through configuration $1"
	unconfigure "$1"
}
gate b
gate m

# A warm-up, not counted: the first measurement of a fresh pair runs slow.
measure_udp >/dev/null && measure_ntp >/dev/null || die "warm-up failed"

echo "bench_path: $ROUNDS rounds of $SECS s per measurement, $(nproc) CPUs${PIN_TX:+, senders on CPU 0, receivers on CPU 1}"
printf '%-6s %-5s %12s %12s\n' round config "udp/s" "ntp/s"
start=$EPOCHREALTIME
for r in $(seq "$ROUNDS"); do
	order=("${CONFIGS[@]}")
	# Alternate the order: forwards in odd rounds, backwards in even ones.
	[ $((r % 2)) = 0 ] && order=(d10k d10 m c b a)
	for c in "${order[@]}"; do
		configure "$c" || die "configuration $c failed"
		u=$(measure_udp) || die "udp measurement failed ($c)"
		n=$(measure_ntp) || die "ntp measurement failed ($c)"
		unconfigure "$c" || die "removing configuration $c failed"
		echo "$u" >>"$T/udp.$c"
		echo "$n" >>"$T/ntp.$c"
		printf '%-6s %-5s %12s %12s\n' "$r" "$c" "$u" "$n"
	done
done

describe() {
	case $1 in
	a) echo "conntrack rule only" ;;
	b) echo "+ ntpwall, 10 client prefixes" ;;
	c) echo "+ ntpwall, 10,000 client prefixes" ;;
	m) echo "+ minimal wall (2 rules), 10" ;;
	d10) echo "+ iptables per-prefix, 10" ;;
	d10k) echo "+ iptables per-prefix, 10,000" ;;
	esac
}
# ratios KIND C: C's figure over (a)'s of the same round, one a line.
ratios() { paste "$T/$1.$2" "$T/$1.a" | awk '{ printf "%.4f\n", $1 / $2 }'; }
echo
echo "medians of $ROUNDS rounds; in brackets the median of the rounds' ratios against"
echo "the conntrack rule only (each round's own (a), so a drift between rounds cancels):"
printf '%-36s %18s %18s\n' configuration "other UDP/s" "served NTP/s"
for c in "${CONFIGS[@]}"; do
	ratios udp "$c" >"$T/r"
	ru=$(median "$T/r")
	ratios ntp "$c" >"$T/r"
	rn=$(median "$T/r")
	printf '%-36s %10.0f (%.2fx) %10.0f (%.2fx)\n' "$(describe "$c")" "$(median "$T/udp.$c")" "$ru" \
		"$(median "$T/ntp.$c")" "$rn"
done
echo "run time: $(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }') s"
