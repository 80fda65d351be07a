/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A whole rule to nft expressions and back: the matches through the
 * per-type table (backend_nft_match.c), then counter, log, notrack and the
 * verdict, and the comment in the rule's userdata (NFTNL_UDATA_RULE_COMMENT)
 * so `nft list` shows it. What the raise cannot map is kept as text in
 * ir_rule.unknown, so a hand-made rule never reads back as ours. */
#include "backend_nft_int.h"
#include "ntpwall/util.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/expr.h>
#include <libnftnl/udata.h>
#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <string.h>

/* The family the rule's matches restrict it to (IR_NFPROTO_*), 0 for both. */
static uint32_t rule_family(const struct ir_rule *r)
{
	for (size_t i = 0; i < r->n_matches; i++)
		if (r->matches[i].type == IR_MATCH_NFPROTO && !r->matches[i].negate)
			return r->matches[i].u.num;
	return 0;
}

/* Port unreachable as nft lowers `reject` in inet: icmpx, which the kernel
 * answers in the packet's own family, or, in a rule of one family, that
 * family's ICMP code (nft then lists `reject with icmp port-unreachable`,
 * as render_nft writes it). The same packets either way; the same bytes
 * as nft's make `nft list` agree whichever way the table was loaded. */
static struct nftnl_expr *lower_reject(const struct ir_rule *r)
{
	struct nftnl_expr *e = nftnl_expr_alloc("reject");
	uint32_t type = NFT_REJECT_ICMP_UNREACH;
	uint8_t code;

	switch (rule_family(r)) {
	case IR_NFPROTO_IPV4:
		code = ICMP_PORT_UNREACH;
		break;
	case IR_NFPROTO_IPV6:
		code = ICMPV6_PORT_UNREACH;
		break;
	default:
		type = NFT_REJECT_ICMPX_UNREACH;
		code = NFT_REJECT_ICMPX_PORT_UNREACH;
		break;
	}
	nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE, type);
	nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE, code);
	return e;
}

static void lower_verdict(const struct ir_rule *r, struct nftnl_rule *nr)
{
	struct nftnl_expr *e;

	if (r->verdict == IR_VERDICT_REJECT) {
		nftnl_rule_add_expr(nr, lower_reject(r));
	} else if (r->verdict != IR_VERDICT_NONE) {
		static const int codes[] = {
			[IR_VERDICT_ACCEPT] = NF_ACCEPT, [IR_VERDICT_DROP] = NF_DROP,
			[IR_VERDICT_JUMP] = NFT_JUMP, [IR_VERDICT_GOTO] = NFT_GOTO,
		};

		e = nftnl_expr_alloc("immediate");
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)codes[r->verdict]);
		if (r->target)
			nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, r->target);
		nftnl_rule_add_expr(nr, e);
	}
}

static int lower_comment(const char *comment, struct nftnl_rule *nr)
{
	struct nftnl_udata_buf *ud;

	if (!comment)
		return 0;
	if (strlen(comment) > BNFT_COMMENT_MAX)
		return -ENAMETOOLONG;
	ud = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
	if (!nftnl_udata_put_strz(ud, NFTNL_UDATA_RULE_COMMENT, comment)) {
		nftnl_udata_buf_free(ud);
		return -ENAMETOOLONG;
	}
	nftnl_rule_set_data(nr, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(ud),
			    nftnl_udata_buf_len(ud));
	nftnl_udata_buf_free(ud);
	return 0;
}

int bnft_rule_lower(struct bnft_lower_ctx *c, const struct ir_rule *r, struct nftnl_rule *nr)
{
	int ret;

	c->n_anon = 0;
	for (size_t i = 0; i < r->n_matches; i++) {
		ret = bnft_match_lower(c, &r->matches[i], nr);
		if (ret < 0)
			return ret;
	}
	if (r->counter)
		nftnl_rule_add_expr(nr, nftnl_expr_alloc("counter"));
	if (r->log_prefix) {
		struct nftnl_expr *e = nftnl_expr_alloc("log");

		if (*r->log_prefix)
			nftnl_expr_set_str(e, NFTNL_EXPR_LOG_PREFIX, r->log_prefix);
		nftnl_rule_add_expr(nr, e);
	}
	if (r->notrack)
		nftnl_rule_add_expr(nr, nftnl_expr_alloc("notrack"));
	lower_verdict(r, nr);
	return lower_comment(r->comment, nr);
}

/* Port unreachable in either of lower_reject's forms, or in the other one
 * (icmpx in a rule of one family, as ntpwall sent it before lowering like
 * nft): an ICMP code is the same only when the rule cannot match the other
 * family, since the kernel sends the code as given. */
static bool is_port_reject(const struct nftnl_expr *e, const struct ir_rule *r)
{
	uint32_t type = nftnl_expr_get_u32(e, NFTNL_EXPR_REJECT_TYPE);
	uint8_t code = nftnl_expr_get_u8(e, NFTNL_EXPR_REJECT_CODE);

	if (type == NFT_REJECT_ICMPX_UNREACH)
		return code == NFT_REJECT_ICMPX_PORT_UNREACH;
	if (type != NFT_REJECT_ICMP_UNREACH)
		return false;
	switch (rule_family(r)) {
	case IR_NFPROTO_IPV4: return code == ICMP_PORT_UNREACH;
	case IR_NFPROTO_IPV6: return code == ICMPV6_PORT_UNREACH;
	default: return false;
	}
}

