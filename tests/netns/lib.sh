# SPDX-License-Identifier: GPL-2.0-or-later
# Shell helpers shared by the namespace tests; sourced, not run.

# Findings: fail counts, ok reports; a script ends with exit $((fails > 0)).
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
# nw ARGS: ntpwall on the script's state directory $S.
nw() { "$NTPWALL" --state-dir "$S" "$@"; }

# rule_packets CHAIN COMMENT < `nft list table` output: the packet counter
# of the rule with this comment in base chain CHAIN, or in the chains
# ntpwall lays out under it (CHAIN-ntp, CHAIN-mode<N>: doc/design.md
# "Packet path"). Nothing when there is no such rule.
rule_packets() {
	awk -v c="$1" -v k="comment \"$2\"" '
		/^\tchain / { ch = $2 }
		(ch == c || index(ch, c "-ntp") == 1 || index(ch, c "-mode") == 1) &&
		index($0, k) && match($0, /counter packets [0-9]+/) {
			print substr($0, RSTART + 16, RLENGTH - 16)
			exit
		}'
}


# silent_upstreams DEV LAST...: a veth pair DEV/DEV-peer, up, with
# 192.0.2.254/24 on DEV, and 192.0.2.LAST for each LAST a neighbour with a
# fixed address that never answers: packets to it leave at once (no ARP)
# and nothing comes back, so a probe or a DNS query waits its timeout.
silent_upstreams() {
	local dev=$1 a
	shift
	ip link add "$dev" type veth peer name "$dev-peer" && ip link set "$dev" up &&
		ip link set "$dev-peer" up && ip addr add 192.0.2.254/24 dev "$dev" || return 1
	for a in "$@"; do
		ip neigh replace "192.0.2.$a" lladdr "$(printf '02:00:00:00:00:%02x' "$a")" \
			dev "$dev" nud permanent || return 1
	done
}
