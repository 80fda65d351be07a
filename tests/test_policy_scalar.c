/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of the policy's scalar parsers, shared with the command line:
 * durations, rates, prefixes, addresses, numbers and names, at their edges. */
#include "ntpwall/policy.h"

#include <arpa/inet.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>

static const char *ntoa(const struct addr *a)
{
	static char buf[INET6_ADDRSTRLEN];

	return addr_str(a, buf, sizeof(buf));
}

START_TEST(durations)
{
	static const struct {
		const char *s;
		uint64_t ms;
	} good[] = {
		{ "250ms", 250 }, { "1s", 1000 }, { "1.5s", 1500 }, { "0.5s", 500 },
		{ ".5s", 500 }, { "5m", 300000 }, { "1h", 3600000 }, { "0ms", 0 },
		{ "0.001s", 1 }, { "0.0001h", 360 }, { "1.25m", 75000 }, { "720h", 2592000000ull },
		{ "2592000000ms", 2592000000ull }, { "007s", 7000 },
	};
	static const char *const bad[] = {
		"", "s", "5", "1.s", "1.", "-1s", "+1s", "1 s", "1S", "1d", "1sec", "1.0005s",
		"1.5ms", "0.1ms", "721h", "2592000001ms", "99999999999999999999999s",
		"1.0000000001s", "1e3ms", "1,5s", "1h30m", "s1",
	};
	uint64_t ms;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ms = 12345;
		ck_assert_msg(!policy_parse_duration(good[i].s, &ms), "%s refused", good[i].s);
		ck_assert_msg(ms == good[i].ms, "%s gave %llu", good[i].s, (unsigned long long)ms);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(policy_parse_duration(bad[i], &ms), "%s accepted", bad[i]);
	ck_assert_str_eq(policy_parse_duration("5", &ms), "duration needs a unit (ms, s, m or h)");
	ck_assert_str_eq(policy_parse_duration("1.0005s", &ms), "duration finer than a millisecond");
}
END_TEST

START_TEST(rates)
{
	struct policy_rate r;

	ck_assert_ptr_null(policy_parse_rate("16/second", &r));
	ck_assert_uint_eq(r.count, 16);
	ck_assert_int_eq(r.unit, POLICY_RATE_SECOND);
	ck_assert_ptr_null(policy_parse_rate("600/minute", &r));
	ck_assert_int_eq(r.unit, POLICY_RATE_MINUTE);
	ck_assert_ptr_null(policy_parse_rate("1000000/hour", &r));
	ck_assert_uint_eq(r.count, 1000000);
	ck_assert_int_eq(r.unit, POLICY_RATE_HOUR);
	static const char *const bad[] = {
		"", "16", "/second", "0/second", "1000001/second", "16/sec", "16/Second",
		"016/second", "-1/second", "16/second/x", "16 /second", "1.5/second",
		"99999999999999999/second", "16/",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(policy_parse_rate(bad[i], &r), "%s accepted", bad[i]);
}
END_TEST

START_TEST(prefixes)
{
	static const struct {
		const char *s, *addr;
		unsigned len;
		bool host_bits;
	} cases[] = {
		{ "192.0.2.0/24", "192.0.2.0", 24, false },
		{ "192.0.2.1", "192.0.2.1", 32, false },
		{ "0.0.0.0/0", "0.0.0.0", 0, false },
		{ "192.0.2.128/25", "192.0.2.128", 25, false },
		{ "192.0.2.129/25", "192.0.2.128", 25, true },
		{ "192.0.2.1/24", "192.0.2.0", 24, true },
		{ "10.255.255.255/0", "0.0.0.0", 0, true },
		{ "198.51.100.255/31", "198.51.100.254", 31, true },
		{ "2001:db8::/32", "2001:db8::", 32, false },
		{ "::/0", "::", 0, false },
		{ "2001:db8::1", "2001:db8::1", 128, false },
		{ "2001:db8:1::1/48", "2001:db8:1::", 48, true },
		{ "2001:db8:ffff::/33", "2001:db8:8000::", 33, true },
		{ "2001:db8::1/127", "2001:db8::", 127, true },
	};
	static const char *const bad[] = {
		"", "/24", "192.0.2.0/", "192.0.2.0/33", "192.0.2.0/024", "192.0.2/24",
		"192.0.2.0/24/1", "2001:db8::/129", "[2001:db8::]/32", "192.0.2.0/ 24",
		"192.0.2.0/-1", "example.net/24", "fe80::%eth0/64",
	};
	struct policy_prefix p;
	bool hb;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *e = policy_parse_prefix(cases[i].s, &p, &hb);

		ck_assert_msg((e != NULL) == cases[i].host_bits, "%s: %s", cases[i].s, e ? e : "ok");
		ck_assert_msg(hb == cases[i].host_bits, "%s: host bits", cases[i].s);
		ck_assert_str_eq(ntoa(&p.addr), cases[i].addr);
		ck_assert_uint_eq(p.len, cases[i].len);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(policy_parse_prefix(bad[i], &p, &hb), "%s accepted", bad[i]);
		ck_assert(!hb);
	}
}
END_TEST

