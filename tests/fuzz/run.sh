#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Build the policy loader's libFuzzer target with clang (ASan + UBSan), replay
# every saved reproducer under repro/, then fuzz for a bounded time from a
# copy of the seed corpus. Any crash, leak, sanitizer report or timeout fails.
# Exit 77 (skip) when clang or its libFuzzer runtime is missing.
# Env: FUZZ_SECONDS (default 60), FUZZ_RUNS (default unbounded: time only).
set -u
here=$(cd "$(dirname "$0")" && pwd)
SRCDIR=${SRCDIR:-$(cd "$here/../.." && pwd)}
BUILDDIR=${BUILDDIR:-$SRCDIR/build}
seconds=${FUZZ_SECONDS:-60}
work=$BUILDDIR/fuzz-policy
bin=$work/fuzz_policy
. "$here/lib.sh"

fuzz_check_toolchain
command -v pkg-config >/dev/null 2>&1 || { echo "SKIP: pkg-config not installed"; exit 77; }
# shellcheck disable=SC2046
fuzz_build -I"$SRCDIR/src" "$here/fuzz_policy.c" "$SRCDIR"/src/policy*.c "$SRCDIR/src/lint.c" "$SRCDIR/src/xt_limit.c" \
	"$SRCDIR/src/daemon_chrony_conf.c" "$SRCDIR/src/compile_log.c" "$SRCDIR/src/ir.c" \
	"$SRCDIR/src/addr.c" "$SRCDIR/src/diag.c" "$SRCDIR/src/util.c" $(pkg-config --cflags --libs yaml-0.1)
# Every reproducer ever found must stay fixed.
fuzz_replay "$here"/repro/*
fuzz_run "$here/corpus" "$here/policy.dict" 65536
