#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The nft backend and the changing commands against a real kernel, inside a
# private network namespace (the script re-executes itself under
# `unshare -n`): apply, idempotence (no batch: genid unchanged), diff both
# ways, hand-made drift, rollback, remove, confirm (timeout and kept),
# racing applies, kill -9, and a foreign table that must
# stay byte-identical throughout. Needs $NTPWALL; exit 77 without netns.
set -u

if [ -z "${BACKEND_IN_NETNS:-}" ]; then
	if ! unshare -n true 2>/dev/null || ! command -v nft >/dev/null; then
		echo "backend.sh: cannot create a network namespace (or no nft)"
		[ "${NTPWALL_REQUIRE_NETNS:-0}" = 1 ] && exit 1
		exit 77
	fi
	BACKEND_IN_NETNS=1 exec unshare -n bash "$0" "$@"
fi

: "${NTPWALL:?}" "${SRCDIR:?}"
fake_ntpd=${1:-}	# tests/fake_ntpd, for apply --probe
rt=${2:-}		# tests/backend_rt, to check the state dir after kill -9
T=$(mktemp -d /tmp/ntpwall-backend.XXXXXX)
S=$T/state
pids=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT

fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
# Every ntpwall command is followed by a check of the foreign table.
nw() {
	local rc
	"$NTPWALL" --state-dir "$S" "$@"
	rc=$?
	[ -f "$T/other.ref" ] && check_other "ntpwall $*"
	return $rc
}

# Policies: A (demo), B (one upstream replaced), both on table ntpwall_t.
sed 's/^table: .*/table: ntpwall_t/' "$SRCDIR/policies/demo-literal.yaml" >"$T/a.yaml"
sed 's/192\.0\.2\.3/192.0.2.4/' "$T/a.yaml" >"$T/b.yaml"
A=$T/a.yaml B=$T/b.yaml

# A foreign table with rules and a set: must never change.
nft -f - <<'EOF'
table inet other {
	set s { type ipv4_addr; elements = { 10.0.0.1, 10.0.0.2 } }
	chain c { type filter hook input priority 0; policy accept; tcp dport 22 ip saddr @s accept; udp dport 123 drop; }
}
EOF
nft list table inet other >"$T/other.ref"
check_other() {
	nft list table inet other | cmp -s - "$T/other.ref" || fail "table inet other changed after: $*"
}
genid() { nw status --format json | sed -n 's/^  "genid": \([0-9]*\).*/\1/p'; }
live() { nft list table inet ntpwall_t 2>/dev/null; }

# 0. bad input changes nothing: no state directory appears, no table.
printf 'version: 1\nupstreams: [{server: 192.0.2.1}]\nbogus: 1\n' >"$T/bad.yaml"
for args in "apply $T/missing.yaml" "apply $T/bad.yaml" "refresh $T/bad.yaml" \
	"rollback" "apply --confirm 0 $A" "remove --table other"; do
	# shellcheck disable=SC2086
	nw $args >"$T/out" 2>&1 && fail "ntpwall $args succeeded"
	[ -e "$S" ] && { fail "ntpwall $args created the state directory"; rm -rf "$S"; }
	grep -q '^ntpwall: \|error' "$T/out" || fail "ntpwall $args: no message: $(cat "$T/out")"
done
live >/dev/null && fail "bad input made a table"
# Nothing to remove is no error, and creates nothing either.
out=$(nw remove 2>&1) || fail "remove with no state directory: $out"
echo "$out" | grep -q 'nothing to remove' || fail "remove with nothing applied: $out"
[ -e "$S" ] && fail "remove created the state directory"
# A state directory others may write to is refused (it decides what root
# loads into the kernel).
mkdir -m 0777 "$T/open" && chmod 0777 "$T/open"
"$NTPWALL" --state-dir "$T/open" apply "$A" >"$T/out" 2>&1 && fail "apply with a world-writable state directory"
grep -q "must belong to this user and not be writable by group or others" "$T/out" ||
	fail "world-writable state directory: $(cat "$T/out")"
