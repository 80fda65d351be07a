#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Every example policy under policies/ lints clean, even with --strict: the
# examples are what operators copy, so they must not teach a weak choice.
set -u
fail=0
n=0
for f in "$SRCDIR"/policies/*.yaml; do
	n=$((n + 1))
	out=$("$NTPWALL" lint --strict "$f" 2>&1)
	rc=$?
	if [ $rc -ne 0 ] || [ -n "$out" ]; then
		echo "FAIL: $f (exit $rc)"
		echo "$out"
		fail=1
	fi
done
[ $n -ge 4 ] || { echo "FAIL: expected at least 4 example policies, found $n"; fail=1; }
exit $fail
