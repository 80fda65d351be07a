#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# contrib/: the man page and the bash completion must be well-formed and
# must not fall behind the CLI.
# - contrib/ntpwall.8 formats without a single groff warning (-ww) and holds
#   no control character (but tabs), has a
#   .SS section for every command `ntpwall --help` lists (and for no other),
#   names every option of every `ntpwall CMD --help` in that section, and
#   documents (.TP) no option there that the command does not take.
# - contrib/ntpwall-policy.5 formats without a groff warning, has a tag for
#   every key of src/policy.c's key tables (full dotted name: resolve.timeout)
#   and lists every finding code of `ntpwall lint --list-codes` with its
#   severity.
# - contrib/completion/ntpwall.bash offers exactly the commands of --help and
#   the options of each command's --help, and completes option values and
#   policy files as asserted below.
# groff missing: the man page checks are skipped (exit 77 at the end when
# everything else passed); bootstrap installs groff-base.
set -u
: "${NTPWALL:?path of the ntpwall binary}"
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
man=$SRCDIR/contrib/ntpwall.8
man5=$SRCDIR/contrib/ntpwall-policy.5
comp=$SRCDIR/contrib/completion/ntpwall.bash
fails=0
checks=0
groff_missing=0

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

commands=$(help_commands)
[ -n "$commands" ] || { echo "FAIL: no commands in 'ntpwall --help'"; exit 1; }

# --- man page ---------------------------------------------------------------
# A control character is no request groff warns of: a font escape written
# through a string that ate its backslash ("\f" became a form feed)
# printed as a stray letter. Checked with or without groff.
for m in "$man" "$man5"; do
	if LC_ALL=C grep -n "$(printf '[\001-\010\013-\037\177]')" "$m" >"$tmp/cntrl"; then
		fail "control characters in ${m#"$SRCDIR"/}: $(head -3 "$tmp/cntrl" | cat -v)"
	fi
	ok
done
if command -v groff >/dev/null 2>&1; then
	for m in "$man" "$man5"; do
		if ! groff -man -Tutf8 -ww -z "$m" >"$tmp/groff.out" 2>&1; then
			fail "groff exits non-zero on ${m#"$SRCDIR"/}"
		fi
		if [ -s "$tmp/groff.out" ]; then
			fail "groff warns about ${m#"$SRCDIR"/}:"
			cat "$tmp/groff.out"
		fi
		ok
	done
	# The rendered page must really contain the sections.
	groff -man -Tutf8 -P-cbou "$man" 2>/dev/null >"$tmp/page.txt"
	for s in NAME SYNOPSIS DESCRIPTION COMMANDS "EXIT STATUS" FILES ENVIRONMENT EXAMPLES \
		"SEE ALSO"; do
		grep -q "^$s\$" "$tmp/page.txt" || fail "man page: no section '$s'"
		ok
	done
	groff -man -Tutf8 -P-cbou "$man5" 2>/dev/null >"$tmp/page5.txt"
	for s in NAME SYNOPSIS DESCRIPTION KEYS "RULE MODEL" "POOL MEMBERSHIP" "THE TIME DAEMON" \
		"FINDING CODES" FILES "SEE ALSO"; do
		grep -q "^$s\$" "$tmp/page5.txt" || fail "ntpwall-policy(5): no section '$s'"
		ok
	done
else
	echo "note: groff not installed; man page formatting not checked"
	groff_missing=1
fi

# Lines of the man page section of command $1: from '.SS cmd' to the next
# .SS or .SH.
man_section() {
	awk -v c="$1" '/^\.S[SH] / { on = ($1 == ".SS" && $2 == c) ; next } on' "$man"
}