[ -z "$(ls -A "$T/open")" ] || fail "a refused state directory was written to"
live >/dev/null && fail "apply with a refused state directory made a table"
ok "bad input: an error, no state directory, no table"

# 1. diff before anything: differs; apply; apply again: unchanged, no batch.
nw diff "$A" >"$T/out" 2>&1
[ $? = 1 ] && grep -q '^+table inet ntpwall_t' "$T/out" || fail "diff before apply"
check_other "diff"
nw apply "$A" >"$T/out" 2>&1 && grep -q '^generation 1 (apply)' "$T/out" || fail "apply A: $(cat "$T/out")"
check_other "apply"
g1=$(genid)
out=$(nw apply "$A" 2>"$T/err")
[ "$out" = unchanged ] || fail "re-apply says '$out'"
[ "$(genid)" = "$g1" ] || fail "re-apply sent a batch (genid $g1 -> $(genid))"
[ "$(ls "$S" | grep -c '^gen-')" = 1 ] || fail "re-apply recorded a generation"
out=$(nw diff "$A" 2>"$T/err"); rc=$?
[ $rc = 0 ] && [ -z "$out" ] || fail "diff after apply: rc $rc: $out"
check_other "re-apply"
ok "apply, idempotent re-apply, clean diff"

# 2. dry run and diff in both directions.
nw apply --dry-run "$B" >"$T/out" 2>&1; rc=$?
[ $rc = 1 ] && grep -q '^-.*192\.0\.2\.3' "$T/out" && grep -q '^+.*192\.0\.2\.4' "$T/out" ||
	fail "dry-run B: rc $rc: $(cat "$T/out")"
[ "$(genid)" = "$g1" ] || fail "dry-run changed the ruleset"
nw apply "$B" >/dev/null 2>&1 || fail "apply B"
nw diff "$B" >/dev/null 2>&1 || fail "diff B after apply B"
nw diff "$A" >"$T/out" 2>&1; rc=$?
[ $rc = 1 ] && grep -q '^+.*192\.0\.2\.3' "$T/out" && grep -q '^-.*192\.0\.2\.4' "$T/out" ||
	fail "diff A against live B: rc $rc"
grep -q '^@@ ' "$T/out" && grep -q '^--- ' "$T/out" && grep -q '^+++ ' "$T/out" || fail "not a unified diff"
check_other "apply B"
ok "dry-run, diff both ways"

# 3. hand-made drift is found, and apply repairs it.
drift() {
	nft "$@" || fail "nft $*"
	nw diff "$B" >"$T/out" 2>&1
	[ $? = 1 ] || fail "drift not found: nft $*"
	nw apply "$B" >/dev/null 2>&1 && nw diff "$B" >/dev/null 2>&1 || fail "repair after: nft $*"
	check_other "drift $*"
}
drift add rule inet ntpwall_t input udp dport 123 ip saddr 198.51.100.9 drop
grep -q '^-.*198\.51\.100\.9' "$T/out" || fail "added rule not shown: $(cat "$T/out")"
drift flush chain inet ntpwall_t output
drift delete element inet ntpwall_t upstreams4 '{ 192.0.2.1 }'
grep -q '^+.*192\.0\.2\.1' "$T/out" || fail "deleted element not shown"
drift add rule inet ntpwall_t output tcp flags syn counter
drift add set inet ntpwall_t extra '{ type ipv4_addr; }'
ok "drift: added rule, flushed chain, deleted element, foreign expression, extra set"

# 4. rollback, rollback --to.
latest() { ls "$S" | sed -n 's/^gen-0*\([0-9]*\)\.json$/\1/p' | sort -n | tail -1; }
nw apply "$A" >/dev/null 2>&1 || fail "apply A again"
ga=$(latest)
nw rollback >"$T/out" 2>&1 && nw diff "$B" >/dev/null 2>&1 || fail "rollback to B"
grep -qx "generation $((ga + 1)) (rollback of $((ga - 1))): +192\.0\.2\.4 -192\.0\.2\.3" "$T/out" ||
	fail "rollback did not say what it restored: $(cat "$T/out")"
