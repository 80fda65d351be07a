#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# refresh, apply --confirm and apply --probe with backend: iptables, through
# the same engine as nft, against a real kernel, a real DNS server (dnsmasq
# re-reading a hosts directory) and fake NTP servers, inside a private
# network namespace (the script re-executes itself under `unshare -n`):
#   1. refresh before apply refuses and makes nothing;
#   2. an unchanged refresh commits nothing (counters and entries as they
#      were), records no generation, and status shows the last refresh;
#   3. a moved name (IPv4 and IPv6) is changed in place: only the set
#      chains' element entries differ in iptables-legacy-save and
#      ip6tables-legacy-save, and a generation is recorded;
#   4. refresh --probe takes a new address that does not answer out again;
#   5. apply --confirm: not confirmed, the watchdog reverts; confirmed, kept;
#   6. apply --probe: silent upstreams revert (exit 1), answering ones stay;
# and a foreign chain, rules in INPUT/OUTPUT/raw and a DROP policy, in both
# families, byte-identical after every command.
# Usage: ipt_engine.sh FAKE_NTPD   (env NTPWALL; exit 77 = skip)
set -u

if [ -z "${IPT_IN_NETNS:-}" ]; then
	if ! unshare -n true 2>/dev/null || ! command -v iptables-legacy >/dev/null ||
		! command -v dnsmasq >/dev/null; then
		echo "ipt_engine.sh: cannot create a network namespace (or no iptables-legacy, dnsmasq)"
		[ "${NTPWALL_REQUIRE_NETNS:-0}" = 1 ] && exit 1
		exit 77
	fi
	IPT_IN_NETNS=1 exec unshare -n bash "$0" "$@"
fi

: "${NTPWALL:?}"
FAKE=${1:?usage: ipt_engine.sh FAKE_NTPD}
T=$(mktemp -d /tmp/ntpwall-ipteng.XXXXXX)
S=$T/state
# Never the host's /run/xtables.lock: iptables-legacy honours this too.
export XTABLES_LOCKFILE=$T/xtables.lock
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

ip link set lo up
for a in 192.0.2.53 198.51.100.1 198.51.100.2 198.51.100.12 198.51.100.13; do
	ip addr add $a/32 dev lo
done
for a in 2001:db8::21 2001:db8::22; do ip addr add $a/128 dev lo nodad; done

# The host's own rules, in both families and both tables.
for t in iptables ip6tables; do
	"$t-legacy" -N other &&
		"$t-legacy" -A other -p tcp --dport 22 -j ACCEPT &&
		"$t-legacy" -A INPUT -j other &&
		"$t-legacy" -A OUTPUT -p udp --dport 53 -j ACCEPT &&
		"$t-legacy" -P FORWARD DROP &&
		"$t-legacy" -t raw -A PREROUTING -p tcp --dport 22 -j CT --notrack ||
		fail "$t: setting up the host's rules"
done
foreign() {
	for t in iptables ip6tables; do
		for tb in filter raw; do
			"$t-legacy-save" -t $tb | grep -v '^#' | grep -v 'ntpwall'
		done
	done | sed 's/ \[[0-9]*:[0-9]*\]$//'	# built-in policy counters
}
foreign >"$T/other.ref"
check_other() {
	foreign | cmp -s - "$T/other.ref" ||
		fail "the host's rules changed after: $* ($(foreign | diff "$T/other.ref" - | head -5))"
}
nw() {
	local rc
	"$NTPWALL" --state-dir "$S" "$@"
	rc=$?
	check_other "ntpwall $*"
	return $rc
}
ours() {	# ntpwall's chains in both families, with counters
	for t in iptables ip6tables; do
		"$t-legacy-save" -c -t filter | grep -v '^#' | grep ntpwall_e
	done
}
gens() { ls "$S" 2>/dev/null | grep -c '^gen-'; }

# DNS: names under .test from $T/hosts (re-read on change).
mkdir "$T/hosts"
HOSTS_READS=1
hosts() {	# write the hosts file atomically, then wait until dnsmasq has it
	printf '%s\n' "$@" >"$T/hosts/h.tmp" && mv "$T/hosts/h.tmp" "$T/hosts/h"
	for _ in $(seq 50); do
		[ "$(grep -c "read $T/hosts/h" "$T/dnsmasq.log" 2>/dev/null)" -ge "$HOSTS_READS" ] && break
		sleep 0.1
	done
	HOSTS_READS=$((HOSTS_READS + 1))
}
hosts "198.51.100.1 a.test" "198.51.100.12 b.test" "2001:db8::21 c.test"
dnsmasq --keep-in-foreground --no-resolv --no-hosts --conf-file=/dev/null --user=root \
	--bind-interfaces --listen-address=192.0.2.53 --port=53 --local=/test/ \
	--hostsdir="$T/hosts" --local-ttl=30 --cache-size=0 \
	--log-facility="$T/dnsmasq.log" --pid-file="$T/dnsmasq.pid" 2>"$T/dnsmasq.err" &
