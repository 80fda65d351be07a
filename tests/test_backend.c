/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for the backend stage's kernel-free parts: the IR's JSON
 * round trip, the line diff, and the state directory. */
#include "ntpwall/diff.h"
#include "ntpwall/ir.h"
#include "ntpwall/ir_json.h"
#include "ntpwall/state.h"
#include "ntpwall/util.h"

#include <check.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct policy_addr addr(const char *s)
{
	struct policy_addr a = { 0 };

	ck_assert_ptr_null(policy_parse_addr(s, &a));
	return a;
}

static struct ir_ruleset *sample(void)
{
	struct ir_ruleset *rs = ir_ruleset_new("ntpwall");
	struct ir_set *s = ir_set_add(rs, "upstreams4", IR_KEY_IPV4, IR_SET_TIMEOUT);
	struct ir_chain *c = ir_chain_add(rs, "output", IR_HOOK_OUTPUT, 0);
	struct ir_rule *r;
	struct ir_match *m;
	struct policy_addr a = addr("192.0.2.1");

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
	r = ir_rule_add(c, NULL, NULL);
	r->unknown = xstrdup("[ tcp flags ]");
	r->notrack = true;
	ir_ruleset_sort(rs);
	return rs;
}

static void check_json_round_trip(struct ir_ruleset *rs)
{
	struct ir_ruleset *back;
	json_t *j = ir_json_dump(rs, false);
	char *text = json_dumps(j, 0), *err = NULL;
	json_t *j2 = json_loads(text, 0, NULL);

	ck_assert_int_eq(ir_json_load(j2, &back, &err), 0);
	ck_assert(ir_ruleset_equal(rs, back));
	json_decref(j);
	json_decref(j2);
	free(text);
	ir_ruleset_free(back);
	ir_ruleset_free(rs);
}

START_TEST(json_round_trip)
{
	check_json_round_trip(sample());
}
END_TEST

/* A snapshot of a tampered table keeps what ntpwall never makes; a
 * compiled ruleset's JSON has no such keys at all. */
START_TEST(json_read_back_fields)
{
	struct ir_ruleset *rs = sample();
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
		"{\"format\":\"ntpwall-ir\",\"version\":1,\"table\":\"t\",\"sets\":[{\"name\":\"s\","
		"\"key\":\"ipv4_addr\",\"flags\":[],\"timeout_ms\":0,\"size\":0,\"elements\":"
		"[{\"addr\":\"300.1.1.1\",\"prefix\":32}]}],\"chains\":[]}",
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		json_t *j = json_loads(bad[i], 0, NULL);
		struct ir_ruleset *rs = NULL;
		char *err = NULL;

		ck_assert_ptr_nonnull(j);
		ck_assert_int_eq(ir_json_load(j, &rs, &err), -EINVAL);
		ck_assert_ptr_null(rs);
		ck_assert_ptr_nonnull(err);
		free(err);
		json_decref(j);
	}
}
END_TEST

static char *diff_of(const char *a, const char *b, bool *differs)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	ck_assert_int_eq(diff_text(a, strlen(a), b, strlen(b), "a", "b", f, differs), 0);
	fclose(f);
	return out;
}

START_TEST(diff_equal_and_simple)
{
	bool d;
	char *out = diff_of("x\ny\n", "x\ny\n", &d);

	ck_assert(!d);
	ck_assert_str_eq(out, "");
	free(out);
	out = diff_of("1\n2\n3\n4\n5\n6\n7\n8\n", "1\n2\n3\n4\nfive\n6\n7\n8\n", &d);
	ck_assert(d);
	ck_assert_str_eq(out, "--- a\n+++ b\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n");
	free(out);
	out = diff_of("", "new\n", &d);
	ck_assert_str_eq(out, "--- a\n+++ b\n@@ -0,0 +1,1 @@\n+new\n");
	free(out);
	out = diff_of("old\n", "", &d);
	ck_assert_str_eq(out, "--- a\n+++ b\n@@ -1,1 +0,0 @@\n-old\n");
	free(out);
}
END_TEST

/* Two far-apart changes make two hunks; applying the hunks to a gives b. */
START_TEST(diff_two_hunks)
{
	char a[4096] = "", b[4096] = "";
	bool d;
	char *out;

	for (int i = 0; i < 40; i++) {
		char line[16];	/* "line NN\n" */

		snprintf(line, sizeof(line), "line %d\n", i);
		strcat(a, line);
		if (i == 5)
			strcat(b, "inserted\n");
		if (i != 30)
			strcat(b, line);
	}
	out = diff_of(a, b, &d);
	ck_assert(d);
	ck_assert_ptr_nonnull(strstr(out, "@@ -3,6 +3,7 @@\n line 2\n line 3\n line 4\n+inserted\n"));
	ck_assert_ptr_nonnull(strstr(out, "@@ -28,7 +29,6 @@\n line 27\n line 28\n line 29\n-line 30\n"));
	free(out);
}
END_TEST

/* 100,000 lines with a handful of changes, and two unrelated listings:
 * both must finish (the edit cap bounds the second). */
START_TEST(diff_large)
{
	size_t n = 100000, len = 0;
	char *a = xmalloc(n * 24), *b = xmalloc(n * 24), *c = xmalloc(n * 24);
	size_t la = 0, lb = 0, lc = 0;
	bool d;
	char *out = NULL;
	FILE *f;

	for (size_t i = 0; i < n; i++) {
		la += (size_t)sprintf(a + la, "elem 10.%zu.%zu\n", i / 256, i % 256);
		if (i % 20000 != 7)
			lb += (size_t)sprintf(b + lb, "elem 10.%zu.%zu\n", i / 256, i % 256);
		lc += (size_t)sprintf(c + lc, "other %zu\n", i);
	}
	f = open_memstream(&out, &len);
	ck_assert_int_eq(diff_text(a, la, b, lb, "a", "b", f, &d), 0);
	fclose(f);
	ck_assert(d);
	ck_assert_ptr_nonnull(strstr(out, "-elem 10.78.39\n"));
	free(out);
	f = open_memstream(&out, &len);
	ck_assert_int_eq(diff_text(a, la, c, lc, "a", "c", f, &d), 0);
	fclose(f);
	ck_assert(d);
	free(out);
	free(a);
	free(b);
	free(c);
}
END_TEST

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
			g->rs = sample();
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
		struct ir_ruleset *rs = sample();

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
	Suite *s = suite_create("backend");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, json_round_trip);
	tcase_add_test(tc, json_read_back_fields);
	tcase_add_test(tc, json_rejects_bad_shapes);
	tcase_add_test(tc, diff_equal_and_simple);
	tcase_add_test(tc, diff_two_hunks);
	tcase_add_test(tc, diff_large);
	tcase_add_test(tc, state_generations);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
