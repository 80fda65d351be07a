/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The host's other tables, for the host check (ntpwall/hostfw.h): one dump
 * of tables (dormant ones filter nothing), one of chains and one of rules,
 * each of every family (NFPROTO_UNSPEC), keeping the base chains on the
 * input and output hooks of inet, ip and ip6 tables but ntpwall's own, and
 * their rules raised as far as the raise understands them. Their sets are
 * not read: a lookup is unknown. Bounded by HOSTFW_MAX_*; consistent with
 * one ruleset generation as read-back is. */
#include "backend_nft_host.h"
#include "backend_nft_int.h"
#include "ntpwall/backend.h"
#include "ntpwall/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <string.h>

/* A dormant table: registers no hook, so its chains see nothing. */
struct dormant {
	uint8_t family;
	char *name;
};

struct hrd {
	struct bnft_sock *s;
	const char *own;
	uint16_t res_id;	/* genid & 0xffff every message must carry */
	bool stale;
	struct hostfw *h;
	struct dormant *dormant;
	size_t n_dormant, cap_dormant;
	size_t n_chains, n_rules;
	struct ir_ruleset *nosets;	/* what the raise looks sets up in: none */
};

/* The family of a message we keep (0: none), and whether it is as new as
 * the generation the read started at. */
static uint8_t msg_family(struct hrd *r, const struct nlmsghdr *nlh)
{
	const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);

	if (ntohs(g->res_id) != r->res_id)
		r->stale = true;
	switch (g->nfgen_family) {
	case NFPROTO_INET: return HOSTFW_INET;
	case NFPROTO_IPV4: return HOSTFW_IP;
	case NFPROTO_IPV6: return HOSTFW_IP6;
	}
	return 0;
}

static bool is_dormant(const struct hrd *r, uint8_t family, const char *table)
{
	for (size_t i = 0; i < r->n_dormant; i++)
		if (r->dormant[i].family == family && !strcmp(r->dormant[i].name, table))
			return true;
	return false;
}

static bool skipped_table(const struct hrd *r, uint8_t family, const char *table)
{
	return (family == HOSTFW_INET && r->own && !strcmp(table, r->own)) ||
	       is_dormant(r, family, table);
}

static struct nlmsghdr *dump_req(struct hrd *r, char *buf, uint16_t type)
{
	return nftnl_nlmsg_build_hdr(buf, type, NFPROTO_UNSPEC, NLM_F_DUMP,
				     bnft_sock_next_seq(r->s));
}

static int table_cb(const struct nlmsghdr *nlh, void *data)
{
	struct hrd *r = data;
	struct nftnl_table *t = nftnl_table_alloc();
	uint8_t family = msg_family(r, nlh);
	const char *name;

	if (!family || nftnl_table_nlmsg_parse(nlh, t) < 0 ||
	    !(name = nftnl_table_get_str(t, NFTNL_TABLE_NAME)) ||
	    !nftnl_table_is_set(t, NFTNL_TABLE_FLAGS) ||
	    !(nftnl_table_get_u32(t, NFTNL_TABLE_FLAGS) & NFT_TABLE_F_DORMANT))
		goto out;
	/* Past the bound a dormant table counts as awake: a warning too many,
	 * never one too few. */
	if (r->n_dormant >= HOSTFW_MAX_CHAINS) {
		r->h->truncated = true;
		goto out;
	}
	xgrow((void **)&r->dormant, &r->cap_dormant, r->n_dormant, sizeof(*r->dormant));
	r->dormant[r->n_dormant++] = (struct dormant){ family, xstrdup(name) };
out:
	nftnl_table_free(t);
	return MNL_CB_OK;
}

static enum ir_hook chain_hook(const struct nftnl_chain *c)
{
	if (!nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM))
		return IR_HOOK_NONE;
	switch (nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM)) {
	case NF_INET_LOCAL_IN: return IR_HOOK_INPUT;
	case NF_INET_LOCAL_OUT: return IR_HOOK_OUTPUT;
	}
	return IR_HOOK_NONE;
}

static int chain_cb(const struct nlmsghdr *nlh, void *data)
{
	struct hrd *r = data;
	struct nftnl_chain *c = nftnl_chain_alloc();
	uint8_t family = msg_family(r, nlh);
	const char *table, *name, *type;
	struct ir_chain *ch;
	enum ir_hook hook;

	if (!family || nftnl_chain_nlmsg_parse(nlh, c) < 0)
		goto out;
	table = nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE);
	name = nftnl_chain_get_str(c, NFTNL_CHAIN_NAME);
	hook = chain_hook(c);
	if (!table || !name || hook == IR_HOOK_NONE || skipped_table(r, family, table))
		goto out;
	if (r->n_chains >= HOSTFW_MAX_CHAINS) {
		r->h->truncated = true;
		goto out;
	}
	r->n_chains++;
	ch = ir_chain_add(hostfw_table_get(r->h, family, table)->rs, name, hook,
			  nftnl_chain_is_set(c, NFTNL_CHAIN_PRIO) ?
			  nftnl_chain_get_s32(c, NFTNL_CHAIN_PRIO) : 0);
	ch->policy_drop = nftnl_chain_is_set(c, NFTNL_CHAIN_POLICY) &&
			  nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY) == NF_DROP;
	type = nftnl_chain_get_str(c, NFTNL_CHAIN_TYPE);
	if (type && strcmp(type, "filter"))
		ch->type = xstrdup(type);
