/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Check suite for src/hostfw.c: which chains of other tables drop NTP to
 * the upstreams or their replies, and the sentence that says so, with
 * chains built by hand as a backend raises them. No kernel. */
#include "ntpwall/hostfw.h"
#include "ntpwall/util.h"

#include <check.h>
#include <netinet/in.h>
#include <string.h>

#define BOTH (HOSTFW_V4 | HOSTFW_V6)

static struct ir_chain *chain(struct hostfw *h, uint8_t family, const char *table,
			      const char *name, enum ir_hook hook, int prio, bool drop)
{
	struct ir_chain *c = ir_chain_add(hostfw_table_get(h, family, table)->rs, name, hook, prio);

	c->policy_drop = drop;
	return c;
}

static struct ir_rule *rule(struct ir_chain *c, enum ir_verdict v)
{
	struct ir_rule *r = ir_rule_add(c, NULL, NULL);

	r->counter = false;
	r->verdict = v;
	r->handle = c->n_rules + 1;
	return r;
}

/* `udp dport N` / `udp sport N` / `tcp dport N` */
static void port(struct ir_rule *r, uint32_t proto, enum ir_match_type t, uint32_t n)
{
	ir_rule_match_num(r, IR_MATCH_L4PROTO, proto);
	ir_rule_match_num(r, t, n);
}

static void ct(struct ir_rule *r, uint32_t bits)
{
	ir_rule_add_match(r, IR_MATCH_CT_STATE)->u.bits = bits;
}

static struct hostfw_findings check(const struct hostfw *h, unsigned fams)
{
	struct hostfw_findings f;

	hostfw_check(h, fams, &f);
	return f;
}

static void done(struct hostfw *h, struct hostfw_findings *f)
{
	hostfw_findings_free(f);
	hostfw_free(h);
}

/* Debian-style: input and output policy drop, `iif lo accept` (read as
 * iifname "lo"), ssh in; nothing for NTP. */
START_TEST(policy_drop_without_accept)
{
	struct hostfw h = { 0 };
	struct ir_chain *in = chain(&h, HOSTFW_INET, "filter", "input", IR_HOOK_INPUT, 0, true);
	struct hostfw_findings f;

	chain(&h, HOSTFW_INET, "filter", "output", IR_HOOK_OUTPUT, 0, true);
	ir_rule_match_ifname(rule(in, IR_VERDICT_ACCEPT), IR_MATCH_IIFNAME, "lo");
	port(rule(in, IR_VERDICT_ACCEPT), IPPROTO_TCP, IR_MATCH_DPORT, 22);
	f = check(&h, BOTH);
	ck_assert_uint_eq(f.n, 2);
	ck_assert_str_eq(f.v[0].msg, "table inet filter chain input (policy drop) drops the "
			 "upstreams' NTP replies: add `nft insert rule inet filter input ct state "
			 "established,related accept`");
	ck_assert_uint_eq(f.v[0].hook, IR_HOOK_INPUT);
	ck_assert_uint_eq(f.v[0].rule, 0);
	ck_assert_uint_eq(f.v[0].unsure, 0);
	ck_assert_uint_eq(f.v[0].families, BOTH);
	ck_assert_str_eq(f.v[1].msg, "table inet filter chain output (policy drop) drops NTP to "
			 "the upstreams: add `nft insert rule inet filter output udp dport 123 "
			 "accept`");
	ck_assert(!f.truncated);
	done(&h, &f);
}
END_TEST

/* ct state established,related accept first: the replies get in; an
 * `oif lo` accept or established alone does not let a new query out. */
START_TEST(policy_drop_with_established)
{
	struct hostfw h = { 0 };
	struct ir_chain *in = chain(&h, HOSTFW_INET, "filter", "input", IR_HOOK_INPUT, 0, true);
	struct ir_chain *out = chain(&h, HOSTFW_INET, "filter", "output", IR_HOOK_OUTPUT, 0, true);
	struct hostfw_findings f;

	ct(rule(in, IR_VERDICT_ACCEPT), IR_CT_ESTABLISHED | IR_CT_RELATED);
	ir_rule_match_ifname(rule(out, IR_VERDICT_ACCEPT), IR_MATCH_OIFNAME, "lo");
	ct(rule(out, IR_VERDICT_ACCEPT), IR_CT_ESTABLISHED | IR_CT_RELATED);
	f = check(&h, BOTH);
	ck_assert_uint_eq(f.n, 1);
	ck_assert_str_eq(f.v[0].chain, "output");
	ck_assert_uint_eq(f.v[0].unsure, 0);
	hostfw_findings_free(&f);
	/* ... until new queries are let out too. */
	ct(rule(out, IR_VERDICT_ACCEPT), IR_CT_NEW);
	f = check(&h, BOTH);
	ck_assert_uint_eq(f.n, 0);
	done(&h, &f);
}
END_TEST

