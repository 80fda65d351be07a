/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Check suite for src/explain*.c: the evaluator over rulesets built in
 * memory (each kind of match, the order of chains, notrack, chain
 * policies, what it does not understand) and over compiled policies, and
 * the defaults explain_complete() fills in. */
#include "fake_resolved.h"
#include "ntpwall/compile.h"
#include "ntpwall/explain.h"
#include "ntpwall/util.h"

#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

static struct addr addr(const char *s)
{
	struct addr a;

	ck_assert_ptr_null(addr_parse(s, &a));
	return a;
}

/* A packet with everything set: no defaults. */
static struct explain_packet pkt(const char *src, unsigned sport, const char *dst,
				 unsigned dport, unsigned mode, enum explain_dir dir, uint32_t ct)
{
	struct explain_packet p = {
		.src = addr(src), .dst = addr(dst), .sport = (uint16_t)sport,
		.dport = (uint16_t)dport, .mode = mode, .version = 4, .dir = dir, .ct = ct,
		.ifname = "eth0", .ifname_set = true, .opcode_set = true, .opcode = 2,
	};

	return p;
}

static void run(const struct ir_ruleset *rs, const struct explain_packet *p,
		struct explain_result *r)
{
	memset(r, 0, sizeof(*r));
	explain_packet(rs, p, r);
}

static void check_decides(const struct explain_result *r, enum explain_verdict v,
			  const char *chain, const char *comment)
{
	ck_assert_str_eq(explain_verdict_name(r->out.verdict), explain_verdict_name(v));
	if (!chain) {
		ck_assert_ptr_null(r->out.chain);
		return;
	}
	ck_assert_ptr_nonnull(r->out.chain);
	ck_assert_str_eq(r->out.chain, chain);
	if (comment)
		ck_assert_str_eq(r->out.comment, comment);
}

static bool has_reason(const struct explain_result *r, const char *needle, bool held)
{
	for (size_t i = 0; i < r->n_reasons; i++)
		if (strstr(r->reasons[i].text, needle) && r->reasons[i].held == held)
			return true;
	return false;
}

/* A small server wall by hand: upstreams (timeout set), clients
 * (interval set) under a rate limit, restrict drops, otherwise. */
static struct ir_ruleset *hand_built(void)
{
	struct ir_ruleset *rs = ir_ruleset_new("t");
	struct ir_set *s;
	struct ir_chain *in, *out;
	struct ir_rule *r;
	struct ir_match *m;
	struct addr a;

