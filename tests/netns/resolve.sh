#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# ntpwall resolve against real DNS servers (dnsmasq) in a throw-away network
# namespace: every record with its TTL, the pool union growing with
# pool_queries, max respected and stable, NXDOMAIN/REFUSED/NODATA and an
# unreachable resolver reported per name, and no query for literals.
# Usage: resolve.sh PATH-OF-resolve_json_flat (meson passes it).
set -u
FLAT=$1
. "$SRCDIR/tests/netns/dns_harness.sh"
dns_start || exit $?

fail=0
T=$DNS_DIR

ok() { echo "ok: $1"; }
bad() { echo "FAIL: $1"; fail=1; }
check() { if eval "$2"; then ok "$1"; else bad "$1"; sed 's/^/    /' "$T/out.txt"; fi; }

# resolve POLICY-FILE [ARGS...]: JSON in out.json, flat form in out.txt, rc.
resolve() {
	pol=$1
	shift
	dns_exec "$NTPWALL" resolve --format json "$@" "$pol" > "$T/out.json" 2> "$T/err.txt"
	rc=$?
	"$FLAT" < "$T/out.json" > "$T/out.txt" || { bad "JSON shape"; cat "$T/out.json"; }
}

has() { grep -qx -- "$1" "$T/out.txt"; }
field() { awk -v k="$1" -v n="$2" '$1 == "name" && $2 == k { print $n }' "$T/out.txt"; }
kept() { field "$1" 7; }
in_list() { case ",$2," in *",$1,"*) return 0 ;; esac; return 1; }

policy() {
	f=$T/$1.yaml
	cat > "$f"
	echo "$f"
}

# 1. Every record with its TTL; pool.test from all three servers.
p=$(policy all <<'EOF'
version: 1
upstreams:
  - pool: pool.test
  - server: ntp1.test
  - server: ntp2.test
    nts: true
  - server: ntp3.test
  - server: multi.test
peers: [peer.test]
resolve: {timeout: 1s, attempts: 2, pool_queries: 3}
EOF
)
resolve "$p" --server "$DNS_ALL"
check "all names resolve (exit 0)" '[ $rc -eq 0 ]'
check "ntp1.test A, TTL 300" 'has "addr 192.0.2.11 ipv4 300 upstream - ntp1.test"'
check "ntp1.test AAAA, TTL 300" 'has "addr 2001:db8::11 ipv6 300 upstream - ntp1.test"'
check "ntp2.test A, TTL 60, nts" 'has "addr 192.0.2.12 ipv4 60 upstream nts ntp2.test"'
check "ntp3.test AAAA, TTL 120" 'has "addr 2001:db8::13 ipv6 120 upstream - ntp3.test"'
check "peer peer.test, TTL 45" 'has "addr 192.0.2.31 ipv4 45 peer - peer.test"'
for i in 21 22 23 24; do
	check "multi.test 192.0.2.$i, TTL 90" 'has "addr 192.0.2.$i ipv4 90 upstream - multi.test"'
done
check "pool.test: 12 A, TTL 150" \
	'[ "$(grep -c "^addr 198\.51\.100\.[0-9]* ipv4 150 upstream - pool.test$" "$T/out.txt")" = 12 ]'
check "pool.test: 6 AAAA, TTL 150" \
	'[ "$(grep -c "^addr 2001:db8:1::[1-6] ipv6 150 upstream - pool.test$" "$T/out.txt")" = 6 ]'
check "pool.test found 18, kept 18" '[ "$(field pool.test 5)/$(field pool.test 6)" = 18/18 ]'
# 3 A + 3 AAAA for the pool, 2 for each of 4 servers and the peer
check "16 queries, no retry" 'has "queries 16" && has "retries 0"'

# 2. The pool union grows with pool_queries (1, 2, 3 -> 6, 12, 18).
for q in 1 2 3; do
	p=$(policy pq$q <<EOF
version: 1
upstreams:
  - pool: pool.test
resolve: {pool_queries: $q}
EOF
)
	resolve "$p" --server "$DNS_ALL"
	eval "found$q=\$(field pool.test 5)"
done
check "pool union grows: $found1 < $found2 < $found3" \
	'[ "$found1" = 6 ] && [ "$found2" = 12 ] && [ "$found3" = 18 ]'

