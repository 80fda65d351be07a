/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Benchmark: resolving N names with resolve_policy() (c-ares, every query in
 * flight at once) against resolving them one after the other with
 * getaddrinfo(). Run inside the DNS test namespace (bench_resolve.sh), where
 * getaddrinfo's resolv.conf points at the same dnsmasq as --server.
 * Usage: bench_resolve SERVER [NAMES [RUNS]]; names are n1.test .. nN.test.
 * Prints median wall times in milliseconds; exits 1 if a name failed. */
#include "ntpwall/policy.h"
#include "ntpwall/resolve.h"
#include "ntpwall/util.h"

#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static struct policy *make_policy(unsigned n)
{
	size_t cap = 64 + (size_t)n * 32, len;
	char *buf = xmalloc(cap);
	struct policy *p = NULL;
	struct diags d;

	len = (size_t)snprintf(buf, cap, "version: 1\nfamilies: [ipv4]\nupstreams:\n");
	for (unsigned i = 1; i <= n; i++)
		len += (size_t)snprintf(buf + len, cap - len, "  - server: n%u.test\n", i);
	diag_init(&d, 0);
	if (policy_load_buffer("bench.yaml", buf, len, &d, &p))
		p = NULL;
	diag_free(&d);
	free(buf);
	return p;
}

/* One resolve_policy() run; returns ms, or -1 when a name failed. */
static double time_cares(const struct policy *p, const char *server, size_t *queries)
{
	struct resolve_options opt = { .servers = server };
	struct resolved *r = NULL;
	struct diags d;
	double t0 = now_ms(), t;
	int ret;

	diag_init(&d, 0);
	ret = resolve_policy(p, &opt, &d, &r);
	t = now_ms() - t0;
	*queries = r ? r->queries_sent : 0;
	if (ret || !r || r->n_upstreams != p->n_upstreams)
		t = -1;
	resolve_free(r);
	diag_free(&d);
	return t;
}

static double time_getaddrinfo(unsigned n)
{
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_DGRAM };
	double t0 = now_ms();

	for (unsigned i = 1; i <= n; i++) {
		struct addrinfo *res = NULL;
		char name[32];

		snprintf(name, sizeof(name), "n%u.test", i);
		if (getaddrinfo(name, NULL, &hints, &res))
			return -1;
		freeaddrinfo(res);
	}
	return now_ms() - t0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#define MAX_RUNS 50

int main(int argc, char **argv)
{
	unsigned n = argc > 2 ? (unsigned)atoi(argv[2]) : 200;
	unsigned runs = argc > 3 ? (unsigned)atoi(argv[3]) : 5;
	double one[MAX_RUNS], all[MAX_RUNS], seq[MAX_RUNS];
	struct policy *p1, *pn;
	size_t q1 = 0, qn = 0;

	if (argc < 2 || !n || n > 200 || !runs || runs > MAX_RUNS) {
		fprintf(stderr, "usage: bench_resolve SERVER [NAMES<=200 [RUNS<=%d]]\n", MAX_RUNS);
		return 2;
	}
	p1 = make_policy(1);
	pn = make_policy(n);
	if (!p1 || !pn)
		return 2;
	for (unsigned r = 0; r < runs; r++) {
		one[r] = time_cares(p1, argv[1], &q1);
		all[r] = time_cares(pn, argv[1], &qn);
		seq[r] = time_getaddrinfo(n);
		if (one[r] < 0 || all[r] < 0 || seq[r] < 0) {
			fprintf(stderr, "bench_resolve: a name did not resolve (run %u)\n", r + 1);
			return 1;
		}
	}
	printf("names %u runs %u queries %zu\n", n, runs, qn);
	printf("cares_1_ms %.3f\n", median(one, runs));
	printf("cares_%u_ms %.3f\n", n, median(all, runs));
	printf("getaddrinfo_%u_ms %.3f\n", n, median(seq, runs));
	printf("ratio_sequential_over_parallel %.1f\n", median(seq, runs) / median(all, runs));
	printf("parallel_over_one_name %.1f\n", median(all, runs) / median(one, runs));
	policy_free(p1);
	policy_free(pn);
	return 0;
}
