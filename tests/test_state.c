/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for state.c: the state directory's generations, history and
 * pending-confirm record, and its edges: ownership, pruning around a pending
 * confirmation, leftover temporaries, corrupt files, records written ahead. */
#include "sample_ir.h"
#include "ntpwall/ir.h"
#include "ntpwall/state.h"
#include "ntpwall/util.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TEMPLATE "/tmp/ntpwall-state-XXXXXX"

/* A new private directory (mode 0700) into dir, of sizeof(TEMPLATE). */
static void make_dir(char *dir)
{
	memcpy(dir, TEMPLATE, sizeof(TEMPLATE));
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void remove_dir(const char *dir)
{
	char *cmd = xasprintf("rm -rf %s", dir);

	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
}

static void put(const char *dir, const char *name, const char *text, size_t len)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(text, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
	free(path);
}

static void put_str(const char *dir, const char *name, const char *text)
{
	put(dir, name, text, strlen(text));
}

/* The file's bytes (the caller frees them). */
static char *get(const char *dir, const char *name, size_t *len)
{
	char *path = xasprintf("%s/%s", dir, name), *buf = NULL;

	ck_assert_int_eq(util_read_file(path, 1 << 20, &buf, len), 0);
	free(path);
	return buf;
}

static bool has(const char *dir, const char *name)
{
	char *path = xasprintf("%s/%s", dir, name);
	bool yes = access(path, F_OK) == 0;

	free(path);
	return yes;
}

/* Names of dir holding ".tmp.", the mark of a record written ahead. */
static size_t count_temporaries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)))
		n += strstr(de->d_name, ".tmp.") != NULL;
	closedir(d);
	return n;
}

static void expect_list(struct state *st, const unsigned long *want, size_t n_want)
{
	unsigned long *nums;
	size_t n;

	ck_assert_int_eq(state_list(st, &nums, &n), 0);
	ck_assert_uint_eq(n, n_want);
	for (size_t i = 0; i < n; i++)
		ck_assert_uint_eq(nums[i], want[i]);
	free(nums);
}

/* Record a removal (no ruleset) as the next generation. */
static unsigned long record(struct state *st, unsigned keep)
{
	struct state_gen *g = state_gen_new("remove", "nft");
	unsigned long n;

	ck_assert_int_eq(state_record(st, g, keep), 0);
	n = g->number;
	state_gen_free(g);
	return n;
}

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

/* Only a directory of our own that nobody else can write holds generations
 * (they decide what root loads into the kernel). */
START_TEST(state_open_ownership)
{
	char dir[sizeof(TEMPLATE)];
	char *sub, *file;
	struct state *st;
	struct stat sb;
	uid_t other;

	make_dir(dir);
	ck_assert_int_eq(state_open(dir, false, &st), 0);
	state_close(st);
	ck_assert_int_eq(chmod(dir, 0755), 0);
	ck_assert_int_eq(state_open(dir, false, &st), 0);
	state_close(st);
	ck_assert_int_eq(chmod(dir, 0770), 0);
	ck_assert_int_eq(state_open(dir, false, &st), -EPERM);
	ck_assert_ptr_null(st);
	ck_assert_int_eq(chmod(dir, 0720), 0);
	ck_assert_int_eq(state_open(dir, true, &st), -EPERM);
	ck_assert_int_eq(chmod(dir, 0702), 0);
	ck_assert_int_eq(state_open(dir, false, &st), -EPERM);
	ck_assert_int_eq(chmod(dir, 0700), 0);

	/* Created 0700 when missing; an existing one is fine with create. */
	sub = xasprintf("%s/sub", dir);
	ck_assert_int_eq(state_open(sub, false, &st), -ENOENT);
	ck_assert_int_eq(state_open(sub, true, &st), 0);
	state_close(st);
	ck_assert_int_eq(stat(sub, &sb), 0);
	ck_assert_uint_eq(sb.st_mode & 07777, 0700);
	ck_assert_int_eq(state_open(sub, true, &st), 0);
	state_close(st);
	file = xasprintf("%s/file", dir);
	put_str(dir, "file", "");
	ck_assert_int_eq(state_open(file, false, &st), -ENOTDIR);

	/* Another user's directory, even 0700. Only root can make one; chown
	 * fails with EPERM otherwise (EINVAL where that user is not mapped). */
	other = geteuid() == 65534 ? 65533 : 65534;
	if (chown(sub, other, other) == 0)
		ck_assert_int_eq(state_open(sub, false, &st), -EPERM);
	else
		ck_assert(geteuid() != 0 || errno == EINVAL);
	free(file);
	free(sub);
	remove_dir(dir);
}
END_TEST

/* Pruning beyond keep never deletes what a pending confirmation needs: the
 * generation it reverts to and the generation itself. */
