/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of the policy loader (policy_load_buffer: every key, default
 * and position) and of lint_policy's warnings. The scalar parsers are in
 * test_policy_scalar.c; bad policies as files, with their exact messages,
 * are in tests/policies/. */
#include "ntpwall/diag.h"
#include "ntpwall/lint.h"
#include "ntpwall/policy.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct diags d;

static void setup(void)
{
	diag_init(&d, 0);
}

static void teardown(void)
{
	diag_free(&d);
}

/* Loads text that must be valid and free of errors; the caller frees. */
static struct policy *load_ok(const char *text)
{
	struct policy *p = NULL;
	int ret;

	diag_free(&d);
	ret = policy_load_buffer("t.yaml", text, strlen(text), &d, &p);

	if (ret || !p)
		ck_abort_msg("policy refused (%d): %s", ret, d.n ? d.v[0].msg : "no diagnostic");
	ck_assert_uint_eq(d.errors, 0);
	return p;
}

/* Loads text that must be refused with a finding of code at line:column. */
static void load_err(const char *text, size_t len, enum diag_code code, unsigned line,
		     unsigned column)
{
	struct policy *p = (struct policy *)1;
	int ret;

	diag_free(&d);
	ret = policy_load_buffer("t.yaml", text, len, &d, &p);

	ck_assert_int_eq(ret, -EINVAL);
	ck_assert_ptr_null(p);
	ck_assert_uint_ge(d.errors, 1);
	for (size_t i = 0; i < d.n; i++)
		if (d.v[i].code == code && d.v[i].loc.line == line && d.v[i].loc.column == column)
			return;
	ck_abort_msg("no %s at %u:%u; got: %s %u:%u %s", diag_code_name(code), line, column,
		     diag_code_name(d.v[0].code), d.v[0].loc.line, d.v[0].loc.column, d.v[0].msg);
}

#define ERR(text, code, line, col) load_err(text, strlen(text), code, line, col)

/* Encoding errors come from libyaml's reader, which knows a byte offset but
 * no line: the loader works out the line and column of the first bad byte,
 * and the message still names the byte. */
static void load_err_bytes(const char *text, size_t len, const char *at, unsigned line,
			   unsigned column)
{
	struct policy *p = NULL;

	diag_free(&d);
	ck_assert_int_eq(policy_load_buffer("t.yaml", text, len, &d, &p), -EINVAL);
	ck_assert_ptr_null(p);
	ck_assert_uint_eq(d.n, 1);
	ck_assert_int_eq(d.v[0].code, NW102_ENCODING);
	ck_assert_uint_eq(d.v[0].loc.line, line);
	ck_assert_uint_eq(d.v[0].loc.column, column);
	ck_assert_msg(strstr(d.v[0].msg, at), "'%s' not in '%s'", at, d.v[0].msg);
}

static const char *ntoa(const struct addr *a)
{
	static char buf[INET6_ADDRSTRLEN];

	return addr_str(a, buf, sizeof(buf));
}

#define MIN "version: 1\nupstreams:\n  - pool: uk.pool.ntp.org\n    max: 4\n"

START_TEST(defaults)
{
	struct policy *p = load_ok(MIN);

	ck_assert_str_eq(p->path, "t.yaml");
	ck_assert_uint_eq(p->version, 1);
	ck_assert_str_eq(p->table, "ntpwall");
	ck_assert_int_eq(p->backend, POLICY_BACKEND_NFT);
	ck_assert_uint_eq(p->families, POLICY_FAMILY_IPV4 | POLICY_FAMILY_IPV6);
	ck_assert_uint_eq(p->n_interfaces, 0);
	ck_assert_uint_eq(p->n_resolvers, 0);
	ck_assert_uint_eq(p->resolve.timeout_ms, 2000);
	ck_assert_uint_eq(p->resolve.attempts, 2);
	ck_assert_uint_eq(p->resolve.pool_queries, 3);
	ck_assert_uint_eq(p->n_peers, 0);
	ck_assert(!p->serve.present);
	ck_assert(!p->serve.has_rate_limit);
	ck_assert(p->restrict_.noquery && p->restrict_.nomodify && p->restrict_.nopeer);
	ck_assert(!p->restrict_.noserve);
	ck_assert_uint_eq(p->restrict_.versions, POLICY_VERSIONS_ALL);
	ck_assert_uint_eq(p->restrict_.ignore.n + p->restrict_.query_from.n, 0);
	ck_assert_int_eq(p->otherwise, POLICY_OTHERWISE_DROP);
	ck_assert_ptr_null(p->log_prefix);
	ck_assert(!p->restrict_.log);
	ck_assert_uint_eq(p->log_rate.count, 5);
	ck_assert_uint_eq(p->log_rate.unit, POLICY_RATE_MINUTE);
	ck_assert_uint_eq(p->log_burst, 5);
	ck_assert_uint_eq(p->log_limit_loc.line, 0);
	ck_assert_uint_eq(p->refresh.expire_ms, 3600000);
	ck_assert(!p->refresh.probe);
	ck_assert_uint_eq(p->probe.timeout_ms, 1000);
	ck_assert_uint_eq(p->probe.samples, 4);
	ck_assert_uint_eq(p->probe.interval_ms, 2000);
	ck_assert_uint_eq(p->probe.warn_offset_ms, 128);
	ck_assert_uint_eq(p->probe.crit_offset_ms, 1000);
	ck_assert_uint_eq(p->probe.max_stratum, 15);
	ck_assert_uint_eq(p->probe.max_root_distance_ms, 1500);
	ck_assert_ptr_null(p->daemon.chrony_sources);
	ck_assert_ptr_null(p->daemon.ntpd_conf);
	ck_assert_uint_eq(p->n_waivers, 0);
	ck_assert_uint_eq(strlen(p->hash), 16);
	policy_free(p);
}
END_TEST

