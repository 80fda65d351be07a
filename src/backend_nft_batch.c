/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Building the one nfnetlink batch that replaces ntpwall's table: BEGIN
 * (with the genid compare-and-swap), NEWTABLE/DELTABLE/NEWTABLE so it works
 * whether or not the table exists, sets, elements in messages under the
 * 64 KiB attribute limit, chains, rules, END. Every message gets its own
 * sequence number and a row saying which object it is about. */
#include "backend_nft_batch.h"
#include "backend_nft_int.h"
#include "ntpwall/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/batch.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdlib.h>
#include <string.h>

/* Pages of 2 MiB as nft uses; the overrun holds one whole element message
 * (64 KiB nest plus headers) or rule. */
#define BATCH_PAGE (2u << 20)
#define BATCH_OVERRUN (128u << 10)
/* Stay under the u16 nla_len of the element list nest with room for the
 * message's other attributes. */
#define ELEM_NEST_MAX 60000u

static struct bnft_msg *msg_add(struct bnft_tx *tx, enum bnft_msg_kind kind)
{
	struct bnft_msg *m;

	xgrow((void **)&tx->msgs, &tx->cap, tx->n, sizeof(*tx->msgs));
	m = &tx->msgs[tx->n++];
	memset(m, 0, sizeof(*m));
	m->kind = kind;
	m->seq = tx->next_seq++;
	return m;
}

/* Start a message of type in the batch for m. */
static struct nlmsghdr *msg_hdr(struct bnft_tx *tx, struct bnft_msg *m, uint16_t type,
				uint16_t flags)
{
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(nftnl_batch_buffer(tx->batch), type,
						     NFPROTO_INET, flags | NLM_F_ACK, m->seq);

	m->nlh = nlh;
	return nlh;
}

/* Finish the current message. One that overran its page was copied to the
 * start of a new page; either way it now ends where the buffer continues. */
static void msg_end(struct bnft_tx *tx, struct bnft_msg *m)
{
	uint32_t len = m->nlh->nlmsg_len;

	nftnl_batch_update(tx->batch);
	m->nlh = (const struct nlmsghdr *)((const char *)nftnl_batch_buffer(tx->batch) - len);
}

/* NEWTABLE, DELTABLE (, NEWTABLE): the first makes sure the DELTABLE has
 * a table to delete (an absent one is ENOENT), so replace and remove work
 * whether or not the table exists. */
static void table_msgs(struct bnft_tx *tx, const char *name, bool create)
{
	static const uint16_t types[] = { NFT_MSG_NEWTABLE, NFT_MSG_DELTABLE, NFT_MSG_NEWTABLE };
	struct nftnl_table *t = nftnl_table_alloc();
	size_t n = create ? 3 : 2;

	nftnl_table_set_str(t, NFTNL_TABLE_NAME, name);
	/* Flags 0: never NFT_TABLE_F_OWNER, or the table dies with this
	 * process's socket (doc/netlink-notes.md §6). */
	nftnl_table_set_u32(t, NFTNL_TABLE_FLAGS, 0);
	for (size_t i = 0; i < n; i++) {
		struct bnft_msg *m = msg_add(tx, BNFT_OBJ_TABLE);
		struct nlmsghdr *nlh = msg_hdr(tx, m, types[i],
					       types[i] == NFT_MSG_NEWTABLE ? NLM_F_CREATE : 0);

		nftnl_table_nlmsg_build_payload(nlh, t);
		msg_end(tx, m);
	}
	nftnl_table_free(t);
}

static uint32_t set_flags(uint32_t f)
{
	uint32_t k = 0;

	if (f & IR_SET_TIMEOUT)
		k |= NFT_SET_TIMEOUT;
	if (f & IR_SET_INTERVAL)
		k |= NFT_SET_INTERVAL;
	if (f & IR_SET_DYNAMIC)
		k |= NFT_SET_EVAL;
	return k;
}