pids="$pids $!"
for _ in $(seq 50); do
	grep -q "read $T/hosts/h" "$T/dnsmasq.log" 2>/dev/null && break
	sleep 0.1
done
HOSTS_READS=2
# NTP answers on every address but 198.51.100.13.
"$FAKE" 198.51.100.1:ok 198.51.100.2:ok 198.51.100.12:ok 2001:db8::21:ok 2001:db8::22:ok \
	>"$T/fake.out" 2>&1 &
pids="$pids $!"

cat >"$T/p.yaml" <<'EOF'
version: 1
table: ntpwall_e
backend: iptables
resolvers: ["192.0.2.53"]
resolve: {timeout: 500ms, attempts: 1}
upstreams:
  - server: a.test
  - server: b.test
  - server: c.test
  - server: 192.0.2.1
refresh: {expire: 1m}
probe: {samples: 1, timeout: 300ms}
EOF
P=$T/p.yaml

# 1. refresh before apply.
nw refresh "$P" >"$T/out" 2>&1
[ $? = 2 ] && grep -q "run 'ntpwall apply' first" "$T/out" || fail "refresh before apply: $(cat "$T/out")"
ours | grep -q . && fail "refresh before apply made chains"
ok "refresh before apply refuses, makes nothing"

# 2. apply; an unchanged refresh commits nothing.
nw apply "$P" >"$T/out" 2>&1 || fail "apply: $(cat "$T/out")"
nw status >"$T/out" 2>&1 && grep -q '^iptables chains ntpwall_e-\*: in-sync$' "$T/out" || fail "status: $(cat "$T/out")"
grep -q 'last refresh: never$' "$T/out" || fail "status before a refresh: $(cat "$T/out")"
# Some counters to keep: a packet to a.test (over lo, loopback-dport).
{ printf 'x' >/dev/udp/198.51.100.1/123; } 2>/dev/null
ours >"$T/s1"
grep -q '^\[[1-9][0-9]*:.*loopback-dport' "$T/s1" || fail "no counted packet: $(cat "$T/s1")"
nw refresh "$P" >"$T/out" 2>&1 || fail "unchanged refresh: $(cat "$T/out")"
grep -q '^refresh: 0 added, 0 removed, [0-9]* renewed$' "$T/out" || fail "unchanged refresh said: $(cat "$T/out")"
ours | cmp -s - "$T/s1" || fail "an unchanged refresh changed the chains: $(ours | diff "$T/s1" - | head -6)"
[ "$(gens)" = 1 ] || fail "an unchanged refresh recorded a generation ($(gens))"
nw status >"$T/out" 2>&1
grep -q '^last refresh 20[0-9-]*T[0-9:]*Z: exit 0, 0 added, 0 removed' "$T/out" ||
	fail "status after refresh: $(cat "$T/out")"
grep -q 'last refresh: never' "$T/out" && fail "status after refresh still says never"
nw status --format json | grep -q '"last_refresh": {' || fail "status json: no last_refresh"
ok "unchanged refresh: no commit, counters kept, no generation; status shows the last refresh"

# 3. a.test and c.test move: only their elements change, in both families.
hosts "198.51.100.2 a.test" "198.51.100.12 b.test" "2001:db8::22 c.test"
nw refresh "$P" >"$T/out" 2>&1 || fail "refresh after a change: $(cat "$T/out")"
grep -q '^refresh: 2 added, 2 removed, [0-9]* renewed$' "$T/out" || fail "changed refresh said: $(cat "$T/out")"
ours >"$T/s2"
diff "$T/s1" "$T/s2" | grep '^[<>]' >"$T/d"
grep -v -e '198\.51\.100\.[12]/32' -e '2001:db8::2[12]/128' "$T/d" >"$T/d.other"
[ -s "$T/d" ] && [ ! -s "$T/d.other" ] || fail "refresh changed more than the moved elements: $(head -6 "$T/d.other")"
grep -q '198\.51\.100\.2/32' "$T/s2" && ! grep -q '198\.51\.100\.1/32' "$T/s2" || fail "a.test not moved"
grep -q '2001:db8::22/128' "$T/s2" && ! grep -q '2001:db8::21/128' "$T/s2" || fail "c.test not moved"
# Counters of the entries that stayed are kept.
grep '198\.51\.100\.12/32' "$T/s1" | cmp -s - <(grep '198\.51\.100\.12/32' "$T/s2") ||
	fail "b.test's entries changed"