	s = ir_set_add(rs, "upstreams4", IR_KEY_IPV4, IR_SET_TIMEOUT);
	a = addr("192.0.2.1");
	ir_set_add_elem(s, &a, 32, "ntp.example.net")->timeout_ms = 3600000;
	s = ir_set_add(rs, "clients4", IR_KEY_IPV4, IR_SET_INTERVAL);
	a = addr("198.51.100.0");
	ir_set_add_elem(s, &a, 24, NULL);
	in = ir_chain_add(rs, "input", IR_HOOK_INPUT, 0);
	r = ir_rule_add(in, "loopback-dport", NULL);
	ir_rule_match_ifname(r, IR_MATCH_IIFNAME, "lo");
	ir_rule_match_num(r, IR_MATCH_L4PROTO, IPPROTO_UDP);
	ir_rule_match_num(r, IR_MATCH_DPORT, 123);
	r->verdict = IR_VERDICT_ACCEPT;
	r = ir_rule_add(in, "restrict-version-dport", NULL);
	ir_rule_match_num(r, IR_MATCH_L4PROTO, IPPROTO_UDP);
	ir_rule_match_num(r, IR_MATCH_DPORT, 123);
	ir_rule_match_num(r, IR_MATCH_NTP_MODE, 0x3f);
	ir_rule_match_num(r, IR_MATCH_NTP_VERSION, 0x18)->negate = true;
	r->verdict = IR_VERDICT_DROP;
	r = ir_rule_add(in, "restrict-nomodify", NULL);
	ir_rule_match_num(r, IR_MATCH_L4PROTO, IPPROTO_UDP);
	ir_rule_match_num(r, IR_MATCH_DPORT, 123);
	ir_rule_match_num(r, IR_MATCH_NTP_MODE, 1u << 6);
	ir_rule_match_num(r, IR_MATCH_NTP_OPCODE, (1u << 3) | (1u << 8));
	r->verdict = IR_VERDICT_DROP;
	r = ir_rule_add(in, "ingress-upstreams4", NULL);
	ir_rule_match_num(r, IR_MATCH_L4PROTO, IPPROTO_UDP);
	ir_rule_match_num(r, IR_MATCH_SPORT, 123);
	ir_rule_match_num(r, IR_MATCH_NFPROTO, IR_NFPROTO_IPV4);
	ir_rule_match_set(r, IR_MATCH_SADDR_SET, "upstreams4");
	ir_rule_match_num(r, IR_MATCH_NTP_MODE, 1u << 4);
	ir_rule_match_num(r, IR_MATCH_CT_STATE, IR_CT_ESTABLISHED);
	r->verdict = IR_VERDICT_ACCEPT;
	r = ir_rule_add(in, "serve-clients4", NULL);
	ir_rule_match_num(r, IR_MATCH_L4PROTO, IPPROTO_UDP);
	ir_rule_match_num(r, IR_MATCH_DPORT, 123);
	ir_rule_match_num(r, IR_MATCH_NFPROTO, IR_NFPROTO_IPV4);
	ir_rule_match_set(r, IR_MATCH_SADDR_SET, "clients4");
	ir_rule_match_num(r, IR_MATCH_NTP_MODE, 1u << 3);
	ir_rule_match_num(r, IR_MATCH_CT_STATE, IR_CT_NEW | IR_CT_ESTABLISHED);
	m = ir_rule_add_match(r, IR_MATCH_RATE_OVER);
	m->negate = true;
	m->u.limit = (struct ir_limit){ .set = xstrdup("rl4"), .rate = 16, .unit_s = 1, .burst = 32 };
	r->verdict = IR_VERDICT_ACCEPT;
	r = ir_rule_add(in, "serve-ratelimit4", NULL);
	ir_rule_match_num(r, IR_MATCH_L4PROTO, IPPROTO_UDP);
	ir_rule_match_num(r, IR_MATCH_DPORT, 123);
	ir_rule_match_num(r, IR_MATCH_NFPROTO, IR_NFPROTO_IPV4);
	ir_rule_match_set(r, IR_MATCH_SADDR_SET, "clients4");
	ir_rule_match_num(r, IR_MATCH_NTP_MODE, 1u << 3);
	r->verdict = IR_VERDICT_DROP;
	r = ir_rule_add(in, "otherwise-dport", NULL);
	ir_rule_match_num(r, IR_MATCH_L4PROTO, IPPROTO_UDP);
	ir_rule_match_num(r, IR_MATCH_DPORT, 123);
	r->verdict = IR_VERDICT_REJECT;
	out = ir_chain_add(rs, "output", IR_HOOK_OUTPUT, 0);
	r = ir_rule_add(out, "egress-upstreams4", NULL);
	ir_rule_match_num(r, IR_MATCH_L4PROTO, IPPROTO_UDP);
	ir_rule_match_num(r, IR_MATCH_DPORT, 123);
	ir_rule_match_num(r, IR_MATCH_NFPROTO, IR_NFPROTO_IPV4);
	ir_rule_match_set(r, IR_MATCH_DADDR_SET, "upstreams4");
	ir_rule_match_num(r, IR_MATCH_NTP_MODE, 1u << 3);
	r->verdict = IR_VERDICT_ACCEPT;
	r = ir_rule_add(out, "otherwise-dport", NULL);
	ir_rule_match_num(r, IR_MATCH_L4PROTO, IPPROTO_UDP);
	ir_rule_match_num(r, IR_MATCH_DPORT, 123);
	r->verdict = IR_VERDICT_DROP;
	ir_ruleset_sort(rs);
	return rs;
}

