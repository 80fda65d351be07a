#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# "Never do harm" with backend: iptables, against a real kernel in a private
# network and mount namespace (harm.sh and backend.sh do the same for nft):
#   1. kill -9 of `ntpwall apply` at random moments (100 runs): each
#      family's tables are, each time, either the old generation or the new
#      one whole (iptables-legacy-save and ip6tables-legacy-save against the
#      two dumps), every generation in the state directory loads, and the
#      next apply succeeds and status is in-sync. x_tables commits one table
#      of one family at a time, so a kill between two commits (made certain
#      with strace's fault injection) leaves the families of different
#      generations: status says drifted and the next apply completes it;
#   2. Ctrl-C at the prompt of apply --confirm (a ^C typed into a terminal)
#      and SIGINT while apply --probe probes: the previous generation is
#      live again, exit 1;
#   3. a full state directory (a small tmpfs): apply, apply --confirm,
#      apply --probe and rollback fail with exit 2 before the kernel is
#      touched; the tables and the state directory are left as they were.
# The host's own rules (a foreign chain, rules in INPUT/OUTPUT, a DROP
# policy on FORWARD) stay byte-identical throughout.
# Usage: ipt_harm.sh BACKEND_RT   (env NTPWALL, SRCDIR; exit 77 = skip)
set -u
# shellcheck source=tests/netns/lib.sh
. "$SRCDIR/tests/netns/lib.sh"

if [ -z "${IPT_HARM_IN_NETNS:-}" ]; then
	if ! unshare -n -m true 2>/dev/null || ! command -v iptables-legacy >/dev/null; then
		echo "ipt_harm.sh: cannot create network and mount namespaces (or no iptables-legacy)"
		[ "${NTPWALL_REQUIRE_NETNS:-0}" = 1 ] && exit 1
		exit 77
	fi
	IPT_HARM_IN_NETNS=1 exec unshare -n -m bash "$0" "$@"
fi

: "${NTPWALL:?}" "${SRCDIR:?}"
rt=${1:?usage: ipt_harm.sh BACKEND_RT}
mount --make-rprivate / 2>/dev/null
T=$(mktemp -d /tmp/ntpwall-iptharm.XXXXXX)
S=$T/state
# Never the host's /run/xtables.lock: iptables-legacy honours this too.
export XTABLES_LOCKFILE=$T/xtables.lock
cleanup() {
	umount "$T/small" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
gens() { ls "$1" 2>/dev/null | grep -c '^gen-'; }
# Every legacy table of one family (both without an argument), without
# the chains' counters (traffic moves them) and the comment lines (they
# carry the time).
save() {
	case ${1:-} in
	4) iptables-legacy-save ;;
	6) ip6tables-legacy-save ;;
	*) iptables-legacy-save; ip6tables-legacy-save ;;
	esac | grep -v '^#' | sed 's/ \[[0-9]*:[0-9]*\]$//'
}
# The state directory: names, sizes and contents.
state_sum() { (cd "$1" && find . -type f | sort | xargs -r sha256sum); }

ip link set lo up
for t in iptables ip6tables; do
	"$t-legacy" -N other && "$t-legacy" -A other -p tcp --dport 22 -j ACCEPT &&
		"$t-legacy" -A INPUT -j other && "$t-legacy" -A OUTPUT -p udp --dport 53 -j ACCEPT &&
		"$t-legacy" -P FORWARD DROP || fail "$t: setting up the host's rules"
done
host() { save | grep -v ntpwall_ih; }
host >"$T/host.ref"

sed 's/^table: .*/table: ntpwall_ih/' "$SRCDIR/policies/demo-literal.yaml" >"$T/a.yaml"
printf 'backend: iptables\n' >>"$T/a.yaml"
sed 's/192\.0\.2\.3/192.0.2.4/; s/2001:db8::1/2001:db8::4/' "$T/a.yaml" >"$T/b.yaml"
A=$T/a.yaml B=$T/b.yaml

# 1. kill -9 at random moments of apply A / apply B.
nw apply "$A" >/dev/null 2>&1 && save >"$T/save.a" && save 4 >"$T/save4.a" && save 6 >"$T/save6.a" ||
	fail "apply A"
