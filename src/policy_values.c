/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Strict parsers for the scalar values of a policy: addresses, prefixes,
 * durations, rates, numbers and names. Pure functions, no diagnostics: the
 * caller attaches the returned message to a location. */
#include "ntpwall/policy.h"
#include "ntpwall/util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <limits.h>
#include <net/if.h>
#include <string.h>

static unsigned addr_bits(int family)
{
	return family == AF_INET ? 32 : 128;
}

static bool mask_host_bits(struct addr *a, unsigned len)
{
	unsigned bytes = addr_bits(a->family) / 8;
	bool changed = false;

	for (unsigned i = 0; i < bytes; i++) {
		unsigned keep = len >= (i + 1) * 8 ? 8 : len > i * 8 ? len - i * 8 : 0;
		uint8_t mask = keep ? (uint8_t)(0xff << (8 - keep)) : 0;

		if (a->bytes[i] & ~mask)
			changed = true;
		a->bytes[i] &= mask;
	}
	return changed;
}

const char *policy_parse_prefix(const char *s, struct policy_prefix *p, bool *host_bits)
{
	const char *slash = strchr(s, '/');
	char addr[INET6_ADDRSTRLEN + 1];
	const char *err;
	unsigned long len;

	memset(p, 0, sizeof(*p));
	*host_bits = false;
	if (!slash) {
		err = addr_parse(s, &p->addr);
		if (err)
			return "expected an address prefix such as 192.0.2.0/24 or 2001:db8::/32";
		p->len = addr_bits(p->addr.family);
		return NULL;
	}
	if ((size_t)(slash - s) >= sizeof(addr))
		return "expected an address prefix such as 192.0.2.0/24 or 2001:db8::/32";
	memcpy(addr, s, slash - s);
	addr[slash - s] = '\0';
	if (addr_parse(addr, &p->addr))
		return "expected an address prefix such as 192.0.2.0/24 or 2001:db8::/32";
	if (policy_parse_uint(slash + 1, 0, addr_bits(p->addr.family), &len))
		return p->addr.family == AF_INET ? "expected a prefix length from 0 to 32"
						 : "expected a prefix length from 0 to 128";
	p->len = len;
	if (mask_host_bits(&p->addr, p->len)) {
		*host_bits = true;
		return "prefix has host bits set";
	}
	return NULL;
}

const char *policy_parse_uint(const char *s, unsigned long min, unsigned long max,
			      unsigned long *v)
{
	unsigned long n = 0;

	if (!*s)
		return "expected a number";
	/* Decimal digits only: no sign, no 0x, no leading zeros to read as octal. */
	if (s[0] == '0' && s[1])
		return "expected a decimal number without leading zeros";
	for (const char *c = s; *c; c++) {
		if (!isdigit((unsigned char)*c))
			return "expected a whole decimal number";
		if (n > (ULONG_MAX - 9) / 10)
			return "number too large";
		n = n * 10 + (*c - '0');
	}
	if (n < min || n > max)
		return "number out of range";
	*v = n;
	return NULL;
}

static const struct {
	const char *suffix;
	uint64_t ms;
} duration_units[] = {
	{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
};

/* Durations are capped at 30 days: every duration of a policy is a
 * timeout, an offset or an expiry, and larger values are typos. */
#define DURATION_MAX_MS (30ull * 24 * 3600 * 1000)

const char *policy_parse_duration(const char *s, uint64_t *ms)
{
	const char *p = s;
	uint64_t whole = 0, frac = 0, scale = 1, unit = 0;
	size_t ndigits = 0;

	for (; isdigit((unsigned char)*p); p++, ndigits++) {
		if (whole > DURATION_MAX_MS)
			return "duration too long (at most 30 days)";
		whole = whole * 10 + (*p - '0');
	}
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return "expected a duration such as 500ms, 1s, 1.5s, 5m or 1h";
		for (; isdigit((unsigned char)*p); p++) {
			if (scale >= 1000000000)
				return "too many decimals in duration";
			frac = frac * 10 + (*p - '0');
			scale *= 10;
		}
	} else if (!ndigits) {
		return "expected a duration such as 500ms, 1s, 1.5s, 5m or 1h";
	}
	for (size_t i = 0; i < ARRAY_SIZE(duration_units); i++)
		if (!strcmp(p, duration_units[i].suffix))
			unit = duration_units[i].ms;
	if (!unit)
		return *p ? "unknown duration unit (use ms, s, m or h)"
			  : "duration needs a unit (ms, s, m or h)";
	if (whole > DURATION_MAX_MS / unit)
		return "duration too long (at most 30 days)";
	if ((frac * unit) % scale)
		return "duration finer than a millisecond";
	*ms = whole * unit + frac * unit / scale;
	if (*ms > DURATION_MAX_MS)
		return "duration too long (at most 30 days)";
	return NULL;
}

