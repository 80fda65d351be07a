/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of the resolver's parts that need no network: literal
 * pass-through (no query, no channel), de-duplication with origins, TTLs
 * and nts, family filtering, the pool choice, status names and JSON. */
#include "../src/resolve_int.h"
#include "ntpwall/util.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <jansson.h>
#include <string.h>

static struct policy *load(const char *yaml)
{
	struct diags d;
	struct policy *p = NULL;

	diag_init(&d, 0);
	ck_assert_int_eq(policy_load_buffer("t.yaml", yaml, strlen(yaml), &d, &p), 0);
	diag_free(&d);
	return p;
}

static struct addr addr(const char *s)
{
	struct addr a;

	ck_assert_ptr_null(addr_parse(s, &a));
	return a;
}

static const char *str(const struct addr *a)
{
	static char buf[INET6_ADDRSTRLEN];

	return addr_str(a, buf, sizeof(buf));
}

START_TEST(literals_send_nothing)
{
	struct policy *p = load("version: 1\n"
				"upstreams:\n"
				"  - server: 192.0.2.3\n"
				"  - server: \"2001:db8::1\"\n"
				"  - server: 192.0.2.1\n"
				"    nts: true\n"
				"peers: [198.51.100.7]\n"
				"resolvers: [192.0.2.54]\n");
	struct resolve_options opt = { .servers = "192.0.2.54:53" };
	struct resolved *r = NULL;
	struct diags d;

	diag_init(&d, 0);
	/* No channel is made: a server nobody runs would time out if asked. */
	ck_assert_int_eq(resolve_policy(p, &opt, &d, &r), 0);
	ck_assert_uint_eq(d.n, 0);
	ck_assert_uint_eq(r->queries_sent, 0);
	ck_assert_uint_eq(r->n_names, 0);
	ck_assert_uint_eq(r->n_upstreams, 3);
	ck_assert_str_eq(str(&r->upstreams[0].addr), "192.0.2.1");
	ck_assert(r->upstreams[0].nts);
	ck_assert_uint_eq(r->upstreams[0].origins[0], 2);
	ck_assert_str_eq(str(&r->upstreams[1].addr), "192.0.2.3");
	ck_assert(!r->upstreams[1].nts);
	ck_assert_str_eq(str(&r->upstreams[2].addr), "2001:db8::1");
	ck_assert_uint_eq(r->upstreams[2].ttl, RESOLVE_TTL_LITERAL);
	ck_assert_uint_eq(r->n_peers, 1);
	ck_assert_str_eq(str(&r->peers[0].addr), "198.51.100.7");
	resolve_free(r);
	diag_free(&d);
	policy_free(p);
}
END_TEST

START_TEST(literals_of_unwanted_family_dropped)
{
	struct policy *p = load("version: 1\nfamilies: [ipv4]\n"
				"upstreams:\n  - server: 192.0.2.1\n  - server: \"2001:db8::1\"\n"
				"peers: [\"2001:db8::7\"]\n");
	struct resolved *r = resolve_literals(p);

	ck_assert_uint_eq(r->n_upstreams, 1);
	ck_assert_str_eq(str(&r->upstreams[0].addr), "192.0.2.1");
	ck_assert_uint_eq(r->n_peers, 0);
	resolve_free(r);
	policy_free(p);
}
END_TEST

/* Simulates what the DNS half hands to resolve_build_sets(). */
static void fake_name(struct resolved *r, struct resolve_acc *acc, const char *name,
		      size_t index, const char *const *addrs, const uint32_t *ttls, size_t n)
{
	struct resolve_name *nm = &r->names[r->n_names];

	nm->name = xstrdup(name);
	nm->role = RESOLVE_ROLE_UPSTREAM;
	nm->index = index;
	nm->addrs = xcalloc(n + 1, sizeof(*nm->addrs));
	for (size_t i = 0; i < n; i++) {
		nm->addrs[i] = addr(addrs[i]);
		resolve_acc_add(&acc[r->n_names], &nm->addrs[i], ttls[i]);
	}
	nm->n_found = nm->n_kept = n;
	nm->found = xcalloc(n + 1, sizeof(*nm->found));
	memcpy(nm->found, acc[r->n_names].v, acc[r->n_names].n * sizeof(*nm->found));
	r->n_names++;
}