static const char full[] =
	"version: 1\n"						/* 1 */
	"table: office_ntp\n"
	"backend: iptables\n"
	"interfaces: [eth0, \"wg0\"]\n"
	"families: [ipv6]\n"					/* 5 */
	"resolvers: [192.0.2.53, \"192.0.2.54:5353\", \"2001:db8::53\", \"[2001:db8::54]:5300\"]\n"
	"resolve: {timeout: 1.5s, attempts: 3, pool_queries: 5}\n"
	"upstreams:\n"
	"  - pool: UK.Pool.NTP.org\n"
	"    max: 3\n"						/* 10 */
	"  - server: Ntp1.Example.NET\n"
	"    nts: true\n"
	"  - server: 192.0.2.10\n"
	"  - server: \"2001:db8::123\"\n"
	"    nts: false\n"					/* 15 */
	"peers: [198.51.100.7, peer.example.net]\n"
	"serve:\n"
	"  clients: [192.0.2.0/24, \"2001:db8:1::/48\", 0.0.0.0/0]\n"
	"  rate_limit: {per_source: 600/minute, burst: 40}\n"
	"  notrack: true\n"					/* 20 */
	"restrict:\n"
	"  noquery: false\n"
	"  nomodify: false\n"
	"  nopeer: false\n"
	"  noserve: true\n"					/* 25 */
	"  version: [3, 4]\n"
	"  ignore: [203.0.113.0/24]\n"
	"  query_from: [192.0.2.99, \"2001:db8::/32\"]\n"
	"otherwise: log\n"
	"log_prefix: \"nw: \"\n"				/* 30 */
	"refresh: {expire: 5m, probe: true}\n"
	"probe: {timeout: 250ms, samples: 8, interval: 0ms, warn_offset: 64ms,\n"
	"        crit_offset: 2s, max_stratum: 3, max_root_distance: 0.5s}\n"
	"daemon: {chrony_sources: /etc/chrony/sources.d/nw.sources, chronyc: \"chronyc -h /run/chrony/chronyd.sock\",\n"
	"         chrony_options: \"minpoll 4 maxpoll 6\", replace_after: 5}\n"
	"waive:\n"						/* 35 */
	"  NW203: \"monitoring needs ntpq\"\n";

START_TEST(full_schema)
{
	struct policy *p = load_ok(full);

	ck_assert_str_eq(p->table, "office_ntp");
	ck_assert_int_eq(p->backend, POLICY_BACKEND_IPTABLES);
	ck_assert_uint_eq(p->n_interfaces, 2);
	ck_assert_str_eq(p->interfaces[0], "eth0");
	ck_assert_str_eq(p->interfaces[1], "wg0");
	ck_assert_uint_eq(p->families, POLICY_FAMILY_IPV6);
	ck_assert_uint_eq(p->resolve.timeout_ms, 1500);
	ck_assert_uint_eq(p->resolve.attempts, 3);
	ck_assert_uint_eq(p->resolve.pool_queries, 5);

	ck_assert_uint_eq(p->n_upstreams, 4);
	ck_assert_int_eq(p->upstreams[0].kind, POLICY_UPSTREAM_POOL);
	ck_assert_str_eq(p->upstreams[0].host.name, "uk.pool.ntp.org");
	ck_assert(!p->upstreams[0].host.literal);
	ck_assert_uint_eq(p->upstreams[0].max, 3);
	ck_assert_int_eq(p->upstreams[1].kind, POLICY_UPSTREAM_SERVER);
	ck_assert_str_eq(p->upstreams[1].host.name, "ntp1.example.net");
	ck_assert(p->upstreams[1].nts);
	ck_assert_uint_eq(p->upstreams[1].max, 0);
	ck_assert(p->upstreams[2].host.literal);
	ck_assert_int_eq(p->upstreams[2].host.addr.family, AF_INET);
	ck_assert_str_eq(ntoa(&p->upstreams[2].host.addr), "192.0.2.10");
	ck_assert(!p->upstreams[2].nts);
	ck_assert_int_eq(p->upstreams[3].host.addr.family, AF_INET6);
	ck_assert_str_eq(ntoa(&p->upstreams[3].host.addr), "2001:db8::123");
	ck_assert(!p->upstreams[3].nts);

	ck_assert_uint_eq(p->n_peers, 2);
	ck_assert(p->peers[0].literal);
	ck_assert_str_eq(p->peers[1].name, "peer.example.net");
	ck_assert(!p->peers[1].literal);

	ck_assert(p->serve.present);
	ck_assert_uint_eq(p->serve.clients.n, 3);
	ck_assert_uint_eq(p->serve.clients.v[1].len, 48);
	ck_assert_uint_eq(p->serve.clients.v[2].len, 0);
	ck_assert(p->serve.has_rate_limit);
	ck_assert_uint_eq(p->serve.per_source.count, 600);
	ck_assert_int_eq(p->serve.per_source.unit, POLICY_RATE_MINUTE);
	ck_assert_uint_eq(p->serve.burst, 40);
	ck_assert(p->serve.notrack);

	ck_assert(!p->restrict_.noquery && !p->restrict_.nomodify && !p->restrict_.nopeer);
	ck_assert(p->restrict_.noserve);
	ck_assert_uint_eq(p->restrict_.versions, (1u << 3) | (1u << 4));
	ck_assert_uint_eq(p->restrict_.ignore.n, 1);
	ck_assert_str_eq(ntoa(&p->restrict_.ignore.v[0].addr), "203.0.113.0");
	ck_assert_uint_eq(p->restrict_.query_from.n, 2);
	ck_assert_uint_eq(p->restrict_.query_from.v[0].len, 32);
	ck_assert_uint_eq(p->restrict_.query_from.v[1].len, 32);
	ck_assert_int_eq(p->restrict_.query_from.v[1].addr.family, AF_INET6);

	ck_assert_int_eq(p->otherwise, POLICY_OTHERWISE_LOG);
	ck_assert_str_eq(p->log_prefix, "nw: ");
	ck_assert_uint_eq(p->refresh.expire_ms, 300000);
	ck_assert(p->refresh.probe);
	ck_assert_uint_eq(p->probe.timeout_ms, 250);
	ck_assert_uint_eq(p->probe.samples, 8);
	ck_assert_uint_eq(p->probe.interval_ms, 0);
	ck_assert_uint_eq(p->probe.warn_offset_ms, 64);
	ck_assert_uint_eq(p->probe.crit_offset_ms, 2000);
	ck_assert_uint_eq(p->probe.max_stratum, 3);
	ck_assert_uint_eq(p->probe.max_root_distance_ms, 500);
	ck_assert_str_eq(p->daemon.chrony_sources, "/etc/chrony/sources.d/nw.sources");
	ck_assert_str_eq(p->daemon.chronyc, "chronyc -h /run/chrony/chronyd.sock");
	ck_assert_str_eq(p->daemon.chrony_options, "minpoll 4 maxpoll 6");
	ck_assert_uint_eq(p->daemon.replace_after, 5);
	ck_assert_ptr_null(p->daemon.ntpd_conf);
	ck_assert_uint_eq(p->n_waivers, 1);
	ck_assert_int_eq(p->waivers[0].code, NW203_NOQUERY_OFF);
	ck_assert_str_eq(p->waivers[0].reason, "monitoring needs ntpq");
	ck_assert(!p->waivers[0].used);
	ck_assert_ptr_eq(policy_waiver(p, NW203_NOQUERY_OFF), &p->waivers[0]);
	ck_assert_ptr_null(policy_waiver(p, NW201_FEW_UPSTREAMS));
	policy_free(p);
}
END_TEST

