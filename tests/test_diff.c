/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for diff.c: the unified line diff (hunks, context, a large
 * input and the edit cap). */
#include "ntpwall/diff.h"
#include "ntpwall/util.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int main(void)
{
	Suite *s = suite_create("diff");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, diff_equal_and_simple);
	tcase_add_test(tc, diff_two_hunks);
	tcase_add_test(tc, diff_large);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
