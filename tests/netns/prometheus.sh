#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# `status --format prometheus` and `probe --format prometheus` against a
# real kernel, a real DNS server (dnsmasq) and scripted NTP servers
# (fake_ntpd), inside private network and mount namespaces (the script
# re-executes itself). Every output is read by tests/prom_check.py, which
# parses it with the Prometheus client library's own parser and checks the
# families, their types and that each # TYPE names exactly its samples.
# Asserts: generation number and time, the table state (in sync, drifted,
# absent), rule packet and byte counters against packets sent, set sizes
# and the first expiry against nft's listing, the last refresh (done and
# failed), an error as ntpwall_status_exit_code 2 alone; per server
# offset, delay, stratum, reachability and verdict keyed by upstream and
# rank, the offset a server's; UNKNOWN as ntpwall_probe_exit_code 3 alone.
# Usage: prometheus.sh FAKE_NTPD   (env: NTPWALL, SRCDIR; exit 77 = skip)
set -u

if [ -z "${PROM_IN_NETNS:-}" ]; then
	if ! unshare -n -m true 2>/dev/null || ! command -v nft >/dev/null ||
		! command -v dnsmasq >/dev/null; then
		echo "prometheus.sh: cannot create namespaces (or no nft, dnsmasq)"
		[ "${NTPWALL_REQUIRE_NETNS:-0}" = 1 ] && exit 1
		exit 77
	fi
	PROM_IN_NETNS=1 exec unshare -n -m bash "$0" "$@"
fi

: "${NTPWALL:?}" "${SRCDIR:?}"
FAKE=${1:?usage: prometheus.sh FAKE_NTPD}
T=$(mktemp -d /tmp/ntpwall-prom.XXXXXX)
pids=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	for p in $pids; do wait "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
# The Debian package python3-prometheus-client is for the system python.
PY=/usr/bin/python3
CHECK=$SRCDIR/tests/prom_check.py
$PY -c 'import prometheus_client' 2>/dev/null ||
	{ fail "python3-prometheus-client not installed"; exit 1; }
command -v jq >/dev/null || { fail "jq not installed"; exit 1; }

# 0. The checker can fail: a counter not named x_total, a sample under
# another family's TYPE, a series twice.
bad() { printf "$1" | $PY "$CHECK" >/dev/null 2>&1 && fail "prom_check took: $2" || ok "prom_check refuses $2"; }
bad '# HELP x X.\n# TYPE x counter\nx 1\n' "a counter named x"
bad '# HELP a A.\n# TYPE a gauge\na 1\nb 2\n' "a sample under another TYPE"
bad '# HELP a A.\n# TYPE a gauge\na{l="1"} 1\na{l="1"} 2\n' "a series twice"

# prom OUT CMD...: run CMD, its exit code in OUT.rc, its output parsed into
# OUT.json (a failed parse is a failure).
prom() {
	local out=$1
	shift
	"$@" >"$T/$out.txt" 2>"$T/$out.err"
	echo $? >"$T/$out.rc"
	$PY "$CHECK" <"$T/$out.txt" >"$T/$out.json" 2>"$T/$out.why" ||
		{ fail "$out: $(cat "$T/$out.why")"; echo '{}' >"$T/$out.json"; }
}
rc() { cat "$T/$1.rc"; }
# val OUT FAMILY [LABEL=VALUE...]: the value of the one sample that matches.
val() {
	local out=$1 fam=$2 sel='true'
	shift 2
	for kv in "$@"; do sel="$sel and .labels[\"${kv%%=*}\"] == \"${kv#*=}\""; done
	jq -r --arg f "$fam" ".[\$f].samples // [] | map(select($sel)) |
		if length == 1 then .[0].value else \"none\" end" "$T/$out.json"
}
typ() { jq -r --arg f "$2" '.[$f].type // "none"' "$T/$1.json"; }
fams() { jq -r 'keys | join(" ")' "$T/$1.json"; }

ip link set lo up
# Requests to a.test leave through a veth pair whose far end drops them.
ip link add d0 type veth peer name d1 && ip link set d1 up && ip link set d0 up &&
	ip addr add 198.18.0.1/24 dev d0 || { fail "no veth pair"; exit 1; }
ip route add 198.51.100.0/24 dev d0
for a in 192.0.2.53 203.0.113.1 203.0.113.2 203.0.113.3; do ip addr add $a/32 dev lo; done