/* Every position counts from 1 and names the node itself. */
START_TEST(locations)
{
	struct policy *p = load_ok(full);

	ck_assert_str_eq(p->loc.file, "t.yaml");
	ck_assert_uint_eq(p->loc.line, 1);
	ck_assert_uint_eq(p->loc.column, 1);
	ck_assert_uint_eq(p->upstreams[0].loc.line, 9);
	ck_assert_uint_eq(p->upstreams[0].loc.column, 5);
	ck_assert_uint_eq(p->upstreams[1].host.loc.line, 11);
	ck_assert_uint_eq(p->upstreams[1].host.loc.column, 13);
	ck_assert_uint_eq(p->peers[1].loc.line, 16);
	ck_assert_uint_eq(p->peers[1].loc.column, 23);
	ck_assert_uint_eq(p->resolvers[3].loc.line, 6);
	ck_assert_uint_eq(p->resolvers[3].loc.column, 60);
	ck_assert_uint_eq(p->serve.clients.v[1].loc.line, 18);
	ck_assert_uint_eq(p->serve.clients.v[1].loc.column, 27);
	ck_assert_uint_eq(p->restrict_.noquery_loc.line, 22);
	ck_assert_uint_eq(p->restrict_.noquery_loc.column, 12);
	ck_assert_uint_eq(p->restrict_.version_loc.line, 26);
	ck_assert_uint_eq(p->restrict_.version_loc.column, 12);
	ck_assert_uint_eq(p->waivers[0].loc.line, 37);
	ck_assert_uint_eq(p->waivers[0].loc.column, 3);
	policy_free(p);

	/* CRLF line ends change no position. */
	p = load_ok("version: 1\r\nupstreams:\r\n  - server: 192.0.2.1\r\n");
	ck_assert_uint_eq(p->upstreams[0].host.loc.line, 3);
	ck_assert_uint_eq(p->upstreams[0].host.loc.column, 13);
	policy_free(p);
	/* Columns count characters, not bytes. */
	ERR(MIN "waive: {NW201: \"ééé\", NW999: x}\n", NW127_ENUM, 5, 23);
}
END_TEST

START_TEST(resolvers)
{
	struct policy *p = load_ok(full);

	ck_assert_uint_eq(p->n_resolvers, 4);
	ck_assert_str_eq(ntoa(&p->resolvers[0].addr), "192.0.2.53");
	ck_assert_uint_eq(p->resolvers[0].port, 53);
	ck_assert_str_eq(ntoa(&p->resolvers[1].addr), "192.0.2.54");
	ck_assert_uint_eq(p->resolvers[1].port, 5353);
	ck_assert_str_eq(ntoa(&p->resolvers[2].addr), "2001:db8::53");
	ck_assert_uint_eq(p->resolvers[2].port, 53);
	ck_assert_str_eq(ntoa(&p->resolvers[3].addr), "2001:db8::54");
	ck_assert_uint_eq(p->resolvers[3].port, 5300);
	policy_free(p);
	p = load_ok(MIN "resolvers: [\"[2001:db8::53]\", \"192.0.2.53:65535\"]\n");
	ck_assert_uint_eq(p->resolvers[0].port, 53);
	ck_assert_uint_eq(p->resolvers[1].port, 65535);
	policy_free(p);
	ERR(MIN "resolvers: [\"192.0.2.53:\"]\n", NW125_RANGE, 5, 13);
	ERR(MIN "resolvers: [\"[2001:db8::53]x\"]\n", NW120_ADDRESS, 5, 13);
	ERR(MIN "resolvers: []\n", NW131_EMPTY, 5, 12);
	/* Brackets are for IPv6 literals only. */
	ERR(MIN "resolvers: [\"[192.0.2.53]:53\"]\n", NW120_ADDRESS, 5, 13);
	ck_assert_str_eq(d.v[0].hint, "did you mean '192.0.2.53:53'?");
	ERR(MIN "resolvers: [\"[192.0.2.53]\"]\n", NW120_ADDRESS, 5, 13);
	ck_assert_str_eq(d.v[0].hint, "did you mean '192.0.2.53'?");
}
END_TEST

