/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for state.c: the state directory's generations, history and
 * pending-confirm record. */
#include "sample_ir.h"
#include "ntpwall/ir.h"
#include "ntpwall/state.h"
#include "ntpwall/util.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

START_TEST(state_generations)
{
	char dir[] = "/tmp/ntpwall-state-XXXXXX";
	struct state *st;
	struct state_gen *g;
	struct state_pending p = { 3, 2, 1000, 0 }, q;
	unsigned long *nums;
	size_t n;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(state_open(dir, false, &st), 0);
	ck_assert_int_eq(state_lock(st), 0);
	ck_assert_uint_eq(state_latest(st), 0);
	for (int i = 0; i < 5; i++) {
		g = state_gen_new(i == 4 ? "remove" : "apply", "nft");
		if (i != 4)
			g->rs = sample_ruleset();
		g->policy_path = xstrdup("p.yaml");
		ck_assert_int_eq(state_record(st, g, 3), 0);
		ck_assert_uint_eq(g->number, (unsigned long)i + 1);
		state_gen_free(g);
	}
	ck_assert_int_eq(state_list(st, &nums, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(nums[0], 3);
	free(nums);
	ck_assert_int_eq(state_load(st, 4, &g, NULL), 0);
	ck_assert_str_eq(g->action, "apply");
	ck_assert_str_eq(g->policy_path, "p.yaml");
	{
		struct ir_ruleset *rs = sample_ruleset();

		ck_assert(ir_ruleset_equal(g->rs, rs));
		ir_ruleset_free(rs);
	}
	state_gen_free(g);
	ck_assert_int_eq(state_load(st, 5, &g, NULL), 0);
	ck_assert_ptr_null(g->rs);
	state_gen_free(g);
	ck_assert_int_eq(state_load(st, 1, &g, NULL), -ENOENT);
	ck_assert_int_eq(state_pending_read(st, &q), -ENOENT);
	ck_assert_int_eq(state_pending_write(st, &p), 0);
	ck_assert_int_eq(state_pending_read(st, &q), 0);
	ck_assert_uint_eq(q.generation, 3);
	ck_assert_uint_eq(q.previous, 2);
	ck_assert_int_eq(state_pending_clear(st), 0);
	ck_assert_int_eq(state_pending_read(st, &q), -ENOENT);
	state_close(st);
	{
		char cmd[64];	/* "rm -rf " + the 26-byte template */

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		ck_assert_int_eq(system(cmd), 0);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("state");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, state_generations);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