printf '198.51.100.1 a.test\n203.0.113.1 pool.test\n203.0.113.2 pool.test\n203.0.113.3 pool.test\n' >"$T/hosts"
dnsmasq --keep-in-foreground --no-resolv --no-hosts --conf-file=/dev/null --user=root \
	--bind-interfaces --listen-address=192.0.2.53 --port=53 --local=/test/ \
	--addn-hosts="$T/hosts" --local-ttl=30 --cache-size=0 --pid-file="$T/dnsmasq.pid" \
	2>"$T/dnsmasq.err" &
pids="$pids $!"
"$FAKE" 203.0.113.1:off+0.020@2 203.0.113.2:silent 203.0.113.3:off+0.030@30 >"$T/fake.out" 2>&1 &
pids="$pids $!"
for _ in $(seq 50); do grep -q ready "$T/fake.out" && break; sleep 0.1; done

cat >"$T/p.yaml" <<'YAML'
version: 1
table: ntpwall_prom
resolvers: ["192.0.2.53"]
resolve: {timeout: 500ms, attempts: 2}
upstreams:
  - server: a.test
  - server: 192.0.2.1
refresh: {expire: 1m}
YAML
nw() { "$NTPWALL" --state-dir "$T/st" --run-dir "$T/run" "$@"; }
status() { prom "$1" nw status --format prometheus; }

# 1. Applied and in sync.
nw apply "$T/p.yaml" >"$T/apply.out" 2>&1 || { fail "apply: $(cat "$T/apply.out")"; exit 1; }
status s1
[ "$(rc s1)" = 0 ] && [ "$(val s1 ntpwall_status_exit_code)" = 0 ] && ok "in sync: exit 0" ||
	fail "in sync: exit $(rc s1), ntpwall_status_exit_code $(val s1 ntpwall_status_exit_code)"
[ "$(val s1 ntpwall_generation table=ntpwall_prom)" = 1 ] && ok "generation 1" ||
	fail "generation: $(val s1 ntpwall_generation table=ntpwall_prom)"
created=$(date -u -d "$(nw status --format json | jq -r .generation.created)" +%s)
[ "$(val s1 ntpwall_generation_timestamp_seconds table=ntpwall_prom)" = "$created" ] &&
	ok "generation time $created, as status --format json says" ||
	fail "generation time $(val s1 ntpwall_generation_timestamp_seconds table=ntpwall_prom), json says $created"
states() { jq -r '.ntpwall_table_state.samples | map(select(.value == 1) | .labels.state) | join(",")' "$T/$1.json"; }
[ "$(states s1)" = in-sync ] && [ "$(jq '.ntpwall_table_state.samples | length' "$T/s1.json")" = 5 ] &&
	ok "table state: in-sync of 5 states" || fail "table state: '$(states s1)'"
for f in ntpwall_rule_packets_total ntpwall_rule_bytes_total; do
	[ "$(typ s1 $f)" = counter ] && ok "$f: counter" || fail "$f: type $(typ s1 $f)"
done
for f in ntpwall_generation ntpwall_table_state ntpwall_set_elements ntpwall_set_next_expiry_seconds; do
	[ "$(typ s1 $f)" = gauge ] || fail "$f: type $(typ s1 $f)"
done
[ "$(val s1 ntpwall_set_elements set=upstreams4)" = 2 ] && ok "upstreams4: 2 elements" ||
	fail "upstreams4: $(val s1 ntpwall_set_elements set=upstreams4) elements"
# The first expiry: a.test's element (192.0.2.1 never expires), at most the
# 1m timeout and no less than what nft lists after it.
left=$(val s1 ntpwall_set_next_expiry_seconds set=upstreams4)
# nft writes "expires 59s968ms", "1m2s"...: in seconds.
nftleft=$(nft list set inet ntpwall_prom upstreams4 | grep -o 'expires [0-9hms]*' | head -1 |
	awk '{ t = 0; s = $2; while (match(s, /^[0-9]+(ms|h|m|s)/)) { u = substr(s, RSTART, RLENGTH)
		n = u + 0; sub(/^[0-9]+/, "", u); t += n * (u == "h" ? 3600 : u == "m" ? 60 : u == "s" ? 1 : 0.001)
		s = substr(s, RLENGTH + 1) } print t }')
