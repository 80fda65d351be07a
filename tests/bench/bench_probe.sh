#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Benchmark of ntpwall probe (issue 6), inside a throw-away namespace:
#  1. 1,000 addresses on 198.18.0.0/22 served by one chronyd, --samples 1,
#     against ntpdig run over a subset one after another (extrapolated);
#  2. 100 silent addresses (nft drop) with --samples 1 --timeout 1s, which
#     must finish under 2 s, against ntpdig/check_ntp_time one after another
#     with a 1 s timeout (a subset, extrapolated);
#  3. peak RSS of ntpwall probe for the 1,000 servers (/usr/bin/time -v).
# Prints figures and ratios; no timing is asserted in CI (not registered).
# Usage: NTPWALL=build/ntpwall tests/bench/bench_probe.sh [SUBSET]
set -u
NTPWALL=${NTPWALL:-$(dirname "$0")/../../build/ntpwall}
SUBSET=${1:-50}
NS=ntpwall-bench-$$
TMP=$(mktemp -d /tmp/ntpwall-bench.XXXXXX)
PID=

cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
ip netns add "$NS" || { echo "cannot create a namespace"; exit 77; }
nsx() { ip netns exec "$NS" "$@"; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

nsx ip link set lo up
# The whole /22 and a /25 of silent addresses become local addresses.
nsx ip route add local 198.18.0.0/22 dev lo table local
nsx ip route add local 198.19.0.0/25 dev lo table local
nsx nft -f - <<'EOF'
table inet bench {
	chain in { type filter hook input priority 0; ip daddr 198.19.0.0/25 udp dport 123 drop; }
}
EOF
cat > "$TMP/chrony.conf" <<EOF
local stratum 1
allow all
cmdport 0
bindcmdaddress /
pidfile $TMP/chronyd.pid
driftfile $TMP/chronyd.drift
EOF
ip netns exec "$NS" chronyd -x -d -u root -f "$TMP/chrony.conf" > "$TMP/chronyd.log" 2>&1 &
PID=$!

servers=()
for i in $(seq 0 999); do servers+=("198.18.$((i / 250)).$((i % 250 + 1))"); done
silent=()
for i in $(seq 1 100); do silent+=("198.19.0.$i"); done
for _ in $(seq 50); do
	nsx "$NTPWALL" probe --samples 1 --timeout 200ms 198.18.0.1 >/dev/null 2>&1 && break
	sleep 0.1
done

echo "== 1,000 servers, one chronyd, --samples 1"
t0=$(now)
nsx /usr/bin/time -v "$NTPWALL" probe --samples 1 --timeout 1s "${servers[@]}" \
	> "$TMP/p1000.txt" 2> "$TMP/time.txt"
rc=$?
t1=$(now)
ours=$(elapsed "$t0" "$t1")
rss=$(awk -F: '/Maximum resident set size/ { gsub(/ /, "", $2); print $2 }' "$TMP/time.txt")
tail -1 "$TMP/p1000.txt"
echo "ntpwall probe: ${ours}s (exit $rc), peak RSS ${rss} KiB"
t0=$(now)
for a in "${servers[@]:0:$SUBSET}"; do nsx ntpdig -t 1 "$a" > /dev/null 2>&1; done
t1=$(now)
seq_sub=$(elapsed "$t0" "$t1")
seq_all=$(awk -v s="$seq_sub" -v n="$SUBSET" 'BEGIN { printf "%.1f", s * 1000 / n }')
echo "ntpdig sequential: ${seq_sub}s for $SUBSET servers, extrapolated ${seq_all}s for 1,000"
awk -v a="$seq_all" -v b="$ours" 'BEGIN { printf "ratio ntpdig/ntpwall: %.0fx\n", a / b }'

echo "== 1,000 servers with the defaults (4 samples 2 s apart)"
t0=$(now)
nsx /usr/bin/time -v "$NTPWALL" probe "${servers[@]}" > "$TMP/p1000d.txt" 2> "$TMP/time.txt"
rc=$?
t1=$(now)
rss=$(awk -F: '/Maximum resident set size/ { gsub(/ /, "", $2); print $2 }' "$TMP/time.txt")
tail -1 "$TMP/p1000d.txt"
echo "ntpwall probe: $(elapsed "$t0" "$t1")s (exit $rc), peak RSS ${rss} KiB"

echo "== 100 silent addresses, --samples 1 --timeout 1s"
t0=$(now)
nsx "$NTPWALL" probe --samples 1 --timeout 1s "${silent[@]}" > "$TMP/silent.txt" 2>&1
rc=$?
t1=$(now)
ours_s=$(elapsed "$t0" "$t1")
tail -1 "$TMP/silent.txt"
echo "ntpwall probe: ${ours_s}s (exit $rc; must be under 2 s)"
awk -v t="$ours_s" 'BEGIN { exit !(t < 2) }' && echo "under 2 s: yes" || echo "under 2 s: NO"
n=5
t0=$(now)
for a in "${silent[@]:0:$n}"; do nsx ntpdig -t 1 "$a" > /dev/null 2>&1; done
t1=$(now)
dig_s=$(elapsed "$t0" "$t1")
t0=$(now)
for a in "${silent[@]:0:$n}"; do nsx /usr/lib/nagios/plugins/check_ntp_time -t 1 -H "$a" > /dev/null 2>&1; done
t1=$(now)
cnt_s=$(elapsed "$t0" "$t1")
awk -v d="$dig_s" -v c="$cnt_s" -v n=$n -v o="$ours_s" 'BEGIN {
	printf "ntpdig sequential: %.2fs for %d, extrapolated %.1fs for 100 (ratio %.0fx)\n", d, n, d * 100 / n, d * 100 / n / o
	printf "check_ntp_time sequential: %.2fs for %d, extrapolated %.1fs for 100 (ratio %.0fx)\n", c, n, c * 100 / n, c * 100 / n / o
}'
