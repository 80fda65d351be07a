#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The Ansible role against a fresh Debian 12 root (tests/package/root.sh),
# through the community.general.chroot connection of Debian's ansible, with
# the package installed by the role from the .deb (ntpwall_deb): check mode
# first (the .deb and the policy reported, nothing installed, no table),
# then apply mode (the package installed by apt with its dependencies, the
# policy written through the installed ntpwall lint, the wall applied with
# --confirm and confirmed: status in sync in the root), then apply and check
# mode again with changed=0. The units are not enabled (PID 1 in the root
# is not systemd: ntpwall_units is empty). Runs offline in private mount and
# network namespaces, like package-install; exit 77 as that test does.
# Needs $SRCDIR, $BUILDDIR, ansible-playbook and what package-install needs.
set -u
: "${SRCDIR:?}" "${BUILDDIR:?}"

skip() {
	echo "ansible_chroot.sh: $*"
	[ "${NTPWALL_REQUIRE_NETNS:-0}" = 1 ] && exit 1
	exit 77
}
if [ -z "${PKG_IN_MOUNTNS:-}" ]; then
	unshare -m -n true 2>/dev/null || skip "cannot create mount and network namespaces"
	for tool in ansible-playbook debootstrap zstd dpkg-buildpackage dh git nsenter nft; do
		command -v $tool >/dev/null || { echo "FAIL: $tool is not installed (contrib/bootstrap)"; exit 1; }
	done
	PKG_IN_MOUNTNS=1 exec unshare -m bash "$0" "$@"
fi
mount --make-rprivate /

fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
# shellcheck source=tests/package/lib.sh
. "$SRCDIR/tests/package/lib.sh"
# shellcheck source=tests/package/root.sh
. "$SRCDIR/tests/package/root.sh"

T=$(mktemp -d /tmp/ntpwall-ansible-chroot.XXXXXX) || exit 1
R=$T/root
NETPID=
cleanup() {
	[ -n "$NETPID" ] && kill "$NETPID" 2>/dev/null
	pkg_kill_root "$R"
	umount -R "$R" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

deb=$(pkg_deb) || { fail "building the package (log: $PKG_OUT/build.log)"; exit 1; }
rc=0
pkg_root "$R" || rc=$?
[ $rc = 77 ] && skip "no cached Debian root and the archive cannot be reached"
[ $rc = 0 ] || { fail "making the Debian root"; exit 1; }
rc=0
pkg_fetch_deps "$R" "$deb" || rc=$?
[ $rc = 77 ] && skip "the Debian archive cannot be reached for the package's dependencies"
[ $rc = 0 ] || { fail "downloading the package's dependencies in the root"; exit 1; }
rm -f "$R/tmp/$(basename "$deb")"
pkg_mounts "$R" || { fail "mounting /proc and /run in the root"; exit 1; }

unshare -n sleep 3600 &
NETPID=$!
for _ in $(seq 50); do
	[ "$(readlink /proc/$NETPID/ns/net)" != "$(readlink /proc/self/ns/net)" ] && break
	sleep 0.1
done
[ "$(readlink /proc/$NETPID/ns/net)" != "$(readlink /proc/self/ns/net)" ] ||
	{ fail "no private network namespace"; exit 1; }
innet() { nsenter --net=/proc/$NETPID/ns/net "$@"; }
innet ip link set lo up
inroot() { innet chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"; }
elements() { innet nft list set inet ntpwall_chroot upstreams4 2>/dev/null | tr -s ' \t\n' ' ' | sed 's/.*elements = { \([^}]*\) }.*/\1/'; }

export HOME=$T/home ANSIBLE_HOME=$T/home/.ansible ANSIBLE_LOCAL_TEMP=$T/home/tmp \
	ANSIBLE_REMOTE_TEMP=/tmp/ansible ANSIBLE_ROLES_PATH=$SRCDIR/contrib/ansible/roles \
	ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3
mkdir -p "$HOME"
cat >"$T/site.yml" <<'EOF'
- hosts: all
  connection: community.general.chroot
  gather_facts: false
  roles: [ntpwall]
EOF
cat >"$T/vars.yml" <<EOF
ntpwall_deb: $deb
ntpwall_units: []
ntpwall_confirm_seconds: 60
ntpwall_policy:
  table: ntpwall_chroot
  upstreams:
    - server: 192.0.2.1
    - server: 192.0.2.2
    - server: 192.0.2.3
    - server: 192.0.2.4
EOF
play() {
	local name=$1
	shift
	innet ansible-playbook -i "$R," -e "@$T/vars.yml" "$@" "$T/site.yml" >"$T/$name.out" 2>&1
	PLAYRC=$?
	CHANGED=$(sed -n 's/^[^ ]* *:.* changed=\([0-9]*\).*/\1/p' "$T/$name.out")
	FAILED=$(sed -n 's/^[^ ]* *:.* failed=\([0-9]*\).*/\1/p' "$T/$name.out")
	[ -n "$CHANGED" ] || { CHANGED=x FAILED=x; }
}
show() { sed 's/^/  /' "$T/$1.out"; }

# 1. Check mode on the fresh root: nothing installed, nothing written.
play check1 --check --diff
if [ "$PLAYRC" = 0 ] && [ "$FAILED" = 0 ] && [ "$CHANGED" -ge 2 ] 2>/dev/null; then
	ok "check mode, fresh root: changed=$CHANGED"
else
	show check1
	fail "check mode, fresh root: rc $PLAYRC, changed=$CHANGED, failed=$FAILED"
fi
inroot dpkg-query -W ntpwall >/dev/null 2>&1 && fail "check mode installed the package"
[ -e "$R/etc/ntpwall/policy.yaml" ] && fail "check mode wrote the policy"
[ -z "$(innet nft list tables)" ] || fail "check mode made a table"

# 2. Apply mode: the package from the .deb, the policy, the wall confirmed.
play apply1
if [ "$PLAYRC" = 0 ] && [ "$FAILED" = 0 ] && [ "$CHANGED" -ge 4 ] 2>/dev/null; then
	ok "apply mode, fresh root: changed=$CHANGED"
else
	show apply1
	fail "apply mode, fresh root: rc $PLAYRC, changed=$CHANGED, failed=$FAILED"
fi
inroot dpkg-query -W -f='${Status}\n' ntpwall 2>&1 | grep -qx 'install ok installed' ||
	fail "the role did not install the package"
inroot ntpwall lint /etc/ntpwall/policy.yaml >/dev/null 2>&1 || fail "no policy that lints in the root"
[ "$(elements)" = "192.0.2.1, 192.0.2.2, 192.0.2.3, 192.0.2.4" ] || fail "the wall: '$(elements)'"
inroot ntpwall status >"$T/status" 2>&1
rc=$?
if [ $rc = 0 ] && grep -q '^table inet ntpwall_chroot: in-sync$' "$T/status"; then
	ok "the package installed by the role, the wall in sync and confirmed"
else
	sed 's/^/  /' "$T/status"
	fail "ntpwall status in the root: exit $rc"
fi

# 3. Again, in apply mode and in check mode: nothing to change.
for mode in apply2 check2; do
	if [ $mode = check2 ]; then play $mode --check --diff; else play $mode; fi
	if [ "$PLAYRC" = 0 ] && [ "$FAILED" = 0 ] && [ "$CHANGED" = 0 ]; then
		ok "$mode: changed=0"
	else
		show $mode
		fail "$mode: rc $PLAYRC, changed=$CHANGED, failed=$FAILED"
	fi
done

[ $fails = 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "the role installs the package and applies the policy in a fresh Debian 12 root"
