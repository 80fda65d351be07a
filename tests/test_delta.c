/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Check suite for src/delta.c: which elements an in-place update deletes,
 * adds and renews, and when only a new table will do. */
#include "ntpwall/delta.h"
#include "ntpwall/util.h"

#include <check.h>
#include <netinet/in.h>
#include <string.h>

static struct addr addr(const char *s)
{
	struct addr a;

	ck_assert_ptr_null(addr_parse(s, &a));
	return a;
}

/* A ruleset with upstreams4 holding the given addresses; those from DNS
 * (a name after the slash: "192.0.2.1/ntp.test") get a 1 h timeout and
 * expires_ms left. */
static struct ir_ruleset *rs_with(const char *const *elems, size_t n, uint64_t expires_ms)
{
	struct ir_ruleset *rs = ir_ruleset_new("t");
	struct ir_set *s = ir_set_add(rs, "upstreams4", IR_KEY_IPV4, IR_SET_TIMEOUT);
	struct ir_chain *c = ir_chain_add(rs, "output", IR_HOOK_OUTPUT, 0);
	struct ir_rule *r = ir_rule_add(c, "egress", NULL);

	ir_set_add(rs, "rl4", IR_KEY_IPV4, IR_SET_DYNAMIC | IR_SET_TIMEOUT);
	ir_rule_match_set(r, IR_MATCH_DADDR_SET, "upstreams4");
	r->verdict = IR_VERDICT_ACCEPT;
	for (size_t i = 0; i < n; i++) {
		char buf[64];
		const char *slash = strchr(elems[i], '/');
		struct addr a;
		struct ir_elem *e;

		snprintf(buf, sizeof(buf), "%.*s", slash ? (int)(slash - elems[i]) : 63, elems[i]);
		a = addr(buf);
		e = ir_set_add_elem(s, &a, 32, slash ? slash + 1 : NULL);
		if (slash) {
			e->timeout_ms = 3600000;
			e->expires_ms = expires_ms;
		}
	}
	ir_ruleset_sort(rs);
	return rs;
}

START_TEST(identical_is_empty)
{
	const char *e[] = { "192.0.2.1", "192.0.2.2/ntp.test" };
	struct ir_ruleset *a = rs_with(e, 2, 3000000), *b = rs_with(e, 2, 0);
	struct ruleset_delta d;

	ck_assert(ruleset_delta(a, b, 0, &d));
	ck_assert(ruleset_delta_empty(&d));
	ruleset_delta_free(&d);
	/* More than half of the hour left: nothing to renew at half. */
	ck_assert(ruleset_delta(a, b, 1800000, &d));
	ck_assert(ruleset_delta_empty(&d));
	ruleset_delta_free(&d);
	ir_ruleset_free(a);
	ir_ruleset_free(b);
}
END_TEST

START_TEST(adds_and_deletes)
{
	const char *l[] = { "192.0.2.1", "192.0.2.2", "192.0.2.5" };
	const char *w[] = { "192.0.2.1", "192.0.2.3", "192.0.2.4" };
	struct ir_ruleset *live = rs_with(l, 3, 0), *want = rs_with(w, 3, 0);
	struct ruleset_delta d;
	struct addr a2 = addr("192.0.2.2"), a3 = addr("192.0.2.3");

	ck_assert(ruleset_delta(live, want, DELTA_RENEW_ALL, &d));
	ck_assert_uint_eq(d.n_sets, 1);
	ck_assert_str_eq(d.sets[0].set->name, "upstreams4");
	ck_assert_uint_eq(d.added, 2);
	ck_assert_uint_eq(d.deleted, 2);
	ck_assert_uint_eq(d.renewed, 0);	/* literals have no timeout */
	ck_assert_int_eq(addr_cmp(&d.sets[0].del[0]->addr, &a2), 0);
	ck_assert_int_eq(addr_cmp(&d.sets[0].add[0]->addr, &a3), 0);
	ruleset_delta_free(&d);
	ir_ruleset_free(live);
	ir_ruleset_free(want);
}
END_TEST

