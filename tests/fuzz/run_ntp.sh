#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
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
work=$BUILDDIR/fuzz-ntp
bin=$work/fuzz_ntp_packet
. "$here/lib.sh"

fuzz_check_toolchain
# src/ntp_packet.c is self-contained (no library, no other module).
fuzz_build -Wall -Wextra "$here/fuzz_ntp_packet.c" "$SRCDIR/src/ntp_packet.c"
# Every reproducer ever found must stay fixed; the seeds must pass as well.
fuzz_replay "$here"/repro_ntp/* "$here"/corpus_ntp/*
# max_len is a little above NTP_PACKET_MAX so oversized datagrams are tried too.
fuzz_run "$here/corpus_ntp" "$here/ntp.dict" 1100
