#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Privilege separation, watched from outside: while ntpwall waits for DNS
# answers and NTP replies (from servers that never answer, behind a veth
# with fixed, silent neighbours), the process that asks is a child with
# another uid (nobody, or _ntpwall) and no capabilities when ntpwall runs
# as root; run with CAP_NET_ADMIN alone it keeps the uid and still has no
# capability; the parent, which parses nothing from the network, still
# applies the table. Runs in a private network namespace.
# Needs $NTPWALL; exit 77 without namespaces.
set -u
# shellcheck source=tests/netns/lib.sh
. "$SRCDIR/tests/netns/lib.sh"

if [ -z "${PRIVSEP_IN_NETNS:-}" ]; then
	if ! unshare -n true 2>/dev/null || ! command -v setpriv >/dev/null; then
		echo "privsep.sh: cannot create a network namespace (or no setpriv)"
		[ "${NTPWALL_REQUIRE_NETNS:-0}" = 1 ] && exit 1
		exit 77
	fi
	PRIVSEP_IN_NETNS=1 exec unshare -n bash "$0" "$@"
fi

: "${NTPWALL:?}"
T=$(mktemp -d /tmp/ntpwall-privsep.XXXXXX)
chmod 755 "$T"
cleanup() { rm -rf "$T"; }
trap cleanup EXIT

ip link set lo up
silent_upstreams ps0 1 2 3 4 53 || { fail "veth"; exit 1; }
unpriv_uid=$(id -u _ntpwall 2>/dev/null || id -u nobody)

# fields PID: "uid capeff nonewprivs" of /proc/PID/status, read once (a
# child that exits between two reads would mix two states), or nothing.
fields() {
	awk '$1 == "Uid:" { u = $2 } $1 == "CapEff:" { c = $2 } $1 == "NoNewPrivs:" { n = $2 }
		END { if (u != "" && c != "") print u, c, n }' "/proc/$1/status" 2>/dev/null
}
# watch PID: wait (while PID runs) for a child of PID that has dropped its
# privileges, another uid or no capability, and print its fields. Every
# child is looked at: ntpwall may have short-lived ones, and under load a
# child can be caught as it forks or exits.
watch() {
	local c f parent_uid
	for _ in $(seq 600); do
		parent_uid=$(fields "$1" | cut -d' ' -f1)
		[ -n "$parent_uid" ] || break
		for c in $(pgrep -P "$1"); do
			f=$(fields "$c")
			[ -n "$f" ] || continue
			if [ "${f%% *}" != "$parent_uid" ] || [ "$(echo "$f" | cut -d' ' -f2)" = 0000000000000000 ]; then
				echo "$f"
				return
			fi
		done
		sleep 0.05
	done
	echo "none"
}

# A name behind a resolver that never answers: the child waits its 2 s.
printf '%s\n' 'version: 1' 'table: ps' 'resolvers: ["192.0.2.53"]' \
	'resolve: {timeout: 1s, attempts: 2}' \
	'upstreams: [{server: ntp.test}, {server: 192.0.2.1}, {server: 192.0.2.2}, {server: 192.0.2.3}]' >"$T/dns.yaml"
for how in root net_admin; do
	if [ $how = root ]; then
		"$NTPWALL" resolve "$T/dns.yaml" >/dev/null 2>&1 & p=$!
		want="$unpriv_uid 0000000000000000 1"
	else
		setpriv --bounding-set -all,+net_admin --inh-caps=-all -- \
			"$NTPWALL" resolve "$T/dns.yaml" >/dev/null 2>&1 & p=$!
		want="0 0000000000000000 1"
	fi
	got=$(watch $p)
	wait $p
	[ "$got" = "$want" ] && ok "DNS as $how: the child runs as uid ${want%% *}, no capabilities" ||
		fail "DNS as $how: the child has uid/CapEff/NoNewPrivs '$got', want '$want'"
done

# Addresses only: resolving reads nothing from the network, so no child
# is made (a policy of 10,000 addresses paid a fork and two JSON copies);
# with a name in it, one is (the control).
if command -v strace >/dev/null; then
	printf '%s\n' 'version: 1' 'table: ps' \
		'upstreams: [{server: 192.0.2.1}, {server: 192.0.2.2}, {server: "2001:db8::3"}]' >"$T/lit.yaml"
	# Processes, not threads (a sanitizer's leak checker clones one at
	# exit, and does not run under ptrace anyway).
	forks() {
		ASAN_OPTIONS=detect_leaks=0 strace -f -qq -e trace=clone,clone3,fork,vfork \
			-o "$T/strace" "$NTPWALL" resolve "$1" >/dev/null 2>&1
		grep -v CLONE_VM "$T/strace" | grep -c 'clone\|fork'
	}
	n_lit=$(forks "$T/lit.yaml")
	n_dns=$(forks "$T/dns.yaml")
	[ "$n_lit" = 0 ] && [ "$n_dns" -ge 1 ] &&
		ok "addresses only: resolved without a child (a name: $n_dns process(es) made)" ||
		fail "children made: $n_lit for addresses only (want 0), $n_dns with a name (want >= 1)"
else
	echo "SKIP: strace not installed: the no-child check"
fi

# apply --probe: the servers never answer; the prober is the child.
printf '%s\n' 'version: 1' 'table: ps' \
	'upstreams: [{server: 192.0.2.1}, {server: 192.0.2.2}, {server: 192.0.2.3}, {server: 192.0.2.4}]' \
	'probe: {timeout: 3s, samples: 1}' >"$T/ntp.yaml"
"$NTPWALL" --state-dir "$T/state" apply --probe "$T/ntp.yaml" >"$T/out" 2>&1 & p=$!
got=$(watch $p)
wait $p
rc=$?
[ "$got" = "$unpriv_uid 0000000000000000 1" ] && ok "NTP probe as root: the child runs as uid $unpriv_uid, no capabilities" ||
	fail "NTP probe: the child has '$got'"
[ $rc = 1 ] && grep -q 'no upstream answered' "$T/out" ||
	fail "apply --probe with silent servers: exit $rc: $(cat "$T/out")"
# The parent kept CAP_NET_ADMIN: it applied, and reverted.
grep -q '^generation 2 (revert)' "$T/out" || fail "the parent did not apply and revert: $(cat "$T/out")"

# With CAP_NET_ADMIN alone (no CAP_SETUID): the child keeps uid 0, no capability.
setpriv --bounding-set -all,+net_admin --inh-caps=-all -- \
	"$NTPWALL" --state-dir "$T/state2" apply --probe "$T/ntp.yaml" >"$T/out" 2>&1 & p=$!
got=$(watch $p)
wait $p
[ "$got" = "0 0000000000000000 1" ] && ok "NTP probe with CAP_NET_ADMIN alone: uid 0, no capabilities" ||
	fail "NTP probe with CAP_NET_ADMIN alone: '$got': $(cat "$T/out")"

[ $fails = 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all privsep tests passed"
