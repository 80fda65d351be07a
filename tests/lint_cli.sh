#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# `ntpwall lint` as CI uses it: exit codes (0 clean, 1 findings, 2 usage or
# I/O), the text format with source line, caret and hint, and the machine
# formats: json (documented shape), github (workflow annotations) and sarif
# (2.1.0). JSON is checked by lint_json_check (jansson), given as $1, so the
# test needs neither jq nor python.
set -u
check=${1:?usage: lint_cli.sh PATH-TO-lint_json_check}
pol=$SRCDIR/tests/policies
bad=$pol/bad/unknown-key-top.yaml
bad2=$pol/bad/prefix-host-bits.yaml
warn=$pol/warn/three-servers.yaml
good=$SRCDIR/policies/lan-server.yaml
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
fail=0
n=0

say_fail() {
	echo "FAIL: $*"
	echo "--- stdout:"; cat "$tmp/out"; echo "--- stderr:"; cat "$tmp/err"
	fail=1
}

# run WANT_RC ARGS...: runs ntpwall lint, output in $tmp/out and $tmp/err.
run() {
	_want=$1
	shift
	n=$((n + 1))
	"$NTPWALL" lint "$@" >"$tmp/out" 2>"$tmp/err"
	_rc=$?
	if [ "$_rc" -ne "$_want" ]; then
		say_fail "lint $*: exit $_rc, expected $_want"
		return 1
	fi
	return 0
}

# has FILE LINE: LINE is a whole line of FILE.
has() {
	grep -Fxq -- "$2" "$1" || { say_fail "expected line: $2"; return 1; }
}

# --- usage and I/O errors: exit 2
if run 2; then
	grep -q 'no policy given' "$tmp/err" || say_fail "no arguments: no usage message"
fi
run 2 "$tmp/does-not-exist.yaml" &&
	has "$tmp/out" "$tmp/does-not-exist.yaml: error: cannot read: No such file or directory [NW100]"
run 2 "$tmp"
if run 2 --format xml "$good"; then
	grep -q -- '--format xml' "$tmp/err" || say_fail "bad --format not named"
fi
run 2 --format "$good"
run 2 --no-such-option "$good"
if run 0 --help; then
	grep -q '^usage: ntpwall lint' "$tmp/out" || say_fail "--help prints no usage"
fi
# An unreadable file among good ones is still exit 2, the others still linted.
run 2 "$bad" "$tmp/does-not-exist.yaml" && has "$tmp/out" "$bad:3:1: error: unknown key 'upstream' [NW110]"

# --- exit codes and --strict
if run 0 "$good"; then
	[ ! -s "$tmp/out" ] || say_fail "a clean policy printed something"
