/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Addresses: the strict parser (dotted-quad IPv4, IPv6 without zone or
 * brackets), the printer, the order, and the special ranges. Pure
 * functions. */
#include "ntpwall/addr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

const char *addr_parse(const char *s, struct addr *a)
{
	memset(a, 0, sizeof(*a));
	if (strchr(s, ':')) {
		if (strchr(s, '%'))
			return "expected an IPv6 address without a zone index";
		if (s[0] == '[')
			return "expected an IPv6 address without brackets";
		if (inet_pton(AF_INET6, s, &a->v6) != 1)
			return "expected an IPv6 address such as 2001:db8::1";
		a->family = AF_INET6;
		return NULL;
	}
	/* inet_pton takes exactly dotted-quad decimal: no octal, no short forms. */
	if (inet_pton(AF_INET, s, &a->v4) != 1)
		return "expected an IPv4 address such as 192.0.2.1";
	a->family = AF_INET;
	return NULL;
}

const char *addr_str(const struct addr *a, char *buf, size_t len)
{
	if (!inet_ntop(a->family, a->bytes, buf, len))
		snprintf(buf, len, "?");
	return buf;
}

int addr_cmp(const struct addr *a, const struct addr *b)
{
	if (a->family != b->family)
		return a->family == AF_INET ? -1 : 1;
	return memcmp(a->bytes, b->bytes, a->family == AF_INET ? 4 : 16);
}

const char *addr_special(const struct addr *a)
{
	const uint8_t *b = a->bytes;

	if (a->family == AF_INET) {
		if (b[0] == 0)
			return "unspecified";
		if (b[0] == 127)
			return "loopback";
		if (b[0] == 169 && b[1] == 254)
			return "link-local";
		if (b[0] >= 224 && b[0] < 240)
			return "multicast";
		return b[0] >= 240 ? "reserved" : NULL;
	}
	if (IN6_IS_ADDR_UNSPECIFIED(&a->v6))
		return "unspecified";
	if (IN6_IS_ADDR_LOOPBACK(&a->v6))
		return "loopback";
	if (IN6_IS_ADDR_LINKLOCAL(&a->v6))
		return "link-local";
	if (IN6_IS_ADDR_MULTICAST(&a->v6))
		return "multicast";
	return IN6_IS_ADDR_V4MAPPED(&a->v6) ? "IPv4-mapped" : NULL;
}