START_TEST(dedup_keeps_every_origin)
{
	struct policy *p = load("version: 1\n"
				"upstreams:\n"
				"  - server: a.test\n"
				"  - server: b.test\n"
				"    nts: true\n"
				"  - server: 192.0.2.2\n");
	struct resolved *r = xcalloc(1, sizeof(*r));
	struct resolve_acc acc[2] = { 0 };
	static const char *const a_addrs[] = { "192.0.2.2", "192.0.2.1" };
	static const char *const b_addrs[] = { "192.0.2.1", "2001:db8::5" };
	static const uint32_t a_ttl[] = { 300, 300 }, b_ttl[] = { 60, 90 };

	r->names = xcalloc(2, sizeof(*r->names));
	fake_name(r, acc, "a.test", 0, a_addrs, a_ttl, 2);
	fake_name(r, acc, "b.test", 1, b_addrs, b_ttl, 2);
	resolve_build_sets(r, p);
	ck_assert_uint_eq(r->n_upstreams, 3);
	/* 192.0.2.1: from both names, smallest TTL, nts from b.test */
	ck_assert_str_eq(str(&r->upstreams[0].addr), "192.0.2.1");
	ck_assert_uint_eq(r->upstreams[0].ttl, 60);
	ck_assert(r->upstreams[0].nts);
	ck_assert_uint_eq(r->upstreams[0].n_origins, 2);
	ck_assert_uint_eq(r->upstreams[0].origins[0], 0);
	ck_assert_uint_eq(r->upstreams[0].origins[1], 1);
	/* 192.0.2.2: a name and a literal; the literal keeps it permanent */
	ck_assert_str_eq(str(&r->upstreams[1].addr), "192.0.2.2");
	ck_assert_uint_eq(r->upstreams[1].ttl, RESOLVE_TTL_LITERAL);
	ck_assert(!r->upstreams[1].nts);
	ck_assert_uint_eq(r->upstreams[1].n_origins, 2);
	ck_assert_uint_eq(r->upstreams[1].origins[1], 2);
	ck_assert_str_eq(str(&r->upstreams[2].addr), "2001:db8::5");
	ck_assert_uint_eq(r->upstreams[2].ttl, 90);
	free(acc[0].v);
	free(acc[1].v);
	resolve_free(r);
	policy_free(p);
}
END_TEST

START_TEST(acc_keeps_smallest_ttl)
{
	struct resolve_acc a = { 0 };
	struct addr x = addr("192.0.2.9"), y = addr("192.0.2.1");

	resolve_acc_add(&a, &x, 300);
	resolve_acc_add(&a, &y, 10);
	resolve_acc_add(&a, &x, 100);
	resolve_acc_add(&a, &x, 200);
	ck_assert_uint_eq(a.n, 2);
	ck_assert_str_eq(str(&a.v[0].addr), "192.0.2.1");
	ck_assert_uint_eq(a.v[1].ttl, 100);
	free(a.v);
}
END_TEST

#define POOL_N 12

static void pool(struct addr *v)
{
	for (int i = 0; i < POOL_N; i++) {
		char s[32];

		snprintf(s, sizeof(s), "198.51.100.%d", i + 1);
		v[i] = addr(s);
	}
}

static size_t pick(const char *seed, const struct addr *found, size_t n,
		   const struct addr *prev, size_t n_prev, unsigned max,
		   struct addr *out)
{
	struct resolve_pick k = { seed, "pool.test", found, n, prev, n_prev, NULL, 0, max };

	return resolve_pool_choose(&k, out);
}

START_TEST(pick_respects_max_and_sorts)
{
	struct addr found[POOL_N], out[POOL_N];
	size_t n;

	pool(found);
	n = pick("host", found, POOL_N, NULL, 0, 4, out);
	ck_assert_uint_eq(n, 4);
	for (size_t i = 1; i < n; i++)
		ck_assert_int_lt(addr_cmp(&out[i - 1], &out[i]), 0);
	ck_assert_uint_eq(pick("host", found, POOL_N, NULL, 0, 0, out), POOL_N);
	ck_assert_uint_eq(pick("host", found, 3, NULL, 0, 4, out), 3);
	ck_assert_uint_eq(pick("host", found, 0, NULL, 0, 4, out), 0);
}
END_TEST

