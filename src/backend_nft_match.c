/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One row per IR match type with both directions, lower (IR -> nft
 * expressions) and raise (expressions -> IR), so the read-back is the exact
 * inverse of what apply sends and the two cannot drift apart. Shapes follow
 * nft 1.0.6 (doc/netlink-notes.md §3); the raisers also accept the shorter forms
 * nft itself emits for hand-made rules (byte-aligned prefixes, ranges). */
#include "backend_nft_int.h"
#include "ntpwall/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libnftnl/expr.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <string.h>

/* Interface names: meta iifname/oifname, cmp over the zero-padded 16 bytes.
 * Only that form is the exact name: nft loads a wildcard `iifname "lo*"` as
 * a compare of the 2 bytes "lo", which also matches "lo0" and "lonely". */
static uint32_t ifname_key(enum ir_match_type t)
{
	return t == IR_MATCH_IIFNAME ? NFT_META_IIFNAME : NFT_META_OIFNAME;
}

static int lower_ifname(struct bnft_lower_ctx *c, const struct ir_match *m, struct nftnl_rule *nr)
{
	char name[16] = { 0 };

	memcpy(name, m->u.ifname, strnlen(m->u.ifname, sizeof(name)));
	nftnl_rule_add_expr(nr, bnft_x_meta(ifname_key(m->type)));
	nftnl_rule_add_expr(nr, bnft_x_cmp(m->negate ? NFT_CMP_NEQ : NFT_CMP_EQ, name, sizeof(name)));
	return 0;
}

static size_t raise_ifname(const struct bnft_raise_ctx *c, const struct bnft_cursor *cur,
			   enum ir_match_type t, struct ir_match *m)
{
	const char *data;
	uint32_t len;
	size_t n;

	if (!bnft_is_meta(bnft_at(cur, 0), ifname_key(t)) || !bnft_is_kind(cur, 1, "cmp") ||
	    !bnft_is_cmp(bnft_at(cur, 1), (const void **)&data, &len, &m->negate) ||
	    len != sizeof(m->u.ifname))
		return 0;
	/* A name, then nothing but zeros (the last byte always one). */
	n = strnlen(data, len);
	if (n == len)
		return 0;
	for (size_t i = n; i < len; i++)
		if (data[i])
			return 0;
	memcpy(m->u.ifname, data, len);
	return 2;
}

/* nfproto and l4proto: meta load, one-byte cmp (doc/netlink-notes.md §8.5). */
static uint32_t proto_key(enum ir_match_type t)
{
	return t == IR_MATCH_NFPROTO ? NFT_META_NFPROTO : NFT_META_L4PROTO;
}

static int lower_proto(struct bnft_lower_ctx *c, const struct ir_match *m, struct nftnl_rule *nr)
{
	uint8_t v = (uint8_t)m->u.num;

	if (m->u.num > 255)
		return -EINVAL;
	nftnl_rule_add_expr(nr, bnft_x_meta(proto_key(m->type)));
	nftnl_rule_add_expr(nr, bnft_x_cmp(m->negate ? NFT_CMP_NEQ : NFT_CMP_EQ, &v, 1));
	return 0;
}

static size_t raise_proto(const struct bnft_raise_ctx *c, const struct bnft_cursor *cur,
			  enum ir_match_type t, struct ir_match *m)
{
	const uint8_t *data;
	uint32_t len;

	if (!bnft_is_meta(bnft_at(cur, 0), proto_key(t)) || !bnft_is_kind(cur, 1, "cmp") ||
	    !bnft_is_cmp(bnft_at(cur, 1), (const void **)&data, &len, &m->negate) || len != 1)
		return 0;
	m->u.num = data[0];
	return 2;
}

/* Ports: transport header offset 0 (source) or 2 (destination), 2 bytes. */
static uint32_t port_off(enum ir_match_type t)
{
	return t == IR_MATCH_SPORT ? 0 : 2;
}