out:
	nftnl_chain_free(c);
	return MNL_CB_OK;
}

static struct hostfw_table *find_table(struct hostfw *h, uint8_t family, const char *name)
{
	for (size_t i = 0; i < h->n; i++)
		if (h->v[i].family == family && !strcmp(h->v[i].rs->table, name))
			return &h->v[i];
	return NULL;
}

/* Only whether a rule has unknown parts counts, not all of their text. */
static void cut_unknown(struct ir_rule *ir)
{
	if (ir->unknown && strlen(ir->unknown) > HOSTFW_UNKNOWN_MAX)
		strcpy(ir->unknown + HOSTFW_UNKNOWN_MAX - 3, "...");
}

static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct hrd *r = data;
	struct nftnl_rule *nr = nftnl_rule_alloc();
	struct bnft_raise_ctx rc = { .rs = r->nosets, .foreign = true };
	uint8_t family = msg_family(r, nlh);
	const char *table, *chain;
	struct hostfw_table *t;
	struct ir_chain *ch;
	struct ir_rule *ir;

	if (!family || nftnl_rule_nlmsg_parse(nlh, nr) < 0)
		goto out;
	table = nftnl_rule_get_str(nr, NFTNL_RULE_TABLE);
	chain = nftnl_rule_get_str(nr, NFTNL_RULE_CHAIN);
	/* Rules of regular chains, and of tables we do not keep, pass by. */
	if (!table || !chain || !(t = find_table(r->h, family, table)) ||
	    !(ch = ir_chain_find(t->rs, chain)))
		goto out;
	if (r->n_rules >= HOSTFW_MAX_RULES) {
		t->truncated = true;
		goto out;
	}
	r->n_rules++;
	ir = ir_rule_add(ch, NULL, NULL);
	ir->counter = false;
	bnft_rule_raise(&rc, nr, ir);
	cut_unknown(ir);
out:
	nftnl_rule_free(nr);
	return MNL_CB_OK;
}

static int dump(struct hrd *r, uint16_t type, mnl_cb_t cb)
{
	char buf[256];	/* nlmsghdr + nfgenmsg */

	return bnft_sock_talk(r->s, dump_req(r, buf, type), cb, r);
}

static void hrd_reset(struct hrd *r)
{
	for (size_t i = 0; i < r->n_dormant; i++)
		free(r->dormant[i].name);
	free(r->dormant);
	r->dormant = NULL;
	r->n_dormant = r->cap_dormant = r->n_chains = r->n_rules = 0;
	hostfw_free(r->h);
}

/* One consistent read, or -EAGAIN when the generation moved under it. */
static int read_once(struct hrd *r)
{
	uint32_t before, after;
	int ret = bnft_sock_generation(r->s, &before);

	if (ret < 0)
		return ret;
	r->res_id = (uint16_t)(before & 0xffff);
	r->stale = false;
	ret = dump(r, NFT_MSG_GETTABLE, table_cb);
	if (!ret)
		ret = dump(r, NFT_MSG_GETCHAIN, chain_cb);
	if (!ret)
		ret = dump(r, NFT_MSG_GETRULE, rule_cb);
	if (ret == -EINTR)
		return -EAGAIN;
	if (ret < 0)
		return ret;
	ret = bnft_sock_generation(r->s, &after);
	if (ret < 0)
		return ret;
	return r->stale || after != before ? -EAGAIN : 0;
}

int bnft_read_host(struct bnft_sock *s, const char *own_table, struct hostfw *out)
{
	struct hrd r = { .s = s, .own = own_table, .h = out };
	int ret = -EAGAIN;

	memset(out, 0, sizeof(*out));
	r.nosets = ir_ruleset_new("");
	for (int i = 0; i < BACKEND_RETRIES && ret == -EAGAIN; i++) {
		hrd_reset(&r);
		ret = read_once(&r);
	}
	if (ret < 0)
		hostfw_free(out);
	for (size_t i = 0; i < r.n_dormant; i++)
		free(r.dormant[i].name);
	free(r.dormant);
	ir_ruleset_free(r.nosets);
	return ret;
}
