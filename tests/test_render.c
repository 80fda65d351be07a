/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Check suite for the renderers' details that goldens do not pin down:
 * nft durations, the status listing with counters and expiry, quoting of
 * user text, reject per family, iptables sub-chains for "not in set" and
 * RETURN for what the model accepts. */
#include "ntpwall/render.h"
#include "ntpwall/util.h"

#include <check.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

static char *out_buf;
static size_t out_len;

static FILE *open_out(void)
{
	free(out_buf);
	out_buf = NULL;
	return open_memstream(&out_buf, &out_len);
}

static struct ir_ruleset *ruleset(void)
{
	struct ir_ruleset *rs = ir_ruleset_new("t");
	struct ir_set *s = ir_set_add(rs, "upstreams4", IR_KEY_IPV4, IR_SET_TIMEOUT);
	struct ir_set *q = ir_set_add(rs, "query4", IR_KEY_IPV4, IR_SET_INTERVAL);
	struct addr a;
	struct ir_chain *c;
	struct ir_rule *r;
	struct ir_elem *e;

	ck_assert_ptr_null(addr_parse("192.0.2.1", &a));
	e = ir_set_add_elem(s, &a, 32, "a.example");
	e->timeout_ms = 5400000;
	e->expires_ms = 86400000 + 61001;
	ck_assert_ptr_null(addr_parse("198.51.100.0", &a));
	ir_set_add_elem(q, &a, 24, NULL);
	ck_assert_ptr_null(addr_parse("198.51.100.99", &a));
	ir_set_add_elem(q, &a, 32, NULL);
	c = ir_chain_add(rs, "input", IR_HOOK_INPUT, 0);
	r = ir_rule_add(c, "restrict-noquery4", NULL);
	ir_rule_match_num(r, IR_MATCH_L4PROTO, IPPROTO_UDP);
	ir_rule_match_num(r, IR_MATCH_DPORT, 123);
	ir_rule_match_num(r, IR_MATCH_NFPROTO, IR_NFPROTO_IPV4);
	ir_rule_match_set(r, IR_MATCH_SADDR_SET, "query4")->negate = true;
	ir_rule_match_num(r, IR_MATCH_NTP_MODE, 1u << 6);
	r->verdict = IR_VERDICT_DROP;
	r->packets = 3;
	r->bytes = 144;
	r = ir_rule_add(c, "otherwise-dport", NULL);
	ir_rule_match_num(r, IR_MATCH_L4PROTO, IPPROTO_UDP);
	ir_rule_match_num(r, IR_MATCH_DPORT, 123);
	ir_rule_match_num(r, IR_MATCH_NFPROTO, IR_NFPROTO_IPV6);
	ir_rule_set_log(r, "say \"hi\"\n");
	r->verdict = IR_VERDICT_REJECT;
	ir_ruleset_sort(rs);
	return rs;
}

START_TEST(nft_listing_with_counters)
{
	struct ir_ruleset *rs = ruleset();
	struct render_opts o = { .listing = true, .with_counters = true };
	FILE *f = open_out();

	ck_assert_int_eq(render_nft(rs, &o, f), 0);
	fclose(f);
	ck_assert_msg(!strncmp(out_buf, "table inet t {\n", 15), "%s", out_buf);
	ck_assert_ptr_nonnull(strstr(out_buf, "192.0.2.1 timeout 1h30m expires 1d1m1s1ms "
					       "comment \"a.example\" }"));
	ck_assert_ptr_nonnull(strstr(out_buf, "elements = { 198.51.100.0/24,\n\t\t\t     "
					       "198.51.100.99 }"));
	ck_assert_ptr_nonnull(strstr(out_buf, "\t\tudp dport 123 ip saddr != @query4 "
					       "@th,64,8 & 0x7 == 0x6 counter packets 3 bytes 144 drop "
					       "comment \"restrict-noquery4\"\n"));
	/* Quotes and control characters cannot be escaped in nft strings. */
	ck_assert_ptr_nonnull(strstr(out_buf, "udp dport 123 meta nfproto ipv6 counter packets 0 "
					       "bytes 0 log prefix \"say _hi__\" reject with icmpv6 "
					       "port-unreachable"));
	ir_ruleset_free(rs);
}
END_TEST

