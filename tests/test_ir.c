/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Check suite for src/ir.c: deep copy, sort and de-duplication, element
 * lookup, and an equality that ignores what the kernel changes by itself
 * (counters, handles, expiry) but nothing else. */
#include "ntpwall/ir.h"
#include "ntpwall/util.h"

#include <check.h>
#include <netinet/in.h>
#include <string.h>

static struct addr v4(const char *s)
{
	struct addr a;

	ck_assert_ptr_null(addr_parse(s, &a));
	return a;
}

static struct ir_ruleset *sample(void)
{
	struct ir_ruleset *rs = ir_ruleset_new("t");
	struct ir_set *s = ir_set_add(rs, "upstreams4", IR_KEY_IPV4, IR_SET_TIMEOUT);
	struct addr a = v4("192.0.2.2"), b = v4("192.0.2.1");
	struct ir_chain *c;
	struct ir_rule *r;

	ir_set_add_elem(s, &a, 32, "b.example")->timeout_ms = 3600000;
	ir_set_add_elem(s, &b, 32, NULL);
	ir_set_add_elem(s, &a, 32, "dup");	/* duplicate address: dropped by sort */
	ir_set_add(rs, "clients4", IR_KEY_IPV4, IR_SET_INTERVAL);
	c = ir_chain_add(rs, "output", IR_HOOK_OUTPUT, 0);
	r = ir_rule_add(c, "egress-upstreams4", NULL);
	ir_rule_match_num(r, IR_MATCH_L4PROTO, IPPROTO_UDP);
	ir_rule_match_num(r, IR_MATCH_DPORT, 123);
	ir_rule_match_num(r, IR_MATCH_NFPROTO, IR_NFPROTO_IPV4);
	ir_rule_match_set(r, IR_MATCH_DADDR_SET, "upstreams4");
	r->matches[r->n_matches - 1].negate = false;
	ir_rule_match_num(r, IR_MATCH_CT_STATE, IR_CT_NEW | IR_CT_ESTABLISHED);
	r->verdict = IR_VERDICT_ACCEPT;
	r = ir_rule_add(c, "otherwise-dport", NULL);
	ir_rule_match_num(r, IR_MATCH_L4PROTO, IPPROTO_UDP);
	ir_rule_match_num(r, IR_MATCH_DPORT, 123);
	ir_rule_set_log(r, "t: ");
	r->verdict = IR_VERDICT_DROP;
	ir_chain_add(rs, "input", IR_HOOK_INPUT, 0);
	ir_ruleset_sort(rs);
	return rs;
}

START_TEST(sort_dedups_and_orders)
{
	struct ir_ruleset *rs = sample();
	const struct ir_set *s;
	struct addr a = v4("192.0.2.2"), b = v4("192.0.2.1"), c = v4("192.0.2.3");

	ck_assert_str_eq(rs->sets[0].name, "clients4");
	ck_assert_str_eq(rs->sets[1].name, "upstreams4");
	s = ir_set_find(rs, "upstreams4");
	ck_assert_uint_eq(s->n_elems, 2);
	ck_assert_int_eq(addr_cmp(&s->elems[0].addr, &b), 0);
	/* The first of the duplicates stays (qsort is not stable, so only the
	 * count and the address are certain). */
	ck_assert_ptr_nonnull(ir_set_find_elem(s, &a, 32));
	ck_assert_ptr_nonnull(ir_set_find_elem(s, &b, 32));
	ck_assert_ptr_null(ir_set_find_elem(s, &c, 32));
	ck_assert_ptr_null(ir_set_find_elem(s, &a, 24));
	/* Chains keep their order: it is meaning. */
	ck_assert_str_eq(rs->chains[0].name, "output");
	ir_ruleset_free(rs);
}
END_TEST

/* Large sets take the radix path: same order as ir_elem_cmp, duplicates
 * dropped, prefixes of one address ordered by length, both families. */
static void check_big_sort(int family, unsigned klen)
{
	struct ir_ruleset *rs = ir_ruleset_new("t");
	struct ir_set *s = ir_set_add(rs, "big", family == AF_INET ? IR_KEY_IPV4 : IR_KEY_IPV6,
				      IR_SET_INTERVAL);
	unsigned seed = 12345;

	for (unsigned i = 0; i < 5000; i++) {
		struct addr a = { .family = family };

		seed = seed * 1103515245u + 12345u;
		for (unsigned b = 0; b < klen; b++)
			a.bytes[b] = (uint8_t)(seed >> (b % 24));
		a.bytes[0] = (uint8_t)(seed >> 16) & 0x7;	/* many equal first bytes */
		ir_set_add_elem(s, &a, klen * 8 - (seed >> 28), NULL);
		if (i % 7 == 0)
			ir_set_add_elem(s, &a, klen * 8 - (seed >> 28), "dup");
	}
	ir_ruleset_sort(rs);
	s = &rs->sets[0];
	ck_assert_uint_ge(s->n_elems, 4000);
	for (size_t i = 1; i < s->n_elems; i++)
		ck_assert_int_lt(ir_elem_cmp(&s->elems[i - 1], &s->elems[i]), 0);
	ir_ruleset_free(rs);
}