fi
run 0 --strict "$SRCDIR"/policies/*.yaml
run 0 "$warn"
run 1 --strict "$warn"
run 1 "$bad"
run 1 --strict "$bad"
run 1 "$good" "$bad" "$warn"
run 0 "$good" "$warn"
run 1 --strict "$good" "$warn"

# --- text: gcc-style line, source excerpt with caret, hint; summary on stderr
run 1 "$bad" && {
	has "$tmp/out" "$bad:3:1: error: unknown key 'upstream' [NW110]"
	has "$tmp/out" "    3 | upstream:"
	has "$tmp/out" "      | ^"
	has "$tmp/out" "      = hint: did you mean 'upstreams'?"
	has "$tmp/err" "ntpwall: lint: 2 errors, 0 warnings"
}
run 1 "$bad2" && {
	has "$tmp/out" "$bad2:8:13: error: prefix '192.0.2.1/24' has host bits set [NW122]"
	has "$tmp/out" "      |             ^"
	has "$tmp/out" "      = hint: did you mean '192.0.2.0/24'?"
}
# Several files: each finding names its own file, in argument order.
run 1 "$bad" "$warn" && {
	has "$tmp/out" "$warn:5:5: warning: 3 upstreams: RFC 8633 asks for at least four so that one bad clock is outvoted (waive NW201 with a reason if this is deliberate) [NW201]"
	has "$tmp/err" "ntpwall: lint: 2 errors, 1 warning"
	first=$(grep -n "^$warn:" "$tmp/out" | head -1 | cut -d: -f1)
	last_bad=$(grep -n "^$bad:" "$tmp/out" | tail -1 | cut -d: -f1)
	[ "$last_bad" -lt "$first" ] || say_fail "findings not grouped by file in order"
}

# --- a directory stands for its *.yaml and *.yml files, sorted by name, as
# the shell's DIR/*.yaml DIR/*.yml would give them: no hidden files, no
# subdirectories, no other suffixes.
d=$tmp/dir
mkdir -p "$d/sub" "$d/dir.yaml"
cp "$warn" "$d/a.yaml"
cp "$bad" "$d/b.yml"
cp "$good" "$d/c.yaml"
for f in .hidden.yaml sub/x.yaml notes.txt policy.yaml~; do cp "$bad" "$d/$f"; done
for arg in "$d" "$d/"; do
	run 1 "$arg" && {
		has "$tmp/out" "$d/a.yaml:5:5: warning: 3 upstreams: RFC 8633 asks for at least four so that one bad clock is outvoted (waive NW201 with a reason if this is deliberate) [NW201]"
		has "$tmp/out" "$d/b.yml:3:1: error: unknown key 'upstream' [NW110]"
		has "$tmp/err" "ntpwall: lint: 2 errors, 1 warning"
		[ "$(grep -c '^/.*: \(error\|warning\): ' "$tmp/out")" -eq 3 ] ||
			say_fail "lint $arg: hidden files, subdirectories or other suffixes were linted"
		[ "$(grep -n "^$d/a.yaml:" "$tmp/out" | cut -d: -f1)" -lt \
		  "$(grep -n "^$d/b.yml:" "$tmp/out" | head -1 | cut -d: -f1)" ] ||
			say_fail "lint $arg: files not in name order"
	}
done
run 0 --strict "$SRCDIR/policies/"
run 1 --strict "$good" "$d" && has "$tmp/out" "$d/b.yml:3:1: error: unknown key 'upstream' [NW110]"
# A directory without policies is an error that names it: exit 2, in every format.
mkdir "$tmp/empty"
touch "$tmp/empty/README"
run 2 "$tmp/empty" &&
	has "$tmp/out" "$tmp/empty: error: no policy in this directory: it has no *.yaml or *.yml file [NW100]"
run 2 --format github "$good" "$tmp/empty" &&
	has "$tmp/out" "::error file=$tmp/empty,title=NW100::no policy in this directory: it has no *.yaml or *.yml file"

# --- json: documented shape, checked with jansson
json() {
	if "$check" json "$tmp/out" >"$tmp/list" 2>"$tmp/why"; then
		return 0
	fi
	say_fail "--format json output is not the documented shape: $(cat "$tmp/why")"
	return 1
}
run 1 --format json "$bad" "$warn" && json && {
	has "$tmp/list" "$bad:2:1:error:NW112"
	has "$tmp/list" "$bad:3:1:error:NW110"
	has "$tmp/list" "$warn:5:5:warning:NW201"
	[ "$(wc -l <"$tmp/list")" -eq 3 ] || say_fail "json: expected 3 findings"
	grep -Fq '"hint": "did you mean '\''upstreams'\''?"' "$tmp/out" || say_fail "json: hint missing"
	[ ! -s "$tmp/err" ] || say_fail "json: stderr is not empty"
}
if run 0 --format json "$good" && json; then
	[ ! -s "$tmp/list" ] || say_fail "json: clean policy has findings"
fi
run 1 --format json --strict "$warn" && json
# A file-level finding has line and column 0.
run 2 --format json "$tmp/nope.yaml" && json && has "$tmp/list" "$tmp/nope.yaml:0:0:error:NW100"
run 1 -f json "$pol/bad/encoding-latin1.yaml" && json

# --- github: one workflow command per finding, properties escaped
run 1 --format github "$bad" "$warn" && {
	has "$tmp/out" "::error file=$bad,line=3,col=1,title=NW110::unknown key 'upstream' (did you mean 'upstreams'?)"
	has "$tmp/out" "::error file=$bad,line=2,col=1,title=NW112::the policy needs 'upstreams', the servers to trust"
	grep -q "^::warning file=$warn,line=5,col=5,title=NW201::3 upstreams" "$tmp/out" ||
		say_fail "github: NW201 warning missing"
	[ "$(grep -cv '^::\(error\|warning\) ' "$tmp/out")" -eq 0 ] || say_fail "github: a line is not an annotation"
	[ "$(wc -l <"$tmp/out")" -eq 3 ] || say_fail "github: expected 3 lines"
}
# ',' and ':' in a file name and '%' in a message must not break the command.
odd="$tmp/a,b:c.yaml"
printf 'version: 1\nupstreams:\n  - pool: uk.pool.ntp.org\n    max: 4\n50%%off: true\n' >"$odd"
run 1 --format github "$odd" &&
	has "$tmp/out" "::error file=$tmp/a%2Cb%3Ac.yaml,line=5,col=1,title=NW110::unknown key '50%25off'"

# --- sarif: 2.1.0 with rules and results, checked with jansson
sarif() {
	if "$check" sarif "$tmp/out" >"$tmp/list" 2>"$tmp/why"; then
		return 0
	fi
	say_fail "--format sarif output is not SARIF 2.1.0: $(cat "$tmp/why")"
	return 1
}
run 1 --format sarif "$bad" "$warn" && sarif && {
	has "$tmp/list" "$bad:3:1:error:NW110"
	has "$tmp/list" "$warn:5:5:warning:NW201"
	[ "$(wc -l <"$tmp/list")" -eq 3 ] || say_fail "sarif: expected 3 results"
}
if run 0 --format sarif "$good" && sarif; then
	[ ! -s "$tmp/list" ] || say_fail "sarif: clean policy has results"
fi
run 2 --format sarif "$tmp/nope.yaml" && sarif && has "$tmp/list" "$tmp/nope.yaml:0:0:error:NW100"

# --- errors past the per-file cap: a note, not an error; exit code unchanged
many=$pol/bad/too-many-errors.yaml
run 1 "$many" && {
	has "$tmp/out" "$many: note: 3 more errors not shown; only the first 10 of a file are listed"
	has "$tmp/err" "ntpwall: lint: 10 errors (and 3 not shown), 0 warnings"
	[ "$(grep -c ': error: ' "$tmp/out")" -eq 10 ] || say_fail "cap: expected 10 errors listed"
	grep -q 'NW101' "$tmp/out" && say_fail "cap: the note reuses NW101"
}
run 1 --format json "$many" && json && {
	[ "$(wc -l <"$tmp/list")" -eq 10 ] || say_fail "json: the note must not be a finding"
	grep -Fq '"suppressed": 3' "$tmp/out" || say_fail "json: no \"suppressed\": 3"
	grep -Fq '"errors": 10' "$tmp/out" || say_fail "json: the note counted as an error"
}
run 0 --format json "$good" && json && { grep -Fq '"suppressed": 0' "$tmp/out" || say_fail "json: no \"suppressed\": 0"; }
run 1 --format github "$many" &&
	has "$tmp/out" "::notice file=$many,title=ntpwall::3 more errors not shown; only the first 10 of a file are listed"
run 1 --format sarif "$many" && sarif && {
	[ "$(wc -l <"$tmp/list")" -eq 10 ] || say_fail "sarif: the note must not be a result"
	grep -Fq '"text": "3 more errors not shown' "$tmp/out" || say_fail "sarif: no notification for the note"
}

# --- waivers of codes only --resolve gives are not "unused" without it
waived=$tmp/waive-resolve.yaml
printf 'version: 1\nupstreams:\n  - server: 192.0.2.1\n  - server: 192.0.2.2\n  - server: 192.0.2.3\n  - server: "2001:db8::1"\nwaive:\n  NW210: "our servers are anycast"\n  NW211: "no IPv6 upstream yet"\n' >"$waived"
if run 0 --strict "$waived"; then
	[ ! -s "$tmp/out" ] || say_fail "waivers of NW210/NW211 reported without --resolve"
fi

# --- a UTF-8 byte order mark is allowed
bom=$tmp/bom.yaml
printf '\357\273\277' >"$bom"
cat "$good" >>"$bom"
run 0 --strict "$bom"

# --- many findings in a large file: each excerpt is the right line. The
# source lines are indexed once per file: rescanning the file for every
# finding made this take minutes (100,000 findings: quadratic rescanning
# would take hours, the index takes seconds).
big=$tmp/many-warnings.yaml
awk 'BEGIN { print "version: 1\nrestrict: {ignore: [\"2001:db8::/32\"]}\nupstreams:";
	for (i = 1; i <= 100000; i++) printf "  - server: \"2001:db8::%x:%x\"\n", i / 65536, i % 65536 }' >"$big"
run 0 "$big" && {
	[ "$(grep -c ': warning: ' "$tmp/out")" -eq 100000 ] || say_fail "big: expected 100000 warnings"
	has "$tmp/out" "$big:100003:13: warning: upstream 2001:db8::1:86a0 lies in 'ignore' (line 2): its packets are dropped [NW205]"
	has "$tmp/out" "100003 |   - server: \"2001:db8::1:86a0\""
}

# --- --daemon-config: chrony.conf lines (and what it pulls in) asking
# servers the policy does not trust are NW209; ntpwall's own file and the
# policy's literal servers are not; a waiver silences it.
mkdir "$tmp/chrony" "$tmp/chrony/sources.d"
printf 'pool 2.debian.pool.ntp.org iburst\nserver 192.0.2.1 iburst\nsourcedir %s/chrony/sources.d\n' \
	"$tmp" >"$tmp/chrony/chrony.conf"
printf 'server 198.51.100.77 iburst\n' >"$tmp/chrony/sources.d/dhcp.sources"
printf '# ntpwall: own\nserver 192.0.2.9\n' >"$tmp/chrony/sources.d/ntpwall.sources"
dpol=$tmp/daemon.yaml
printf 'version: 1\nupstreams: [{server: 192.0.2.1}, {server: 192.0.2.2}, {server: 192.0.2.3}, {server: 192.0.2.4}]\ndaemon: {chrony_sources: %s/chrony/sources.d/ntpwall.sources}\n' \
	"$tmp" >"$dpol"
run 0 "$dpol" && [ -s "$tmp/out" ] && grep -q NW209 "$tmp/out" && say_fail "NW209 without --daemon-config"
run 1 --strict --daemon-config "$tmp/chrony/chrony.conf" "$dpol" && {
	has "$tmp/out" "$tmp/chrony/chrony.conf:1:1: warning: 'pool 2.debian.pool.ntp.org iburst' asks the servers of a pool the policy does not trust: the wall will block them; comment it out and let ntpwall's file name the servers [NW209]"
	has "$tmp/out" "$tmp/chrony/sources.d/dhcp.sources:1:1: warning: 'server 198.51.100.77 iburst' asks 198.51.100.77 the policy does not trust: the wall will block it; comment it out and let ntpwall's file name the servers [NW209]"
	[ "$(grep -c NW209 "$tmp/out")" = 2 ] || say_fail "--daemon-config: expected exactly 2 NW209"
}
printf 'waive: {NW209: "the DHCP servers are ours"}\n' >>"$dpol"
run 0 --strict --daemon-config "$tmp/chrony/chrony.conf" "$dpol"

# --- every bad policy gives valid json and sarif with at least one error
for f in "$pol"/bad/*.yaml; do
	if run 1 --format json "$f" && json; then
		grep -q ':error:NW1' "$tmp/list" || say_fail "$f: no NW1xx error in json"
	fi
	run 1 --format sarif "$f" && sarif
done

echo "ran $n lint invocations"
exit $fail