START_TEST(state_prune_keeps_pending)
{
	static const unsigned long four[] = { 1, 2, 3, 4 }, kept[] = { 1, 3, 5 }, last[] = { 6 };
	struct state_pending p = { .generation = 3, .previous = 1, .deadline = 1000 };
	char dir[sizeof(TEMPLATE)];
	struct state *st;

	make_dir(dir);
	ck_assert_int_eq(state_open(dir, false, &st), 0);
	ck_assert_int_eq(state_lock(st), 0);
	for (unsigned long i = 1; i <= 4; i++)
		ck_assert_uint_eq(record(st, 10), i);
	expect_list(st, four, 4);
	ck_assert_int_eq(state_pending_write(st, &p), 0);
	ck_assert_uint_eq(record(st, 1), 5);
	expect_list(st, kept, 3);
	ck_assert_int_eq(state_pending_clear(st), 0);
	ck_assert_uint_eq(record(st, 1), 6);
	expect_list(st, last, 1);
	state_close(st);
	remove_dir(dir);
}
END_TEST

/* A process killed mid-write leaves ".NAME.tmp.PID": never listed, and
 * removed when the next command takes the lock; nothing else is. */
START_TEST(state_lock_removes_temporaries)
{
	static const unsigned long one[] = { 1 };
	char dir[sizeof(TEMPLATE)];
	struct state *st;

	make_dir(dir);
	put_str(dir, ".gen-000002.json.tmp.4242", "{\"format\": \"ntpwall-gen");
	put_str(dir, ".pending-confirm.json.tmp.1", "");
	put_str(dir, ".health.json.tmp.99", "{}");
	put_str(dir, "notes.tmp.1", "mine");
	put_str(dir, ".hidden", "mine");
	ck_assert_int_eq(state_open(dir, false, &st), 0);
	expect_list(st, NULL, 0);
	ck_assert_uint_eq(state_latest(st), 0);
	ck_assert_uint_eq(count_temporaries(dir), 4);
	ck_assert_int_eq(state_lock(st), 0);
	ck_assert_uint_eq(count_temporaries(dir), 1);
	ck_assert(has(dir, "notes.tmp.1"));
	ck_assert(has(dir, ".hidden"));
	ck_assert(has(dir, "lock"));
	ck_assert_uint_eq(record(st, 10), 1);
	expect_list(st, one, 1);
	ck_assert_uint_eq(count_temporaries(dir), 1);
	state_close(st);
	remove_dir(dir);
}
END_TEST

/* A damaged generation fails to load with a message naming it; the others
 * are still listed and load. */
START_TEST(state_corrupt_generation)
{
	static const unsigned long all[] = { 1, 2, 3, 4, 5, 6 };
	static const struct { unsigned long n; const char *name, *text, *err; } bad[] = {
		{ 2, "gen-000002.json", "{\"format\": \"ntpwall-gen",
		  "gen-000002.json: not valid JSON" },
		{ 3, "gen-000003.json", "{\"version\": 1}",
		  "gen-000003.json: not an ntpwall generation" },
		{ 5, "gen-000005.json", "", "gen-000005.json: not valid JSON" },
	};
	char dir[sizeof(TEMPLATE)];
	struct state *st;
	struct state_gen *g;
	char *text, want[sizeof(TEMPLATE) + 80];
	struct diags d;
	size_t len;

	diag_init(&d, 0);
	make_dir(dir);
	ck_assert_int_eq(state_open(dir, false, &st), 0);
	ck_assert_int_eq(state_lock(st), 0);
	g = state_gen_new("apply", "nft");
	g->rs = sample_ruleset();
	ck_assert_int_eq(state_record(st, g, 10), 0);
	state_gen_free(g);
	for (unsigned long i = 2; i <= 6; i++)
		ck_assert_uint_eq(record(st, 10), i);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		put_str(dir, bad[i].name, bad[i].text);
	/* Generation 1's file under the name of 4: the number inside differs. */
	text = get(dir, "gen-000001.json", &len);
	put(dir, "gen-000004.json", text, len);
	/* Generation 1 cut short, as 6. */
	put(dir, "gen-000006.json", text, len / 2);
	free(text);

	expect_list(st, all, 6);
	ck_assert_uint_eq(state_latest(st), 6);
	/* Each error names the file in the directory, as NW502. */
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		ck_assert_int_eq(state_load(st, bad[i].n, &g, &d), -EINVAL);
		ck_assert_ptr_null(g);
		snprintf(want, sizeof(want), "%s/%s", dir, bad[i].err);
		ck_assert_str_eq(d.v[d.n - 1].msg, want);
		ck_assert_int_eq(d.v[d.n - 1].code, NW502_STATE);
	}
	ck_assert_int_eq(state_load(st, 4, &g, &d), -EINVAL);
	snprintf(want, sizeof(want), "%s/gen-000004.json: not an ntpwall generation", dir);
	ck_assert_str_eq(d.v[d.n - 1].msg, want);
	ck_assert_int_eq(state_load(st, 6, &g, &d), -EINVAL);
	ck_assert_uint_eq(d.errors, ARRAY_SIZE(bad) + 2);
	/* d may be NULL; a missing generation is -ENOENT and no error. */
	ck_assert_int_eq(state_load(st, 2, &g, NULL), -EINVAL);
	ck_assert_int_eq(state_load(st, 3, &g, NULL), -EINVAL);
	ck_assert_int_eq(state_load(st, 7, &g, &d), -ENOENT);
	ck_assert_uint_eq(d.errors, ARRAY_SIZE(bad) + 2);
	ck_assert_int_eq(state_load(st, 1, &g, &d), 0);
	ck_assert_ptr_nonnull(g->rs);
	state_gen_free(g);
	/* A generation whose ruleset has a bad shape: the IR loader's message. */
	put_str(dir, "gen-000007.json",
		"{\"format\":\"ntpwall-generation\",\"version\":1,\"generation\":7,"
		"\"action\":\"apply\",\"created\":\"2026-01-01T00:00:00Z\",\"backend\":\"nft\","
		"\"ntpwall_version\":\"0\",\"policy\":{\"path\":null,\"hash\":null},"
		"\"resolved\":null,\"ruleset\":{}}");
	ck_assert_int_eq(state_load(st, 7, &g, &d), -EINVAL);
	ck_assert_ptr_null(g);
	snprintf(want, sizeof(want), "%s/gen-000007.json: not an ntpwall-ir document", dir);
	ck_assert_str_eq(d.v[d.n - 1].msg, want);
	diag_free(&d);
	state_close(st);
	remove_dir(dir);
}
END_TEST

