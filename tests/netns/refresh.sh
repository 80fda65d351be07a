#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# `ntpwall refresh` against a real kernel and a real DNS server, inside a
# private network namespace (the script re-executes itself under
# `unshare -n`): dnsmasq serves the names from a hosts directory it re-reads
# on change, so the test edits DNS between refreshes. Asserts: refresh
# before apply refuses; an unchanged refresh renews every DNS element's
# timeout (delete + add in one batch) and keeps rule handles and counters;
# a changed name is updated in place and recorded as a generation; a name
# that stops resolving keeps its last addresses with a warning (exit 1)
# while apply refuses to drop it (exit 2); a rule change is refused; with
# --probe a new address that does not answer NTP is taken out again.
# Usage: refresh.sh FAKE_NTPD   (env: NTPWALL; exit 77 = skip)
set -u
# shellcheck source=tests/netns/lib.sh
. "$SRCDIR/tests/netns/lib.sh"

if [ -z "${REFRESH_IN_NETNS:-}" ]; then
	if ! unshare -n true 2>/dev/null || ! command -v nft >/dev/null ||
		! command -v dnsmasq >/dev/null; then
		echo "refresh.sh: cannot create a network namespace (or no nft, dnsmasq)"
		[ "${NTPWALL_REQUIRE_NETNS:-0}" = 1 ] && exit 1
		exit 77
	fi
	REFRESH_IN_NETNS=1 exec unshare -n -m bash "$0" "$@"
fi

: "${NTPWALL:?}"
FAKE=${1:?usage: refresh.sh FAKE_NTPD}
T=$(mktemp -d /tmp/ntpwall-refresh.XXXXXX)
S=$T/state
pids=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	for p in $pids; do wait "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT


ip link set lo up
for a in 192.0.2.53 198.51.100.12 198.51.100.13 198.51.100.2{1,2,3,4,5}; do
	ip addr add $a/32 dev lo
done

# DNS: names under .test from $T/hosts (re-read on change), the rest NXDOMAIN.
mkdir "$T/hosts"
hosts() {	# write the hosts file atomically, then wait until dnsmasq has it
	printf '%s\n' "$@" >"$T/hosts/h.tmp" && mv "$T/hosts/h.tmp" "$T/hosts/h"
	for _ in $(seq 50); do
		grep -q "read $T/hosts/h" "$T/dnsmasq.log" 2>/dev/null &&
			[ "$(grep -c "read $T/hosts/h" "$T/dnsmasq.log")" -ge "$HOSTS_READS" ] && break
		sleep 0.1
	done
	HOSTS_READS=$((HOSTS_READS + 1))
}
HOSTS_READS=1
hosts "198.51.100.1 a.test" "198.51.100.12 b.test" \
	"198.51.100.21 pool.test" "198.51.100.22 pool.test" "198.51.100.23 pool.test" \
	"198.51.100.24 pool.test" "198.51.100.25 pool.test"
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

# A fake server that answers NTP on .12 and the pool's addresses (refresh
# --probe probes the pool's current members too); nothing listens on .13.
"$FAKE" 198.51.100.12:ok 198.51.100.2{1,2,3,4,5}:ok >"$T/fake.out" 2>&1 &
pids="$pids $!"

cat >"$T/p.yaml" <<'EOF'
version: 1
table: ntpwall_r
resolvers: ["192.0.2.53"]
resolve: {timeout: 500ms, attempts: 1, pool_queries: 1}
upstreams:
  - server: a.test
  - server: b.test
  - pool: pool.test
    max: 3
  - server: 192.0.2.1
refresh: {expire: 1m}
probe: {samples: 1, timeout: 300ms}
EOF
P=$T/p.yaml
set4() { nft list set inet ntpwall_r upstreams4 2>/dev/null; }
addrs() { set4 | grep -oE '[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+' | sort; }
has() { addrs | grep -qx "$1"; }
# seconds left on the element for address $1
expires() { set4 | grep -o "$1 timeout 1m expires [0-9]*s" | sed 's/.*expires \([0-9]*\)s/\1/'; }
handles() { nft -a list table inet ntpwall_r | grep -o 'comment "[^"]*" # handle [0-9]*'; }
gens() { ls "$S" 2>/dev/null | grep -c '^gen-'; }