/* What a tampered table has and ntpwall never makes is listed, so that
 * `diff` and `status` show it. */
START_TEST(nft_listing_read_back_fields)
{
	static const char head[] = "table inet t {\n\tflags dormant,0x100\n\n\tset ";
	struct ir_ruleset *rs = ruleset();
	struct render_opts o = { .listing = true };
	FILE *f;

	rs->flags = IR_TABLE_DORMANT | 0x100;
	rs->chains[0].type = xstrdup("nat");
	rs->sets[0].flags |= IR_SET_FOREIGN;
	rs->sets[1].policy_memory = true;
	rs->sets[1].gc_interval_ms = 5000;
	ir_chain_add(rs, "in0", IR_HOOK_INGRESS, -500)->device = xstrdup("eth0");
	ir_chain_add(rs, "in1", IR_HOOK_INGRESS, 0)->device = xstrdup("eth0 eth1 lo");
	f = open_out();
	ck_assert_int_eq(render_nft(rs, &o, f), 0);
	fclose(f);
	ck_assert_msg(!strncmp(out_buf, head, strlen(head)), "%s", out_buf);
	ck_assert_ptr_nonnull(strstr(out_buf, "\t\ttype nat hook input priority filter; policy accept;\n"));
	ck_assert_ptr_nonnull(strstr(out_buf, "\tset query4 {\n\t\ttype ipv4_addr\n\t\t# foreign: "
					       "more than ntpwall makes (nft list set shows it)\n"
					       "\t\tflags interval\n"));
	ck_assert_ptr_nonnull(strstr(out_buf, "\tset upstreams4 {\n\t\ttype ipv4_addr\n"
					       "\t\tpolicy memory\n\t\tflags timeout\n"
					       "\t\tgc-interval 5s\n"));
	ck_assert_ptr_nonnull(strstr(out_buf, "\t\ttype filter hook ingress device \"eth0\" "
					       "priority -500; policy accept;\n"));
	ck_assert_ptr_nonnull(strstr(out_buf, "\t\ttype filter hook ingress devices = { \"eth0\", "
					       "\"eth1\", \"lo\" } priority filter; policy accept;\n"));
	ir_ruleset_free(rs);
}
END_TEST

START_TEST(nft_script_preamble)
{
	struct ir_ruleset *rs = ruleset();
	struct render_opts o = { 0 };
	FILE *f = open_out();

	ck_assert_int_eq(render_nft(rs, &o, f), 0);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(out_buf, "\ntable inet t\ndelete table inet t\ntable inet t {\n"));
	ck_assert_ptr_null(strstr(out_buf, "packets"));
	ck_assert_ptr_null(strstr(out_buf, "expires"));
	ir_ruleset_free(rs);
}
END_TEST