awk -v a="$left" -v b="$nftleft" 'BEGIN { exit !(a != "none" && b != "" && a + 0.001 >= b && a <= 60 && a > 0) }' &&
	ok "first expiry ${left}s, nft says ${nftleft}s" || fail "first expiry '$left', nft says '$nftleft'"
[ "$(val s1 ntpwall_last_refresh_exit_code)" = none ] && ok "no refresh yet: no last_refresh metrics" ||
	fail "last refresh before any: $(val s1 ntpwall_last_refresh_exit_code)"

# 2. Counters: three 48-byte NTP requests to a.test (out through d0, which
# nobody answers) count 3 packets and 3 x 76 bytes on egress-upstreams4.
pk() { val "$1" ntpwall_rule_packets_total chain=output rule=egress-upstreams4; }
by() { val "$1" ntpwall_rule_bytes_total chain=output rule=egress-upstreams4; }
$PY -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(3): s.sendto(b"\x23" + bytes(47), ("198.51.100.1", 123))'
status s2
dp=$(awk -v a="$(pk s2)" -v b="$(pk s1)" 'BEGIN { print a - b }')
db=$(awk -v a="$(by s2)" -v b="$(by s1)" 'BEGIN { print a - b }')
[ "$dp" = 3 ] && [ "$db" = 228 ] && ok "egress-upstreams4: +3 packets, +228 bytes" ||
	fail "egress-upstreams4: +$dp packets, +$db bytes (expected 3, 228)"

# 3. The last refresh, done and then failed (no policy).
nw refresh "$T/p.yaml" >"$T/refresh.out" 2>&1
r=$?
status s3
[ "$r" = 0 ] && [ "$(val s3 ntpwall_last_refresh_exit_code)" = 0 ] &&
	[ "$(val s3 ntpwall_last_refresh_success)" = 1 ] &&
	[ "$(val s3 ntpwall_last_refresh_timestamp_seconds)" != none ] &&
	ok "refresh done: exit code 0, success 1, a time" ||
	fail "refresh (exit $r): $(jq -c '{ntpwall_last_refresh_exit_code, ntpwall_last_refresh_success}' "$T/s3.json")"
nw refresh "$T/gone.yaml" >/dev/null 2>&1
r=$?
status s4
[ "$r" = 2 ] && [ "$(val s4 ntpwall_last_refresh_exit_code)" = 2 ] &&
	[ "$(val s4 ntpwall_last_refresh_success)" = 0 ] && ok "refresh failed: exit code 2, success 0" ||
	fail "failed refresh (exit $r): code $(val s4 ntpwall_last_refresh_exit_code)"

# 4. Drifted (an element added by hand), then absent.
nft add element inet ntpwall_prom upstreams4 '{ 198.51.100.99 timeout 1m }'
status s5
[ "$(rc s5)" = 1 ] && [ "$(states s5)" = drifted ] && [ "$(val s5 ntpwall_status_exit_code)" = 1 ] &&
	ok "drifted: exit 1, state drifted" || fail "drifted: exit $(rc s5), state '$(states s5)'"
nft delete table inet ntpwall_prom
status s6
[ "$(rc s6)" = 1 ] && [ "$(states s6)" = absent ] && [ "$(typ s6 ntpwall_rule_packets_total)" = none ] &&
	ok "absent: exit 1, state absent, no rule counters" ||
	fail "absent: exit $(rc s6), state '$(states s6)', families $(fams s6)"

# 5. An error (a state directory others may write to): exit 2 and the
# exit code the only metric.
mkdir -m 0777 "$T/open"
prom s7 "$NTPWALL" --state-dir "$T/open" status --format prometheus
[ "$(rc s7)" = 2 ] && [ "$(fams s7)" = ntpwall_status_exit_code ] &&
	[ "$(val s7 ntpwall_status_exit_code)" = 2 ] && ok "error: exit 2, only ntpwall_status_exit_code 2" ||
	fail "error: exit $(rc s7), families '$(fams s7)'"

# 6. probe: a pool of three (one silent), keyed by upstream and rank.
cat >"$T/pool.yaml" <<'YAML'
version: 1
resolvers: ["192.0.2.53"]
upstreams:
  - pool: pool.test
    max: 3
probe: {samples: 2, interval: 50ms, timeout: 500ms}
YAML
prom p1 "$NTPWALL" --state-dir "$T/st2" probe --format prometheus "$T/pool.yaml"
[ "$(val p1 ntpwall_probe_exit_code)" = "$(rc p1)" ] && [ "$(rc p1)" = 1 ] &&
	ok "probe: exit 1 (a silent server), ntpwall_probe_exit_code 1" ||
	fail "probe: exit $(rc p1), ntpwall_probe_exit_code $(val p1 ntpwall_probe_exit_code)"
