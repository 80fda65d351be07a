/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for the prober: the falseticker selection (a pure function),
 * its application to results, and the client against closed loopback ports
 * (no server needed; real servers are in tests/netns/probe.sh). */
#include "ntpwall/probe.h"
#include "ntpwall/util.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/resource.h>

#define MS 1000000LL

static void run(const struct probe_interval *iv, size_t n, bool *tc, struct probe_selection *s)
{
	probe_select(iv, n, tc, s);
}

START_TEST(test_all_agree)
{
	struct probe_interval iv[] = { { 1 * MS, 10 * MS }, { 2 * MS, 10 * MS },
				       { -3 * MS, 10 * MS }, { 0, 5 * MS } };
	bool tc[4];
	struct probe_selection s;

	run(iv, 4, tc, &s);
	ck_assert(s.ran);
	ck_assert(s.majority);
	ck_assert_uint_eq(s.truechimers, 4);
	for (int i = 0; i < 4; i++)
		ck_assert(tc[i]);
	/* The common interval is [max(lo), min(hi)] = [-5 ms, 5 ms]. */
	ck_assert_int_eq(s.low_ns, -5 * MS);
	ck_assert_int_eq(s.high_ns, 5 * MS);
}
END_TEST

START_TEST(test_one_falseticker)
{
	/* Three good servers within a millisecond, one 2.5 s ahead. */
	struct probe_interval iv[] = { { 100000, 50000 }, { 2500 * MS, 50000 },
				       { -200000, 400000 }, { 0, 300000 } };
	bool tc[4];
	struct probe_selection s;

	run(iv, 4, tc, &s);
	ck_assert(s.majority);
	ck_assert_uint_eq(s.truechimers, 3);
	ck_assert(tc[0] && !tc[1] && tc[2] && tc[3]);
}
END_TEST

START_TEST(test_two_groups)
{
	/* 2 against 2: no majority, nobody flagged. */
	struct probe_interval iv[] = { { 0, MS }, { 0, MS }, { 1000 * MS, MS },
				       { 1000 * MS, MS } };
	bool tc[4];
	struct probe_selection s;

	run(iv, 4, tc, &s);
	ck_assert(s.ran);
	ck_assert(!s.majority);
	ck_assert_uint_eq(s.truechimers, 2);
	for (int i = 0; i < 4; i++)
		ck_assert(tc[i]);
	/* 3 against 2: the three win. */
	{
		struct probe_interval iv5[] = { { 0, MS }, { 1000 * MS, MS }, { 0, MS },
						{ 1000 * MS, MS }, { MS / 2, MS } };
		bool tc5[5];

		run(iv5, 5, tc5, &s);
		ck_assert(s.majority);
		ck_assert_uint_eq(s.truechimers, 3);
		ck_assert(tc5[0] && !tc5[1] && tc5[2] && !tc5[3] && tc5[4]);
	}
}
END_TEST

START_TEST(test_fewer_than_three)
{
	struct probe_interval iv[] = { { 0, MS }, { 5000 * MS, MS } };
	bool tc[2] = { false, false };
	struct probe_selection s;

	run(iv, 2, tc, &s);
	ck_assert(!s.ran);
	ck_assert(tc[0] && tc[1]);
	run(iv, 0, tc, &s);
	ck_assert(!s.ran);
	ck_assert_uint_eq(s.candidates, 0);
}
END_TEST

START_TEST(test_touching_and_chain)
{
	/* Touching intervals intersect (closed ends). */
	struct probe_interval touch[] = { { 0, MS }, { 2 * MS, MS }, { 4 * MS, MS } };
	/* A chain: A meets B and B meets C but A and C do not: B plus one. */
	struct probe_interval chain[] = { { 0, 2 * MS }, { 3 * MS, 2 * MS }, { 6 * MS, 2 * MS } };
	bool tc[3];
	struct probe_selection s;

	run(touch, 3, tc, &s);
	ck_assert_uint_eq(s.truechimers, 2);
	ck_assert(s.majority);
	ck_assert(tc[0] && tc[1] && !tc[2]);
	run(chain, 3, tc, &s);
	ck_assert_uint_eq(s.truechimers, 2);
	ck_assert(tc[0] && tc[1] && !tc[2]);
	/* Three disjoint: no majority. */
	{
		struct probe_interval d[] = { { 0, MS }, { 10 * MS, MS }, { 20 * MS, MS } };

		run(d, 3, tc, &s);
		ck_assert(!s.majority);
		ck_assert_uint_eq(s.truechimers, 1);
	}
}
END_TEST

