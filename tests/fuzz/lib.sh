# Sourced by run.sh and run_ntp.sh (POSIX sh): what every libFuzzer target
# here goes through. The caller sets here, SRCDIR, work (its scratch
# directory under the build dir), bin (the target to build) and seconds.
#   fuzz_check_toolchain         exit 77 (skip) without clang and libFuzzer
#   fuzz_build SRC... [FLAGS...]  clang with ASan + UBSan; exit 1 on failure
#   fuzz_replay FILE...          each file once; exit 1 if one crashes
#   fuzz_run CORPUS DICT MAX_LEN fuzz $seconds from a copy of CORPUS
#                                (the committed seeds never change); exit 1
#                                on any crash, leak, sanitizer report or timeout

fuzz_check_toolchain() {
	command -v clang >/dev/null 2>&1 || { echo "SKIP: clang not installed"; exit 77; }
	mkdir -p "$work" || exit 1
	# A toolchain without the libFuzzer runtime (libclang-rt-NN-dev) is a
	# skip, not a failure: the probe is the smallest possible fuzz target.
	printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n);\nint LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }\n' >"$work/probe.c"
	if ! clang -fsanitize=fuzzer,address,undefined -o "$work/probe" "$work/probe.c" 2>"$work/probe.log"; then
		echo "SKIP: clang cannot build libFuzzer targets:"
		cat "$work/probe.log"
		exit 77
	fi
}

fuzz_build() {
	if ! clang -std=c17 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all -I"$SRCDIR/include" "$@" -o "$bin"; then
		echo "FAIL: cannot build the fuzz target"
		exit 1
	fi
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1
	export UBSAN_OPTIONS=${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:halt_on_error=1
}

fuzz_replay() {
	# Keep the arguments that are files (a glob that matched nothing is not).
	for _f; do
		shift
		[ -f "$_f" ] && set -- "$@" "$_f"
	done
	[ $# -gt 0 ] || return 0
	if ! "$bin" -rss_limit_mb=512 -timeout=10 "$@" >"$work/repro.log" 2>&1; then
		echo "FAIL: a reproducer or seed crashes:"
		tail -n 60 "$work/repro.log"
		exit 1
	fi
	echo "replayed $# reproducer(s) and seed(s)"
}

fuzz_run() {
	rm -rf "$work/corpus" "$work/artifacts"
	mkdir -p "$work/corpus" "$work/artifacts" || exit 1
	cp "$1"/* "$work/corpus/" || exit 1
	"$bin" -max_total_time="$seconds" -runs="${FUZZ_RUNS:--1}" -rss_limit_mb=512 \
		-max_len="$3" -timeout=10 -dict="$2" -print_final_stats=1 \
		-artifact_prefix="$work/artifacts/" "$work/corpus" >"$work/fuzz.log" 2>&1
	_rc=$?
	grep -E '^(#[0-9]+.*DONE|Done [0-9]+ runs|stat::number_of_executed_units)' "$work/fuzz.log"
	if [ $_rc -ne 0 ] || [ -n "$(ls -A "$work/artifacts")" ]; then
		echo "FAIL: the fuzzer found a problem (exit $_rc); artifacts in $work/artifacts:"
		ls -l "$work/artifacts"
		tail -n 80 "$work/fuzz.log"
		exit 1
	fi
	echo "fuzz: no finding"
}
