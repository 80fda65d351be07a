/* Internal to the nft backend (backend_nft*.c): the socket, message
 * helpers and the per-match lowering/raising table shared by apply and
 * read-back. Not a module interface. Names here carry the prefix bnft_ /
 * BNFT_ (short for backend_nft_): a bare nft_ / NFT_ would read as, and
 * could clash with, libnftnl's and the kernel uapi's own names. */
#ifndef NTPWALL_BACKEND_NFT_INT_H
#define NTPWALL_BACKEND_NFT_INT_H

#include "ntpwall/backend.h"
#include "ntpwall/delta.h"
#include "ntpwall/ir.h"

#include <libmnl/libmnl.h>
#include <libnftnl/rule.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct backend {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;
	char *buf;		/* receive buffer */
	size_t buf_len;
};

/* Receive buffer: a dump datagram is at most 32 KiB (kernel netlink_dump);
 * a truncated read is ENOSPC in libmnl, so keep well above that. */
#define BNFT_RECV_BUF (64u * 1024 + 4096)

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

/* What one message of a transaction is about, to name it in an error. */
enum bnft_msg_kind {
	BNFT_OBJ_BEGIN,
	BNFT_OBJ_TABLE,
	BNFT_OBJ_SET,
	BNFT_OBJ_ELEMS,		/* elements of set `set` */
	BNFT_OBJ_CHAIN,
	BNFT_OBJ_RULE,		/* rule `rule` of chain `chain` */
	BNFT_OBJ_ANON,		/* anonymous set (or its elements) of that rule */
};

struct bnft_msg {
	enum bnft_msg_kind kind;
	size_t set, chain, rule;
	uint32_t seq;
	const struct nlmsghdr *nlh;	/* inside the batch pages */
	bool acked;
	int err;			/* -errno from the kernel, 0 */
	char *extack;			/* kernel's message; may be NULL */
	uint32_t offs;			/* extack attribute offset; 0 none */
};

/* One transaction being built and sent. */
struct bnft_tx {
	struct nftnl_batch *batch;
	struct bnft_msg *msgs;
	size_t n, cap;
	const struct ir_ruleset *rs;	/* NULL for a removal */
	const char *table;
	uint32_t next_seq;		/* while building */
	bool enobufs;			/* replies were lost */
};

/* Build the batch that replaces rs->table by rs (or, rs NULL, deletes
 * table), deleting old_table too when non-NULL and different, with the
 * genid check when expect is non-NULL. Messages are numbered from *seq on,
 * and *seq is left past the last one: building needs no socket. Free tx
 * with bnft_tx_free() whatever this returns: -ENOMEM, or (with the failed
 * rule as tx's last message) a lowering error of bnft_rule_lower(). */
int bnft_tx_build(struct bnft_tx *tx, uint32_t *seq, const struct ir_ruleset *rs,
		  const char *table, const char *old_table, const struct backend_gen *expect);
/* Build the batch that changes only elements of rs's existing sets: d's
 * deletions, then its additions (d's sets point into rs); seq as above. */
int bnft_tx_build_update(struct bnft_tx *tx, uint32_t *seq, const struct ir_ruleset *rs,
			 const struct ruleset_delta *d, const struct backend_gen *expect);
/* Free what bnft_tx_build made. */
void bnft_tx_free(struct bnft_tx *tx);

/* Send one request and run every reply through cb until the end of the
 * dump or the ACK. Returns 0 or -errno (-EINTR for NLM_F_DUMP_INTR). */
int bnft_talk(struct backend *b, struct nlmsghdr *nlh, mnl_cb_t cb, void *data);
/* The ruleset generation (NFT_MSG_GETGEN). */
int bnft_generation(struct backend *b, struct backend_gen *gen);
/* backend_ops.read for nft (backend_nft_read.c). */
int bnft_read(struct backend *b, const char *table, struct ir_ruleset **out,
	      struct backend_gen *gen);
/* Next sequence number. */
uint32_t bnft_next_seq(struct backend *b);

#endif
