/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Small builders and recognisers of nft expressions (payload, meta, cmp,
 * bitwise, lookup) and the read cursor, shared by the per-match lowering and
 * raising (backend_nft_match.c) and the rule level (backend_nft_rule.c). */
#include "backend_nft_int.h"
#include "ntpwall/util.h"

#include <libnftnl/expr.h>
#include <linux/netfilter/nf_tables.h>
#include <string.h>

const char *bnft_kind_at(const struct bnft_cursor *c, size_t k)
{
	if (c->i + k >= c->n)
		return "";
	return nftnl_expr_get_str(c->e[c->i + k], NFTNL_EXPR_NAME);
}

bool bnft_is_kind(const struct bnft_cursor *c, size_t k, const char *name)
{
	return !strcmp(bnft_kind_at(c, k), name);
}

const struct nftnl_expr *bnft_at(const struct bnft_cursor *c, size_t k)
{
	return c->e[c->i + k];
}

struct nftnl_expr *bnft_x_meta(uint32_t key)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");

	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	return e;
}

struct nftnl_expr *bnft_x_payload(uint32_t base, uint32_t off, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("payload");

	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	return e;
}

struct nftnl_expr *bnft_x_cmp(uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");

	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	return e;
}

struct nftnl_expr *bnft_x_bitwise(const void *mask, uint32_t len)
{
	static const uint8_t zero[16];
	struct nftnl_expr *e = nftnl_expr_alloc("bitwise");

	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, len);
	return e;
}

struct nftnl_expr *bnft_x_lookup(const char *set, uint32_t id, bool inv)
{
	struct nftnl_expr *e = nftnl_expr_alloc("lookup");

	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, id);
	if (inv)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_FLAGS, NFT_LOOKUP_F_INV);
	return e;
}

bool bnft_reg1(const struct nftnl_expr *e, uint16_t attr)
{
	return nftnl_expr_is_set(e, attr) && nftnl_expr_get_u32(e, attr) == NFT_REG_1;
}

/* cmp of length len against data; *neg set for neq. */
bool bnft_is_cmp(const struct nftnl_expr *e, const void **data, uint32_t *len, bool *neg)
{
	uint32_t op = nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_OP);

	if (strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "cmp") ||
	    (op != NFT_CMP_EQ && op != NFT_CMP_NEQ) || !bnft_reg1(e, NFTNL_EXPR_CMP_SREG))
		return false;
	*data = nftnl_expr_get(e, NFTNL_EXPR_CMP_DATA, len);
	*neg = op == NFT_CMP_NEQ;
	return *data != NULL;
}

/* A load into register 1: not a payload write (sreg, checksum fix-up). */
bool bnft_is_payload(const struct nftnl_expr *e, uint32_t base, uint32_t *off, uint32_t *len)
{
	if (strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "payload") ||
	    nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_BASE) != base ||
	    !bnft_reg1(e, NFTNL_EXPR_PAYLOAD_DREG) || nftnl_expr_is_set(e, NFTNL_EXPR_PAYLOAD_SREG) ||
	    nftnl_expr_is_set(e, NFTNL_EXPR_PAYLOAD_CSUM_TYPE) ||
	    nftnl_expr_is_set(e, NFTNL_EXPR_PAYLOAD_CSUM_OFFSET) ||
	    nftnl_expr_is_set(e, NFTNL_EXPR_PAYLOAD_FLAGS))
		return false;
	*off = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET);
	*len = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_LEN);
	return true;
}

bool bnft_is_meta(const struct nftnl_expr *e, uint32_t key)
{
	return !strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "meta") &&
	       bnft_reg1(e, NFTNL_EXPR_META_DREG) && !nftnl_expr_is_set(e, NFTNL_EXPR_META_SREG) &&
	       nftnl_expr_get_u32(e, NFTNL_EXPR_META_KEY) == key;
}

/* Bitwise and-mask with zero xor, register 1 in place; mask returned. */
const uint8_t *bnft_is_mask(const struct nftnl_expr *e, uint32_t *len)
{
	const uint8_t *mask, *x;
	uint32_t xl;

	if (strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "bitwise") ||
	    (nftnl_expr_is_set(e, NFTNL_EXPR_BITWISE_OP) &&
	     nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_OP) != NFT_BITWISE_BOOL) ||
	    !bnft_reg1(e, NFTNL_EXPR_BITWISE_SREG) || !bnft_reg1(e, NFTNL_EXPR_BITWISE_DREG) ||
	    nftnl_expr_is_set(e, NFTNL_EXPR_BITWISE_DATA))
		return NULL;
	mask = nftnl_expr_get(e, NFTNL_EXPR_BITWISE_MASK, len);
	x = nftnl_expr_get(e, NFTNL_EXPR_BITWISE_XOR, &xl);
	if (!mask || !x || xl != *len || nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_LEN) != *len)
		return NULL;
	for (uint32_t i = 0; i < xl; i++)
		if (x[i])
			return NULL;
	return mask;
}

/* A lookup that only tests membership of register 1 (a map's lookup
 * writes data; flags other than "not in" are another test). */
bool bnft_is_set_test(const struct nftnl_expr *e)
{
	return !strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "lookup") &&
	       bnft_reg1(e, NFTNL_EXPR_LOOKUP_SREG) && !nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_DREG) &&
	       !(nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_FLAGS) & ~(uint32_t)NFT_LOOKUP_F_INV);
}
