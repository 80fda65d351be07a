#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# action.yml and the sample workflow contrib/ci/github-lint.yml against
# GitHub's schemas, offline, with @action-validator/cli (pinned, from npm,
# installed once by tests/ci/npm_tools.sh; the test fails when it cannot be
# installed). Each file is also broken on purpose once, to show that the
# validator checks that kind of file. Then what no schema knows: the
# workflow gives the action only inputs action.yml declares, and uploads the
# SARIF file the action writes; and README's CI section shows the shipped
# files as they are.
# Usage: validate.sh PATH-TO-yaml_get
set -u
yaml_get=${1:?usage: validate.sh YAML_GET}
: "${SRCDIR:?source directory}"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
fail=0
ok() { echo "ok: $*"; }
bad() {
	echo "FAIL: $*"
	fail=1
}

tools=$(sh "$SRCDIR/tests/ci/npm_tools.sh") || { echo "FAIL: cannot install @action-validator/cli with npm"; exit 1; }
validator=$tools/node_modules/.bin/action-validator
action=$SRCDIR/action.yml
workflow=$SRCDIR/contrib/ci/github-lint.yml

# valid FILE: the validator accepts it (it tells an action from a workflow
# by the name: action.yml or action.yaml is an action).
valid() {
	"$validator" "$1" >"$tmp/out" 2>&1
}

valid "$action" && ok "action.yml is a valid action" || { bad "action.yml:"; cat "$tmp/out"; }
valid "$workflow" && ok "github-lint.yml is a valid workflow" || { bad "github-lint.yml:"; cat "$tmp/out"; }

# A composite step without `shell` is not an action; `runs-on` misspelled
# is not a workflow.
mkdir "$tmp/broken"
grep -v '^      shell: bash$' "$action" >"$tmp/broken/action.yml"
valid "$tmp/broken/action.yml" && bad "the validator accepts a composite step without shell"
sed 's/runs-on:/runs_on:/' "$workflow" >"$tmp/broken/workflow.yml"
valid "$tmp/broken/workflow.yml" && bad "the validator accepts a job without runs-on"

# The workflow's ntpwall step: its inputs exist, its SARIF is uploaded.
steps=$("$yaml_get" "$workflow" jobs lint steps) || { bad "no jobs.lint.steps"; exit 1; }
nw='' up=''
for i in $steps; do
	uses=$("$yaml_get" "$workflow" jobs lint steps "$i" uses 2>/dev/null) || continue
	case $uses in
	*/ntpwall@* | ./) nw=$i ;;
	github/codeql-action/upload-sarif@*) up=$i ;;
	esac
done
if [ -z "$nw" ]; then
	bad "github-lint.yml has no step that uses the ntpwall action"
else
	for k in $("$yaml_get" "$workflow" jobs lint steps "$nw" with); do
		"$yaml_get" "$action" inputs "$k" >/dev/null 2>&1 && ok "input '$k' is declared" ||
			bad "github-lint.yml gives input '$k', which action.yml does not declare"
	done
	sarif=$("$yaml_get" "$workflow" jobs lint steps "$nw" with sarif 2>/dev/null)
	if [ -n "$up" ] && [ -n "$sarif" ] &&
	   [ "$("$yaml_get" "$workflow" jobs lint steps "$up" with sarif_file)" = "$sarif" ]; then
		ok "the SARIF file the action writes is the one uploaded"
	else
		bad "github-lint.yml does not upload the SARIF file the action writes"
	fi
fi

# README's snippets, as shipped: the workflow's steps, the GitLab job's
# script and artifacts, the hook's files pattern.
readme=$SRCDIR/README.md
snippet() {
	sed -n "/^$2\$/,\$p" "$1" | while IFS= read -r line; do
		grep -Fxq -- "$line" "$readme" || echo "$line"
	done >"$tmp/missing"
	if [ -s "$tmp/missing" ]; then
		bad "README.md does not show these lines of ${1#"$SRCDIR"/} as shipped:"
		cat "$tmp/missing"
	else
		ok "README.md shows ${1#"$SRCDIR"/} from '$2' on as shipped"
	fi
}
snippet "$workflow" '    steps:'
snippet "$SRCDIR/contrib/ci/gitlab-lint.yml" '  script:'
files=$("$yaml_get" "$SRCDIR/.pre-commit-hooks.yaml" 0 files)
grep -Fq "\`files: $files\`" "$readme" && ok "README.md names the hook's files pattern" ||
	bad "README.md does not name the hook's files pattern $files"

exit $fail