[ "$(gens)" = 2 ] || fail "changed refresh: $(gens) generations, expected 2"
nw diff "$P" >"$T/out" 2>&1 || fail "diff after refresh: $(cat "$T/out")"
ok "a moved name (IPv4, IPv6) changes only its elements; recorded"

# 4. refresh --probe: b.test gains 198.51.100.13, which does not answer.
hosts "198.51.100.2 a.test" "198.51.100.12 b.test" "198.51.100.13 b.test" "2001:db8::22 c.test"
nw refresh --probe "$P" >"$T/out" 2>&1; rc=$?
[ $rc = 1 ] || fail "refresh --probe with a dead new address: exit $rc: $(cat "$T/out")"
grep -q "new upstream 198.51.100.13 refused: UNREACHABLE" "$T/out" || fail "refusal not reported: $(cat "$T/out")"
ours | grep -q '198\.51\.100\.13/32' && fail "the dead address is still trusted"
ours | grep -q '198\.51\.100\.12/32' || fail "b.test's good address is gone"
hosts "198.51.100.2 a.test" "198.51.100.12 b.test" "2001:db8::22 c.test"
nw refresh --probe "$P" >"$T/out" 2>&1 || fail "refresh --probe, all good: $(cat "$T/out")"
ok "refresh --probe takes a refused new address out"

# 5. apply --confirm: Q (192.0.2.1 gone) not confirmed is reverted.
grep -v '192\.0\.2\.1$' "$P" >"$T/q.yaml"
Q=$T/q.yaml
# 6 s: the checks before the deadline (a diff, eight saves) take their time
# on a loaded machine.
"$NTPWALL" --state-dir "$S" apply "$Q" --confirm 6 </dev/null >"$T/out" 2>&1 ||
	fail "apply --confirm: $(cat "$T/out")"
[ -f "$S/pending-confirm.json" ] || fail "no pending record"
nw diff "$Q" >/dev/null 2>&1 || fail "the --confirm apply is not live"
for _ in $(seq 80); do [ -f "$S/pending-confirm.json" ] || break; sleep 0.25; done
sleep 0.5
nw diff "$P" >"$T/out" 2>&1 || fail "not reverted after the deadline: $(cat "$T/out")"
[ -f "$S/pending-confirm.json" ] && fail "pending record left after the revert"
nw apply "$Q" --confirm 30 </dev/null >/dev/null 2>&1 || fail "apply --confirm (2)"
nw confirm >"$T/out" 2>&1 || fail "confirm: $(cat "$T/out")"
nw diff "$Q" >/dev/null 2>&1 || fail "the confirmed apply was reverted"
[ -f "$S/pending-confirm.json" ] && fail "pending record left after confirm"
ok "apply --confirm: reverted unconfirmed, kept confirmed"

# 6. apply --probe: only 192.0.2.1 (silent) is reverted; the names answer.
printf 'version: 1\ntable: ntpwall_e\nbackend: iptables\nupstreams: [{server: 192.0.2.1}]\n' >"$T/silent.yaml"
printf 'probe: {samples: 1, timeout: 300ms}\n' >>"$T/silent.yaml"
nw apply --probe "$T/silent.yaml" >"$T/out" 2>&1; rc=$?
[ $rc = 1 ] && grep -q 'reverting' "$T/out" || fail "--probe with a silent upstream: exit $rc: $(cat "$T/out")"
nw diff "$Q" >"$T/out" 2>&1 || fail "--probe did not put Q back: $(cat "$T/out")"
nw apply --probe "$P" >"$T/out" 2>&1 || fail "--probe with answering upstreams: $(cat "$T/out")"
nw diff "$P" >/dev/null 2>&1 || fail "--probe with answering upstreams: not live"
ok "apply --probe: silent upstreams reverted, answering ones kept"

nw remove >/dev/null 2>&1 || fail "remove"
ours | grep -q . && fail "remove left chains"
check_other "the end"

[ $fails = 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all iptables engine tests passed"
