#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The systemd units as meson configures them (build/contrib/systemd, from
# contrib/systemd/*.in, ExecStart= in the configured sbindir):
# `systemd-analyze verify` is clean for each, as built, with the built
# binary at the configured path (an overlay on sbindir, in this test's mount
# namespace only) and the man pages on MANPATH; every service acts only
# when /etc/ntpwall/policy.yaml exists and has its state directory 0700; and
# their commands work under the units' own capability bounding set, run by
# setpriv (PID 1 here is not systemd): after `nft flush ruleset` (what
# nftables.service runs) the boot unit's ExecStart and ExecReload restore
# the wall, and the refresh unit's ExecStart moves a real chronyd's sources
# through chronyc, which needs CAP_DAC_OVERRIDE for its socket in
# /run/chrony (without it: exit 3, the daemon not told); the metrics unit's
# script writes a file the Prometheus parser reads, renamed into place, and
# fails on a full disk keeping the old one. Runs in private
# network and mount namespaces with a private /run.
# Needs $NTPWALL, $SRCDIR and $BUILDDIR; exit 77 without namespaces.
set -u

if [ -z "${UNITS_IN_NETNS:-}" ]; then
	if ! unshare -n -m true 2>/dev/null || ! command -v nft >/dev/null; then
		echo "units.sh: cannot create network and mount namespaces (or no nft)"
		[ "${NTPWALL_REQUIRE_NETNS:-0}" = 1 ] && exit 1
		exit 77
	fi
	UNITS_IN_NETNS=1 exec unshare -n -m bash "$0" "$@"
fi