static int lower_port(struct bnft_lower_ctx *c, const struct ir_match *m, struct nftnl_rule *nr)
{
	uint16_t v = htons((uint16_t)m->u.num);

	if (m->u.num > 65535)
		return -EINVAL;
	nftnl_rule_add_expr(nr, bnft_x_payload(NFT_PAYLOAD_TRANSPORT_HEADER, port_off(m->type), 2));
	nftnl_rule_add_expr(nr, bnft_x_cmp(m->negate ? NFT_CMP_NEQ : NFT_CMP_EQ, &v, 2));
	return 0;
}

static size_t raise_port(const struct bnft_raise_ctx *c, const struct bnft_cursor *cur,
			 enum ir_match_type t, struct ir_match *m)
{
	uint32_t off, len, dlen;
	const void *data;
	uint16_t v;

	if (!bnft_is_payload(bnft_at(cur, 0), NFT_PAYLOAD_TRANSPORT_HEADER, &off, &len) ||
	    off != port_off(t) || len != 2 || !bnft_is_kind(cur, 1, "cmp") ||
	    !bnft_is_cmp(bnft_at(cur, 1), &data, &dlen, &m->negate) || dlen != 2)
		return 0;
	memcpy(&v, data, 2);
	m->u.num = ntohs(v);
	return 2;
}

/* Addresses: network header offsets of saddr/daddr per family. */
static uint32_t addr_off(int family, bool src)
{
	if (family == AF_INET)
		return src ? 12 : 16;
	return src ? 8 : 24;
}

static uint32_t addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

/* Family and direction an address load at off means; false if none. */
static bool addr_at(uint32_t off, uint32_t len, int *family, bool *src)
{
	switch (off) {
	case 12: *family = AF_INET; *src = true; break;
	case 16: *family = AF_INET; *src = false; break;
	case 8: *family = AF_INET6; *src = true; break;
	case 24: *family = AF_INET6; *src = false; break;
	default: return false;
	}
	return len >= 1 && len <= addr_len(*family);
}

static bool is_src(enum ir_match_type t)
{
	return t == IR_MATCH_SADDR || t == IR_MATCH_SADDR_SET || t == IR_MATCH_RATE_OVER;
}

static int lower_prefix(struct bnft_lower_ctx *c, const struct ir_match *m, struct nftnl_rule *nr)
{
	int fam = m->u.prefix.addr.family;
	uint32_t len = addr_len(fam);
	uint8_t mask[16] = { 0 }, net[16] = { 0 };

	if ((fam != AF_INET && fam != AF_INET6) || m->u.prefix.len > len * 8)
		return -EINVAL;
	for (unsigned i = 0; i < m->u.prefix.len; i++)
		mask[i / 8] |= (uint8_t)(0x80u >> (i % 8));
	for (uint32_t i = 0; i < len; i++)
		net[i] = m->u.prefix.addr.bytes[i] & mask[i];
	nftnl_rule_add_expr(nr, bnft_x_payload(NFT_PAYLOAD_NETWORK_HEADER,
					  addr_off(fam, is_src(m->type)), len));
	if (m->u.prefix.len < len * 8)
		nftnl_rule_add_expr(nr, bnft_x_bitwise(mask, len));
	nftnl_rule_add_expr(nr, bnft_x_cmp(m->negate ? NFT_CMP_NEQ : NFT_CMP_EQ, net, len));
	return 0;
}

/* Prefix length of a contiguous mask, or -1. */
static int mask_prefix(const uint8_t *mask, uint32_t len)
{
	int bits = 0;
	bool ended = false;

	for (uint32_t i = 0; i < len * 8; i++) {
		bool set = mask[i / 8] & (0x80u >> (i % 8));

		if (set && ended)
			return -1;
		if (set)
			bits++;
		else
			ended = true;
	}
	return bits;
}

static size_t raise_prefix(const struct bnft_raise_ctx *c, const struct bnft_cursor *cur,
			   enum ir_match_type t, struct ir_match *m)
{
	uint32_t off, len, dlen, mlen;
	const uint8_t *mask = NULL;
	const void *data;
	size_t k = 1;
	int fam, plen;
	bool src;