# 1. no table yet: refresh refuses, changes nothing.
nw refresh "$P" >"$T/out" 2>&1
[ $? = 2 ] && grep -q "run 'ntpwall apply' first" "$T/out" || fail "refresh before apply: $(cat "$T/out")"
nft list table inet ntpwall_r >/dev/null 2>&1 && fail "refresh before apply made a table"
ok "refresh before apply refuses"

# 2. apply; pool max respected; an unchanged refresh renews every DNS
# element and keeps the rules (handles) and the generation count. cron is
# there (a private /etc/cron.d) but nothing refreshes: apply warns.
mount --make-rprivate / 2>/dev/null
mkdir "$T/cron.d" && mount --bind "$T/cron.d" /etc/cron.d 2>/dev/null ||
	fail "cannot bind a private /etc/cron.d"
nw apply "$P" >"$T/out" 2>&1 || fail "apply: $(cat "$T/out")"
grep -q "nothing refreshes them" "$T/out" || fail "apply without a refresh timer or cron entry did not warn"
printf '*/15 * * * * root ntpwall -q refresh /etc/ntpwall/policy.yaml\n' >"$T/cron.d/ntpwall"
nw apply "$P" >"$T/out" 2>&1 || fail "apply (2): $(cat "$T/out")"
grep -q "nothing refreshes them" "$T/out" && fail "apply warned although cron runs refresh"
n_pool=$(set4 | grep -o '198\.51\.100\.2[1-5] ' | sort -u | wc -l)
[ "$n_pool" = 3 ] || fail "pool max 3: $n_pool pool addresses in the set"
has 198.51.100.1 && has 198.51.100.12 && has 192.0.2.1 || fail "apply: set is $(set4)"
handles >"$T/h1"
sleep 2.2
e1=$(expires 198.51.100.1)
nw refresh "$P" >"$T/out" 2>&1; rc=$?
e2=$(expires 198.51.100.1)
[ $rc = 0 ] || fail "unchanged refresh: exit $rc: $(cat "$T/out")"
grep -q '^refresh: 0 added, 0 removed, 5 renewed$' "$T/out" || fail "unchanged refresh said: $(cat "$T/out")"
# Renewed: the expiry went up (never by itself); not "59 s" after, which a
# loaded machine can miss by reading the set a second later.
[ -n "$e1" ] && [ -n "$e2" ] && [ "$e1" -le 58 ] && [ "$e2" -gt "$e1" ] ||
	fail "timeout not renewed: expires $e1 s before, $e2 s after"
handles | cmp -s - "$T/h1" || fail "refresh changed the rules"
[ "$(gens)" = 1 ] || fail "a renew-only refresh recorded a generation"
set4 | grep -q '192\.0\.2\.1 timeout' && fail "a literal address got a timeout"
ok "unchanged refresh renews DNS elements only, rules untouched"

# 3. a name moves: updated in place, recorded; the pool choice is stable.
pool_before=$(set4 | grep -o '198\.51\.100\.2[1-5]' | sort -u)
hosts "198.51.100.2 a.test" "198.51.100.12 b.test" \
	"198.51.100.21 pool.test" "198.51.100.22 pool.test" "198.51.100.23 pool.test" \
	"198.51.100.24 pool.test" "198.51.100.25 pool.test"
nw -v refresh "$P" >"$T/out" 2>&1 || fail "refresh after a change: $(cat "$T/out")"
grep -q '^refresh: 1 added, 1 removed, 4 renewed$' "$T/out" || fail "changed refresh said: $(cat "$T/out")"
# -v names them: the moved name's new and old address, the four renewed.
grep -qx 'added: 198\.51\.100\.2' "$T/out" && grep -qx 'removed: 198\.51\.100\.1' "$T/out" &&
	[ "$(sed -n 's/^renewed: //p' "$T/out" | wc -w)" = 4 ] &&
	sed -n 's/^renewed: //p' "$T/out" | grep -q '198\.51\.100\.12' ||
	fail "refresh -v did not list the addresses: $(cat "$T/out")"
