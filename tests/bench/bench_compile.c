/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Benchmark: compile (and render as nft) a policy whose pool gave 10,000
 * and 100,000 addresses; prints the times and their ratio (about 10 means
 * linear). Not a test: CI never asserts times.
 * Usage: bench_compile [N_SMALL N_BIG] */
#include "fake_resolved.h"
#include "ntpwall/compile.h"
#include "ntpwall/render.h"
#include "ntpwall/util.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Seconds to compile n addresses (and, in *render_s, to render them). */
static double run(const struct policy *p, unsigned n, double *render_s)
{
	struct resolved *r = xcalloc(1, sizeof(*r));
	struct ir_ruleset *rs = NULL;
	struct render_opts o = { .policy = p };
	struct diags d;
	FILE *f = fopen("/dev/null", "we");
	double t0, t1, t2;

	diag_init(&d, 0);
	for (unsigned i = 0; i < n; i++) {
		struct addr a = { .family = AF_INET };

		/* A permutation of 198.18.0.0/15 (odd multiplier mod 2^17). */
		a.v4.s_addr = htonl(0xc6120000u + ((i * 40503u) & 0x1ffffu));
		fake_add(r, RESOLVE_ROLE_UPSTREAM, &a, 0, 300, false);
	}
	fake_finish(r);
	t0 = now();
	if (compile_policy(p, r, &d, &rs))
		abort();
	t1 = now();
	render_nft(rs, &o, f);
	t2 = now();
	fclose(f);
	ir_ruleset_free(rs);
	resolve_free(r);
	diag_free(&d);
	*render_s = t2 - t1;
	return t1 - t0;
}

/* Best of five: one run is at the mercy of the other jobs on the machine. */
static double best_of(const struct policy *p, unsigned n, double *render_s)
{
	double best = 0, r, best_r = 0;

	for (int i = 0; i < 5; i++) {
		double c = run(p, n, &r);

		if (!i || c < best)
			best = c;
		if (!i || r < best_r)
			best_r = r;
	}
	*render_s = best_r;
	return best;
}

int main(int argc, char **argv)
{
	static const char yaml[] = "version: 1\nupstreams: [{pool: big.example}]\n"
				   "serve: {clients: [192.0.2.0/24], rate_limit: {per_source: 8/second}}\n";
	unsigned small = argc > 2 ? (unsigned)atoi(argv[1]) : 10000;
	unsigned big = argc > 2 ? (unsigned)atoi(argv[2]) : 100000;
	struct policy *p = NULL;
	struct diags d;
	double rs_small, rs_big, cs_small, cs_big;

	diag_init(&d, 0);
	if (policy_load_buffer("bench.yaml", yaml, sizeof(yaml) - 1, &d, &p))
		return 2;
	run(p, 1000, &rs_small);	/* warm up */
	cs_small = best_of(p, small, &rs_small);
	cs_big = best_of(p, big, &rs_big);
	printf("compile %6u addresses: %8.3f ms (render nft %8.3f ms)\n", small, cs_small * 1e3,
	       rs_small * 1e3);
	printf("compile %6u addresses: %8.3f ms (render nft %8.3f ms)\n", big, cs_big * 1e3,
	       rs_big * 1e3);
	printf("ratio %.1f for %.0fx the addresses (compile), %.1f (render)\n", cs_big / cs_small,
	       (double)big / small, rs_big / rs_small);
	policy_free(p);
	diag_free(&d);
	return 0;
}