	if (!bnft_is_payload(bnft_at(cur, 0), NFT_PAYLOAD_NETWORK_HEADER, &off, &len) ||
	    !addr_at(off, len, &fam, &src) || src != is_src(t))
		return 0;
	/* nft loads only the bytes a byte-aligned prefix covers. */
	plen = (int)len * 8;
	if (bnft_is_kind(cur, 1, "bitwise")) {
		mask = bnft_is_mask(bnft_at(cur, 1), &mlen);
		if (!mask || mlen != len || (plen = mask_prefix(mask, len)) < 0)
			return 0;
		k = 2;
	}
	if (!bnft_is_kind(cur, k, "cmp") ||
	    !bnft_is_cmp(bnft_at(cur, k), &data, &dlen, &m->negate) || dlen != len)
		return 0;
	memset(&m->u.prefix.addr, 0, sizeof(m->u.prefix.addr));
	m->u.prefix.addr.family = fam;
	memcpy(m->u.prefix.addr.bytes, data, len);
	m->u.prefix.len = (unsigned)plen;
	return k + 1;
}

/* Address sets: the load's width follows the set's key. */
static int set_family(const struct ir_ruleset *rs, const char *name, size_t *idx)
{
	for (size_t i = 0; i < rs->n_sets; i++) {
		if (!strcmp(rs->sets[i].name, name)) {
			if (idx)
				*idx = i;
			return rs->sets[i].key == IR_KEY_IPV4 ? AF_INET : AF_INET6;
		}
	}
	return -1;
}

static int lower_addr_set(struct bnft_lower_ctx *c, const struct ir_match *m,
			  struct nftnl_rule *nr)
{
	size_t idx;
	int fam = set_family(c->rs, m->u.set, &idx);

	if (fam < 0)
		return -ENOENT;
	nftnl_rule_add_expr(nr, bnft_x_payload(NFT_PAYLOAD_NETWORK_HEADER,
					  addr_off(fam, is_src(m->type)), addr_len(fam)));
	nftnl_rule_add_expr(nr, bnft_x_lookup(m->u.set, bnft_set_id(idx), m->negate));
	return 0;
}

static size_t raise_addr_set(const struct bnft_raise_ctx *c, const struct bnft_cursor *cur,
			     enum ir_match_type t, struct ir_match *m)
{
	uint32_t off, len;
	const char *set;
	bool src;
	int fam;

	if (!bnft_is_payload(bnft_at(cur, 0), NFT_PAYLOAD_NETWORK_HEADER, &off, &len) ||
	    !addr_at(off, len, &fam, &src) || len != addr_len(fam) || src != is_src(t) ||
	    !bnft_is_kind(cur, 1, "lookup") || !bnft_is_set_test(bnft_at(cur, 1)))
		return 0;
	set = nftnl_expr_get_str(bnft_at(cur, 1), NFTNL_EXPR_LOOKUP_SET);
	if (!set || set_family(c->rs, set, NULL) != fam)
		return 0;
	m->u.set = xstrdup(set);
	m->negate = nftnl_expr_get_u32(bnft_at(cur, 1), NFTNL_EXPR_LOOKUP_FLAGS) & NFT_LOOKUP_F_INV;
	return 2;
}

/* ct state: host-order bitmask, masked, then != 0 (== 0 when negated). */
static int lower_ct(struct bnft_lower_ctx *c, const struct ir_match *m, struct nftnl_rule *nr)
{
	struct nftnl_expr *e = nftnl_expr_alloc("ct");
	uint32_t zero = 0;

	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	nftnl_rule_add_expr(nr, e);
	nftnl_rule_add_expr(nr, bnft_x_bitwise(&m->u.bits, 4));
	nftnl_rule_add_expr(nr, bnft_x_cmp(m->negate ? NFT_CMP_EQ : NFT_CMP_NEQ, &zero, 4));
	return 0;
}

