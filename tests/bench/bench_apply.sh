#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Benchmark of the nft backend in one private network namespace:
#  - `ntpwall apply` of a policy with 4, 10,000 and 100,000 literal upstream
#    addresses (load, resolve, compile, read live, one netlink batch, state
#    generation written and fsynced) against `nft -f` of the same rendered
#    script (`ntpwall compile`), both onto an absent table;
#  - read-back of the 100,000-element table into the IR (backend_rt read)
#    against `nft list table`.
# Prints the ratios (targets: apply <= 0.5x at 4, <= 1.0x at 100,000;
# read-back <= 0.3x). Best of REPS runs each. Exit 0 unless a step fails;
# the figures are reported, not asserted (timing on shared CI is noisy).
# Usage: bench_apply.sh [--quick] [PATH-TO-backend_rt]   (env: NTPWALL, REPS)
# --quick (the test suite, built with sanitizers): 2 runs each, and 10,000
# addresses at most; the README's table is from a full run of a release build.
set -u
BIG=${BIG:-100000}
if [ "${1:-}" = --quick ]; then
	BIG=10000 REPS=${REPS:-2}
	shift
fi
rt=${1:-}
if [ -z "${BENCH_IN_NETNS:-}" ]; then
	if ! unshare -n true 2>/dev/null; then
		echo "bench_apply.sh: cannot create a network namespace"
		[ "${NTPWALL_REQUIRE_NETNS:-0}" = 1 ] && exit 1
		exit 77
	fi
	BENCH_IN_NETNS=1 BIG=$BIG REPS=${REPS:-5} exec unshare -n bash "$0" "$@"
fi
: "${NTPWALL:?}"
REPS=${REPS:-5}
T=$(mktemp -d /tmp/ntpwall-bench.XXXXXX)
trap 'rm -rf "$T"' EXIT

# Timestamps are bash's $EPOCHREALTIME, read without a subshell: nothing but
# the command itself inside the measured interval.
# awk, not bc: bc is not among the bootstrap packages.
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f", a - b }'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", a / b }'; }
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }
# best TIME of REPS runs of "$@", each after the setup command $SETUP.
# The kernel frees a deleted table after an RCU grace period, and the next
# process that closes a netlink socket after a commit waits for that
# (nf_tables flushes its destroy work on NETLINK_URELEASE): the pause keeps
# the setup's cost out of the command measured.
SETUP=fresh
fresh() { nft delete table inet ntpwall_bench 2>/dev/null; rm -rf "$T/state"; }
# Prints "WALL CPU": the best wall time, and the mean CPU time (user + sys,
# from the shell's `times` for its children, written without a fork) of the
# command alone. Wall time on a small transaction is mostly waiting for the
# kernel (the RCU grace period above), CPU time is the work done.
best() {
	local b= s e d c=0
	for _ in $(seq "$REPS"); do
		$SETUP
		sleep 0.2
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

policy() {
	{
		printf 'version: 1\ntable: ntpwall_bench\nupstreams:\n'
		for i in $(seq 0 $(($1 - 1))); do
			printf '  - server: 198.%d.%d.%d\n' $((18 + i / 65536)) $((i / 256 % 256)) $((i % 256))
		done
	} >"$T/p$1.yaml"
}

fail=0
printf '%-28s %10s %10s %8s %-8s %9s %9s %6s\n' "case" "ntpwall s" "nft s" "ratio" "target" \
	"cpu ms" "nft cpu" "ratio"
row() {	# CASE TARGET BEST_NTPWALL BEST_NFT
	printf '%-28s %10.4f %10.4f %7.2fx %-8s %9.2f %9.2f %5.2fx\n' "$1" "$(wall "$3")" "$(wall "$4")" \
		"$(div "$(wall "$3")" "$(wall "$4")")" "$2" "$(awk -v c="$(cpu "$3")" 'BEGIN { print c * 1000 }')" \
		"$(awk -v c="$(cpu "$4")" 'BEGIN { print c * 1000 }')" "$(div "$(cpu "$3")" "$(cpu "$4")")"
}
for n in $(printf '%s\n' 4 10000 "$BIG" | uniq); do
	policy "$n"
	"$NTPWALL" compile "$T/p$n.yaml" --target nft >"$T/p$n.nft" 2>/dev/null || { echo "compile $n failed"; fail=1; continue; }
	a=$(best "$NTPWALL" --state-dir "$T/state" apply "$T/p$n.yaml") || { fail=1; continue; }
	b=$(best nft -f "$T/p$n.nft") || { fail=1; continue; }
	target="<= 1.0x"
	[ "$n" = 4 ] && target="<= 0.5x"
	row "apply $n upstreams" "$target" "$a" "$b"
done

# The everyday change: one address of 4 (or 100,000) replaced on a live
# table. ntpwall changes the two elements in place; nft -f replaces the
# table (the rendered script's declare/delete/declare idiom).
for n in 4 "$BIG"; do
	sed 's/198\.18\.0\.3$/198.19.255.254/' "$T/p$n.yaml" >"$T/q$n.yaml"
	"$NTPWALL" compile "$T/q$n.yaml" --target nft >"$T/q$n.nft" 2>/dev/null || { fail=1; continue; }
	live_p() { fresh; "$NTPWALL" --state-dir "$T/state" apply "$T/p$n.yaml" >/dev/null 2>&1; }
	live_n() { fresh; nft -f "$T/p$n.nft"; }
	a=$(SETUP=live_p best "$NTPWALL" --state-dir "$T/state" apply "$T/q$n.yaml") || { fail=1; continue; }
	b=$(SETUP=live_n best nft -f "$T/q$n.nft") || { fail=1; continue; }
	row "change 1 of $n (in place)" "-" "$a" "$b"
done
SETUP=fresh

if [ -n "$rt" ]; then
	nft delete table inet ntpwall_bench 2>/dev/null
	"$NTPWALL" --state-dir "$T/state" apply "$T/p$BIG.yaml" >/dev/null 2>&1 || fail=1
	"$rt" read ntpwall_bench >/dev/null || fail=1
	ra= rb=
	for _ in $(seq "$REPS"); do
		s=$EPOCHREALTIME; "$rt" read ntpwall_bench >/dev/null; e=$EPOCHREALTIME
		d=$(sub "$e" "$s")
		if [ -z "$ra" ] || lt "$d" "$ra"; then ra=$d; fi
		s=$EPOCHREALTIME; nft list table inet ntpwall_bench >/dev/null; e=$EPOCHREALTIME
		d=$(sub "$e" "$s")
		if [ -z "$rb" ] || lt "$d" "$rb"; then rb=$d; fi
	done
	printf '%-28s %10.4f %10.4f %7.2fx %s\n' "read-back $BIG elements" "$ra" "$rb" "$(div "$ra" "$rb")" "<= 0.3x"
	s=$EPOCHREALTIME; "$NTPWALL" --state-dir "$T/state" diff "$T/p$BIG.yaml" >/dev/null 2>&1; rc=$?; e=$EPOCHREALTIME
	[ $rc = 0 ] || { echo "diff after apply: exit $rc"; fail=1; }
	printf '%-28s %10.4f\n' "ntpwall diff ($BIG, equal)" "$(sub "$e" "$s")"
fi
exit $fail
