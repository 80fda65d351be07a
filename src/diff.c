/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Line-based unified diff: lines interned to integers through a hash table,
 * common prefix and suffix trimmed, then Myers' O(ND) greedy algorithm on
 * what is left (E. Myers, "An O(ND) Difference Algorithm and Its
 * Variations", 1986), with an edit-distance cap so that two unrelated
 * 100,000-line listings cost O(N * cap), not O(N^2). */
#include "ntpwall/diff.h"
#include "ntpwall/util.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

/* Past this many edits a region is shown as replaced wholesale. */
#define DIFF_MAX_EDITS 1000
#define DIFF_CONTEXT 3

struct line {
	const char *s;
	size_t len;	/* without the newline */
};

struct lines {
	struct line *v;
	size_t n;
};

static void split(const char *t, size_t len, struct lines *out)
{
	size_t cap = 0;

	out->v = NULL;
	out->n = 0;
	for (size_t i = 0; i < len;) {
		const char *nl = memchr(t + i, '\n', len - i);
		size_t l = nl ? (size_t)(nl - (t + i)) : len - i;

		xgrow((void **)&out->v, &cap, out->n, sizeof(*out->v));
		out->v[out->n++] = (struct line){ t + i, l };
		i += l + 1;
	}
}

static uint64_t hash_line(const struct line *l)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < l->len; i++)
		h = (h ^ (unsigned char)l->s[i]) * 1099511628211ull;
	return h;
}

/* Give equal lines of a and b the same id (open addressing). */
static void intern(const struct lines *a, const struct lines *b, uint32_t *ia, uint32_t *ib)
{
	size_t cap = 16, n = a->n + b->n;
	const struct line **slot;
	uint32_t *ids, next = 0;

	while (cap < n * 2)
		cap *= 2;
	slot = xcalloc(cap, sizeof(*slot));
	ids = xcalloc(cap, sizeof(*ids));
	for (size_t k = 0; k < n; k++) {
		const struct line *l = k < a->n ? &a->v[k] : &b->v[k - a->n];
		size_t i = (size_t)hash_line(l) & (cap - 1);

		while (slot[i] && (slot[i]->len != l->len || memcmp(slot[i]->s, l->s, l->len)))
			i = (i + 1) & (cap - 1);
		if (!slot[i]) {
			slot[i] = l;
			ids[i] = next++;
		}
		if (k < a->n)
			ia[k] = ids[i];
		else
			ib[k - a->n] = ids[i];
	}
	free(slot);
	free(ids);
}

/* Myers with a saved V per round for the backtrack; marks da/db. Returns
 * false when more than dmax edits are needed. */
static bool myers(const uint32_t *a, long n, const uint32_t *b, long m, bool *da, bool *db,
		  long dmax)
{
	long off, d, x = 0, y = 0, k;
	int32_t *v, **trace;
	bool found = false;

	if (dmax > n + m)
		dmax = n + m;
	off = dmax + 1;
	v = xcalloc((size_t)(2 * dmax + 3), sizeof(*v));
	trace = xcalloc((size_t)dmax + 1, sizeof(*trace));
	for (d = 0; d <= dmax && !found; d++) {
		for (k = -d; k <= d; k += 2) {
			if (k == -d || (k != d && v[off + k - 1] < v[off + k + 1]))
				x = v[off + k + 1];
			else
				x = v[off + k - 1] + 1;
			y = x - k;
			while (x < n && y < m && a[x] == b[y])
				x++, y++;
			v[off + k] = (int32_t)x;
			if (x >= n && y >= m) {
				found = true;
				break;
			}
		}
		trace[d] = xmalloc((size_t)(2 * d + 1) * sizeof(**trace));
		memcpy(trace[d], &v[off - d], (size_t)(2 * d + 1) * sizeof(**trace));
	}
	if (found) {
		x = n;
		y = m;
		for (long e = d - 1; e > 0; e--) {
			const int32_t *pv = trace[e - 1] + (e - 1);	/* index by k */
			long pk, px, py;

			k = x - y;
			if (k == -e || (k != e && pv[k - 1] < pv[k + 1]))
				pk = k + 1;
			else
				pk = k - 1;
			px = pv[pk];
			py = px - pk;
			if (pk == k + 1)
				db[py] = true;
			else
				da[px] = true;
			x = px;
			y = py;
		}
	}
	for (long i = 0; i < d; i++)
		free(trace[i]);
	free(trace);
	free(v);
	return found;
}