man_cmds=$(awk '/^\.SS [a-z]/ { print $2 }' "$man")
for c in $commands; do
	printf '%s\n' "$man_cmds" | grep -qx "$c" ||
		fail "man page: no '.SS $c' section for a command 'ntpwall --help' lists"
	grep -q "^\.B $c\$" "$man" || fail "man page: '$c' missing from the SYNOPSIS"
	ok
	for o in $(help_options "$c"); do
		[ "$o" = --help ] && continue
		roff=$(printf '%s' "$o" | sed 's/-/\\-/g')
		man_section "$c" | grep -qF -- "$roff" ||
			fail "man page: section '$c' does not document $o"
		ok
	done
	# The other way round: an option the section documents (the tag after
	# .TP) must be one the command takes.
	for o in $(man_section "$c" | awk 'prev == ".TP" { print } { prev = $1 }' |
		grep -oE '^\.B[IR]* +"?\\-\\-[a-z\\-]+' | sed 's/.*"\{0,1\}\\-\\-/--/; s/\\-/-/g'); do
		help_options "$c" | grep -qx -- "$o" ||
			fail "man page: section '$c' documents $o, which 'ntpwall $c --help' does not list"
		ok
	done
done
for c in $man_cmds; do
	printf '%s\n' "$commands" | grep -qx "$c" ||
		fail "man page documents '$c', which 'ntpwall --help' does not list"
	ok
done
for o in $(help_options); do
	roff=$(printf '%s' "$o" | sed 's/-/\\-/g')
	grep -qF -- "$roff" "$man" || fail "man page: global option $o not documented"
	ok
done
for f in /var/lib/ntpwall/lock NTPWALL_KEEP "nft (8)" "chronyd (8)" "ntpd (8)" \
	"\-\-format github" "\-\-format codeclimate" "\-\-confirm 120"; do
	grep -qF -- "$f" "$man" || fail "man page: does not mention '$f'"
	ok
done

