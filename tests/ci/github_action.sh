#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# action.yml, run the way a GitHub runner runs a composite action: every
# step's `run` and `env` read from action.yml itself (yaml_get), the
# expressions it uses (${{ inputs.* }}, ${{ runner.temp }},
# ${{ github.action_path }}) filled in, each step in `bash -eo pipefail` in
# the workspace, with GITHUB_ACTION_PATH a clean clone of HEAD, as a runner
# checks the action out. Asserted:
# - with every build dependency installed, no apt-get and no sudo run;
# - ntpwall builds from the clone without Check (hidden from pkg-config);
# - a bad policy gives ::error annotations with file, line, col and title,
#   a weak one ::warning, and the step fails; --strict through `strict`;
# - `sarif` writes a SARIF 2.1.0 log (checked with jansson);
# - a pattern that matches nothing fails with an annotation naming it;
# - a missing package is installed with apt-get, through sudo when not root.
# Usage: github_action.sh PATH-TO-lint_json_check PATH-TO-yaml_get
set -u
check=${1:?usage: github_action.sh LINT_JSON_CHECK YAML_GET}
yaml_get=${2:?usage: github_action.sh LINT_JSON_CHECK YAML_GET}
: "${SRCDIR:?source directory}"
. "$SRCDIR/tests/ci/lib.sh"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
chmod 755 "$tmp"
fail=0
ok() { echo "ok: $*"; }
bad() {
	echo "FAIL: $*"
	fail=1
}

ci_clone_head "$tmp/action" || exit $?
ci_hide_check "$tmp/pc"
action=$tmp/action/action.yml

ws=$tmp/workspace
mkdir -p "$ws/policies" "$tmp/runner"
cp "$SRCDIR/policies/lan-server.yaml" "$ws/policies/good.yaml"
cp "$SRCDIR/tests/policies/bad/unknown-key-top.yaml" "$ws/policies/bad.yaml"
cp "$SRCDIR/tests/policies/warn/three-servers.yaml" "$ws/policies/warn.yaml"

# apt-get and sudo that only say they were called: with every package
# present, the action must run neither (CI here is offline-safe).
mkdir "$tmp/stub"
for c in apt-get sudo; do
	printf '#!/bin/sh\necho "%s $*" >>"%s/apt.log"\nexit 1\n' "$c" "$tmp" >"$tmp/stub/$c"
	chmod +x "$tmp/stub/$c"
done

declare -A inputs=()

# input NAME: the value the workflow gives, else action.yml's default.
input() {
	if ! "$yaml_get" "$action" inputs "$1" >/dev/null 2>&1; then
		echo "action.yml uses inputs.$1 but does not declare it" >&2
		return 1
	fi
	if [[ -v inputs[$1] ]]; then
		printf '%s' "${inputs[$1]}"
	else
		"$yaml_get" "$action" inputs "$1" default 2>/dev/null || true
	fi
}

# expand STRING: the ${{ }} expressions of STRING filled in as the runner does.
expand() {
	local s=$1 out='' e v
	while [[ $s == *'${{'* ]]; do
		out+=${s%%'${{'*}
		s=${s#*'${{'}
		e=${s%%'}}'*}
		s=${s#*'}}'}
		e=${e#"${e%%[! ]*}"}
		e=${e%"${e##*[! ]}"}
		case $e in
		runner.temp) v=$tmp/runner ;;
		github.action_path) v=$tmp/action ;;
		github.workspace) v=$ws ;;
		inputs.*) v=$(input "${e#inputs.}") || return 1 ;;
		*) echo "expression '$e' is not emulated by this test" >&2; return 1 ;;
		esac
		out+=$v
	done
	printf '%s' "$out$s"
}