/* The answer order of DNS must not change the choice. */
START_TEST(pick_ignores_answer_order)
{
	struct addr found[POOL_N], rev[POOL_N], a[POOL_N], b[POOL_N];

	pool(found);
	for (int i = 0; i < POOL_N; i++)
		rev[i] = found[POOL_N - 1 - i];
	ck_assert_uint_eq(pick(NULL, found, POOL_N, NULL, 0, 4, a), 4);
	ck_assert_uint_eq(pick("", rev, POOL_N, NULL, 0, 4, b), 4);
	ck_assert_mem_eq(a, b, 4 * sizeof(*a));
}
END_TEST

static bool has(const struct addr *v, size_t n, const struct addr *x)
{
	for (size_t i = 0; i < n; i++)
		if (!addr_cmp(&v[i], x))
			return true;
	return false;
}

START_TEST(pick_keeps_previous)
{
	struct addr found[POOL_N], out[2 * POOL_N], prev[2];
	size_t n;

	pool(found);
	/* Two addresses the hash would rank anywhere stay. */
	prev[0] = found[0];
	prev[1] = found[11];
	n = pick("h", found, POOL_N, prev, 2, 4, out);
	ck_assert_uint_eq(n, 4);
	ck_assert(has(out, n, &prev[0]));
	ck_assert(has(out, n, &prev[1]));
	/* With max below the previous count, only previous ones are kept. */
	n = pick("h", found, POOL_N, prev, 2, 1, out);
	ck_assert_uint_eq(n, 1);
	ck_assert(has(prev, 2, &out[0]));
}
END_TEST

/* A real pool answers a few random servers of thousands: members stay
 * whether or not this answer holds them (chrony keeps its pool sources). */
START_TEST(pick_is_sticky_across_rotating_answers)
{
	struct addr all[20], members[8], out[32];
	unsigned seed = 7;

	for (int i = 0; i < 20; i++) {
		char s[32];

		snprintf(s, sizeof(s), "203.0.113.%d", i + 1);
		all[i] = addr(s);
	}
	ck_assert_uint_eq(pick("h", all, 20, NULL, 0, 4, members), 4);
	for (int round = 0; round < 10; round++) {
		struct addr answer[4];

		for (int i = 0; i < 4; i++) {
			seed = seed * 1103515245u + 12345u;
			answer[i] = all[(seed >> 16) % 20];
		}
		ck_assert_uint_eq(pick("h", answer, 4, members, 4, 4, out), 4);
		ck_assert_mem_eq(out, members, 4 * sizeof(*out));
	}
	/* Without a max nothing is sticky: every answer, only the answer. */
	ck_assert_uint_eq(pick("h", all, 3, members, 4, 0, out), 3);
}
END_TEST

/* An excluded (unhealthy) member is replaced from the answers; the others
 * stay. */
START_TEST(pick_replaces_only_the_excluded)
{
	struct addr found[POOL_N], first[POOL_N], out[2 * POOL_N];
	size_t n;

	pool(found);
	ck_assert_uint_eq(pick("h", found, POOL_N, NULL, 0, 4, first), 4);
	for (int drop = 0; drop < 4; drop++) {
		struct resolve_pick k = { "h", "pool.test", found, POOL_N, first, 4,
					  &first[drop], 1, 4 };

		n = resolve_pool_choose(&k, out);
		ck_assert_uint_eq(n, 4);
		for (int i = 0; i < 4; i++)
			if (i != drop)
				ck_assert(has(out, n, &first[i]));
		ck_assert(!has(out, n, &first[drop]));
	}
}
END_TEST

/* max counts per family: 2 A and 6 AAAA records with max 4 keep both A. */
START_TEST(pick_max_is_per_family)
{
	struct addr found[8], out[16];
	size_t n, v4 = 0;

	found[0] = addr("198.51.100.1");
	found[1] = addr("198.51.100.2");
	for (int i = 0; i < 6; i++) {
		char s[32];

		snprintf(s, sizeof(s), "2001:db8::%d", i + 1);
		found[2 + i] = addr(s);
	}
	n = pick("h", found, 8, NULL, 0, 4, out);
	ck_assert_uint_eq(n, 6);
	for (size_t i = 0; i < n; i++)
		v4 += out[i].family == AF_INET;
	ck_assert_uint_eq(v4, 2);
}
END_TEST

/* Rendezvous hashing without a previous choice: removing an address that
 * was not chosen changes nothing, and seeds spread over the whole pool. */