START_TEST(families_versions_burst)
{
	struct policy *p = load_ok(MIN "families: [ipv4]\nrestrict: {version: [1]}\n"
				   "serve: {clients: [192.0.2.0/24], rate_limit: {per_source: 16/second}}\n");

	ck_assert_uint_eq(p->families, POLICY_FAMILY_IPV4);
	ck_assert_uint_eq(p->restrict_.versions, 1u << 1);
	/* burst defaults to twice the rate: a client's iburst gets through */
	ck_assert_uint_eq(p->serve.burst, 32);
	ck_assert_int_eq(p->serve.per_source.unit, POLICY_RATE_SECOND);
	policy_free(p);
	p = load_ok(MIN "serve: {clients: [192.0.2.0/24], rate_limit: {per_source: 1000000/hour}}\n");
	ck_assert_uint_eq(p->serve.burst, 65535);
	ck_assert_int_eq(p->serve.per_source.unit, POLICY_RATE_HOUR);
	policy_free(p);
}
END_TEST

START_TEST(document_errors)
{
	static const char nul[] = "version: 1\nupstreams:\n  - server: 192.0\0.2.1\n";
	static const char bom16[] = "\xff\xfev\0e\0r\0";
	char *big, *exact;

	load_err("", 0, NW105_DOCUMENT, 1, 1);
	ERR("# nothing\n", NW105_DOCUMENT, 1, 1);
	ERR("- a\n", NW105_DOCUMENT, 1, 1);
	ERR(MIN "---\n" MIN, NW105_DOCUMENT, 5, 1);
	ERR("version: 1\nupstreams: &u [{server: 192.0.2.1}]\n", NW104_ALIAS, 2, 12);
	ERR("version: 1\nupstreams: *u\n", NW104_ALIAS, 2, 12);
	load_err_bytes(nul, sizeof(nul) - 1, "at byte 39", 3, 18);
	load_err(bom16, sizeof(bom16) - 1, NW102_ENCODING, 1, 1);
	load_err_bytes("version: 1\n# caf\xe9\n", 17, "at byte 16", 2, 6);
	/* Columns count characters; CRLF and a lone CR end a line, as in libyaml. */
	load_err_bytes("version: 1\r\n# \xc3\xa9\xc3\xa9 \xff\n", 21, "at byte 19", 2, 6);
	load_err_bytes("version: 1\r# x\xff\n", 16, "at byte 14", 2, 4);
	load_err_bytes("\xff", 1, "at byte 0", 1, 1);
	/* 32 nested collections (the mapping and 31 lists) load; 33 do not. */
	ERR("version: 1\nx: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n",
	    NW110_UNKNOWN_KEY, 2, 1);
	ERR("version: 1\nx: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n",
	    NW103_TOO_LARGE, 2, 35);
	/* One byte over the limit is refused before parsing. */
	big = malloc(POLICY_MAX_FILE_SIZE + 1);
	ck_assert_ptr_nonnull(big);
	memset(big, '#', POLICY_MAX_FILE_SIZE + 1);
	load_err(big, POLICY_MAX_FILE_SIZE + 1, NW103_TOO_LARGE, 1, 1);
	free(big);
	/* The buffer need not be NUL-terminated (ASan checks the reads). */
	exact = malloc(sizeof(MIN) - 1);
	memcpy(exact, MIN, sizeof(MIN) - 1);
	{
		struct policy *p = NULL;

		ck_assert_int_eq(policy_load_buffer("t.yaml", exact, sizeof(MIN) - 1, &d, &p), 0);
		policy_free(p);
	}
	free(exact);
	policy_free(NULL);
}
END_TEST

/* An unclosed quote or bracket is found at the end of the file or of the
 * collection: the finding points where it opened, and names both places. */
START_TEST(unclosed)
{
	ERR("version: [1\nupstreams: []\n", NW101_SYNTAX, 1, 10);
	ck_assert_str_eq(d.v[0].msg, "YAML: the '[' opened here has no matching ']': "
			 "did not find expected ',' or ']' at line 2, column 10");
	ERR("version: 1\nupstreams:\n  - server: \"192.0.2.1\n  - server: x\n", NW101_SYNTAX, 3, 13);
	ck_assert_str_eq(d.v[0].msg, "YAML: the quote opened here is not closed: "
			 "found unexpected end of stream at line 5, column 1");
	ERR("version: 1\nupstreams: 'abc\n\n", NW101_SYNTAX, 2, 12);
	ERR("version: 1\nupstreams: [{server: a\n\n", NW101_SYNTAX, 2, 13);
	ck_assert_str_eq(d.v[0].msg, "YAML: the '{' opened here has no matching '}': "
			 "did not find expected ',' or '}' at line 4, column 1");
	/* Other errors inside a quote stay where they are found. */
	ERR("version: \"a\\qb\"\n", NW101_SYNTAX, 1, 12);
}
END_TEST

/* YAML allows a UTF-8 byte order mark; positions count from after it. */
START_TEST(byte_order_mark)
{
	struct policy *p = load_ok("\xef\xbb\xbf" MIN);

	ck_assert_uint_eq(p->upstreams[0].host.loc.line, 3);
	ck_assert_uint_eq(p->upstreams[0].host.loc.column, 11);
	policy_free(p);
	ERR("\xef\xbb\xbfversion: 2\nupstreams: [{server: 192.0.2.1}]\n", NW129_VERSION, 1, 10);
	ERR("\xef\xbb\xbf" MIN "zzz: 1\n", NW110_UNKNOWN_KEY, 5, 1);
	/* The byte named counts the mark, the column does not. */
	load_err_bytes("\xef\xbb\xbf# \xff\n", 6, "at byte 5", 1, 3);
}
END_TEST

