/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reading ntpwall's table back from the kernel into the IR: table, sets,
 * elements (with timeout and expiry), chains and rules (raised through the
 * same table that lowers them), consistent with one ruleset generation:
 * genid before and after, every message's res_id, NLM_F_DUMP_INTR, and a
 * retry when any of them says the ruleset changed meanwhile. */
#include "backend_nft_int.h"
#include "backend_nft_read.h"
#include "ntpwall/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <string.h>
#include <unistd.h>

struct rd {
	struct bnft_sock *s;
	const char *table;
	uint16_t res_id;	/* genid & 0xffff every message must carry */
	bool stale;
	struct ir_ruleset *rs;
	struct bnft_anon_read *anon;
	size_t n_anon, cap_anon;
	struct ir_set *cur_set;	/* element dump target */
	struct bnft_anon_read *cur_anon;
	struct bnft_interval *iv;	/* interval element dump */
	size_t n_iv, cap_iv;
};

static bool our_msg(struct rd *r, const struct nlmsghdr *nlh)
{
	const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);

	if (ntohs(g->res_id) != r->res_id)
		r->stale = true;
	return g->nfgen_family == NFPROTO_INET;
}

static struct nlmsghdr *req(struct rd *r, char *buf, uint16_t type, uint16_t flags)
{
	return nftnl_nlmsg_build_hdr(buf, type, NFPROTO_INET, flags, bnft_sock_next_seq(r->s));
}

static int table_cb(const struct nlmsghdr *nlh, void *data)
{
	struct rd *r = data;
	struct nftnl_table *t = nftnl_table_alloc();

	/* Flags matter: a dormant table is there but filters nothing. */
	if (our_msg(r, nlh) && nftnl_table_nlmsg_parse(nlh, t) == 0 &&
	    nftnl_table_is_set(t, NFTNL_TABLE_FLAGS))
		r->rs->flags = nftnl_table_get_u32(t, NFTNL_TABLE_FLAGS);
	nftnl_table_free(t);
	return MNL_CB_OK;
}

static int get_table(struct rd *r)
{
	char buf[512];	/* header + a table name of at most 256 bytes */
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh = req(r, buf, NFT_MSG_GETTABLE, NLM_F_ACK);
	int ret;

	nftnl_table_set_str(t, NFTNL_TABLE_NAME, r->table);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	ret = bnft_sock_talk(r->s, nlh, table_cb, r);
	return ret;
}

static uint32_t ir_set_flags(uint32_t k)
{
	uint32_t f = 0;

	if (k & NFT_SET_TIMEOUT)
		f |= IR_SET_TIMEOUT;
	if (k & NFT_SET_INTERVAL)
		f |= IR_SET_INTERVAL;
	if (k & NFT_SET_EVAL)
		f |= IR_SET_DYNAMIC;
	if (k & ~(uint32_t)(NFT_SET_TIMEOUT | NFT_SET_INTERVAL | NFT_SET_EVAL))
		f |= IR_SET_FOREIGN;
	return f;
}

/* What no set ntpwall makes has: data (a map), stateful expressions given
 * to every element, concatenated keys. */
static bool set_has_extras(const struct nftnl_set *ns)
{
	static const uint16_t extras[] = {
		NFTNL_SET_DATA_TYPE, NFTNL_SET_DATA_LEN, NFTNL_SET_OBJ_TYPE,
		NFTNL_SET_DESC_CONCAT, NFTNL_SET_EXPR, NFTNL_SET_EXPRESSIONS,
	};

	for (size_t i = 0; i < ARRAY_SIZE(extras); i++)
		if (nftnl_set_is_set(ns, extras[i]))
			return true;
	return false;
}

/* An address set of ntpwall's: 4 or 16 bytes, typed as addresses (the
 * type is nft's only, but another one with the same length means another
 * key, e.g. two concatenated ports), nothing else. */
static bool set_foreign(const struct nftnl_set *ns, uint32_t klen)
{
	uint32_t type = nftnl_set_is_set(ns, NFTNL_SET_KEY_TYPE) ?
			nftnl_set_get_u32(ns, NFTNL_SET_KEY_TYPE) : 0;

	if (klen != 4 && klen != 16)
		return true;
	return type != (klen == 4 ? BNFT_TYPE_IPADDR : BNFT_TYPE_IP6ADDR) || set_has_extras(ns);
}