nw -v rollback --to "$ga" >"$T/out" 2>&1 && nw diff "$A" >/dev/null 2>&1 || fail "rollback --to $ga"
grep -qx "in place: set elements changed, rules and counters kept" "$T/out" &&
	grep -qx "added: 192\.0\.2\.3" "$T/out" && grep -qx "removed: 192\.0\.2\.4" "$T/out" ||
	fail "rollback -v: $(cat "$T/out")"
grep -q '"action":"rollback"' "$S/gen-$(printf %06d "$(latest)").json" || fail "rollback not recorded"
check_other "rollback"
ok "rollback, rollback --to"

# 4b. history: every generation, what came and went. The last three are
# apply A (-192.0.2.4 +192.0.2.3 against B), rollback of the one before
# (B back), rollback --to ga (A again); the policy path is absolute.
nw history >"$T/hist" 2>&1 || fail "history: $(cat "$T/hist")"
tail -3 "$T/hist" >"$T/h3"
sed -n 1p "$T/h3" | grep -q "^$ga .* apply: 4 upstreams, 0 peers +192\.0\.2\.3 -192\.0\.2\.4 ($A, hash " ||
	fail "history: apply line: $(cat "$T/h3")"
sed -n 2p "$T/h3" | grep -q " rollback of $((ga - 1)): 4 upstreams, 0 peers +192\.0\.2\.4 -192\.0\.2\.3 (" ||
	fail "history: first rollback line: $(cat "$T/h3")"
sed -n 3p "$T/h3" | grep -q " rollback of $ga: .* +192\.0\.2\.3 -192\.0\.2\.4 " ||
	fail "history: second rollback line: $(cat "$T/h3")"
nw history --format json | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["format"] == "ntpwall-history" and d["version"] == 1, d
g = d["generations"][-1]
assert g["action"] == "rollback" and g["upstreams"] == 4 and g["peers"] == 0, g
assert g["added"] == ["192.0.2.3"] and g["removed"] == ["192.0.2.4"], g
assert g["policy"].startswith("/") and g["table"] == "ntpwall_t", g
nums = [x["generation"] for x in d["generations"]]
assert nums == sorted(nums) and len(set(nums)) == len(nums), nums
' || fail "history --format json"
(cd / && "$NTPWALL" --state-dir "$S" history extra) >/dev/null 2>&1; [ $? = 2 ] || fail "history extra: not exit 2"
"$NTPWALL" --state-dir "$T/none" history >"$T/out" 2>&1; [ $? = 0 ] && [ ! -s "$T/out" ] ||
	fail "history without a state dir: $(cat "$T/out")"
[ -e "$T/none" ] && fail "history created the state directory"
ok "history: text and json, additions and removals, absolute policy path"

# 5. remove, then rollback brings the table back.
nw remove >/dev/null 2>&1 || fail "remove"
live >/dev/null && fail "table still there after remove"
check_other "remove"
out=$(nw remove 2>&1) || fail "second remove"
nw remove --table other >/dev/null 2>&1 && fail "remove --table other accepted"
nw -v rollback >"$T/out" 2>&1 && nw diff "$A" >/dev/null 2>&1 || fail "rollback after remove"
grep -qx "replaced: a new table, counters start again" "$T/out" &&
	grep -q "^generation [0-9]* (rollback of [0-9]*): +192\.0\.2\.1 +192\.0\.2\.2 +192\.0\.2\.3 +2001:db8::1$" "$T/out" ||
	fail "rollback -v after remove: $(cat "$T/out")"
check_other "rollback after remove"
ok "remove, rollback after remove"

