/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Falseticker detection for the prober: Marzullo's algorithm over the
 * intervals offset +- root distance (RFC 5905 s11.2.1, doc/design.md "Prober"),
 * a pure function, its application to a set of probe results, and the
 * summary a monitor shows (whose offset stands for the local clock's). */
#include "ntpwall/probe.h"
#include "ntpwall/util.h"

#include <math.h>
#include <stdlib.h>

struct endpoint {
	int64_t value;
	int kind;	/* 0 = interval starts, 1 = ends: starts sort first */
};

static int endpoint_cmp(const void *a, const void *b)
{
	const struct endpoint *x = a, *y = b;

	if (x->value != y->value)
		return x->value < y->value ? -1 : 1;
	return x->kind - y->kind;
}

/* Starts before ends at the same value, so intervals that only touch still
 * intersect (closed intervals, as RFC 5905's selection treats them). */
static void sweep(const struct endpoint *e, size_t m, size_t *best, int64_t *lo, int64_t *hi)
{
	size_t count = 0;
	bool open = false;

	*best = 0;
	for (size_t i = 0; i < m; i++) {
		if (e[i].kind == 0) {
			count++;
			if (count > *best) {
				*best = count;
				*lo = e[i].value;
				open = true;
			}
		} else {
			if (open) {
				*hi = e[i].value;
				open = false;
			}
			count--;
		}
	}
}

void probe_select(const struct probe_interval *iv, size_t n, bool *truechimer,
		  struct probe_selection *sel)
{
	struct endpoint *e;
	size_t best = 0;
	int64_t lo = 0, hi = 0;

	*sel = (struct probe_selection){ .candidates = n, .truechimers = n };
	for (size_t i = 0; i < n; i++)
		truechimer[i] = true;
	if (n < 3)
		return;
	sel->ran = true;
	e = xcalloc(2 * n, sizeof(*e));
	for (size_t i = 0; i < n; i++) {
		int64_t d = iv[i].distance_ns > 0 ? iv[i].distance_ns : 0;

		e[2 * i] = (struct endpoint){ iv[i].offset_ns - d, 0 };
		e[2 * i + 1] = (struct endpoint){ iv[i].offset_ns + d, 1 };
	}
	xsort(e, 2 * n, sizeof(*e), endpoint_cmp);
	sweep(e, 2 * n, &best, &lo, &hi);
	free(e);
	sel->truechimers = best;
	sel->low_ns = lo;
	sel->high_ns = hi;
	/* Only a strict majority can outvote the rest (RFC 5905 s11.2.1 gives
	 * up when the falsetickers could be half of the candidates). */
	sel->majority = 2 * best > n;
	if (!sel->majority)
		return;
	for (size_t i = 0; i < n; i++) {
		int64_t d = iv[i].distance_ns > 0 ? iv[i].distance_ns : 0;

		truechimer[i] = iv[i].offset_ns - d <= lo && iv[i].offset_ns + d >= hi;
	}
}

static bool candidate(const struct probe_result *r)
{
	return r->has_sample && (r->status == PROBE_OK || r->status == PROBE_OFFSET);
}

void probe_results_select(struct probe_results *r)
{
	struct probe_interval *iv = xcalloc(r->n ? r->n : 1, sizeof(*iv));
	bool *tc = xcalloc(r->n ? r->n : 1, sizeof(*tc));
	size_t *idx = xcalloc(r->n ? r->n : 1, sizeof(*idx));
	size_t m = 0;

	for (size_t i = 0; i < r->n; i++) {
		if (!candidate(&r->v[i]))
			continue;
		iv[m] = (struct probe_interval){ ntp_fp_to_ns(r->v[i].offset),
						 ntp_fp_to_ns(r->v[i].root_distance) };
		idx[m++] = i;
	}
	probe_select(iv, m, tc, &r->selection);
	for (size_t k = 0; k < m; k++) {
		struct probe_result *p = &r->v[idx[k]];

		p->truechimer = tc[k];
		if (tc[k])
			continue;
		p->status = PROBE_FALSETICKER;
		free(p->reason);
		p->reason = xasprintf("offset %+.6f s outside the interval [%+.6f, %+.6f] s "
				      "shared by %zu of %zu servers",
				      ntp_fp_to_double(p->offset), r->selection.low_ns / 1e9,
				      r->selection.high_ns / 1e9, r->selection.truechimers, m);
	}
	free(iv);
	free(tc);
	free(idx);
}

/* A truechimer's offset and index, sorted by offset (then index: stable). */
struct ranked {
	int64_t offset_ns;
	size_t i;
};

static int by_offset(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;

	if (x->offset_ns != y->offset_ns)
		return x->offset_ns < y->offset_ns ? -1 : 1;
	return (x->i > y->i) - (x->i < y->i);
}

static int64_t dist_ns(const struct probe_result *p)
{
	return ntp_fp_to_ns(p->root_distance);
}

/* Of a and b, the server with the smaller root distance (a on a tie). */
static size_t nearer(const struct probe_results *r, size_t a, size_t b)
{
	return dist_ns(&r->v[b]) < dist_ns(&r->v[a]) ? b : a;
}

/* The largest group that agrees: the selection's when it ran, else (one or
 * two servers with a sample) whether the two intervals meet. */
static void agreement(const struct probe_results *r, const struct ranked *t, size_t m,
		      struct probe_summary *s)
{
	if (r->selection.ran) {
		s->agree = r->selection.truechimers;
		s->majority = r->selection.majority;
		return;
	}
	s->agree = m;
	if (m == 2) {
		int64_t d = t[1].offset_ns - t[0].offset_ns;

		if (d > dist_ns(&r->v[t[0].i]) + dist_ns(&r->v[t[1].i]))
			s->agree = 1;
	}
	s->majority = s->agree >= 2;
}

void probe_summarize(const struct probe_results *r, struct probe_summary *s)
{
	struct ranked *t = xcalloc(r->n ? r->n : 1, sizeof(*t));
	size_t m = 0, pick;
	double sum = 0;

	*s = (struct probe_summary){ .pick = PROBE_PICK_NONE };
	for (size_t i = 0; i < r->n; i++) {
		s->usable += r->v[i].status == PROBE_OK;
		if (candidate(&r->v[i]))
			t[m++] = (struct ranked){ ntp_fp_to_ns(r->v[i].offset), i };
	}
	s->truechimers = m;
	if (!m)
		goto out;
	xsort(t, m, sizeof(*t), by_offset);
	agreement(r, t, m, s);
	/* The median, never the mean of the two middle ones: the offset shown
	 * is one a server reported. With one or two, the nearer server. */
	pick = m % 2 ? t[m / 2].i : nearer(r, t[m / 2 - 1].i, t[m / 2].i);
	s->pick = m >= 3 ? PROBE_PICK_MEDIAN : PROBE_PICK_NEAREST;
	s->server = pick;
	s->offset_ns = ntp_fp_to_ns(r->v[pick].offset);
	for (size_t k = 0; k < m; k++) {
		double d = (double)(t[k].offset_ns - s->offset_ns);

		sum += d * d;
	}
	s->jitter_ns = m > 1 ? (int64_t)llround(sqrt(sum / (double)(m - 1))) : 0;
	s->clock_off = s->majority && r->v[pick].status == PROBE_OFFSET;
out:
	free(t);
}