has 198.51.100.2 && ! has 198.51.100.1 || fail "a.test not moved: $(set4)"
[ "$(set4 | grep -o '198\.51\.100\.2[1-5]' | sort -u)" = "$pool_before" ] || fail "pool choice moved"
[ "$(gens)" = 2 ] || fail "changed refresh: $(gens) generations, expected 2"
handles | cmp -s - "$T/h1" || fail "refresh changed the rules"
nw diff "$P" >/dev/null 2>&1 || fail "diff after refresh"
ok "a changed name is updated in place and recorded"

# 4. a name stops resolving: refresh keeps its last address (exit 1, a
# warning); apply refuses (an apply never drops an upstream silently).
hosts "198.51.100.12 b.test" \
	"198.51.100.21 pool.test" "198.51.100.22 pool.test" "198.51.100.23 pool.test" \
	"198.51.100.24 pool.test" "198.51.100.25 pool.test"
sleep 1.2
e0=$(expires 198.51.100.2)
nw refresh "$P" >"$T/out" 2>&1; rc=$?
[ $rc = 1 ] || fail "refresh with a failed name: exit $rc, expected 1"
grep -q "warning: .*a.test.*keeping its 1 last known address" "$T/out" || fail "no warning: $(cat "$T/out")"
has 198.51.100.2 || fail "failed name lost its address: $(set4)"
e=$(expires 198.51.100.2)
[ -n "$e0" ] && [ -n "$e" ] && [ "$e0" -le 58 ] && [ "$e" -gt "$e0" ] ||
	fail "kept address not renewed (expires $e0 s before, $e s after)"
nw refresh "$P" >/dev/null 2>&1
[ $? = 1 ] && has 198.51.100.2 || fail "second refresh with the name still failing"
addrs >"$T/before"
nw apply "$P" >"$T/out" 2>&1; rc=$?
[ $rc = 2 ] || fail "apply with a failed name: exit $rc, expected 2"
addrs | cmp -s - "$T/before" || fail "failed apply changed the set"
ok "a failed name keeps its last address on refresh, apply refuses"

# 5. a rule change is not a refresh.
sed 's/^refresh: .*/otherwise: reject\nrefresh: {expire: 1m}/' "$P" >"$T/q.yaml"
nw refresh "$T/q.yaml" >"$T/out" 2>&1; rc=$?
[ $rc = 2 ] && grep -q "run 'ntpwall diff' and 'ntpwall apply'" "$T/out" || fail "rule change: exit $rc: $(cat "$T/out")"
handles | cmp -s - "$T/h1" || fail "refused refresh changed the rules"
ok "a rule change is refused"

# 6. --probe: a new address that answers stays, one that does not goes.
hosts "198.51.100.2 a.test" "198.51.100.12 b.test" "198.51.100.13 b.test" \
	"198.51.100.21 pool.test" "198.51.100.22 pool.test" "198.51.100.23 pool.test" \
	"198.51.100.24 pool.test" "198.51.100.25 pool.test"
g=$(gens)
nw refresh --probe "$P" >"$T/out" 2>&1; rc=$?
[ $rc = 1 ] || fail "refresh --probe with a dead new address: exit $rc: $(cat "$T/out")"
grep -q "new upstream 198.51.100.13 refused: UNREACHABLE" "$T/out" || fail "refusal not reported: $(cat "$T/out")"
has 198.51.100.12 && ! has 198.51.100.13 || fail "dead address still trusted: $(set4)"
[ "$(gens)" = "$g" ] || fail "a refresh whose only new address was refused recorded a generation"
hosts "198.51.100.2 a.test" "198.51.100.12 b.test" \
	"198.51.100.21 pool.test" "198.51.100.22 pool.test" "198.51.100.23 pool.test" \
	"198.51.100.24 pool.test" "198.51.100.25 pool.test"
nw refresh --probe "$P" >"$T/out" 2>&1 || fail "refresh --probe, all good: $(cat "$T/out")"
ok "refresh --probe takes refused new addresses out"

[ $fails = 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all refresh tests passed"
