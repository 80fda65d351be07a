# SPDX-License-Identifier: GPL-2.0-or-later
# Shell helpers shared by the namespace tests; sourced, not run.

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