# --- ntpwall-policy(5): every key, every finding code ------------------------
# Key names from src/policy.c: the rows of each `static const struct
# key_spec NAME_keys[]` table, with the prefix the table stands for, and the
# upstream entry's keys[] list.
awk '
	/^static const struct key_spec [a-z_]+_keys\[\] = \{/ {
		t = $5; sub(/_keys\[\]$/, "", t)
		pre = t == "top" ? "" : t == "rate" ? "serve.rate_limit." : t "."
		on = 1; next
	}
	on && /^\};/ { on = 0 }
	on && match($0, /\{ "[a-z_]+"/) { print pre substr($0, RSTART + 3, RLENGTH - 4) }
	/static const char \*const keys\[\] = \{/ {
		s = $0; sub(/.*= \{/, "", s)
		while (match(s, /"[a-z_]+"/)) { print substr(s, RSTART + 1, RLENGTH - 2); s = substr(s, RSTART + RLENGTH) }
	}' "$SRCDIR/src/policy.c" >"$tmp/keys"
[ "$(wc -l <"$tmp/keys")" -ge 40 ] ||
	fail "found only $(wc -l <"$tmp/keys") keys in src/policy.c: the extraction is broken"
while IFS= read -r k; do
	re=$(printf '%s' "$k" | sed 's/[.[]/\\&/g')
	grep -qE "^\.B[IR]? +\"?$re([\": ]|\$)" "$man5" ||
		fail "ntpwall-policy(5) has no tag for the key '$k' (src/policy.c)"
	ok
done <"$tmp/keys"
"$NTPWALL" lint --list-codes >"$tmp/codes" || fail "ntpwall lint --list-codes failed"
while read -r code sev _; do
	grep -qx "\.B $code \\\\fR$sev\\\\fP" "$man5" ||
		fail "ntpwall-policy(5) does not list $code as a $sev"
	ok
done <"$tmp/codes"

# --- bash completion ----------------------------------------------------------
if ! bash -n "$comp"; then
	fail "completion: syntax error"
fi

# complete WORD... : the candidates, one per line, for the last word.
complete_words() {
	(cd "$tmp/work" && bash -c '
		. "$1" || exit 1
		shift
		COMP_WORDS=()
		for w; do
			[ "$w" = "'"''"'" ] && w=
			COMP_WORDS+=("$w")
		done
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		_ntpwall || exit 1
		printf "%s\n" "${COMPREPLY[@]}" | sort' bash "$comp" "$@")
}

# expect "WORDS" "CANDIDATES": both space-separated; "" for none.
expect() {
	# Both arguments are word lists: split on purpose.
	# shellcheck disable=SC2086
	e_got=$(complete_words $1 | tr '\n' ' ' | sed 's/ *$//')
	# shellcheck disable=SC2086
	e_want=$(printf '%s\n' $2 | sort | tr '\n' ' ' | sed 's/ *$//')
	[ "$e_got" = "$e_want" ] || fail "completion of '$1': got '$e_got', want '$e_want'"
	ok
}

mkdir -p "$tmp/work/sub" "$tmp/work/st"
touch "$tmp/work/a.yaml" "$tmp/work/b.yml" "$tmp/work/c.txt" "$tmp/work/sub/d.yaml" \
	"$tmp/work/st/gen-000007.json" "$tmp/work/st/gen-000012.json"

# A trailing "''" is the empty word being completed.
expect "ntpwall ''" "$commands"
expect "ntpwall re" "resolve refresh restore remove"
expect "ntpwall --st" "--state-dir"
expect "ntpwall --state-dir ''" "st sub"
expect "ntpwall -v co" "compile confirm"
expect "ntpwall lint --format ''" "text json github sarif codeclimate"
expect "ntpwall lint -f g" "github"
expect "ntpwall lint --format=c" "--format=codeclimate"
expect "ntpwall probe --format ''" "text json prometheus"
expect "ntpwall status --format=j" "--format=json"
expect "ntpwall status --format = ''" "text json prometheus"
expect "ntpwall compile --target ip" "iptables ip6tables"
expect "ntpwall compile -t ''" "nft iptables ip6tables chrony ntpd"
expect "ntpwall lint ''" "a.yaml b.yml st sub"
expect "ntpwall lint a.yaml ''" "a.yaml b.yml st sub"
expect "ntpwall apply sub/" "sub/d.yaml"
expect "ntpwall lint --format json ''" "a.yaml b.yml st sub"
expect "ntpwall apply --dr" "--dry-run"
expect "ntpwall apply --confirm ''" ""
expect "ntpwall --state-dir st rollback --to ''" "7 12"
expect "ntpwall --state-dir=st rollback --to 1" "12"
expect "ntpwall confirm ''" ""
expect "ntpwall status --" "--format --table --help"
expect "ntpwall explain --direction ''" "in out"
expect "ntpwall explain --state e" "established"
expect "ntpwall explain --to ''" ""
expect "ntpwall explain --version 4 a" "a.yaml"

# The lists must match the binary's help.
got=$(complete_words ntpwall '' | tr '\n' ' ')
# shellcheck disable=SC2086
want=$(printf '%s\n' $commands | sort | tr '\n' ' ')
[ "$got" = "$want" ] || fail "completion commands '$got' differ from --help's '$want'"
for c in $commands; do
	got=$(complete_words ntpwall "$c" -- | grep -- '^--' | tr '\n' ' ')
	want=$(help_options "$c" | sort | tr '\n' ' ')
	[ "$got" = "$want" ] || fail "completion of 'ntpwall $c --': '$got', --help has '$want'"
	ok
done
got=$(complete_words ntpwall -- | tr '\n' ' ')
want=$(help_options | sort | tr '\n' ' ')
[ "$got" = "$want" ] || fail "completion of global options: '$got', --help has '$want'"
ok

echo "$checks checks, $fails failed"
[ "$fails" -eq 0 ] || exit 1
[ "$groff_missing" -eq 0 ] || { echo "SKIP: groff missing (install groff-base)"; exit 77; }
exit 0