/* `udp sport 123 accept` in input; all UDP, or everything, out. */
START_TEST(accept_all_udp)
{
	struct hostfw h = { 0 };
	struct ir_chain *in = chain(&h, HOSTFW_INET, "filter", "input", IR_HOOK_INPUT, 0, true);
	struct ir_chain *out = chain(&h, HOSTFW_INET, "filter", "output", IR_HOOK_OUTPUT, 0, true);
	struct ir_chain *out2 = chain(&h, HOSTFW_INET, "other", "output", IR_HOOK_OUTPUT, 10, true);
	struct hostfw_findings f;

	port(rule(in, IR_VERDICT_ACCEPT), IPPROTO_UDP, IR_MATCH_SPORT, 123);
	ir_rule_match_num(rule(out, IR_VERDICT_ACCEPT), IR_MATCH_L4PROTO, IPPROTO_UDP);
	rule(out2, IR_VERDICT_NONE)->log_prefix = xstrdup("out: ");
	rule(out2, IR_VERDICT_ACCEPT)->counter = true;
	f = check(&h, BOTH);
	ck_assert_uint_eq(f.n, 0);
	done(&h, &f);
}
END_TEST

/* An explicit drop before any accept is named, with its handle; one that
 * cannot hold for NTP (tcp, another port, loopback, ct invalid) is not. */
START_TEST(explicit_drop)
{
	struct hostfw h = { 0 };
	struct ir_chain *out = chain(&h, HOSTFW_INET, "filter", "output", IR_HOOK_OUTPUT, 0, false);
	struct ir_rule *r;
	struct hostfw_findings f;

	port(rule(out, IR_VERDICT_DROP), IPPROTO_TCP, IR_MATCH_DPORT, 123);
	port(rule(out, IR_VERDICT_DROP), IPPROTO_UDP, IR_MATCH_DPORT, 53);
	ct(rule(out, IR_VERDICT_DROP), IR_CT_INVALID);
	r = rule(out, IR_VERDICT_REJECT);
	ir_rule_match_ifname(r, IR_MATCH_OIFNAME, "lo");
	port(r, IPPROTO_UDP, IR_MATCH_DPORT, 123);
	f = check(&h, BOTH);
	ck_assert_uint_eq(f.n, 0);
	hostfw_findings_free(&f);
	r = rule(out, IR_VERDICT_DROP);
	port(r, IPPROTO_UDP, IR_MATCH_DPORT, 123);
	port(rule(out, IR_VERDICT_ACCEPT), IPPROTO_UDP, IR_MATCH_DPORT, 123);
	f = check(&h, BOTH);
	ck_assert_uint_eq(f.n, 1);
	ck_assert_uint_eq(f.v[0].rule, 5);
	ck_assert_uint_eq(f.v[0].handle, 6);
	ck_assert_str_eq(f.v[0].msg, "table inet filter chain output: rule `udp dport 123 drop` "
			 "(handle 6) drops NTP to the upstreams: add `nft insert rule inet filter "
			 "output udp dport 123 accept`");
	done(&h, &f);
}
END_TEST

/* In input, `udp dport 123 drop` may or may not meet a reply (ntpd's
 * come to port 123, chrony's and the prober's elsewhere): not said;
 * `udp sport 123 reject` is. */
START_TEST(input_ports)
{
	struct hostfw h = { 0 };
	struct ir_chain *in = chain(&h, HOSTFW_IP, "filter", "INPUT", IR_HOOK_INPUT, 0, false);
	struct hostfw_findings f;

	port(rule(in, IR_VERDICT_DROP), IPPROTO_UDP, IR_MATCH_DPORT, 123);
	f = check(&h, BOTH);
	ck_assert_uint_eq(f.n, 0);
	hostfw_findings_free(&f);
	port(rule(in, IR_VERDICT_REJECT), IPPROTO_UDP, IR_MATCH_SPORT, 123);
	f = check(&h, BOTH);
	ck_assert_uint_eq(f.n, 1);
	ck_assert_str_eq(f.v[0].msg, "table ip filter chain INPUT: rule `udp sport 123 reject` "
			 "(handle 3) drops the upstreams' NTP replies over IPv4: add `nft insert "
			 "rule ip filter INPUT ct state established,related accept` (or `iptables -I "
			 "INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT` if you manage "
			 "it with iptables)");
	done(&h, &f);
}
END_TEST

