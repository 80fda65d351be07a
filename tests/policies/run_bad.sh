#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Every policy under bad/ must be refused: `ntpwall lint` exits exactly 1 and
# prints each line of NAME.expect (FILE standing for the policy's path), so
# both the message and its file:line:column are asserted. Every policy under
# warn/ is valid but weak: exit 0, its expected warnings, no error, and exit
# 1 with --strict. An oversized policy is generated here, not committed.
set -u
dir=$SRCDIR/tests/policies
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
fail=0
checked=0

# expect_lines POLICY EXPECT OUTPUT: each expected line, FILE replaced by the
# policy path, must be a whole line of OUTPUT.
expect_lines() {
	_ok=0
	while IFS= read -r want || [ -n "$want" ]; do
		case $want in
		FILE*) want=$1${want#FILE} ;;
		esac
		if ! grep -Fxq -- "$want" "$3"; then
			echo "FAIL: $1: missing line: $want"
			_ok=1
		fi
	done <"$2"
	return $_ok
}

# check_one POLICY EXPECT WANT_RC [ARGS...]
check_one() {
	_f=$1 _e=$2 _rc=$3
	shift 3
	checked=$((checked + 1))
	"$NTPWALL" lint "$@" "$_f" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -ne "$_rc" ]; then
		echo "FAIL: $_f: exit $rc, expected $_rc"
		fail=1
	elif ! expect_lines "$_f" "$_e" "$tmp/out"; then
		fail=1
	else
		return 0
	fi
	echo "--- stdout:"; cat "$tmp/out"; echo "--- stderr:"; cat "$tmp/err"
	return 1
}

n_bad=0
for f in "$dir"/bad/*.yaml; do
	n_bad=$((n_bad + 1))
	e=${f%.yaml}.expect
	if [ ! -s "$e" ]; then
		echo "FAIL: $f has no expectation ${e##*/}"
		fail=1
		continue
	fi
	check_one "$f" "$e" 1
done
[ "$n_bad" -ge 45 ] || { echo "FAIL: only $n_bad bad policies, expected at least 45"; fail=1; }
for e in "$dir"/bad/*.expect; do
	[ -f "${e%.expect}.yaml" ] || { echo "FAIL: $e has no policy"; fail=1; }
done

# Warnings: exit 0 normally, 1 with --strict, and never an error.
n_warn=0
for f in "$dir"/warn/*.yaml; do
	n_warn=$((n_warn + 1))
	e=${f%.yaml}.expect
	if [ ! -s "$e" ]; then
		echo "FAIL: $f has no expectation ${e##*/}"
		fail=1
		continue
	fi
	check_one "$f" "$e" 0 || continue
	if grep -q ': error: ' "$tmp/out"; then
		echo "FAIL: $f: a warn policy reports an error:"
		cat "$tmp/out"
		fail=1
	fi
	check_one "$f" "$e" 1 --strict
done
[ "$n_warn" -ge 8 ] || { echo "FAIL: only $n_warn warn policies, expected at least 8"; fail=1; }

# A policy one byte over the 16 MiB limit is refused before it is parsed.
big=$tmp/too-large.yaml
head -c 16777216 /dev/zero | tr '\0' '#' >"$big"
printf '\n' >>"$big"
printf 'FILE: error: policy is larger than 16777216 bytes [NW103]\n' >"$tmp/big.expect"
check_one "$big" "$tmp/big.expect" 1

# Exactly at the limit is fine: a long comment, then a valid policy.
head -c 16777000 /dev/zero | tr '\0' '#' >"$big"
printf '\nversion: 1\nupstreams:\n  - pool: uk.pool.ntp.org\n    max: 4\n' >>"$big"
size=$(wc -c <"$big")
head -c $((16777216 - size - 1)) /dev/zero | tr '\0' '#' >>"$big"
printf '\n' >>"$big"
if [ "$(wc -c <"$big")" -ne 16777216 ]; then
	echo "FAIL: could not build a 16 MiB policy"
	fail=1
elif ! "$NTPWALL" lint --strict "$big" >"$tmp/out" 2>&1; then
	echo "FAIL: a valid policy of exactly 16 MiB is refused:"
	head -c 2000 "$tmp/out"
	fail=1
fi
checked=$((checked + 1))

echo "checked $checked policies ($n_bad bad, $n_warn warn, 2 generated)"
exit $fail