/* Findings about a whole section point at its key, not at its first child. */
START_TEST(section_keys)
{
	struct policy *p = load_ok(MIN "serve:\n  clients: [192.0.2.0/24]\nrestrict:\n  nopeer: true\n"
				   "  noserve: true\nlog_prefix: x\n");

	ck_assert_uint_eq(p->serve.loc.line, 5);
	ck_assert_uint_eq(p->serve.loc.column, 1);
	ck_assert_uint_eq(p->restrict_.loc.line, 7);
	ck_assert_uint_eq(p->restrict_.loc.column, 1);
	ck_assert_uint_eq(p->restrict_.noserve_loc.line, 9);
	ck_assert_uint_eq(p->restrict_.noserve_loc.column, 3);
	ck_assert_uint_eq(p->log_prefix_loc.line, 10);
	ck_assert_uint_eq(p->log_prefix_loc.column, 1);
	policy_free(p);
	ERR(MIN "serve: {notrack: true}\n", NW112_MISSING, 5, 1);
	ERR(MIN "serve:\n  notrack: true\n", NW112_MISSING, 5, 1);
}
END_TEST

START_TEST(log_prefix)
{
	struct policy *p = load_ok(MIN "otherwise: log\nlog_prefix: \"ntp: \xc3\xa9 'x' \"\n");

	ck_assert_str_eq(p->log_prefix, "ntp: \xc3\xa9 'x' ");
	policy_free(p);
	ERR(MIN "log_prefix: 'a\"b'\n", NW128_NAME, 5, 13);
	ERR(MIN "log_prefix: \"a\\tb\"\n", NW128_NAME, 5, 13);
	ERR(MIN "log_prefix: \"a\\\\b\"\n", NW128_NAME, 5, 13);
	ERR(MIN "log_prefix: [x]\n", NW111_TYPE, 5, 13);
	/* Longer than the 29 bytes of iptables' LOG target: fine, each log
	 * rule's prefix is cut to fit (lint says so, NW213). */
	p = load_ok(MIN "otherwise: log\n" "log_prefix: \"123456789012345678901234567890\"\nbackend: iptables\n");
	policy_free(p);
}
END_TEST

START_TEST(log_limit)
{
	struct policy *p = load_ok(MIN "otherwise: log\nrestrict: {log: true}\n"
				   "log_rate: 10/hour\nlog_burst: 2\n");

	ck_assert(p->restrict_.log);
	ck_assert_uint_eq(p->log_rate.count, 10);
	ck_assert_uint_eq(p->log_rate.unit, POLICY_RATE_HOUR);
	ck_assert_uint_eq(p->log_burst, 2);
	ck_assert_uint_eq(p->log_limit_loc.line, 8);	/* the last of the two keys */
	policy_free(p);
	ERR(MIN "log_rate: 10\n", NW124_RATE, 5, 11);
	ERR(MIN "log_burst: 0\n", NW125_RANGE, 5, 12);
	ERR(MIN "log_burst: 10001\n", NW125_RANGE, 5, 12);
	ERR(MIN "restrict: {log: maybe}\n", NW126_BOOL, 5, 17);
}
END_TEST

START_TEST(schema_errors)
{
	ERR("upstreams: [{server: 192.0.2.1}]\n", NW112_MISSING, 1, 1);
	ERR("version: 1\n", NW112_MISSING, 1, 1);
	ERR("version: 2\nupstreams: [{server: 192.0.2.1}]\n", NW129_VERSION, 1, 10);
	ERR("version: 1.0\nupstreams: [{server: 192.0.2.1}]\n", NW129_VERSION, 1, 10);
	ERR(MIN "upstream: []\n", NW110_UNKNOWN_KEY, 5, 1);
	ck_assert_str_eq(d.v[d.n - 1].hint, "did you mean 'upstreams'?");
	ERR(MIN "zzz: 1\n", NW110_UNKNOWN_KEY, 5, 1);
	ck_assert_ptr_null(d.v[d.n - 1].hint);
	ERR(MIN "table: a\ntable: b\n", NW113_DUPLICATE_KEY, 6, 1);
	ERR("version: 1\nupstreams: [{pool: a.example, server: b.example}]\n", NW114_CONFLICT, 2, 13);
	ERR("version: 1\nupstreams: [{nts: true}]\n", NW112_MISSING, 2, 13);
	ERR("version: 1\nupstreams: [{server: a.example, server: b.example}]\n", NW113_DUPLICATE_KEY, 2, 33);
	ERR("version: 1\nupstreams: [{server: a.example, max: 2}]\n", NW114_CONFLICT, 2, 38);
	ERR("version: 1\nupstreams: [{pool: 192.0.2.1}]\n", NW120_ADDRESS, 2, 20);
	ERR("version: 1\nupstreams: [192.0.2.1]\n", NW111_TYPE, 2, 13);
	ERR("version: 1\nupstreams: {}\n", NW111_TYPE, 2, 12);
	ERR("version: 1\nupstreams: [{server: [a]}]\n", NW111_TYPE, 2, 22);
	ERR("version: 1\nupstreams: [{server: \"\"}]\n", NW111_TYPE, 2, 22);
	ERR("version: 1\nupstreams: [{server: ~}]\n", NW111_TYPE, 2, 22);
	ERR("version: 1\nupstreams: [{pool: a.example, max: \"4\"}]\n", NW111_TYPE, 2, 36);
	ERR(MIN "serve: {clients: [192.0.2.0/24], rate_limit: {burst: 2}}\n", NW112_MISSING, 5, 46);
	ERR(MIN "waive: {NW101: x}\n", NW127_ENUM, 5, 9);
	ERR(MIN "waive: {NW201: x, NW201: y}\n", NW113_DUPLICATE_KEY, 5, 19);
	ERR(MIN "daemon: {ntpd_conf: ntp.conf}\n", NW128_NAME, 5, 21);
	ERR(MIN "daemon: {ntpd_conf: /a.conf, chrony_sources: /b.sources}\n", NW114_CONFLICT, 5, 1);
	ERR(MIN "daemon: {chrony_options: \"minpoll 4\\nserver 192.0.2.9\"}\n", NW128_NAME, 5, 26);
	ERR(MIN "daemon: {chronyc: \"  \"}\n", NW128_NAME, 5, 19);
	ERR(MIN "backend: nftables\n", NW127_ENUM, 5, 10);
	ERR(MIN "otherwise: [drop]\n", NW111_TYPE, 5, 12);
	ERR(MIN "restrict: {noquery: on}\n", NW126_BOOL, 5, 21);
	ERR(MIN "restrict: {noquery: \"true\"}\n", NW126_BOOL, 5, 21);
	ERR(MIN "restrict: {version: [0]}\n", NW125_RANGE, 5, 22);
	ERR(MIN "peers: [\"198.51.100.7\", 198.51.100.7]\n", NW130_DUPLICATE, 5, 25);
	ERR("version: 1\nupstreams: [{server: A.example}, {server: a.EXAMPLE}]\n", NW130_DUPLICATE, 2, 43);
	ERR("version: 1\nupstreams: [{server: \"2001:db8::1\"}, {server: \"2001:db8:0::1\"}]\n",
	    NW130_DUPLICATE, 2, 47);
}
END_TEST

