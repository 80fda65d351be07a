#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The nft backend's call graph stays layered: every call from one
# src/backend_nft*.c file into another (read from the symbols each object
# of the library defines and uses) must be an edge listed below. So batch
# building and read-back never call each other, building never touches the
# socket, and nothing calls up into backend_nft.c or across from the
# transport. A new edge is a design change: add it here on purpose.
# Usage: nft_layers.sh LIBNTPWALL_ARCHIVE
set -u
lib=$1
allowed='
backend_nft -> backend_nft_sock
backend_nft -> backend_nft_batch
backend_nft -> backend_nft_read
backend_nft -> backend_nft_host
backend_nft_host -> backend_nft_sock
backend_nft_host -> backend_nft_rule
backend_nft_batch -> backend_nft_rule
backend_nft_read -> backend_nft_sock
backend_nft_read -> backend_nft_rule
backend_nft_read -> backend_nft_interval
backend_nft_rule -> backend_nft_match
backend_nft_rule -> backend_nft_expr
backend_nft_match -> backend_nft_ntp
backend_nft_match -> backend_nft_expr
backend_nft_ntp -> backend_nft_expr
'
tmp=$(mktemp) || exit 1
trap 'rm -f "$tmp"' EXIT
# "file T sym" / "file U sym" for every backend_nft object.
obj='.*src_\(backend_nft[a-z_]*\)\.c\.o:'
sym='[0-9a-f ]* \([TU]\) \([A-Za-z_][A-Za-z0-9_]*\)$'
nm -A "$lib" 2>/dev/null | sed -n "s/$obj$sym/\\1 \\2 \\3/p" >"$tmp"
objs=$(cut -d' ' -f1 "$tmp" | sort -u | wc -l)
[ "$objs" -ge 9 ] || { echo "FAIL: found $objs backend_nft objects in $lib"; exit 1; }
edges=$(awk '$2 == "T" { def[$3] = $1 } $2 == "U" { use[NR] = $1 " " $3 }
	END { for (i in use) { split(use[i], u, " "); if ((u[2] in def) && def[u[2]] != u[1])
		print u[1] " -> " def[u[2]] } }' "$tmp" | sort -u)
fail=0
bad=$(echo "$edges" | while read -r edge; do
	echo "$allowed" | grep -qxF "$edge" || echo "FAIL: unexpected call $edge"
done)
[ -z "$bad" ] || { echo "$bad"; fail=1; }
[ -n "$edges" ] || { echo "FAIL: no calls found"; fail=1; }
[ $fail = 0 ] && echo "nft layers: $(echo "$edges" | wc -l) edges, all allowed"
exit $fail