START_TEST(upstream_reply_needs_established)
{
	struct ir_ruleset *rs = hand_built();
	struct explain_packet p = pkt("192.0.2.1", 123, "203.0.113.9", 40000, 4, EXPLAIN_DIR_IN,
				      IR_CT_ESTABLISHED);
	struct explain_result r;

	run(rs, &p, &r);
	check_decides(&r, EXPLAIN_ACCEPT, "input", "ingress-upstreams4");
	ck_assert_uint_eq(r.out.rule, 3);
	ck_assert_str_eq(r.why, "a server's reply from a trusted upstream");
	ck_assert(has_reason(&r, "source in @upstreams4 (the packet's: 192.0.2.1, in it (from "
			     "ntp.example.net; expires 1h", true));
	ck_assert(has_reason(&r, "ct state established (the packet's: established)", true));
	ck_assert(!r.rate_limited);
	ck_assert_uint_eq(r.out.n_steps, 1);
	explain_result_free(&r);
	/* New: no rule of the input chain takes a packet to port 40000. */
	p.ct = IR_CT_NEW;
	run(rs, &p, &r);
	check_decides(&r, EXPLAIN_CONTINUE, NULL, NULL);
	ck_assert(has_reason(&r, "rule 4 \"ingress-upstreams4\" of chain input would accept, "
			     "but fails: ct state established (the packet's: new)", false));
	explain_result_free(&r);
	ir_ruleset_free(rs);
}
END_TEST

START_TEST(restricts_come_first)
{
	struct ir_ruleset *rs = hand_built();
	struct explain_packet p = pkt("198.51.100.7", 40000, "203.0.113.9", 123, 3,
				      EXPLAIN_DIR_IN, IR_CT_NEW);
	struct explain_result r;

	p.version = 2;
	run(rs, &p, &r);
	check_decides(&r, EXPLAIN_DROP, "input", "restrict-version-dport");
	ck_assert(has_reason(&r, "NTP version not 3, 4 (the packet's: 2)", true));
	explain_result_free(&r);
	/* Mode 6: the opcode decides; a read falls through to otherwise. */
	p.version = 4;
	p.mode = 6;
	p.opcode = 8;
	run(rs, &p, &r);
	check_decides(&r, EXPLAIN_DROP, "input", "restrict-nomodify");
	ck_assert(has_reason(&r, "mode-6 opcode) 3, 8 (the packet's: 8)", true));
	explain_result_free(&r);
	p.opcode = 2;
	run(rs, &p, &r);
	check_decides(&r, EXPLAIN_REJECT, "input", "otherwise-dport");
	ck_assert_uint_eq(r.out.rule, 6);
	explain_result_free(&r);
	/* On lo the loopback rule takes it before any restrict. */
	strcpy(p.ifname, "lo");
	run(rs, &p, &r);
	check_decides(&r, EXPLAIN_ACCEPT, "input", "loopback-dport");
	explain_result_free(&r);
	ir_ruleset_free(rs);
}
END_TEST

START_TEST(rate_limit_is_said_not_guessed)
{
	struct ir_ruleset *rs = hand_built();
	struct explain_packet p = pkt("198.51.100.7", 40000, "203.0.113.9", 123, 3,
				      EXPLAIN_DIR_IN, IR_CT_NEW);
	struct explain_result r;

	run(rs, &p, &r);
	check_decides(&r, EXPLAIN_ACCEPT, "input", "serve-clients4");
	ck_assert(r.rate_limited);
	ck_assert_int_eq(r.over.verdict, EXPLAIN_DROP);
	ck_assert_str_eq(r.over.comment, "serve-ratelimit4");
	ck_assert(has_reason(&r, "subject to the rate limit", true));
	ck_assert(has_reason(&r, "source in @clients4 (the packet's: 198.51.100.7, in it as "
			     "198.51.100.0/24)", true));
	explain_result_free(&r);
	/* Not a client: the meter is never consulted. */
	p.src = addr("203.0.113.5");
	run(rs, &p, &r);
	check_decides(&r, EXPLAIN_REJECT, "input", "otherwise-dport");
	ck_assert(!r.rate_limited);
	ck_assert(has_reason(&r, "\"serve-clients4\" of chain input would accept, but fails: source "
			     "in @clients4 (the packet's: 203.0.113.5, not in it)", false));
	explain_result_free(&r);
	ir_ruleset_free(rs);
}
END_TEST

