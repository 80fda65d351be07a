#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The documentation must not fall behind the product (the man pages'
# formatting, their commands and options, and the policy keys are
# tests/contrib.sh's):
# - README.md's usage block lists exactly the commands of `ntpwall --help`,
#   each with exactly the options of `ntpwall CMD --help`, and README.md
#   names every global option;
# - README.md is a front page: at most 300 lines, and it and doc/testing.md
#   give the number of tests meson defines;
# - every document a comment in src/, include/, tests/ or contrib/ cites
#   exists (doc/NAME.md, not a bare NAME.md or "netlink-notes"), and so does
#   the section it names (§N, §N.M, "Heading"; README "Heading");
# - the binary holds no test hook (no NTPWALL_TEST_ string);
# - every C file under src/ and include/ starts with the SPDX line.
set -u
: "${NTPWALL:?path of the ntpwall binary}"
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
readme=$SRCDIR/README.md
spdx='/* SPDX-License-Identifier: GPL-2.0-or-later */'
fails=0
checks=0

fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}

ok() {
	checks=$((checks + 1))
}

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# Commands, and a command's long options, as the binary prints them.
help_commands() {
	"$NTPWALL" --help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }'
}
help_options() {
	"$NTPWALL" "$@" --help | awk 'NR > 1 && !NF { exit } NR > 1 && /^  / {
		for (i = 1; i <= NF; i++) if ($i ~ /^--[a-z]/) { print $i; break } }'
}