START_TEST(prefixes_in_policy)
{
	ERR(MIN "restrict: {ignore: [192.0.2.1/24]}\n", NW122_HOST_BITS, 5, 21);
	ck_assert_str_eq(d.v[d.n - 1].hint, "did you mean '192.0.2.0/24'?");
	ERR(MIN "restrict: {ignore: [\"2001:db8::1/32\"]}\n", NW122_HOST_BITS, 5, 21);
	ck_assert_str_eq(d.v[d.n - 1].hint, "did you mean '2001:db8::/32'?");
	ERR(MIN "restrict: {ignore: [10.0.0.1/0]}\n", NW122_HOST_BITS, 5, 21);
	ck_assert_str_eq(d.v[d.n - 1].hint, "did you mean '0.0.0.0/0'?");
	ERR(MIN "restrict: {ignore: [192.0.2.0/24, 192.0.2.0/24]}\n", NW130_DUPLICATE, 5, 35);
	ERR(MIN "restrict: {query_from: [192.0.2.0/-1]}\n", NW121_PREFIX, 5, 25);
}
END_TEST

/* --- lint warnings ----------------------------------------------------- */

/* Loads text, lints it and returns how many warnings of code it gave. */
static size_t lint_count(const char *text, enum diag_code code)
{
	struct policy *p = load_ok(text);
	size_t n = 0;

	diag_free(&d);
	lint_policy(p, &d);
	for (size_t i = 0; i < d.n; i++) {
		ck_assert_int_eq(d.v[i].severity, DIAG_WARNING);
		n += d.v[i].code == code;
	}
	policy_free(p);
	return n;
}

#define FOUR "version: 1\nupstreams: [{server: 192.0.2.1}, {server: 192.0.2.2}, " \
	     "{server: 192.0.2.3}, {server: \"2001:db8::4\"}]\n"

START_TEST(lint_warnings)
{
	ck_assert_uint_eq(lint_count(FOUR, NW201_FEW_UPSTREAMS), 0);
	ck_assert_uint_eq(d.n, 0);
	ck_assert_uint_eq(lint_count("version: 1\nupstreams: [{server: 192.0.2.1}]\n",
				     NW201_FEW_UPSTREAMS), 1);
	ck_assert_str_eq(d.v[0].msg, "1 upstream: RFC 8633 asks for at least four so that one bad "
			 "clock is outvoted (waive NW201 with a reason if this is deliberate)");
	ck_assert_uint_eq(d.v[0].loc.line, 2);
	ck_assert_uint_eq(d.v[0].loc.column, 13);
	/* A pool counts for its max, or four without one. */
	ck_assert_uint_eq(lint_count("version: 1\nupstreams: [{pool: a.example, max: 3}, {server: 192.0.2.1}]\n",
				     NW201_FEW_UPSTREAMS), 0);
	ck_assert_uint_eq(lint_count("version: 1\nupstreams: [{pool: a.example, max: 2}, {server: 192.0.2.1}]\n",
				     NW201_FEW_UPSTREAMS), 1);
	ck_assert_uint_eq(lint_count("version: 1\nupstreams: [{pool: a.example}]\n", NW201_FEW_UPSTREAMS), 0);
	ck_assert_uint_eq(lint_count("version: 1\nupstreams: [{pool: a.example}]\n", NW202_POOL_NO_MAX), 1);
	ck_assert_uint_eq(lint_count(FOUR "restrict: {noquery: false}\n", NW203_NOQUERY_OFF), 1);
	ck_assert_uint_eq(lint_count(FOUR "serve: {clients: [192.0.2.0/24]}\n", NW204_NO_RATE_LIMIT), 1);
	ck_assert_uint_eq(d.v[0].loc.line, 3);	/* the serve key, not its first child */
	ck_assert_uint_eq(d.v[0].loc.column, 1);
	ck_assert_uint_eq(lint_count(FOUR "serve: {clients: [192.0.2.0/24], rate_limit: {per_source: 1/second}}\n",
				     NW204_NO_RATE_LIMIT), 0);
	ck_assert_uint_eq(lint_count(FOUR "restrict: {version: [2, 3, 4]}\n", NW206_OLD_VERSION), 1);
	ck_assert_uint_eq(lint_count(FOUR "restrict: {version: [3, 4]}\n", NW206_OLD_VERSION), 0);
	/* Left at the default (all versions), version is not the operator's choice. */
	ck_assert_uint_eq(lint_count(FOUR, NW206_OLD_VERSION), 0);
	ck_assert_uint_eq(lint_count("version: 1\nupstreams: [{server: 192.0.2.1, nts: true}, {pool: a.example, max: 4}]\n",
				     NW207_NTS_LITERAL), 1);
	ck_assert_uint_eq(lint_count("version: 1\nupstreams: [{server: n.example, nts: true}, {pool: a.example, max: 4}]\n",
				     NW207_NTS_LITERAL), 0);
}
END_TEST