/* Rules it cannot judge (unknown parts, addresses, a jump) are passed
 * over and counted when they may accept; an unknown rule with a match that
 * cannot hold is not counted. */
START_TEST(unknown_parts)
{
	struct hostfw h = { 0 };
	struct ir_chain *out = chain(&h, HOSTFW_INET, "filter", "output", IR_HOOK_OUTPUT, 0, true);
	struct ir_rule *r;
	struct hostfw_findings f;

	r = rule(out, IR_VERDICT_ACCEPT);
	ir_rule_match_num(r, IR_MATCH_L4PROTO, IPPROTO_UDP);
	r->unknown = xstrdup("[ payload load 2b @ transport header + 2 => reg 1 ][ lookup reg 1 set ports ]");
	r = rule(out, IR_VERDICT_NONE);
	r->unknown = xstrdup("[ immediate reg 0 jump -> out_extra ]");
	/* An address (which one does not matter: it may be an upstream's). */
	ir_rule_add_match(rule(out, IR_VERDICT_ACCEPT), IR_MATCH_DADDR);
	/* Unknown, but tcp: never NTP. */
	r = rule(out, IR_VERDICT_ACCEPT);
	ir_rule_match_num(r, IR_MATCH_L4PROTO, IPPROTO_TCP);
	r->unknown = xstrdup("[ lookup reg 1 set __set0 ]");
	/* A drop it cannot judge is passed over, not counted. */
	ir_rule_add_match(rule(out, IR_VERDICT_DROP), IR_MATCH_DADDR);
	f = check(&h, HOSTFW_V4);
	ck_assert_uint_eq(f.n, 1);
	ck_assert_uint_eq(f.v[0].unsure, 3);
	ck_assert_str_eq(f.v[0].msg, "table inet filter chain output (policy drop) drops NTP to "
			 "the upstreams (unless one of 3 earlier rules ntpwall cannot judge accepts "
			 "it): add `nft insert rule inet filter output udp dport 123 accept`");
	done(&h, &f);
}
END_TEST

/* Policy accept and no drop: nothing, whatever else the chain holds. */
START_TEST(policy_accept)
{
	struct hostfw h = { 0 };
	struct ir_chain *in = chain(&h, HOSTFW_INET, "filter", "input", IR_HOOK_INPUT, 0, false);
	struct ir_chain *out = chain(&h, HOSTFW_INET, "filter", "output", IR_HOOK_OUTPUT, 0, false);
	struct hostfw_findings f;

	port(rule(in, IR_VERDICT_DROP), IPPROTO_TCP, IR_MATCH_DPORT, 23);
	rule(out, IR_VERDICT_NONE)->unknown = xstrdup("[ limit rate 10/second ]");
	f = check(&h, BOTH);
	ck_assert_uint_eq(f.n, 0);
	done(&h, &f);
}
END_TEST

/* An ip table drops only IPv4 (said when the upstreams have IPv6 too),
 * an ip6 table only IPv6; an inet rule restricted to one family leaves
 * the other to the policy. iptables-nft names get the iptables rule. */