# --- README: the usage block -------------------------------------------------
# The fenced block whose first line is "ntpwall [--state-dir DIR] ...": one
# line per command, "  COMMAND operands [--option ARG]...", continuation
# lines indented further.
awk '/^```/ { if (on) exit; fence = 1; next }
	fence && /^ntpwall \[--state-dir/ { on = 1 }
	{ fence = 0 }
	on' "$readme" >"$tmp/usage"
[ -s "$tmp/usage" ] || fail "README.md: no usage block starting with 'ntpwall [--state-dir'"
ok
# readme_cmd_options CMD: the options the usage block gives CMD.
readme_cmd_options() {
	awk -v c="$1" '/^  [a-z]/ { on = ($1 == c) } on' "$tmp/usage" |
		grep -oE -- '--[a-z][a-z-]*' | sort -u
}
commands=$(help_commands)
[ -n "$commands" ] || { echo "FAIL: no commands in 'ntpwall --help'"; exit 1; }
readme_cmds=$(awk '/^  [a-z]/ { print $1 }' "$tmp/usage")
for c in $commands; do
	printf '%s\n' "$readme_cmds" | grep -qx "$c" ||
		fail "README.md: the usage block does not list '$c', which 'ntpwall --help' lists"
	ok
	help_options "$c" | grep -vx -- --help | sort -u >"$tmp/help.opts"
	readme_cmd_options "$c" >"$tmp/readme.opts"
	for o in $(comm -23 "$tmp/help.opts" "$tmp/readme.opts"); do
		fail "README.md: the usage block does not give '$c' its option $o"
	done
	for o in $(comm -13 "$tmp/help.opts" "$tmp/readme.opts"); do
		fail "README.md: the usage block gives '$c' $o, which 'ntpwall $c --help' does not list"
	done
	ok
done
for c in $readme_cmds; do
	printf '%s\n' "$commands" | grep -qx "$c" ||
		fail "README.md lists the command '$c', which 'ntpwall --help' does not"
	ok
done
for o in $(help_options); do
	grep -qF -- "\`$o" "$readme" || fail "README.md: global option $o not named"
	ok
done
for o in $(sed -n 1p "$tmp/usage" | grep -oE -- '--[a-z][a-z-]*'); do
	help_options | grep -qx -- "$o" ||
		fail "README.md: global option $o is not in 'ntpwall --help'"
	ok
done

# --- README: a front page -----------------------------------------------------
lines=$(wc -l <"$readme")
[ "$lines" -le 300 ] ||
	fail "README.md has $lines lines, more than 300: move the reference into the man pages or doc/"
ok

# The test count doc/testing.md gives is the build's, and it names every
# test (README points there rather than repeating the number).
if [ -n "${BUILDDIR:-}" ] && command -v meson >/dev/null && command -v jq >/dev/null; then
	n=$(meson introspect --tests "$BUILDDIR" | jq length)
	f=$SRCDIR/doc/testing.md
	grep -q "runs $n tests" "$f" || fail "doc/testing.md does not say 'runs $n tests' (meson defines $n)"
	ok
	for t in $(meson introspect --tests "$BUILDDIR" | jq -r '.[].name'); do
		grep -q "\`$t\`" "$f" || fail "doc/testing.md does not describe the test '$t'"
		ok
	done
fi

# --- citations of documents -----------------------------------------------------
# Every NAME.md a comment names (URLs aside) must exist; the design notes
# live in doc/ and are cited as doc/NAME.md; a section must exist too.
cd "$SRCDIR" || exit 1
grep -rnoE --exclude=docs.sh '(//)?[A-Za-z0-9_./-]*\.md( (§[0-9]+(\.[0-9]+)?|"[^"]+"))?' \
	src include tests contrib >"$tmp/cites" || true
while IFS= read -r hit; do
	where=${hit%%:*}
	rest=${hit#*:}
	line=${rest%%:*}
	cite=${rest#*:}
	case $cite in //*) continue ;; esac
	doc=${cite%%[ ]*}
	doc=${doc#*SRCDIR/}
	if [ ! -f "$doc" ]; then
		fail "$where:$line: cites $doc, which does not exist"
		continue
	fi
	case $cite in
	*' §'*)
		sec=${cite#* §}
		major=${sec%%.*}
		grep -q "^## $major\. " "$doc" ||
			fail "$where:$line: cites $doc §$sec: no '## $major.' section"
		case $sec in *.*)
			item=${sec#*.}
			awk -v m="$major" '/^## / { on = ($2 == m ".") ; next } on' "$doc" |
				grep -q "^$item\. " ||
				fail "$where:$line: cites $doc §$sec: no item $item in section $major"
			;;
		esac
		;;
	*' "'*)
		head=${cite#* \"}
		head=${head%\"}
		grep -qxF "## $head" "$doc" || fail "$where:$line: cites $doc \"$head\": no such section"
		;;
	esac
	ok
done <"$tmp/cites"
# A README section cited by name must still be a README heading (the
# reference lives in the man pages now).
grep -rnoE --exclude=docs.sh 'README(\.md)? "[^"]+"' src include tests contrib >"$tmp/readme-cites" || true
while IFS= read -r hit; do
	head=${hit#*\"}
	head=${head%\"}
	grep -qE "^#+ $head\$" "$readme" ||
		fail "${hit%%:*}: cites README \"$head\", which is no README heading (see ntpwall(8), ntpwall-policy(5))"
	ok
done <"$tmp/readme-cites"
# A note cited without its place in the repository.
grep -rnE --exclude=docs.sh '(^|[^/A-Za-z0-9_.-])(design|architecture|netlink-notes|iptables-notes|style)(\.md|[ :]+§)' \
	src include tests contrib >"$tmp/bare" || true
grep -rnE --exclude=docs.sh 'netlink-notes|iptables-notes' src include tests contrib |
	grep -vE 'doc/(netlink|iptables)-notes\.md' >>"$tmp/bare" || true
if [ -s "$tmp/bare" ]; then
	fail "documents cited without doc/ (write doc/NAME.md):"
	sort -u "$tmp/bare"
fi
ok

# --- no test hooks in the product ---------------------------------------------
if command -v strings >/dev/null 2>&1; then
	n=$(strings "$NTPWALL" | grep -c NTPWALL_TEST_)
	[ "$n" -eq 0 ] || fail "the binary holds $n NTPWALL_TEST_ strings (test hooks in the product)"
	ok
else
	fail "strings (binutils) is not installed"
fi

# --- SPDX ---------------------------------------------------------------------------
for f in $(find src include -name '*.[ch]' | sort); do
	[ "$(head -n 1 "$f")" = "$spdx" ] || fail "$f: the first line is not '$spdx'"
	ok
done

echo "$checks checks, $fails failed"
[ "$fails" -eq 0 ]
