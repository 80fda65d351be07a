#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# `ntpwall lint --format codeclimate`, the report GitLab shows as Code
# Quality: its shape (checked with jansson by lint_json_check, given as $1),
# the severity mapping (error -> critical, warning -> minor), and the
# fingerprints GitLab tells findings apart by: the same on a second run,
# unchanged when lines are inserted elsewhere in the file, different when
# the finding changes, distinct for two identical findings of one file.
set -u
check=${1:?usage: lint_codeclimate.sh PATH-TO-lint_json_check}
: "${NTPWALL:?path of the ntpwall binary}"
pol=$SRCDIR/tests/policies
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
fail=0

say_fail() {
	echo "FAIL: $*"
	fail=1
}

# cc WANT_RC OUT ARGS...: runs lint --format codeclimate ARGS, checks the
# exit status and the shape; the flat list (path:begin:severity:code:fp)
# goes to OUT.
cc() {
	_want=$1 _out=$2
	shift 2
	"$NTPWALL" lint --format codeclimate "$@" >"$tmp/json" 2>"$tmp/err"
	_rc=$?
	[ "$_rc" -eq "$_want" ] || { say_fail "lint --format codeclimate $*: exit $_rc, expected $_want"; cat "$tmp/json" "$tmp/err"; }
	if ! "$check" codeclimate "$tmp/json" >"$_out" 2>"$tmp/why"; then
		say_fail "lint --format codeclimate $*: not a Code Quality report: $(cat "$tmp/why")"
		cat "$tmp/json"
		return 1
	fi
	[ ! -s "$tmp/err" ] || say_fail "lint --format codeclimate $*: stderr is not empty: $(cat "$tmp/err")"
	return 0
}

has() {
	grep -Eq -- "$2" "$1" || { say_fail "no line matching $2 in:"; cat "$1"; }
}

# fp FLAT CODE LINE: the fingerprint of CODE at LINE.
fp() {
	awk -F: -v c="$2" -v l="$3" '$4 == c && $2 == l { print $5 }' "$1"
}

bad=$pol/bad/unknown-key-top.yaml
warn=$pol/warn/three-servers.yaml
good=$SRCDIR/policies/lan-server.yaml

# --- shape and severity mapping
cc 1 "$tmp/a" "$bad" "$warn" && {
	has "$tmp/a" "^$bad:2:critical:NW112:[0-9a-f]{16}\$"
	has "$tmp/a" "^$bad:3:critical:NW110:[0-9a-f]{16}\$"
	has "$tmp/a" "^$warn:5:minor:NW201:[0-9a-f]{16}\$"
	[ "$(wc -l <"$tmp/a")" -eq 3 ] || say_fail "expected 3 issues"
	grep -Fq '"description": "unknown key '\''upstream'\'' (did you mean '\''upstreams'\''?)"' "$tmp/json" ||
		say_fail "the hint is not in the description"
	grep -Fq '"categories": [' "$tmp/json" || say_fail "no categories"
}
cc 0 "$tmp/a" "$good" && { [ "$(cat "$tmp/json")" = "[]" ] || say_fail "a clean policy: expected []"; }
cc 1 "$tmp/a" --strict "$warn"
# A file-level finding (unreadable) starts at line 1: GitLab wants a line.
cc 2 "$tmp/a" "$tmp/nope.yaml" && has "$tmp/a" "^$tmp/nope.yaml:1:critical:NW100:"
# Notes (errors past the cap) are not issues.
cc 1 "$tmp/a" "$pol/bad/too-many-errors.yaml" &&
	{ [ "$(wc -l <"$tmp/a")" -eq 10 ] || say_fail "too-many-errors: expected 10 issues"; }
# "./" in front of a path is left out: GitLab links paths from the
# repository root. The fingerprint is the same either way.
cp "$bad" "$tmp/rel.yaml"
(cd "$tmp" && "$NTPWALL" lint --format codeclimate ./rel.yaml >"$tmp/json.dot")
(cd "$tmp" && "$NTPWALL" lint --format codeclimate rel.yaml >"$tmp/json.plain")
if "$check" codeclimate "$tmp/json.dot" >"$tmp/dot" && "$check" codeclimate "$tmp/json.plain" >"$tmp/plain"; then
	cmp -s "$tmp/dot" "$tmp/plain" || { say_fail "./rel.yaml and rel.yaml differ:"; cat "$tmp/dot" "$tmp/plain"; }
	has "$tmp/dot" "^rel.yaml:3:critical:NW110:"