static size_t raise_ct(const struct bnft_raise_ctx *c, const struct bnft_cursor *cur,
		       enum ir_match_type t, struct ir_match *m)
{
	const struct nftnl_expr *e = bnft_at(cur, 0);
	const uint8_t *mask;
	const void *data;
	uint32_t mlen, dlen, v;
	bool neq;

	if (strcmp(bnft_kind_at(cur, 0), "ct") || !bnft_reg1(e, NFTNL_EXPR_CT_DREG) ||
	    nftnl_expr_is_set(e, NFTNL_EXPR_CT_SREG) ||
	    nftnl_expr_get_u32(e, NFTNL_EXPR_CT_KEY) != NFT_CT_STATE ||
	    nftnl_expr_is_set(e, NFTNL_EXPR_CT_DIR) || !bnft_is_kind(cur, 1, "bitwise") ||
	    !(mask = bnft_is_mask(bnft_at(cur, 1), &mlen)) || mlen != 4 || !bnft_is_kind(cur, 2, "cmp") ||
	    !bnft_is_cmp(bnft_at(cur, 2), &data, &dlen, &neq) || dlen != 4)
		return 0;
	memcpy(&v, data, 4);
	if (v)
		return 0;
	memcpy(&m->u.bits, mask, 4);
	m->negate = !neq;
	return 3;
}

/* The source's first len bits as the key (len 0: the whole address). */
static void key_mask(unsigned len, uint32_t bytes, uint8_t mask[16])
{
	memset(mask, 0, 16);
	for (unsigned i = 0; i < len && i < bytes * 8; i++)
		mask[i / 8] |= (uint8_t)(0x80u >> (i % 8));
}

/* A packet limit of rate per unit_s seconds and burst; inv: over it. */
static struct nftnl_expr *limit_expr(uint32_t rate, uint32_t unit_s, uint32_t burst, bool inv)
{
	struct nftnl_expr *lim = nftnl_expr_alloc("limit");

	nftnl_expr_set_u64(lim, NFTNL_EXPR_LIMIT_RATE, rate);
	nftnl_expr_set_u64(lim, NFTNL_EXPR_LIMIT_UNIT, unit_s);
	nftnl_expr_set_u32(lim, NFTNL_EXPR_LIMIT_BURST, burst);
	nftnl_expr_set_u32(lim, NFTNL_EXPR_LIMIT_TYPE, NFT_LIMIT_PKTS);
	nftnl_expr_set_u32(lim, NFTNL_EXPR_LIMIT_FLAGS, inv ? NFT_LIMIT_F_INV : 0);
	return lim;
}

/* What limit_expr made: false for a byte limit, another flag or a value
 * the model cannot hold (it stays unknown). */
static bool limit_of(const struct nftnl_expr *e, struct ir_rate *r, bool *inv)
{
	uint32_t flags = nftnl_expr_get_u32(e, NFTNL_EXPR_LIMIT_FLAGS);
	uint64_t rate = nftnl_expr_get_u64(e, NFTNL_EXPR_LIMIT_RATE);
	uint64_t unit = nftnl_expr_get_u64(e, NFTNL_EXPR_LIMIT_UNIT);

	if (nftnl_expr_get_u32(e, NFTNL_EXPR_LIMIT_TYPE) != NFT_LIMIT_PKTS ||
	    (flags & ~(uint32_t)NFT_LIMIT_F_INV) || !rate || rate > UINT32_MAX || !unit ||
	    unit > UINT32_MAX)
		return false;
	*inv = flags & NFT_LIMIT_F_INV;
	*r = (struct ir_rate){ (uint32_t)rate, (uint32_t)unit,
			       nftnl_expr_get_u32(e, NFTNL_EXPR_LIMIT_BURST) };
	return true;
}

/* Per-source rate: source address (or its prefix) into a dynamic set whose
 * limit matches over the rate (doc/netlink-notes.md §3 R5), or, negated,
 * within it: then a source the full set cannot take matches neither, and
 * the rule fails closed. */
