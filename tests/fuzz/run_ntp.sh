#!/bin/sh
# Build the SNTP packet codec's libFuzzer target (fuzz_ntp_packet.c) with
# clang (ASan + UBSan), replay every saved reproducer under repro_ntp/, then
# fuzz for a bounded time from a copy of the seed corpus corpus_ntp/. Any
# crash, leak, sanitizer report, failed invariant or timeout fails the test.
# Exit 77 (skip) when clang or its libFuzzer runtime is missing.
# Env: FUZZ_SECONDS (default 30), FUZZ_RUNS (default unbounded: time only).
set -u
here=$(cd "$(dirname "$0")" && pwd)
SRCDIR=${SRCDIR:-$(cd "$here/../.." && pwd)}
BUILDDIR=${BUILDDIR:-$SRCDIR/build}
seconds=${FUZZ_SECONDS:-30}
runs=${FUZZ_RUNS:--1}
work=$BUILDDIR/fuzz-ntp
bin=$work/fuzz_ntp_packet

command -v clang >/dev/null 2>&1 || { echo "SKIP: clang not installed"; exit 77; }
mkdir -p "$work" || exit 1

# A toolchain without the libFuzzer runtime (libclang-rt-NN-dev) is a skip,
# not a failure: the probe is the smallest possible fuzz target.
probe=$work/probe.c
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n);\nint LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }\n' >"$probe"
if ! clang -fsanitize=fuzzer,address,undefined -o "$work/probe" "$probe" 2>"$work/probe.log"; then
	echo "SKIP: clang cannot build libFuzzer targets:"
	cat "$work/probe.log"
	exit 77
fi

# src/ntp_packet.c is self-contained (no library, no other module).
if ! clang -std=c17 -D_GNU_SOURCE -g -O1 -Wall -Wextra \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-I"$SRCDIR/include" \
	"$here/fuzz_ntp_packet.c" "$SRCDIR/src/ntp_packet.c" -o "$bin"; then
	echo "FAIL: cannot build the fuzz target"
	exit 1
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1
export UBSAN_OPTIONS=${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:halt_on_error=1

# Every reproducer ever found must stay fixed; the seeds must pass as well.
set --
for f in "$here"/repro_ntp/* "$here"/corpus_ntp/*; do
	[ -f "$f" ] && set -- "$@" "$f"
done
if [ $# -gt 0 ]; then
	if ! "$bin" -rss_limit_mb=512 -timeout=10 "$@" >"$work/repro.log" 2>&1; then
		echo "FAIL: a reproducer or seed crashes:"
		tail -n 60 "$work/repro.log"
		exit 1
	fi
	echo "replayed $# reproducer(s) and seed(s)"
fi

# Fuzz on a fresh copy, so the committed seed corpus never changes. max_len
# is a little above NTP_PACKET_MAX so oversized datagrams are tried too.
rm -rf "$work/corpus" "$work/artifacts"
mkdir -p "$work/corpus" "$work/artifacts" || exit 1
cp "$here"/corpus_ntp/* "$work/corpus/" || exit 1
"$bin" -max_total_time="$seconds" -runs="$runs" -rss_limit_mb=512 -max_len=1100 \
	-timeout=10 -dict="$here/ntp.dict" -print_final_stats=1 \
	-artifact_prefix="$work/artifacts/" "$work/corpus" >"$work/fuzz.log" 2>&1
rc=$?
grep -E '^(#[0-9]+.*DONE|Done [0-9]+ runs|stat::number_of_executed_units)' "$work/fuzz.log"
if [ $rc -ne 0 ] || [ -n "$(ls -A "$work/artifacts")" ]; then
	echo "FAIL: the fuzzer found a problem (exit $rc); artifacts in $work/artifacts:"
	ls -l "$work/artifacts"
	tail -n 80 "$work/fuzz.log"
	exit 1
fi
echo "fuzz: no finding"
exit 0
