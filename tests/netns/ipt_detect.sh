#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Which iptables the host uses, told without side effects, in four fresh
# network namespaces: empty (apply makes legacy tables, with a note),
# nft-only (iptables-nft's chains, or a native nft ruleset: apply refused,
# exit 2, naming backend: nft, and no legacy table made by the refusal or by
# diff; --force-backend applies with a warning), legacy-only (apply, no
# warning) and mixed (a warning that packets pass both). status names the
# flavour; the legacy built-in chains are listed without making a table.
# Usage: ipt_detect.sh IPT_RT   (env NTPWALL, SRCDIR; exit 77 = skip)
set -u

if [ -z "${IPT_IN_NETNS:-}" ]; then
	if ! unshare -n true 2>/dev/null || ! command -v iptables-legacy >/dev/null ||
		! command -v iptables-nft >/dev/null || ! command -v nft >/dev/null; then
		echo "ipt_detect.sh: cannot create a network namespace (or no iptables/nft)"
		[ "${NTPWALL_REQUIRE_NETNS:-0}" = 1 ] && exit 1
		exit 77
	fi
	IPT_IN_NETNS=1 exec unshare -n bash "$0" "$@"
fi

: "${NTPWALL:?}" "${SRCDIR:?}"
rt=$1
T=$(mktemp -d /tmp/ntpwall-iptdetect.XXXXXX)
export XTABLES_LOCKFILE=$T/xtables.lock
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

sed 's/^table: .*/table: ntpwall_d/' "$SRCDIR/policies/demo-literal.yaml" >"$T/p.yaml"
printf 'backend: iptables\n' >>"$T/p.yaml"

# case NAME SETUP: in a namespace of its own, SETUP, then apply; prints
# apply's output and exit status, status's host line, and the legacy
# tables before and after apply, as KEY=VALUE lines into $T/NAME.
case_ns() {
	local name=$1 setup=$2
	unshare -n bash -c '
		T=$1 setup=$2 NW=$3 rt=$4 name=$5
		S=$T/state-$name
		eval "$setup" >/dev/null 2>&1
		tables() { cat /proc/net/ip_tables_names /proc/net/ip6_tables_names 2>/dev/null | sort | tr "\n" " "; }
		echo "before=$(tables)"
		"$NW" --state-dir "$S" diff "$T/p.yaml" >/dev/null 2>&1
		echo "after_diff=$(tables)"
		"$NW" --state-dir "$S" apply "$T/p.yaml" >"$T/$name.apply" 2>&1
		echo "rc=$?"
		echo "after_apply=$(tables)"
		if grep -q "use .backend: nft." "$T/$name.apply"; then
			"$NW" --state-dir "$S" apply --force-backend "$T/p.yaml" >"$T/$name.force" 2>&1
			echo "force_rc=$?"
		fi
		"$NW" --state-dir "$S" status 2>/dev/null | sed -n "s/^host: /host=/p"
		"$rt" chains >"$T/$name.chains" 2>&1
		echo "chains_rc=$?"
		echo "after_chains=$(tables)"
	' - "$T" "$setup" "$NTPWALL" "$rt" "$name" >"$T/$name"
}
get() { sed -n "s/^$2=//p" "$T/$1"; }

case_ns empty ''
[ "$(get empty rc)" = 0 ] || fail "empty: apply: $(cat "$T/empty.apply")"
grep -q 'no firewall on this host yet: this creates legacy iptables tables' "$T/empty.apply" ||
	fail "empty: no note about new legacy tables: $(cat "$T/empty.apply")"
[ -z "$(get empty after_diff)" ] || fail "empty: diff made a legacy table: $(get empty after_diff)"
get empty host | grep -q '^legacy iptables' || fail "empty: status after apply: $(cat "$T/empty")"
grep -qx 'ip filter INPUT ACCEPT 1' "$T/empty.chains" || fail "empty: chains: $(cat "$T/empty.chains")"
[ "$(get empty after_apply)" = "$(get empty after_chains)" ] || fail "empty: listing the chains made a table"
ok "empty: applied, with a note; status: legacy"

case_ns iptnft 'iptables-nft -A INPUT -p tcp --dport 22 -j ACCEPT'
[ "$(get iptnft rc)" = 2 ] || fail "iptables-nft: apply exit $(get iptnft rc): $(cat "$T/iptnft.apply")"
grep -q "filters with nftables (table ip filter chain INPUT, made by iptables-nft).*use 'backend: nft'" \
	"$T/iptnft.apply" || fail "iptables-nft: refusal: $(cat "$T/iptnft.apply")"
[ -z "$(get iptnft after_apply)" ] || fail "iptables-nft: the refusal made legacy tables: $(get iptnft after_apply)"
[ -z "$(get iptnft after_diff)" ] || fail "iptables-nft: diff made legacy tables"
[ "$(get iptnft force_rc)" = 0 ] || fail "iptables-nft: --force-backend: $(cat "$T/iptnft.force")"
grep -q 'warning: --force-backend: legacy iptables tables beside nftables' "$T/iptnft.force" ||
	fail "iptables-nft: --force-backend says nothing: $(cat "$T/iptnft.force")"
get iptnft host | grep -q '^mixed' || fail "iptables-nft: status after --force-backend: $(cat "$T/iptnft")"
ok "nft-only (iptables-nft): refused (exit 2) naming backend: nft, nothing made; --force-backend warns; status: mixed"

case_ns native 'nft add table inet fw && nft add chain inet fw in "{ type filter hook input priority 0; }"'
[ "$(get native rc)" = 2 ] || fail "native nft: apply exit $(get native rc)"
grep -q "filters with nftables (table inet fw chain in)" "$T/native.apply" ||
	fail "native nft: refusal: $(cat "$T/native.apply")"
[ -z "$(get native after_apply)" ] || fail "native nft: the refusal made legacy tables"
ok "nft-only (native ruleset): refused naming its chain"

case_ns legacy 'iptables-legacy -A INPUT -p tcp --dport 22 -j ACCEPT'
[ "$(get legacy rc)" = 0 ] || fail "legacy: apply: $(cat "$T/legacy.apply")"
grep -q 'warning:.*nftables\|note:.*creates legacy' "$T/legacy.apply" && fail "legacy: a warning: $(cat "$T/legacy.apply")"
get legacy host | grep -q '^legacy iptables (tables ip:filter' || fail "legacy: status: $(cat "$T/legacy")"
grep -qx 'ip filter INPUT ACCEPT 2' "$T/legacy.chains" || fail "legacy: chains: $(cat "$T/legacy.chains")"
ok "legacy-only: applied without a warning; status: legacy"

case_ns mixed 'iptables-legacy -A INPUT -p tcp --dport 22 -j ACCEPT; iptables-nft -A INPUT -p tcp --dport 22 -j ACCEPT'
[ "$(get mixed rc)" = 0 ] || fail "mixed: apply: $(cat "$T/mixed.apply")"
grep -q 'warning: mixed host: legacy iptables (ip:filter.*) and nftables (table ip filter chain INPUT): packets pass both, a drop in either wins' \
	"$T/mixed.apply" || fail "mixed: no warning: $(cat "$T/mixed.apply")"
get mixed host | grep -q '^mixed: legacy iptables' || fail "mixed: status: $(cat "$T/mixed")"
ok "mixed: applied with a warning; status: mixed"

[ $fails = 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all flavour detection tests passed"