: "${NTPWALL:?}" "${SRCDIR:?}" "${BUILDDIR:?}"
mount --make-rprivate / 2>/dev/null
T=$(mktemp -d /tmp/ntpwall-units.XXXXXX)
S=$T/state
CPID=
cleanup() {
	[ -n "$CPID" ] && kill "$CPID" 2>/dev/null && wait "$CPID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
U=$BUILDDIR/contrib/systemd

# The value of KEY= in unit file $1.
key() { sed -n "s/^$2=//p" "$1"; }

# 1. systemd-analyze verify, every unit as built.
for tool in systemd-analyze setpriv chronyd chronyc man; do
	command -v $tool >/dev/null || { fail "$tool not installed"; exit 1; }
done
for f in "$SRCDIR"/contrib/systemd/*.in; do
	u=$(basename "$f" .in)
	[ -f "$U/$u" ] || fail "$u: contrib/systemd/$u.in is not built (contrib/systemd/meson.build)"
done
# The configured path of the binary, the same in every unit
# (the metrics unit runs it from a bash script).
bin=$(grep -h '^Exec' "$U"/*.service | grep -oE "[^ =';\"]*/ntpwall( |$)" | tr -d ' ' | sort -u)
case $bin in
/*/ntpwall) ;;
*) fail "the units run '$bin', not one configured .../ntpwall"; exit 1 ;;
esac
[ -d "$(dirname "$bin")" ] || { fail "$(dirname "$bin") does not exist here: cannot verify"; exit 1; }
mkdir -p "$T/sbin" "$T/man/man8" "$T/man/man5"
cp "$NTPWALL" "$T/sbin/ntpwall"
mount -t overlay overlay -o "lowerdir=$T/sbin:$(dirname "$bin")" "$(dirname "$bin")" ||
	{ fail "cannot overlay $(dirname "$bin")"; exit 1; }
cp "$SRCDIR/contrib/ntpwall.8" "$T/man/man8/"
cp "$SRCDIR/contrib/ntpwall-policy.5" "$T/man/man5/"
if (cd "$U" && MANPATH=$T/man systemd-analyze verify ./*.service ./*.timer) >"$T/out" 2>&1 &&
	[ ! -s "$T/out" ]; then
	ok "systemd-analyze verify: $(cd "$U" && echo *.service *.timer), $bin"
else
	fail "systemd-analyze verify: $(cat "$T/out")"
fi
for f in "$U"/*.service; do
	u=$(basename "$f")
	[ "$(key "$f" ConditionPathExists)" = /etc/ntpwall/policy.yaml ] ||
		fail "$u: no ConditionPathExists=/etc/ntpwall/policy.yaml (it would act without a policy)"
	# The units that write generations make the state directory; the
	# metrics unit only reads it.
	case $u in ntpwall.service | ntpwall-refresh.service) ;; *) [ -n "$(key "$f" StateDirectory)" ] || continue ;; esac
	[ "$(key "$f" StateDirectory)" = ntpwall ] && [ "$(key "$f" StateDirectoryMode)" = 0700 ] ||
		fail "$u: not StateDirectory=ntpwall with StateDirectoryMode=0700"
done
# setpriv's --bounding-set for a unit: -all plus its CapabilityBoundingSet.
bset() { key "$1" CapabilityBoundingSet | tr ' ' '\n' | sed 's/^CAP_//' | tr 'A-Z' 'a-z' |
	 sed 's/^/+/' | paste -sd, | sed 's/^/-all,/'; }
# Run unit $1's line $2 (ExecStart, ExecReload) under its bounding set, with
# the test's state directory.
run_unit() {
	local cmd
	cmd=$(key "$U/$1" "$2" | sed "s#^$bin #$bin --state-dir $S #")
	# shellcheck disable=SC2086
	setpriv --bounding-set "${3:-$(bset "$U/$1")}" --inh-caps=-all -- $cmd
}
for u in ntpwall.service ntpwall-refresh.service; do
	bset "$U/$u" | grep -q dac_override || fail "$u: no CAP_DAC_OVERRIDE for chronyc"
	bset "$U/$u" | grep -q setuid && bset "$U/$u" | grep -q setgid ||
		fail "$u: the DNS/NTP child cannot drop its uid without CAP_SETUID/CAP_SETGID"
	key "$U/$u" ReadWritePaths | grep -q /etc/chrony/sources.d || fail "$u: chrony's sourcedir is read-only"
	key "$U/$u" ReadWritePaths | grep -q /run/chrony || fail "$u: /run/chrony is read-only"
done
key "$U/ntpwall.service" ExecStop | grep -q . && fail "ntpwall.service has an ExecStop"

# 2. A private /run with chrony's socket directory, a chronyd client
# running as _chrony whose sources come from ntpwall's file only.
mount -t tmpfs -o mode=0755 tmpfs /run || { fail "private /run"; exit 1; }
mkdir -m 0750 /run/chrony && chown _chrony:_chrony /run/chrony
ip link set lo up
for a in 1 2 3 4 5; do ip addr add 198.51.100.$a/32 dev lo; done
mkdir -p "$T/srcd"
printf 'sourcedir %s/srcd\ncmdport 0\npidfile %s/c.pid\ndriftfile %s/c.drift\nport 0\n' \
	"$T" "$T" "$T" >"$T/c.conf"
chmod 755 "$T"
chronyd -x -u _chrony -f "$T/c.conf" -d >"$T/c.log" 2>&1 &
CPID=$!
for _ in $(seq 50); do [ -S /run/chrony/chronyd.sock ] && break; sleep 0.1; done
P=$T/p.yaml
printf '%s\n' 'version: 1' 'table: ntpwall_u' 'families: [ipv4]' \
	'upstreams: [{server: 198.51.100.1}, {server: 198.51.100.2}, {server: 198.51.100.3}, {server: 198.51.100.4}]' \
	"daemon: {chrony_sources: $T/srcd/ntpwall.sources}" >"$P"
sources() { chronyc -c -n sources 2>/dev/null | cut -d, -f3 | sort | paste -sd' '; }
wall() { nft list set inet ntpwall_u upstreams4 2>/dev/null | grep -oE '198\.51\.100\.[0-9]+' | sort | paste -sd' '; }
"$NTPWALL" --state-dir "$S" apply "$P" >"$T/out" 2>&1 || fail "apply: $(cat "$T/out")"
[ "$(sources)" = "$(wall)" ] && [ -n "$(wall)" ] || fail "after apply: chronyd '$(sources)', wall '$(wall)'"

# 3. flush ruleset, then the boot unit's commands restore the wall.
for line in ExecStart ExecReload; do
	nft flush ruleset
	run_unit ntpwall.service $line >"$T/out" 2>&1 || fail "ntpwall.service $line: $(cat "$T/out")"
	[ "$(wall)" = "198.51.100.1 198.51.100.2 198.51.100.3 198.51.100.4" ] ||
		fail "ntpwall.service $line did not restore the wall: '$(wall)'"
	[ "$(sources)" = "$(wall)" ] || fail "after $line: chronyd '$(sources)'"
done
ok "after flush ruleset, ntpwall.service ExecStart and ExecReload restore the wall under the unit's bounding set"

# 4. The refresh unit's command, under its bounding set, moves chronyd.
sed -i 's/198\.51\.100\.4}/198.51.100.5}/' "$P"
key "$U/ntpwall-refresh.service" ExecStart | grep -q ' refresh /etc/ntpwall/policy.yaml$' ||
	fail "the refresh unit does not refresh /etc/ntpwall/policy.yaml"
cmd="$NTPWALL --state-dir $S -q refresh $P"
# Without CAP_DAC_OVERRIDE chronyc cannot answer: exit 3, the wall changed.
# shellcheck disable=SC2086
setpriv --bounding-set -all,+net_admin,+net_raw --inh-caps=-all -- $cmd >"$T/out" 2>&1; rc=$?
[ $rc = 3 ] && grep -q 'was not told' "$T/out" || fail "refresh without CAP_DAC_OVERRIDE: exit $rc: $(cat "$T/out")"
# shellcheck disable=SC2086
setpriv --bounding-set "$(bset "$U/ntpwall-refresh.service")" --inh-caps=-all -- $cmd >"$T/out" 2>&1 ||
	fail "refresh under the unit's bounding set: $(cat "$T/out")"
[ "$(wall)" = "198.51.100.1 198.51.100.2 198.51.100.3 198.51.100.5" ] || fail "refresh: wall '$(wall)'"
[ "$(sources)" = "$(wall)" ] || fail "after refresh: chronyd '$(sources)', wall '$(wall)'"
ok "ntpwall-refresh.service's command tells chronyd under its bounding set (and needs CAP_DAC_OVERRIDE)"

# 5. The metrics unit's command, under its bounding set, with the paths
# moved into $T: one file in the textfile directory that the Prometheus
# client's parser reads (status's and probe's families, the table in
# sync), renamed into place (nothing else left there, mode 0644); on a
# full disk the unit fails and the old file stays as it was.
M=ntpwall-metrics.service
key "$U/ntpwall-metrics.timer" OnUnitActiveSec | grep -q . || fail "ntpwall-metrics.timer does not repeat"
metrics() {
	local script
	script=$(key "$U/$M" ExecStart | sed "s#^/bin/bash -c '##; s#'\$##; s#\\\$\\\$#\$#g" |
		sed "s#/var/lib/prometheus/node-exporter#$1#g; s#$bin#$NTPWALL --state-dir $S#g; s#/etc/ntpwall/policy.yaml#$P#g")
	setpriv --bounding-set "$(bset "$U/$M")" --inh-caps=-all -- /bin/bash -c "$script"
}
key "$U/$M" ExecStart | grep -q "^/bin/bash -c 'set -o pipefail;.*/var/lib/prometheus/node-exporter/ntpwall.prom;.*'\$" ||
	fail "$M: ExecStart is not the bash script writing /var/lib/prometheus/node-exporter/ntpwall.prom"
key "$U/$M" ReadWritePaths | grep -q /var/lib/prometheus/node-exporter || fail "$M: the textfile directory is read-only"
mkdir "$T/textfile"
metrics "$T/textfile" >"$T/out" 2>&1 || fail "$M: exit $?: $(cat "$T/out")"
if /usr/bin/python3 "$SRCDIR/tests/prom_check.py" <"$T/textfile/ntpwall.prom" >"$T/prom.json" 2>"$T/out"; then
	fams=$(jq -r '[.ntpwall_status_exit_code.samples[0].value, .ntpwall_probe_servers.samples[0].value,
		(.ntpwall_table_state.samples[] | select(.labels.state == "in-sync") | .value),
		.ntpwall_rule_packets_total.type] | map(tostring) | join(" ")' "$T/prom.json")
	# status's own exit code (1 where chrony.conf has a pool line, as Debian's does).
	"$NTPWALL" --state-dir "$S" -q status >/dev/null 2>&1
	want="$? 4 1 counter"
	[ "$fams" = "$want" ] && ok "$M writes status and probe metrics the Prometheus parser reads" ||
		fail "$M: status exit code, servers probed, in-sync, counter type: '$fams', expected '$want'"
else
	fail "$M: the file does not parse: $(cat "$T/out")"
fi
[ "$(ls -A "$T/textfile")" = ntpwall.prom ] && [ "$(stat -c %a "$T/textfile/ntpwall.prom")" = 644 ] &&
	ok "$M: ntpwall.prom alone, mode 644" || fail "$M: $(ls -lA "$T/textfile")"
mkdir "$T/full" && mount -t tmpfs -o size=4k tmpfs "$T/full" && echo 'ntpwall_old 1' >"$T/full/ntpwall.prom" ||
	fail "a full tmpfs"
metrics "$T/full" >"$T/out" 2>&1 && fail "$M on a full disk: exit 0"
[ "$(cat "$T/full/ntpwall.prom")" = 'ntpwall_old 1' ] && [ "$(ls -A "$T/full")" = ntpwall.prom ] &&
	ok "$M on a full disk: fails, the old file kept, no temporary left" ||
	fail "$M on a full disk: $(ls -lA "$T/full"): $(head -c 200 "$T/full/ntpwall.prom")"
umount "$T/full"

[ $fails = 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all unit tests passed"
