# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# Shared by the package tests (sourced): the .deb built from this source
# tree.
#
# pkg_deb: builds the .deb with `dpkg-buildpackage -us -uc -b` in a copy of
#   the source tree (pkg_files) under /tmp, and keeps the .deb, .changes and
#   .buildinfo in $BUILDDIR/package/, once per content of those files (the
#   package tests share it: a lock, and a key file). Prints the path of the
#   .deb. Leaves nothing in the source tree.
#
# Needs dpkg-buildpackage, debhelper and git; no network.
: "${SRCDIR:?}" "${BUILDDIR:?}"
PKG_OUT=$BUILDDIR/package

pkg_log() { echo "[$(date +%T)] $*"; }

# The source tree as git sees it (tracked, and untracked but not ignored;
# deleted files left out), NUL-separated, relative to $SRCDIR; without
# tests/ (the package is configured with -Dtests=false), so that changing a
# test does not make the package again.
pkg_files() {
	(cd "$SRCDIR" && git ls-files -z --cached --others --exclude-standard -- . ':!tests' |
		xargs -0 sh -c 'for f; do [ -f "$f" ] && printf "%s\0" "$f"; done' sh)
}
pkg_tree_key() {
	pkg_files | (cd "$SRCDIR" && xargs -0 sha256sum) | sha256sum | cut -c1-16
}

pkg_deb() {
	local key deb tmp
	mkdir -p "$PKG_OUT" || return 1
	key=$(pkg_tree_key) || return 1
	exec 8>"$PKG_OUT/.lock"
	flock 8
	deb=$(ls "$PKG_OUT"/ntpwall_*_*.deb 2>/dev/null | head -n 1)
	if [ -n "$deb" ] && [ "$(cat "$PKG_OUT/key" 2>/dev/null)" = "$key" ]; then
		flock -u 8
		echo "$deb"
		return 0
	fi
	find "$PKG_OUT" -mindepth 1 -maxdepth 1 ! -name .lock -exec rm -rf {} +
	# Built out of tree, in a copy under /tmp: dpkg-buildpackage writes
	# debian/ntpwall, obj-*/ and the .deb next to the source directory.
	tmp=$(mktemp -d /tmp/ntpwall-dpkg.XXXXXX) || { flock -u 8; return 1; }
	mkdir "$tmp/ntpwall"
	pkg_files | (cd "$SRCDIR" && xargs -0 cp --parents -t "$tmp/ntpwall") ||
		{ rm -rf "$tmp"; flock -u 8; return 1; }
	pkg_log "dpkg-buildpackage -us -uc -b in $tmp (log: $PKG_OUT/build.log)" >&2
	if ! (cd "$tmp/ntpwall" && DEB_BUILD_OPTIONS=parallel=2 dpkg-buildpackage -us -uc -b) \
		>"$PKG_OUT/build.log" 2>&1; then
		tail -n 40 "$PKG_OUT/build.log" >&2
		rm -rf "$tmp"
		flock -u 8
		return 1
	fi
	cp "$tmp"/*.deb "$tmp"/*.changes "$tmp"/*.buildinfo "$PKG_OUT/"
	rm -rf "$tmp"
	echo "$key" >"$PKG_OUT/key"
	flock -u 8
	ls "$PKG_OUT"/ntpwall_*_*.deb | head -n 1
}