static int lower_rate(struct bnft_lower_ctx *c, const struct ir_match *m, struct nftnl_rule *nr)
{
	struct nftnl_expr *dyn, *lim;
	uint8_t mask[16];
	size_t idx;
	int fam = set_family(c->rs, m->u.limit.set, &idx);

	if (fam < 0)
		return -ENOENT;
	if (m->u.limit.prefix_len > addr_len(fam) * 8)
		return -EINVAL;
	nftnl_rule_add_expr(nr, bnft_x_payload(NFT_PAYLOAD_NETWORK_HEADER, addr_off(fam, true),
					  addr_len(fam)));
	if (m->u.limit.prefix_len && m->u.limit.prefix_len < addr_len(fam) * 8) {
		key_mask(m->u.limit.prefix_len, addr_len(fam), mask);
		nftnl_rule_add_expr(nr, bnft_x_bitwise(mask, addr_len(fam)));
	}
	lim = limit_expr(m->u.limit.rate, m->u.limit.unit_s, m->u.limit.burst, !m->negate);
	dyn = nftnl_expr_alloc("dynset");
	nftnl_expr_set_u32(dyn, NFTNL_EXPR_DYNSET_SREG_KEY, NFT_REG_1);
	nftnl_expr_set_u32(dyn, NFTNL_EXPR_DYNSET_OP, NFT_DYNSET_OP_UPDATE);
	nftnl_expr_set_str(dyn, NFTNL_EXPR_DYNSET_SET_NAME, m->u.limit.set);
	nftnl_expr_set_u32(dyn, NFTNL_EXPR_DYNSET_SET_ID, bnft_set_id(idx));
	/* The dynset adopts the limit (nftnl src/expr/dynset.c). */
	nftnl_expr_set(dyn, NFTNL_EXPR_DYNSET_EXPR, lim, 0);
	nftnl_rule_add_expr(nr, dyn);
	return 0;
}

static int count_expr(struct nftnl_expr *e, void *data)
{
	(*(unsigned *)data)++;
	return 0;
}

/* A 0 or absent attribute, whatever its width (the kernel dumps dynset
 * timeout and flags as 0). */
static bool zero_or_unset(const struct nftnl_expr *e, uint16_t attr)
{
	uint32_t len = 0;
	const uint8_t *v = nftnl_expr_is_set(e, attr) ? nftnl_expr_get(e, attr, &len) : NULL;

	for (uint32_t i = 0; v && i < len; i++)
		if (v[i])
			return false;
	return true;
}

/* The dynset is ntpwall's update and nothing more: a timeout would make
 * each source's entry (and with it its rate) expire on another schedule,
 * an inverted or a data-writing dynset or a second expression is another
 * filter. */
static bool is_plain_update(const struct nftnl_expr *dyn)
{
	unsigned n = 0;

	(void)nftnl_expr_expr_foreach(dyn, count_expr, &n);
	return nftnl_expr_get_u32(dyn, NFTNL_EXPR_DYNSET_OP) == NFT_DYNSET_OP_UPDATE &&
	       bnft_reg1(dyn, NFTNL_EXPR_DYNSET_SREG_KEY) &&
	       !nftnl_expr_is_set(dyn, NFTNL_EXPR_DYNSET_SREG_DATA) &&
	       zero_or_unset(dyn, NFTNL_EXPR_DYNSET_TIMEOUT) &&
	       zero_or_unset(dyn, NFTNL_EXPR_DYNSET_FLAGS) &&
	       !nftnl_expr_is_set(dyn, NFTNL_EXPR_DYNSET_EXPRESSIONS) && n == 1;
}

/* The key's prefix when the expression at k is the and-mask ntpwall
 * writes (a contiguous mask over the whole address), else -1. */
static int raise_key_mask(const struct bnft_cursor *cur, size_t k, uint32_t len)
{
	uint32_t ml;
	const uint8_t *mask = bnft_is_kind(cur, k, "bitwise") ?
			      bnft_is_mask(bnft_at(cur, k), &ml) : NULL;

	if (!mask || ml != len)
		return -1;
	return mask_prefix(mask, len);
}