START_TEST(iptables_negated_set)
{
	struct ir_ruleset *rs = ruleset();
	struct render_opts o = { 0 };
	FILE *f = open_out();

	ck_assert_int_eq(render_iptables(rs, AF_INET, &o, f), 0);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(out_buf, ":t-IN - [0:0]\n"));
	ck_assert_ptr_nonnull(strstr(out_buf, "-I INPUT 1 -p udp -m multiport --ports 123 "));
	ck_assert_ptr_nonnull(strstr(out_buf, ":t-I1 - [0:0]\n:t-I2 - [0:0]\n"));
	/* Not in the set: a jump to the set's chain, which RETURNs for its
	 * members and goes to the rule's statements for the rest. */
	ck_assert_ptr_nonnull(strstr(out_buf, "--u32 \"0>>22&0x3C@8>>24&0x7=6\" -m comment "
					       "--comment \"restrict-noquery4\" -j t-I1\n"));
	ck_assert_ptr_nonnull(strstr(out_buf, "-A t-I1 -m comment --comment "
					       "\"saddr != @query4 flags 0x2\"\n"));
	ck_assert_ptr_nonnull(strstr(out_buf, "-A t-I1 -s 198.51.100.0/24 -m comment --comment "
					       "\"restrict-noquery4\" -j RETURN\n"));
	ck_assert_ptr_nonnull(strstr(out_buf, "-A t-I1 -s 198.51.100.99/32 "));
	ck_assert_ptr_nonnull(strstr(out_buf, "-A t-I1 -m comment --comment \"restrict-noquery4\" "
					       "-g t-I2\n"));
	ck_assert_ptr_nonnull(strstr(out_buf, "-A t-I2 -m comment --comment \"restrict-noquery4\" "
					       "-j DROP\n"));
	/* The IPv6-only rule is not in the IPv4 rendering. */
	ck_assert_ptr_null(strstr(out_buf, "otherwise-dport"));
	f = open_out();
	ck_assert_int_eq(render_iptables(rs, AF_INET6, &o, f), 0);
	fclose(f);
	ck_assert_ptr_null(strstr(out_buf, "restrict-noquery4"));
	ck_assert_ptr_nonnull(strstr(out_buf, "-j LOG --log-prefix \"say _hi__\"\n"));
	ck_assert_ptr_nonnull(strstr(out_buf, "-j REJECT --reject-with icmp6-port-unreachable\n"));
	ir_ruleset_free(rs);
}
END_TEST

/* What the model accepts is RETURN; an accept over a set leaves through
 * a goto, and the rules after it continue in a chain of their own. */
START_TEST(iptables_accept_is_return)
{
	struct ir_ruleset *rs = ruleset();
	struct ir_chain *c = &rs->chains[0];
	struct render_opts o = { 0 };
	struct ir_rule *r, tmp;
	FILE *f;

	r = ir_rule_add(c, "ingress-upstreams4", NULL);
	ir_rule_match_num(r, IR_MATCH_L4PROTO, IPPROTO_UDP);
	ir_rule_match_num(r, IR_MATCH_SPORT, 123);
	ir_rule_match_num(r, IR_MATCH_NFPROTO, IR_NFPROTO_IPV4);
	ir_rule_match_set(r, IR_MATCH_SADDR_SET, "upstreams4");
	r->verdict = IR_VERDICT_ACCEPT;
	/* Before otherwise-dport, which must come after it. */
	tmp = c->rules[2];
	c->rules[2] = c->rules[1];
	c->rules[1] = tmp;
	f = open_out();
	ck_assert_int_eq(render_iptables(rs, AF_INET, &o, f), 0);
	fclose(f);
	ck_assert_ptr_null(strstr(out_buf, "-j ACCEPT"));
	ck_assert_ptr_nonnull(strstr(out_buf, "-A t-IN -p udp -m udp --sport 123 -m comment "
					       "--comment \"ingress-upstreams4\" -g t-I3\n"));
	ck_assert_ptr_nonnull(strstr(out_buf, "-A t-I3 -s 192.0.2.1/32 -m comment --comment "
					       "\"ingress-upstreams4 timeout 5400000 from a.example\" "
					       "-g t-I4\n"));
	ck_assert_ptr_nonnull(strstr(out_buf, "-A t-I4 -m comment --comment \"ingress-upstreams4\" "
					       "-j RETURN\n"));
	ir_ruleset_free(rs);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("render");
	TCase *tc = tcase_create("render");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, nft_listing_with_counters);
	tcase_add_test(tc, nft_listing_read_back_fields);
	tcase_add_test(tc, nft_script_preamble);
	tcase_add_test(tc, iptables_negated_set);
	tcase_add_test(tc, iptables_accept_is_return);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	free(out_buf);
	return failed ? 1 : 0;
}