/* A damaged pending-confirm.json is -EINVAL, not "nothing pending". */
START_TEST(state_corrupt_pending)
{
	static const char *const bad[] = {
		"",
		"{",
		"[]",
		"{\"generation\": 3}",
		"{\"previous\": 2, \"deadline\": 1, \"watchdog\": 0}",
		"{\"generation\": \"3\", \"previous\": 2, \"deadline\": 1, \"watchdog\": 0}",
		"{\"generation\": 3, \"previous\": 2, \"dead",
	};
	struct state_pending p = { 3, 2, 1000, 4242, 77 }, q;
	char dir[sizeof(TEMPLATE)];
	struct state *st;
	char *text;
	size_t len;

	make_dir(dir);
	ck_assert_int_eq(state_open(dir, false, &st), 0);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		put_str(dir, "pending-confirm.json", bad[i]);
		ck_assert_int_eq(state_pending_read(st, &q), -EINVAL);
	}
	/* A record written by state_pending_write(), cut short. */
	ck_assert_int_eq(state_pending_write(st, &p), 0);
	text = get(dir, "pending-confirm.json", &len);
	put(dir, "pending-confirm.json", text, len - 3);
	free(text);
	ck_assert_int_eq(state_pending_read(st, &q), -EINVAL);
	/* watchdog_start may be missing (records before it existed). */
	put_str(dir, "pending-confirm.json",
		"{\"generation\": 3, \"previous\": 0, \"deadline\": 5, \"watchdog\": 9}");
	ck_assert_int_eq(state_pending_read(st, &q), 0);
	ck_assert_uint_eq(q.generation, 3);
	ck_assert_uint_eq(q.previous, 0);
	ck_assert_int_eq(q.deadline, 5);
	ck_assert_int_eq(q.watchdog, 9);
	ck_assert_uint_eq(q.watchdog_start, 0);
	state_close(st);
	remove_dir(dir);
}
END_TEST

/* A record prepared ahead of a kernel change is invisible until published;
 * a discarded one leaves nothing. */