# 6. confirm: not confirmed -> reverted by the watchdog; confirmed -> kept.
nw apply "$B" --confirm 2 </dev/null >/dev/null 2>&1 || fail "apply --confirm"
nw diff "$B" >/dev/null 2>&1 || fail "confirm apply not live"
[ -f "$S/pending-confirm.json" ] || fail "no pending record"
sleep 5
nw diff "$A" >/dev/null 2>&1 || fail "not reverted after the deadline"
[ -f "$S/pending-confirm.json" ] && fail "pending record left after revert"
grep -q '"action":"revert"' "$S/gen-$(printf %06d "$(latest)").json" || fail "revert not recorded"
nw apply "$B" --confirm 30 </dev/null >/dev/null 2>&1 || fail "apply --confirm (2)"
wd=$(sed -n 's/.*"watchdog":\([0-9]*\).*/\1/p' "$S/pending-confirm.json")
[ -n "$wd" ] && kill -0 "$wd" 2>/dev/null || fail "no watchdog process"
nw confirm >/dev/null 2>&1 || fail "confirm"
sleep 1
# A zombie waiting for its reaper counts as gone.
grep -qs '^State:.*[RSD]' "/proc/$wd/status" && fail "watchdog still running after confirm"
nw diff "$B" >/dev/null 2>&1 || fail "confirmed apply was reverted"
nw confirm >/dev/null 2>&1 && fail "confirm with nothing pending succeeded"
# On a terminal (script(1) gives one): y keeps, n reverts at once.
if command -v script >/dev/null; then
	printf 'y\n' | script -qec "'$NTPWALL' --state-dir '$S' apply --confirm 30 '$A'" /dev/null >"$T/out" 2>&1
	nw diff "$A" >/dev/null 2>&1 && [ ! -f "$S/pending-confirm.json" ] || fail "prompt y: $(cat "$T/out")"
	printf 'n\n' | script -qec "'$NTPWALL' --state-dir '$S' apply --confirm 30 '$B'" /dev/null >"$T/out" 2>&1
	nw diff "$A" >/dev/null 2>&1 && [ ! -f "$S/pending-confirm.json" ] || fail "prompt n: $(cat "$T/out")"
	nw apply "$B" >/dev/null 2>&1
fi
check_other "confirm"
ok "confirm timeout reverts, confirm keeps"

# 7. two applies racing: serialised, the result is one of them.
for i in 1 2 3 4 5; do
	nw apply "$A" >/dev/null 2>&1 & p1=$!
	nw apply "$B" >/dev/null 2>&1 & p2=$!
	wait $p1 || fail "racing apply A failed"
	wait $p2 || fail "racing apply B failed"
	nw diff "$A" >/dev/null 2>&1 || nw diff "$B" >/dev/null 2>&1 || fail "race left neither A nor B"
done
# A commit by someone else between our read and our batch, and a batch the
# kernel rejects late: tests/engine/test_engine.c (in-memory backend) and
# backend_rt.sh (the real kernel rejects overlapping interval elements).
check_other "race"
ok "racing applies"

