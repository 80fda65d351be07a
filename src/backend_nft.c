/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The nft backend through libnftnl + libmnl: the backend_ops table, and a
 * transaction from start to end: built (backend_nft_batch.c), sent over the
 * transport (backend_nft_sock.c), every reply mapped back, with the
 * kernel's extended ACK message and offset, to the set, element, chain or
 * rule it is about. Read-back is backend_nft_read.c. This is the top of the
 * backend: the files below it never call up into it. */
#include "backend_nft_batch.h"
#include "backend_nft_host.h"
#include "backend_nft_read.h"
#include "backend_nft_sock.h"
#include "ntpwall/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <string.h>

struct backend {
	struct bnft_sock sock;
};

static int bnft_open(struct backend **out)
{
	struct backend *b = xcalloc(1, sizeof(*b));
	int ret = bnft_sock_open(&b->sock);

	*out = NULL;
	if (ret < 0) {
		free(b);
		return ret;
	}
	*out = b;
	return 0;
}

static void bnft_close(struct backend *b)
{
	if (!b)
		return;
	bnft_sock_close(&b->sock);
	free(b);
}

static int bnft_generation(struct backend *b, struct backend_gen *gen)
{
	return bnft_sock_generation(&b->sock, &gen->genid);
}

static int bnft_read_table(struct backend *b, const char *table, struct ir_ruleset **out,
			   struct backend_gen *gen)
{
	int ret = bnft_read(&b->sock, table, out, gen);

	/* The rest of ntpwall sees the rules as compiled, not their layout. */
	if (!ret && *out)
		ir_flatten(*out);
	return ret;
}

static struct bnft_msg *msg_by_seq(struct bnft_tx *tx, uint32_t seq)
{
	for (size_t i = 0; i < tx->n; i++)
		if (tx->msgs[i].seq == seq)
			return &tx->msgs[i];
	return NULL;
}

static int extack_cb(const struct nlattr *attr, void *data)
{
	struct bnft_msg *m = data;

	switch (mnl_attr_get_type(attr)) {
	case NLMSGERR_ATTR_MSG:
		if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0 && !m->extack)
			m->extack = xstrdup(mnl_attr_get_str(attr));
		break;
	case NLMSGERR_ATTR_OFFS:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
			m->offs = mnl_attr_get_u32(attr);
		break;
	}
	return MNL_CB_OK;
}

/* NLMSG_ERROR: an ACK (error 0) or an error for one message of the batch. */
static int ack_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
	struct bnft_msg *m;
	size_t hlen = sizeof(*err);

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*err)))
		return MNL_CB_OK;
	m = msg_by_seq(data, nlh->nlmsg_seq);
	if (!m)
		return MNL_CB_OK;
	m->acked = true;
	if (!err->error)
		return MNL_CB_OK;
	m->err = err->error;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		hlen += mnl_nlmsg_get_payload_len(&err->msg);
	if ((nlh->nlmsg_flags & NLM_F_ACK_TLVS) && mnl_nlmsg_size(hlen) <= nlh->nlmsg_len)
		mnl_attr_parse(nlh, (unsigned)hlen, extack_cb, m);
	return MNL_CB_OK;
}

/* Send the built batch in one sendmsg(), each reply onto its message. */
static int tx_send(struct backend *b, struct bnft_tx *tx)
{
	return bnft_sock_send_batch(&b->sock, tx->batch, tx->n, ack_cb, tx, &tx->enobufs);
}

/* The key of the set element at byte offs of an element message. */
static bool elem_at(const struct nlmsghdr *nlh, uint32_t offs, char *out, size_t len)
{
	const struct nlattr *list, *el, *a, *v;

	mnl_attr_for_each(list, nlh, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(list) != NFTA_SET_ELEM_LIST_ELEMENTS)
			continue;
		mnl_attr_for_each_nested(el, list) {
			uint32_t start = (uint32_t)((const char *)el - (const char *)nlh);

			if (offs < start || offs >= start + mnl_attr_get_len(el))
				continue;
			mnl_attr_for_each_nested(a, el) {
				if (mnl_attr_get_type(a) != NFTA_SET_ELEM_KEY)
					continue;
				v = mnl_attr_get_payload(a);
				if (mnl_attr_get_payload_len(v) == 4)
					return inet_ntop(AF_INET, mnl_attr_get_payload(v), out, (socklen_t)len);
				if (mnl_attr_get_payload_len(v) == 16)
					return inet_ntop(AF_INET6, mnl_attr_get_payload(v), out, (socklen_t)len);
			}
		}
	}
	return false;
}

/* "what: why (kernel message)" for one failed message, at the rule's or
 * set's policy location when there is one. */