static void set_msg(struct bnft_tx *tx, const struct ir_set *s, size_t idx)
{
	struct nftnl_set *ns = nftnl_set_alloc();
	struct bnft_msg *m = msg_add(tx, BNFT_OBJ_SET);
	struct nlmsghdr *nlh;

	m->set = idx;
	nftnl_set_set_str(ns, NFTNL_SET_TABLE, tx->rs->table);
	nftnl_set_set_str(ns, NFTNL_SET_NAME, s->name);
	nftnl_set_set_u32(ns, NFTNL_SET_KEY_LEN, s->key == IR_KEY_IPV4 ? 4 : 16);
	nftnl_set_set_u32(ns, NFTNL_SET_KEY_TYPE,
			  s->key == IR_KEY_IPV4 ? BNFT_TYPE_IPADDR : BNFT_TYPE_IP6ADDR);
	nftnl_set_set_u32(ns, NFTNL_SET_FLAGS, set_flags(s->flags));
	if (s->timeout_ms)
		nftnl_set_set_u64(ns, NFTNL_SET_TIMEOUT, s->timeout_ms);
	if (s->size)
		nftnl_set_set_u32(ns, NFTNL_SET_DESC_SIZE, s->size);
	nftnl_set_set_u32(ns, NFTNL_SET_ID, bnft_set_id(idx));
	nlh = msg_hdr(tx, m, NFT_MSG_NEWSET, NLM_F_CREATE);
	nftnl_set_nlmsg_build_payload(nlh, ns);
	msg_end(tx, m);
	nftnl_set_free(ns);
}

static void elem_comment(struct nftnl_set_elem *e, const char *comment)
{
	struct nftnl_udata_buf *ud;

	if (!comment || strlen(comment) > BNFT_COMMENT_MAX)
		return;
	ud = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
	if (nftnl_udata_put_strz(ud, NFTNL_UDATA_SET_ELEM_COMMENT, comment))
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_USERDATA, nftnl_udata_buf_data(ud),
				   nftnl_udata_buf_len(ud));
	nftnl_udata_buf_free(ud);
}

/* The key just past a prefix, false when it wraps past the top. */
static bool prefix_end(const struct ir_elem *el, unsigned bits, uint8_t *end)
{
	unsigned len = bits / 8;
	int carry_bit = (int)el->prefix_len - 1;

	memcpy(end, el->addr.bytes, len);
	if (el->prefix_len == 0)
		return false;
	/* Add 1 at bit prefix_len-1 and propagate the carry. */
	for (int byte = carry_bit / 8; byte >= 0; byte--) {
		unsigned add = byte == carry_bit / 8 ? 0x80u >> (carry_bit % 8) : 1;
		unsigned v = end[byte] + add;

		end[byte] = (uint8_t)v;
		if (v < 256)
			return true;
	}
	return false;
}

/* Bytes an element takes in the message, a safe over-estimate. */
static size_t elem_size(const struct ir_elem *el, unsigned klen, bool interval)
{
	size_t n = 4 + 8 + klen + 12 + 8;

	if (el->comment)
		n += 8 + strlen(el->comment) + 4;
	return interval ? n * 2 : n;
}

/* An element (and, in an interval set, the end key after it); a deletion
 * names the keys only. */
static void elem_add(struct nftnl_set *chunk, const struct ir_set *s, const struct ir_elem *el,
		     unsigned klen, bool del)
{
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();
	uint8_t end[16];

	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, el->addr.bytes, klen);
	if (el->timeout_ms && !del)
		nftnl_set_elem_set_u64(e, NFTNL_SET_ELEM_TIMEOUT, el->timeout_ms);
	if (!del)
		elem_comment(e, el->comment);
	nftnl_set_elem_add(chunk, e);
	if (!(s->flags & IR_SET_INTERVAL) || !prefix_end(el, klen * 8, end))
		return;
	e = nftnl_set_elem_alloc();
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, end, klen);
	nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_FLAGS, NFT_SET_ELEM_INTERVAL_END);
	nftnl_set_elem_add(chunk, e);
}

