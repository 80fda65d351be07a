/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Internal to the nft backend (backend_nft*.c): expression builders and
 * recognisers, the per-match lowering/raising table and the rule level
 * (backend_nft_expr.c, _match.c, _ntp.c, _rule.c, _interval.c), which both
 * batch building and read-back sit on. No socket here: that is
 * backend_nft_sock.h, below both. Not a module interface. Names in the
 * backend_nft* files carry the prefix bnft_ / BNFT_ (short for
 * backend_nft_): a bare nft_ / NFT_ would read as, and could clash with,
 * libnftnl's and the kernel uapi's own names. */
#ifndef NTPWALL_BACKEND_NFT_INT_H
#define NTPWALL_BACKEND_NFT_INT_H

#include "ntpwall/ir.h"

#include <libnftnl/rule.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* nft's datatype ids of set keys: only nft uses them (to print), the
 * kernel goes by the length. */
#define BNFT_TYPE_INTEGER 4
#define BNFT_TYPE_IPADDR 7
#define BNFT_TYPE_IP6ADDR 8

/* Longest rule comment nft will list (NFTNL_UDATA_COMMENT_MAXLEN - 1). */
#define BNFT_COMMENT_MAX 127

/* An anonymous constant set a rule needs (a non-contiguous NTP field match):
 * created in the batch just before the rule. */
struct bnft_anon {
	uint32_t id;		/* NFTNL_SET_ID within the batch */
	uint8_t vals[32];	/* one-byte keys */
	size_t n;
};

struct bnft_lower_ctx {
	const struct ir_ruleset *rs;
	uint32_t next_id;	/* next free set id */
	struct bnft_anon anon[8];
	size_t n_anon;
};

/* An anonymous set read back: name and its one-byte keys. */
struct bnft_anon_read {
	char *name;
	uint8_t vals[256];
	size_t n;
	bool foreign;	/* holds what ntpwall's do not: never raised */
};

struct bnft_raise_ctx {
	const struct ir_ruleset *rs;	/* for set key families */
	const struct bnft_anon_read *anon;
	size_t n_anon;
	/* Another table's rule, read for the host check (ntpwall/hostfw.h):
	 * every reject is a reject, whatever it answers, and `iif lo` /
	 * `oif lo` (ifindex 1: the loopback device of every namespace) read
	 * as the name. Never for ntpwall's own table. */
	bool foreign;
};

/* One interval-set element read back: a start or an end. */
struct bnft_interval {
	uint8_t key[16];
	bool end;
	uint64_t timeout, expires;
	char *comment;		/* copied into the prefixes made from it */
};

/* Add to s the prefixes the n start and end keys stand for (iv sorted in
 * place); the caller still owns iv and its comments. */
void bnft_intervals_to_prefixes(struct bnft_interval *iv, size_t n, struct ir_set *s);

/* Batch id of the named set at index i of rs (ids 1..n_sets). */
static inline uint32_t bnft_set_id(size_t i)
{
	return (uint32_t)i + 1;
}

/* A read position in a rule's expression list. */
struct bnft_cursor {
	struct nftnl_expr **e;
	size_t n, i;
};

/* Kind ("payload", ...) of the expression k after the cursor, "" past the end. */
const char *bnft_kind_at(const struct bnft_cursor *c, size_t k);
bool bnft_is_kind(const struct bnft_cursor *c, size_t k, const char *name);
/* The expression k after the cursor; check bnft_kind_at() first. */
const struct nftnl_expr *bnft_at(const struct bnft_cursor *c, size_t k);

/* New expressions, loading into or reading from NFT_REG_1. */
struct nftnl_expr *bnft_x_meta(uint32_t key);
struct nftnl_expr *bnft_x_payload(uint32_t base, uint32_t off, uint32_t len);
struct nftnl_expr *bnft_x_cmp(uint32_t op, const void *data, uint32_t len);
struct nftnl_expr *bnft_x_bitwise(const void *mask, uint32_t len);
struct nftnl_expr *bnft_x_lookup(const char *set, uint32_t id, bool inv);
/* Recognisers: true (and the fields) when e has that shape, every
 * register NFT_REG_1 as ntpwall (and nft) use it: a load into another
 * register would leave the compare after it reading a stale one. */
bool bnft_reg1(const struct nftnl_expr *e, uint16_t attr);
bool bnft_is_cmp(const struct nftnl_expr *e, const void **data, uint32_t *len, bool *neg);
bool bnft_is_payload(const struct nftnl_expr *e, uint32_t base, uint32_t *off, uint32_t *len);
bool bnft_is_meta(const struct nftnl_expr *e, uint32_t key);
/* The mask of an and-mask bitwise with zero xor, or NULL. */
const uint8_t *bnft_is_mask(const struct nftnl_expr *e, uint32_t *len);
/* A lookup testing (or, inverted, denying) membership of register 1. */
bool bnft_is_set_test(const struct nftnl_expr *e);

/* Append the expressions of one match; -EINVAL if it cannot be expressed,
 * -ENOENT for an unknown set. */
int bnft_match_lower(struct bnft_lower_ctx *c, const struct ir_match *m, struct nftnl_rule *nr);
/* The NTP header field matches (backend_nft_ntp.c), rows of the table in
 * backend_nft_match.c: lower -EINVAL for an empty or out-of-range bit set,
 * -E2BIG past the anonymous sets a rule may have; raise as
 * bnft_match_raise's rows. */
int bnft_lower_ntp(struct bnft_lower_ctx *c, const struct ir_match *m, struct nftnl_rule *nr);
size_t bnft_raise_ntp(const struct bnft_raise_ctx *c, const struct bnft_cursor *cur,
		      enum ir_match_type t, struct ir_match *m);

/* Most IR matches one group of expressions raises to (nft's merged ports). */
#define BNFT_RAISE_MAX 2
/* Raise the match(es) at cur into out[0..*n_out): the number of expressions
 * taken, 0 (and *n_out 0) when none of the match types fits there. */
size_t bnft_match_raise(const struct bnft_raise_ctx *c, const struct bnft_cursor *cur,
			struct ir_match out[BNFT_RAISE_MAX], size_t *n_out);

/* Append the expressions for r (matches, statements, verdict) and its
 * comment to nr. Anonymous sets r needs are listed in c->anon (reset per
 * rule). -EINVAL for a match the backend cannot express, -ENAMETOOLONG for
 * an over-long comment. */
int bnft_rule_lower(struct bnft_lower_ctx *c, const struct ir_rule *r, struct nftnl_rule *nr);
/* The inverse: fill out (zeroed) from a dumped rule. Expressions that match
 * no known shape end up as text in out->unknown. Returns 0. */
int bnft_rule_raise(const struct bnft_raise_ctx *c, const struct nftnl_rule *nr,
		    struct ir_rule *out);

#endif
