#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The .deb on a fresh Debian 12 machine: a throwaway root made by debootstrap
# (tests/package/root.sh: cached, so a warm run needs no network), the .deb
# installed with apt inside it, which resolves its dependencies from the
# archive; then `ntpwall --version`, `man ntpwall`, `man ntpwall-policy`,
# `ntpwall lint` of the shipped example, `systemd-analyze verify` of every
# unit (which can fail there: checked); the _ntpwall system user, /var/lib/ntpwall
# 0700, no unit enabled, no table made. With a wall applied in the root:
# reinstalling (an upgrade) leaves it, `apt remove` takes it down with a
# message, `apt purge` deletes the state and the user, and the root is as
# it was before the install but the administrator's own policy.
#
# Runs in a private mount namespace (the root on a tmpfs goes with it);
# everything after the download, the install included, runs in a private
# network namespace with only loopback: no maintainer script and no
# command of the test can touch this machine's firewall or reach the
# network. Needs debootstrap, zstd, dpkg-buildpackage, debhelper, git,
# unshare, nsenter and nft on this machine, and the Debian archive when the
# cache in ~/.cache/ntpwall/debian-root is empty or too old.
# Exit 77 (skip) without namespaces, or with neither a cached root nor the
# archive; both fail instead under NTPWALL_REQUIRE_NETNS=1 (.ci/run), as
# CI must run this test.
set -u
: "${SRCDIR:?}" "${BUILDDIR:?}"

skip() {
	echo "install.sh: $*"
	[ "${NTPWALL_REQUIRE_NETNS:-0}" = 1 ] && exit 1
	exit 77
}
if [ -z "${PKG_IN_MOUNTNS:-}" ]; then
	unshare -m -n true 2>/dev/null || skip "cannot create mount and network namespaces"
	for tool in debootstrap zstd dpkg-buildpackage dh git nsenter nft; do
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

