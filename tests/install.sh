#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# `meson install` of this build into a temporary DESTDIR puts in place
# exactly: the binary in sbindir; ntpwall(8) and ntpwall-policy(5); the bash
# completion; every unit of contrib/systemd/*.in, its Exec lines running the
# installed binary; /etc/ntpwall/policy.yaml.example (sysconfdir); and, under
# the documentation directory as examples only, every policy of policies/
# and the cron entry running the installed binary. Nothing in cron.d, no
# policy.yaml, nothing else. (systemd-analyze verify of the units as built:
# units-netns; of the units as packaged: package-install.)
# Needs $BUILDDIR, $SRCDIR, meson and jq.
set -u
: "${BUILDDIR:?}" "${SRCDIR:?}"
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
T=$(mktemp -d /tmp/ntpwall-install.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT
D=$T/dest

meson install -C "$BUILDDIR" --no-rebuild --quiet --destdir "$D" >"$T/log" 2>&1 ||
	{ cat "$T/log"; fail "meson install"; exit 1; }

meson introspect --buildoptions "$BUILDDIR" >"$T/options" || { fail "meson introspect"; exit 1; }
opt() { jq -r --arg n "$1" '.[] | select(.name == $n) | .value' "$T/options"; }
prefix=$(opt prefix)
abs() { case $1 in /*) echo "$1" ;; *) echo "$prefix/$1" ;; esac; }
sbindir=$(abs "$(opt sbindir)")
mandir=$(abs "$(opt mandir)")
datadir=$(abs "$(opt datadir)")
sysconfdir=$(abs "$(opt sysconfdir)")
docdir=$datadir/doc/ntpwall

# file MODE PATH [SOURCE]: installed with MODE, the same bytes as SOURCE.
: >"$T/expected"
file() {
	echo "$2" >>"$T/expected"
	[ -f "$D$2" ] || { fail "$2 is not installed"; return; }
	[ "$(stat -c %a "$D$2")" = "$1" ] || fail "$2: mode $(stat -c %a "$D$2"), not $1"
	[ -z "${3:-}" ] || cmp -s "$3" "$D$2" || fail "$2 differs from ${3#"$SRCDIR"/}"
}
file 755 "$sbindir/ntpwall"
file 644 "$mandir/man8/ntpwall.8" "$SRCDIR/contrib/ntpwall.8"
file 644 "$mandir/man5/ntpwall-policy.5" "$SRCDIR/contrib/ntpwall-policy.5"
file 644 "$datadir/bash-completion/completions/ntpwall" "$SRCDIR/contrib/completion/ntpwall.bash"
file 644 "$sysconfdir/ntpwall/policy.yaml.example" "$SRCDIR/policies/client-uk-pool.yaml"
for p in "$SRCDIR"/policies/*.yaml; do
	file 644 "$docdir/examples/policies/$(basename "$p")" "$p"
done
file 644 "$docdir/examples/cron.d/ntpwall"
cron=$(grep -v '^#' "$D$docdir/examples/cron.d/ntpwall")
[ "$(echo "$cron" | awk '{ print $7 }')" = "$sbindir/ntpwall" ] ||
	fail "the cron entry runs '$(echo "$cron" | awk '{ print $7 }')', not $sbindir/ntpwall"

# The units: one per template, in one systemd unit directory.
unitdir=
for f in "$SRCDIR"/contrib/systemd/*.in; do
	u=$(basename "$f" .in)
	p=$(cd "$D" && find . -name "$u" -path '*/systemd/system/*' | sed 's/^\.//')
	[ -n "$p" ] || { fail "unit $u is not installed"; continue; }
	[ -z "$unitdir" ] && unitdir=$(dirname "$p")
	[ "$(dirname "$p")" = "$unitdir" ] || fail "$u installed in $(dirname "$p"), not $unitdir"
	file 644 "$p"
	# Every ntpwall its Exec lines run (the metrics unit from a bash script).
	for x in $(grep -h '^Exec' "$D$p" | grep -oE "[^ =';\"]*/ntpwall( |$)"); do
		[ "$x" = "$sbindir/ntpwall" ] || fail "$u runs $x, not $sbindir/ntpwall"
	done
	case $u in *.service)
		grep -h '^Exec' "$D$p" | grep -q "$sbindir/ntpwall " || fail "$u runs no $sbindir/ntpwall"
	esac
	# The template differs from the unit only by the configured path.
	sed "s#@sbindir@#$sbindir#g" "$f" | cmp -s - "$D$p" || fail "$u is not $(basename "$f") with @sbindir@=$sbindir"
done
case $unitdir in */lib/systemd/system) ;; *) fail "units in '$unitdir', not a .../lib/systemd/system" ;; esac

# Nothing else: no cron.d file, no policy.yaml, no test program.
(cd "$D" && find . ! -type d | sed 's/^\.//') | sort >"$T/installed"
sort -o "$T/expected" "$T/expected"
extra=$(comm -13 "$T/expected" "$T/installed")
[ -z "$extra" ] || fail "installed, but not expected: $extra"

echo "installed under prefix $prefix:"
sed 's/^/  /' "$T/installed"
[ $fails = 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "meson install: every file in place"