START_TEST(prefix_contains_and_addresses)
{
	struct policy_prefix p;
	struct addr a, b;
	bool hb;

	ck_assert_ptr_null(policy_parse_prefix("192.0.2.128/25", &p, &hb));
	ck_assert_ptr_null(addr_parse("192.0.2.200", &a));
	ck_assert(policy_prefix_contains(&p, &a));
	ck_assert_ptr_null(addr_parse("192.0.2.127", &a));
	ck_assert(!policy_prefix_contains(&p, &a));
	ck_assert_ptr_null(addr_parse("::ffff:192.0.2.200", &a));
	ck_assert(!policy_prefix_contains(&p, &a));
	ck_assert_ptr_null(policy_parse_prefix("::/0", &p, &hb));
	ck_assert(policy_prefix_contains(&p, &a));

	ck_assert_ptr_null(addr_parse("2001:DB8:0::1", &a));
	ck_assert_ptr_null(addr_parse("2001:db8::1", &b));
	ck_assert_int_eq(addr_cmp(&a, &b), 0);
	ck_assert_ptr_null(addr_parse("192.0.2.1", &b));
	ck_assert_int_gt(addr_cmp(&a, &b), 0);
	ck_assert_int_lt(addr_cmp(&b, &a), 0);

	static const char *const bad[] = {
		"", "192.0.2", "192.0.2.256", "192.0.2.01", "0x1.2.3.4", "1.2.3.4.5", " 192.0.2.1",
		"fe80::1%eth0", "[2001:db8::1]", "2001:db8:::1", "2001:db8::g", "example.net",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(addr_parse(bad[i], &a), "%s accepted", bad[i]);
}
END_TEST

START_TEST(uints)
{
	unsigned long v = 99;

	ck_assert_ptr_null(policy_parse_uint("0", 0, 10, &v));
	ck_assert_uint_eq(v, 0);
	ck_assert_ptr_null(policy_parse_uint("10", 0, 10, &v));
	ck_assert_uint_eq(v, 10);
	ck_assert_ptr_null(policy_parse_uint("1", 1, 1, &v));
	ck_assert_ptr_null(policy_parse_uint("4294967296", 0, 1ul << 40, &v));
	ck_assert_uint_eq(v, 4294967296ul);
	ck_assert_str_eq(policy_parse_uint("11", 0, 10, &v), "number out of range");
	ck_assert_str_eq(policy_parse_uint("0", 1, 10, &v), "number out of range");
	ck_assert_str_eq(policy_parse_uint("", 0, 10, &v), "expected a number");
	ck_assert_str_eq(policy_parse_uint("01", 0, 10, &v),
			 "expected a decimal number without leading zeros");
	ck_assert_str_eq(policy_parse_uint("99999999999999999999999", 0, ~0ul, &v),
			 "number too large");
	static const char *const bad[] = { "+1", "-1", "1a", "0x1", " 1", "1 ", "1.0", "00" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(policy_parse_uint(bad[i], 0, 100, &v), "%s accepted", bad[i]);
	ck_assert_uint_eq(v, 4294967296ul);	/* untouched on error */
}
END_TEST

START_TEST(names)
{
	char label63[64], label64[65], name253[254], name254[255];

	memset(label63, 'a', 63);
	label63[63] = '\0';
	memset(label64, 'a', 64);
	label64[64] = '\0';
	/* four 61-character labels + 3 dots = 247, then ".abcde" = 253 */
	memset(name253, 'b', 253);
	for (int i = 61; i < 253; i += 62)
		name253[i] = '.';
	name253[253] = '\0';
	memcpy(name254, name253, 253);
	name254[253] = 'c';
	name254[254] = '\0';

	static const char *const good_hosts[] = { "ntp1.example.net", "localhost", "a", "example.net.",
						  "1a.example", "xn--bcher-kva.example", "A-B.C" };
	static const char *const bad_hosts[] = { "", ".", ".example", "a..b", "-a.b", "a-.b", "a_b.c",
						 "a b", "192.0.2.300", "1.2.3", "12345", "a.b/c", "é.example" };
	for (size_t i = 0; i < sizeof(good_hosts) / sizeof(good_hosts[0]); i++)
		ck_assert_msg(!policy_check_hostname(good_hosts[i]), "%s refused", good_hosts[i]);
	for (size_t i = 0; i < sizeof(bad_hosts) / sizeof(bad_hosts[0]); i++)
		ck_assert_msg(policy_check_hostname(bad_hosts[i]), "%s accepted", bad_hosts[i]);
	ck_assert_ptr_null(policy_check_hostname(label63));
	ck_assert_str_eq(policy_check_hostname(label64), "host name label longer than 63 characters");
	ck_assert_ptr_null(policy_check_hostname(name253));
	ck_assert_str_eq(policy_check_hostname(name254), "host name longer than 253 characters");

	ck_assert_ptr_null(policy_check_ifname("eth0"));
	ck_assert_ptr_null(policy_check_ifname("eth0.100"));
	ck_assert_ptr_null(policy_check_ifname("enp0s31f6-upl15"));	/* 15: IFNAMSIZ - 1 */
	ck_assert_str_eq(policy_check_ifname("enp0s31f6-uplnk16"), "interface name longer than 15 characters");
	static const char *const bad_if[] = { "", "a/b", "a b", ".", "..", "a\tb", "a\nb" };
	for (size_t i = 0; i < sizeof(bad_if) / sizeof(bad_if[0]); i++)
		ck_assert_msg(policy_check_ifname(bad_if[i]), "%s accepted", bad_if[i]);

	ck_assert_ptr_null(policy_check_table("ntpwall"));
	ck_assert_ptr_null(policy_check_table("a-b_C9"));
	/* iptables chain names hold 28 characters: <TABLE>-OUT and <TABLE>-PRE
	 * leave 24 for the table. */
	ck_assert_uint_eq(POLICY_TABLE_NAME_MAX + strlen("-OUT"), 28);
	ck_assert_ptr_null(policy_check_table("abcdefghijabcdefghijabcd"));	/* 24 */
	ck_assert_str_eq(policy_check_table("abcdefghijabcdefghijabcde"),
			 "table name must be 1 to 24 characters (iptables chain names such as <table>-OUT hold 28)");
	static const char *const bad_tables[] = { "", "1a", "_a", "-a", "a.b", "a b", "a/b", "é" };
	for (size_t i = 0; i < sizeof(bad_tables) / sizeof(bad_tables[0]); i++)
		ck_assert_msg(policy_check_table(bad_tables[i]), "%s accepted", bad_tables[i]);

	/* Log prefixes go between double quotes into nft and iptables rules. */
	ck_assert_ptr_null(policy_check_log_prefix("ntpwall: "));
	ck_assert_ptr_null(policy_check_log_prefix("ntp drop \xc3\xa9 [x] 'y': "));
	static const char *const bad_prefixes[] = { "a\"b", "a\\b", "a\nb", "a\tb", "a\rb", "a\x7f", "\x1b[31m" };
	for (size_t i = 0; i < sizeof(bad_prefixes) / sizeof(bad_prefixes[0]); i++)
		ck_assert_msg(policy_check_log_prefix(bad_prefixes[i]), "%s accepted", bad_prefixes[i]);
}
END_TEST

static Suite *scalar_suite(void)
{
	Suite *s = suite_create("policy_scalar");
	TCase *tc = tcase_create("scalar");

	tcase_add_test(tc, durations);
	tcase_add_test(tc, rates);
	tcase_add_test(tc, prefixes);
	tcase_add_test(tc, prefix_contains_and_addresses);
	tcase_add_test(tc, uints);
	tcase_add_test(tc, names);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(scalar_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