START_TEST(families)
{
	struct hostfw h = { 0 };
	struct ir_chain *ip = chain(&h, HOSTFW_IP, "filter", "OUTPUT", IR_HOOK_OUTPUT, 0, true);
	struct ir_chain *inet = chain(&h, HOSTFW_INET, "fw", "out", IR_HOOK_OUTPUT, 0, true);
	struct ir_rule *r;
	struct hostfw_findings f;

	chain(&h, HOSTFW_IP6, "filter", "OUTPUT", IR_HOOK_OUTPUT, 0, true);
	(void)ip;
	r = rule(inet, IR_VERDICT_ACCEPT);
	ir_rule_match_num(r, IR_MATCH_NFPROTO, IR_NFPROTO_IPV4);
	port(r, IPPROTO_UDP, IR_MATCH_DPORT, 123);
	/* IPv4 upstreams only: the ip6 table and the inet IPv6 path do not matter. */
	f = check(&h, HOSTFW_V4);
	ck_assert_uint_eq(f.n, 1);
	ck_assert_str_eq(f.v[0].msg, "table ip filter chain OUTPUT (policy drop) drops NTP to the "
			 "upstreams: add `nft insert rule ip filter OUTPUT udp dport 123 accept` (or "
			 "`iptables -I OUTPUT -p udp --dport 123 -j ACCEPT` if you manage it with "
			 "iptables)");
	hostfw_findings_free(&f);
	f = check(&h, BOTH);
	ck_assert_uint_eq(f.n, 3);
	ck_assert_str_eq(f.v[0].table, "filter");
	ck_assert_uint_eq(f.v[0].families, HOSTFW_V4);
	ck_assert(strstr(f.v[0].msg, "drops NTP over IPv4 to the upstreams: add"));
	ck_assert_str_eq(f.v[1].chain, "out");
	ck_assert_uint_eq(f.v[1].families, HOSTFW_V6);
	ck_assert(strstr(f.v[1].msg, "table inet fw chain out (policy drop) drops NTP over IPv6 "
			 "to the upstreams: add `nft insert rule inet fw out udp dport 123 accept`"));
	ck_assert_uint_eq(f.v[2].family, HOSTFW_IP6);
	ck_assert(strstr(f.v[2].msg, "(or `ip6tables -I OUTPUT -p udp --dport 123 -j ACCEPT`"));
	done(&h, &f);
}
END_TEST

/* Which chains see the packet: a nat chain only a connection's first
 * packet (never a reply; a query, and then only NEW matters); an output
 * chain before conntrack sees no state (ct state established cannot
 * hold there). Odd names are quoted; another iptables table gets -t. */
START_TEST(chain_types)
{
	struct hostfw h = { 0 };
	struct ir_chain *nat_in = chain(&h, HOSTFW_IP, "nat", "INPUT", IR_HOOK_INPUT, 100, true);
	struct ir_chain *nat_out = chain(&h, HOSTFW_IP, "nat", "OUTPUT", IR_HOOK_OUTPUT, -100, true);
	struct ir_chain *raw = chain(&h, HOSTFW_INET, "my fw", "raw out", IR_HOOK_OUTPUT, -300, true);
	struct hostfw_findings f;

	nat_in->type = xstrdup("nat");
	nat_out->type = xstrdup("nat");
	ct(rule(raw, IR_VERDICT_ACCEPT), IR_CT_ESTABLISHED | IR_CT_NEW);
	f = check(&h, BOTH);
	ck_assert_uint_eq(f.n, 2);
	ck_assert_str_eq(f.v[0].msg, "table ip nat chain OUTPUT (type nat, policy drop) drops NTP "
			 "over IPv4 to the upstreams: add `nft insert rule ip nat OUTPUT udp dport "
			 "123 accept` (or `iptables -t nat -I OUTPUT -p udp --dport 123 -j ACCEPT` if "
			 "you manage it with iptables)");
	ck_assert_str_eq(f.v[1].msg, "table inet my fw chain raw out (policy drop) drops NTP to "
			 "the upstreams: add `nft insert rule inet \"my fw\" \"raw out\" udp dport 123 "
			 "accept`");
	hostfw_findings_free(&f);
	/* NEW accepted in the nat chain is enough. */
	ct(rule(nat_out, IR_VERDICT_ACCEPT), IR_CT_NEW);
	f = check(&h, HOSTFW_V4);
	ck_assert_uint_eq(f.n, 1);
	ck_assert_str_eq(f.v[0].table, "my fw");
	done(&h, &f);
}
END_TEST

/* A chain whose rules were not all read: undecided, not a finding,
 * unless a rule read already drops. */
START_TEST(truncated)
{
	struct hostfw h = { 0 };
	struct ir_chain *out = chain(&h, HOSTFW_INET, "big", "output", IR_HOOK_OUTPUT, 0, true);
	struct hostfw_findings f;

	hostfw_table_get(&h, HOSTFW_INET, "big")->truncated = true;
	port(rule(out, IR_VERDICT_ACCEPT), IPPROTO_TCP, IR_MATCH_DPORT, 22);
	f = check(&h, BOTH);
	ck_assert_uint_eq(f.n, 0);
	ck_assert(f.truncated);
	hostfw_findings_free(&f);
	ir_rule_match_num(rule(out, IR_VERDICT_DROP), IR_MATCH_L4PROTO, IPPROTO_UDP);
	f = check(&h, BOTH);
	ck_assert_uint_eq(f.n, 1);
	ck_assert(strstr(f.v[0].msg, "rule `meta l4proto udp drop` (handle 3)"));
	ck_assert_uint_eq(hostfw_n_chains(&h), 1);
	done(&h, &f);
}
END_TEST

