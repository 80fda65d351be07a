#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# `ntpwall explain` against real packets. Every golden policy (policies/ and
# tests/golden/) is applied with `ntpwall apply` in a namespace of its own
# (the wall, W), its names answered by a dnsmasq inside W; a second
# namespace (P) joined to W by a veth pair (W's end named eth0, the
# interface the interface-scoped goldens name) sends NTP packets from
# documentation addresses to W, and W sends its own to P. For each packet,
# the rules whose counters moved (`nft -j list table`) must be exactly the
# rules explain's trace says the packet meets, in the live generation's
# rules (explain without POLICY, from the state); explain POLICY (every
# fourth packet) must give the same answer, and so must a user who may not
# read the state (from the published choice, once per policy). Packets:
# client, query, write, mode 7, old-version and peer requests to W,
# unsolicited replies, W's requests to upstreams and to strangers, and
# replies in established flows (a request first), IPv4 and IPv6. The
# policies are copied with the DNS server added and `daemon:` left out
# (neither changes a rule), and the log rules' limit raised to 10000/second
# so that a log rule on explain's trace (explain assumes it within its
# limit) always counts: only the limit changes, never what decides.
# Usage: explain.sh NTP_SEND   (root; exit 77 = skip)
set -u
SEND=${1:?usage: explain.sh NTP_SEND}
: "${NTPWALL:?}" "${SRCDIR:?}"
W=ntpw-explain-w-$$
P=ntpw-explain-p-$$
TMP=$(mktemp -d /tmp/ntpwall-explain.XXXXXX) || exit 1
DNS_PID=
fail=0
checks=0

