/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The ruleset the IR's JSON and the state directory tests share: sets of
 * each kind, a rule with most kinds of match, and a rule read back that
 * ntpwall does not know (kept as text). */
#include "sample_ir.h"
#include "ntpwall/util.h"

#include <check.h>

static struct addr addr(const char *s)
{
	struct addr a = { 0 };

	ck_assert_ptr_null(addr_parse(s, &a));
	return a;
}

struct ir_ruleset *sample_ruleset(void)
{
	struct ir_ruleset *rs = ir_ruleset_new("ntpwall");
	struct ir_set *s = ir_set_add(rs, "upstreams4", IR_KEY_IPV4, IR_SET_TIMEOUT);
	struct ir_chain *c = ir_chain_add(rs, "output", IR_HOOK_OUTPUT, 0);
	struct ir_rule *r;
	struct ir_match *m;
	struct addr a = addr("192.0.2.1");

	ir_set_add_elem(s, &a, 32, "ntp.example")->timeout_ms = 3600000;
	a = addr("2001:db8::");
	s = ir_set_add(rs, "clients6", IR_KEY_IPV6, IR_SET_INTERVAL);
	ir_set_add_elem(s, &a, 32, NULL);
	s = ir_set_add(rs, "rl4", IR_KEY_IPV4, IR_SET_DYNAMIC | IR_SET_TIMEOUT);
	s->timeout_ms = 60000;
	s->size = 65535;
	r = ir_rule_add(c, "egress", NULL);
	ir_rule_match_ifname(r, IR_MATCH_OIFNAME, "eth0");
	ir_rule_match_num(r, IR_MATCH_DPORT, 123);
	ir_rule_match_set(r, IR_MATCH_DADDR_SET, "upstreams4");
	m = ir_rule_match_num(r, IR_MATCH_NTP_MODE, 0xc0);
	m->negate = true;
	a = addr("203.0.113.0");
	ir_rule_match_prefix(r, IR_MATCH_SADDR, &a, 24);
	m = ir_rule_add_match(r, IR_MATCH_RATE_OVER);
	m->u.limit.set = xstrdup("rl4");
	m->u.limit.rate = 16;
	m->u.limit.unit_s = 1;
	m->u.limit.burst = 32;
	ir_rule_set_log(r, "x: ");
	r->verdict = IR_VERDICT_REJECT;
	r = ir_rule_add(c, "egress-log", NULL);
	ir_rule_match_num(r, IR_MATCH_DPORT, 123);
	m = ir_rule_add_match(r, IR_MATCH_LIMIT);
	m->u.rate = (struct ir_rate){ 5, 60, 10 };
	ir_rule_set_log(r, "x oth-d: ");
	r = ir_rule_add(c, NULL, NULL);
	r->unknown = xstrdup("[ tcp flags ]");
	r->notrack = true;
	ir_ruleset_sort(rs);
	return rs;
}

