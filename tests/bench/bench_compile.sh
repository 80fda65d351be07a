#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Compile and render 10k vs 100k upstream addresses; prints times and ratio.
# Usage: tests/bench/bench_compile.sh [BUILDDIR]   (after ninja -C BUILDDIR)
exec "${1:-build}/tests/bench_compile" 10000 100000