START_TEST(lint_never_matches)
{
	ck_assert_uint_eq(lint_count(FOUR "restrict: {ignore: [192.0.2.0/30]}\n", NW205_NEVER_MATCHES), 3);
	ck_assert_uint_eq(lint_count(FOUR "peers: [198.51.100.7]\nrestrict: {ignore: [198.51.100.0/24]}\n",
				     NW205_NEVER_MATCHES), 1);
	ck_assert_uint_eq(lint_count(FOUR "families: [ipv4]\n", NW205_NEVER_MATCHES), 1);
	ck_assert_uint_eq(lint_count(FOUR "families: [ipv6]\n", NW205_NEVER_MATCHES), 3);
	ck_assert_uint_eq(lint_count(FOUR "families: [ipv4]\nserve: {clients: [\"2001:db8::/32\", 192.0.2.0/24], "
				     "rate_limit: {per_source: 1/second}}\n", NW205_NEVER_MATCHES), 2);
	ck_assert_uint_eq(lint_count(FOUR "serve: {clients: [192.0.2.0/24], rate_limit: {per_source: 1/second}}\n"
				     "restrict: {noserve: true}\n", NW205_NEVER_MATCHES), 1);
	ck_assert_uint_eq(d.v[0].loc.line, 4);	/* the noserve key */
	ck_assert_uint_eq(d.v[0].loc.column, 12);
	ck_assert_str_eq(d.v[0].msg, "restrict.noserve drops every client request, but 'serve' (line 3) serves clients");
	ck_assert_uint_eq(lint_count(FOUR "restrict: {query_from: [192.0.2.9]}\n", NW205_NEVER_MATCHES), 1);
	ck_assert_uint_eq(lint_count(FOUR "serve: {clients: [192.0.2.0/24], rate_limit: {per_source: 1/second}}\n"
				     "restrict: {query_from: [192.0.2.9], noquery: false}\n", NW205_NEVER_MATCHES), 1);
	ck_assert_uint_eq(lint_count(FOUR "log_prefix: x\n", NW205_NEVER_MATCHES), 1);
	ck_assert_uint_eq(d.v[0].loc.line, 3);	/* the log_prefix key, not the document */
	ck_assert_uint_eq(d.v[0].loc.column, 1);
	ck_assert_uint_eq(lint_count(FOUR "otherwise: log\nlog_prefix: x\n", NW205_NEVER_MATCHES), 0);
	ck_assert_uint_eq(lint_count(FOUR "restrict: {log: true}\nlog_prefix: x\n", NW205_NEVER_MATCHES), 0);
	ck_assert_uint_eq(lint_count(FOUR "log_burst: 3\n", NW205_NEVER_MATCHES), 1);
	ck_assert_uint_eq(d.v[0].loc.line, 3);
	ck_assert_uint_eq(lint_count(FOUR "otherwise: log\nlog_burst: 3\n", NW205_NEVER_MATCHES), 0);
	/* log_prefix cut to fit a tag into 29 bytes: the longest tag here is
	 * "oth-s" (5): 21 bytes of the prefix are kept. */
	ck_assert_uint_eq(lint_count(FOUR "otherwise: log\nlog_prefix: 123456789012345678901\n",
				     NW213_LOG_PREFIX_CUT), 0);
	ck_assert_uint_eq(lint_count(FOUR "otherwise: log\nlog_prefix: 1234567890123456789012\n",
				     NW213_LOG_PREFIX_CUT), 1);
	ck_assert_uint_eq(d.v[0].loc.line, 4);
	ck_assert_str_eq(d.v[0].msg, "'log_prefix' is cut to \"123456789012345678901\" in the longest "
			 "log prefixes: the rule's tag and ': ' must fit the 29 bytes iptables' LOG "
			 "target keeps");
	/* Names are not checked against prefixes: only resolving tells. */
	ck_assert_uint_eq(lint_count("version: 1\nupstreams: [{pool: a.example, max: 4}]\n"
				     "families: [ipv4]\nrestrict: {ignore: [0.0.0.0/0]}\n", NW205_NEVER_MATCHES), 0);
}
END_TEST

START_TEST(lint_waivers)
{
	static const char one[] = "version: 1\nupstreams: [{server: 192.0.2.1}]\n";
	struct policy *p;

	p = load_ok("version: 1\nupstreams: [{server: 192.0.2.1}]\nwaive: {NW201: \"lab\", NW203: \"x\"}\n");
	lint_policy(p, &d);
	ck_assert(p->waivers[0].used);
	ck_assert(!p->waivers[1].used);
	ck_assert_uint_eq(d.n, 1);
	ck_assert_int_eq(d.v[0].code, NW208_WAIVE_UNUSED);
	ck_assert_str_eq(d.v[0].msg, "NW203 is waived but the policy does not trigger it");
	ck_assert_uint_eq(d.v[0].loc.line, 3);
	ck_assert_uint_eq(d.v[0].loc.column, 23);
	policy_free(p);
	ck_assert_uint_eq(lint_count(one, NW201_FEW_UPSTREAMS), 1);
	/* NW210 and NW211 come only from lint --resolve: without it, their
	 * waivers are not known to be unused. */
	p = load_ok(FOUR "waive: {NW210: \"x\", NW211: \"y\"}\n");
	lint_policy(p, &d);
	ck_assert_uint_eq(d.n, 0);
	lint_policy_resolved(p, &d);
	ck_assert_uint_eq(d.n, 2);
	ck_assert_int_eq(d.v[0].code, NW208_WAIVE_UNUSED);
	ck_assert_int_eq(d.v[1].code, NW208_WAIVE_UNUSED);
	policy_free(p);
	/* Only warnings can be waived, and NW208 itself once. */
	ERR("version: 1\nupstreams: [{server: 192.0.2.1}]\nwaive: {NW110: x}\n", NW127_ENUM, 3, 9);
	ERR("version: 1\nupstreams: [{server: 192.0.2.1}]\nwaive: [NW201]\n", NW111_TYPE, 3, 8);
	ERR("version: 1\nupstreams: [{server: 192.0.2.1}]\nwaive: {NW201: [x]}\n", NW111_TYPE, 3, 16);
}
END_TEST

