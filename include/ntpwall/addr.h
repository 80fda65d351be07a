/* SPDX-License-Identifier: GPL-2.0-or-later */
/* An IPv4 or IPv6 address, the one address type every stage shares (policy,
 * resolver, IR, prober, backends, daemons): parse, print, order, and the
 * special ranges an NTP server is never in. */
#ifndef NTPWALL_ADDR_H
#define NTPWALL_ADDR_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

/* An IPv4 or IPv6 address in network byte order. */
struct addr {
	int family;		/* AF_INET or AF_INET6 */
	union {
		struct in_addr v4;
		struct in6_addr v6;
		uint8_t bytes[16];
	};
};

/* "192.0.2.1" or "2001:db8::1" (no zone, no brackets). NULL on success or a
 * static message saying what was expected. */
const char *addr_parse(const char *s, struct addr *a);
/* Format an address into buf (INET6_ADDRSTRLEN bytes). */
const char *addr_str(const struct addr *a, char *buf, size_t len);
/* What kind of special address a is (an NTP server is never one):
 * "unspecified", "loopback", "link-local", "multicast", "reserved" (IPv4
 * 240/4 and broadcast), "IPv4-mapped", or NULL for an ordinary unicast
 * address (private and documentation ranges included). */
const char *addr_special(const struct addr *a);
/* Compare addresses: family first, then bytes. */
int addr_cmp(const struct addr *a, const struct addr *b);

#endif
