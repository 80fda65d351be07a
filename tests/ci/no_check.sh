#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# `meson setup -Dtests=false` needs only the build dependencies: it must
# configure with Check (the test framework) hidden from pkg-config, and give
# no tests, while the default setup (tests on) fails without Check. This is
# how the CI action and the GitLab job build ntpwall on a runner.
set -u
: "${SRCDIR:?source directory}"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
fail=0

. "$SRCDIR/tests/ci/lib.sh"
ci_hide_check "$tmp/pc"
pkg-config --exists check && { echo "FAIL: check.pc is still visible"; exit 1; }
pkg-config --exists yaml-0.1 jansson libcares libmnl libnftnl libip4tc libip6tc ||
	{ echo "FAIL: the build dependencies are not visible through $tmp/pc"; exit 1; }

if meson setup "$tmp/without" "$SRCDIR" -Dtests=false >"$tmp/log" 2>&1; then
	echo "ok: -Dtests=false configures without Check"
	if [ "$(meson introspect --tests "$tmp/without")" = "[]" ]; then
		echo "ok: -Dtests=false defines no test"
	else
		echo "FAIL: -Dtests=false still defines tests"
		fail=1
	fi
	meson introspect --targets "$tmp/without" | grep -q '"name": "ntpwall"' ||
		{ echo "FAIL: -Dtests=false has no ntpwall target"; fail=1; }
else
	echo "FAIL: meson setup -Dtests=false without Check:"
	cat "$tmp/log"
	fail=1
fi
# The default still builds the tests, so without Check it must fail.
if meson setup "$tmp/with" "$SRCDIR" >"$tmp/log" 2>&1; then
	echo "FAIL: the default setup configured without Check (are the tests still built by default?)"
	fail=1
elif grep -q 'check' "$tmp/log"; then
	echo "ok: the default setup wants Check"
else
	echo "FAIL: the default setup failed for another reason:"
	cat "$tmp/log"
	fail=1
fi
exit $fail