static struct nftnl_set *chunk_new(const char *table, const char *set, uint32_t id)
{
	struct nftnl_set *c = nftnl_set_alloc();

	nftnl_set_set_str(c, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(c, NFTNL_SET_NAME, set);
	/* 0: a set that exists already, found by name. */
	if (id)
		nftnl_set_set_u32(c, NFTNL_SET_ID, id);
	return c;
}

static void chunk_flush_type(struct bnft_tx *tx, struct nftnl_set *c,
			     uint16_t type, enum bnft_msg_kind kind, size_t set, size_t chain,
			     size_t rule)
{
	struct bnft_msg *m = msg_add(tx, kind);
	struct nlmsghdr *nlh = msg_hdr(tx, m, type,
				       type == NFT_MSG_NEWSETELEM ? NLM_F_CREATE : 0);

	m->set = set;
	m->chain = chain;
	m->rule = rule;
	nftnl_set_elems_nlmsg_build_payload(nlh, c);
	msg_end(tx, m);
	nftnl_set_free(c);
}

static void chunk_flush(struct bnft_tx *tx, struct nftnl_set *c,
			enum bnft_msg_kind kind, size_t set, size_t chain, size_t rule)
{
	chunk_flush_type(tx, c, NFT_MSG_NEWSETELEM, kind, set, chain, rule);
}

/* Elements of set s (index idx in tx->rs) in messages of type (NEW or DEL
 * SETELEM) under the nest limit: either all of s's own (list NULL) or the n
 * of list. id 0: the set exists already. */
struct elem_batch {
	const struct ir_set *s;
	size_t idx;
	uint32_t id;
	uint16_t type;
	const struct ir_elem *const *list;
	size_t n;
};

static void elem_msgs_of(struct bnft_tx *tx, const struct elem_batch *eb)
{
	const struct ir_set *s = eb->s;
	unsigned klen = s->key == IR_KEY_IPV4 ? 4 : 16;
	bool interval = s->flags & IR_SET_INTERVAL, del = eb->type == NFT_MSG_DELSETELEM;
	size_t n = eb->list ? eb->n : s->n_elems;
	struct nftnl_set *c = NULL;
	size_t used = 0;

	for (size_t i = 0; i < n; i++) {
		const struct ir_elem *el = eb->list ? eb->list[i] : &s->elems[i];
		size_t sz = elem_size(el, klen, interval);

		if (c && used + sz > ELEM_NEST_MAX) {
			chunk_flush_type(tx, c, eb->type, BNFT_OBJ_ELEMS, eb->idx, 0, 0);
			c = NULL;
		}
		if (!c) {
			c = chunk_new(tx->table, s->name, eb->id);
			used = 0;
		}
		elem_add(c, s, el, klen, del);
		used += sz;
	}
	if (c)
		chunk_flush_type(tx, c, eb->type, BNFT_OBJ_ELEMS, eb->idx, 0, 0);
}

static void elem_msgs(struct bnft_tx *tx, const struct ir_set *s, size_t idx)
{
	struct elem_batch eb = { s, idx, bnft_set_id(idx), NFT_MSG_NEWSETELEM, NULL, 0 };

	elem_msgs_of(tx, &eb);
}

static void chain_msg(struct bnft_tx *tx, const struct ir_chain *ch, size_t idx)
{
	static const uint32_t hooks[] = {
		[IR_HOOK_PREROUTING] = NF_INET_PRE_ROUTING,
		[IR_HOOK_INPUT] = NF_INET_LOCAL_IN,
		[IR_HOOK_OUTPUT] = NF_INET_LOCAL_OUT,
		[IR_HOOK_FORWARD] = NF_INET_FORWARD,
		[IR_HOOK_POSTROUTING] = NF_INET_POST_ROUTING,
		[IR_HOOK_INGRESS] = NF_INET_INGRESS,
	};
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct bnft_msg *m = msg_add(tx, BNFT_OBJ_CHAIN);
	struct nlmsghdr *nlh;

	m->chain = idx;
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, tx->rs->table);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, ch->name);
	if (ch->hook != IR_HOOK_NONE && ch->hook < ARRAY_SIZE(hooks)) {
		nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, hooks[ch->hook]);
		nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, ch->priority);
		nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
		nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, ch->policy_drop ? NF_DROP : NF_ACCEPT);
	}
	nlh = msg_hdr(tx, m, NFT_MSG_NEWCHAIN, NLM_F_CREATE);
	nftnl_chain_nlmsg_build_payload(nlh, c);
	msg_end(tx, m);
	nftnl_chain_free(c);
}

