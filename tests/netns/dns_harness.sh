# Sourced helper (POSIX sh): a throw-away network namespace with three
# dnsmasq instances on documentation addresses, for resolver tests and the
# resolve benchmark. Nothing leaves the namespace.
#
#   . "$SRCDIR/tests/netns/dns_harness.sh"
#   dns_start || exit $?       # 77 when namespaces are not available
#   dns_exec CMD...            # run CMD inside the namespace
#   (cleanup runs from the EXIT trap dns_start installs)
#
# Layout: a veth pair dns0/dns1, both ends inside the namespace; dns0 has
# 192.0.2.53/24 and 2001:db8::53/64.
# Instance k (k = 0, 1, 2) listens on both addresses, port DNS_PORTk
# (53, 5301, 5302). Every instance holds the same plain names; pool.test
# (12 A + 6 AAAA) is split between them, 4 A and 2 AAAA each: dnsmasq always
# returns every record of a name, so a pool's rotating answers are emulated
# by rotating resolvers (c-ares ARES_OPT_ROTATE sends successive queries to
# successive servers). Any other name under .test is NXDOMAIN (--local);
# a name outside .test is REFUSED (no upstream). 192.0.2.54 is on dns0's
# subnet with a permanent neighbour entry to a MAC nobody has: queries to it
# leave dns0 and are dropped silently at dns1, as a dead resolver's would
# be (no ARP failure, no ICMP error: a real timeout).
#
# Records (TTL in seconds):
#   ntp1.test   192.0.2.11, 2001:db8::11      300
#   ntp2.test   192.0.2.12                     60
#   ntp3.test   2001:db8::13                  120
#   peer.test   192.0.2.31                     45
#   multi.test  192.0.2.21 .. 192.0.2.24       90
#   pool.test   198.51.100.1 .. .12, 2001:db8:1::1 .. ::6   150
#   nK.test     198.18.0.K (K = 1..200)       600

DNS_NS="ntpwall-dns-$$"
DNS_DIR=""
DNS_ADDR=192.0.2.53
DNS_ADDR6=2001:db8::53
DNS_DEAD=192.0.2.54
DNS_PORT0=53
DNS_PORT1=5301
DNS_PORT2=5302
# c-ares server lists for --server
DNS_ALL="$DNS_ADDR:$DNS_PORT0,$DNS_ADDR:$DNS_PORT1,$DNS_ADDR:$DNS_PORT2"
DNS_ONE="$DNS_ADDR:$DNS_PORT0"
DNS_PIDS=""

dns_skip() {
	if [ "${NTPWALL_REQUIRE_NETNS:-0}" = 1 ]; then
		echo "FAIL: $1 (NTPWALL_REQUIRE_NETNS=1)"
		return 1
	fi
	echo "SKIP: $1"
	return 77
}

dns_cleanup() {
	for pid in $DNS_PIDS; do
		kill "$pid" 2>/dev/null
	done
	for pid in $DNS_PIDS; do
		# wait only works for our own children; poll briefly instead
		n=0
		while kill -0 "$pid" 2>/dev/null && [ $n -lt 50 ]; do
			sleep 0.1
			n=$((n + 1))
		done
	done
	DNS_PIDS=""
	ip netns del "$DNS_NS" 2>/dev/null
	rm -rf "/etc/netns/$DNS_NS"
	[ -n "$DNS_DIR" ] && rm -rf "$DNS_DIR"
	DNS_DIR=""
}

dns_exec() {
	ip netns exec "$DNS_NS" "$@"
}

# Writes the dnsmasq options of instance $1, one a line.
dns_records() {
	echo "--host-record=ntp1.test,192.0.2.11,2001:db8::11,300"
	echo "--host-record=ntp2.test,192.0.2.12,60"
	echo "--host-record=ntp3.test,2001:db8::13,120"
	echo "--host-record=peer.test,192.0.2.31,45"
	for i in 21 22 23 24; do
		echo "--host-record=multi.test,192.0.2.$i,90"
	done
	i=1
	while [ $i -le 200 ]; do
		echo "--host-record=n$i.test,198.18.0.$i,600"
		i=$((i + 1))
	done
	for j in 1 2 3 4; do
		echo "--host-record=pool.test,198.51.100.$(($1 * 4 + j)),150"
	done
	for j in 1 2; do
		echo "--host-record=pool.test,2001:db8:1::$(($1 * 2 + j)),150"
	done
}

dns_start_one() {
	k=$1
	eval port=\$DNS_PORT$k
	dns_records "$k" > "$DNS_DIR/records$k"
	# shellcheck disable=SC2046
	ip netns exec "$DNS_NS" dnsmasq --keep-in-foreground --no-resolv --no-hosts \
		--conf-file=/dev/null --pid-file="$DNS_DIR/dnsmasq$k.pid" --user=root \
		--bind-interfaces --listen-address="$DNS_ADDR" --listen-address="$DNS_ADDR6" \
		--port="$port" --local=/test/ --log-queries --log-facility="$DNS_DIR/dnsmasq$k.log" \
		--cache-size=0 $(cat "$DNS_DIR/records$k") 2>"$DNS_DIR/dnsmasq$k.err" &
	DNS_PIDS="$DNS_PIDS $!"
}

# Waits until instance $1 answers (dnsmasq binds before it forks nothing,
# but the namespace exec takes a moment).
dns_wait() {
	n=0
	while [ $n -lt 50 ]; do
		if grep -q "started, version" "$DNS_DIR/dnsmasq$1.log" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
		n=$((n + 1))
	done
	echo "dnsmasq $1 did not start:"
	cat "$DNS_DIR/dnsmasq$1.err" "$DNS_DIR/dnsmasq$1.log" 2>/dev/null
	return 1
}

dns_start() {
	[ "$(id -u)" = 0 ] || { dns_skip "not root"; return $?; }
	command -v dnsmasq >/dev/null || { dns_skip "no dnsmasq"; return $?; }
	ip netns add "$DNS_NS" 2>/dev/null || { dns_skip "cannot create a network namespace"; return $?; }
	trap dns_cleanup EXIT
	trap 'exit 1' INT TERM HUP
	DNS_DIR=$(mktemp -d /tmp/ntpwall-dns.XXXXXX)
	chmod 755 "$DNS_DIR"
	ip -n "$DNS_NS" link set lo up &&
	ip -n "$DNS_NS" link add dns0 type veth peer name dns1 &&
	ip -n "$DNS_NS" link set dns1 up &&
	ip -n "$DNS_NS" link set dns0 up &&
	ip -n "$DNS_NS" addr add "$DNS_ADDR/24" dev dns0 &&
	ip -n "$DNS_NS" addr add "$DNS_ADDR6/64" dev dns0 nodad &&
	ip -n "$DNS_NS" neigh add "$DNS_DEAD" lladdr 02:00:00:00:00:54 dev dns0 nud permanent || return 1
	# getaddrinfo in the namespace (benchmark) uses instance 0.
	mkdir -p "/etc/netns/$DNS_NS"
	printf 'nameserver %s\noptions timeout:2 attempts:1\n' "$DNS_ADDR" > "/etc/netns/$DNS_NS/resolv.conf"
	for k in 0 1 2; do
		dns_start_one $k
	done
	for k in 0 1 2; do
		dns_wait $k || return 1
	done
}

# Number of queries instance $1 logged for name $2 (any type).
dns_queries() {
	grep -c "query\[[A-Z]*\] $2 from" "$DNS_DIR/dnsmasq$1.log"
}