START_TEST(output_chain_and_families)
{
	struct ir_ruleset *rs = hand_built();
	struct explain_packet p = pkt("203.0.113.9", 40000, "192.0.2.1", 123, 3, EXPLAIN_DIR_OUT,
				      IR_CT_NEW);
	struct explain_result r;

	run(rs, &p, &r);
	check_decides(&r, EXPLAIN_ACCEPT, "output", "egress-upstreams4");
	explain_result_free(&r);
	p.dst = addr("192.0.2.2");
	run(rs, &p, &r);
	check_decides(&r, EXPLAIN_DROP, "output", "otherwise-dport");
	explain_result_free(&r);
	/* IPv6 never meets the IPv4 set. */
	p.src = addr("2001:db8::9");
	p.dst = addr("2001:db8::1");
	run(rs, &p, &r);
	check_decides(&r, EXPLAIN_DROP, "output", "otherwise-dport");
	explain_result_free(&r);
	ir_ruleset_free(rs);
}
END_TEST

/* notrack in a raw chain leaves the packet untracked for the filter
 * chain; chains run by priority whatever their order in the ruleset. */
START_TEST(notrack_and_chain_order)
{
	struct ir_ruleset *rs = ir_ruleset_new("t");
	struct ir_chain *in = ir_chain_add(rs, "input", IR_HOOK_INPUT, 0);
	struct ir_rule *r = ir_rule_add(in, "serve-clients4", NULL);
	struct explain_packet p = pkt("198.51.100.7", 40000, "203.0.113.9", 123, 3,
				      EXPLAIN_DIR_IN, IR_CT_NEW);
	struct explain_result res;
	struct ir_chain *raw;

	ir_rule_match_num(r, IR_MATCH_CT_STATE, IR_CT_UNTRACKED);
	r->verdict = IR_VERDICT_ACCEPT;
	r = ir_rule_add(in, "otherwise-dport", NULL);
	r->verdict = IR_VERDICT_DROP;
	run(rs, &p, &res);
	check_decides(&res, EXPLAIN_DROP, "input", "otherwise-dport");
	explain_result_free(&res);
	raw = ir_chain_add(rs, "raw_prerouting", IR_HOOK_PREROUTING, -300);
	r = ir_rule_add(raw, "notrack-clients4", NULL);
	ir_rule_match_num(r, IR_MATCH_NTP_MODE, 1u << 3);
	r->notrack = true;
	run(rs, &p, &res);
	check_decides(&res, EXPLAIN_ACCEPT, "input", "serve-clients4");
	ck_assert_uint_eq(res.out.n_steps, 2);
	ck_assert_str_eq(res.out.steps[0].chain, "raw_prerouting");
	ck_assert(res.out.steps[0].notrack);
	ck_assert(has_reason(&res, "ct state untracked (the packet's: untracked, by notrack)", true));
	explain_result_free(&res);
	/* Output: neither chain is on the path. */
	p.dir = EXPLAIN_DIR_OUT;
	run(rs, &p, &res);
	check_decides(&res, EXPLAIN_CONTINUE, NULL, NULL);
	explain_result_free(&res);
	ir_ruleset_free(rs);
}
END_TEST