START_TEST(many_upstreams)
{
	/* Thousands of upstreams load, and a duplicate among them is found. */
	size_t n = 5000, cap = n * 40 + 64, len;
	char *buf = malloc(cap);
	struct policy *p;

	len = (size_t)snprintf(buf, cap, "version: 1\nupstreams:\n");
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, cap - len, "  - server: \"2001:db8::%zx\"\n", i + 1);
	p = load_ok(buf);
	ck_assert_uint_eq(p->n_upstreams, n);
	policy_free(p);
	len += (size_t)snprintf(buf + len, cap - len, "  - server: \"2001:db8::1\"\n");
	load_err(buf, len, NW130_DUPLICATE, (unsigned)n + 3, 13);
	free(buf);
}
END_TEST

/* --- diagnostics list ---------------------------------------------------- */

/* Sorted by file, line and column; equals keep their order. Many findings in
 * reverse order: the old insertion sort took minutes on this. */
START_TEST(diag_sort_stable)
{
	enum { N = 200000 };
	struct loc l = { "t.yaml", 0, 1 };

	for (size_t i = 0; i < N; i++) {
		l.line = (unsigned)(N - i) / 2;
		diag_add(&d, &l, DIAG_WARNING, NW205_NEVER_MATCHES, "%zu", i);
	}
	l.file = "a.yaml";
	diag_add(&d, &l, DIAG_WARNING, NW201_FEW_UPSTREAMS, "first file");
	diag_sort(&d);
	ck_assert_uint_eq(d.n, N + 1);
	ck_assert_str_eq(d.v[0].loc.file, "a.yaml");
	for (size_t i = 2; i < d.n; i++) {
		const struct diag *a = &d.v[i - 1], *b = &d.v[i];

		ck_assert_uint_le(a->loc.line, b->loc.line);
		/* same line: added earlier, listed earlier */
		if (a->loc.line == b->loc.line)
			ck_assert_int_lt(atoi(a->msg), atoi(b->msg));
	}
}
END_TEST

/* Errors past the cap are counted, not recorded; notes count as nothing. */
START_TEST(diag_cap_and_notes)
{
	struct loc l = { "t.yaml", 1, 1 };

	diag_init(&d, 2);
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(diag_add(&d, &l, DIAG_ERROR, NW120_ADDRESS, "e%d", i), -EINVAL);
	ck_assert_int_eq(diag_add(&d, &l, DIAG_WARNING, NW201_FEW_UPSTREAMS, "w"), 0);
	ck_assert_int_eq(diag_add(&d, &l, DIAG_NOTE, DIAG_NO_CODE, "n"), 0);
	ck_assert_uint_eq(d.n, 4);
	ck_assert_uint_eq(d.errors, 2);
	ck_assert_uint_eq(d.warnings, 1);
	ck_assert_uint_eq(d.suppressed, 3);
	ck_assert(d.truncated);
	{
		struct diags all;

		diag_init(&all, 0);
		diag_move(&all, &d);
		ck_assert_uint_eq(all.suppressed, 3);
		ck_assert_uint_eq(all.errors, 2);
		ck_assert_uint_eq(d.suppressed, 0);
		diag_free(&all);
	}
}
END_TEST

/* Moving into a capped list keeps its cap: what a stage collected apart
 * (lint --resolve) counts against the file's ten errors like the rest. */
START_TEST(diag_move_keeps_cap)
{
	struct loc l = { "t.yaml", 1, 1 };
	struct diags dst, src;

	diag_init(&dst, 3);
	diag_init(&src, 0);
	diag_add(&dst, &l, DIAG_ERROR, NW110_UNKNOWN_KEY, "first");
	for (int i = 0; i < 4; i++)
		diag_add(&src, &l, DIAG_ERROR, NW140_RESOLVE, "r%d", i);
	diag_add(&src, &l, DIAG_WARNING, NW201_FEW_UPSTREAMS, "w");
	diag_move(&dst, &src);
	ck_assert_uint_eq(dst.n, 4);
	ck_assert_uint_eq(dst.errors, 3);
	ck_assert_uint_eq(dst.warnings, 1);
	ck_assert_uint_eq(dst.suppressed, 2);
	ck_assert(dst.truncated);
	ck_assert_str_eq(dst.v[1].msg, "r0");
	ck_assert_str_eq(dst.v[2].msg, "r1");
	ck_assert_str_eq(dst.v[3].msg, "w");
	ck_assert_uint_eq(src.n, 0);
	ck_assert_uint_eq(src.errors, 0);
	diag_free(&dst);
	diag_free(&src);
}
END_TEST

static Suite *policy_suite(void)
{
	Suite *s = suite_create("policy");
	TCase *load = tcase_create("load"), *lint = tcase_create("lint");
	TCase *diag = tcase_create("diag");

	tcase_add_checked_fixture(load, setup, teardown);
	tcase_add_checked_fixture(lint, setup, teardown);
	tcase_add_test(load, defaults);
	tcase_add_test(load, full_schema);
	tcase_add_test(load, locations);
	tcase_add_test(load, resolvers);
	tcase_add_test(load, families_versions_burst);
	tcase_add_test(load, document_errors);
	tcase_add_test(load, unclosed);
	tcase_add_test(load, byte_order_mark);
	tcase_add_test(load, section_keys);
	tcase_add_test(load, log_prefix);
	tcase_add_test(load, log_limit);
	tcase_add_test(load, schema_errors);
	tcase_add_test(load, prefixes_in_policy);
	tcase_add_test(load, many_upstreams);
	tcase_add_test(lint, lint_warnings);
	tcase_add_test(lint, lint_never_matches);
	tcase_add_test(lint, lint_waivers);
	tcase_add_checked_fixture(diag, setup, teardown);
	tcase_add_test(diag, diag_sort_stable);
	tcase_add_test(diag, diag_cap_and_notes);
	tcase_add_test(diag, diag_move_keeps_cap);
	suite_add_tcase(s, load);
	suite_add_tcase(s, diag);
	suite_add_tcase(s, lint);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(policy_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