# 9. kill -9 at random points of apply, refresh, rollback and remove (300
# runs) never leaves a partial table or a generation that does not load,
# and the next apply always brings status to in-sync, with rollback working.
ops=("apply $A" "apply $B" "refresh $A" "rollback" "remove")
# The listings of A and B as the kernel gives them (one nft call per run
# instead of two ntpwall diffs: 300 runs must stay cheap).
nw apply "$A" >/dev/null 2>&1 && live >"$T/list.a"
nw apply "$B" >/dev/null 2>&1 && live >"$T/list.b"
live_is_whole() {
	live >"$T/list.now"
	cmp -s "$T/list.now" "$T/list.a" || cmp -s "$T/list.now" "$T/list.b" || [ ! -s "$T/list.now" ]
}
for i in $(seq 1 300); do
	op=${ops[$((RANDOM % ${#ops[@]}))]}
	# Not through nw(): $! must be ntpwall itself, not a subshell.
	# shellcheck disable=SC2086
	"$NTPWALL" --state-dir "$S" $op >/dev/null 2>&1 & p=$!
	sleep "0.0$((RANDOM % 3))$((RANDOM % 10))"
	kill -9 $p 2>/dev/null
	wait $p 2>/dev/null
	live_is_whole || fail "kill -9 run $i ($op): partial table: $(live)"
	if [ -n "$rt" ]; then
		"$rt" check-state "$S" || fail "kill -9 run $i ($op): a generation does not load"
	fi
	if [ $((i % 25)) = 0 ]; then
		nw apply "$A" >/dev/null 2>&1 || fail "kill -9 run $i: apply after"
		nw status >"$T/out" 2>&1 && grep -q ': in-sync$' "$T/out" ||
			fail "kill -9 run $i ($op): status after apply: $(head -3 "$T/out")"
		nw rollback >/dev/null 2>&1 || fail "kill -9 run $i: rollback after"
	fi
done
nw apply "$A" >/dev/null 2>&1 && nw status >/dev/null 2>&1 || fail "status after kill -9 runs"
check_other "kill -9"
ok "kill -9 x300 (apply, refresh, rollback, remove)"

# 10. --probe: no upstream answers -> the apply is reverted (exit 1);
# answering upstreams (fake_ntpd on local addresses, given as $1) -> kept.
ip link set lo up
printf 'probe: {timeout: 200ms, samples: 1}\n' >"$T/probe-extra.yaml"
cat "$B" "$T/probe-extra.yaml" >"$T/bp.yaml"
nw apply "$A" >/dev/null 2>&1
nw apply --probe "$T/bp.yaml" >"$T/out" 2>&1 && fail "--probe with silent upstreams succeeded"
grep -q 'reverting' "$T/out" || fail "--probe did not say it reverts: $(cat "$T/out")"
nw diff "$A" >/dev/null 2>&1 || fail "--probe failure did not restore A"
if [ -n "$fake_ntpd" ] && [ -x "$fake_ntpd" ]; then
	# In a nested namespace: table inet other drops UDP/123 here, and an
	# accept in ntpwall's table cannot open what another table drops.
	# The servers are local addresses on lo (no dummy module everywhere).
	unshare -n bash -c '
		ip link set lo up
		for a in 192.0.2.1 192.0.2.2 192.0.2.4; do ip addr add "$a/32" dev lo; done
		"$1" 192.0.2.1:ok 192.0.2.2:ok 192.0.2.4:ok >/dev/null 2>&1 & f=$!
		sleep 0.5
		"$2" --state-dir "$3/state-probe" apply --probe "$3/bp.yaml" >"$3/out" 2>&1; rc=$?
		"$2" --state-dir "$3/state-probe" diff "$3/bp.yaml" >/dev/null 2>&1 || rc=1
		kill $f
		exit $rc' - "$fake_ntpd" "$NTPWALL" "$T" || fail "--probe with answering upstreams: $(cat "$T/out")"
fi
check_other "probe"
ok "apply --probe"

# 11. a renamed table replaces the old one in the same transaction, and
# rollback renames it back.
sed 's/^table: .*/table: ntpwall_t2/' "$A" >"$T/a2.yaml"
nw apply "$A" >/dev/null 2>&1
nw apply "$T/a2.yaml" >/dev/null 2>&1 || fail "apply renamed"
nft list table inet ntpwall_t2 >/dev/null 2>&1 || fail "renamed table missing"
live >/dev/null && fail "old table left behind after rename"
nw rollback >/dev/null 2>&1 && nw diff "$A" >/dev/null 2>&1 || fail "rollback of a rename"
nft list table inet ntpwall_t2 >/dev/null 2>&1 && fail "renamed table left behind after rollback"
check_other "rename"
ok "table rename"

# 12. only elements differ: changed in place, rules keep their handles and
# counters, no hook is re-registered; anything else replaces the table.
ip link add nw0 type veth peer name nw1 && ip link set nw1 up && ip addr add 192.0.2.100/24 dev nw0 && ip link set nw0 up ||
	fail "veth interface"
# packets counted by the rules with this comment (input and output chains)
counter() { live | sed -n "s/.*counter packets \([0-9]*\) .*comment \"$1\".*/\1/p" | awk '{ n += $1 } END { print n + 0 }'; }
handles() { nft -a list table inet ntpwall_t | grep -o 'comment "[^"]*" # handle [0-9]*'; }
nw apply "$A" >/dev/null 2>&1
{ printf 'x' >/dev/udp/192.0.2.1/123; } 2>/dev/null	# mode 0: counted by the otherwise rule
c1=$(counter otherwise-dport)
handles >"$T/h1"
nw apply "$B" >"$T/out" 2>&1 || fail "in-place apply B: $(cat "$T/out")"
grep -q '^in place: 1 added, 1 removed, 0 renewed$' "$T/out" || fail "in-place apply: $(cat "$T/out")"
nw diff "$B" >/dev/null 2>&1 || fail "diff after in-place apply"
[ -n "$c1" ] && [ "$c1" -gt 0 ] && [ "$(counter otherwise-dport)" = "$c1" ] ||
	fail "counter not kept by an in-place apply: $c1 -> $(counter otherwise-dport)"
handles | cmp -s - "$T/h1" || fail "rule handles changed by an in-place apply"
nw rollback >/dev/null 2>&1 && nw diff "$A" >/dev/null 2>&1 || fail "rollback of an in-place apply"
[ "$(counter otherwise-dport)" = "$c1" ] || fail "counter not kept by an in-place rollback"
nw apply "$B" >/dev/null 2>&1 || fail "apply B again"
sed 's/^otherwise: .*//; $a otherwise: reject' "$T/b.yaml" >"$T/c.yaml"
nw apply "$T/c.yaml" >"$T/out" 2>&1 || fail "apply C: $(cat "$T/out")"
grep -q '^in place' "$T/out" && fail "a rule change was applied in place"
[ "$(counter otherwise-dport)" = 0 ] || fail "a new table kept old counters"
# Interval sets (serve.clients prefixes) change in place too: start and
# end keys go together, adjacent prefixes stay apart.
cat >"$T/lan1.yaml" <<'EOF'
version: 1
table: ntpwall_t
upstreams: [{server: 192.0.2.1}, {server: 192.0.2.2}, {server: 192.0.2.3}, {server: 192.0.2.4}]
serve:
  clients: [198.51.100.0/24, 203.0.113.0/25, "2001:db8:1::/48"]
  rate_limit: {per_source: 8/second}
EOF
sed 's|clients: .*|clients: [198.51.100.0/25, 203.0.113.0/25, 203.0.113.128/26, "2001:db8:2::/48"]|' \
	"$T/lan1.yaml" >"$T/lan2.yaml"
nw apply "$T/lan1.yaml" >/dev/null 2>&1 || fail "apply lan1"
nw apply "$T/lan2.yaml" >"$T/out" 2>&1 || fail "apply lan2: $(cat "$T/out")"
grep -q '^in place: 3 added, 2 removed, 0 renewed$' "$T/out" || fail "prefix change not in place: $(cat "$T/out")"
nw diff "$T/lan2.yaml" >/dev/null 2>&1 || fail "diff after an in-place prefix change"
nft list set inet ntpwall_t clients4 | tr -d ' \t\n' | grep -q '198.51.100.0/25,203.0.113.0/25,203.0.113.128/26}' ||
	fail "adjacent prefixes merged: $(nft list set inet ntpwall_t clients4)"
nw apply "$T/c.yaml" >/dev/null 2>&1 || fail "back to C"
check_other "in place"
ok "in-place element changes keep counters; rule changes replace the table"

# 13. history is bounded.
[ "$(ls "$S" | grep -c '^gen-')" -le 11 ] || fail "more than 10 generations kept"

[ $fails = 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all backend tests passed"