static void set_result(struct probe_result *r, enum probe_status st, int64_t off_ns,
		       int64_t dist_ns)
{
	r->name = xstrdup("x");
	r->reason = xstrdup("ok");
	r->status = st;
	r->has_sample = st == PROBE_OK || st == PROBE_OFFSET;
	r->offset = ntp_fp_from_ns(off_ns);
	r->root_distance = ntp_fp_from_ns(dist_ns);
}

START_TEST(test_results_select)
{
	struct probe_results *r = xcalloc(1, sizeof(*r));

	r->n = 5;
	r->v = xcalloc(r->n, sizeof(*r->v));
	set_result(&r->v[0], PROBE_OK, 0, MS);
	set_result(&r->v[1], PROBE_OK, MS / 4, MS);
	set_result(&r->v[2], PROBE_OFFSET, 2500 * MS, MS);
	set_result(&r->v[3], PROBE_TIMEOUT, 0, 0);
	set_result(&r->v[4], PROBE_OK, -MS / 4, MS);
	probe_results_select(r);
	ck_assert_uint_eq(r->selection.candidates, 4);
	ck_assert_uint_eq(r->selection.truechimers, 3);
	ck_assert_int_eq(r->v[2].status, PROBE_FALSETICKER);
	ck_assert_int_eq(r->v[3].status, PROBE_TIMEOUT);
	ck_assert(r->v[0].truechimer && r->v[1].truechimer && r->v[4].truechimer);
	ck_assert_str_eq(probe_status_str(r->v[2].status), "FALSETICKER");
	probe_results_free(r);
}
END_TEST

static struct probe_results *results(size_t n)
{
	struct probe_results *r = xcalloc(1, sizeof(*r));

	r->n = n;
	r->v = xcalloc(n, sizeof(*r->v));
	return r;
}

START_TEST(test_summary_median)
{
	/* Three agree: the median; the falseticker and the timeout are not
	 * counted. */
	struct probe_results *r = results(5);
	struct probe_summary s;

	set_result(&r->v[0], PROBE_OK, 2 * MS, 5 * MS);
	set_result(&r->v[1], PROBE_OK, -MS, 5 * MS);
	set_result(&r->v[2], PROBE_OFFSET, 2500 * MS, MS);
	set_result(&r->v[3], PROBE_TIMEOUT, 0, 0);
	set_result(&r->v[4], PROBE_OK, MS, 5 * MS);
	probe_results_select(r);
	probe_summarize(r, &s);
	ck_assert_uint_eq(s.usable, 3);
	ck_assert_uint_eq(s.truechimers, 3);
	ck_assert_uint_eq(s.agree, 3);
	ck_assert(s.majority);
	ck_assert_int_eq(s.pick, PROBE_PICK_MEDIAN);
	ck_assert_uint_eq(s.server, 4);
	ck_assert_int_eq(s.offset_ns, MS);
	/* sqrt(((2 - 1)^2 + (-1 - 1)^2) / 2) ms */
	ck_assert_int_eq(s.jitter_ns, 1581139);
	ck_assert(!s.clock_off);
	probe_results_free(r);
}
END_TEST

