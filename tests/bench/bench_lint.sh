#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Lint benchmark: generates a ~1 MB policy with 27,000 upstreams (literal
# IPv4 and IPv6, server names with nts, pools with max), lints it several
# times and reports the median wall time and the peak RSS. The issue asks
# for well under a second and under 32 MiB. A second, warning-heavy policy
# of the same size (one NW205 and one NW207 per upstream) shows the cost of
# reporting tens of thousands of findings.
#
# Registered in meson's 'bench' suite with --quick: three runs, no heavy
# case, and only correctness is asserted (CI builds run under ASan, whose
# figures mean nothing). By hand, on a plain build:
#   NTPWALL=build/ntpwall BENCH_ASSERT=1 sh tests/bench/bench_lint.sh
# BENCH_ASSERT=1 fails when the clean policy exceeds the limits.
# Env: BENCH_RUNS (default 7), BENCH_UPSTREAMS (default 27000).
set -u
NTPWALL=${NTPWALL:-build/ntpwall}
runs=${BENCH_RUNS:-7}
count=${BENCH_UPSTREAMS:-27000}
heavy=1
if [ "${1:-}" = --quick ]; then
	runs=3
	heavy=0
fi
max_ms=1000
max_kib=32768
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

# Documentation and benchmark ranges only: 198.18.0.0/15 holds 131072
# IPv4 addresses, 2001:db8::/32 the IPv6 ones, names end in .example.*.
# gen_policy FILE WARN: WARN=1 puts every literal upstream in restrict.ignore
# and nts on it, so each one draws two warnings.
gen_policy() {
	awk -v n="$count" -v warn="$2" 'BEGIN {
		print "version: 1"
		print "table: bench"
		if (warn)
			print "restrict: {ignore: [198.18.0.0/15]}"
		print "serve:"
		print "  clients: [198.18.0.0/15, \"2001:db8:ffff::/48\"]"
		print "  rate_limit: {per_source: 16/second, burst: 32}"
		print "upstreams:"
		for (i = 0; i < n; i++) {
			k = warn ? 0 : i % 4
			if (k == 0)
				printf "  - server: 198.%d.%d.%d\n", 18 + int(i / 65536) % 2, int(i / 256) % 256, i % 256
			else if (k == 1)
				printf "  - server: \"2001:db8::%x:%x\"\n", int(i / 65536), i % 65536
			else if (k == 2)
				printf "  - server: ntp%d.site%d.example.net\n", i, i % 97
			else
				printf "  - pool: pool%d.example.org\n    max: 4\n", i
			if (warn || k == 2)
				print "    nts: true"
		}
	}' >"$1"
}

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# median_ms N ARGS...: median wall time of N runs of ntpwall lint ARGS.
median_ms() {
	_n=$1
	shift
	: >"$tmp/times"
	_i=0
	while [ "$_i" -lt "$_n" ]; do
		_t0=$(now_ms)
		"$NTPWALL" lint "$@" >/dev/null 2>&1
		_t1=$(now_ms)
		echo $((_t1 - _t0)) >>"$tmp/times"
		_i=$((_i + 1))
	done
	sort -n "$tmp/times" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# peak_kib ARGS...: peak RSS of ntpwall lint ARGS, from GNU time when
# installed, else VmHWM sampled from /proc until the process is gone.
peak_kib() {
	if /usr/bin/time -v true >/dev/null 2>&1; then
		/usr/bin/time -v "$NTPWALL" lint "$@" >/dev/null 2>"$tmp/time"
		awk -F': ' '/Maximum resident set size/ { print $2 }' "$tmp/time"
		return
	fi
	"$NTPWALL" lint "$@" >/dev/null 2>&1 &
	_pid=$!
	_kib=0
	while _v=$(awk '/^VmHWM/ { print $2 }' "/proc/$_pid/status" 2>/dev/null) && [ -n "$_v" ]; do
		_kib=$_v
	done
	wait "$_pid"
	echo "$_kib"
}

clean=$tmp/clean.yaml
gen_policy "$clean" 0
if ! "$NTPWALL" lint --strict "$clean" >"$tmp/out" 2>&1; then
	echo "FAIL: the generated policy does not lint clean:"
	head -n 20 "$tmp/out"
	exit 1
fi
ms=$(median_ms "$runs" "$clean")
kib=$(peak_kib "$clean")
echo "bench: clean policy: $(wc -c <"$clean") bytes, $count upstreams: median ${ms} ms over $runs runs (sorted: $(sort -n "$tmp/times" | tr '\n' ' ')), peak RSS ${kib} KiB"
if [ "${BENCH_ASSERT:-0}" = 1 ]; then
	[ "$ms" -lt "$max_ms" ] || { echo "FAIL: median ${ms} ms >= ${max_ms} ms"; exit 1; }
	[ "$kib" -lt "$max_kib" ] || { echo "FAIL: peak RSS ${kib} KiB >= ${max_kib} KiB"; exit 1; }
fi

[ "$heavy" = 1 ] || exit 0
warn=$tmp/warn.yaml
gen_policy "$warn" 1
if ! "$NTPWALL" lint "$warn" >/dev/null 2>&1; then
	echo "FAIL: the warning-heavy policy has errors"
	exit 1
fi
for fmt in text json; do
	ms=$(median_ms 1 --format "$fmt" "$warn")
	kib=$(peak_kib --format "$fmt" "$warn")
	echo "bench: warning-heavy policy: $(wc -c <"$warn") bytes, $((2 * count)) warnings, --format $fmt: ${ms} ms, peak RSS ${kib} KiB"
done
exit 0