/* The anonymous constant sets a rule needs, before the rule. */
static void anon_msgs(struct bnft_tx *tx, const struct bnft_lower_ctx *lc,
		      size_t chain, size_t rule)
{
	for (size_t i = 0; i < lc->n_anon; i++) {
		const struct bnft_anon *a = &lc->anon[i];
		struct nftnl_set *ns = nftnl_set_alloc(), *c;
		struct bnft_msg *m = msg_add(tx, BNFT_OBJ_ANON);
		struct nlmsghdr *nlh;

		m->chain = chain;
		m->rule = rule;
		nftnl_set_set_str(ns, NFTNL_SET_TABLE, tx->rs->table);
		nftnl_set_set_str(ns, NFTNL_SET_NAME, "__set%d");
		nftnl_set_set_u32(ns, NFTNL_SET_KEY_LEN, 1);
		nftnl_set_set_u32(ns, NFTNL_SET_KEY_TYPE, BNFT_TYPE_INTEGER);
		nftnl_set_set_u32(ns, NFTNL_SET_FLAGS, NFT_SET_ANONYMOUS | NFT_SET_CONSTANT);
		nftnl_set_set_u32(ns, NFTNL_SET_ID, a->id);
		nlh = msg_hdr(tx, m, NFT_MSG_NEWSET, NLM_F_CREATE);
		nftnl_set_nlmsg_build_payload(nlh, ns);
		msg_end(tx, m);
		nftnl_set_free(ns);
		c = chunk_new(tx->rs->table, "__set%d", a->id);
		for (size_t j = 0; j < a->n; j++) {
			struct nftnl_set_elem *e = nftnl_set_elem_alloc();

			nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, &a->vals[j], 1);
			nftnl_set_elem_add(c, e);
		}
		chunk_flush(tx, c, BNFT_OBJ_ANON, 0, chain, rule);
	}
}

static int rule_msgs(struct bnft_tx *tx, struct bnft_lower_ctx *lc,
		     size_t chain, size_t rule)
{
	const struct ir_chain *ch = &tx->chains->chains[chain];
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct bnft_msg *m;
	struct nlmsghdr *nlh;
	int ret;

	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, tx->rs->table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, ch->name);
	ret = bnft_rule_lower(lc, &ch->rules[rule], r);
	if (ret < 0) {
		nftnl_rule_free(r);
		return ret;
	}
	anon_msgs(tx, lc, chain, rule);
	m = msg_add(tx, BNFT_OBJ_RULE);
	m->chain = chain;
	m->rule = rule;
	nlh = msg_hdr(tx, m, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	msg_end(tx, m);
	nftnl_rule_free(r);
	return 0;
}

static int content_msgs(struct bnft_tx *tx)
{
	const struct ir_ruleset *rs = tx->rs;
	struct bnft_lower_ctx lc = { .rs = rs, .next_id = (uint32_t)rs->n_sets + 1 };
	int ret;

	for (size_t i = 0; i < rs->n_sets; i++) {
		set_msg(tx, &rs->sets[i], i);
		elem_msgs(tx, &rs->sets[i], i);
	}
	const struct ir_ruleset *ch = tx->chains;

	for (size_t i = 0; i < ch->n_chains; i++)
		chain_msg(tx, &ch->chains[i], i);
	for (size_t i = 0; i < ch->n_chains; i++) {
		for (size_t j = 0; j < ch->chains[i].n_rules; j++) {
			ret = rule_msgs(tx, &lc, i, j);
			if (ret < 0) {
				/* Name the rule like a kernel error would. */
				struct bnft_msg *m = msg_add(tx, BNFT_OBJ_RULE);

				m->chain = i;
				m->rule = j;
				m->err = ret;
				return ret;
			}
		}
	}
	return 0;
}

