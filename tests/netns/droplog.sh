#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Drop logging that cannot flood, under backend: nft and backend: iptables,
# each in fresh namespaces: a wall (`ntpwall apply` of a policy with
# `otherwise: log`, `restrict: {ignore: [203.0.113.0/24], log: true}`,
# log_rate 6/minute, log_burst 4) and a sender joined by a veth pair. Three
# bursts of 200 datagrams each, sent back to back from one socket: mode 3
# from 192.0.2.20 (otherwise), mode 6 from 192.0.2.20 (restrict noquery)
# and mode 3 from the ignored 203.0.113.5 (restrict ignore, a rule over a
# set). Asserts, from the rules' own counters (the kernel log of a
# namespace other than the first stays silent: nf_log_all_netns is the
# host's and left alone): each drop counted all 200; its log rule logged at
# least one and at most burst + rate x the time since apply (+1 for the
# bucket's rounding); the log prefix is the rule's own, as `nft -j list
# table` and `iptables-legacy-save` show it. Under iptables, a log_rate
# its limit match cannot hold is refused first, with nothing changed.
# Usage: droplog.sh NTP_SEND   (env NTPWALL; root; exit 77 = skip)
set -u
: "${NTPWALL:?}"
SEND=${1:?usage: droplog.sh NTP_SEND}
T=$(mktemp -d /tmp/ntpwall-droplog.XXXXXX) || exit 1
export XTABLES_LOCKFILE=$T/xtables.lock
NSS=()
fails=0
TABLE=ntpw_dlog
RATE=6		# per minute
BURST=4
N=200

skip() {
	echo "SKIP: $*"
	[ "${NTPWALL_REQUIRE_NETNS:-0}" = 1 ] && exit 1
	exit 77
}
stop() {
	for ns in "${NSS[@]}"; do ip netns del "$ns" 2>/dev/null; done
	NSS=()
}
trap 'stop; rm -rf "$T"' EXIT
ok() { echo "ok: $*"; }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

for tool in nft ip iptables-legacy-save jq; do
	command -v $tool >/dev/null || skip "$tool not installed"
done
ip netns add "ntpw-dl-probe-$$" 2>/dev/null || skip "cannot create a network namespace"
ip netns del "ntpw-dl-probe-$$"

# setup B: the wall and the sender.
setup() {
	WALL=ntpw-dl-w-$1-$$ SND=ntpw-dl-s-$1-$$
	for ns in "$WALL" "$SND"; do ip netns add "$ns" && NSS+=("$ns") || return 1; done
	ip link add dw$$ netns "$WALL" type veth peer name ds$$ netns "$SND" || return 1
	for ns in "$WALL" "$SND"; do ip -n "$ns" link set lo up; done
	ip -n "$WALL" addr add 192.0.2.1/24 dev dw$$
	ip -n "$WALL" addr add 203.0.113.1/24 dev dw$$
	ip -n "$SND" addr add 192.0.2.20/24 dev ds$$
	ip -n "$SND" addr add 203.0.113.5/24 dev ds$$
	ip -n "$WALL" link set dw$$ up && ip -n "$SND" link set ds$$ up
}

policy() {
	cat <<EOF
version: 1
table: $TABLE
backend: $1
upstreams:
  - server: 198.51.100.1
  - server: "2001:db8:2::1"
restrict:
  ignore: [203.0.113.0/24]
  log: true
otherwise: log
log_prefix: "dlog: "
log_rate: $RATE/minute
log_burst: $BURST
EOF
}

# nft_rule COMMENT: "PACKETS PREFIX" of the rule with this comment in the
# input chain or the chains laid out under it (input-ntp, input-mode<N>:
# doc/design.md "Packet path"), "-" for a missing prefix; nothing when
# there is none.
nft_rule() {
	jq -r --arg c "$1" '.nftables[] | .rule? // empty |
		select((.chain == "input" or (.chain | test("^input-(ntp|mode[0-7])$"))) and
			.comment == $c) |
		"\([.expr[] | .counter? // empty | .packets] | first // "-") \([.expr[] | .log? // empty | .prefix] | first // "-")"' \
		"$T/list.json"
}