# 3. max respected per family and stable: the same choice twice, and the
# previous members kept whether or not the answers hold them (sticky, as
# chrony keeps pool sources), whatever the seed.
p=$(policy max <<'EOF'
version: 1
upstreams:
  - pool: pool.test
    max: 4
EOF
)
resolve "$p" --server "$DNS_ALL"
first=$(kept pool.test)
check "max 4 per family: 8 kept of 18" '[ "$(field pool.test 5)/$(field pool.test 6)" = 18/8 ] &&
	[ "$(grep -c "^addr .* ipv4 .* pool.test$" "$T/out.txt")" = 4 ] &&
	[ "$(grep -c "^addr .* ipv6 .* pool.test$" "$T/out.txt")" = 4 ]'
resolve "$p" --server "$DNS_ALL"
check "same choice on a second run ($first)" '[ "$(kept pool.test)" = "$first" ]'
cp "$T/out.json" "$T/run1.json"
resolve "$p" --server "$DNS_ALL" --seed another-host --previous "$T/run1.json"
check "the last run's choice kept under another seed" '[ "$(kept pool.test)" = "$first" ]'
cat > "$T/prev.json" <<'EOF'
{"names": [{"name": "pool.test", "role": "upstream",
            "addresses": ["198.51.100.5", "198.51.100.12", "2001:db8:1::6", "192.0.2.99"]}]}
EOF
for seed in a b; do
	resolve "$p" --server "$DNS_ALL" --seed $seed --previous "$T/prev.json"
	k=$(kept pool.test)
	check "previous members kept, answered or not, the rest filled (seed $seed): $k" \
		'[ "$(field pool.test 6)" = 8 ] && in_list 198.51.100.5 "$k" &&
		 in_list 198.51.100.12 "$k" && in_list 2001:db8:1::6 "$k" && in_list 192.0.2.99 "$k"'
done

# 4. Failures per name, the rest still returned.
p=$(policy fail <<'EOF'
version: 1
families: [ipv4]
upstreams:
  - server: ntp1.test
  - server: nx.test
  - server: other.example
  - server: ntp3.test
EOF
)
resolve "$p" --server "$DNS_ONE"
check "a failed name exits 1" '[ $rc -eq 1 ]'
check "nx.test is NXDOMAIN" '[ "$(field nx.test 4)" = NXDOMAIN ]'
check "other.example is REFUSED" '[ "$(field other.example 4)" = REFUSED ]'
check "ntp3.test (IPv6 only) is NODATA for ipv4" '[ "$(field ntp3.test 4)" = NODATA ]'
check "ntp1.test still resolved" 'has "addr 192.0.2.11 ipv4 300 upstream - ntp1.test" &&
	! grep -q "^addr 2001:db8::11" "$T/out.txt"'
# 4 A queries; REFUSED is asked once more (attempts 2)
check "no AAAA query when ipv6 is not wanted" 'has "queries 5"'
check "error at the name's line" 'grep -q ":5:13: error: .nx.test. does not exist (NXDOMAIN) \[NW140\]" "$T/err.txt"'
dns_exec "$NTPWALL" resolve --server "$DNS_ONE" "$p" > "$T/out.txt" 2>/dev/null
check "text: partial table and failed names" 'grep -q "^192\.0\.2\.11 .* 300 .*ntp1.test" "$T/out.txt" &&
	grep -q "^nx.test .*NXDOMAIN" "$T/out.txt"'

# 5. An unreachable resolver: timeout within timeout x attempts.
p=$(policy dead <<'EOF'
version: 1
upstreams:
  - server: ntp1.test
  - pool: pool.test
    max: 4
resolve: {timeout: 300ms, attempts: 2}
EOF
)
t0=$(date +%s%N)
resolve "$p" --server "$DNS_DEAD"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "dead resolver: exit 1" '[ $rc -eq 1 ]'
check "dead resolver: timeout per name" '[ "$(field ntp1.test 4)" = timeout ] && [ "$(field pool.test 4)" = timeout ]'
check "dead resolver: every query tried twice" 'has "queries 16" && has "retries 8"'
# budget 300 ms x 2 attempts x 1 resolver; generous upper bound
check "dead resolver: ${ms} ms, within [500, 1800)" '[ $ms -ge 500 ] && [ $ms -lt 1800 ]'
t0=$(date +%s%N)
resolve "$p" --server "$DNS_DEAD,$DNS_ONE"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "dead + live resolver: all resolve (exit 0) in ${ms} ms" '[ $rc -eq 0 ] && [ $ms -lt 3600 ]'