START_TEST(sort_large_sets)
{
	check_big_sort(AF_INET, 4);
	check_big_sort(AF_INET6, 16);
}
END_TEST

START_TEST(clone_is_equal_and_deep)
{
	struct ir_ruleset *rs = sample(), *c = ir_ruleset_clone(rs);

	ck_assert(ir_ruleset_equal(rs, c));
	ck_assert_ptr_ne(rs->chains[0].rules[0].comment, c->chains[0].rules[0].comment);
	ck_assert_ptr_ne(rs->chains[0].rules[0].matches, c->chains[0].rules[0].matches);
	ir_ruleset_free(rs);
	/* The clone lives on its own. */
	ck_assert_str_eq(c->chains[0].rules[1].log_prefix, "t: ");
	ir_ruleset_free(c);
}
END_TEST

START_TEST(equal_ignores_kernel_state)
{
	struct ir_ruleset *a = sample(), *b = ir_ruleset_clone(a);
	struct ir_set *s = ir_set_find(b, "upstreams4");

	b->chains[0].rules[0].packets = 42;
	b->chains[0].rules[0].bytes = 4200;
	b->chains[0].rules[0].handle = 7;
	b->chains[0].rules[0].loc.line = 9;
	s->elems[0].expires_ms = 1234;
	ck_assert(ir_ruleset_equal(a, b));
	/* Chains compare by name, not by position. */
	{
		struct ir_chain t = b->chains[0];

		b->chains[0] = b->chains[1];
		b->chains[1] = t;
	}
	ck_assert(ir_ruleset_equal(a, b));
	ir_ruleset_free(a);
	ir_ruleset_free(b);
}
END_TEST

START_TEST(equal_sees_real_changes)
{
	struct ir_ruleset *a = sample(), *b;

	b = ir_ruleset_clone(a);
	ir_set_find(b, "upstreams4")->elems[1].timeout_ms = 1;
	ck_assert(!ir_ruleset_equal(a, b));
	ir_ruleset_free(b);

	b = ir_ruleset_clone(a);
	free(b->chains[0].rules[0].comment);
	b->chains[0].rules[0].comment = xstrdup("other");
	ck_assert(!ir_ruleset_equal(a, b));
	ir_ruleset_free(b);

	b = ir_ruleset_clone(a);
	b->chains[0].rules[0].matches[3].negate = true;
	ck_assert(!ir_match_equal(&a->chains[0].rules[0].matches[3],
				  &b->chains[0].rules[0].matches[3]));
	ck_assert(!ir_ruleset_equal(a, b));
	ir_ruleset_free(b);

	b = ir_ruleset_clone(a);
	ir_set_find(b, "clients4")->flags |= IR_SET_TIMEOUT;
	ck_assert(!ir_set_def_equal(ir_set_find(a, "clients4"), ir_set_find(b, "clients4")));
	ck_assert(!ir_ruleset_equal(a, b));
	ir_ruleset_free(b);

	b = ir_ruleset_clone(a);
	ir_rule_set_log(&b->chains[0].rules[1], "x: ");
	ck_assert(!ir_rule_equal(&a->chains[0].rules[1], &b->chains[0].rules[1]));
	ir_ruleset_free(b);

	b = ir_ruleset_clone(a);
	b->chains[0].rules[1].verdict = IR_VERDICT_REJECT;
	ck_assert(!ir_chain_equal(&a->chains[0], &b->chains[0]));
	ir_ruleset_free(b);
	ir_ruleset_free(a);
}
END_TEST

/* Read-back-only fields: what a tampered table has and no compiled ruleset
 * does. Each makes the rulesets differ, and in shape too, so that apply
 * replaces the table instead of changing elements in place. */
static void check_differs(struct ir_ruleset *a, struct ir_ruleset *b, const char *what)
{
	struct ir_ruleset *c = ir_ruleset_clone(b);

	ck_assert_msg(!ir_ruleset_equal(a, b), "%s: equal", what);
	ck_assert_msg(!ir_ruleset_same_shape(a, b), "%s: same shape", what);
	ck_assert_msg(ir_ruleset_equal(b, c), "%s: not cloned", what);
	ir_ruleset_free(c);
	ir_ruleset_free(b);
}

