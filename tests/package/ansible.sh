#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The Ansible role contrib/ansible/roles/ntpwall, played by Debian's
# ansible-playbook on this machine (connection local) in a private network
# namespace, with role variables that skip the package and the units and
# point at the built binary, a temporary state directory and a temporary
# policy path: check mode on a fresh host reports changes and changes
# nothing; apply mode writes the policy (through ntpwall lint), applies it
# with --confirm and confirms (status in sync, nothing pending); the second
# apply and check runs report changed=0; a changed policy in check mode
# shows the new address and changes nothing; a bad policy is refused by
# the template's validate with the wall and the file as they were; a failed
# connectivity check fails the play, puts the previous policy file back and
# the wall reverts at the --confirm deadline.
# Needs $NTPWALL, $SRCDIR, ansible-playbook and nft; exit 77 without
# namespaces (1 under NTPWALL_REQUIRE_NETNS=1).
set -u
: "${NTPWALL:?}" "${SRCDIR:?}"

if [ -z "${ANSIBLE_IN_NETNS:-}" ]; then
	if ! unshare -n -m true 2>/dev/null; then
		echo "ansible.sh: cannot create network and mount namespaces"
		[ "${NTPWALL_REQUIRE_NETNS:-0}" = 1 ] && exit 1
		exit 77
	fi
	for tool in ansible-playbook nft; do
		command -v $tool >/dev/null || { echo "FAIL: $tool is not installed (contrib/bootstrap)"; exit 1; }
	done
	ANSIBLE_IN_NETNS=1 exec unshare -n -m bash "$0" "$@"
fi
mount --make-rprivate /
ip link set lo up

fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
T=$(mktemp -d /tmp/ntpwall-ansible.XXXXXX) || exit 1
S=$T/state
P=$T/etc/policy.yaml
cleanup() {
	# A watchdog left by a failed run reverts nothing outside this
	# namespace; stop it by its pid all the same.
	local w
	w=$(jq -r '.watchdog // empty' "$S/pending-confirm.json" 2>/dev/null)
	[ -n "$w" ] && kill "$w" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

# Ansible's own files stay in $T: this machine's ~/.ansible is not touched.
export HOME=$T/home ANSIBLE_HOME=$T/home/.ansible ANSIBLE_LOCAL_TEMP=$T/home/tmp \
	ANSIBLE_REMOTE_TEMP=$T/home/tmp ANSIBLE_ROLES_PATH=$SRCDIR/contrib/ansible/roles \
	ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_LOCALHOST_WARNING=0 \
	ANSIBLE_INVENTORY_UNPARSED_WARNING=0 ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3
mkdir -p "$HOME"
cat >"$T/site.yml" <<'EOF'
- hosts: localhost
  connection: local
  gather_facts: false
  roles: [ntpwall]
EOF
# The role's variables for this test: no package, no unit, the built
# binary, a temporary state directory and policy path.
vars() {
	cat <<EOF
ntpwall_install: false
ntpwall_units: []
ntpwall_bin: $NTPWALL
ntpwall_state_dir: $S
ntpwall_policy_path: $P
ntpwall_confirm_seconds: ${CONFIRM:-60}
ntpwall_check_command: "${CHECK:-}"
ntpwall_policy:
  table: ntpwall_ansible
  upstreams:
EOF
	for a in $UPSTREAMS; do echo "    - server: $a"; done
}
UPSTREAMS="192.0.2.1 192.0.2.2 192.0.2.3 192.0.2.4"

# play NAME [ansible-playbook options]: runs the play, keeps its output in
# $T/NAME.out and its recap (changed= and failed=) in CHANGED and FAILED.
play() {
	local name=$1
	shift
	vars >"$T/vars.yml"
	ansible-playbook -i localhost, -e "@$T/vars.yml" "$@" "$T/site.yml" >"$T/$name.out" 2>&1
	PLAYRC=$?
	CHANGED=$(sed -n 's/^localhost *:.* changed=\([0-9]*\).*/\1/p' "$T/$name.out")
	FAILED=$(sed -n 's/^localhost *:.* failed=\([0-9]*\).*/\1/p' "$T/$name.out")
	if [ -z "$CHANGED" ]; then
		sed 's/^/  /' "$T/$name.out"
		fail "$name: no recap"
		CHANGED=x FAILED=x
	fi
}
show() { sed 's/^/  /' "$T/$1.out"; }
elements() { nft list set inet ntpwall_ansible upstreams4 2>/dev/null | tr -s ' \t\n' ' ' | sed 's/.*elements = { \([^}]*\) }.*/\1/'; }

ansible-playbook --syntax-check -i localhost, "$T/site.yml" >"$T/syntax" 2>&1 ||
	{ sed 's/^/  /' "$T/syntax"; fail "ansible-playbook --syntax-check"; }

# 1. Check mode on a fresh host: changes reported, nothing changed.
play check1 --check --diff
if [ "$PLAYRC" = 0 ] && [ "$FAILED" = 0 ] && [ "$CHANGED" -ge 2 ] 2>/dev/null &&
	grep -q '+table inet ntpwall_ansible' "$T/check1.out"; then
	ok "check mode, fresh: changed=$CHANGED (the policy file, the diff), the rules shown"
else
	show check1
	fail "check mode, fresh: rc $PLAYRC, changed=$CHANGED, failed=$FAILED"
fi
[ -e "$P" ] && fail "check mode wrote the policy"
[ -e "$S" ] && fail "check mode made the state directory"
nft list tables | grep -q . && fail "check mode made a table: $(nft list tables)"

# 2. Apply: the policy in place, the wall up and confirmed.
play apply1
if [ "$PLAYRC" = 0 ] && [ "$FAILED" = 0 ] && [ "$CHANGED" -ge 3 ] 2>/dev/null; then
	ok "apply mode, fresh: changed=$CHANGED"
else
	show apply1
	fail "apply mode, fresh: rc $PLAYRC, changed=$CHANGED, failed=$FAILED"
fi
grep -q 'TASK \[ntpwall : Confirm the new wall\]' "$T/apply1.out" || fail "apply mode did not confirm"
[ "$(elements)" = "192.0.2.1, 192.0.2.2, 192.0.2.3, 192.0.2.4" ] || fail "the wall after apply: '$(elements)'"
"$NTPWALL" --state-dir "$S" status >"$T/status" 2>&1
rc=$?
if [ $rc = 0 ] && grep -q '^table inet ntpwall_ansible: in-sync$' "$T/status" && ! grep -qi pending "$T/status"; then
	ok "the wall is in sync and confirmed (ntpwall status exit 0)"
else
	sed 's/^/  /' "$T/status"
	fail "ntpwall status exit $rc after the play"
fi
"$NTPWALL" lint "$P" >/dev/null 2>&1 || fail "the policy written does not lint"
others=$(find "$(dirname "$P")" -mindepth 1 ! -name policy.yaml)
[ -z "$others" ] || fail "files left next to the policy: $others"

# 3. Second runs: nothing to change, in apply mode and in check mode.
for mode in apply2 check2; do
	if [ $mode = check2 ]; then play $mode --check --diff; else play $mode; fi
	if [ "$PLAYRC" = 0 ] && [ "$FAILED" = 0 ] && [ "$CHANGED" = 0 ]; then
		ok "$mode: changed=0"
	else
		show $mode
		fail "$mode: rc $PLAYRC, changed=$CHANGED, failed=$FAILED"
	fi
done
generations=$(find "$S" -maxdepth 1 -name 'gen-*.json' | wc -l)

# 4. A changed policy in check mode: the new address shown, nothing changed.
UPSTREAMS="192.0.2.1 192.0.2.2 192.0.2.3 192.0.2.4 192.0.2.5"
cp "$P" "$T/policy.before"
play check3 --check --diff
if [ "$PLAYRC" = 0 ] && [ "$CHANGED" -ge 2 ] 2>/dev/null && grep -q '^+.*192\.0\.2\.5' "$T/check3.out"; then
	ok "check mode, changed policy: changed=$CHANGED, 192.0.2.5 in the diff"
else
	show check3
	fail "check mode, changed policy: rc $PLAYRC, changed=$CHANGED"
fi
cmp -s "$P" "$T/policy.before" || fail "check mode changed the policy file"
[ "$(elements)" = "192.0.2.1, 192.0.2.2, 192.0.2.3, 192.0.2.4" ] || fail "check mode changed the wall: '$(elements)'"

# 5. A policy ntpwall lint refuses: the template's validate fails the play
# before the file is replaced.
UPSTREAMS="192.0.2.1 192.0.2.999"
play bad
if [ "$PLAYRC" != 0 ] && [ "$FAILED" = 1 ] && grep -q 'failed to validate' "$T/bad.out"; then
	ok "a policy lint refuses fails the template's validate"
else
	show bad
	fail "a bad policy: rc $PLAYRC, failed=$FAILED"
fi
cmp -s "$P" "$T/policy.before" || fail "the refused policy replaced the file"
[ "$(elements)" = "192.0.2.1, 192.0.2.2, 192.0.2.3, 192.0.2.4" ] || fail "the refused policy changed the wall"

# 6. The connectivity check fails: the play fails, the previous policy
# file is back, the wall reverts at the deadline (3 s).
UPSTREAMS="192.0.2.1 192.0.2.2 192.0.2.3 192.0.2.4 192.0.2.5" CONFIRM=3 CHECK=/bin/false
play nocheck
UPSTREAMS="192.0.2.1 192.0.2.2 192.0.2.3 192.0.2.4" CONFIRM=60 CHECK=
if [ "$PLAYRC" != 0 ] && [ "$FAILED" = 1 ] && grep -q 'reverts to the previous generation' "$T/nocheck.out"; then
	ok "a failed connectivity check fails the play"
else
	show nocheck
	fail "a failed check: rc $PLAYRC, failed=$FAILED"
fi
cmp -s "$P" "$T/policy.before" || fail "the previous policy file is not back"
others=$(find "$(dirname "$P")" -mindepth 1 ! -name policy.yaml)
[ -z "$others" ] || fail "files left next to the policy: $others"
for _ in $(seq 100); do
	[ "$(elements)" = "192.0.2.1, 192.0.2.2, 192.0.2.3, 192.0.2.4" ] && [ ! -e "$S/pending-confirm.json" ] && break
	sleep 0.2
done
if [ "$(elements)" = "192.0.2.1, 192.0.2.2, 192.0.2.3, 192.0.2.4" ]; then
	ok "the unconfirmed wall reverted at the deadline"
else
	fail "the wall after the deadline: '$(elements)'"
fi
[ "$(find "$S" -maxdepth 1 -name 'gen-*.json' | wc -l)" -gt "$generations" ] || fail "no apply and revert generations recorded"
play apply3
if [ "$PLAYRC" = 0 ] && [ "$CHANGED" = 0 ]; then
	ok "after the revert: changed=0"
else
	show apply3
	fail "after the revert: rc $PLAYRC, changed=$CHANGED"
fi

[ $fails = 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "the role: check and apply mode, twice each, validate and confirm"