/* A log as ntpwall makes it: to the kernel log at the default level
 * (which the kernel dumps), no flags; nflog (a group) and another level
 * or flags send other text somewhere else. */
static bool is_plain_log(const struct nftnl_expr *e)
{
	return (!nftnl_expr_is_set(e, NFTNL_EXPR_LOG_LEVEL) ||
		nftnl_expr_get_u32(e, NFTNL_EXPR_LOG_LEVEL) == NFT_LOGLEVEL_WARNING) &&
	       !nftnl_expr_get_u32(e, NFTNL_EXPR_LOG_FLAGS) &&
	       !nftnl_expr_is_set(e, NFTNL_EXPR_LOG_GROUP) &&
	       !nftnl_expr_is_set(e, NFTNL_EXPR_LOG_SNAPLEN) &&
	       !nftnl_expr_is_set(e, NFTNL_EXPR_LOG_QTHRESHOLD);
}

/* A statement or verdict at cur; false if the expression is none. */
static bool raise_stmt(const struct bnft_raise_ctx *c, const struct nftnl_expr *e,
		       struct ir_rule *out)
{
	const char *k = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);

	if (!strcmp(k, "counter")) {
		out->counter = true;
		out->packets = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
		out->bytes = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_BYTES);
	} else if (!strcmp(k, "log") && !out->log_prefix && is_plain_log(e)) {
		const char *p = nftnl_expr_get_str(e, NFTNL_EXPR_LOG_PREFIX);

		out->log_prefix = xstrdup(p ? p : "");
	} else if (!strcmp(k, "notrack")) {
		out->notrack = true;
	} else if (!strcmp(k, "reject") && (c->foreign || is_port_reject(e, out))) {
		out->verdict = IR_VERDICT_REJECT;
	} else if (!strcmp(k, "immediate") &&
		   nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_DREG) == NFT_REG_VERDICT) {
		uint32_t v = nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_VERDICT);

		const char *chain = nftnl_expr_is_set(e, NFTNL_EXPR_IMM_CHAIN)
					    ? nftnl_expr_get_str(e, NFTNL_EXPR_IMM_CHAIN) : NULL;

		if (v == NF_ACCEPT)
			out->verdict = IR_VERDICT_ACCEPT;
		else if (v == NF_DROP)
			out->verdict = IR_VERDICT_DROP;
		else if ((v == (uint32_t)NFT_JUMP || v == (uint32_t)NFT_GOTO) && chain) {
			out->verdict = v == (uint32_t)NFT_JUMP ? IR_VERDICT_JUMP : IR_VERDICT_GOTO;
			out->target = xstrdup(chain);
		} else {
			return false;
		}
	} else {
		return false;
	}
	return true;
}

static void add_unknown(struct ir_rule *out, const struct nftnl_expr *e)
{
	char text[512];
	char *s;

	nftnl_expr_snprintf(text, sizeof(text), e, NFTNL_OUTPUT_DEFAULT, 0);
	s = xasprintf("%s[ %s %s ]", out->unknown ? out->unknown : "",
		      nftnl_expr_get_str(e, NFTNL_EXPR_NAME), text);
	free(out->unknown);
	out->unknown = s;
}

static int comment_cb(const struct nftnl_udata *attr, void *data)
{
	char **out = data;
	const char *v = nftnl_udata_get(attr);
	uint8_t len = nftnl_udata_len(attr);

	if (nftnl_udata_type(attr) == NFTNL_UDATA_RULE_COMMENT && len > 0 && !v[len - 1] &&
	    !*out)
		*out = xstrdup(v);
	return MNL_CB_OK;
}

static size_t raise_match(const struct bnft_raise_ctx *c, const struct bnft_cursor *cur,
			  struct ir_rule *out)
{
	struct ir_match m[BNFT_RAISE_MAX];
	size_t n, k = bnft_match_raise(c, cur, m, &n);

	for (size_t i = 0; i < n; i++)
		*ir_rule_add_match(out, m[i].type) = m[i];
	return k;
}

int bnft_rule_raise(const struct bnft_raise_ctx *c, const struct nftnl_rule *nr,
		    struct ir_rule *out)
{
	struct nftnl_expr_iter *it = nftnl_expr_iter_create(nr);
	struct bnft_cursor cur = { 0 };
	size_t cap = 0;
	bool stmts = false;
	struct nftnl_expr *e;
	const void *ud;
	uint32_t ud_len;

	while ((e = nftnl_expr_iter_next(it))) {
		xgrow((void **)&cur.e, &cap, cur.n, sizeof(*cur.e));
		cur.e[cur.n++] = e;
	}
	nftnl_expr_iter_destroy(it);
	while (cur.i < cur.n) {
		size_t k = stmts || out->verdict ? 0 : raise_match(c, &cur, out);

		if (k) {
			cur.i += k;
			continue;
		}
		/* Anything after a verdict, or a statement twice, is not ours. */
		if (out->verdict || !raise_stmt(c, bnft_at(&cur, 0), out))
			add_unknown(out, bnft_at(&cur, 0));
		stmts = true;
		cur.i++;
	}
	free(cur.e);
	out->handle = nftnl_rule_get_u64(nr, NFTNL_RULE_HANDLE);
	ud = nftnl_rule_get_data(nr, NFTNL_RULE_USERDATA, &ud_len);
	if (ud)
		nftnl_udata_parse(ud, ud_len, comment_cb, &out->comment);
	return 0;
}