nw apply "$B" >/dev/null 2>&1 && save >"$T/save.b" && save 4 >"$T/save4.b" && save 6 >"$T/save6.b" ||
	fail "apply B"
cmp -s "$T/save4.a" "$T/save4.b" || cmp -s "$T/save6.a" "$T/save6.b" && fail "A and B lay out a family the same"
# Each family whole: A's or B's.
whole() {
	for f in 4 6; do
		save $f >"$T/save.now"
		cmp -s "$T/save.now" "$T/save$f.a" || cmp -s "$T/save.now" "$T/save$f.b" || return 1
	done
}
ops=("$A" "$B")
for i in $(seq 1 100); do
	op=${ops[$((RANDOM % 2))]}
	# Not through nw(): $! must be ntpwall itself, not a subshell.
	"$NTPWALL" --state-dir "$S" apply "$op" >/dev/null 2>&1 & p=$!
	# Anywhere in an apply (some 200 ms here, commits near the end).
	sleep "0.$(printf %03d $((RANDOM % 250)))"
	kill -9 $p 2>/dev/null
	wait $p 2>/dev/null
	whole || fail "kill -9 run $i (apply $op): a family neither A nor B whole: $(diff "$T/save.a" "$T/save.now" | head -5)"
	"$rt" check-state "$S" || fail "kill -9 run $i: a generation does not load"
	if [ $((i % 10)) = 0 ]; then
		nw apply "$op" >"$T/out" 2>&1 || fail "kill -9 run $i: the next apply: $(cat "$T/out")"
		nw status >"$T/out" 2>&1 && grep -q ': in-sync$' "$T/out" ||
			fail "kill -9 run $i: status after the next apply: $(head -3 "$T/out")"
	fi
done
nw apply "$A" >/dev/null 2>&1 && save | cmp -s - "$T/save.a" || fail "apply A after the kill -9 runs"
host | cmp -s - "$T/host.ref" || fail "kill -9 runs changed the host's rules: $(host | diff "$T/host.ref" -)"
ok "kill -9 x100 of apply: each family one generation whole, and the next apply works"

# The kill right between the IPv4 commit and the IPv6 one: strace kills
# ntpwall at its third setsockopt (IPv4 IPT_SO_SET_REPLACE, its
# ADD_COUNTERS, then IPv6's REPLACE).
if command -v strace >/dev/null; then
	strace -qq -f -o /dev/null -e trace=setsockopt -e inject=setsockopt:signal=SIGKILL:when=3 \
		"$NTPWALL" --state-dir "$S" apply "$B" >/dev/null 2>&1
	save 4 | cmp -s - "$T/save4.b" && save 6 | cmp -s - "$T/save6.a" ||
		fail "kill -9 between the family commits: not IPv4 B and IPv6 A, each whole: $(save | diff "$T/save.a" - | head -5)"
	nw status >"$T/out" 2>&1; rc=$?
	[ $rc = 1 ] && grep -q ': drifted$' "$T/out" || fail "status of the families apart: exit $rc: $(head -3 "$T/out")"
	nw apply "$B" >"$T/out" 2>&1 && save | cmp -s - "$T/save.b" || fail "apply B after the families apart: $(cat "$T/out")"
	nw status >"$T/out" 2>&1 && grep -q ': in-sync$' "$T/out" || fail "status after the repair: $(head -3 "$T/out")"
	nw apply "$A" >/dev/null 2>&1 || fail "apply A after the repair"
	ok "kill -9 between the family commits: each family whole, status drifted, the next apply completes it"
fi