START_TEST(test_summary_even_never_average)
{
	/* Four agree: of the two in the middle (0 and 2 ms), the one with the
	 * smaller root distance; never 1 ms, which no server said. */
	struct probe_results *r = results(4);
	struct probe_summary s;

	set_result(&r->v[0], PROBE_OK, -3 * MS, 10 * MS);
	set_result(&r->v[1], PROBE_OK, 2 * MS, 6 * MS);
	set_result(&r->v[2], PROBE_OK, 0, 4 * MS);
	set_result(&r->v[3], PROBE_OK, 5 * MS, 10 * MS);
	probe_results_select(r);
	probe_summarize(r, &s);
	ck_assert_int_eq(s.pick, PROBE_PICK_MEDIAN);
	ck_assert_uint_eq(s.server, 2);
	ck_assert_int_eq(s.offset_ns, 0);
	/* The other way round. */
	r->v[1].root_distance = ntp_fp_from_ns(3 * MS);
	probe_summarize(r, &s);
	ck_assert_uint_eq(s.server, 1);
	ck_assert_int_eq(s.offset_ns, 2 * MS);
	/* Two: the nearer one, not the later nor the mean. */
	r->n = 2;
	r->v[0].root_distance = ntp_fp_from_ns(3 * MS);
	r->v[1].root_distance = ntp_fp_from_ns(7 * MS);
	probe_results_select(r);
	probe_summarize(r, &s);
	ck_assert_int_eq(s.pick, PROBE_PICK_NEAREST);
	ck_assert_uint_eq(s.server, 0);
	ck_assert_int_eq(s.offset_ns, -3 * MS);
	ck_assert_uint_eq(s.agree, 2);
	ck_assert(s.majority);
	ck_assert_int_eq(s.jitter_ns, 5 * MS);
	/* One. */
	r->n = 1;
	probe_summarize(r, &s);
	ck_assert_int_eq(s.pick, PROBE_PICK_NEAREST);
	ck_assert_int_eq(s.offset_ns, -3 * MS);
	ck_assert_int_eq(s.jitter_ns, 0);
	ck_assert(!s.majority);
	r->n = 4;
	probe_results_free(r);
}
END_TEST

START_TEST(test_summary_clock_off)
{
	/* Two of three agree at +2.5 s: our clock is off, the one at 0 is the
	 * falseticker, and nobody is usable. */
	struct probe_results *r = results(3);
	struct probe_summary s;

	set_result(&r->v[0], PROBE_OFFSET, 2500 * MS, 2 * MS);
	set_result(&r->v[1], PROBE_OK, 0, MS);
	set_result(&r->v[2], PROBE_OFFSET, 2501 * MS, MS);
	probe_results_select(r);
	ck_assert_int_eq(r->v[1].status, PROBE_FALSETICKER);
	probe_summarize(r, &s);
	ck_assert_uint_eq(s.usable, 0);
	ck_assert_uint_eq(s.truechimers, 2);
	ck_assert_uint_eq(s.agree, 2);
	ck_assert(s.majority);
	ck_assert_int_eq(s.pick, PROBE_PICK_NEAREST);
	ck_assert_uint_eq(s.server, 2);
	ck_assert_int_eq(s.offset_ns, 2501 * MS);
	ck_assert(s.clock_off);
	/* Two that disagree: no majority, so not our clock's fault. */
	r->n = 2;
	free(r->v[1].name);
	free(r->v[1].reason);
	set_result(&r->v[1], PROBE_OK, 0, MS);
	probe_results_select(r);
	probe_summarize(r, &s);
	ck_assert_uint_eq(s.agree, 1);
	ck_assert(!s.majority);
	ck_assert(!s.clock_off);
	ck_assert_uint_eq(s.server, 1);
	r->n = 3;
	probe_results_free(r);
	/* Nothing with a sample. */
	r = results(1);
	set_result(&r->v[0], PROBE_TIMEOUT, 0, 0);
	probe_results_select(r);
	probe_summarize(r, &s);
	ck_assert_int_eq(s.pick, PROBE_PICK_NONE);
	ck_assert_uint_eq(s.truechimers, 0);
	ck_assert(!s.clock_off);
	probe_results_free(r);
}
END_TEST