# ipt_rule COMMENT TARGET: the same from iptables-legacy-save -c: the
# entry with this comment and target in the input chain's chains (for a
# rule over a set, the one in its statements' chain).
ipt_rule() {
	awk -v c="$1" -v t="$2" -v inp="-A $TABLE-I" '
		/^\[/ && index($0, inp) && $0 ~ ("--comment \"?" c "\"? -j " t "( |$)") {
			sub(/^\[/, "", $1)
			split($1, a, ":")
			p = "-"
			if (match($0, /--log-prefix "[^"]*"/))
				p = substr($0, RSTART + 14, RLENGTH - 15)
			print a[1] " " p
		}' "$T/save.txt"
}

# check B LABEL DROP LOG PREFIX: DROP counted N, LOG between 1 and the
# bound with PREFIX.
check() {
	local b=$1 label=$2 drop log got_d got_l pkt_l pre_l bound
	drop=$3 log=$4
	if [ "$b" = nft ]; then
		got_d=$(nft_rule "$drop") got_l=$(nft_rule "$log")
	else
		got_d=$(ipt_rule "$drop" DROP) got_l=$(ipt_rule "$log" LOG)
	fi
	[ "$(echo "$got_d" | wc -l)" = 1 ] && [ -n "$got_d" ] ||
		{ fail "$b $label: no single drop rule $drop: '$got_d'"; return; }
	[ -n "$got_l" ] && [ "$(echo "$got_l" | wc -l)" = 1 ] ||
		{ fail "$b $label: no single log rule $log: '$got_l'"; return; }
	[ "${got_d%% *}" = "$N" ] || fail "$b $label: $drop counted ${got_d%% *} packets, not all $N"
	pkt_l=${got_l%% *} pre_l=${got_l#* }
	# Tokens come back at RATE a minute from apply on, BURST at most.
	bound=$((BURST + RATE * ELAPSED_MS / 60000 + 1))
	if [ "$pkt_l" -ge 1 ] && [ "$pkt_l" -le "$bound" ]; then
		ok "$b $label: $N dropped, $pkt_l logged (at most $bound in $((ELAPSED_MS)) ms)"
	else
		fail "$b $label: $log logged $pkt_l of $N, want 1 to $bound"
	fi
	[ "$pre_l" = "$5" ] || fail "$b $label: prefix '$pre_l', want '$5'"
}

# A log_rate iptables' limit match cannot hold (110/second would read
# back as 111/second) is refused before anything changes: exit 2, NW124,
# no state, no chain.
odd_rate() {
	sed 's|^log_rate:.*|log_rate: 110/second|' "$T/p-iptables.yaml" >"$T/odd.yaml"
	ip netns exec "$WALL" "$NTPWALL" --state-dir "$T/state-odd" apply "$T/odd.yaml" >"$T/odd.out" 2>&1
	local rc=$?
	if [ $rc = 2 ] && grep -q 'NW124' "$T/odd.out" && [ ! -e "$T/state-odd" ] &&
		! ip netns exec "$WALL" iptables-legacy-save 2>/dev/null | grep -q "$TABLE"; then
		ok "iptables: a log_rate the limit match cannot hold is refused, nothing changed"
	else
		fail "iptables: log_rate 110/second: exit $rc: $(cat "$T/odd.out")"
	fi
}

run() {
	local b=$1 t0 t1
	setup "$b" || { fail "$b: setting up the namespaces"; stop; return; }
	policy "$b" >"$T/p-$b.yaml"
	[ "$b" = iptables ] && odd_rate
	t0=$(date +%s%N)
	ip netns exec "$WALL" "$NTPWALL" --state-dir "$T/state-$b" apply "$T/p-$b.yaml" \
		>"$T/apply-$b" 2>&1 || { fail "$b: apply: $(cat "$T/apply-$b")"; stop; return; }
	ip netns exec "$SND" "$SEND" -s 192.0.2.20 -n $N -z 192.0.2.1 123 23 ||
		fail "$b: sending mode 3"
	ip netns exec "$SND" "$SEND" -s 192.0.2.20 -n $N 192.0.2.1 123 \
		160200010000000000000000 || fail "$b: sending mode 6"
	ip netns exec "$SND" "$SEND" -s 203.0.113.5 -n $N -z 203.0.113.1 123 23 ||
		fail "$b: sending from the ignored source"
	# Counters are read after the sends: the time since apply bounds the
	# tokens any bucket got.
	ip netns exec "$WALL" nft -j list table inet $TABLE >"$T/list.json" 2>/dev/null
	ip netns exec "$WALL" iptables-legacy-save -c -t filter >"$T/save.txt" 2>/dev/null
	t1=$(date +%s%N)
	ELAPSED_MS=$(((t1 - t0) / 1000000))
	check "$b" otherwise otherwise-dport otherwise-dport-log "dlog oth-d: "
	check "$b" noquery restrict-noquery restrict-noquery-log "dlog nq: "
	check "$b" ignore restrict-ignore-dport4 restrict-ignore-dport4-log "dlog ign-d4: "
	stop
}

run nft
run iptables
[ $fails = 0 ] && echo "droplog: ok"
exit $((fails > 0))