# 6. Literals only: no query, not even to a resolver that would time out.
p=$(policy lit <<'EOF'
version: 1
resolvers: [192.0.2.54]
upstreams:
  - server: 192.0.2.1
  - server: "2001:db8::1"
peers: [198.51.100.7]
EOF
)
before=$(cat "$T"/dnsmasq*.log | grep -c "query\[")
resolve "$p"
resolve "$p" --server "$DNS_ALL"
after=$(cat "$T"/dnsmasq*.log | grep -c "query\[")
check "literals: exit 0, 0 queries" '[ $rc -eq 0 ] && has "queries 0"'
check "literals pass through" 'has "addr 192.0.2.1 ipv4 - upstream - 192.0.2.1" &&
	has "addr 2001:db8::1 ipv6 - upstream - 2001:db8::1" && has "addr 198.51.100.7 ipv4 - peer - 198.51.100.7"'
check "literals: dnsmasq logged no query ($before = $after)" '[ "$before" = "$after" ]'

# 7. Without --server or resolvers: the namespace's /etc/resolv.conf.
p=$(policy conf <<'EOF'
version: 1
upstreams:
  - server: ntp2.test
EOF
)
resolve "$p"
check "resolv.conf: ntp2.test" '[ $rc -eq 0 ] && has "addr 192.0.2.12 ipv4 60 upstream - ntp2.test"'

p=$(policy v6 <<'EOF'
version: 1
resolvers: ["[2001:db8::53]:5301"]
upstreams:
  - server: ntp3.test
EOF
)
before=$(grep -c "query\[.*ntp3.test from 2001:db8::53" "$T/dnsmasq1.log")
resolve "$p"
after=$(grep -c "query\[.*ntp3.test from 2001:db8::53" "$T/dnsmasq1.log")
check "policy resolvers: [IPv6]:port used" '[ $rc -eq 0 ] && has "addr 2001:db8::13 ipv6 120 upstream - ntp3.test" &&
	[ $((after - before)) = 2 ]'

# 8. Usage errors exit 2.
dns_exec "$NTPWALL" resolve --format yaml "$p" >/dev/null 2>&1
check "bad --format exits 2" '[ $? -eq 2 ]'
dns_exec "$NTPWALL" resolve --server "not an address" "$p" >/dev/null 2>&1
check "bad --server exits 2" '[ $? -eq 2 ]'

# 9. lint --resolve (through the namespace's resolv.conf): NW140 for a name
# that fails, NW210 for a server name giving 4+ addresses, NW211 for a
# wanted family without an upstream address, waivers honoured.
p=$(policy lint <<'EOF'
version: 1
upstreams:
  - server: multi.test
  - server: ntp2.test
  - server: nx.test
  - pool: pool.test
    max: 4
EOF
)
dns_exec "$NTPWALL" lint --resolve "$p" > "$T/out.txt" 2>&1
rc=$?
if grep -q "not built" "$T/out.txt"; then
	echo "skip: lint --resolve is not wired into cmd_lint yet"
else
	check "lint --resolve: exit 1 with NW140" '[ $rc -eq 1 ] &&
		grep -q "lint.yaml:5:13: error: .nx.test. does not exist (NXDOMAIN) \[NW140\]" "$T/out.txt"'
	check "lint --resolve: NW210 for multi.test" \
		'grep -q "lint.yaml:3:13: warning: .multi.test. gives 4 addresses.*\[NW210\]" "$T/out.txt"'
	p=$(policy lint2 <<'EOF'
version: 1
upstreams:
  - server: multi.test
  - server: ntp2.test
  - server: 192.0.2.1
  - server: 192.0.2.2
waive:
  NW210: "multi.test is our anycast cluster"
EOF
)
	dns_exec "$NTPWALL" lint --resolve "$p" > "$T/out.txt" 2>&1
	rc=$?
	check "lint --resolve: NW211 for IPv6, NW210 waived" '[ $rc -eq 0 ] &&
		grep -q "\[NW211\]" "$T/out.txt" && ! grep -q "NW210\|NW208\|NW201" "$T/out.txt"'
	# Four names, three servers: ntp1.test is 192.0.2.11, given literally too.
	p=$(policy lint3 <<'EOF'
version: 1
families: [ipv4]
upstreams:
  - server: ntp1.test
  - server: ntp2.test
  - server: peer.test
  - server: 192.0.2.11
EOF
)
	dns_exec "$NTPWALL" lint --resolve "$p" > "$T/out.txt" 2>&1
	rc=$?
	check "lint --resolve: NW201 for overlapping names" '[ $rc -eq 0 ] &&
		grep -q "lint3.yaml:4:5: warning: the upstreams resolve to only 3 different addresses (names overlap: 192.0.2.11 comes from more than one).*\[NW201\]" "$T/out.txt"'
	dns_exec "$NTPWALL" lint "$p" > "$T/out.txt" 2>&1
	check "lint without --resolve: no NW201 for four names" '! grep -q NW201 "$T/out.txt"'
fi

exit $fail