static void add_anon(struct rd *r, const char *name, bool foreign)
{
	struct bnft_anon_read *a;

	xgrow((void **)&r->anon, &r->cap_anon, r->n_anon, sizeof(*r->anon));
	a = &r->anon[r->n_anon++];
	memset(a, 0, sizeof(*a));
	a->name = xstrdup(name);
	a->foreign = foreign;
}

static int set_cb(const struct nlmsghdr *nlh, void *data)
{
	struct rd *r = data;
	struct nftnl_set *ns = nftnl_set_alloc();
	const char *table, *name;
	uint32_t kflags, klen;
	struct ir_set *s;

	if (!our_msg(r, nlh) || nftnl_set_nlmsg_parse(nlh, ns) < 0)
		goto out;
	table = nftnl_set_get_str(ns, NFTNL_SET_TABLE);
	name = nftnl_set_get_str(ns, NFTNL_SET_NAME);
	if (!table || !name || strcmp(table, r->table))
		goto out;
	kflags = nftnl_set_get_u32(ns, NFTNL_SET_FLAGS);
	klen = nftnl_set_get_u32(ns, NFTNL_SET_KEY_LEN);
	if (kflags & NFT_SET_ANONYMOUS) {
		/* ntpwall's are constant sets of one-byte values. */
		add_anon(r, name, klen != 1 || set_has_extras(ns) ||
			 (kflags & ~(uint32_t)(NFT_SET_ANONYMOUS | NFT_SET_CONSTANT |
					       NFT_SET_INTERVAL)));
		goto out;
	}
	s = ir_set_add(r->rs, name, klen == 16 ? IR_KEY_IPV6 : IR_KEY_IPV4, ir_set_flags(kflags));
	if (set_foreign(ns, klen))
		s->flags |= IR_SET_FOREIGN;
	if (nftnl_set_is_set(ns, NFTNL_SET_TIMEOUT))
		s->timeout_ms = nftnl_set_get_u64(ns, NFTNL_SET_TIMEOUT);
	if (nftnl_set_is_set(ns, NFTNL_SET_DESC_SIZE))
		s->size = nftnl_set_get_u32(ns, NFTNL_SET_DESC_SIZE);
	/* The kernel dumps a policy other than performance, and a gc
	 * interval, only when one was given. */
	if (nftnl_set_is_set(ns, NFTNL_SET_POLICY)) {
		uint32_t pol = nftnl_set_get_u32(ns, NFTNL_SET_POLICY);

		if (pol == NFT_SET_POL_MEMORY)
			s->policy_memory = true;
		else if (pol != NFT_SET_POL_PERFORMANCE)
			s->flags |= IR_SET_FOREIGN;
	}
	if (nftnl_set_is_set(ns, NFTNL_SET_GC_INTERVAL))
		s->gc_interval_ms = nftnl_set_get_u32(ns, NFTNL_SET_GC_INTERVAL);
out:
	nftnl_set_free(ns);
	return MNL_CB_OK;
}

static int dump_sets(struct rd *r)
{
	char buf[512];
	struct nftnl_set *ns = nftnl_set_alloc();
	struct nlmsghdr *nlh = req(r, buf, NFT_MSG_GETSET, NLM_F_DUMP);

	nftnl_set_set_str(ns, NFTNL_SET_TABLE, r->table);
	nftnl_set_nlmsg_build_payload(nlh, ns);
	nftnl_set_free(ns);
	return bnft_sock_talk(r->s, nlh, set_cb, r);
}

static int elem_comment_cb(const struct nftnl_udata *attr, void *data)
{
	char **out = data;
	const char *v = nftnl_udata_get(attr);
	uint8_t len = nftnl_udata_len(attr);

	if (nftnl_udata_type(attr) == NFTNL_UDATA_SET_ELEM_COMMENT && len && !v[len - 1] &&
	    !*out)
		*out = xstrdup(v);
	return MNL_CB_OK;
}

static char *elem_comment(struct nftnl_set_elem *e)
{
	uint32_t len;
	const void *ud = nftnl_set_elem_get(e, NFTNL_SET_ELEM_USERDATA, &len);
	char *c = NULL;

	if (ud)
		nftnl_udata_parse(ud, len, elem_comment_cb, &c);
	return c;
}

/* nftnl_set_elem_get_u32/u64 dereference unset attributes; these do not. */
static uint32_t elem_u32(struct nftnl_set_elem *e, uint16_t attr)
{
	return nftnl_set_elem_is_set(e, attr) ? nftnl_set_elem_get_u32(e, attr) : 0;
}

static uint64_t elem_u64(struct nftnl_set_elem *e, uint16_t attr)
{
	return nftnl_set_elem_is_set(e, attr) ? nftnl_set_elem_get_u64(e, attr) : 0;
}