# run_action: every step of action.yml in order; their output in $tmp/out.
# Returns the status of the first step that fails (its name in $failed),
# 99 if the action uses something this emulation does not know.
run_action() {
	local i key run v envs rc
	: >"$tmp/out"
	: >"$tmp/github_path"
	failed=
	for i in $("$yaml_get" "$action" runs steps); do
		for key in $("$yaml_get" "$action" runs steps "$i"); do
			case $key in
			name | shell | run | env) ;;
			*) echo "step $i: '$key' is not emulated by this test" >>"$tmp/out"; return 99 ;;
			esac
		done
		[ "$("$yaml_get" "$action" runs steps "$i" shell)" = bash ] ||
			{ echo "step $i: shell is not bash" >>"$tmp/out"; return 99; }
		run=$(expand "$("$yaml_get" "$action" runs steps "$i" run)" 2>>"$tmp/out") || return 99
		envs=()
		if "$yaml_get" "$action" runs steps "$i" env >/dev/null 2>&1; then
			for key in $("$yaml_get" "$action" runs steps "$i" env); do
				v=$(expand "$("$yaml_get" "$action" runs steps "$i" env "$key")" 2>>"$tmp/out") ||
					return 99
				envs+=("$key=$v")
			done
		fi
		(cd "$ws" && env PATH="$tmp/stub:$PATH" GITHUB_ACTIONS=true \
			GITHUB_ACTION_PATH="$tmp/action" RUNNER_TEMP="$tmp/runner" GITHUB_WORKSPACE="$ws" \
			GITHUB_PATH="$tmp/github_path" "${envs[@]}" \
			bash --noprofile --norc -eo pipefail -c "$run") >>"$tmp/out" 2>&1
		rc=$?
		if [ "$rc" -ne 0 ]; then
			failed=$("$yaml_get" "$action" runs steps "$i" name)
			return "$rc"
		fi
	done
	return 0
}

# lint_failed WANT: the action's status was WANT, from its lint step.
lint_failed() {
	[ "$rc" -eq "$1" ] && [ "$failed" = "Lint policies" ]
}

# has LINE: LINE is a whole line of the action's output.
has() {
	grep -Fxq -- "$1" "$tmp/out" || bad "expected line: $1"
}

# 1. The defaults (policies/*.yaml), with SARIF: the build, then findings.
inputs=([sarif]=ntpwall.sarif)
run_action
rc=$?
if lint_failed 1; then
	ok "findings fail the lint step (exit 1)"
else
	bad "the action exited $rc in step '$failed', expected 1 in 'Lint policies'"
	cat "$tmp/out"
fi
[ ! -e "$tmp/apt.log" ] && ok "no apt-get, no sudo: every package present" ||
	{ bad "apt-get or sudo ran although every package is installed:"; cat "$tmp/apt.log"; }
[ -x "$tmp/runner/ntpwall-build/ntpwall" ] && ok "ntpwall built without Check" ||
	bad "no ntpwall in \$RUNNER_TEMP/ntpwall-build"
[ "$(cat "$tmp/github_path")" = "$tmp/runner/ntpwall-build" ] ||
	bad "the build directory is not on \$GITHUB_PATH for later steps"
has "::error file=policies/bad.yaml,line=3,col=1,title=NW110::unknown key 'upstream' (did you mean 'upstreams'?)"
has "::error file=policies/bad.yaml,line=2,col=1,title=NW112::the policy needs 'upstreams', the servers to trust"
grep -q '^::warning file=policies/warn.yaml,line=5,col=5,title=NW201::3 upstreams' "$tmp/out" ||
	bad "no NW201 warning annotation for policies/warn.yaml"
grep -q 'policies/good.yaml' "$tmp/out" && bad "the clean policy has annotations"
if "$check" sarif "$ws/ntpwall.sarif" >"$tmp/sarif.list" 2>"$tmp/why"; then
	ok "SARIF file parses as SARIF 2.1.0"
	grep -Fxq "policies/bad.yaml:3:1:error:NW110" "$tmp/sarif.list" &&
		grep -Fxq "policies/warn.yaml:5:5:warning:NW201" "$tmp/sarif.list" ||
		{ bad "SARIF results:"; cat "$tmp/sarif.list"; }
else
	bad "ntpwall.sarif is not SARIF 2.1.0: $(cat "$tmp/why")"
fi

