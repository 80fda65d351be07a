#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# contrib/ci/gitlab-lint.yml, run the way a GitLab runner runs the job on
# this Debian 12 machine (the job's image): its variables exported, its
# before_script and script lines, read from the file with yaml_get, run in
# one `bash -eo pipefail` in the project directory. NTPWALL_REPO and
# NTPWALL_REF are set as a project would set them, to a clean clone of
# HEAD with a tag; apt-get only logs (every package is present here).
# Asserted:
# - the job installs git and ca-certificates, clones the tag and builds
#   ntpwall without Check, with no apt-get for the build dependencies;
# - the Code Quality report the job publishes (artifacts:reports:codequality,
#   when: always) is there and valid (lint_json_check codeclimate), with the
#   bad policy's errors as critical issues;
# - the job fails on errors, and on warnings (NTPWALL_LINT_ARGS=--strict);
#   a clean policy passes with an empty report.
# Usage: gitlab_job.sh PATH-TO-lint_json_check PATH-TO-yaml_get
set -u
check=${1:?usage: gitlab_job.sh LINT_JSON_CHECK YAML_GET}
yaml_get=${2:?usage: gitlab_job.sh LINT_JSON_CHECK YAML_GET}
: "${SRCDIR:?source directory}"
. "$SRCDIR/tests/ci/lib.sh"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
fail=0
ok() { echo "ok: $*"; }
bad() {
	echo "FAIL: $*"
	fail=1
}
job=$SRCDIR/contrib/ci/gitlab-lint.yml
name=ntpwall-lint

ci_clone_head "$tmp/origin" || exit $?
git -C "$tmp/origin" tag ntpwall-ci-test
ci_hide_check "$tmp/pc"

# get KEY...: a node of the job; fails the test when it is not there.
get() {
	"$yaml_get" "$job" "$name" "$@" 2>"$tmp/why" || { bad "$(cat "$tmp/why")"; return 1; }
}
[ "$(get image)" = debian:12 ] && ok "image debian:12" || bad "the job's image is not debian:12"
[ "$(get artifacts when)" = always ] && ok "artifacts when: always" ||
	bad "the report is not kept when the job fails (artifacts: when: always)"
report=$(get artifacts reports codequality) && [ -n "$report" ] && ok "codequality report: $report" ||
	{ bad "no artifacts:reports:codequality"; exit 1; }

mkdir "$tmp/stub"
printf '#!/bin/sh\necho "apt-get $*" >>"%s/apt.log"\n' "$tmp" >"$tmp/stub/apt-get"
chmod +x "$tmp/stub/apt-get"

# script SECTION...: the lines of the job's sections, one after another.
script() {
	local s i
	for s; do
		for i in $(get "$s"); do
			get "$s" "$i"
		done
	done
}
# run_job DIR SECTION...: the sections in DIR with the job's variables (the
# project's NTPWALL_REPO and NTPWALL_REF). Output in $tmp/log, status in rc.
run_job() {
	local dir=$1 k vars=()
	shift
	for k in $(get variables); do
		vars+=("$k=$(get variables "$k")")
	done
	vars+=("NTPWALL_REPO=file://$tmp/origin" "NTPWALL_REF=ntpwall-ci-test")
	script "$@" >"$tmp/job.sh"
	(cd "$dir" && env PATH="$tmp/stub:$PATH" CI=true GITLAB_CI=true CI_PROJECT_DIR="$dir" "${vars[@]}" \
		bash --noprofile --norc -eo pipefail "$tmp/job.sh") >"$tmp/log" 2>&1
	rc=$?
}

project() {
	mkdir -p "$tmp/$1/policies"
	shift
	for f; do
		cp "$f" "$tmp/$p/policies/"
	done
}

# 1. The whole job: a bad, a weak and a clean policy.
p=p1
project $p "$SRCDIR/tests/policies/bad/unknown-key-top.yaml" \
	"$SRCDIR/tests/policies/warn/three-servers.yaml" "$SRCDIR/policies/lan-server.yaml"
run_job "$tmp/$p" before_script script
[ "$rc" -eq 1 ] && ok "errors fail the job (exit 1)" || { bad "the job exited $rc, expected 1"; cat "$tmp/log"; }
printf 'apt-get update -qq\napt-get install -y -qq --no-install-recommends git ca-certificates\n' >"$tmp/want"
cmp -s "$tmp/want" "$tmp/apt.log" && ok "apt-get only for git and ca-certificates" ||
	{ bad "apt-get calls:"; cat "$tmp/apt.log"; }
ntpwall=$tmp/$p/.ntpwall-build/ntpwall
[ -x "$ntpwall" ] && ok "ntpwall built from the tag without Check" || bad "no ntpwall built"
grep -Fxq "policies/unknown-key-top.yaml:3:1: error: unknown key 'upstream' [NW110]" "$tmp/log" &&
	ok "the text report is in the job log" || { bad "no text report in the log:"; cat "$tmp/log"; }
if "$check" codeclimate "$tmp/$p/$report" >"$tmp/issues" 2>"$tmp/why"; then
	ok "$report is a Code Quality report"
	grep -Eq '^policies/unknown-key-top.yaml:3:critical:NW110:[0-9a-f]{16}$' "$tmp/issues" &&
		grep -Eq '^policies/three-servers.yaml:5:minor:NW201:' "$tmp/issues" &&
		[ "$(wc -l <"$tmp/issues")" -eq 3 ] && ok "with the expected issues" ||
		{ bad "issues:"; cat "$tmp/issues"; }
else
	bad "$report: $(cat "$tmp/why")"
fi

# 2. The job's script alone, with the ntpwall just built: a weak policy
# fails (--strict), a clean one passes with an empty report.
PATH=$(dirname "$ntpwall"):$PATH
export PATH
p=p2
project $p "$SRCDIR/tests/policies/warn/three-servers.yaml"
run_job "$tmp/$p" script
[ "$rc" -eq 1 ] && ok "warnings fail the job (--strict)" || { bad "warnings: exit $rc"; cat "$tmp/log"; }
"$check" codeclimate "$tmp/$p/$report" >"$tmp/issues" && [ "$(wc -l <"$tmp/issues")" -eq 1 ] ||
	bad "warnings: the report does not hold the one warning"
p=p3
project $p "$SRCDIR/policies/lan-server.yaml" "$SRCDIR/policies/client-uk-pool.yaml"
run_job "$tmp/$p" script
[ "$rc" -eq 0 ] && [ "$(cat "$tmp/$p/$report")" = "[]" ] && ok "clean policies pass, empty report" ||
	{ bad "clean policies: exit $rc"; cat "$tmp/log" "$tmp/$p/$report"; }

[ "$fail" -eq 0 ] && echo "the GitLab job works as gitlab-lint.yml says"
exit $fail