START_TEST(renews_dns_elements)
{
	const char *e[] = { "192.0.2.1", "192.0.2.2/ntp.test", "192.0.2.3/pool.test" };
	struct ir_ruleset *live = rs_with(e, 3, 1000000), *want = rs_with(e, 3, 0);
	struct ruleset_delta d;

	/* refresh: every element from DNS, deleted and added back. */
	ck_assert(ruleset_delta(live, want, DELTA_RENEW_ALL, &d));
	ck_assert_uint_eq(d.renewed, 2);
	ck_assert_uint_eq(d.added + d.deleted, 0);
	ck_assert_uint_eq(d.sets[0].n_del, 2);
	ck_assert_uint_eq(d.sets[0].n_add, 2);
	ruleset_delta_free(&d);
	/* apply: less than half of the hour left (1000 s): renewed. */
	ck_assert(ruleset_delta(live, want, 1800000, &d));
	ck_assert_uint_eq(d.renewed, 2);
	ruleset_delta_free(&d);
	ir_ruleset_free(live);
	ir_ruleset_free(want);
}
END_TEST

START_TEST(changed_comment_is_replaced)
{
	const char *l[] = { "192.0.2.2/old.test" }, *w[] = { "192.0.2.2/new.test" };
	struct ir_ruleset *live = rs_with(l, 1, 3000000), *want = rs_with(w, 1, 0);
	struct ruleset_delta d;

	ck_assert(ruleset_delta(live, want, 0, &d));
	ck_assert_uint_eq(d.renewed, 1);
	ck_assert_str_eq(d.sets[0].add[0]->comment, "new.test");
	ruleset_delta_free(&d);
	ir_ruleset_free(live);
	ir_ruleset_free(want);
}
END_TEST

START_TEST(other_changes_need_a_new_table)
{
	const char *e[] = { "192.0.2.1" };
	struct ir_ruleset *live = rs_with(e, 1, 0), *want = rs_with(e, 1, 0);
	struct ruleset_delta d;

	want->chains[0].rules[0].verdict = IR_VERDICT_DROP;
	ck_assert(!ruleset_delta(live, want, 0, &d));
	ir_ruleset_free(want);
	want = rs_with(e, 1, 0);
	want->sets[1].timeout_ms = 5000;	/* a set definition */
	ck_assert(!ruleset_delta(live, want, 0, &d));
	ir_ruleset_free(want);
	want = rs_with(e, 1, 0);
	free(want->table);
	want->table = xstrdup("other");
	ck_assert(!ruleset_delta(live, want, 0, &d));
	ir_ruleset_free(want);
	ir_ruleset_free(live);
}
END_TEST

START_TEST(dynamic_sets_are_not_ours)
{
	const char *e[] = { "192.0.2.1" };
	struct ir_ruleset *live = rs_with(e, 1, 0), *want = rs_with(e, 1, 0);
	struct addr a = addr("198.51.100.7");
	struct ruleset_delta d;

	/* A meter entry the packet path made: never deleted by an update. */
	ir_set_add_elem(ir_set_find(live, "rl4"), &a, 32, NULL);
	ck_assert(ruleset_delta(live, want, DELTA_RENEW_ALL, &d));
	ck_assert(ruleset_delta_empty(&d));
	ruleset_delta_free(&d);
	ir_ruleset_free(live);
	ir_ruleset_free(want);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("delta");
	TCase *tc = tcase_create("delta");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, identical_is_empty);
	tcase_add_test(tc, adds_and_deletes);
	tcase_add_test(tc, renews_dns_elements);
	tcase_add_test(tc, changed_comment_is_replaced);
	tcase_add_test(tc, other_changes_need_a_new_table);
	tcase_add_test(tc, dynamic_sets_are_not_ours);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
