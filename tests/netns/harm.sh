#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# "Never do harm", against a real kernel in a private network and mount
# namespace: a table ntpwall did not make is never replaced (refused, left
# byte-identical) unless --replace-unmanaged, and then rollback restores it;
# a table that already is what the policy asks for is adopted without a
# batch; a full state disk (a small tmpfs) stops apply and rollback before
# the kernel is touched, and a confirm watchdog still reverts; confirm only
# confirms what is live; a plain unchanged apply settles a pending
# confirmation; a commit whose record was lost is recorded by the next apply.
# Needs $NTPWALL and $SRCDIR; exit 77 without namespaces.
set -u
# shellcheck source=tests/netns/lib.sh
. "$SRCDIR/tests/netns/lib.sh"

if [ -z "${HARM_IN_NETNS:-}" ]; then
	if ! unshare -n -m true 2>/dev/null || ! command -v nft >/dev/null; then
		echo "harm.sh: cannot create network and mount namespaces (or no nft)"
		[ "${NTPWALL_REQUIRE_NETNS:-0}" = 1 ] && exit 1
		exit 77
	fi
	HARM_IN_NETNS=1 exec unshare -n -m bash "$0" "$@"
fi

: "${NTPWALL:?}" "${SRCDIR:?}"
mount --make-rprivate / 2>/dev/null
T=$(mktemp -d /tmp/ntpwall-harm.XXXXXX)
S=$T/state
cleanup() {
	umount "$T/small" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

# The kernel's ruleset generation, as status reports it.
nft_genid() { "$NTPWALL" --state-dir "$T/none" status --format json 2>/dev/null | sed -n 's/^  "genid": \([0-9]*\).*/\1/p'; }
gens() { ls "$1" 2>/dev/null | grep -c '^gen-'; }
latest_action() {
	local f
	f=$(ls "$1" | grep '^gen-' | sort | tail -1)
	sed -n 's/.*"action":"\([a-z]*\)".*/\1/p' "$1/$f"
}

sed 's/^table: .*/table: ntpwall_h/' "$SRCDIR/policies/demo-literal.yaml" >"$T/a.yaml"
sed 's/192\.0\.2\.3/192.0.2.4/' "$T/a.yaml" >"$T/b.yaml"
A=$T/a.yaml B=$T/b.yaml

# 1. The host's own firewall under the policy's table name (Debian's
# /etc/nftables.conf defines table inet filter): refused, byte-identical,
# no state directory; --replace-unmanaged refuses it too, because rules
# such as `iif lo accept` cannot be restored from ntpwall's rule model.
nft -f - <<'EOF'
table inet filter {
	chain input {
		type filter hook input priority filter; policy drop;
		iif "lo" accept
		ct state established,related accept
		tcp dport 22 accept
	}
	chain output { type filter hook output priority filter; policy accept; }
}
EOF
nft list table inet filter >"$T/filter.ref"
sed 's/^table: .*/table: filter/' "$A" >"$T/filter.yaml"
for extra in "" "--replace-unmanaged" "--confirm 30" "--probe"; do
	# shellcheck disable=SC2086
	nw apply $extra "$T/filter.yaml" >"$T/out" 2>&1
	rc=$?
	[ $rc = 2 ] || fail "apply $extra over the host's table inet filter: exit $rc"
	grep -q 'table inet filter' "$T/out" || fail "apply $extra: no message naming the table: $(cat "$T/out")"
	nft list table inet filter | cmp -s - "$T/filter.ref" || fail "apply $extra changed table inet filter"
	[ -e "$S" ] && { fail "apply $extra over an unmanaged table created the state directory"; rm -rf "$S"; }
done
nw apply --replace-unmanaged "$T/filter.yaml" 2>&1 | grep -q 'cannot restore\|cannot .*be kept' ||
	fail "--replace-unmanaged of a table with foreign rules: no reason given"
nw remove --table filter >/dev/null 2>&1 && fail "remove --table filter accepted"
nft list table inet filter | cmp -s - "$T/filter.ref" || fail "remove changed table inet filter"
nw apply --dry-run "$T/filter.yaml" >"$T/out" 2>&1
grep -q 'not made by ntpwall' "$T/out" || fail "dry-run does not say the table is unmanaged"
nft delete table inet filter
ok "the host's table inet filter is refused and left byte-identical"

# 2. An unmanaged table ntpwall could have made (rendered from another
# policy, loaded by hand): refused; --replace-unmanaged keeps it as a
# generation that rollback restores.
"$NTPWALL" compile "$B" | nft -f - || fail "load B by hand"
nft list table inet ntpwall_h >"$T/b.ref"
nw apply "$A" >"$T/out" 2>&1; rc=$?
[ $rc = 2 ] && grep -q 'replace-unmanaged' "$T/out" || fail "apply over an unmanaged table: exit $rc: $(cat "$T/out")"
nft list table inet ntpwall_h | cmp -s - "$T/b.ref" || fail "refused apply changed the table"
[ -e "$S" ] && fail "refused apply created the state directory"
nw apply --replace-unmanaged "$A" >"$T/out" 2>&1 || fail "apply --replace-unmanaged: $(cat "$T/out")"
nw diff "$A" >/dev/null 2>&1 || fail "apply --replace-unmanaged did not make A live"
[ "$(gens "$S")" = 2 ] || fail "no snapshot generation before the replacement ($(gens "$S") generations)"
nw rollback >"$T/out" 2>&1 || fail "rollback to the unmanaged table: $(cat "$T/out")"
nft list table inet ntpwall_h | cmp -s - "$T/b.ref" || fail "rollback did not restore the unmanaged table exactly"
nw remove >/dev/null 2>&1 || fail "remove after rollback"
rm -rf "$S"
ok "an unmanaged table: refused, then replaced on request and restored by rollback"

# 3. Adopt: the live table already is what the policy compiles to.
"$NTPWALL" compile "$A" | nft -f - || fail "load A by hand"
g0=$(nft_genid)
nw apply "$A" >"$T/out" 2>&1 || fail "adopt: $(cat "$T/out")"
grep -q 'adopted' "$T/out" || fail "adopt not said: $(cat "$T/out")"
[ "$(nft_genid)" = "$g0" ] || fail "adopting sent a batch (genid $g0 -> $(nft_genid))"
[ "$(latest_action "$S")" = adopt ] || fail "no adopt generation"
nw status | grep -q ': in-sync$' || fail "status after adopt: $(nw status | head -2)"
nw apply "$A" >"$T/out" 2>&1 && [ "$(cat "$T/out")" = unchanged ] || fail "apply after adopt: $(cat "$T/out")"
ok "a table equal to the policy is adopted without a batch"

# 4. A commit whose record was lost (kill -9 between the two): the kernel
# holds B, the latest generation says A. apply B records it; rollback works.
"$NTPWALL" compile "$B" | nft -f - || fail "load B under ntpwall's feet"
nw status | grep -q ': drifted$' || fail "status does not see the lost record"
n=$(gens "$S")
nw apply "$B" >"$T/out" 2>&1 || fail "apply B after a lost record: $(cat "$T/out")"
[ "$(gens "$S")" = $((n + 1)) ] || fail "apply B did not record the live table"
nw status | grep -q ': in-sync$' || fail "status after recording: $(nw status | head -2)"
nw rollback >/dev/null 2>&1 && nw diff "$A" >/dev/null 2>&1 || fail "rollback after a recorded lost commit"
ok "a commit whose record was lost is recorded by the next apply"

# 5. A plain apply that changes nothing settles a pending confirmation.
nw apply --confirm 30 "$B" </dev/null >/dev/null 2>&1 || fail "apply --confirm B"
wd=$(sed -n 's/.*"watchdog":\([0-9]*\).*/\1/p' "$S/pending-confirm.json")
nw apply "$B" >"$T/out" 2>&1 || fail "plain apply while pending"
[ -f "$S/pending-confirm.json" ] && fail "an unchanged plain apply left the confirmation pending"
sleep 0.5
[ -n "$wd" ] && grep -qs '^State:.*[RSD]' "/proc/$wd/status" && fail "watchdog still running after settling"
ok "an unchanged plain apply settles a pending confirmation"

# 6. confirm confirms only what is live.
nw apply "$A" >/dev/null 2>&1
nw apply --confirm 30 "$B" </dev/null >/dev/null 2>&1 || fail "apply --confirm B (2)"
nft delete element inet ntpwall_h upstreams4 '{ 192.0.2.4 }'
nw confirm >"$T/out" 2>&1; rc=$?
[ $rc = 2 ] && grep -q 'not what the kernel holds' "$T/out" || fail "confirm of a changed table: exit $rc: $(cat "$T/out")"
[ -f "$S/pending-confirm.json" ] || fail "a refused confirm cleared the pending record"
nw apply "$B" >/dev/null 2>&1 || fail "repair B"
nw confirm >/dev/null 2>&1 && fail "confirm after settling succeeded"
ok "confirm checks that the generation is live"

# 7. A full state disk: apply, apply --confirm and rollback fail before
# the kernel is touched; a watchdog whose revert cannot be recorded still
# reverts, and confirm then does not claim the reverted generation.
nw remove >/dev/null 2>&1 || fail "remove before the small disk"
mkdir "$T/small"
mount -t tmpfs -o size=512k,mode=0700 tmpfs "$T/small" || fail "tmpfs"
S=$T/small/state
nw apply "$A" >/dev/null 2>&1 || fail "apply A on the small disk"
fill() { dd if=/dev/zero of="$T/small/fill" bs=4k >/dev/null 2>&1; sync; }
fill
n=$(gens "$S")
for args in "$B" "--confirm 30 $B" "--probe $B"; do
	g0=$(nft_genid)
	# shellcheck disable=SC2086
	nw apply $args </dev/null >"$T/out" 2>&1; rc=$?
	[ $rc = 2 ] && grep -q 'No space left on device' "$T/out" || fail "apply $args on a full disk: exit $rc: $(cat "$T/out")"
	nw diff "$A" >/dev/null 2>&1 || fail "apply $args on a full disk changed the kernel"
	[ "$(nft_genid)" = "$g0" ] || fail "apply $args on a full disk sent a batch"
	[ "$(gens "$S")" = "$n" ] || fail "apply $args on a full disk recorded a generation"
	[ -f "$S/pending-confirm.json" ] && fail "apply $args on a full disk left a pending record"
done
rm -f "$T/small/fill"
nw apply "$B" >/dev/null 2>&1 || fail "apply B once there is room"
fill
nw rollback >"$T/out" 2>&1; rc=$?
[ $rc = 2 ] && nw diff "$B" >/dev/null 2>&1 || fail "rollback on a full disk: exit $rc, or the kernel changed"
rm -f "$T/small/fill"
nw apply --confirm 2 "$A" </dev/null >/dev/null 2>&1 || fail "apply --confirm A"
fill
sleep 4
nw diff "$B" >/dev/null 2>&1 || fail "the watchdog did not revert with a full disk"
[ -f "$S/pending-confirm.json" ] && fail "pending record left after a forced revert"
nw confirm >"$T/out" 2>&1; rc=$?
[ $rc = 1 ] || fail "confirm after an unrecorded revert: exit $rc: $(cat "$T/out")"
rm -f "$T/small/fill"
nw apply "$B" >"$T/out" 2>&1 && grep -q '^recorded' "$T/out" || fail "apply B after an unrecorded revert: $(cat "$T/out")"
nw status | grep -q ': in-sync$' || fail "status after the unrecorded revert was recorded"
ok "a full state disk changes nothing, and a revert still happens"

# 8. status is a monitor's check: 0 in sync, 1 needs attention (drifted,
# absent, a pending confirmation, a daemon asking what the wall blocks),
# 2 error. The daemon here is a stand-in chronyc (a real chronyd is in
# lockstep.sh); chrony.conf is a file of the test's.
nw remove >/dev/null 2>&1 || fail "remove before state8"
S=$T/state8
mkdir -m 0700 "$T/d8"
printf '%s\n' '#!/bin/sh' \
	'# stand-in: reload succeeds; sources lists the trusted servers and one more.' \
	'case "$*" in' \
	'*reload*) exit 0 ;;' \
	"*-c*sources*) for a in 192.0.2.1 192.0.2.2 192.0.2.3 2001:db8::1; do echo \"^,+,\$a,1,6,377,3,0.0,0.0,0.0\"; done" \
	"	echo '^,?,192.0.2.99,0,6,0,4294967295,0.0,0.0,0.0' ;;" \
	'esac' >"$T/d8/chronyc"
chmod +x "$T/d8/chronyc"
printf 'pool 2.debian.pool.ntp.org iburst\nsourcedir %s/d8\nserver 192.0.2.2 iburst\n' "$T" >"$T/d8/chrony.conf"
cat "$A" >"$T/a8.yaml"
printf 'daemon: {chrony_sources: %s/d8/ntpwall.sources, chronyc: "%s/d8/chronyc", chrony_conf: %s/d8/chrony.conf}\n' \
	"$T" "$T" "$T" >>"$T/a8.yaml"
nw apply "$A" >/dev/null 2>&1 || fail "apply A (state8)"
nw status >/dev/null 2>&1; rc=$?
[ $rc = 0 ] || fail "status in sync: exit $rc"
nft add element inet ntpwall_h upstreams4 '{ 192.0.2.77 }'
nw status >/dev/null 2>&1; rc=$?
[ $rc = 1 ] || fail "status drifted: exit $rc"
nw apply "$A" >/dev/null 2>&1
nw apply --confirm 60 "$B" </dev/null >/dev/null 2>&1
nw status >/dev/null 2>&1; rc=$?
[ $rc = 1 ] || fail "status with a pending confirmation: exit $rc"
nw confirm >/dev/null 2>&1
nft delete table inet ntpwall_h
nw status >"$T/out" 2>&1; rc=$?
[ $rc = 1 ] && grep -q ': absent$' "$T/out" || fail "status of a flushed table: exit $rc"
nw apply "$T/a8.yaml" >"$T/out" 2>&1 || fail "apply with a daemon: $(cat "$T/out")"
grep -q '^server 192.0.2.1 iburst$' "$T/d8/ntpwall.sources" || fail "no sources file written"
nw status >"$T/out" 2>&1; rc=$?
[ $rc = 1 ] || fail "status with a daemon asking blocked servers: exit $rc"
grep -q "chrony asks 192.0.2.99 (state '?'), which the wall blocks" "$T/out" ||
	fail "blocked chronyd source not named: $(cat "$T/out")"
grep -q "chrony.conf:1: 'pool 2.debian.pool.ntp.org iburst': the wall blocks the servers this pool gives" "$T/out" ||
	fail "Debian's default pool line not named: $(cat "$T/out")"
[ "$(grep -c '^daemon:' "$T/out")" = 2 ] ||
	fail "status names ntpwall's own file or a trusted server: $(grep '^daemon:' "$T/out")"
mkdir -m 0777 "$T/open8" && chmod 0777 "$T/open8"
"$NTPWALL" --state-dir "$T/open8" status >"$T/out" 2>&1; rc=$?
[ $rc = 2 ] && grep -q 'refusing it' "$T/out" || fail "status with a refused state directory: exit $rc"
ok "status exit codes; the daemon's blocked sources and chrony.conf lines named"

# 9. Ctrl-C or SIGTERM while apply --probe probes: the unchecked rules do
# not stay; it reverts, says so, exits 1. The upstreams sit behind a veth
# whose neighbours are fixed and silent, so the probe waits its 5 s; the
# signal comes well before.
silent_upstreams nwh0 1 2 3 4 || fail "veth for the silent upstreams"
nw apply "$A" >/dev/null 2>&1 || fail "apply A before the interrupted probe"
printf 'probe: {timeout: 5s, samples: 1}\n' | cat "$B" - >"$T/b9.yaml"
for sig in INT TERM; do
	"$NTPWALL" --state-dir "$S" apply --probe "$T/b9.yaml" >"$T/out" 2>&1 &
	p=$!
	for _ in $(seq 50); do nw diff "$T/b9.yaml" >/dev/null 2>&1 && break; sleep 0.1; done
	sleep 0.3
	kill -$sig $p
	wait $p; rc=$?
	[ $rc = 1 ] || fail "SIG$sig during apply --probe: exit $rc: $(cat "$T/out")"
	grep -q 'interrupted' "$T/out" || fail "SIG$sig: not said: $(cat "$T/out")"
	nw diff "$A" >/dev/null 2>&1 || fail "SIG$sig during apply --probe: the new rules stayed"
done
ok "Ctrl-C or SIGTERM during apply --probe reverts"

# 10. A range added by hand to an interval set (not a prefix) is drift;
# apply and refresh replace the table instead of failing on it forever.
printf 'serve: {clients: [203.0.113.0/28], rate_limit: {per_source: 8/second}}\n' | cat "$A" - >"$T/a10.yaml"
sed 's#203.0.113.0/28#203.0.113.0/27#' "$T/a10.yaml" >"$T/b10.yaml"
nw apply "$T/a10.yaml" >/dev/null 2>&1 || fail "apply a10"
nft add element inet ntpwall_h clients4 '{ 203.0.113.100-203.0.113.109 }' || fail "nft range"
nw diff "$T/a10.yaml" >/dev/null 2>&1 && fail "a range added by hand is not drift"
nw refresh "$T/a10.yaml" >"$T/out" 2>&1 || fail "refresh with a range in a set: $(cat "$T/out")"
grep -q 'range added by hand' "$T/out" || fail "refresh does not say why it replaced: $(cat "$T/out")"
nw diff "$T/a10.yaml" >/dev/null 2>&1 || fail "refresh did not repair the set"
nft add element inet ntpwall_h clients4 '{ 203.0.113.100-203.0.113.109 }'
nw apply "$T/b10.yaml" >"$T/out" 2>&1 || fail "apply with a range in a set: $(cat "$T/out")"
nw diff "$T/b10.yaml" >/dev/null 2>&1 || fail "apply did not make b10 live"
nft add element inet ntpwall_h clients4 '{ 203.0.113.100-203.0.113.109 }'
nw rollback >"$T/out" 2>&1 || fail "rollback with a range in a set: $(cat "$T/out")"
nw diff "$T/a10.yaml" >/dev/null 2>&1 || fail "rollback did not make a10 live"
ok "a range added by hand to an interval set: apply, refresh and rollback replace the table"

# 11. nts: true means something: NTS-KE (TCP/4460) goes only to the NTS
# upstreams. The upstreams sit behind the silent veth of section 9.
ip neigh replace 192.0.2.9 lladdr 02:00:00:00:00:09 dev nwh0 nud permanent
printf '%s\n' 'version: 1' 'table: ntpwall_h' 'upstreams:' '  - server: 192.0.2.1' '    nts: true' \
	'  - server: 192.0.2.2' '  - server: 192.0.2.3' '  - server: 192.0.2.4' \
	'waive: {NW207: "a test without DNS"}' >"$T/nts.yaml"
nw apply "$T/nts.yaml" >"$T/out" 2>&1 || fail "apply nts: $(cat "$T/out")"
nts_count() {
	nft list table inet ntpwall_h | rule_packets output "$1"
}
timeout 2 bash -c 'exec 3<>/dev/tcp/192.0.2.9/4460' 2>/dev/null && fail "NTS-KE to a non-NTS host connected"
[ "$(nts_count otherwise-nts)" -ge 1 ] || fail "NTS-KE to 192.0.2.9 not dropped by otherwise-nts: $(nft list table inet ntpwall_h)"
n=$(nts_count otherwise-nts)
timeout 2 bash -c 'exec 3<>/dev/tcp/192.0.2.1/4460' 2>/dev/null
[ "$(nts_count egress-nts4)" -ge 1 ] && [ "$(nts_count otherwise-nts)" = "$n" ] ||
	fail "NTS-KE to the NTS upstream was not let out: $(nft list table inet ntpwall_h)"
nw remove >/dev/null 2>&1
ok "NTS-KE goes only to the NTS upstreams"

[ $fails = 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all harm tests passed"