T=$(mktemp -d /tmp/ntpwall-pkg-install.XXXXXX) || exit 1
R=$T/root
NETPID=
cleanup() {
	[ -n "$NETPID" ] && kill "$NETPID" 2>/dev/null
	pkg_kill_root "$R"
	umount -R "$R" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
t0=$(date +%s)
phase() { pkg_log "$* (+$(($(date +%s) - t0)) s)"; }

deb=$(pkg_deb) || { fail "building the package (log: $PKG_OUT/build.log)"; exit 1; }
phase "package $(basename "$deb")"
rc=0
pkg_root "$R" || rc=$?
[ $rc = 77 ] && skip "no cached Debian root and the archive cannot be reached"
[ $rc = 0 ] || { fail "making the Debian root"; exit 1; }
phase "root unpacked"
rc=0
pkg_fetch_deps "$R" "$deb" || rc=$?
[ $rc = 77 ] && skip "the Debian archive cannot be reached for the package's dependencies"
[ $rc = 0 ] || { fail "downloading the package's dependencies in the root"; exit 1; }
phase "dependencies in the root's apt cache"
pkg_mounts "$R" || { fail "mounting /proc and /run in the root"; exit 1; }

# From here on, a network namespace with only loopback (held by a sleeper).
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
# A command in the root, in that namespace, with a clean environment.
inroot() {
	innet chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 HOME=/root TERM=dumb "$@"
}
tables() { innet nft list tables 2>&1; }
# What the root holds, but apt's and dpkg's bookkeeping, logs and caches.
snapshot() {
	(cd "$R" && find . -xdev \( -path ./proc -o -path ./run -o -path ./tmp -o -path ./var/cache \
		-o -path ./var/log -o -path ./var/lib/apt -o -path ./var/lib/dpkg \) -prune \
		-o -printf '%p %m %u:%g\n' | grep -vE '^\./etc/(passwd|group|shadow|gshadow)- ' | sort
	cd "$R" && sha256sum etc/passwd etc/group etc/shadow etc/gshadow)
}
snapshot >"$T/before"

# 1. Install with apt, offline: the dependencies come from the cache.
if inroot apt-get install -y -q "/tmp/$(basename "$deb")" >"$T/install.log" 2>&1; then
	ok "apt-get install of the .deb in a fresh Debian 12 root"
else
	sed 's/^/  /' "$T/install.log"
	fail "apt-get install"
	exit 1
fi
phase "installed"
inroot dpkg-query -W -f='${Status}\n' ntpwall | grep -qx 'install ok installed' || fail "ntpwall is not installed"

# 2. The binary, the man pages, the example, the units.
version=$(meson introspect --projectinfo "$BUILDDIR" | jq -r .version)
out=$(inroot ntpwall --version 2>&1)
[ "$out" = "ntpwall $version" ] && ok "ntpwall --version: $out" || fail "ntpwall --version: '$out', not 'ntpwall $version'"
[ "$(inroot sh -c 'command -v ntpwall')" = /usr/sbin/ntpwall ] || fail "ntpwall is not /usr/sbin/ntpwall on PATH"
for page in 8:ntpwall 5:ntpwall-policy; do
	inroot man -P cat "${page%%:*}" "${page#*:}" >"$T/man" 2>"$T/man.err"
	if grep -q '^NAME' "$T/man" && grep -q "${page#*:}" "$T/man" && ! grep -q . "$T/man.err"; then
		ok "man ${page%%:*} ${page#*:}: $(wc -l <"$T/man") lines"
	else
		fail "man ${page%%:*} ${page#*:}: $(head -n 3 "$T/man.err")"
	fi
done
if inroot ntpwall lint /etc/ntpwall/policy.yaml.example >"$T/lint" 2>&1; then
	ok "ntpwall lint /etc/ntpwall/policy.yaml.example"
else
	sed 's/^/  /' "$T/lint"
	fail "ntpwall lint of the shipped example"
fi
units=$(cd "$R/lib/systemd/system" && ls ntpwall*.service ntpwall*.timer)
[ -n "$units" ] || fail "no unit installed"
paths=()
for u in $units; do paths+=("/lib/systemd/system/$u"); done
inroot systemd-analyze verify "${paths[@]}" >"$T/verify" 2>&1
if [ -s "$T/verify" ]; then
	sed 's/^/  /' "$T/verify"
	fail "systemd-analyze verify of the installed units"
else
	ok "systemd-analyze verify: $(printf '%s ' $units)"
fi
# verify can fail here: a unit running a missing binary is reported.
sed 's#^ExecStart=/usr/sbin/ntpwall#ExecStart=/usr/sbin/ntpwall-missing#' \
	"$R/lib/systemd/system/ntpwall.service" >"$R/tmp/ntpwall-broken.service"
inroot systemd-analyze verify /tmp/ntpwall-broken.service 2>&1 | grep -q 'ntpwall-missing' ||
	fail "systemd-analyze verify in the root does not report a missing binary"
rm -f "$R/tmp/ntpwall-broken.service"
# PID 1 in the root is not systemd: systemctl offline (--root; `systemctl
# cat` has no offline mode), on the root's files.
before=$fails
for u in $units; do
	# static: no [Install] section (the refresh service, started by its
	# timer).
	state=$(inroot systemctl --root=/ is-enabled "$u" 2>&1)
	case $state in disabled | static) ;; *) fail "$u is $state after the install" ;; esac
done
[ $fails = "$before" ] && ok "no unit enabled (systemctl --root=/ is-enabled)"

# 3. The user, the state directory; the firewall untouched.
pw=$(inroot getent passwd _ntpwall)
case $pw in
_ntpwall:x:[1-9]*:*:/nonexistent:/usr/sbin/nologin)
	uid=$(echo "$pw" | cut -d: -f3)
	[ "$uid" -lt 1000 ] && ok "_ntpwall is a system user ($pw)" || fail "_ntpwall has uid $uid" ;;
*) fail "_ntpwall: '$pw'" ;;
esac
[ "$(stat -c '%a %U' "$R/var/lib/ntpwall" 2>&1)" = "700 root" ] && ok "/var/lib/ntpwall is 0700 root" ||
	fail "/var/lib/ntpwall: $(stat -c '%a %U' "$R/var/lib/ntpwall" 2>&1)"