/* An element ntpwall does not make: no key (the catch-all `*`, which every
 * packet matches), data, a range end key, expressions (a lookup runs an
 * element's limit, so it can fail the match), flags but the interval end. */
static bool elem_foreign(struct nftnl_set_elem *e, bool interval)
{
	static const uint16_t extras[] = {
		NFTNL_SET_ELEM_VERDICT, NFTNL_SET_ELEM_CHAIN, NFTNL_SET_ELEM_DATA,
		NFTNL_SET_ELEM_EXPR, NFTNL_SET_ELEM_OBJREF, NFTNL_SET_ELEM_KEY_END,
		NFTNL_SET_ELEM_EXPRESSIONS,
	};
	uint32_t allowed = interval ? NFT_SET_ELEM_INTERVAL_END : 0;

	if (!nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_KEY) ||
	    (elem_u32(e, NFTNL_SET_ELEM_FLAGS) & ~allowed))
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(extras); i++)
		if (nftnl_set_elem_is_set(e, extras[i]))
			return true;
	return false;
}

static void take_anon_elem(struct bnft_anon_read *a, struct nftnl_set_elem *e)
{
	uint32_t klen;
	const uint8_t *key;

	/* Values only: an interval set's range ends would read as values. */
	if (elem_foreign(e, false)) {
		a->foreign = true;
		return;
	}
	key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &klen);
	if (klen != 1 || a->n == ARRAY_SIZE(a->vals))
		a->foreign = true;
	else
		a->vals[a->n++] = key[0];
}

static void take_elem(struct rd *r, struct nftnl_set_elem *e)
{
	uint32_t klen;
	const uint8_t *key;
	struct ir_set *s = r->cur_set;
	uint32_t want;

	if (r->cur_anon) {
		take_anon_elem(r->cur_anon, e);
		return;
	}
	if (elem_foreign(e, s->flags & IR_SET_INTERVAL)) {
		s->flags |= IR_SET_FOREIGN;
		return;
	}
	key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &klen);
	want = s->key == IR_KEY_IPV4 ? 4 : 16;
	if (klen != want) {
		s->flags |= IR_SET_FOREIGN;
		return;
	}
	if (s->flags & IR_SET_INTERVAL) {
		struct bnft_interval *iv;

		xgrow((void **)&r->iv, &r->cap_iv, r->n_iv, sizeof(*r->iv));
		iv = &r->iv[r->n_iv++];
		memset(iv, 0, sizeof(*iv));
		memcpy(iv->key, key, klen);
		iv->end = elem_u32(e, NFTNL_SET_ELEM_FLAGS) & NFT_SET_ELEM_INTERVAL_END;
		iv->timeout = elem_u64(e, NFTNL_SET_ELEM_TIMEOUT);
		iv->expires = elem_u64(e, NFTNL_SET_ELEM_EXPIRATION);
		iv->comment = elem_comment(e);
	} else {
		struct addr a = { .family = klen == 4 ? AF_INET : AF_INET6 };
		struct ir_elem *el;
		char *c = elem_comment(e);

		memcpy(a.bytes, key, klen);
		el = ir_set_add_elem(s, &a, klen * 8, c);
		free(c);
		el->timeout_ms = elem_u64(e, NFTNL_SET_ELEM_TIMEOUT);
		el->expires_ms = elem_u64(e, NFTNL_SET_ELEM_EXPIRATION);
	}
}

static int take_elem_cb(struct nftnl_set_elem *e, void *data)
{
	take_elem(data, e);
	return 0;
}

static int elem_cb(const struct nlmsghdr *nlh, void *data)
{
	struct rd *r = data;
	struct nftnl_set *ns = nftnl_set_alloc();

	if (our_msg(r, nlh) && nftnl_set_elems_nlmsg_parse(nlh, ns) == 0)
		nftnl_set_elem_foreach(ns, take_elem_cb, r);
	nftnl_set_free(ns);
	return MNL_CB_OK;
}

static int dump_elems(struct rd *r, const char *set)
{
	char buf[1024];	/* header + table and set names (<= 256 bytes each) */
	struct nftnl_set *ns = nftnl_set_alloc();
	struct nlmsghdr *nlh = req(r, buf, NFT_MSG_GETSETELEM, NLM_F_DUMP);

	nftnl_set_set_str(ns, NFTNL_SET_TABLE, r->table);
	nftnl_set_set_str(ns, NFTNL_SET_NAME, set);
	nftnl_set_elems_nlmsg_build_payload(nlh, ns);
	nftnl_set_free(ns);
	return bnft_sock_talk(r->s, nlh, elem_cb, r);
}