static size_t raise_rate(const struct bnft_raise_ctx *c, const struct bnft_cursor *cur,
			 enum ir_match_type t, struct ir_match *m)
{
	const struct nftnl_expr *dyn, *lim;
	uint32_t off, len, dl;
	const char *set;
	struct ir_rate rate;
	size_t k = 1;
	int fam, prefix = 0;
	bool src, over;

	if (!bnft_is_payload(bnft_at(cur, 0), NFT_PAYLOAD_NETWORK_HEADER, &off, &len) ||
	    !addr_at(off, len, &fam, &src) || !src || len != addr_len(fam))
		return 0;
	if (bnft_is_kind(cur, 1, "bitwise")) {
		prefix = raise_key_mask(cur, 1, len);
		if (prefix <= 0 || prefix >= (int)len * 8)
			return 0;
		k = 2;
	}
	if (!bnft_is_kind(cur, k, "dynset"))
		return 0;
	dyn = bnft_at(cur, k);
	set = nftnl_expr_get_str(dyn, NFTNL_EXPR_DYNSET_SET_NAME);
	lim = nftnl_expr_get(dyn, NFTNL_EXPR_DYNSET_EXPR, &dl);
	if (!set || set_family(c->rs, set, NULL) != fam || !lim || !is_plain_update(dyn) ||
	    strcmp(nftnl_expr_get_str(lim, NFTNL_EXPR_NAME), "limit") ||
	    !limit_of(lim, &rate, &over))
		return 0;
	m->negate = !over;
	m->u.limit.set = xstrdup(set);
	m->u.limit.rate = rate.rate;
	m->u.limit.unit_s = rate.unit_s;
	m->u.limit.burst = rate.burst;
	m->u.limit.prefix_len = (unsigned)prefix;
	return k + 1;
}

/* A plain `limit rate [over] R/unit burst B packets`: one bucket for the
 * rule, no key. */
static int lower_limit(struct bnft_lower_ctx *c, const struct ir_match *m, struct nftnl_rule *nr)
{
	nftnl_rule_add_expr(nr, limit_expr(m->u.rate.rate, m->u.rate.unit_s, m->u.rate.burst,
					   m->negate));
	return 0;
}

static size_t raise_limit(const struct bnft_raise_ctx *c, const struct bnft_cursor *cur,
			  enum ir_match_type t, struct ir_match *m)
{
	bool inv;

	if (!bnft_is_kind(cur, 0, "limit") || !limit_of(bnft_at(cur, 0), &m->u.rate, &inv))
		return 0;
	m->negate = inv;
	return 1;
}

struct match_ops_row {
	enum ir_match_type type;
	int (*lower)(struct bnft_lower_ctx *c, const struct ir_match *m, struct nftnl_rule *nr);
	/* Expressions consumed at cur for a match of this type, 0 if none. */
	size_t (*raise)(const struct bnft_raise_ctx *c, const struct bnft_cursor *cur,
			enum ir_match_type t, struct ir_match *m);
};

static const struct match_ops_row match_ops[] = {
	{ IR_MATCH_IIFNAME, lower_ifname, raise_ifname },
	{ IR_MATCH_OIFNAME, lower_ifname, raise_ifname },
	{ IR_MATCH_NFPROTO, lower_proto, raise_proto },
	{ IR_MATCH_L4PROTO, lower_proto, raise_proto },
	{ IR_MATCH_SPORT, lower_port, raise_port },
	{ IR_MATCH_DPORT, lower_port, raise_port },
	{ IR_MATCH_SADDR, lower_prefix, raise_prefix },
	{ IR_MATCH_DADDR, lower_prefix, raise_prefix },
	{ IR_MATCH_SADDR_SET, lower_addr_set, raise_addr_set },
	{ IR_MATCH_DADDR_SET, lower_addr_set, raise_addr_set },
	{ IR_MATCH_CT_STATE, lower_ct, raise_ct },
	{ IR_MATCH_NTP_MODE, bnft_lower_ntp, bnft_raise_ntp },
	{ IR_MATCH_NTP_VERSION, bnft_lower_ntp, bnft_raise_ntp },
	{ IR_MATCH_NTP_OPCODE, bnft_lower_ntp, bnft_raise_ntp },
	{ IR_MATCH_RATE_OVER, lower_rate, raise_rate },
	{ IR_MATCH_LIMIT, lower_limit, raise_limit },
};

