#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# .pre-commit-hooks.yaml through the real pre-commit framework (Debian's
# pre-commit package): a throwaway git repository whose
# .pre-commit-config.yaml takes the ntpwall-lint hook from a clean clone of
# HEAD (repo: file://..., rev: its commit), `pre-commit install`, then real
# `git commit`s. Everything runs inside `unshare -n`, a network namespace
# with no interface up, so the hook provably needs no network. The ntpwall
# under test is put on PATH, as language: system expects. Asserted:
# - a bad policy is refused, the finding shown; a weak one too (--strict);
# - a good policy commits; YAML outside policies/ is not linted;
# - a `files:` override in the config picks other paths.
set -u
: "${NTPWALL:?path of the ntpwall binary}"
: "${SRCDIR:?source directory}"

skip() {
	if [ "${NTPWALL_REQUIRE_NETNS:-0}" = 1 ]; then
		echo "FAIL: $1 (NTPWALL_REQUIRE_NETNS=1)"
		exit 1
	fi
	echo "SKIP: $1"
	exit 77
}

command -v pre-commit >/dev/null || { echo "FAIL: pre-commit is not installed (contrib/bootstrap installs it)"; exit 1; }
if [ "${1:-}" != --inside ]; then
	[ "$(id -u)" = 0 ] || skip "not root"
	unshare -n true 2>/dev/null || skip "cannot create a network namespace"
	exec unshare -n sh "$0" --inside
fi

. "$SRCDIR/tests/ci/lib.sh"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
fail=0
ok() { echo "ok: $*"; }
bad() {
	echo "FAIL: $*"
	fail=1
}

ci_clone_head "$tmp/ntpwall" || exit $?
rev=$(git -C "$tmp/ntpwall" rev-parse HEAD)
PATH=$(dirname "$NTPWALL"):$PATH
PRE_COMMIT_HOME=$tmp/pre-commit-home
GIT_CONFIG_GLOBAL=/dev/null
GIT_CONFIG_NOSYSTEM=1
export PATH PRE_COMMIT_HOME GIT_CONFIG_GLOBAL GIT_CONFIG_NOSYSTEM

repo=$tmp/site
git init -q "$repo"
git -C "$repo" config user.name test
git -C "$repo" config user.email test@example.org
config() {
	cat >"$repo/.pre-commit-config.yaml" <<EOF
repos:
  - repo: file://$tmp/ntpwall
    rev: $rev
    hooks:
      - id: ntpwall-lint
$1
EOF
}
config ""
git -C "$repo" add .pre-commit-config.yaml
git -C "$repo" commit -q -m "pre-commit config" || { echo "FAIL: first commit"; exit 1; }
(cd "$repo" && pre-commit install) >"$tmp/out" 2>&1 || { bad "pre-commit install:"; cat "$tmp/out"; exit 1; }

# commit WANT FILE SOURCE: stage SOURCE as FILE and commit; WANT is ok or refused.
commit() {
	mkdir -p "$repo/$(dirname "$2")"
	cp "$3" "$repo/$2"
	git -C "$repo" add "$2"
	if (cd "$repo" && git commit -q -m "add $2") >"$tmp/out" 2>&1; then
		got=ok
	else
		got=refused
	fi
	if [ "$got" = "$1" ]; then
		ok "$2: commit $got"
	else
		bad "$2: commit $got, expected $1:"
		cat "$tmp/out"
	fi
	# Leave nothing staged, and no bad policy committed, for the next case.
	if [ "$got" = refused ]; then
		git -C "$repo" rm -q --cached -f "$2"
		rm -f "$repo/$2"
	elif [ "$1" = refused ]; then
		git -C "$repo" reset -q --hard HEAD~1
	fi
	return 0
}

commit refused policies/bad.yaml "$SRCDIR/tests/policies/bad/unknown-key-top.yaml"
grep -Fq "policies/bad.yaml:3:1: error: unknown key 'upstream' [NW110]" "$tmp/out" &&
	grep -q '^ntpwall lint.*Failed' "$tmp/out" && ok "the finding is shown" ||
	{ bad "the finding is not in the hook's output:"; cat "$tmp/out"; }
commit refused policies/weak.yaml "$SRCDIR/tests/policies/warn/three-servers.yaml"
grep -q 'NW201' "$tmp/out" || bad "the warning is not shown"
commit ok policies/lan-server.yaml "$SRCDIR/policies/lan-server.yaml"
grep -q '^ntpwall lint.*Passed' "$tmp/out" || { bad "the hook did not run on a good policy:"; cat "$tmp/out"; }
commit ok sub/policies/pool.yml "$SRCDIR/policies/client-uk-pool.yaml"
grep -q '^ntpwall lint.*Passed' "$tmp/out" || bad "the hook did not run on sub/policies/pool.yml"
commit ok docs/example.yaml "$SRCDIR/tests/policies/bad/unknown-key-top.yaml"
grep -q '^ntpwall lint.*Skipped' "$tmp/out" || { bad "a file outside policies/ was linted:"; cat "$tmp/out"; }

# files: overridden in the project's config.
config '        files: ^ntp/.*\.yaml$'
git -C "$repo" add .pre-commit-config.yaml
git -C "$repo" commit -q -m "ntp/ holds the policies" >"$tmp/out" 2>&1 || { bad "config commit:"; cat "$tmp/out"; }
commit refused ntp/bad.yaml "$SRCDIR/tests/policies/bad/unknown-key-top.yaml"
grep -Fq "ntp/bad.yaml:3:1: error: unknown key 'upstream' [NW110]" "$tmp/out" ||
	bad "files: override: the finding is not shown"

[ "$fail" -eq 0 ] && echo "the pre-commit hook works as .pre-commit-hooks.yaml says"
exit $fail
