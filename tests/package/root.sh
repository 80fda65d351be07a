# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# Sourced by the package tests after lib.sh: a throwaway Debian 12 root to
# install the .deb in.
#
# pkg_root DIR: unpacks a Debian 12 root (debootstrap --variant=minbase
#   with systemd, man-db, python3 and python3-apt) into a tmpfs on DIR
#   (call it in a private mount namespace: the root goes with it), from a
#   tarball cached in ~/.cache/ntpwall/debian-root/ (made again after 30
#   days), plus the .debs and package lists earlier runs downloaded, so a
#   warm run needs no network. Returns 77 when there is no tarball and the
#   archive cannot be reached.
# pkg_fetch_deps ROOT DEB: `apt-get install --download-only` of DEB in
#   ROOT (only what the cache lacks comes from the archive); the downloads
#   are kept in the cache. Returns 77 when the archive cannot be reached.
# pkg_mounts ROOT: proc, a tmpfs /run and a private devpts in ROOT (in the same private mount
#   namespace).
#
# Needs: the Debian archive (deb.debian.org, or $NTPWALL_DEBIAN_MIRROR) the
# first time, or when the cached root's package lists are too old for what
# the .deb depends on; nothing on a warm run. Never touches the host's
# packages: everything is installed inside the root.
PKG_SUITE=bookworm
PKG_MIRROR=${NTPWALL_DEBIAN_MIRROR:-http://deb.debian.org/debian}
PKG_INCLUDE=systemd,man-db,python3,python3-apt
PKG_CACHE=${NTPWALL_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/ntpwall}/debian-root

# Did apt or debootstrap fail for want of the network (not for a defect)?
pkg_offline() {
	grep -qiE 'Temporary failure resolving|Could not resolve|Could not connect|Connection (timed out|refused|failed)|Network is unreachable|No route to host|Failed to fetch|Failed getting release file|Unable to fetch|Couldn.t download|Failure trying to run|Release signed by unknown key' "$1"
}

pkg_root() {
	local dest=$1 tarball tmp
	mkdir -p "$PKG_CACHE/archives" || return 1
	exec 9>"$PKG_CACHE/.lock"
	flock 9
	tarball=$(find "$PKG_CACHE" -maxdepth 1 -name "$PKG_SUITE-minbase-*.tar.zst" -mtime -30 | sort | tail -n 1)
	if [ -z "$tarball" ]; then
		tmp=$PKG_CACHE/make.$$
		rm -rf "$tmp"
		pkg_log "debootstrap --variant=minbase --include=$PKG_INCLUDE $PKG_SUITE from $PKG_MIRROR" >&2
		if debootstrap --variant=minbase --include="$PKG_INCLUDE" "$PKG_SUITE" "$tmp/root" "$PKG_MIRROR" \
			>"$PKG_CACHE/debootstrap.log" 2>&1; then
			rm -f "$tmp"/root/var/cache/apt/archives/*.deb
			tar -C "$tmp/root" -cf - . | zstd -q -T2 -o "$tmp/root.tar.zst" &&
				mv "$tmp/root.tar.zst" "$PKG_CACHE/$PKG_SUITE-minbase-$(date +%Y%m%d).tar.zst"
			rm -f "$PKG_CACHE/lists.tar.zst"
			rm -rf "$tmp"
			find "$PKG_CACHE" -maxdepth 1 -name "$PKG_SUITE-minbase-*.tar.zst" -mtime +30 -delete
		else
			tail -n 5 "$PKG_CACHE/debootstrap.log" >&2
			rm -rf "$tmp"
		fi
		# An older root beats none.
		tarball=$(find "$PKG_CACHE" -maxdepth 1 -name "$PKG_SUITE-minbase-*.tar.zst" | sort | tail -n 1)
		if [ -z "$tarball" ]; then
			flock -u 9
			if pkg_offline "$PKG_CACHE/debootstrap.log" || ! grep -q . "$PKG_CACHE/debootstrap.log"; then
				echo "pkg_root: no cached root and the Debian archive ($PKG_MIRROR) cannot be reached" >&2
				return 77
			fi
			echo "pkg_root: debootstrap failed (log: $PKG_CACHE/debootstrap.log)" >&2
			return 1
		fi
	fi
	mkdir -p "$dest"
	mount -t tmpfs -o size=1g,mode=0755 tmpfs "$dest" || { flock -u 9; return 1; }
	zstd -qdc "$tarball" | tar -C "$dest" -xf - || { flock -u 9; return 1; }
	if [ "$PKG_CACHE/lists.tar.zst" -nt "$tarball" ]; then
		zstd -qdc "$PKG_CACHE/lists.tar.zst" | tar -C "$dest/var/lib/apt/lists" -xf - ||
			{ flock -u 9; return 1; }
	fi
	cp "$PKG_CACHE"/archives/*.deb "$dest/var/cache/apt/archives/" 2>/dev/null
	flock -u 9
	cp /etc/resolv.conf "$dest/etc/resolv.conf" 2>/dev/null
	pkg_log "root $(basename "$tarball") in $dest" >&2
	return 0
}

pkg_fetch_deps() {
	local root=$1 deb=$2 log updated=
	log=$(mktemp)
	cp "$deb" "$root/tmp/" || return 1
	if ! chroot "$root" apt-get install -y -q --download-only "/tmp/$(basename "$deb")" >"$log" 2>&1; then
		# The lists may be older than what the archive has now.
		pkg_log "downloading the dependencies failed; apt-get update and again" >&2
		if chroot "$root" apt-get update -q >>"$log" 2>&1; then
			updated=1
		fi
		if [ -z "$updated" ] ||
			! chroot "$root" apt-get install -y -q --download-only "/tmp/$(basename "$deb")" >>"$log" 2>&1; then
			if pkg_offline "$log"; then
				echo "pkg_fetch_deps: the Debian archive ($PKG_MIRROR) cannot be reached:" >&2
				grep -iE '^(E|W):' "$log" | head -n 5 >&2
				rm -f "$log"
				return 77
			fi
			cat "$log" >&2
			rm -f "$log"
			return 1
		fi
	fi
	rm -f "$log"
	exec 9>"$PKG_CACHE/.lock"
	flock 9
	find "$root/var/cache/apt/archives" -maxdepth 1 -name '*.deb' ! -name 'ntpwall_*' \
		-exec cp -n -t "$PKG_CACHE/archives/" {} +
	# Lists newer than the cached root's: every later root gets them.
	if [ -n "$updated" ]; then
		tar -C "$root/var/lib/apt/lists" -cf - . | zstd -q -f -o "$PKG_CACHE/lists.tar.zst"
	fi
	flock -u 9
	return 0
}

pkg_mounts() {
	local root=$1
	mkdir -p "$root/dev/pts"
	mount -t proc proc "$root/proc" &&
		mount -t tmpfs -o mode=0755 tmpfs "$root/run" &&
		mount -t devpts -o newinstance,ptmxmode=0666 devpts "$root/dev/pts"
}

# Processes whose root is ROOT (a watchdog left by a failed test): killed
# by pid.
pkg_kill_root() {
	local root pid
	root=$(readlink -f "$1")
	for pid in /proc/[0-9]*; do
		pid=${pid#/proc/}
		[ "$(readlink "/proc/$pid/root" 2>/dev/null)" = "$root" ] && kill -9 "$pid" 2>/dev/null
	done
	return 0
}