START_TEST(not_understood_is_never_accept)
{
	struct ir_ruleset *rs = ir_ruleset_new("t");
	struct ir_chain *in = ir_chain_add(rs, "input", IR_HOOK_INPUT, 0);
	struct ir_rule *r = ir_rule_add(in, NULL, NULL);
	struct explain_packet p = pkt("198.51.100.7", 40000, "203.0.113.9", 123, 3,
				      EXPLAIN_DIR_IN, IR_CT_NEW);
	struct explain_result res;

	/* A hand-made rule whose known part fails decides nothing. */
	ir_rule_match_num(r, IR_MATCH_DPORT, 4460);
	r->unknown = xstrdup("jump elsewhere");
	r = ir_rule_add(in, "otherwise-dport", NULL);
	r->verdict = IR_VERDICT_ACCEPT;
	run(rs, &p, &res);
	check_decides(&res, EXPLAIN_ACCEPT, "input", "otherwise-dport");
	explain_result_free(&res);
	/* Once its known part holds, the answer is unknown. */
	in->rules[0].matches[0].u.num = 123;
	run(rs, &p, &res);
	check_decides(&res, EXPLAIN_UNKNOWN, "input", NULL);
	ck_assert_uint_eq(res.out.rule, 0);
	ck_assert_ptr_nonnull(strstr(res.unknown, "jump elsewhere"));
	explain_result_free(&res);
	/* A match type from the future. */
	free(in->rules[0].unknown);
	in->rules[0].unknown = NULL;
	in->rules[0].matches[0].type = (enum ir_match_type)99;
	run(rs, &p, &res);
	check_decides(&res, EXPLAIN_UNKNOWN, "input", NULL);
	ck_assert_ptr_nonnull(strstr(res.unknown, "does not understand"));
	explain_result_free(&res);
	/* A nat chain on the path. */
	in->rules[0].matches[0].type = IR_MATCH_DPORT;
	in->rules[0].matches[0].u.num = 4460;
	in->type = xstrdup("nat");
	run(rs, &p, &res);
	check_decides(&res, EXPLAIN_UNKNOWN, "input", NULL);
	ck_assert_ptr_nonnull(strstr(res.unknown, "type nat"));
	explain_result_free(&res);
	/* A set the ruleset lacks. */
	free(in->type);
	in->type = NULL;
	in->rules[0].matches[0].type = IR_MATCH_SADDR_SET;
	in->rules[0].matches[0].u.set = xstrdup("missing4");
	run(rs, &p, &res);
	check_decides(&res, EXPLAIN_UNKNOWN, "input", NULL);
	ck_assert_ptr_nonnull(strstr(res.unknown, "no such set"));
	explain_result_free(&res);
	ir_ruleset_free(rs);
}
END_TEST

START_TEST(chain_policy_drop)
{
	struct ir_ruleset *rs = ir_ruleset_new("t");
	struct ir_chain *in = ir_chain_add(rs, "input", IR_HOOK_INPUT, 0);
	struct explain_packet p = pkt("198.51.100.7", 40000, "203.0.113.9", 123, 3,
				      EXPLAIN_DIR_IN, IR_CT_NEW);
	struct explain_result res;

	in->policy_drop = true;
	run(rs, &p, &res);
	check_decides(&res, EXPLAIN_DROP, "input", NULL);
	ck_assert(res.out.chain_policy);
	ck_assert(has_reason(&res, "its policy is drop", true));
	explain_result_free(&res);
	ir_ruleset_free(rs);
}
END_TEST