struct block {
	size_t a0, a1, b0, b1;	/* [a0, a1) removed, [b0, b1) added */
};

static size_t blocks_of(const bool *da, size_t na, const bool *db, size_t nb,
			struct block **out)
{
	size_t i = 0, j = 0, n = 0, cap = 0;

	*out = NULL;
	while (i < na || j < nb) {
		struct block bl;

		if (i < na && j < nb && !da[i] && !db[j]) {
			i++, j++;
			continue;
		}
		bl.a0 = i;
		bl.b0 = j;
		while ((i < na && da[i]) || (j < nb && db[j])) {
			while (i < na && da[i])
				i++;
			while (j < nb && db[j])
				j++;
		}
		/* Unmarked tails (a side ran out) are changes too. */
		if (i == bl.a0 && j == bl.b0) {
			if (i < na)
				i++;
			else
				j++;
		}
		bl.a1 = i;
		bl.b1 = j;
		xgrow((void **)out, &cap, n, sizeof(**out));
		(*out)[n++] = bl;
	}
	return n;
}

static void put_lines(FILE *f, char c, const struct lines *l, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++) {
		fputc(c, f);
		fwrite(l->v[i].s, 1, l->v[i].len, f);
		fputc('\n', f);
	}
}

static void print_hunks(FILE *f, const struct lines *a, const struct lines *b,
			const struct block *bl, size_t n)
{
	for (size_t h = 0; h < n;) {
		size_t e = h;
		size_t a0, b0, a1, b1;

		/* Join blocks whose gap fits in the two contexts. */
		while (e + 1 < n && bl[e + 1].a0 - bl[e].a1 <= 2 * DIFF_CONTEXT)
			e++;
		a0 = bl[h].a0 > DIFF_CONTEXT ? bl[h].a0 - DIFF_CONTEXT : 0;
		b0 = bl[h].b0 - (bl[h].a0 - a0);
		a1 = bl[e].a1 + DIFF_CONTEXT < a->n ? bl[e].a1 + DIFF_CONTEXT : a->n;
		b1 = bl[e].b1 + (a1 - bl[e].a1);
		fprintf(f, "@@ -%zu,%zu +%zu,%zu @@\n", a1 - a0 ? a0 + 1 : a0, a1 - a0,
			b1 - b0 ? b0 + 1 : b0, b1 - b0);
		for (size_t k = h; k <= e; k++) {
			put_lines(f, ' ', a, k == h ? a0 : bl[k - 1].a1, bl[k].a0);
			put_lines(f, '-', a, bl[k].a0, bl[k].a1);
			put_lines(f, '+', b, bl[k].b0, bl[k].b1);
		}
		put_lines(f, ' ', a, bl[e].a1, a1);
		h = e + 1;
	}
}

int diff_text(const char *ta, size_t alen, const char *tb, size_t blen, const char *label_a,
	      const char *label_b, FILE *out, bool *differs)
{
	struct lines a, b;
	uint32_t *ia, *ib;
	bool *da, *db;
	struct block *bl;
	size_t p = 0, s = 0, n;

	split(ta, alen, &a);
	split(tb, blen, &b);
	ia = xcalloc(a.n + 1, sizeof(*ia));
	ib = xcalloc(b.n + 1, sizeof(*ib));
	da = xcalloc(a.n + 1, sizeof(*da));
	db = xcalloc(b.n + 1, sizeof(*db));
	intern(&a, &b, ia, ib);
	while (p < a.n && p < b.n && ia[p] == ib[p])
		p++;
	while (s < a.n - p && s < b.n - p && ia[a.n - 1 - s] == ib[b.n - 1 - s])
		s++;
	if (!myers(ia + p, (long)(a.n - p - s), ib + p, (long)(b.n - p - s), da + p, db + p,
		   DIFF_MAX_EDITS)) {
		for (size_t i = p; i < a.n - s; i++)
			da[i] = true;
		for (size_t i = p; i < b.n - s; i++)
			db[i] = true;
	}
	n = blocks_of(da, a.n, db, b.n, &bl);
	*differs = n > 0;
	if (n) {
		fprintf(out, "--- %s\n+++ %s\n", label_a, label_b);
		print_hunks(out, &a, &b, bl, n);
	}
	free(bl);
	free(ia);
	free(ib);
	free(da);
	free(db);
	free(a.v);
	free(b.v);
	return ferror(out) ? -EIO : 0;
}