/* No upstream family, no finding. */
START_TEST(no_families)
{
	struct hostfw h = { 0 };
	struct hostfw_findings f;

	chain(&h, HOSTFW_INET, "filter", "output", IR_HOOK_OUTPUT, 0, true);
	f = check(&h, 0);
	ck_assert_uint_eq(f.n, 0);
	ck_assert_str_eq(hostfw_family_name(HOSTFW_IP6), "ip6");
	done(&h, &f);
}
END_TEST

static struct ir_chain *legacy(struct hostfw *h, uint8_t family, const char *table,
			       const char *name, enum ir_hook hook, int prio, bool drop)
{
	struct ir_chain *c = chain(h, family, table, name, hook, prio, drop);

	hostfw_table_get(h, family, table)->legacy = true;
	return c;
}

/* A rule of a legacy chain: its handle is its number in the chain. */
static struct ir_rule *lrule(struct ir_chain *c, enum ir_verdict v)
{
	struct ir_rule *r = rule(c, v);

	r->handle = c->n_rules;
	return r;
}

/* ntpwall's jumps, first in a legacy chain, as the reader keeps them. */
static void own_jumps(struct ir_chain *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		lrule(c, IR_VERDICT_NONE)->comment = xstrdup(HOSTFW_OWN_JUMP);
}

/* A legacy iptables INPUT with policy DROP: ntpwall's jump RETURNs what it
 * accepts, so the policy still drops the replies; the accept to add goes
 * right after ntpwall's jumps, in iptables' words. */
START_TEST(legacy_policy)
{
	struct hostfw h = { 0 };
	struct ir_chain *in = legacy(&h, HOSTFW_IP, "filter", "INPUT", IR_HOOK_INPUT, 0, true);
	struct ir_chain *out = legacy(&h, HOSTFW_IP6, "filter", "OUTPUT", IR_HOOK_OUTPUT, 0, true);
	struct hostfw_findings f;

	own_jumps(in, 1);
	port(lrule(in, IR_VERDICT_ACCEPT), IPPROTO_TCP, IR_MATCH_DPORT, 22);
	own_jumps(out, 2);
	f = check(&h, BOTH);
	ck_assert_uint_eq(f.n, 2);
	ck_assert_str_eq(f.v[0].msg, "legacy iptables table filter chain INPUT (policy DROP) drops "
			 "the upstreams' NTP replies over IPv4: add `iptables -I INPUT 2 -p udp "
			 "--sport 123 -m conntrack --ctstate ESTABLISHED -j ACCEPT`");
	ck_assert_str_eq(f.v[1].msg, "legacy ip6tables table filter chain OUTPUT (policy DROP) "
			 "drops NTP over IPv6 to the upstreams: add `ip6tables -I OUTPUT 3 -p udp "
			 "--dport 123 -j ACCEPT`");
	done(&h, &f);
	/* Before the first apply there is no jump yet: first in the chain. */
	in = legacy(&h, HOSTFW_IP, "filter", "INPUT", IR_HOOK_INPUT, 0, true);
	f = check(&h, HOSTFW_V4);
	ck_assert_uint_eq(f.n, 1);
	ck_assert_ptr_nonnull(strstr(f.v[0].msg, "`iptables -I INPUT 1 -p udp"));
	done(&h, &f);
}
END_TEST

/* A rule that drops, in iptables notation with its number (and, inlined
 * from a user chain, where it is); the established accept after it comes
 * too late. One before ntpwall's jumps makes the accept go there too,
 * with a word on what that costs. */