static int read_elems(struct rd *r)
{
	int ret;

	for (size_t i = 0; i < r->rs->n_sets; i++) {
		struct ir_set *s = &r->rs->sets[i];

		/* A dynamic set fills from traffic: its elements are not ours. */
		if (s->flags & IR_SET_DYNAMIC)
			continue;
		r->cur_set = s;
		ret = dump_elems(r, s->name);
		if (s->flags & IR_SET_INTERVAL) {
			bnft_intervals_to_prefixes(r->iv, r->n_iv, s);
			for (size_t j = 0; j < r->n_iv; j++)
				free(r->iv[j].comment);
			r->n_iv = 0;
		}
		if (ret < 0)
			return ret;
	}
	r->cur_set = NULL;
	for (size_t i = 0; i < r->n_anon; i++) {
		r->cur_anon = &r->anon[i];
		ret = dump_elems(r, r->anon[i].name);
		r->cur_anon = NULL;
		if (ret < 0)
			return ret;
	}
	return 0;
}

static enum ir_hook ir_hook(const struct nftnl_chain *c)
{
	if (!nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM))
		return IR_HOOK_NONE;
	switch (nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM)) {
	case NF_INET_PRE_ROUTING: return IR_HOOK_PREROUTING;
	case NF_INET_LOCAL_IN: return IR_HOOK_INPUT;
	case NF_INET_FORWARD: return IR_HOOK_FORWARD;
	case NF_INET_LOCAL_OUT: return IR_HOOK_OUTPUT;
	case NF_INET_POST_ROUTING: return IR_HOOK_POSTROUTING;
	case NF_INET_INGRESS: return IR_HOOK_INGRESS;
	}
	/* A hook the IR has no name for: it can never equal a wanted chain. */
	return (enum ir_hook)-1;
}

/* An ingress chain's devices, space-separated (the kernel dumps the list,
 * and the single device on its own too); NULL for none. */
static char *chain_devices(const struct nftnl_chain *c)
{
	const char *const *devs = NULL;
	char *s = NULL, *t;

	if (nftnl_chain_is_set(c, NFTNL_CHAIN_DEVICES))
		devs = nftnl_chain_get_array(c, NFTNL_CHAIN_DEVICES);
	for (size_t i = 0; devs && devs[i]; i++) {
		t = xasprintf("%s%s%s", s ? s : "", s ? " " : "", devs[i]);
		free(s);
		s = t;
	}
	if (!s && nftnl_chain_is_set(c, NFTNL_CHAIN_DEV))
		s = xstrdup(nftnl_chain_get_str(c, NFTNL_CHAIN_DEV));
	return s;
}

static int chain_cb(const struct nlmsghdr *nlh, void *data)
{
	struct rd *r = data;
	struct nftnl_chain *c = nftnl_chain_alloc();
	const char *table, *name, *type;
	struct ir_chain *ch;

	if (!our_msg(r, nlh) || nftnl_chain_nlmsg_parse(nlh, c) < 0)
		goto out;
	table = nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE);
	name = nftnl_chain_get_str(c, NFTNL_CHAIN_NAME);
	if (!table || !name || strcmp(table, r->table))
		goto out;
	ch = ir_chain_add(r->rs, name, ir_hook(c),
			  nftnl_chain_is_set(c, NFTNL_CHAIN_PRIO) ?
			  nftnl_chain_get_s32(c, NFTNL_CHAIN_PRIO) : 0);
	ch->policy_drop = nftnl_chain_is_set(c, NFTNL_CHAIN_POLICY) &&
			  nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY) == NF_DROP;
	/* Same hook and rules in a nat chain filter only a connection's
	 * first packet: the type is part of what the chain does. */
	type = nftnl_chain_get_str(c, NFTNL_CHAIN_TYPE);
	if (ch->hook != IR_HOOK_NONE && type && strcmp(type, "filter"))
		ch->type = xstrdup(type);
	ch->device = chain_devices(c);
out:
	nftnl_chain_free(c);
	return MNL_CB_OK;
}

static int dump_chains(struct rd *r)
{
	char buf[512];
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nlmsghdr *nlh = req(r, buf, NFT_MSG_GETCHAIN, NLM_F_DUMP);

	/* Kernels that do not filter chain dumps by table get filtered here. */
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, r->table);
	nftnl_chain_nlmsg_build_payload(nlh, c);
	nftnl_chain_free(c);
	return bnft_sock_talk(r->s, nlh, chain_cb, r);
}