START_TEST(defaults)
{
	struct ir_ruleset *rs = hand_built();
	struct explain_packet p = { .src = addr("192.0.2.1"), .dst = addr("203.0.113.9"),
				    .sport = 123, .dport = 123, .mode = 4, .version = 4 };
	struct explain_result r = { 0 };
	char *err;

	ck_assert_int_eq(explain_complete(rs, &p, &r, &err), 0);
	ck_assert_int_eq(p.dir, EXPLAIN_DIR_IN);
	ck_assert_uint_eq(p.ct, IR_CT_ESTABLISHED);
	ck_assert_str_eq(p.ifname, "");
	ck_assert(p.ifname_set);
	ck_assert_uint_eq(r.n_assumed, 2);
	ck_assert_str_eq(r.assumed[0], "direction in: the source 192.0.2.1 is in upstreams4");
	ck_assert_str_eq(r.assumed[1], "state established: a reply (server)");
	explain_result_free(&r);
	/* To an upstream: out and new. */
	p = (struct explain_packet){ .src = addr("203.0.113.9"), .dst = addr("192.0.2.1"),
				     .sport = 40000, .dport = 123, .mode = 3, .version = 4 };
	ck_assert_int_eq(explain_complete(rs, &p, &r, &err), 0);
	ck_assert_int_eq(p.dir, EXPLAIN_DIR_OUT);
	ck_assert_uint_eq(p.ct, IR_CT_NEW);
	explain_result_free(&r);
	/* Neither address in a set, or both: the caller must say. */
	p = (struct explain_packet){ .src = addr("203.0.113.9"), .dst = addr("203.0.113.8"),
				     .sport = 123, .dport = 123, .mode = 3 };
	ck_assert_int_eq(explain_complete(rs, &p, &r, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "give --direction"));
	free(err);
	explain_result_free(&r);
	p.src = addr("198.51.100.7");
	p.dst = addr("192.0.2.1");
	ck_assert_int_eq(explain_complete(rs, &p, &r, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "clients4 (inbound) and 192.0.2.1 in upstreams4"));
	free(err);
	explain_result_free(&r);
	/* Loopback addresses are on lo; mode 6 gets ntpq's opcode. */
	p = (struct explain_packet){ .src = addr("127.0.0.1"), .dst = addr("127.0.0.1"),
				     .sport = 40000, .dport = 123, .mode = 6, .version = 2,
				     .dir = EXPLAIN_DIR_IN };
	ck_assert_int_eq(explain_complete(rs, &p, &r, &err), 0);
	ck_assert_str_eq(p.ifname, "lo");
	ck_assert_uint_eq(p.opcode, 2);
	explain_result_free(&r);
	p.src = addr("2001:db8::1");
	ck_assert_int_eq(explain_complete(rs, &p, &r, &err), -EINVAL);
	free(err);
	explain_result_free(&r);
	ir_ruleset_free(rs);
}
END_TEST

static struct ir_ruleset *compiled(const char *yaml, struct policy **pp, struct resolved **rp)
{
	struct ir_ruleset *rs = NULL;
	struct diags d;

	diag_init(&d, 0);
	ck_assert_int_eq(policy_load_buffer("t.yaml", yaml, strlen(yaml), &d, pp), 0);
	*rp = fake_resolved(*pp);
	ck_assert_int_eq(compile_policy(*pp, *rp, &d, &rs), 0);
	diag_free(&d);
	return rs;
}

