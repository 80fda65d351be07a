/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for ir_json.c: the IR's JSON round trip, the fields only a
 * read-back table has, and the shapes the loader refuses. */
#include "sample_ir.h"
#include "ntpwall/ir.h"
#include "ntpwall/ir_json.h"
#include "ntpwall/util.h"

#include <check.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>

static void check_json_round_trip(struct ir_ruleset *rs)
{
	struct ir_ruleset *back;
	json_t *j = ir_json_dump(rs, false);
	char *text = json_dumps(j, 0);
	json_t *j2 = json_loads(text, 0, NULL);

	ck_assert_int_eq(ir_json_load(j2, &back, NULL), 0);
	ck_assert(ir_ruleset_equal(rs, back));
	json_decref(j);
	json_decref(j2);
	free(text);
	ir_ruleset_free(back);
	ir_ruleset_free(rs);
}

START_TEST(json_round_trip)
{
	check_json_round_trip(sample_ruleset());
}
END_TEST

/* A snapshot of a tampered table keeps what ntpwall never makes; a
 * compiled ruleset's JSON has no such keys at all. */
START_TEST(json_read_back_fields)
{
	struct ir_ruleset *rs = sample_ruleset();
	json_t *j = ir_json_dump(rs, true);

	ck_assert_ptr_null(json_object_get(j, "table_flags"));
	ck_assert_ptr_null(json_object_get(json_array_get(json_object_get(j, "chains"), 0), "type"));
	ck_assert_ptr_null(json_object_get(json_array_get(json_object_get(j, "sets"), 0), "policy"));
	ck_assert_ptr_null(json_object_get(json_array_get(json_object_get(j, "sets"), 1),
					   "gc_interval_ms"));
	json_decref(j);
	rs->flags = 0x1;
	rs->chains[0].type = xstrdup("nat");
	rs->sets[0].policy_memory = true;
	rs->sets[1].gc_interval_ms = 250;
	ir_chain_add(rs, "ingress", IR_HOOK_INGRESS, -500)->device = xstrdup("eth0 eth1");
	rs->sets[2].flags |= IR_SET_FOREIGN;
	check_json_round_trip(rs);
}
END_TEST

START_TEST(json_rejects_bad_shapes)
{
	static const char *const bad[] = {
		"{}",
		"{\"format\":\"ntpwall-ir\",\"version\":2,\"table\":\"t\",\"sets\":[],\"chains\":[]}",
		"{\"format\":\"ntpwall-ir\",\"version\":1,\"table\":\"t\",\"sets\":[],\"chains\":"
		"[{\"name\":\"c\",\"hook\":\"input\",\"priority\":0,\"policy\":\"accept\",\"rules\":"
		"[{\"matches\":[{\"type\":\"bogus\"}],\"counter\":true,\"verdict\":\"accept\"}]}]}",
		"{\"format\":\"ntpwall-ir\",\"version\":1,\"table\":\"t\",\"sets\":[],\"chains\":"
		"[{\"name\":\"c\",\"hook\":\"input\",\"priority\":0,\"policy\":\"accept\",\"rules\":"
		"[{\"matches\":[{\"type\":\"limit\",\"rate\":{\"rate\":0,\"unit_s\":60,\"burst\":5}}],"
		"\"counter\":true,\"verdict\":\"none\"}]}]}",
		"{\"format\":\"ntpwall-ir\",\"version\":1,\"table\":\"t\",\"sets\":[{\"name\":\"s\","
		"\"key\":\"ipv4_addr\",\"flags\":[],\"timeout_ms\":0,\"size\":0,\"elements\":"
		"[{\"addr\":\"300.1.1.1\",\"prefix\":32}]}],\"chains\":[]}",
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		json_t *j = json_loads(bad[i], 0, NULL);
		struct ir_ruleset *rs = NULL;
		struct diags d;

		diag_init(&d, 0);
		ck_assert_ptr_nonnull(j);
		ck_assert_int_eq(ir_json_load(j, &rs, &d), -EINVAL);
		ck_assert_ptr_null(rs);
		ck_assert_uint_eq(d.errors, 1);
		ck_assert_int_eq(d.v[0].code, NW502_STATE);
		diag_free(&d);
		json_decref(j);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ir_json");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, json_round_trip);
	tcase_add_test(tc, json_read_back_fields);
	tcase_add_test(tc, json_rejects_bad_shapes);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