fi

# --- fingerprints
# p.yaml has two identical findings (NW110 for 'foo' on two entries) that
# differ only in position; w.yaml has warnings whose message names a line
# (NW205 "... lies in 'ignore' (line 3)").
cat >"$tmp/p.yaml" <<'EOF'
version: 1
upstreams:
  - server: 192.0.2.1
    foo: 1
  - server: ntp1.example.net
    foo: 1
  - server: ntp2.example.net
EOF
cat >"$tmp/w.yaml" <<'EOF'
version: 1
restrict:
  ignore: ["192.0.2.0/24"]
upstreams:
  - server: 192.0.2.1
  - server: 192.0.2.2
  - server: ntp1.example.net
  - server: ntp2.example.net
EOF
cc 1 "$tmp/run1" "$tmp/p.yaml" "$tmp/w.yaml"
cc 1 "$tmp/run2" "$tmp/p.yaml" "$tmp/w.yaml"
cmp -s "$tmp/run1" "$tmp/run2" || say_fail "two runs give different fingerprints"
[ "$(grep -c ':minor:NW205:' "$tmp/run1")" -eq 2 ] || say_fail "expected two NW205 in w.yaml"
foo1=$(fp "$tmp/run1" NW110 4)
foo2=$(fp "$tmp/run1" NW110 6)
[ -n "$foo1" ] && [ -n "$foo2" ] && [ "$foo1" != "$foo2" ] ||
	say_fail "two identical findings: fingerprints '$foo1' and '$foo2' must be distinct"

# Lines inserted above and between the findings: every fingerprint stays,
# though the lines and NW205's "(line N)" change.
{
	printf '# a comment added on top\n# and another\n'
	sed -n 1,4p "$tmp/p.yaml"
	echo "  # a comment between the two findings"
	sed -n '5,$p' "$tmp/p.yaml"
} >"$tmp/new.yaml" && mv "$tmp/new.yaml" "$tmp/p.yaml"
{ echo "# a comment"; cat "$tmp/w.yaml"; } >"$tmp/new.yaml" && mv "$tmp/new.yaml" "$tmp/w.yaml"
cc 1 "$tmp/run3" "$tmp/p.yaml" "$tmp/w.yaml"
cut -d: -f1,4,5 "$tmp/run1" | sort >"$tmp/fp1"
cut -d: -f1,4,5 "$tmp/run3" | sort >"$tmp/fp3"
cmp -s "$tmp/fp1" "$tmp/fp3" || { say_fail "inserted lines changed fingerprints:"; diff "$tmp/fp1" "$tmp/fp3"; }
[ "$(fp "$tmp/run3" NW110 6)" = "$foo1" ] && [ "$(fp "$tmp/run3" NW110 9)" = "$foo2" ] ||
	{ say_fail "the 'foo' findings did not move, or changed fingerprints:"; cat "$tmp/run3"; }
"$NTPWALL" lint "$tmp/w.yaml" 2>&1 | grep -q "lies in 'ignore' (line 4)" ||
	say_fail "w.yaml: NW205 no longer names the moved line (test is wrong)"

# A changed finding gets a new fingerprint; the other keeps its own.
sed '9s/foo/bar/' "$tmp/p.yaml" >"$tmp/new.yaml" && mv "$tmp/new.yaml" "$tmp/p.yaml"
cc 1 "$tmp/run4" "$tmp/p.yaml"
[ "$(fp "$tmp/run4" NW110 6)" = "$foo1" ] || say_fail "the unchanged 'foo' finding changed its fingerprint"
bar=$(fp "$tmp/run4" NW110 9)
[ -n "$bar" ] && [ "$bar" != "$foo2" ] && [ "$bar" != "$foo1" ] ||
	{ say_fail "'bar' at line 9 has no fingerprint of its own:"; cat "$tmp/run4"; }
# The same finding in another file: another fingerprint.
cp "$tmp/p.yaml" "$tmp/q.yaml"
cc 1 "$tmp/run5" "$tmp/q.yaml"
[ "$(fp "$tmp/run5" NW110 6)" != "$foo1" ] || say_fail "another file, same fingerprint"

# --- every bad policy gives a valid report with at least one critical issue
for f in "$pol"/bad/*.yaml; do
	cc 1 "$tmp/a" "$f" && { grep -q ':critical:NW1' "$tmp/a" || say_fail "$f: no critical issue"; }
done

[ "$fail" -eq 0 ] && echo "codeclimate: all checks passed"
exit $fail
