#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The iptables backend against a real kernel, inside a private network
# namespace (the script re-executes itself under `unshare -n`):
#   1. every example policy applied through the backend reads back equal to
#      its compiled IR, its entries are byte for byte the backend's, and its
#      chains are exactly what iptables-legacy-restore makes of
#      `compile --target iptables|ip6tables` (in another namespace); remove
#      leaves nothing of it;
#   1b. every example policy through ntpwall apply, diff, status, remove,
#      rollback and remove (names from a dnsmasq on the loopback);
#   2. ntpwall apply, an unchanged apply (no commit), diff both ways, an
#      address changed in place (counters kept), drift made by hand found
#      and repaired, rollback, remove, a renamed table;
#   3. a foreign chain, rules in INPUT/OUTPUT/raw and a DROP policy, in both
#      families, byte-identical after every command;
#   4. the xtables lock: apply waits for a holder, a concurrent
#      `iptables-legacy -w` waits for apply and both changes survive, a
#      holder that stays makes apply give up in bounded time; a stale
#      generation is refused (-ERESTART).
# Usage: ipt.sh IPT_RT GOLDEN_RENDER   (env NTPWALL, SRCDIR; exit 77 = skip)
set -u

if [ -z "${IPT_IN_NETNS:-}" ]; then
	if ! unshare -n true 2>/dev/null || ! command -v iptables-legacy >/dev/null; then
		echo "ipt.sh: cannot create a network namespace (or no iptables-legacy)"
		[ "${NTPWALL_REQUIRE_NETNS:-0}" = 1 ] && exit 1
		exit 77
	fi
	IPT_IN_NETNS=1 exec unshare -n bash "$0" "$@"
fi

: "${NTPWALL:?}" "${SRCDIR:?}"
rt=$1 gr=$2
T=$(mktemp -d /tmp/ntpwall-ipt.XXXXXX)
S=$T/state
# Never the host's /run/xtables.lock: iptables-legacy honours this too.
export XTABLES_LOCKFILE=$T/xtables.lock
pids=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

# 3. the host's own rules, in both families and both tables.
for t in iptables ip6tables; do
	"$t-legacy" -N other &&
		"$t-legacy" -A other -p tcp --dport 22 -j ACCEPT &&
		"$t-legacy" -A INPUT -j other &&
		"$t-legacy" -A OUTPUT -p udp --dport 53 -j ACCEPT &&
		"$t-legacy" -A INPUT -p udp --dport 123 -m comment --comment "host's own" -j ACCEPT &&
		"$t-legacy" -P FORWARD DROP &&
		"$t-legacy" -t raw -A PREROUTING -p tcp --dport 22 -j CT --notrack ||
		fail "$t: setting up the host's rules"