/* A compiled server with interfaces, query_from and the restrict flags. */
START_TEST(compiled_server)
{
	static const char yaml[] =
		"version: 1\ninterfaces: [eth0, eth1]\nfamilies: [ipv4]\n"
		"upstreams:\n  - server: 192.0.2.1\n"
		"serve:\n  clients: [198.51.100.0/24]\n  rate_limit: {per_source: 8/second}\n"
		"restrict:\n  query_from: [198.51.100.99]\n  ignore: [203.0.113.0/24]\n";
	struct policy *pol;
	struct resolved *res;
	struct ir_ruleset *rs = compiled(yaml, &pol, &res);
	struct explain_packet p = { .src = addr("198.51.100.99"), .dst = addr("192.0.2.200"),
				    .sport = 40000, .dport = 123, .mode = 6, .version = 2 };
	struct explain_result r = { 0 };
	char *err;

	ck_assert_int_eq(explain_complete(rs, &p, &r, &err), 0);
	ck_assert_str_eq(p.ifname, "eth0");
	explain_packet(rs, &p, &r);
	check_decides(&r, EXPLAIN_ACCEPT, "input", "query-from4@eth0");
	ck_assert_str_eq(r.why, "a mode 6 query from restrict.query_from");
	explain_result_free(&r);
	/* A write from the monitoring host is still refused. */
	p.opcode = 8;
	run(rs, &p, &r);
	check_decides(&r, EXPLAIN_DROP, "input", "restrict-nomodify@eth0");
	explain_result_free(&r);
	/* From another client, mode 6 is not served. */
	p.src = addr("198.51.100.7");
	p.opcode = 2;
	run(rs, &p, &r);
	check_decides(&r, EXPLAIN_DROP, "input", "restrict-noquery4@eth0");
	explain_result_free(&r);
	/* On eth1 the same, by eth1's rules; elsewhere nothing decides. */
	strcpy(p.ifname, "eth1");
	run(rs, &p, &r);
	check_decides(&r, EXPLAIN_DROP, "input", "restrict-noquery4@eth1");
	explain_result_free(&r);
	strcpy(p.ifname, "eth2");
	run(rs, &p, &r);
	check_decides(&r, EXPLAIN_CONTINUE, NULL, NULL);
	explain_result_free(&r);
	/* Ignored sources, both ports. */
	strcpy(p.ifname, "eth0");
	p.src = addr("203.0.113.5");
	p.mode = 4;
	p.sport = 123;
	p.dport = 40000;
	run(rs, &p, &r);
	check_decides(&r, EXPLAIN_DROP, "input", "restrict-ignore-sport4@eth0");
	ck_assert_str_eq(r.why, "the source is in restrict.ignore");
	explain_result_free(&r);
	/* A client's request: accepted within the rate, dropped over it. */
	p = (struct explain_packet){ .src = addr("198.51.100.7"), .dst = addr("192.0.2.200"),
				     .sport = 40000, .dport = 123, .mode = 3, .version = 4,
				     .dir = EXPLAIN_DIR_IN, .ct = IR_CT_NEW, .ifname = "eth1",
				     .ifname_set = true };
	run(rs, &p, &r);
	check_decides(&r, EXPLAIN_ACCEPT, "input", "serve-clients4@eth1");
	ck_assert(r.rate_limited);
	ck_assert_str_eq(r.over.comment, "serve-ratelimit4@eth1");
	explain_result_free(&r);
	/* The answer goes out as established. */
	p = (struct explain_packet){ .src = addr("192.0.2.200"), .dst = addr("198.51.100.7"),
				     .sport = 123, .dport = 40000, .mode = 4, .version = 4,
				     .dir = EXPLAIN_DIR_OUT, .ct = IR_CT_ESTABLISHED,
				     .ifname = "eth1", .ifname_set = true };
	run(rs, &p, &r);
	check_decides(&r, EXPLAIN_ACCEPT, "output", "serve-reply4@eth1");
	explain_result_free(&r);
	ir_ruleset_free(rs);
	resolve_free(res);
	policy_free(pol);
}
END_TEST

static void label_is(const struct ir_ruleset *rs, const char *chain, size_t rule, bool iptables,
		     const char *want)
{
	struct explain_result r = { .iptables = iptables, .pkt.src.family = AF_INET };
	char *s = explain_chain_label(rs, &r, chain, rule);

	ck_assert_str_eq(s, want);
	free(s);
}

/* Where an iptables wall holds a rule: its main chain, or the chain its
 * rules continue in after an accept; the nft name otherwise. */