keys=$(jq -r '.ntpwall_probe_server_info.samples | map("\(.labels.upstream)#\(.labels.rank)=\(.labels.address)") | sort | join(" ")' "$T/p1.json")
ranks=$(echo "$keys" | tr ' ' '\n' | sed 's/=.*//' | paste -sd' ')
addrs=$(echo "$keys" | tr ' ' '\n' | sed 's/.*=//' | sort | paste -sd' ')
[ "$ranks" = "pool.test#1 pool.test#2 pool.test#3" ] && [ "$addrs" = "203.0.113.1 203.0.113.2 203.0.113.3" ] &&
	ok "servers keyed pool.test#1..3, addresses in ntpwall_probe_server_info" || fail "server keys: '$keys'"
# upstream and rank of an address
key() { echo "$keys" | tr ' ' '\n' | grep "=$1\$" | sed 's/=.*//'; }
u1=$(key 203.0.113.1) u2=$(key 203.0.113.2) u3=$(key 203.0.113.3)
sv() { val p1 "$1" upstream=pool.test "rank=${2#*#}"; }
near() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "none" && b != "none" && d <= t) }'; }
near "$(sv ntpwall_probe_server_offset_seconds "$u1")" 0.020 0.003 &&
	near "$(sv ntpwall_probe_server_offset_seconds "$u3")" 0.030 0.003 &&
	[ "$(sv ntpwall_probe_server_offset_seconds "$u2")" = none ] &&
	ok "server offsets +20 ms, +30 ms, none for the silent one" ||
	fail "server offsets: $(jq -c .ntpwall_probe_server_offset_seconds.samples "$T/p1.json")"
[ "$(sv ntpwall_probe_server_stratum "$u1")" = 2 ] && [ "$(sv ntpwall_probe_server_reachable "$u1")" = 1 ] &&
	[ "$(sv ntpwall_probe_server_reachable "$u2")" = 0 ] &&
	[ "$(sv ntpwall_probe_server_delay_seconds "$u1")" != none ] && ok "stratum 2, reachable 1 and 0, a delay" ||
	fail "stratum/reachable/delay: $(jq -c '{ntpwall_probe_server_stratum, ntpwall_probe_server_reachable}' "$T/p1.json")"
verdicts=$(jq -r --arg a "${u1#*#}" --arg b "${u2#*#}" '.ntpwall_probe_server_verdict.samples |
	(map(select(.labels.rank == $a))[0].labels.verdict) + " " + (map(select(.labels.rank == $b))[0].labels.verdict)' "$T/p1.json")
[ "$verdicts" = "OK TIMEOUT" ] && ok "verdicts OK, TIMEOUT" || fail "verdicts '$verdicts'"
# Two usable: the offset of the one with the smaller root distance (+20 ms,
# 2 ms dispersion), exactly its sample's, never the mean (+25 ms).
[ "$(val p1 ntpwall_probe_offset_seconds)" = "$(sv ntpwall_probe_server_offset_seconds "$u1")" ] ||
	near "$(val p1 ntpwall_probe_offset_seconds)" "$(sv ntpwall_probe_server_offset_seconds "$u1")" 0.000000002 &&
	[ "$(val p1 ntpwall_probe_usable_servers)" = 2 ] && [ "$(val p1 ntpwall_probe_servers)" = 3 ] &&
	ok "offset $(val p1 ntpwall_probe_offset_seconds): the nearer server's; 2 of 3 usable" ||
	fail "offset $(val p1 ntpwall_probe_offset_seconds), usable $(val p1 ntpwall_probe_usable_servers)"

# 7. Nothing to probe: UNKNOWN, the exit code alone.
prom p2 "$NTPWALL" probe --format prometheus /nonexistent/wall.yaml
[ "$(rc p2)" = 3 ] && [ "$(fams p2)" = ntpwall_probe_exit_code ] && [ "$(val p2 ntpwall_probe_exit_code)" = 3 ] &&
	ok "probe UNKNOWN: exit 3, only ntpwall_probe_exit_code 3" || fail "probe UNKNOWN: exit $(rc p2), '$(fams p2)'"

[ $fails = 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "prometheus netns: all passed"