static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct rd *r = data;
	struct nftnl_rule *nr = nftnl_rule_alloc();
	struct bnft_raise_ctx rc = { .rs = r->rs, .anon = r->anon, .n_anon = r->n_anon };
	const char *table, *chain;
	struct ir_chain *ch;
	struct ir_rule *ir;

	if (!our_msg(r, nlh) || nftnl_rule_nlmsg_parse(nlh, nr) < 0)
		goto out;
	table = nftnl_rule_get_str(nr, NFTNL_RULE_TABLE);
	chain = nftnl_rule_get_str(nr, NFTNL_RULE_CHAIN);
	if (!table || !chain || strcmp(table, r->table))
		goto out;
	ch = ir_chain_find(r->rs, chain);
	if (!ch) {
		/* Made after our chain dump: the ruleset changed meanwhile. */
		r->stale = true;
		goto out;
	}
	ir = ir_rule_add(ch, NULL, NULL);
	ir->counter = false;
	bnft_rule_raise(&rc, nr, ir);
out:
	nftnl_rule_free(nr);
	return MNL_CB_OK;
}

static int dump_rules(struct rd *r)
{
	char buf[512];
	struct nftnl_rule *nr = nftnl_rule_alloc();
	struct nlmsghdr *nlh = req(r, buf, NFT_MSG_GETRULE, NLM_F_DUMP);

	nftnl_rule_set_str(nr, NFTNL_RULE_TABLE, r->table);
	nftnl_rule_nlmsg_build_payload(nlh, nr);
	nftnl_rule_free(nr);
	return bnft_sock_talk(r->s, nlh, rule_cb, r);
}

static void rd_reset(struct rd *r)
{
	for (size_t i = 0; i < r->n_anon; i++)
		free(r->anon[i].name);
	free(r->anon);
	for (size_t i = 0; i < r->n_iv; i++)
		free(r->iv[i].comment);
	free(r->iv);
	r->anon = NULL;
	r->iv = NULL;
	r->n_anon = r->cap_anon = r->n_iv = r->cap_iv = 0;
}

/* One consistent read, or -EAGAIN when the generation moved under it. */
static int read_once(struct rd *r, struct backend_gen *gen)
{
	struct backend_gen after;
	int ret = bnft_sock_generation(r->s, &gen->genid);

	if (ret < 0)
		return ret;
	r->res_id = (uint16_t)(gen->genid & 0xffff);
	r->stale = false;
	ret = get_table(r);
	if (!ret)
		ret = dump_sets(r);
	if (!ret)
		ret = read_elems(r);
	if (!ret)
		ret = dump_chains(r);
	if (!ret)
		ret = dump_rules(r);
	if (ret == -EINTR)
		return -EAGAIN;
	if (ret < 0)
		return ret;
	ret = bnft_sock_generation(r->s, &after.genid);
	if (ret < 0)
		return ret;
	return r->stale || after.genid != gen->genid ? -EAGAIN : 0;
}

/* Sort; false when a set held duplicates. A dump that spans several
 * datagrams restarts its walk of a hash set each time, skipping what it
 * sent; while the kernel resizes the table (right after a big insert) the
 * order changes and some elements come twice while others are missed,
 * with no generation change to tell. Duplicates reveal it. */
static bool sort_unique(struct ir_ruleset *rs)
{
	bool ok = true;

	for (size_t i = 0; i < rs->n_sets; i++) {
		struct ir_set *s = &rs->sets[i];
		size_t n = s->n_elems;

		ir_set_sort(s);
		if (s->n_elems != n)
			ok = false;
	}
	ir_ruleset_sort(rs);
	return ok;
}

int bnft_read(struct bnft_sock *s, const char *table, struct ir_ruleset **out,
	      struct backend_gen *gen)
{
	struct rd r = { .s = s, .table = table };
	int ret = -EAGAIN;

	*out = NULL;
	for (int i = 0; i < BACKEND_RETRIES && ret == -EAGAIN; i++) {
		r.rs = ir_ruleset_new(table);
		ret = read_once(&r, gen);
		rd_reset(&r);
		if (ret == 0 && sort_unique(r.rs)) {
			*out = r.rs;
			return 0;
		}
		if (ret == 0) {
			ret = -EAGAIN;
			/* Give the kernel's hash table resize time to finish. */
			usleep(10000u << i);
		}
		ir_ruleset_free(r.rs);
	}
	return ret;
}