done
# What is not ntpwall's: every table's save, ntpwall's lines left out.
foreign() {
	for t in iptables ip6tables; do
		for tb in filter raw; do
			"$t-legacy-save" -t $tb | grep -v '^#' | grep -v -e 'ntpwall' -e 'ntpedge' -e 'ntpopen'
		done
	done | sed 's/ \[[0-9]*:[0-9]*\]$//'	# policy counters: ND on the veth
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

# 1. every example policy, through the backend and through restore.
ours() { grep -v '^#' | grep -e "$1-" | grep -v '^:\(INPUT\|OUTPUT\|PREROUTING\|FORWARD\)'; }
n=0
for p in "$SRCDIR"/policies/*.yaml "$SRCDIR"/tests/golden/*.yaml; do
	name=$(basename "$p" .yaml)
	table=$(sed -n 's/^table: *//p' "$p")
	table=${table:-ntpwall}
	"$rt" load "$p" >"$T/out" 2>&1 || { fail "$name: load: $(cat "$T/out")"; continue; }
	"$rt" same "$p" >"$T/out" 2>&1 || fail "$name: read back differs: $(cat "$T/out")"
	"$rt" entries "$p" >"$T/out" 2>&1 || fail "$name: entries differ: $(cat "$T/out")"
	"$rt" load "$p" >"$T/out" 2>&1 || fail "$name: load again: $(cat "$T/out")"
	for t in iptables ip6tables; do
		for tb in filter raw; do "$t-legacy-save" -t $tb | ours "$table"; done
	done >"$T/backend.save"
	"$gr" "$p" iptables >"$T/r4" && "$gr" "$p" ip6tables >"$T/r6" || fail "$name: render"
	# A throw-away namespace: saving -t raw there may make the table.
	unshare -n sh -c 'iptables-legacy-restore --noflush < "$1" && ip6tables-legacy-restore --noflush < "$2" &&
		for t in iptables ip6tables; do for tb in filter raw; do "$t-legacy-save" -t $tb; done; done' \
		- "$T/r4" "$T/r6" | ours "$table" >"$T/restore.save" ||
		fail "$name: restore of the rendering"
	diff -u "$T/restore.save" "$T/backend.save" >"$T/out" ||
		fail "$name: the backend's chains differ from the rendering's: $(head -20 "$T/out")"
	"$rt" remove "$table" >"$T/out" 2>&1 || fail "$name: remove: $(cat "$T/out")"
	for t in iptables ip6tables; do
		for tb in filter raw; do "$t-legacy-save" -t $tb; done
	done | ours "$table" | grep -q . && fail "$name: remove left chains or jumps"
	check_other "$name"
	n=$((n + 1))
done
[ $n -ge 7 ] || fail "only $n policies"
ok "$n example policies: read back equal, entries and chains as iptables-legacy-restore makes them, removed"

# 1b. every example policy through the commands (backend: iptables, its
# names answered by a dnsmasq on this namespace's loopback): apply, diff
# and status in sync, remove leaves no chain or jump, rollback brings it
# back equal, remove again; the host's rules byte-identical throughout.
ip link set lo up
dnsmasq --keep-in-foreground --no-resolv --no-hosts --conf-file=/dev/null --user=root \
	--bind-interfaces --listen-address=127.0.0.1 --port=53 --local=/example.net/ \
	--local=/ntp.org/ --cache-size=0 --pid-file="$T/dnsmasq.pid" --log-facility="$T/dnsmasq.log" \
	--host-record=uk.pool.ntp.org,192.0.2.41 --host-record=uk.pool.ntp.org,192.0.2.42 \
	--host-record=uk.pool.ntp.org,192.0.2.43 --host-record=uk.pool.ntp.org,192.0.2.44 \
	--host-record=uk.pool.ntp.org,2001:db8:40::1 --host-record=de.pool.ntp.org,198.51.100.41 \
	--host-record=de.pool.ntp.org,198.51.100.42 --host-record=de.pool.ntp.org,2001:db8:41::1 \
	--host-record=ntp1.example.net,192.0.2.11,2001:db8::11 --host-record=ntp2.example.net,192.0.2.12 \
	--host-record=nts.example.net,192.0.2.13,2001:db8::13 --host-record=peer.example.net,198.51.100.31 \
	2>"$T/dnsmasq.err" &
dns_pid=$!
pids="$pids $dns_pid"
for _ in $(seq 50); do
	grep -q "started, version" "$T/dnsmasq.log" 2>/dev/null && break
	sleep 0.1
done
chains_of() {
	for t in iptables ip6tables; do
		for tb in filter raw; do "$t-legacy-save" -t $tb; done
	done | ours "$1"
}
n=0
for p in "$SRCDIR"/policies/*.yaml "$SRCDIR"/tests/golden/*.yaml; do
	name=$(basename "$p" .yaml)
	table=$(sed -n 's/^table: *//p' "$p")
	table=${table:-ntpwall}
	q=$T/cli-$name.yaml
	# daemon: and its indented lines out (no time daemon here); the DNS in.
	awk '/^daemon:/ { skip = 1; next } skip && /^[ \t]/ { next } { skip = 0; print }' "$p" |
		sed '/^backend:/d' >"$q"
	printf 'backend: iptables\nresolvers: ["127.0.0.1"]\nresolve: {timeout: 1s, attempts: 2}\n' >>"$q"
	st=$T/cli-state-$name
	cli() { "$NTPWALL" --state-dir "$st" --run-dir "$st-run" "$@"; }
	cli apply "$q" >"$T/out" 2>&1 || { fail "$name: apply: $(cat "$T/out")"; continue; }
	chains_of "$table" | grep -q . || fail "$name: apply made no chain"
	cli diff "$q" >"$T/out" 2>&1 || fail "$name: diff after apply: exit $?: $(head -5 "$T/out")"
	cli status >"$T/out" 2>&1
	grep -q "^iptables chains $table-\*: in-sync$" "$T/out" || fail "$name: status: $(head -3 "$T/out")"
	chains_of "$table" >"$T/applied"
	cli remove >"$T/out" 2>&1 || fail "$name: remove: $(cat "$T/out")"
	chains_of "$table" | grep -q . && fail "$name: remove left chains or jumps"
	cli rollback >"$T/out" 2>&1 || fail "$name: rollback: $(cat "$T/out")"
	chains_of "$table" | sed 's/ \[[0-9]*:[0-9]*\]$//' >"$T/back"
	sed 's/ \[[0-9]*:[0-9]*\]$//' "$T/applied" | cmp -s - "$T/back" ||
		fail "$name: rollback after remove: $(sed 's/ \[[0-9]*:[0-9]*\]$//' "$T/applied" | diff - "$T/back" | head -5)"
	cli diff "$q" >/dev/null 2>&1 || fail "$name: diff after rollback"
	cli remove >/dev/null 2>&1 || fail "$name: remove after rollback"
	chains_of "$table" | grep -q . && fail "$name: the second remove left chains"
	check_other "$name (commands)"
	n=$((n + 1))
done
[ $n -ge 7 ] || fail "commands: only $n policies"
ok "$n example policies through apply, diff, status, remove, rollback and remove: chains as applied, the host's rules untouched"
# Stopped here: later parts wait for their own background jobs.
kill "$dns_pid" 2>/dev/null
wait "$dns_pid" 2>/dev/null

# 2. the commands.
sed -e 's/^table: .*/table: ntpwall_t/' "$SRCDIR/policies/demo-literal.yaml" >"$T/a.yaml"
printf 'backend: iptables\n' >>"$T/a.yaml"
sed 's/192\.0\.2\.3/192.0.2.4/' "$T/a.yaml" >"$T/b.yaml"
A=$T/a.yaml B=$T/b.yaml
genid() { nw status --format json 2>/dev/null | sed -n 's/^  "genid": \([0-9]*\).*/\1/p'; }
latest() { ls "$S" | sed -n 's/^gen-0*\([0-9]*\)\.json$/\1/p' | sort -n | tail -1; }
nw diff "$A" >"$T/out" 2>&1
[ $? = 1 ] || fail "diff before apply: $(cat "$T/out")"
nw apply "$A" >"$T/out" 2>&1 && grep -q '^generation 1 (apply)' "$T/out" || fail "apply A: $(cat "$T/out")"
grep -q 'creates legacy iptables tables' "$T/out" && fail "apply A: a note about new tables on a host that has them"
g1=$(genid)
[ -n "$g1" ] || fail "no genid in status"
save1=$(iptables-legacy-save -c -t filter | grep -v '^#')
out=$(nw apply "$A" 2>/dev/null)
[ "$out" = unchanged ] || fail "re-apply says '$out'"
[ "$(genid)" = "$g1" ] || fail "re-apply changed ntpwall's chains"
[ "$(iptables-legacy-save -c -t filter | grep -v '^#')" = "$save1" ] || fail "re-apply committed"
[ "$(latest)" = 1 ] || fail "re-apply recorded a generation"
out=$(nw diff "$A" 2>&1); rc=$?
[ $rc = 0 ] && [ -z "$out" ] || fail "diff after apply: rc $rc: $out"
nw status >"$T/out" 2>&1 && grep -q ': in-sync$' "$T/out" || fail "status after apply: $(cat "$T/out")"
grep -q '^host: legacy iptables' "$T/out" || fail "status does not say which iptables: $(cat "$T/out")"
iptables-legacy -S INPUT | sed -n 2p | grep -q -- '-j ntpwall_t-IN' || fail "the jump is not first in INPUT"
[ "$(iptables-legacy -S INPUT | grep -c -- '-j ntpwall_t-IN')" = 1 ] || fail "more than one UDP jump in INPUT"
iptables-legacy-save | grep -q -- '-j ACCEPT.*ntpwall\|ntpwall.*-j ACCEPT' && fail "ntpwall made an ACCEPT"
ok "apply, unchanged re-apply (no commit), clean diff, status (flavour), jumps first"

# An address changed in place keeps the counters of unchanged rules.
ip link add nw0 type veth peer name nw1 && ip link set nw1 up && ip addr add 192.0.2.100/24 dev nw0 &&
	ip link set nw0 up || fail "veth interface"
counter() { iptables-legacy-save -c -t filter | sed -n "s/^\[\([0-9]*\):[0-9]*\] .*comment \"\?$1\"\? .*/\1/p" | awk '{ n += $1 } END { print n + 0 }'; }
{ printf 'x' >/dev/udp/192.0.2.77/123; } 2>/dev/null	# to no upstream: otherwise-dport
c1=$(counter otherwise-dport)
nw apply "$B" >"$T/out" 2>&1 || fail "apply B: $(cat "$T/out")"
grep -q '^in place: 1 added, 1 removed, 0 renewed$' "$T/out" || fail "B not in place: $(cat "$T/out")"
[ "$c1" -gt 0 ] && [ "$(counter otherwise-dport)" = "$c1" ] ||
	fail "in place: counter not kept: $c1 -> $(counter otherwise-dport)"
iptables-legacy-save | grep -q -- '-d 192.0.2.4/32 .*egress-upstreams4' || fail "192.0.2.4 not in"
iptables-legacy-save | grep -q -- '192.0.2.3/32' && fail "192.0.2.3 still in"
nw diff "$A" >"$T/out" 2>&1; rc=$?
# In iptables-save's notation, as iptables users read their rules.
[ $rc = 1 ] && grep -q '^+-A .*-s 192\.0\.2\.3/32' "$T/out" && grep -q '^--A .*-s 192\.0\.2\.4/32' "$T/out" &&
	grep -q '^--- iptables chains ntpwall_t-\* (live)$' "$T/out" ||
	fail "diff A against B: rc $rc: $(cat "$T/out")"
ok "in place: one address changed, counters kept, diff both ways"

# status lists the live chains in iptables' notation with their counters
# (iptables-save -c's), both families, not the nft listing.
nw status >"$T/out" 2>&1 || fail "status: $(head -3 "$T/out")"
grep -q '^# iptables$' "$T/out" && grep -q '^# ip6tables$' "$T/out" || fail "status: not both families: $(cat "$T/out")"
grep -q '^\[[0-9]*:[0-9]*\] -I INPUT 1 -p udp -m multiport --ports 123 -m comment --comment "ntpwall_t" -j ntpwall_t-IN$' "$T/out" ||
	fail "status: no jump with counters: $(cat "$T/out")"
grep -q '^\[[0-9]*:[0-9]*\] -A ntpwall_t-O1 -d 192\.0\.2\.4/32 -m comment --comment "egress-upstreams4" -g ntpwall_t-O2$' "$T/out" ||
	fail "status: no element rule with counters: $(cat "$T/out")"
c=$(sed -n 's/^\[\([0-9]*\):[0-9]*\] .*comment "otherwise-dport" .*/\1/p' "$T/out" | awk '{ n += $1 } END { print n + 0 }')
[ "$c" = "$(counter otherwise-dport)" ] && [ "$c" -gt 0 ] || fail "status: otherwise-dport counted $c, the kernel $(counter otherwise-dport)"
grep -q 'chain input {\|table inet' "$T/out" && fail "status of an iptables wall lists nft: $(cat "$T/out")"
ok "status lists the live chains in iptables notation with the kernel's counters"

# explain without a policy names the rule by its id and the iptables chain
# that holds it (a rule after an accept continues in a chain of its own).
nw explain --from 198.51.100.7:40000 --to 192.0.2.4:123 --mode 3 >"$T/out" 2>&1; rc=$?
[ $rc = 0 ] && grep -q '^accept: iptables chain ntpwall_t-OUT, rule "egress-upstreams4": ' "$T/out" ||
	fail "explain of a trusted request: exit $rc: $(cat "$T/out")"
nw explain --direction out --from 198.51.100.7:40000 --to 192.0.2.77:123 --mode 3 >"$T/out" 2>&1; rc=$?
[ $rc = 1 ] && grep -q '^drop: iptables chain ntpwall_t-O[0-9]*, reached from ntpwall_t-OUT, rule "otherwise-dport": ' "$T/out" &&
	grep -q '^no: rule "egress-upstreams4" of iptables chain ntpwall_t-OUT would accept, but fails: destination in @upstreams4' "$T/out" ||
	fail "explain of an untrusted request: exit $rc: $(cat "$T/out")"
grep -q 'chain output\|rule [0-9]' "$T/out" && fail "explain of an iptables wall names nft chains or model numbers: $(cat "$T/out")"
out=$(iptables-legacy -S "$(sed -n 's/^drop: iptables chain \([^,]*\),.*/\1/p' "$T/out")")
echo "$out" | grep -q -- '--comment "\?otherwise-dport"\? -j DROP' || fail "the chain explain names does not hold the rule: $out"
ok "explain names the rule by its id and the iptables chain that holds it"

# Drift made by hand: found, and apply repairs it.
drift() {
	"$@" || fail "$*"
	nw diff "$B" >"$T/out" 2>&1
	[ $? = 1 ] || fail "drift not found: $*"
	nw apply "$B" >/dev/null 2>&1 && nw diff "$B" >/dev/null 2>&1 || fail "not repaired: $*"
	[ "$(iptables-legacy -S INPUT | grep -c 'ntpwall_t-IN')" = 1 ] || fail "jumps after repairing: $*"
}
drift iptables-legacy -D ntpwall_t-O1 2
drift eval 'iptables-legacy -D ntpwall_t-O1 2 && iptables-legacy -D ntpwall_t-I1 2'
grep -q '^+.*192\.0\.2\.1\b' "$T/out" || fail "a deleted element is not shown: $(cat "$T/out")"
drift iptables-legacy -I ntpwall_t-IN 1 -p udp --dport 123 -s 198.51.100.9 -j DROP
drift iptables-legacy -D INPUT -p udp -m multiport --ports 123 -m comment --comment ntpwall_t -j ntpwall_t-IN
drift iptables-legacy -A INPUT -p udp -m multiport --ports 123 -m comment --comment ntpwall_t -j ntpwall_t-IN
drift iptables-legacy -F ntpwall_t-O2
drift ip6tables-legacy -R ntpwall_t-IN 1 -i lo -p udp --dport 124 -m comment --comment loopback-dport -j RETURN
drift iptables-legacy -A OUTPUT -p udp --dport 123 -j ntpwall_t-OUT
check_other "drift"
ok "drift: a deleted element, an added rule, a deleted and a second jump, a flushed chain, a replaced rule"

# rollback, remove, rollback after remove, a rename.
nw apply "$A" >/dev/null 2>&1 || fail "apply A again"
ga=$(latest)
nw rollback >/dev/null 2>&1 && nw diff "$B" >/dev/null 2>&1 || fail "rollback to B"
nw rollback --to "$ga" >/dev/null 2>&1 && nw diff "$A" >/dev/null 2>&1 || fail "rollback --to $ga"
nw remove >"$T/out" 2>&1 || fail "remove: $(cat "$T/out")"
for t in iptables ip6tables; do
	"$t-legacy-save" | grep -q ntpwall_t && fail "$t: remove left something"
done
nw rollback >/dev/null 2>&1 && nw diff "$A" >/dev/null 2>&1 || fail "rollback after remove"
sed 's/^table: .*/table: ntpwall_t2/' "$A" >"$T/a2.yaml"
nw apply "$T/a2.yaml" >"$T/out" 2>&1 || fail "apply renamed: $(cat "$T/out")"
iptables-legacy-save | grep -q 'ntpwall_t-' && fail "a rename left the old chains"
iptables-legacy-save | grep -q -- '-j ntpwall_t2-IN' || fail "renamed chains missing"
nw rollback >/dev/null 2>&1 && nw diff "$A" >/dev/null 2>&1 || fail "rollback of a rename"
iptables-legacy-save | grep -q 'ntpwall_t2' && fail "rollback of a rename left the new chains"
check_other "rollback"
ok "rollback, remove, rollback after remove, rename"

# 4. the xtables lock.
lock_held() { ! flock -n "$XTABLES_LOCKFILE" true; }
flock "$XTABLES_LOCKFILE" sleep 2 & pids="$pids $!"
for _ in $(seq 50); do lock_held && break; sleep 0.02; done
start=$(date +%s%N)
nw apply "$B" >"$T/out" 2>&1 || fail "apply while the lock is held: $(cat "$T/out")"
waited=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$waited" -ge 1000 ] || fail "apply did not wait for the lock (${waited} ms)"
wait
# apply of a big table holds the lock; iptables-legacy -w waits, then
# puts its rule first: both survive, its rule before ntpwall's jumps.
"$rt" apply ntpwall_big 5000 >"$T/big.out" 2>&1 & big=$!
for _ in $(seq 200); do lock_held && break; sleep 0.01; done
lock_held || fail "the big apply never held the lock"
iptables-legacy -w -I INPUT 1 -s 192.0.2.99 -j DROP || fail "iptables-legacy -w"
wait $big || fail "big apply: $(cat "$T/big.out")"
iptables-legacy -S INPUT | sed -n 2p | grep -q -- '-s 192.0.2.99/32 -j DROP' ||
	fail "iptables-legacy -w did not wait for apply: $(iptables-legacy -S INPUT | head -4)"
"$rt" read ntpwall_big >"$T/out" 2>&1 && grep -q 'elems 5000 ' "$T/out" ||
	fail "the big table: $(cat "$T/out")"
iptables-legacy -D INPUT -s 192.0.2.99 -j DROP
"$rt" remove ntpwall_big >/dev/null 2>&1 || fail "remove ntpwall_big"
nw diff "$B" >/dev/null 2>&1 || fail "B changed by the concurrent commands"
check_other "concurrent iptables-legacy"
# A holder that stays: apply gives up after 10 s and changes nothing.
flock "$XTABLES_LOCKFILE" sleep 14 & holder=$!
pids="$pids $holder"
for _ in $(seq 50); do lock_held && break; sleep 0.02; done
nw apply "$A" >"$T/out" 2>&1 && fail "apply with the lock held for good succeeded"
# The engine reads first: the lock times out there (EAGAIN).
grep -q 'still held by another iptables\|Resource temporarily unavailable' "$T/out" ||
	fail "lock timeout: $(cat "$T/out")"
kill $holder 2>/dev/null
wait $holder 2>/dev/null
nw diff "$B" >/dev/null 2>&1 || fail "a refused apply changed something"
"$rt" stale ntpwall_t >"$T/out" 2>&1 || fail "a stale generation was not refused: $(cat "$T/out")"
nw diff "$B" >/dev/null 2>&1 || fail "a stale apply changed something"
ok "the lock: waited for, waited on by iptables-legacy -w (both survive), bounded; stale generation refused"

# An update reads under the lock again; a table whose hash is still the
# engine's read reuses that read's decoded chains, any other is read
# afresh. A rule put by hand into a set chain between the read and the
# update must be seen (the update refuses: -ENOENT, the engine then
# applies whole), not skipped by placing the address where the old read
# said: the hand rule and the 3 addresses stay as they were.
"$rt" apply ntpwall_r 3 >"$T/out" 2>&1 || fail "apply ntpwall_r: $(cat "$T/out")"
iptables-legacy-save -t filter | grep -e '-A ntpwall_r-O1 ' >"$T/o1.before" ||
	fail "no set chain ntpwall_r-O1"
"$rt" raced-add ntpwall_r 3 >"$T/out" 2>&1 || fail "raced add: $(cat "$T/out")"
iptables-legacy-save -t filter | grep -e '-A ntpwall_r-O1 ' >"$T/o1.after"
{ echo '-A ntpwall_r-O1 -m comment --comment hand -j RETURN'; cat "$T/o1.before"; } |
	cmp -s - "$T/o1.after" || fail "raced add changed the set chain: $(diff "$T/o1.before" "$T/o1.after")"
"$rt" remove ntpwall_r >/dev/null 2>&1 || fail "remove ntpwall_r"
ok "an update after a hand edit of a set chain reads it afresh and refuses, nothing changed"

[ $fails = 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all iptables backend tests passed"
