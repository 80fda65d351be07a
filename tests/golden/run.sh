#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Golden test: every policy in policies/ and tests/golden/, rendered for every
# target with the fixed fake resolution of tests/fake_resolved.c, must equal
# tests/golden/<policy>.<target> byte for byte. The nft-payload target is not
# text for nft but what `ntpwall apply` would send the kernel: the batch from
# the backend's own builder, each message printed by libnftnl (as nft's
# tests/py *.payload files pin bytecode), so a mistake made alike in lowering
# and in read-back still shows here.
# Regenerate (then review the diff by eye):
#   NTPWALL_REGEN_GOLDEN=1 meson test -C BUILD golden
# Usage: run.sh GOLDEN_RENDER_BINARY
set -u
gr=$1
dir=$SRCDIR/tests/golden
targets="nft nft-listing nft-payload iptables ip6tables chrony ntpd"
fail=0
n=0
tmp=$(mktemp) || exit 1
trap 'rm -f "$tmp"' EXIT
for p in "$SRCDIR"/policies/*.yaml "$dir"/*.yaml; do
	name=$(basename "$p" .yaml)
	for t in $targets; do
		n=$((n + 1))
		if ! "$gr" "$p" "$t" > "$tmp"; then
			echo "FAIL: $name $t: render failed"
			fail=1
			continue
		fi
		want=$dir/$name.$t
		if [ "${NTPWALL_REGEN_GOLDEN:-}" = 1 ]; then
			cp "$tmp" "$want"
			continue
		fi
		if ! diff -u "$want" "$tmp"; then
			echo "FAIL: $name $t differs from $want"
			fail=1
		fi
	done
done
# chrony parses what we render (chronyd -p checks the syntax and exits):
# the source lines, and the chrony.conf lines of the serving block.
if command -v chronyd > /dev/null; then
	for p in "$SRCDIR"/policies/*.yaml "$dir"/*.yaml; do
		name=$(basename "$p" .yaml)
		"$gr" "$p" chrony > "$tmp" || continue
		{ grep -v '^#' "$tmp"; echo "cmdport 0"; echo "bindcmdaddress /"; } > "$tmp.conf"
		chronyd -p -f "$tmp.conf" > /dev/null 2>&1 ||
			{ echo "FAIL: $name: chronyd rejects the sources"; fail=1; }
		sed -n 's/^#   //p' "$tmp" > "$tmp.conf"
		chronyd -p -f "$tmp.conf" > /dev/null 2>&1 ||
			{ echo "FAIL: $name: chronyd rejects the chrony.conf lines"; fail=1; }
	done
	rm -f "$tmp.conf"
fi
# Rendering is deterministic: a second run gives the same bytes.
"$gr" "$SRCDIR/policies/lan-server.yaml" nft > "$tmp.1"
"$gr" "$SRCDIR/policies/lan-server.yaml" nft > "$tmp.2"
cmp -s "$tmp.1" "$tmp.2" || { echo "FAIL: two renderings differ"; fail=1; }
rm -f "$tmp.1" "$tmp.2"
[ $n -ge 30 ] || { echo "FAIL: only $n renderings"; fail=1; }
echo "golden: $n renderings checked"
exit $fail
