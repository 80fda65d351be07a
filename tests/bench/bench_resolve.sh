#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Benchmark (issue 3): N names (default 200) resolved at once by
# resolve_policy() vs one after the other by getaddrinfo(), against the test
# dnsmasq in a network namespace. getaddrinfo reads the namespace's
# resolv.conf, which `ip netns exec` bind-mounts from /etc/netns/NAME/.
# Two rounds: straight to dnsmasq (loopback, round trip ~0.05 ms: server
# time dominates), then through dns_delay, a relay holding each query
# DELAY ms (default 10) as a real network would.
# Usage: bench_resolve.sh BENCH-BIN DELAY-BIN [NAMES [RUNS [DELAY-MS]]]
# Prints the figures; asserts only that every name resolved (no timing
# assertion: machines differ).
set -u
BENCH=$1
DELAYBIN=$2
NAMES=${3:-200}
RUNS=${4:-3}
DELAY=${5:-10}
RELAY=192.0.2.63
. "$SRCDIR/tests/netns/dns_harness.sh"
dns_start || exit $?

nameserver() {
	printf 'nameserver %s\noptions timeout:2 attempts:1\n' "$1" > "/etc/netns/$DNS_NS/resolv.conf"
}

ip -n "$DNS_NS" addr add "$RELAY/32" dev dns0 || exit 1
# not through dns_exec: a function in the background would leave $! a subshell
ip netns exec "$DNS_NS" "$DELAYBIN" "$RELAY" 53 "$DNS_ADDR" 53 "$DELAY" &
DNS_PIDS="$DNS_PIDS $!"
sleep 0.2

echo "# direct to dnsmasq (loopback)"
nameserver "$DNS_ADDR"
dns_exec "$BENCH" "$DNS_ADDR:53" "$NAMES" "$RUNS" || exit 1
echo "# through a relay adding $DELAY ms per round trip"
nameserver "$RELAY"
dns_exec "$BENCH" "$RELAY:53" "$NAMES" "$RUNS" || exit 1