START_TEST(iptables_chain_label)
{
	static const char yaml[] =
		"version: 1\ntable: tw\nupstreams:\n  - server: 192.0.2.1\n";
	struct policy *pol;
	struct resolved *res;
	struct ir_ruleset *rs = compiled(yaml, &pol, &res);
	const struct ir_chain *in = ir_chain_find(rs, "input");
	size_t up = SIZE_MAX, other = SIZE_MAX;

	ck_assert_ptr_nonnull(in);
	for (size_t i = 0; i < in->n_rules; i++) {
		if (!strcmp(in->rules[i].comment, "ingress-upstreams4"))
			up = i;
		if (!strcmp(in->rules[i].comment, "otherwise-sport"))
			other = i;
	}
	ck_assert_uint_ne(up, SIZE_MAX);
	ck_assert_uint_ne(other, SIZE_MAX);
	label_is(rs, "input", up, false, "chain input");
	label_is(rs, "input", up, true, "iptables chain tw-IN");
	label_is(rs, "input", SIZE_MAX, true, "iptables chain tw-IN");
	label_is(rs, "input", other, true, "iptables chain tw-I3, reached from tw-IN");
	label_is(rs, "output", 0, true, "iptables chain tw-OUT");
	ir_ruleset_free(rs);
	resolve_free(res);
	policy_free(pol);
}
END_TEST

/* A log rule matches and logs, within its own limit (assumed), and the
 * drop after it decides. */
START_TEST(log_rules_pass)
{
	static const char yaml[] =
		"version: 1\nfamilies: [ipv4]\nupstreams:\n  - server: 192.0.2.1\n"
		"restrict:\n  ignore: [203.0.113.0/24]\n  log: true\notherwise: log\n";
	struct policy *pol;
	struct resolved *res;
	struct ir_ruleset *rs = compiled(yaml, &pol, &res);
	struct explain_packet p = pkt("203.0.113.5", 40000, "192.0.2.200", 123, 3, EXPLAIN_DIR_IN,
				      IR_CT_NEW);
	struct explain_result r = { 0 };

	run(rs, &p, &r);
	check_decides(&r, EXPLAIN_DROP, "input", "restrict-ignore-dport4");
	ck_assert_uint_eq(r.out.n_steps, 2);
	ck_assert_str_eq(r.out.steps[0].comment, "restrict-ignore-dport4-log");
	ck_assert(r.out.steps[0].log);
	ck_assert_int_eq(r.out.steps[0].verdict, IR_VERDICT_NONE);
	ck_assert(!r.out.steps[1].log);
	ck_assert(!r.rate_limited);
	explain_result_free(&r);
	p.src = addr("198.51.100.7");
	run(rs, &p, &r);
	check_decides(&r, EXPLAIN_DROP, "input", "otherwise-dport");
	ck_assert_uint_eq(r.out.n_steps, 2);
	ck_assert_str_eq(r.out.steps[0].comment, "otherwise-dport-log");
	explain_result_free(&r);
	ir_ruleset_free(rs);
	resolve_free(res);
	policy_free(pol);
}
END_TEST

START_TEST(rule_ids)
{
	ck_assert_str_eq(explain_rule_why("restrict-noquery-mode7"),
			 "mode 7 (private) is not served (restrict.noquery)");
	ck_assert_str_eq(explain_rule_why("restrict-noquery4@eth0"),
			 explain_rule_why("restrict-noquery"));
	ck_assert_str_eq(explain_rule_why("otherwise-sport"), explain_rule_why("otherwise-dport"));
	ck_assert_str_eq(explain_rule_why("serve-reply-other6"),
			 "an answer to a served client in a mode the restrict flags leave open");
	ck_assert_ptr_null(explain_rule_why("restrict-noquery-bogus"));
	ck_assert_ptr_null(explain_rule_why(NULL));
	ck_assert_str_eq(explain_mode_name(6), "control");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("explain");
	TCase *tc = tcase_create("explain");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, upstream_reply_needs_established);
	tcase_add_test(tc, restricts_come_first);
	tcase_add_test(tc, rate_limit_is_said_not_guessed);
	tcase_add_test(tc, output_chain_and_families);
	tcase_add_test(tc, notrack_and_chain_order);
	tcase_add_test(tc, not_understood_is_never_accept);
	tcase_add_test(tc, chain_policy_drop);
	tcase_add_test(tc, defaults);
	tcase_add_test(tc, compiled_server);
	tcase_add_test(tc, log_rules_pass);
	tcase_add_test(tc, rule_ids);
	tcase_add_test(tc, iptables_chain_label);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
