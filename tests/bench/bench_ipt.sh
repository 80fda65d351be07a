#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Benchmark of the iptables backend in one private network namespace:
#  - `ntpwall apply` of a `backend: iptables` policy with 4 and 10,000
#    literal upstream addresses (load, compile, read live under the xtables
#    lock, one commit per table, state written and fsynced) against
#    iptables-legacy-restore and ip6tables-legacy-restore --noflush of the
#    same policy's `compile --target iptables|ip6tables`, onto no chains;
#    and against the libiptc floor: ipt_floor (next to IPT_RT) appending
#    the same entries, prebuilt, with one commit per table and nothing
#    else, the least any program that applies through libiptc does;
#  - one address more on the live 10,000 (ntpwall apply: in place, the set
#    chain's new entry alone), against `iptables-legacy -A` of one rule into
#    the same table (the price of any change: the table is replaced whole).
# Prints the figures (goal for apply: <= 0.5x of restore): the best wall time of REPS
# runs each, and the mean CPU time (user + sys of the command and its
# children), which another job on the machine disturbs less than wall time.
# Exit 0 unless a step fails; nothing timed is asserted.
# Usage: bench_ipt.sh IPT_RT [REPS]   (env: NTPWALL; REPS also from the
# environment, default 5; the test suite runs 1)
set -u
rt=${1:?usage: bench_ipt.sh IPT_RT [REPS]}
if [ -z "${BENCH_IN_NETNS:-}" ]; then
	if ! unshare -n true 2>/dev/null || ! command -v iptables-legacy-restore >/dev/null; then
		echo "bench_ipt.sh: cannot create a network namespace (or no iptables-legacy-restore)"
		[ "${NTPWALL_REQUIRE_NETNS:-0}" = 1 ] && exit 1
		exit 77
	fi
	BENCH_IN_NETNS=1 exec unshare -n bash "$0" "$@"
fi
: "${NTPWALL:?}"
REPS=${2:-${REPS:-5}}
T=$(mktemp -d /tmp/ntpwall-benchipt.XXXXXX)
trap 'rm -rf "$T"' EXIT
# Never the host's /run/xtables.lock: iptables-legacy honours this too.
export XTABLES_LOCKFILE=$T/xtables.lock

sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f", a - b }'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", a / b }'; }
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }
fresh() { "$rt" remove ntpwall_bench >/dev/null 2>&1; rm -rf "$T/state"; }
SETUP=fresh
# best "$@": "WALL CPU", the best wall time of REPS runs, each after
# $SETUP, and the mean CPU time of the command alone (the shell's `times`
# for its children, written without a fork).
best() {
	local b= s e d c=0
	for _ in $(seq "$REPS"); do
		$SETUP
		times >"$T/t0"
		s=$EPOCHREALTIME
		"$@" >/dev/null 2>&1 || { echo "bench: failed: $*" >&2; return 1; }
		e=$EPOCHREALTIME
		times >"$T/t1"
		d=$(sub "$e" "$s")
		if [ -z "$b" ] || lt "$d" "$b"; then b=$d; fi
		c=$(awk -v c="$c" 'function s(x) { sub(/s$/, "", x); split(x, m, "m"); return m[1] * 60 + m[2] }
			FNR == 2 { v[FILENAME] = s($1) + s($2) } END { printf "%.6f", c + v[ARGV[2]] - v[ARGV[1]] }' "$T/t0" "$T/t1")
	done
	echo "$b $(awk -v c="$c" -v n="$REPS" 'BEGIN { printf "%.6f", c / n }')"
}
# WALL or CPU of best's output.
wall() { echo "${1% *}"; }
cpu() { echo "${1#* }"; }
row() {	# CASE GOAL BEST_NTPWALL BEST_OTHER
	printf '%-34s %10.4f %10.4f %7.2fx %-7s %9.4f %9.4f %6.2fx\n' "$1" "$(wall "$3")" "$(wall "$4")" \
		"$(div "$(wall "$3")" "$(wall "$4")")" "$2" "$(cpu "$3")" "$(cpu "$4")" \
		"$(div "$(cpu "$3")" "$(cpu "$4")")"
}
policy() {	# N FILE
	{
		printf 'version: 1\ntable: ntpwall_bench\nbackend: iptables\nupstreams:\n'
		for i in $(seq 0 $(($1 - 1))); do
			printf '  - server: 198.%d.%d.%d\n' $((18 + i / 65536)) $((i / 256 % 256)) $((i % 256))
		done
	} >"$2"
}
floor=$(dirname "$rt")/ipt_floor
# save: both families' tables as the save tools print them, sans counters.
save() { { iptables-legacy-save; ip6tables-legacy-save; } | grep -v '^#' | sed 's/\[[0-9:]*\]$//'; }
restore() { iptables-legacy-restore --noflush <"$1.r4" && ip6tables-legacy-restore --noflush <"$1.r6"; }

# Make the tables once, so that no run pays for their creation.
iptables-legacy -L -n >/dev/null && ip6tables-legacy -L -n >/dev/null || exit 1
fail=0
printf '%-34s %10s %10s %8s %-7s %9s %9s %7s\n' "case" "ntpwall s" "other s" "ratio" "goal" \
	"cpu s" "other" "ratio"
for n in 4 10000; do
	p=$T/p$n.yaml
	policy "$n" "$p"
	"$NTPWALL" compile "$p" --target iptables >"$p.r4" 2>/dev/null &&
		"$NTPWALL" compile "$p" --target ip6tables >"$p.r6" 2>/dev/null ||
		{ echo "compile $n failed"; fail=1; continue; }
	a=$(best "$NTPWALL" --state-dir "$T/state" apply "$p") || { fail=1; continue; }
	save >"$T/save.ntpwall"
	b=$(best restore "$p") || { fail=1; continue; }
	"$rt" dump "$p" "$p.bin" || { echo "ipt_rt dump $n failed"; fail=1; continue; }
	c=$(best "$floor" "$p.bin") || { fail=1; continue; }
	save | cmp -s - "$T/save.ntpwall" || { echo "ipt_floor made another table than ntpwall"; fail=1; }
	row "apply $n upstreams vs restore" "<= 0.5x" "$a" "$b"
	row "  libiptc floor vs restore" "-" "$c" "$b"
	row "  ntpwall vs libiptc floor" "-" "$a" "$c"
done

# One address more on the live 10,000.
policy 10001 "$T/q.yaml"
live() { fresh; "$NTPWALL" --state-dir "$T/state" apply "$T/p10000.yaml" >/dev/null 2>&1; }
a=$(SETUP=live best "$NTPWALL" --state-dir "$T/state" apply "$T/q.yaml") || fail=1
"$NTPWALL" --state-dir "$T/state" diff "$T/q.yaml" >/dev/null 2>&1 || { echo "diff after adding one: not equal"; fail=1; }
one() { iptables-legacy -A OUTPUT -d 203.0.113.7 -p udp --dport 123 -j DROP; }
undo() { live; iptables-legacy -D OUTPUT -d 203.0.113.7 -p udp --dport 123 -j DROP 2>/dev/null; }
b=$(SETUP=undo best one) || fail=1
row "one address more on 10000 (vs -A)" "-" "$a" "$b"
fresh
exit $fail