static const struct match_ops_row *ops_for(enum ir_match_type t)
{
	for (size_t i = 0; i < ARRAY_SIZE(match_ops); i++)
		if (match_ops[i].type == t)
			return &match_ops[i];
	return NULL;
}

int bnft_match_lower(struct bnft_lower_ctx *c, const struct ir_match *m, struct nftnl_rule *nr)
{
	const struct match_ops_row *o = ops_for(m->type);

	return o ? o->lower(c, m, nr) : -EINVAL;
}

/* nft merges adjacent payload matches into one load and compare (nft
 * src/payload.c payload_try_merge): `udp sport 123 udp dport 123` is one
 * 4-byte load at transport offset 0 against 007b007b. Only equality merges,
 * and a 4-byte != would mean "not both", so only eq is taken as the two. */
static size_t raise_port_pair(const struct bnft_cursor *cur, struct ir_match out[2])
{
	uint32_t off, len, dlen;
	const uint8_t *data;
	uint16_t v;
	bool neg;

	if (!bnft_is_payload(bnft_at(cur, 0), NFT_PAYLOAD_TRANSPORT_HEADER, &off, &len) ||
	    off != 0 || len != 4 || !bnft_is_kind(cur, 1, "cmp") ||
	    !bnft_is_cmp(bnft_at(cur, 1), (const void **)&data, &dlen, &neg) || dlen != 4 || neg)
		return 0;
	memset(out, 0, 2 * sizeof(*out));
	out[0].type = IR_MATCH_SPORT;
	memcpy(&v, data, 2);
	out[0].u.num = ntohs(v);
	out[1].type = IR_MATCH_DPORT;
	memcpy(&v, data + 2, 2);
	out[1].u.num = ntohs(v);
	return 2;
}

/* Another table's `iif lo` / `oif lo`: meta iif or oif against ifindex 1,
 * the loopback device in every network namespace, read as the name (for
 * bnft_raise_ctx.foreign only: ntpwall never writes it). */
static size_t raise_ifindex_lo(const struct bnft_cursor *cur, struct ir_match *m)
{
	bool in = bnft_is_meta(bnft_at(cur, 0), NFT_META_IIF);
	const void *data;
	uint32_t len, idx;
	bool neg;

	if ((!in && !bnft_is_meta(bnft_at(cur, 0), NFT_META_OIF)) || !bnft_is_kind(cur, 1, "cmp") ||
	    !bnft_is_cmp(bnft_at(cur, 1), &data, &len, &neg) || len != sizeof(idx))
		return 0;
	memcpy(&idx, data, sizeof(idx));
	if (idx != 1)
		return 0;
	memset(m, 0, sizeof(*m));
	m->type = in ? IR_MATCH_IIFNAME : IR_MATCH_OIFNAME;
	m->negate = neg;
	strcpy(m->u.ifname, "lo");
	return 2;
}

size_t bnft_match_raise(const struct bnft_raise_ctx *c, const struct bnft_cursor *cur,
			struct ir_match out[BNFT_RAISE_MAX], size_t *n_out)
{
	size_t k = raise_port_pair(cur, out);

	*n_out = k ? 2 : 0;
	if (k)
		return k;
	if (c->foreign && (k = raise_ifindex_lo(cur, &out[0]))) {
		*n_out = 1;
		return k;
	}
	for (size_t i = 0; i < ARRAY_SIZE(match_ops); i++) {
		struct ir_match m = { .type = match_ops[i].type };

		k = match_ops[i].raise(c, cur, m.type, &m);
		if (k) {
			out[0] = m;
			*n_out = 1;
			return k;
		}
	}
	return 0;
}