START_TEST(state_prepare_publish_discard)
{
	static const unsigned long one[] = { 1 }, two[] = { 1, 2 };
	struct state_pending p = { 2, 1, 1000, 4242, 77 }, q = { 9, 9, 9, 9, 9 }, r;
	char dir[sizeof(TEMPLATE)];
	struct state_prepared pp;
	struct state *st;
	struct state_gen *g, *back;
	struct ir_ruleset *rs;

	make_dir(dir);
	ck_assert_int_eq(state_open(dir, false, &st), 0);
	ck_assert_int_eq(state_lock(st), 0);
	ck_assert_uint_eq(record(st, 10), 1);

	g = state_gen_new("apply", "nft");
	g->rs = sample_ruleset();
	ck_assert_int_eq(state_prepare(st, g, &pp), 0);
	ck_assert_uint_eq(g->number, 2);
	ck_assert_ptr_nonnull(g->created);
	ck_assert_ptr_nonnull(g->version);
	ck_assert(pp.ready);
	ck_assert_str_eq(pp.name, "gen-000002.json");
	ck_assert(has(dir, pp.tmp));
	ck_assert(!has(dir, pp.name));
	expect_list(st, one, 1);
	ck_assert_uint_eq(state_latest(st), 1);
	ck_assert_int_eq(state_load(st, 2, &back, NULL), -ENOENT);
	ck_assert_int_eq(state_publish(st, &pp, 10), 0);
	ck_assert(!pp.ready);
	ck_assert(!has(dir, pp.tmp));
	expect_list(st, two, 2);
	state_gen_free(g);
	ck_assert_int_eq(state_load(st, 2, &back, NULL), 0);
	rs = sample_ruleset();
	ck_assert(ir_ruleset_equal(back->rs, rs));
	ir_ruleset_free(rs);
	state_gen_free(back);

	g = state_gen_new("apply", "nft");
	ck_assert_int_eq(state_prepare(st, g, &pp), 0);
	ck_assert_uint_eq(g->number, 3);
	state_gen_free(g);
	state_discard(st, &pp);
	ck_assert(!pp.ready);
	state_discard(st, &pp);
	ck_assert(!has(dir, pp.tmp));
	ck_assert(!has(dir, "gen-000003.json"));
	ck_assert_int_eq(state_publish(st, &pp, 10), -EINVAL);
	ck_assert(!has(dir, "gen-000003.json"));
	expect_list(st, two, 2);

	/* The pending-confirm record the same way. */
	ck_assert_int_eq(state_pending_prepare(st, &p, &pp), 0);
	ck_assert_str_eq(pp.name, "pending-confirm.json");
	ck_assert_int_eq(state_pending_read(st, &r), -ENOENT);
	ck_assert_int_eq(state_publish(st, &pp, 10), 0);
	ck_assert_int_eq(state_pending_read(st, &r), 0);
	ck_assert_uint_eq(r.generation, 2);
	ck_assert_uint_eq(r.previous, 1);
	ck_assert_int_eq(r.deadline, 1000);
	ck_assert_int_eq(r.watchdog, 4242);
	ck_assert_uint_eq(r.watchdog_start, 77);
	ck_assert_int_eq(state_pending_prepare(st, &q, &pp), 0);
	state_discard(st, &pp);
	ck_assert_int_eq(state_pending_read(st, &r), 0);
	ck_assert_uint_eq(r.generation, 2);
	expect_list(st, two, 2);
	ck_assert_uint_eq(count_temporaries(dir), 0);
	state_close(st);
	remove_dir(dir);
}
END_TEST

/* The state directory's other JSON files: atomic write, read, remove. */
START_TEST(state_json_files)
{
	char dir[sizeof(TEMPLATE)];
	struct state *st;
	json_t *j = json_pack("{s:i, s:[s]}", "a", 1, "b", "x"), *k = json_pack("{s:b}", "c", 1);
	json_t *back;

	make_dir(dir);
	ck_assert_int_eq(state_open(dir, false, &st), 0);
	ck_assert_int_eq(state_json_read(st, "health.json", &back), -ENOENT);
	ck_assert_ptr_null(back);
	ck_assert_int_eq(state_json_write(st, "health.json", j), 0);
	ck_assert_int_eq(state_json_read(st, "health.json", &back), 0);
	ck_assert(json_equal(back, j));
	json_decref(back);
	ck_assert_int_eq(state_json_write(st, "health.json", k), 0);
	ck_assert_int_eq(state_json_read(st, "health.json", &back), 0);
	ck_assert(json_equal(back, k));
	json_decref(back);
	expect_list(st, NULL, 0);
	ck_assert_uint_eq(count_temporaries(dir), 0);
	ck_assert_int_eq(state_json_remove(st, "health.json"), 0);
	ck_assert(!has(dir, "health.json"));
	ck_assert_int_eq(state_json_read(st, "health.json", &back), -ENOENT);
	ck_assert_int_eq(state_json_remove(st, "health.json"), 0);
	put_str(dir, "health.json", "{\"a\": ");
	ck_assert_int_eq(state_json_read(st, "health.json", &back), -EINVAL);
	ck_assert_ptr_null(back);
	json_decref(j);
	json_decref(k);
	state_close(st);
	remove_dir(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("state");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, state_generations);
	tcase_add_test(tc, state_open_ownership);
	tcase_add_test(tc, state_prune_keeps_pending);
	tcase_add_test(tc, state_lock_removes_temporaries);
	tcase_add_test(tc, state_corrupt_generation);
	tcase_add_test(tc, state_corrupt_pending);
	tcase_add_test(tc, state_prepare_publish_discard);
	tcase_add_test(tc, state_json_files);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