START_TEST(test_status_names)
{
	for (int i = 0; i < PROBE_STATUS_COUNT; i++)
		ck_assert_str_ne(probe_status_str(i), "UNKNOWN");
	ck_assert_str_eq(probe_status_str(PROBE_KOD_RATE), "KOD_RATE");
	ck_assert_str_eq(probe_status_str(PROBE_STATUS_COUNT), "UNKNOWN");
}
END_TEST

/* Closed ports on loopback answer with ICMP port unreachable: the connected
 * socket reports ECONNREFUSED. With one request in flight at a time the
 * others wait in the queue; each server still gets all its samples. */
START_TEST(test_refused_and_queue)
{
	struct probe_target t[3];
	struct probe_options o = {
		.limits = { .timeout_ms = 2000, .samples = 2, .interval_ms = 0,
			    .warn_offset_ms = 128, .crit_offset_ms = 1000, .max_stratum = 15,
			    .max_root_distance_ms = 1500 },
		.max_inflight = 1,
	};
	struct probe_results *r;

	for (int i = 0; i < 3; i++) {
		t[i] = (struct probe_target){ "lo", { .family = AF_INET }, (uint16_t)(9 + i) };
		inet_pton(AF_INET, "127.0.0.1", &t[i].addr.v4);
	}
	ck_assert_int_eq(probe_run(t, 3, &o, &r), 0);
	ck_assert_uint_eq(r->max_inflight, 1);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(r->v[i].status, PROBE_UNREACHABLE);
		ck_assert_uint_eq(r->v[i].samples_sent, 2);
		ck_assert_uint_eq(r->v[i].samples_ok, 0);
		ck_assert_ptr_nonnull(strstr(r->v[i].reason, "refused"));
	}
	ck_assert(!r->selection.ran);
	probe_results_free(r);
	o.limits.samples = 0;
	ck_assert_int_eq(probe_run(t, 3, &o, &r), -EINVAL);
	ck_assert_ptr_null(r);
}
END_TEST

/* The library keeps within the soft descriptor limit and never raises it
 * (the CLI does, with probe_fds_wanted()). */
START_TEST(test_inflight_within_nofile)
{
	struct probe_target t[100];
	struct probe_options o = {
		.limits = { .timeout_ms = 2000, .samples = 1, .interval_ms = 0,
			    .warn_offset_ms = 128, .crit_offset_ms = 1000, .max_stratum = 15,
			    .max_root_distance_ms = 1500 },
		.max_inflight = 1000,
	};
	struct probe_results *r;
	struct rlimit rl, low;

	ck_assert_uint_eq(probe_fds_wanted(10, 0), 10 + 32);
	ck_assert_uint_eq(probe_fds_wanted(1000, 0), 128 + 32);
	ck_assert_uint_eq(probe_fds_wanted(1000, 500), 500 + 32);
	for (int i = 0; i < 100; i++) {
		t[i] = (struct probe_target){ "lo", { .family = AF_INET }, (uint16_t)(9 + i) };
		inet_pton(AF_INET, "127.0.0.1", &t[i].addr.v4);
	}
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	low = (struct rlimit){ .rlim_cur = 80, .rlim_max = rl.rlim_max };
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
	ck_assert_int_eq(probe_run(t, 100, &o, &r), 0);
	ck_assert_uint_eq(r->max_inflight, 80 - 32);
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &low), 0);
	ck_assert_uint_eq(low.rlim_cur, 80);
	ck_assert_int_eq(r->v[99].status, PROBE_UNREACHABLE);
	probe_results_free(r);
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("probe");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_all_agree);
	tcase_add_test(tc, test_one_falseticker);
	tcase_add_test(tc, test_two_groups);
	tcase_add_test(tc, test_fewer_than_three);
	tcase_add_test(tc, test_touching_and_chain);
	tcase_add_test(tc, test_results_select);
	tcase_add_test(tc, test_summary_median);
	tcase_add_test(tc, test_summary_even_never_average);
	tcase_add_test(tc, test_summary_clock_off);
	tcase_add_test(tc, test_status_names);
	tcase_add_test(tc, test_refused_and_queue);
	tcase_add_test(tc, test_inflight_within_nofile);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
