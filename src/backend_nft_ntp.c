/* SPDX-License-Identifier: GPL-2.0-or-later */
/* NTP header fields as nft expressions and back: mode, version and the
 * mode-6 opcode, each one byte of the UDP payload under a mask, one value
 * a compare, several an anonymous constant set (backend_nft_match.c's
 * table rows for the three match types). */
#include "backend_nft_int.h"
#include "ntpwall/util.h"

#include <errno.h>
#include <libnftnl/expr.h>
#include <linux/netfilter/nf_tables.h>
#include <string.h>

/* NTP header fields: one byte of the UDP payload, masked; bit n of the IR
 * bitmask is field value n. One value is a cmp, several an anonymous set
 * (as nft lists `{ 6, 7 }`, matching render_nft); ranges and < > from
 * hand-made rules are understood on the way back. */
struct ntp_field {
	enum ir_match_type type;
	uint32_t off;		/* transport header offset: 8 + byte in NTP header */
	uint8_t mask;
	unsigned shift;
	unsigned n_vals;
};

static const struct ntp_field ntp_fields[] = {
	{ IR_MATCH_NTP_MODE, 8, 0x07, 0, 8 },
	{ IR_MATCH_NTP_VERSION, 8, 0x38, 3, 8 },
	{ IR_MATCH_NTP_OPCODE, 9, 0x1f, 0, 32 },
};

static const struct ntp_field *ntp_field(enum ir_match_type t)
{
	for (size_t i = 0; i < ARRAY_SIZE(ntp_fields); i++)
		if (ntp_fields[i].type == t)
			return &ntp_fields[i];
	return NULL;
}

int bnft_lower_ntp(struct bnft_lower_ctx *c, const struct ir_match *m, struct nftnl_rule *nr)
{
	const struct ntp_field *f = ntp_field(m->type);
	uint32_t bits = m->u.bits;
	unsigned lo, hi, n = (unsigned)__builtin_popcount(bits);
	uint8_t from;

	if (!bits || (f->n_vals < 32 && bits >> f->n_vals))
		return -EINVAL;
	lo = (unsigned)__builtin_ctz(bits);
	hi = 31u - (unsigned)__builtin_clz(bits);
	nftnl_rule_add_expr(nr, bnft_x_payload(NFT_PAYLOAD_TRANSPORT_HEADER, f->off, 1));
	nftnl_rule_add_expr(nr, bnft_x_bitwise(&f->mask, 1));
	from = (uint8_t)(lo << f->shift);
	if (n == 1) {
		nftnl_rule_add_expr(nr, bnft_x_cmp(m->negate ? NFT_CMP_NEQ : NFT_CMP_EQ, &from, 1));
	} else {
		struct bnft_anon *a;

		if (c->n_anon == ARRAY_SIZE(c->anon))
			return -E2BIG;
		a = &c->anon[c->n_anon++];
		a->id = c->next_id++;
		a->n = 0;
		for (unsigned v = lo; v <= hi; v++)
			if (bits & (1u << v))
				a->vals[a->n++] = (uint8_t)(v << f->shift);
		/* The kernel names "__set%d" itself; the rule binds by id. */
		nftnl_rule_add_expr(nr, bnft_x_lookup("__set%d", a->id, m->negate));
	}
	return 0;
}

/* Bits of the values v (shifted field values) with op true against ref. */
static uint32_t ntp_bits_cmp(const struct ntp_field *f, uint32_t op, uint8_t ref)
{
	uint32_t bits = 0;

	for (unsigned v = 0; v < f->n_vals; v++) {
		uint8_t x = (uint8_t)(v << f->shift);
		bool ok = (op == NFT_CMP_LT && x < ref) || (op == NFT_CMP_LTE && x <= ref) ||
			  (op == NFT_CMP_GT && x > ref) || (op == NFT_CMP_GTE && x >= ref);

		if (ok)
			bits |= 1u << v;
	}
	return bits;
}

static bool ntp_value_bit(const struct ntp_field *f, uint8_t x, uint32_t *bits)
{
	if (x & ~f->mask)
		return false;
	*bits |= 1u << (x >> f->shift);
	return true;
}

static bool raise_ntp_test(const struct bnft_raise_ctx *c, const struct ntp_field *f,
			   const struct nftnl_expr *e, struct ir_match *m)
{
	const char *kind = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
	const uint8_t *d, *d2;
	uint32_t len, len2, bits = 0;

	if (!strcmp(kind, "cmp")) {
		uint32_t op = nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_OP);

		d = nftnl_expr_get(e, NFTNL_EXPR_CMP_DATA, &len);
		if (!d || len != 1 || !bnft_reg1(e, NFTNL_EXPR_CMP_SREG))
			return false;
		if (op == NFT_CMP_EQ || op == NFT_CMP_NEQ) {
			m->negate = op == NFT_CMP_NEQ;
			if (!ntp_value_bit(f, d[0], &bits))
				return false;
		} else {
			bits = ntp_bits_cmp(f, op, d[0]);
		}
	} else if (!strcmp(kind, "range")) {
		d = nftnl_expr_get(e, NFTNL_EXPR_RANGE_FROM_DATA, &len);
		d2 = nftnl_expr_get(e, NFTNL_EXPR_RANGE_TO_DATA, &len2);
		if (!d || !d2 || len != 1 || len2 != 1 || !bnft_reg1(e, NFTNL_EXPR_RANGE_SREG))
			return false;
		for (unsigned v = 0; v < f->n_vals; v++) {
			uint8_t x = (uint8_t)(v << f->shift);

			if (x >= d[0] && x <= d2[0])
				bits |= 1u << v;
		}
		m->negate = nftnl_expr_get_u32(e, NFTNL_EXPR_RANGE_OP) == NFT_RANGE_NEQ;
	} else if (!strcmp(kind, "lookup") && bnft_is_set_test(e)) {
		const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET);
		const struct bnft_anon_read *a = NULL;

		for (size_t i = 0; name && i < c->n_anon; i++)
			if (!strcmp(c->anon[i].name, name))
				a = &c->anon[i];
		if (!a || a->foreign)
			return false;
		for (size_t i = 0; i < a->n; i++)
			if (!ntp_value_bit(f, a->vals[i], &bits))
				return false;
		m->negate = nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_FLAGS) & NFT_LOOKUP_F_INV;
	} else {
		return false;
	}
	m->u.bits = bits;
	return bits != 0;
}

size_t bnft_raise_ntp(const struct bnft_raise_ctx *c, const struct bnft_cursor *cur,
		      enum ir_match_type t, struct ir_match *m)
{
	const struct ntp_field *f = ntp_field(t);
	uint32_t off, len, mlen;
	const uint8_t *mask;

	if (!bnft_is_payload(bnft_at(cur, 0), NFT_PAYLOAD_TRANSPORT_HEADER, &off, &len) ||
	    off != f->off || len != 1 || !bnft_is_kind(cur, 1, "bitwise") ||
	    !(mask = bnft_is_mask(bnft_at(cur, 1), &mlen)) || mlen != 1 || mask[0] != f->mask ||
	    cur->i + 2 >= cur->n || !raise_ntp_test(c, f, bnft_at(cur, 2), m))
		return 0;
	return 3;
}
