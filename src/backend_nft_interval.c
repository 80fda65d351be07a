/* SPDX-License-Identifier: GPL-2.0-or-later */
/* An interval set's elements as the kernel keeps them (a start key, an
 * end key just past the range) folded back into the prefixes the IR holds:
 * one per range ntpwall made, the fewest for a range made by hand. */
#include "backend_nft_int.h"
#include "ntpwall/util.h"

#include <string.h>
#include <sys/socket.h>

typedef unsigned __int128 u128;

static u128 key_num(const uint8_t *k, unsigned bytes)
{
	u128 v = 0;

	for (unsigned i = 0; i < bytes; i++)
		v = v << 8 | k[i];
	return v;
}

static void add_prefix(struct ir_set *s, u128 v, unsigned len, const struct bnft_interval *from)
{
	unsigned bytes = s->key == IR_KEY_IPV4 ? 4 : 16;
	struct addr a = { .family = bytes == 4 ? AF_INET : AF_INET6 };
	struct ir_elem *el;

	for (unsigned i = bytes; i-- > 0; v >>= 8)
		a.bytes[i] = (uint8_t)v;
	el = ir_set_add_elem(s, &a, len, from->comment);
	el->timeout_ms = from->timeout;
	el->expires_ms = from->expires;
}

/* The range [lo, hi] as the fewest prefixes: one for ntpwall's own
 * elements, several for a range somebody added by hand. */
static void add_range(struct ir_set *s, u128 lo, u128 hi, const struct bnft_interval *from)
{
	unsigned bits = s->key == IR_KEY_IPV4 ? 32 : 128;

	for (;;) {
		unsigned k = 0;

		while (k < bits) {
			u128 size = k + 1 == 128 ? 0 : (u128)1 << (k + 1);

			if (k + 1 == bits) {
				if (lo == 0 && hi == (bits == 128 ? ~(u128)0 : size - 1))
					k = bits;
				break;
			}
			if ((lo & (size - 1)) || lo + size - 1 > hi)
				break;
			k++;
		}
		add_prefix(s, lo, bits - k, from);
		if (k == bits || lo + ((u128)1 << k) - 1 >= hi)
			return;
		/* More than one prefix: a range ntpwall never sends (it sends each
		 * prefix on its own, and the kernel keeps them apart). Its prefixes
		 * are not elements the kernel could delete one by one, so the set
		 * is foreign: the table is replaced, never changed in place. */
		s->flags |= IR_SET_FOREIGN;
		lo += (u128)1 << k;
	}
}

static int iv_cmp(const void *a, const void *b)
{
	const struct bnft_interval *x = a, *y = b;
	int r = memcmp(x->key, y->key, sizeof(x->key));

	if (r)
		return r;
	return (int)y->end - (int)x->end;	/* an end before a start at the same key */
}

/* Pair starts with the following ends (nft's leading 0/end has no start). */
void bnft_intervals_to_prefixes(struct bnft_interval *iv, size_t n, struct ir_set *s)
{
	unsigned bytes = s->key == IR_KEY_IPV4 ? 4 : 16;
	u128 top = bytes == 16 ? ~(u128)0 : ((u128)1 << 32) - 1;

	/* Keys are left-aligned in 16 bytes; compare them as such. */
	xsort(iv, n, sizeof(*iv), iv_cmp);
	for (size_t i = 0; i < n; i++) {
		const struct bnft_interval *st = &iv[i];
		u128 lo, hi = top;

		if (st->end)
			continue;
		lo = key_num(st->key, bytes);
		if (i + 1 < n && iv[i + 1].end)
			hi = key_num(iv[i + 1].key, bytes) - 1;
		if (hi >= lo)
			add_range(s, lo, hi, st);
	}
}