static void report(const struct bnft_tx *tx, const struct bnft_msg *m, struct diags *d)
{
	const struct ir_ruleset *rs = tx->rs;
	char addr[64] = "";
	const char *why = strerror(-m->err);
	const char *ext = m->extack ? m->extack : "";
	const char *sep = m->extack ? ": " : "";
	const struct ir_rule *r;

	switch (m->kind) {
	case BNFT_OBJ_BEGIN:
		diag_add(d, NULL, DIAG_ERROR, NW501_KERNEL, "transaction: %s%s%s", why, sep, ext);
		break;
	case BNFT_OBJ_TABLE:
		diag_add(d, NULL, DIAG_ERROR, NW501_KERNEL, "table inet %s: %s%s%s", tx->table, why,
			 sep, ext);
		break;
	case BNFT_OBJ_SET:
	case BNFT_OBJ_ELEMS:
		if (m->kind == BNFT_OBJ_ELEMS && m->nlh && m->offs &&
		    elem_at(m->nlh, m->offs, addr, sizeof(addr)))
			diag_add(d, &rs->sets[m->set].loc, DIAG_ERROR, NW501_KERNEL,
				 "set %s element %s: %s%s%s", rs->sets[m->set].name, addr, why, sep,
				 ext);
		else
			diag_add(d, &rs->sets[m->set].loc, DIAG_ERROR, NW501_KERNEL, "set %s%s: %s%s%s",
				 rs->sets[m->set].name, m->kind == BNFT_OBJ_ELEMS ? " elements" : "",
				 why, sep, ext);
		break;
	case BNFT_OBJ_CHAIN:
		diag_add(d, NULL, DIAG_ERROR, NW501_KERNEL, "chain %s: %s%s%s",
			 tx->chains->chains[m->chain].name, why, sep, ext);
		break;
	case BNFT_OBJ_RULE:
	case BNFT_OBJ_ANON:
		r = &tx->chains->chains[m->chain].rules[m->rule];
		diag_add(d, &r->loc, DIAG_ERROR, NW501_KERNEL, "chain %s rule %zu%s%s%s%s: %s%s%s",
			 tx->chains->chains[m->chain].name, m->rule + 1, r->comment ? " (" : "",
			 r->comment ? r->comment : "", r->comment ? ")" : "",
			 m->kind == BNFT_OBJ_ANON ? " anonymous set" : "", why, sep, ext);
		break;
	}
}

/* The outcome: 0 when committed; -ERESTART for a stale genid; else the
 * first error (-EINVAL when it was about our content), every error in d. */
static int tx_result(struct bnft_tx *tx, struct diags *d)
{
	int first = 0;

	for (size_t i = 0; i < tx->n; i++) {
		const struct bnft_msg *m = &tx->msgs[i];

		if (!m->err)
			continue;
		if (m->kind == BNFT_OBJ_BEGIN && m->err == -ERESTART)
			return -ERESTART;
		/* A generation change found at commit comes on the first message. */
		if (i == 1 && m->err == -ERESTART)
			return -ERESTART;
		report(tx, m, d);
		if (!first)
			first = m->err;
	}
	if (first)
		return first == -ENOENT || first == -EEXIST || first == -EOPNOTSUPP ||
		       first == -ERANGE || first == -E2BIG ? first : -EINVAL;
	if (tx->enobufs) {
		diag_add(d, NULL, DIAG_ERROR, NW501_KERNEL,
			 "transaction: replies lost (ENOBUFS); re-read the table to see its state");
		return -ENOBUFS;
	}
	return 0;
}

/* Send a built transaction and collect its outcome; frees tx. */
static int send_tx(struct backend *b, struct bnft_tx *tx, int built, struct diags *d)
{
	int ret = built;

	if (ret < 0) {
		/* A rule the backend cannot express; nothing was sent. */
		if (tx->n && tx->msgs[tx->n - 1].err)
			report(tx, &tx->msgs[tx->n - 1], d);
		else
			diag_add(d, NULL, DIAG_ERROR, NW501_KERNEL, "building the transaction: %s",
				 strerror(-ret));
		bnft_tx_free(tx);
		return ret;
	}
	ret = tx_send(b, tx);
	if (ret < 0)
		diag_add(d, NULL, DIAG_ERROR, NW501_KERNEL, "sending the transaction: %s",
			 strerror(-ret));
	else
		ret = tx_result(tx, d);
	bnft_tx_free(tx);
	return ret;
}

static int run_tx(struct backend *b, const struct ir_ruleset *rs, const char *table,
		  const char *old_table, const struct backend_gen *expect, struct diags *d)
{
	struct bnft_tx tx;
	int built = bnft_tx_build(&tx, &b->sock.seq, rs, table, old_table, expect);

	return send_tx(b, &tx, built, d);
}

static int bnft_apply(struct backend *b, const struct ir_ruleset *rs, const char *old_table,
		      const struct backend_gen *expect, struct diags *d)
{
	return run_tx(b, rs, rs->table, old_table, expect, d);
}

static int bnft_update(struct backend *b, const struct ir_ruleset *rs,
		       const struct ruleset_delta *delta, const struct backend_gen *expect,
		       struct diags *d)
{
	struct bnft_tx tx;
	int built = bnft_tx_build_update(&tx, &b->sock.seq, rs, delta, expect);

	return send_tx(b, &tx, built, d);
}

static int bnft_remove(struct backend *b, const char *table, const struct backend_gen *expect,
		       struct diags *d)
{
	return run_tx(b, NULL, table, NULL, expect, d);
}

static int bnft_host_chains(struct backend *b, const char *own_table, struct hostfw *out)
{
	return bnft_read_host(&b->sock, own_table, out);
}

const struct backend_ops backend_nft_ops = {
	.name = "nft",
	.open = bnft_open,
	.close = bnft_close,
	.generation = bnft_generation,
	.read = bnft_read_table,
	.apply = bnft_apply,
	.update = bnft_update,
	.remove = bnft_remove,
	.host_chains = bnft_host_chains,
};