static const struct {
	const char *word;
	enum policy_rate_unit unit;
} rate_units[] = {
	{ "second", POLICY_RATE_SECOND },
	{ "minute", POLICY_RATE_MINUTE },
	{ "hour", POLICY_RATE_HOUR },
};

const char *policy_parse_rate(const char *s, struct policy_rate *r)
{
	const char *slash = strchr(s, '/');
	char num[16];
	unsigned long n;

	if (!slash || (size_t)(slash - s) >= sizeof(num))
		return "expected a rate such as 16/second or 600/minute";
	memcpy(num, s, slash - s);
	num[slash - s] = '\0';
	if (policy_parse_uint(num, 1, 1000000, &n))
		return "rate must be a whole number of packets from 1 to 1000000";
	for (size_t i = 0; i < ARRAY_SIZE(rate_units); i++) {
		if (!strcmp(slash + 1, rate_units[i].word)) {
			r->count = n;
			r->unit = rate_units[i].unit;
			return NULL;
		}
	}
	return "unknown rate unit (use second, minute or hour)";
}

const char *policy_check_hostname(const char *s)
{
	size_t len = strlen(s), label = 0;
	bool all_numeric = true;

	if (!len)
		return "expected a host name";
	if (len > 253)
		return "host name longer than 253 characters";
	for (size_t i = 0; i <= len; i++) {
		char c = s[i];

		if (c == '.' || c == '\0') {
			if (label == 0)
				return c == '\0' && i == len && i > 0 ? NULL : "host name has an empty label";
			if (label > 63)
				return "host name label longer than 63 characters";
			if (s[i - 1] == '-')
				return "host name label ends with '-'";
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)c) && c != '-')
			return "host name may hold only letters, digits, '-' and '.'";
		if (label == 0 && c == '-')
			return "host name label starts with '-'";
		if (!isdigit((unsigned char)c))
			all_numeric = false;
		label++;
	}
	/* 192.0.2.300 is a bad address, not a name (RFC 1123 section 2.1). */
	if (all_numeric)
		return "expected an IPv4 address such as 192.0.2.1";
	return NULL;
}

const char *policy_check_ifname(const char *s)
{
	size_t len = strlen(s);

	if (!len)
		return "expected an interface name";
	if (len >= IFNAMSIZ)
		return "interface name longer than 15 characters";
	for (const char *c = s; *c; c++)
		if (*c == '/' || isspace((unsigned char)*c) || !isprint((unsigned char)*c))
			return "interface name may not hold '/', spaces or control characters";
	if (!strcmp(s, ".") || !strcmp(s, ".."))
		return "interface name may not be '.' or '..'";
	return NULL;
}

#define STR_(x) #x
#define STR(x) STR_(x)

const char *policy_check_table(const char *s)
{
	size_t len = strlen(s);

	if (!len || len > POLICY_TABLE_NAME_MAX)
		return "table name must be 1 to " STR(POLICY_TABLE_NAME_MAX)
		       " characters (iptables chain names such as <table>-OUT hold 28)";
	if (!isalpha((unsigned char)s[0]))
		return "table name must start with a letter";
	for (const char *c = s; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '_' && *c != '-')
			return "table name may hold only letters, digits, '_' and '-'";
	return NULL;
}

const char *policy_check_log_prefix(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f || *s == '"' || *s == '\\')
			return "'log_prefix' may not hold '\"', '\\' or control characters: it is quoted in nft and iptables rules";
	return NULL;
}

bool policy_prefix_contains(const struct policy_prefix *p, const struct addr *a)
{
	unsigned full = p->len / 8, rest = p->len % 8;

	if (p->addr.family != a->family)
		return false;
	if (memcmp(p->addr.bytes, a->bytes, full))
		return false;
	if (!rest)
		return true;
	return ((p->addr.bytes[full] ^ a->bytes[full]) & (0xff << (8 - rest))) == 0;
}

const struct policy_waiver *policy_waiver(const struct policy *p, enum diag_code code)
{
	for (size_t i = 0; i < p->n_waivers; i++)
		if (p->waivers[i].code == code)
			return &p->waivers[i];
	return NULL;
}
