/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Building the one nfnetlink batch of a transaction (backend_nft_batch.c)
 * from the IR, without a socket: each message has its own sequence number
 * and a row saying which set, element, chain or rule it is about, so that
 * backend_nft.c, which sends it, can name what the kernel refused. Sits on
 * backend_nft_int.h's lowering; calls neither the transport nor read-back. */
#ifndef NTPWALL_BACKEND_NFT_BATCH_H
#define NTPWALL_BACKEND_NFT_BATCH_H

#include "ntpwall/backend.h"
#include "ntpwall/delta.h"
#include "ntpwall/ir.h"

#include <linux/netlink.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nftnl_batch;

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
	struct ir_ruleset *chains;	/* owned: rs's chains in the kernel's layout
					 * (ir_layout), which messages index */
	const char *table;
	uint32_t next_seq;		/* while building */
	bool enobufs;			/* replies were lost */
};

/* Build the batch that replaces rs->table by rs, its chains laid out by
 * ir_layout (tx->chains), or, rs NULL, deletes
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

#endif