# 2. Warnings only: pass, unless strict. No sarif input: no file.
rm -f "$ws/ntpwall.sarif"
inputs=([policies]="policies/good.yaml policies/warn.yaml")
run_action && ok "warnings without strict pass" || bad "warnings without strict failed"
[ ! -e "$ws/ntpwall.sarif" ] || bad "a SARIF file was written without the sarif input"
inputs=([policies]="policies/good.yaml policies/warn.yaml" [strict]=true)
run_action
rc=$?
lint_failed 1 && ok "strict: warnings fail" || bad "strict: warnings did not fail"
inputs=([policies]="policies/good.yaml" [strict]=maybe)
run_action
rc=$?
lint_failed 2 && grep -Fxq "::error title=ntpwall::strict must be true or false, not 'maybe'" "$tmp/out" &&
	ok "strict: a bad value is named" || { bad "strict: maybe was accepted"; cat "$tmp/out"; }

# 3. Directories and ** globs; a pattern that matches nothing is an error.
mkdir -p "$ws/site/a"
cp "$ws/policies/good.yaml" "$ws/site/a/x.yaml"
inputs=([policies]="site/**/*.yaml policies/good.yaml")
run_action && ok "a ** glob" || { bad "a ** glob failed"; cat "$tmp/out"; }
inputs=([policies]="policies")
run_action
rc=$?
lint_failed 1 && grep -q '^::error file=policies/bad.yaml,' "$tmp/out" &&
	ok "a directory" || { bad "a directory input"; cat "$tmp/out"; }
inputs=([policies]="policies/good.yaml nope/*.yaml")
run_action
rc=$?
lint_failed 2 && grep -Fxq "::error title=ntpwall::no policy file matches 'nope/*.yaml'" "$tmp/out" &&
	ok "a pattern that matches nothing is named" || { bad "an empty pattern"; cat "$tmp/out"; }

# 4. A missing package: apt-get installs it (and only it), through sudo
# when not root. dpkg-query pretends libjansson-dev is missing; apt-get and
# sudo only log.
mkdir -m 777 "$tmp/stub2" "$tmp/log2"
printf '#!/bin/sh\ncase "$*" in *libjansson-dev*) exit 1 ;; esac\nexec /usr/bin/dpkg-query "$@"\n' \
	>"$tmp/stub2/dpkg-query"
printf '#!/bin/sh\necho "apt-get $*" >>"%s/log2/apt.log"\n' "$tmp" >"$tmp/stub2/apt-get"
printf '#!/bin/sh\necho "sudo $*" >>"%s/log2/apt.log"\n' "$tmp" >"$tmp/stub2/sudo"
chmod 755 "$tmp/stub2"/*
PATH="$tmp/stub2:$PATH" bash "$tmp/action/contrib/ci/ntpwall-ci.sh" deps >"$tmp/out" 2>&1
printf 'apt-get update -qq\napt-get install -y -qq --no-install-recommends libjansson-dev\n' >"$tmp/want"
cmp -s "$tmp/want" "$tmp/log2/apt.log" && ok "root: apt-get installs just the missing package" ||
	{ bad "root: apt-get calls:"; cat "$tmp/log2/apt.log" "$tmp/out"; }
rm -f "$tmp/log2/apt.log"
chmod -R a+rX "$tmp/action"
if setpriv --reuid=65534 --regid=65534 --clear-groups \
	env PATH="$tmp/stub2:$PATH" bash "$tmp/action/contrib/ci/ntpwall-ci.sh" deps >"$tmp/out" 2>&1; then
	printf 'sudo apt-get update -qq\nsudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libjansson-dev\n' >"$tmp/want"
	cmp -s "$tmp/want" "$tmp/log2/apt.log" && ok "not root: through sudo" ||
		{ bad "not root: calls:"; cat "$tmp/log2/apt.log" "$tmp/out"; }
else
	bad "not root: deps failed:"
	cat "$tmp/out"
fi

[ "$fail" -eq 0 ] && echo "the GitHub action works as action.yml says"
exit $fail