START_TEST(pick_is_stable_and_spreads)
{
	struct addr found[POOL_N], a[POOL_N], b[POOL_N], rest[POOL_N];
	bool seen[POOL_N] = { false }, dropped = false;
	size_t m = 0;

	pool(found);
	pick("h", found, POOL_N, NULL, 0, 4, a);
	for (int i = 0; i < POOL_N; i++) {
		if (!dropped && !has(a, 4, &found[i])) {
			dropped = true;
			continue;
		}
		rest[m++] = found[i];
	}
	ck_assert_uint_eq(m, POOL_N - 1);
	pick("h", rest, m, NULL, 0, 4, b);
	ck_assert_mem_eq(a, b, 4 * sizeof(*a));
	for (int s = 0; s < 64; s++) {
		char seed[16];

		snprintf(seed, sizeof(seed), "host%d", s);
		pick(seed, found, POOL_N, NULL, 0, 4, a);
		for (int i = 0; i < POOL_N; i++)
			if (has(a, 4, &found[i]))
				seen[i] = true;
	}
	for (int i = 0; i < POOL_N; i++)
		ck_assert_msg(seen[i], "%s never chosen by 64 seeds", str(&found[i]));
}
END_TEST

START_TEST(status_names)
{
	ck_assert_str_eq(resolve_status_str(RESOLVE_OK), "ok");
	ck_assert_str_eq(resolve_status_str(RESOLVE_NXDOMAIN), "NXDOMAIN");
	ck_assert_str_eq(resolve_status_str(RESOLVE_NODATA), "NODATA");
	ck_assert_str_eq(resolve_status_str(RESOLVE_SERVFAIL), "SERVFAIL");
	ck_assert_str_eq(resolve_status_str(RESOLVE_REFUSED), "REFUSED");
	ck_assert_str_eq(resolve_status_str(RESOLVE_TIMEOUT), "timeout");
	ck_assert_str_eq(resolve_status_str(RESOLVE_ERROR), "error");
	ck_assert_str_eq(resolve_status_str((enum resolve_status)99), "error");
}
END_TEST

START_TEST(json_round_trip)
{
	struct policy *p = load("version: 1\nupstreams:\n  - pool: pool.test\n    max: 2\n"
				"  - server: 192.0.2.1\n");
	struct resolved *r = xcalloc(1, sizeof(*r)), *back = NULL;
	struct resolve_acc acc[1] = { 0 };
	static const char *const addrs[] = { "198.51.100.1", "2001:db8:1::1" };
	static const uint32_t ttls[] = { 150, 150 };
	json_t *j, *a0;

	r->names = xcalloc(1, sizeof(*r->names));
	fake_name(r, acc, "pool.test", 0, addrs, ttls, 2);
	r->queries_sent = 6;
	resolve_build_sets(r, p);
	j = resolve_to_json(r, p);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "queries")), 6);
	a0 = json_array_get(json_object_get(j, "addresses"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(a0, "address")), "192.0.2.1");
	ck_assert(json_is_null(json_object_get(a0, "ttl")));
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(a0, "origins"), 0)),
			 "192.0.2.1");
	ck_assert_int_eq(resolve_from_json(j, &back), 0);
	ck_assert_uint_eq(back->n_names, 1);
	ck_assert_str_eq(back->names[0].name, "pool.test");
	ck_assert_uint_eq(back->names[0].n_kept, 2);
	ck_assert_str_eq(str(&back->names[0].addrs[1]), "2001:db8:1::1");
	resolve_free(back);
	json_object_set_new(j, "names", json_pack("[{s:s}]", "name", "x"));
	ck_assert_int_eq(resolve_from_json(j, &back), -EINVAL);
	ck_assert_ptr_null(back);
	json_decref(j);
	free(acc[0].v);
	resolve_free(r);
	policy_free(p);
}
END_TEST

static Suite *resolve_suite(void)
{
	Suite *s = suite_create("resolve");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, literals_send_nothing);
	tcase_add_test(tc, literals_of_unwanted_family_dropped);
	tcase_add_test(tc, dedup_keeps_every_origin);
	tcase_add_test(tc, acc_keeps_smallest_ttl);
	tcase_add_test(tc, pick_respects_max_and_sorts);
	tcase_add_test(tc, pick_ignores_answer_order);
	tcase_add_test(tc, pick_keeps_previous);
	tcase_add_test(tc, pick_is_sticky_across_rotating_answers);
	tcase_add_test(tc, pick_replaces_only_the_excluded);
	tcase_add_test(tc, pick_max_is_per_family);
	tcase_add_test(tc, pick_is_stable_and_spreads);
	tcase_add_test(tc, status_names);
	tcase_add_test(tc, json_round_trip);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(resolve_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