START_TEST(legacy_rule)
{
	struct hostfw h = { 0 };
	struct ir_chain *in = legacy(&h, HOSTFW_IP, "filter", "INPUT", IR_HOOK_INPUT, 0, false);
	struct ir_chain *out = legacy(&h, HOSTFW_IP, "filter", "OUTPUT", IR_HOOK_OUTPUT, 0, false);
	struct ir_rule *r;
	struct hostfw_findings f;

	own_jumps(in, 1);
	/* -i eth0 may or may not hold: this reject is not sure. */
	r = lrule(in, IR_VERDICT_REJECT);
	ir_rule_match_ifname(r, IR_MATCH_IIFNAME, "eth0");
	ir_rule_match_num(r, IR_MATCH_L4PROTO, IPPROTO_UDP);
	r = lrule(in, IR_VERDICT_DROP);
	ir_rule_match_num(r, IR_MATCH_L4PROTO, IPPROTO_UDP);
	ct(r, IR_CT_NEW);
	r->matches[1].negate = true;
	ct(lrule(in, IR_VERDICT_ACCEPT), IR_CT_ESTABLISHED);
	r = lrule(out, IR_VERDICT_DROP);
	port(r, IPPROTO_UDP, IR_MATCH_DPORT, 123);
	r->comment = xstrdup("jump to HOST, its rule 2");
	own_jumps(out, 1);
	f = check(&h, HOSTFW_V4);
	ck_assert_uint_eq(f.n, 2);
	ck_assert_str_eq(f.v[0].msg, "legacy iptables table filter chain INPUT rule 3 `-p udp -m "
			 "conntrack ! --ctstate NEW -j DROP` drops the upstreams' NTP replies: add "
			 "`iptables -I INPUT 2 -p udp --sport 123 -m conntrack --ctstate ESTABLISHED "
			 "-j ACCEPT`");
	ck_assert_uint_eq(f.v[0].handle, 3);
	ck_assert_str_eq(f.v[1].msg, "legacy iptables table filter chain OUTPUT rule 1 (jump to "
			 "HOST, its rule 2) `-p udp --dport 123 -j DROP` drops NTP to the upstreams: "
			 "add `iptables -I OUTPUT 1 -p udp --dport 123 -j ACCEPT` (before that rule, "
			 "which comes before ntpwall's jumps: NTP it accepts skips ntpwall's chains)");
	done(&h, &f);
}
END_TEST

/* raw PREROUTING runs before conntrack: a packet there has no state (read
 * as invalid), so the accept to add matches the port alone, in -t raw. */
START_TEST(legacy_raw)
{
	struct hostfw h = { 0 };
	struct ir_chain *pre = legacy(&h, HOSTFW_IP, "raw", "PREROUTING", IR_HOOK_PREROUTING, -300,
				      false);
	struct hostfw_findings f;

	ct(lrule(pre, IR_VERDICT_ACCEPT), IR_CT_ESTABLISHED);
	port(lrule(pre, IR_VERDICT_DROP), IPPROTO_UDP, IR_MATCH_SPORT, 123);
	f = check(&h, HOSTFW_V4);
	ck_assert_uint_eq(f.n, 1);
	ck_assert_uint_eq(f.v[0].hook, IR_HOOK_PREROUTING);
	ck_assert_str_eq(f.v[0].msg, "legacy iptables table raw chain PREROUTING rule 2 `-p udp "
			 "--sport 123 -j DROP` drops the upstreams' NTP replies: add `iptables -t raw "
			 "-I PREROUTING 1 -p udp --sport 123 -j ACCEPT`");
	done(&h, &f);
	/* mangle PREROUTING, after conntrack: the reply is established. */
	pre = legacy(&h, HOSTFW_IP, "mangle", "PREROUTING", IR_HOOK_PREROUTING, -150, false);
	ct(lrule(pre, IR_VERDICT_ACCEPT), IR_CT_ESTABLISHED);
	port(lrule(pre, IR_VERDICT_DROP), IPPROTO_UDP, IR_MATCH_SPORT, 123);
	f = check(&h, HOSTFW_V4);
	ck_assert_uint_eq(f.n, 0);
	done(&h, &f);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("hostfw");
	TCase *tc = tcase_create("hostfw");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, policy_drop_without_accept);
	tcase_add_test(tc, policy_drop_with_established);
	tcase_add_test(tc, accept_all_udp);
	tcase_add_test(tc, explicit_drop);
	tcase_add_test(tc, input_ports);
	tcase_add_test(tc, unknown_parts);
	tcase_add_test(tc, policy_accept);
	tcase_add_test(tc, families);
	tcase_add_test(tc, chain_types);
	tcase_add_test(tc, truncated);
	tcase_add_test(tc, no_families);
	tcase_add_test(tc, legacy_policy);
	tcase_add_test(tc, legacy_rule);
	tcase_add_test(tc, legacy_raw);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
