#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The Debian package: `dpkg-buildpackage -us -uc -b` from this source tree
# (into build/package/, shared with package-install and package-ansible),
# then lintian on the .changes with no error and no warning (every
# override in debian/ must carry a comment saying why); its version is
# meson's; it holds /usr/sbin/ntpwall, the man pages, the completion, every
# unit of contrib/systemd (running /usr/sbin/ntpwall, acting only with
# /etc/ntpwall/policy.yaml) and /etc/ntpwall/policy.yaml.example as a
# conffile, and no cron.d file and no policy.yaml; no maintainer script runs
# a command of ntpwall that changes the firewall, but prerm's `remove`.
# The build runs in a copy under /tmp and leaves the source tree as it was
# (checked). Needs dpkg-buildpackage, debhelper, lintian and git
# (contrib/bootstrap installs them); no network.
set -u
: "${SRCDIR:?}" "${BUILDDIR:?}"
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
for tool in dpkg-buildpackage dh lintian git; do
	command -v $tool >/dev/null || { fail "$tool is not installed (contrib/bootstrap)"; exit 1; }
done
# shellcheck source=tests/package/lib.sh
. "$SRCDIR/tests/package/lib.sh"
T=$(mktemp -d /tmp/ntpwall-deb.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT

# The source tree as git sees it, ignored files too, but the build
# directory: the build must leave it as it was (and nothing next to it).
tree_state() {
	(cd "$SRCDIR" && git status --porcelain --ignored --untracked-files=all) |
		grep -vF " $(realpath --relative-to="$SRCDIR" "$BUILDDIR")/"
	ls -d "$SRCDIR"/../ntpwall_* 2>/dev/null
}
tree_state >"$T/tree.before"
start=$(date +%s)
deb=$(pkg_deb) || { fail "dpkg-buildpackage -us -uc -b (log: $PKG_OUT/build.log)"; exit 1; }
ok "built $(basename "$deb") in $(($(date +%s) - start)) s (or reused: same source)"
tree_state >"$T/tree.after"
if diff -u "$T/tree.before" "$T/tree.after" >&2; then
	ok "the source tree is as it was"
else
	fail "building the package left files in the source tree or next to it"
fi
changes=$(ls "$PKG_OUT"/ntpwall_*.changes)

# 1. lintian: no error, no warning; informational tags are shown.
lintian --display-info --fail-on error,warning "$changes" >"$T/lintian" 2>&1
rc=$?
grep -v 'running with root privileges' "$T/lintian" | sed 's/^/  lintian: /'
if [ $rc -ne 0 ] || grep -qE '^(E|W): ' "$T/lintian"; then
	fail "lintian: errors or warnings (exit $rc)"
else
	ok "lintian: no error, no warning ($(grep -c '^I: ' "$T/lintian") informational)"
fi
for f in "$SRCDIR"/debian/*lintian-overrides "$SRCDIR"/debian/source/lintian-overrides; do
	[ -f "$f" ] || continue
	awk '/^#/ { why = 1; next } NF && !why { print FILENAME ":" FNR ": an override without a reason"; bad = 1 }
		NF { why = 0 } END { exit bad }' "$f" || fail "lintian overrides need a comment saying why"
done

# 2. Version and control fields.
version=$(meson introspect --projectinfo "$BUILDDIR" | jq -r .version)
[ "$(dpkg-deb -f "$deb" Version)" = "$version" ] ||
	fail "the package is version $(dpkg-deb -f "$deb" Version), meson says $version (debian/changelog)"
dpkg-deb -f "$deb" Depends | grep -qw adduser || fail "no Depends on adduser (postinst makes _ntpwall)"

# 3. Contents.
dpkg-deb -c "$deb" | awk '{ print $1, $6 }' | sed 's# \./# /#' >"$T/contents"
has() { grep -qxF -- "$1 $2" "$T/contents" || fail "the package lacks $2 ($1)"; }
has -rwxr-xr-x /usr/sbin/ntpwall
has -rw-r--r-- /usr/share/man/man8/ntpwall.8.gz
has -rw-r--r-- /usr/share/man/man5/ntpwall-policy.5.gz
has -rw-r--r-- /usr/share/bash-completion/completions/ntpwall
has -rw-r--r-- /etc/ntpwall/policy.yaml.example
has -rw-r--r-- /usr/share/doc/ntpwall/examples/cron.d/ntpwall
for p in "$SRCDIR"/policies/*.yaml; do
	has -rw-r--r-- "/usr/share/doc/ntpwall/examples/policies/$(basename "$p")"
done
mkdir -p "$T/x"
dpkg-deb -x "$deb" "$T/x"
for f in "$SRCDIR"/contrib/systemd/*.in; do
	u=$(basename "$f" .in)
	has -rw-r--r-- "/lib/systemd/system/$u"
	[ -f "$T/x/lib/systemd/system/$u" ] || continue
	# Every ntpwall its Exec lines run (the metrics unit from a bash script).
	for x in $(grep -h '^Exec' "$T/x/lib/systemd/system/$u" | grep -oE "[^ =';\"]*/ntpwall( |$)"); do
		[ "$x" = /usr/sbin/ntpwall ] || fail "$u runs $x"
	done
	case $u in *.service)
		grep -h '^Exec' "$T/x/lib/systemd/system/$u" | grep -q "/usr/sbin/ntpwall " ||
			fail "$u runs no /usr/sbin/ntpwall"
		grep -qx 'ConditionPathExists=/etc/ntpwall/policy.yaml' "$T/x/lib/systemd/system/$u" ||
			fail "$u acts without /etc/ntpwall/policy.yaml"
	esac
done
grep -q '/usr/sbin/ntpwall -q refresh' "$T/x/usr/share/doc/ntpwall/examples/cron.d/ntpwall" ||
	fail "the example cron entry does not run /usr/sbin/ntpwall"
grep -E ' /etc/cron|/etc/ntpwall/policy.yaml$' "$T/contents" && fail "the package ships a cron.d file or a policy"
[ "$(dpkg-deb -I "$deb" conffiles)" = /etc/ntpwall/policy.yaml.example ] ||
	fail "conffiles: $(dpkg-deb -I "$deb" conffiles)"
[ $fails = 0 ] && ok "contents: binary, man pages, completion, units, policy.yaml.example (conffile), examples"

# 4. The maintainer scripts: no ntpwall command that makes or changes a
# wall; prerm removes one.
mkdir -p "$T/ctl"
dpkg-deb -e "$deb" "$T/ctl"
for s in preinst postinst prerm postrm; do
	[ -f "$T/ctl/$s" ] || continue
	grep -v '^[[:space:]]*#' "$T/ctl/$s" |
		grep -nE '(^|[^a-z_-])ntpwall( +-[^ ]+)* +(apply|refresh|restore|rollback|confirm)([^a-z-]|$)' &&
		fail "$s runs a command of ntpwall that changes the firewall"
done
grep -v '^[[:space:]]*#' "$T/ctl/prerm" | grep -qE '^[[:space:]]*ntpwall remove' || fail "prerm does not run ntpwall remove"
ok "maintainer scripts: no apply, refresh, restore, rollback or confirm; prerm runs remove"

[ $fails = 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "the package builds and is lintian-clean"