static void begin_msg(struct bnft_tx *tx, const struct backend_gen *expect)
{
	struct bnft_msg *m = msg_add(tx, BNFT_OBJ_BEGIN);
	struct nlmsghdr *nlh = nftnl_batch_begin(nftnl_batch_buffer(tx->batch), m->seq);

	/* 0 means "don't check" to the kernel; a real genid is never 0 here. */
	if (expect && expect->genid)
		mnl_attr_put_u32(nlh, NFNL_BATCH_GENID, htonl(expect->genid));
	m->nlh = nlh;
	msg_end(tx, m);
}

static void end_msg(struct bnft_tx *tx)
{
	nftnl_batch_end(nftnl_batch_buffer(tx->batch), tx->next_seq++);
	nftnl_batch_update(tx->batch);
}

static int tx_init(struct bnft_tx *tx, uint32_t seq, const struct ir_ruleset *rs,
		   const char *table)
{
	memset(tx, 0, sizeof(*tx));
	tx->rs = rs;
	tx->table = table;
	tx->next_seq = seq;
	tx->batch = nftnl_batch_alloc(BATCH_PAGE, BATCH_OVERRUN);
	return tx->batch ? 0 : -ENOMEM;
}

int bnft_tx_build(struct bnft_tx *tx, uint32_t *seq, const struct ir_ruleset *rs,
		  const char *table, const char *old_table, const struct backend_gen *expect)
{
	int ret = tx_init(tx, *seq, rs, table);

	if (ret < 0)
		return ret;
	if (rs)
		tx->chains = ir_layout(rs);
	begin_msg(tx, expect);
	/* A renamed table: the old one goes in the same transaction. */
	if (old_table && strcmp(old_table, table))
		table_msgs(tx, old_table, false);
	table_msgs(tx, table, rs != NULL);
	if (rs)
		ret = content_msgs(tx);
	end_msg(tx);
	*seq = tx->next_seq;
	return ret;
}

int bnft_tx_build_update(struct bnft_tx *tx, uint32_t *seq, const struct ir_ruleset *rs,
			 const struct ruleset_delta *d, const struct backend_gen *expect)
{
	int ret = tx_init(tx, *seq, rs, rs->table);

	if (ret < 0)
		return ret;
	begin_msg(tx, expect);
	/* Every deletion before any addition: a renewed element is deleted
	 * and added back in the same transaction, with no gap. */
	for (size_t i = 0; i < d->n_sets; i++) {
		const struct set_delta *sd = &d->sets[i];
		struct elem_batch eb = { sd->set, (size_t)(sd->set - rs->sets), 0,
					 NFT_MSG_DELSETELEM, sd->del, sd->n_del };

		elem_msgs_of(tx, &eb);
	}
	for (size_t i = 0; i < d->n_sets; i++) {
		const struct set_delta *sd = &d->sets[i];
		struct elem_batch eb = { sd->set, (size_t)(sd->set - rs->sets), 0,
					 NFT_MSG_NEWSETELEM, sd->add, sd->n_add };

		elem_msgs_of(tx, &eb);
	}
	end_msg(tx);
	*seq = tx->next_seq;
	return 0;
}

void bnft_tx_free(struct bnft_tx *tx)
{
	for (size_t i = 0; i < tx->n; i++)
		free(tx->msgs[i].extack);
	free(tx->msgs);
	ir_ruleset_free(tx->chains);
	if (tx->batch)
		nftnl_batch_free(tx->batch);
	memset(tx, 0, sizeof(*tx));
}