START_TEST(equal_sees_read_back_fields)
{
	struct ir_ruleset *a = sample(), *b;

	b = ir_ruleset_clone(a);
	b->flags = IR_TABLE_DORMANT;
	check_differs(a, b, "table dormant");
	b = ir_ruleset_clone(a);
	b->flags = 0x80;
	check_differs(a, b, "unknown table flag");
	b = ir_ruleset_clone(a);
	b->chains[1].type = xstrdup("nat");
	check_differs(a, b, "chain type");
	b = ir_ruleset_clone(a);
	b->chains[1].hook = IR_HOOK_INGRESS;
	check_differs(a, b, "chain hook");
	b = ir_ruleset_clone(a);
	b->chains[1].device = xstrdup("lo");
	check_differs(a, b, "chain device");
	b = ir_ruleset_clone(a);
	b->sets[0].policy_memory = true;
	check_differs(a, b, "set policy memory");
	b = ir_ruleset_clone(a);
	b->sets[1].gc_interval_ms = 5000;
	check_differs(a, b, "set gc interval");
	b = ir_ruleset_clone(a);
	b->sets[1].size = 10;
	check_differs(a, b, "set size");
	ir_ruleset_free(a);
}
END_TEST

/* The plain limit: rate, unit and burst each count; a copy inserted
 * before a rule is deep and moves the rule on by one. */
START_TEST(limit_and_insert_copy)
{
	struct ir_ruleset *rs = ir_ruleset_new("t");
	struct ir_chain *c = ir_chain_add(rs, "input", IR_HOOK_INPUT, 0);
	struct ir_rule *r = ir_rule_add(c, "first", NULL), *copy;
	struct ir_match a = { .type = IR_MATCH_LIMIT, .u.rate = { 5, 60, 5 } }, b = a;

	ck_assert(ir_match_equal(&a, &b));
	b.u.rate.burst = 6;
	ck_assert(!ir_match_equal(&a, &b));
	b = a;
	b.u.rate.unit_s = 1;
	ck_assert(!ir_match_equal(&a, &b));
	b = a;
	b.u.rate.rate = 4;
	ck_assert(!ir_match_equal(&a, &b));
	b = a;
	b.negate = true;
	ck_assert(!ir_match_equal(&a, &b));
	ir_rule_match_set(r, IR_MATCH_SADDR_SET, "s4");
	r->verdict = IR_VERDICT_DROP;
	ir_rule_add(c, "second", NULL);
	copy = ir_rule_insert_copy(c, 0);
	ck_assert_uint_eq(c->n_rules, 3);
	ck_assert_ptr_eq(copy, &c->rules[0]);
	ck_assert(ir_rule_equal(&c->rules[0], &c->rules[1]));
	ck_assert_str_eq(c->rules[2].comment, "second");
	ck_assert_ptr_ne(c->rules[0].matches[0].u.set, c->rules[1].matches[0].u.set);
	ck_assert_ptr_ne(c->rules[0].comment, c->rules[1].comment);
	*ir_rule_add_match(copy, IR_MATCH_LIMIT) = a;
	ck_assert_uint_eq(c->rules[1].n_matches, 1);
	ir_ruleset_free(rs);
}
END_TEST

START_TEST(names)
{
	ck_assert_str_eq(ir_set_key_name(IR_KEY_IPV6), "ipv6_addr");
	ck_assert_str_eq(ir_hook_name(IR_HOOK_PREROUTING), "prerouting");
	ck_assert_str_eq(ir_hook_name(IR_HOOK_INGRESS), "ingress");
	ck_assert_str_eq(ir_hook_name((enum ir_hook)-1), "?");
	ck_assert_str_eq(ir_verdict_name(IR_VERDICT_REJECT), "reject");
	ck_assert_str_eq(ir_match_type_name(IR_MATCH_RATE_OVER), "rate_over");
	ck_assert_str_eq(ir_match_type_name(IR_MATCH_LIMIT), "limit");
	ck_assert_str_eq(ir_match_type_name((enum ir_match_type)99), "?");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ir");
	TCase *tc = tcase_create("model");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, sort_dedups_and_orders);
	tcase_add_test(tc, sort_large_sets);
	tcase_add_test(tc, clone_is_equal_and_deep);
	tcase_add_test(tc, equal_ignores_kernel_state);
	tcase_add_test(tc, equal_sees_real_changes);
	tcase_add_test(tc, equal_sees_read_back_fields);
	tcase_add_test(tc, limit_and_insert_copy);
	tcase_add_test(tc, names);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