[ -z "$(tables)" ] && ok "installing made no table" || fail "a table after the install: $(tables)"
[ ! -e "$R/etc/ntpwall/policy.yaml" ] || fail "the package made /etc/ntpwall/policy.yaml"
phase "checked"

# 4. A wall applied in the root survives an upgrade; apt remove takes it
# down and says so; the generations stay until the purge.
cat >"$R/etc/ntpwall/policy.yaml" <<'EOF'
# The administrator's: literal addresses, no daemon file.
version: 1
table: ntpwall_pkgtest
upstreams:
  - server: 192.0.2.1
  - server: 192.0.2.2
  - server: 192.0.2.3
  - server: 192.0.2.4
EOF
inroot ntpwall apply /etc/ntpwall/policy.yaml >"$T/apply" 2>&1 ||
	{ sed 's/^/  /' "$T/apply"; fail "ntpwall apply in the root"; }
tables | grep -qx 'table inet ntpwall_pkgtest' || fail "no table after apply: $(tables)"
inroot apt-get install -y -q --reinstall "/tmp/$(basename "$deb")" >"$T/reinstall" 2>&1 ||
	{ sed 's/^/  /' "$T/reinstall"; fail "apt-get install --reinstall"; }
if tables | grep -qx 'table inet ntpwall_pkgtest'; then
	ok "reinstalling (prerm upgrade) leaves the wall"
else
	fail "the wall went with a reinstall: $(tables)"
fi
inroot apt-get remove -y -q ntpwall >"$T/remove" 2>&1 || { sed 's/^/  /' "$T/remove"; fail "apt-get remove"; }
if grep -q 'ntpwall: removing the NTP firewall (table inet ntpwall_pkgtest)' "$T/remove" &&
	[ -z "$(tables)" ]; then
	ok "apt remove took the wall down: $(grep 'ntpwall: removing' "$T/remove")"
else
	sed 's/^/  /' "$T/remove"
	fail "apt remove: the message, or no table left ($(tables))"
fi
[ -d "$R/var/lib/ntpwall" ] || fail "apt remove deleted the state directory"
inroot getent passwd _ntpwall >/dev/null || fail "apt remove deleted the user"
inroot dpkg-query -W -f='${Status}\n' ntpwall | grep -qx 'deinstall ok config-files' ||
	fail "ntpwall is not in config-files state after remove"

# 5. Purge: the state, the user and the example go; the administrator's
# policy stays (dpkg says so); nothing else is left.
inroot apt-get purge -y -q ntpwall >"$T/purge" 2>&1 || { sed 's/^/  /' "$T/purge"; fail "apt-get purge"; }
inroot apt-get autoremove --purge -y -q >>"$T/purge" 2>&1 || fail "apt-get autoremove --purge"
phase "purged"
[ -e "$R/var/lib/ntpwall" ] && fail "purge left /var/lib/ntpwall"
inroot getent passwd _ntpwall && fail "purge left the _ntpwall user"
inroot getent group _ntpwall && fail "purge left the _ntpwall group"
[ -e "$R/etc/ntpwall/policy.yaml.example" ] && fail "purge left the example (a conffile)"
[ -f "$R/etc/ntpwall/policy.yaml" ] || fail "purge deleted the administrator's policy"
rm -f "$R/etc/ntpwall/policy.yaml"
rmdir "$R/etc/ntpwall" 2>/dev/null
inroot dpkg-query -W ntpwall >/dev/null 2>&1 && fail "dpkg still knows ntpwall after the purge"
snapshot >"$T/after"
if diff -u "$T/before" "$T/after" >"$T/diff"; then
	ok "apt purge left the root as before the install (but the administrator's policy)"
else
	sed 's/^/  /' "$T/diff"
	fail "apt purge left something behind"
fi
phase "done"

[ $fails = 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "the package installs, works and purges on a fresh Debian 12 root"