skip() {
	echo "SKIP: $*"
	[ "${NTPWALL_REQUIRE_NETNS:-0}" = 1 ] && exit 1
	exit 77
}
stop_dns() {
	if [ -n "$DNS_PID" ]; then
		kill "$DNS_PID" 2>/dev/null
		wait "$DNS_PID" 2>/dev/null
	fi
	DNS_PID=
}
cleanup() {
	stop_dns
	ip netns del "$W" 2>/dev/null
	ip netns del "$P" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

for tool in nft ip jq dnsmasq setpriv nsenter; do
	command -v $tool >/dev/null || skip "$tool not installed"
done
[ "$(id -u)" = 0 ] || skip "not root"
ip netns add "$P" 2>/dev/null || skip "cannot create a network namespace"
# nsenter, not ip netns exec: no mount namespace to set up per call.
w() { nsenter --net="/run/netns/$W" "$@"; }
p() { nsenter --net="/run/netns/$P" "$@"; }
ok() { checks=$((checks + 1)); }
bad() { echo "FAIL: $*"; fail=1; }

p ip link set lo up
chmod 755 "$TMP"	# the unprivileged explain reads the policy copies

# The names of the goldens, each to documentation addresses.
records() {
	local r
	for r in uk.pool.ntp.org,192.0.2.41 uk.pool.ntp.org,192.0.2.42 \
		uk.pool.ntp.org,192.0.2.43 uk.pool.ntp.org,192.0.2.44 \
		uk.pool.ntp.org,2001:db8:40::1 uk.pool.ntp.org,2001:db8:40::2 \
		de.pool.ntp.org,198.51.100.41 de.pool.ntp.org,198.51.100.42 \
		de.pool.ntp.org,2001:db8:41::1 ntp1.example.net,192.0.2.11,2001:db8::11 \
		ntp2.example.net,192.0.2.12 nts.example.net,192.0.2.13,2001:db8::13 \
		peer.example.net,198.51.100.31; do
		echo "--host-record=$r,3600"
	done
}

# A fresh wall namespace (its own conntrack table) joined to P, with a
# DNS server on its loopback.
wall_up() {
	# The peer end first: deleting it takes the pair at once, while a
	# deleted namespace frees its devices later ("File exists" below).
	p ip link del "ntpw-p$$" 2>/dev/null
	ip netns del "$W" 2>/dev/null
	ip netns add "$W" || return 1
	ip link add eth0 netns "$W" type veth peer name "ntpw-p$$" netns "$P" || return 1
	w ip link set lo up
	w ip addr add 198.18.0.1/24 dev eth0
	w ip addr add 2001:db8:ffff::1/64 dev eth0 nodad
	w ip link set eth0 up
	p ip addr add 198.18.0.2/24 dev "ntpw-p$$"
	p ip addr add 2001:db8:ffff::2/64 dev "ntpw-p$$" nodad
	p ip link set "ntpw-p$$" up
	w ip route add default via 198.18.0.2
	w ip -6 route add default via 2001:db8:ffff::2
	p ip route replace default via 198.18.0.1
	p ip -6 route replace default via 2001:db8:ffff::1
	rm -f "$TMP/dnsmasq.log"
	# shellcheck disable=SC2046
	ip netns exec "$W" dnsmasq --keep-in-foreground --no-resolv --no-hosts \
		--conf-file=/dev/null --user=root --bind-interfaces --listen-address=127.0.0.1 \
		--port=53 --local=/example.net/ --local=/ntp.org/ --cache-size=0 \
		--log-facility="$TMP/dnsmasq.log" --pid-file="$TMP/dnsmasq.pid" \
		$(records) 2> "$TMP/dnsmasq.err" &
	DNS_PID=$!
	for _ in $(seq 50); do
		grep -q "started, version" "$TMP/dnsmasq.log" 2>/dev/null && return 0
		sleep 0.1
	done
	cat "$TMP/dnsmasq.err" "$TMP/dnsmasq.log" 2>/dev/null
	return 1
}

# counters TABLE: "chain comment packets", a line per rule (comment "-"
# when none, packets "-" without a counter), named by the base chain: the
# kernel holds a base chain's rules in chains of its own (CHAIN-ntp,
# CHAIN-mode<N>, doc/design.md "Packet path"), explain names the rules as
# compiled. A comment is unique in its chain.
counters() {
	w nft -j list table inet "$1" | jq -r '
		.nftables[] | .rule? // empty |
		"\(.chain | sub("-(ntp|mode[0-7])$"; "")) \(.comment // "-") " +
		"\([.expr[] | .counter? // empty | .packets] | first // "-")"'
}
# compare BEFORE AFTER WANT GOT: the rules whose counters moved from BEFORE
# to AFTER ("chain comment", into GOT) are exactly WANT's.
compare() {
	awk -v wantf="$3" -v gotf="$4" '
		FILENAME == ARGV[1] { before[$1 " " $2] = $3; next }
		($1 " " $2) in before && before[$1 " " $2] != $3 { got[$1 " " $2] }
		END {
			printf "" > gotf
			for (r in got)
				print r > gotf
			while ((getline r < wantf) > 0)
				want[r]
			for (r in got)
				if (!(r in want))
					differ = 1
			for (r in want)
				if (!(r in got))
					differ = 1
			exit differ
		}' "$1" "$2"
}

# The first address of set NAME of table T, or nothing.
set_first() {
	w nft -j list set inet "$1" "$2" 2>/dev/null | jq -r '
		[.nftables[] | .set? // empty | .elem[]? |
		 if type == "object" then (.elem.val // .prefix.addr) else . end] | first // empty'
}

# ntp_hex MODE VERSION BYTE1: HEX = the first bytes of the header (ntp_send
# -z pads to 48); BYTE1 is the opcode byte of mode 6 (with the response
# bit) and the stratum of other modes; a mode-7 request names
# implementation 3, request 42. (Variables, not output: every process
# counts when a test runs some 200 packets.)
ntp_hex() {
	if [ "$1" = 7 ]; then
		printf -v HEX '%02x00032a' $((($2 << 3) | 7))
	else
		printf -v HEX '%02x%02x' $((($2 << 3) | $1)) "$3"
	fi
}

# ep VAR ADDR PORT: VAR = the endpoint as explain takes it.
ep() {
	case $2 in
	*:*) printf -v "$1" '[%s]:%s' "$2" "$3" ;;
	*) printf -v "$1" '%s:%s' "$2" "$3" ;;
	esac
}

# The answer of explain: the verdict, then the trace, "chain rule comment"
# a line.
answer() {
	jq -r '.verdict, (.trace[] | "\(.chain) \(.rule) \(.comment // "")")' "$1"
}

# The state of a reply in the flow that the request of answer file $1
# started: established when the request went through tracked, not dropped.
reply_state() {
	jq -r 'if (.verdict == "accept" or .verdict == "continue") and
		([.trace[] | select(.action == "notrack")] | length) == 0
		then "established" else "new" end' "$1"
}

# The packets, "what|dir|from|fport|to|tport|mode|version|byte1|state",
# where state "reply:K" is the state packet K (from 1) leaves its reply.
scenarios() {
	cat <<-EOF
	client request|in|192.0.2.7|40001|$W4|123|3|4|0|new
	client request (stratum2's clients)|in|198.51.100.7|40002|$W4|123|3|4|0|new
	request from restrict.ignore's range|in|203.0.113.7|40003|$W4|123|3|4|0|new
	NTPv3 request|in|192.0.2.21|40004|$W4|123|3|3|0|new
	NTPv2 request|in|192.0.2.20|40005|$W4|123|3|2|0|new
	mode-6 readvar|in|192.0.2.17|40006|$W4|123|6|2|2|new
	mode-6 readvar from lan-server's query_from|in|192.0.2.99|40007|$W4|123|6|2|2|new
	mode-6 readvar from stratum2's query_from|in|198.51.100.99|40008|$W4|123|6|2|2|new
	mode-6 write (opcode 8)|in|192.0.2.18|40009|$W4|123|6|2|8|new
	mode-7 monlist|in|192.0.2.19|40010|$W4|123|7|2|0|new
	symmetric active from a peer|in|$PEER4|123|$W4|123|1|4|0|new
	symmetric active from a stranger|in|198.51.100.77|123|$W4|123|1|4|0|new
	IPv6 client request|in|2001:db8:1::7|40011|$W6|123|3|4|0|new
	IPv6 client request (stratum2's clients)|in|2001:db8:100::7|40012|$W6|123|3|4|0|new
	IPv6 mode-6 readvar|in|2001:db8:5::7|40013|$W6|123|6|2|2|new
	request to a stranger|out|$W4|40020|203.0.113.9|123|3|4|0|new
	symmetric active to a peer|out|$W4|123|$PEER4|123|1|4|0|new
	client request (flow)|in|192.0.2.22|40031|$W4|123|3|4|0|new
	the wall's reply|out|$W4|123|192.0.2.22|40031|4|4|0|reply:18
	readvar from query_from (flow)|in|192.0.2.99|40032|$W4|123|6|2|2|new
	the wall's readvar response|out|$W4|123|192.0.2.99|40032|6|2|130|reply:20
	IPv6 client request (flow)|in|2001:db8:1::8|40033|$W6|123|3|4|0|new
	the wall's IPv6 reply|out|$W6|123|2001:db8:1::8|40033|4|4|0|reply:22
	EOF
	[ -n "$U4" ] && cat <<-EOF
	unsolicited reply from an upstream|in|$U4|123|$W4|40014|4|4|0|new
	request to an upstream|out|$W4|40030|$U4|123|3|4|0|new
	the upstream's reply|in|$U4|123|$W4|40030|4|4|0|reply:25
	the upstream's reply as NTPv3|in|$U4|123|$W4|40030|4|3|0|reply:25
	EOF
	[ -n "$U6" ] && echo "IPv6 request to an upstream|out|$W6|40021|$U6|123|3|4|0|new"
	return 0
}

# explain_one K: explain packet K (fields in S_*) from the live generation
# (K.live), and every fourth packet from the policy too (K.policy); K.check
# says what is wrong with the answers, K.want is the trace.
explain_one() {
	local k=$1 n=$TMP/$NAME.$1 state=${S_state[$1]} args rc pol='' pfile=/dev/null from to l
	[ "${state#reply:}" != "$state" ] && state=$(reply_state "$TMP/$NAME.${state#reply:}.live")
	ep from "${S_from[$k]}" "${S_fport[$k]}"
	ep to "${S_to[$k]}" "${S_tport[$k]}"
	args=(--from "$from" --to "$to" --mode "${S_mode[$k]}" --version "${S_ver[$k]}"
		--direction "${S_dir[$k]}" --state "$state" --format json)
	[ "${S_mode[$k]}" = 6 ] && args+=(--opcode $((S_byte1[k] & 31)))
	echo "${args[*]}" > "$n.args"
	# LeakSanitizer's exit scan costs a sanitized build 0.1 s of CPU a
	# run; the first packet's run and the policy's runs keep it.
	if [ "$k" = 1 ]; then
		"$NTPWALL" --state-dir "$ST" explain "${args[@]}" > "$n.live" 2> "$n.err"
	else
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
			"$NTPWALL" --state-dir "$ST" explain "${args[@]}" > "$n.live" 2> "$n.err"
	fi
	rc=$?
	if [ $((k % 4)) = 1 ]; then
		pfile=$n.policy
		"$NTPWALL" --state-dir "$ST" explain "$POLICY" "${args[@]}" > "$pfile" 2>> "$n.err"
		pol=$?
	fi
	# The exit code goes with the verdict; the answer is the state's and
	# understood; the policy's (when asked) is the same.
	jq -r --arg rc "$rc" --arg pol "$pol" --slurpfile p "$pfile" '
		def answer: [.verdict, (.trace[] | [.chain, .rule, .comment])];
		(if .verdict == "drop" or .verdict == "reject" then "1" else "0" end) as $want |
		if $rc != $want then "exit \($rc) for \(.verdict)"
		elif .rules.source != "state" then "rules from \(.rules.source)"
		elif .verdict == "unknown" then "unknown: \(.unknown)"
		elif $pol != "" and ($pol != $want or ($p | length) != 1 or ($p[0] | answer) != answer)
		then "explain POLICY answers otherwise (exit \($pol)): \($p | map(answer))"
		else empty end,
		(.trace[] | "T \(.chain) \(.comment // "-")")' "$n.live" > "$n.out" 2>&1 ||
		echo "no answer" >> "$n.out"
	[ -s "$n.live" ] || echo "no answer, exit $rc" >> "$n.out"
	: > "$n.want"
	: > "$n.check"
	while IFS= read -r l; do
		case $l in
		"T "*) echo "${l#T }" >> "$n.want" ;;
		*) echo "$l" >> "$n.check" ;;
		esac
	done < "$n.out"
}

# explain_all: every packet's explain, three at a time (a reply after its
# request's). Waits for these jobs only: dnsmasq is one too.
explain_all() {
	local k pids=()
	for k in $(seq 1 "$NS"); do
		[ "${S_state[$k]#reply:}" != "${S_state[$k]}" ] && continue
		explain_one "$k" &
		pids+=($!)
		if ((${#pids[@]} >= 3)); then
			wait "${pids[0]}"
			pids=("${pids[@]:1}")
		fi
	done
	for k in $(seq 1 "$NS"); do
		[ "${S_state[$k]#reply:}" = "${S_state[$k]}" ] && continue
		wait "${pids[@]}"	# the requests' answers first
		pids=()
		explain_one "$k" &
		pids+=($!)
	done
	wait "${pids[@]}"
}

# check_explain K: what explain_one found wrong.
check_explain() {
	local n=$TMP/$NAME.$1
	[ -s "$n.check" ] || return 0
	bad "$NAME: ${S_what[$1]}: explain $(cat "$n.args"): $(cat "$n.check") $(cat "$n.err")"
	return 1
}

# check_packet K: send packet K; the rules whose counters moved are its
# trace. BEFORE holds the counters before it, and the counters after it on
# return. The packet has been through every hook by the time the sender
# returns, almost always; a slow machine gets a moment.
check_packet() {
	local k=$1 n=$TMP/$NAME.$1 ns=$P i same=
	[ "${S_dir[$k]}" = out ] && ns=$W
	ntp_hex "${S_mode[$k]}" "${S_ver[$k]}" "${S_byte1[$k]}"
	# A drop in output fails the sender's sendto (EPERM).
	if ! nsenter --net="/run/netns/$ns" "$SEND" -s "${S_from[$k]}" -p "${S_fport[$k]}" -z \
		"${S_to[$k]}" "${S_tport[$k]}" "$HEX" 2> "$n.send" &&
		! { [ "$ns" = "$W" ] && grep -q 'not permitted' "$n.send"; }; then
		bad "$NAME: ${S_what[$k]}: could not send: $(cat "$n.send")"
	fi
	for ((i = 0; i < 20; i++)); do
		((i)) && sleep 0.05
		counters "$TABLE" > "$n.after"
		compare "$BEFORE" "$n.after" "$n.want" "$n.got" && same=1 && break
	done
	BEFORE=$n.after
	if [ -n "$same" ]; then
		ok
		[ -n "${VERBOSE:-}" ] && echo "ok: $NAME: ${S_what[$k]}: $(jq -r .verdict "$n.live")" \
			"$(tail -n 1 "$n.want")"
		return 0
	fi
	bad "$NAME: ${S_what[$k]} (explain $(cat "$n.args")): explain says $(jq -r .verdict "$n.live")," \
		"[$(tr '\n' ';' < "$n.want")], the counters moved [$(tr '\n' ';' < "$n.got")]"
}

W4=198.18.0.1
W6=2001:db8:ffff::1
policies=0
for src in "$SRCDIR"/policies/*.yaml "$SRCDIR"/tests/golden/*.yaml; do
	NAME=$(basename "$src" .yaml)
	POLICY=$TMP/$NAME.yaml
	ST=$TMP/state.$NAME
	# daemon: and its indented lines out; the DNS server in; the log limit up.
	awk '/^daemon:/ { skip = 1; next } skip && /^[ \t]/ { next }
		/^log_(rate|burst):/ { skip = 0; next } { skip = 0; print }' "$src" > "$POLICY"
	printf 'resolvers: ["127.0.0.1"]\nresolve: {timeout: 1s, attempts: 2}\n' >> "$POLICY"
	printf 'log_rate: 10000/second\nlog_burst: 10000\n' >> "$POLICY"
	wall_up || { bad "$NAME: namespace or DNS"; stop_dns; continue; }
	if ! w "$NTPWALL" --state-dir "$ST" -q apply "$POLICY" > "$TMP/apply.out" 2>&1; then
		bad "$NAME: apply failed: $(cat "$TMP/apply.out")"
		stop_dns
		continue
	fi
	TABLE=$(jq -r '.table' "$ST-run/upstreams.json")
	U4=$(set_first "$TABLE" upstreams4)
	U6=$(set_first "$TABLE" upstreams6)
	PEER4=$(set_first "$TABLE" peers4)
	: "${PEER4:=198.51.100.8}"
	S_what=() S_dir=() S_from=() S_fport=() S_to=() S_tport=() S_mode=() S_ver=()
	S_byte1=() S_state=()
	NS=0
	while IFS='|' read -r what dir from fport to tport mode ver byte1 state; do
		NS=$((NS + 1))
		S_what[NS]=$what S_dir[NS]=$dir S_from[NS]=$from S_fport[NS]=$fport S_to[NS]=$to
		S_tport[NS]=$tport S_mode[NS]=$mode S_ver[NS]=$ver S_byte1[NS]=$byte1 S_state[NS]=$state
		# P owns every address it sends from (IPv4 sends from no other).
		if [ "$dir" = in ]; then
			case $from in
			*:*) p ip addr replace "$from/128" dev lo nodad ;;
			*) p ip addr replace "$from/32" dev lo ;;
			esac
		fi
	done < <(scenarios)
	explain_all
	BEFORE=$TMP/$NAME.before
	counters "$TABLE" > "$BEFORE"
	for k in $(seq 1 "$NS"); do
		check_explain "$k" && check_packet "$k"
	done

	# A user who may not read the state: the published choice, same answer.
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$NTPWALL" --state-dir "$ST" \
		explain --from 192.0.2.7:40001 --to $W4 --mode 3 --direction in --format json \
		> "$TMP/nobody.json" 2> "$TMP/nobody.err"
	if jq -e '.rules.source == "published"' "$TMP/nobody.json" > /dev/null &&
		[ "$(answer "$TMP/nobody.json")" = "$(answer "$TMP/$NAME.1.live")" ]; then
		ok
	else
		bad "$NAME: unprivileged explain: $(cat "$TMP/nobody.err")"
		cat "$TMP/nobody.json"
	fi
	# The text says where the rules came from (once).
	if [ $policies = 0 ]; then
		"$NTPWALL" --state-dir "$ST" explain --from 192.0.2.7:40001 --to $W4 --mode 3 \
			--direction in > "$TMP/text" 2>&1
		grep -qE "^rules: generation 1 \([0-9T:Z-]+\) of $ST, from $POLICY\$" "$TMP/text" && ok ||
			bad "$NAME: text: no rules: line for the state: $(cat "$TMP/text")"
		setpriv --reuid=nobody --regid=nogroup --clear-groups "$NTPWALL" --state-dir "$ST" \
			explain --from 192.0.2.7:40001 --to $W4 --mode 3 --direction in > "$TMP/text" 2>&1
		l="rules: $POLICY as it is now, with the addresses $ST-run/upstreams.json"
		l="$l publishes for generation 1 ($ST: Permission denied)"
		grep -qxF "$l" "$TMP/text" && ok ||
			bad "$NAME: text: no rules: line for the published choice: $(cat "$TMP/text")"
	fi
	echo "$NAME: $NS packets, $((checks - ${last_checks:-0})) checks passed"
	last_checks=$checks
	policies=$((policies + 1))
	stop_dns
done
[ $policies -ge 7 ] || bad "only $policies policies"
[ $fail = 0 ] && echo "explain-netns: $policies policies, $checks checks passed"
exit $fail