# 2. Ctrl-C at the confirm prompt: ^C typed into a terminal (script(1)
# gives one) once the new rules are live. The terminal stays open after
# it (an end of input would revert too): the revert must come from ^C.
if command -v script >/dev/null; then
	# ntpwall is the terminal's only process (exec, no shell: a shell in
	# the foreground group got the ^C too and, once in CI, died of it
	# before printing ntpwall's status); script -e returns its status.
	rm -f "$T/gone"
	{
		for _ in $(seq 100); do [ -f "$S/pending-confirm.json" ] && break; sleep 0.1; done
		sleep 0.3
		printf '\003'
		for _ in $(seq 100); do
			[ -f "$S/pending-confirm.json" ] || { touch "$T/gone"; break; }
			sleep 0.1
		done
	} | script -qec "exec '$NTPWALL' --state-dir '$S' apply --confirm 30 '$B'" /dev/null >"$T/out" 2>&1
	rc=$?
	[ -f "$T/gone" ] || fail "^C at the confirm prompt: still pending while the terminal is open: $(cat "$T/out")"
	[ $rc = 1 ] && grep -q 'revert' "$T/out" || fail "^C at the confirm prompt: exit $rc, not 1: $(cat "$T/out")"
	save | cmp -s - "$T/save.a" || fail "^C at the confirm prompt: A is not live again: $(save | diff "$T/save.a" - | head -5)"
	[ -f "$S/pending-confirm.json" ] && fail "^C at the confirm prompt left the confirmation pending"
	nw status >"$T/out" 2>&1 && grep -q ': in-sync$' "$T/out" || fail "status after ^C: $(head -3 "$T/out")"
	ok "Ctrl-C at the apply --confirm prompt reverts to the previous generation"
fi

# SIGINT while apply --probe probes: upstreams behind a veth whose
# neighbours are fixed and silent, so the probe waits its 5 s.
silent_upstreams ih0 1 2 3 4 || fail "veth for the silent upstreams"
printf 'probe: {timeout: 5s, samples: 1}\n' | cat "$B" - >"$T/bp.yaml"
"$NTPWALL" --state-dir "$S" apply --probe "$T/bp.yaml" >"$T/out" 2>&1 & p=$!
for _ in $(seq 50); do save | cmp -s - "$T/save.b" && break; sleep 0.1; done
sleep 0.3
kill -INT $p
wait $p; rc=$?
[ $rc = 1 ] && grep -q 'interrupted' "$T/out" || fail "SIGINT during apply --probe: exit $rc: $(cat "$T/out")"
save | cmp -s - "$T/save.a" || fail "SIGINT during apply --probe: A is not live again: $(save | diff "$T/save.a" - | head -5)"
nw status >"$T/out" 2>&1 && grep -q ': in-sync$' "$T/out" || fail "status after SIGINT: $(head -3 "$T/out")"
ok "SIGINT during apply --probe reverts to the previous generation"

# 3. A full state directory.
mkdir "$T/small"
mount -t tmpfs -o size=512k,mode=0700 tmpfs "$T/small" || fail "tmpfs"
S=$T/small/state
nw apply "$A" >/dev/null 2>&1 || fail "apply A on the small disk"
fill() { dd if=/dev/zero of="$T/small/fill" bs=4k >/dev/null 2>&1; sync; }
fill
state_sum "$S" >"$T/state.ref"
for args in "$B" "--confirm 30 $B" "--probe $B"; do
	# shellcheck disable=SC2086
	nw apply $args </dev/null >"$T/out" 2>&1; rc=$?
	[ $rc = 2 ] && grep -q 'No space left on device' "$T/out" ||
		fail "apply $args on a full state directory: exit $rc: $(cat "$T/out")"
	save | cmp -s - "$T/save.a" || fail "apply $args on a full state directory changed the tables"
	state_sum "$S" | cmp -s - "$T/state.ref" || fail "apply $args on a full state directory changed it"
done
rm -f "$T/small/fill"
nw apply "$B" >/dev/null 2>&1 || fail "apply B once there is room"
fill
state_sum "$S" >"$T/state.ref"
nw rollback >"$T/out" 2>&1; rc=$?
[ $rc = 2 ] || fail "rollback on a full state directory: exit $rc: $(cat "$T/out")"
save | cmp -s - "$T/save.b" || fail "rollback on a full state directory changed the tables"
state_sum "$S" | cmp -s - "$T/state.ref" || fail "rollback on a full state directory changed it"
rm -f "$T/small/fill"
nw remove >/dev/null 2>&1 || fail "remove"
host | cmp -s - "$T/host.ref" || fail "the host's rules changed: $(host | diff "$T/host.ref" -)"
save | grep -q ntpwall_ih && fail "remove left ntpwall's chains"
ok "a full state directory changes neither the tables nor the directory"

[ $fails = 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all iptables harm tests passed"
