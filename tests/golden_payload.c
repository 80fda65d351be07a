/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Test helper for golden_render's nft-payload target: the batch apply
 * would send for a ruleset, built by the backend's own batch builder (no
 * socket), every message parsed back from the batch bytes and printed with
 * libnftnl's printers, as nftables pins bytecode in tests/py *.payload. A
 * mistake mirrored in lowering and raising still changes these bytes. */
#include "golden_payload.h"
#include "backend_nft_batch.h"
#include "ntpwall/util.h"

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* One table, chain, set or rule as text: a rule of ntpwall's has a few
 * dozen expressions of under 200 characters each. (Elements are printed
 * one at a time.) */
#define TEXT_MAX (64u << 10)

static const char *msg_name(uint16_t type)
{
	switch (type & 0xff) {
	case NFT_MSG_NEWTABLE: return "newtable";
	case NFT_MSG_DELTABLE: return "deltable";
	case NFT_MSG_NEWSET: return "newset";
	case NFT_MSG_NEWSETELEM: return "newsetelem";
	case NFT_MSG_DELSETELEM: return "delsetelem";
	case NFT_MSG_NEWCHAIN: return "newchain";
	case NFT_MSG_NEWRULE: return "newrule";
	}
	return "?";
}

static void print_flags(uint16_t flags, FILE *out)
{
	static const struct { uint16_t bit; const char *name; } names[] = {
		{ NLM_F_ACK, "ack" }, { NLM_F_CREATE, "create" }, { NLM_F_EXCL, "excl" },
		{ NLM_F_APPEND, "append" }, { NLM_F_REPLACE, "replace" },
	};
	const char *sep = "";

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (flags & names[i].bit) {
			fprintf(out, "%s%s", sep, names[i].name);
			sep = ",";
		}
	}
	fputc('\n', out);
}

/* libnftnl's set printer leaves out what sizes and binds the set. */
static void print_set(struct nlmsghdr *nlh, char *text, FILE *out)
{
	static const struct { uint16_t attr; const char *name; } more[] = {
		{ NFTNL_SET_KEY_LEN, "key_len" }, { NFTNL_SET_KEY_TYPE, "key_type" },
		{ NFTNL_SET_ID, "id" },
	};
	struct nftnl_set *s = nftnl_set_alloc();

	int ret = -1;

	if (nftnl_set_nlmsg_parse(nlh, s) == 0)
		ret = nftnl_set_snprintf(text, TEXT_MAX, s, NFTNL_OUTPUT_DEFAULT, 0);
	if (ret >= 0 && (unsigned)ret < TEXT_MAX) {
		fputs(text, out);
		for (size_t i = 0; i < sizeof(more) / sizeof(more[0]); i++)
			if (nftnl_set_is_set(s, more[i].attr))
				fprintf(out, " %s %u", more[i].name,
					nftnl_set_get_u32(s, more[i].attr));
	} else {
		fputs("(does not print)", out);
	}
	fputc('\n', out);
	nftnl_set_free(s);
}

/* libnftnl 1.2.4 numbers the element nests it builds 1, 2, 3... but its
 * parser takes only NFTA_LIST_ELEM (1); the kernel ignores the type
 * (nla_for_each_nested). Renumber a copy so that it parses. */
static struct nlmsghdr *elems_copy(const struct nlmsghdr *nlh)
{
	struct nlmsghdr *c = xmalloc(nlh->nlmsg_len);
	struct nlattr *list, *el;

	memcpy(c, nlh, nlh->nlmsg_len);
	mnl_attr_for_each(list, c, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(list) != NFTA_SET_ELEM_LIST_ELEMENTS)
			continue;
		mnl_attr_for_each_nested(el, list)
			el->nla_type = (uint16_t)((el->nla_type & ~NLA_TYPE_MASK) | NFTA_LIST_ELEM);
	}
	return c;
}

static int print_elem(struct nftnl_set_elem *e, void *data)
{
	FILE *out = data;
	char text[1024];	/* a key, flags and a comment of at most 128 bytes, escaped */

	if (nftnl_set_elem_snprintf(text, sizeof(text), e, NFTNL_OUTPUT_DEFAULT, 0) < 0)
		return -1;
	/* The printer stops at the flags: add the element timeout it omits. */
	fprintf(out, "\t%s", text);
	if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_TIMEOUT))
		fprintf(out, " timeout %llums",
			(unsigned long long)nftnl_set_elem_get_u64(e, NFTNL_SET_ELEM_TIMEOUT));
	fputc('\n', out);
	return 0;
}

/* The set the elements go into, then one line per element. */
static void print_elems(const struct nlmsghdr *nlh, FILE *out)
{
	struct nlmsghdr *c = elems_copy(nlh);
	struct nftnl_set *s = nftnl_set_alloc();

	if (nftnl_set_elems_nlmsg_parse(c, s) == 0) {
		fprintf(out, "%s %s", nftnl_set_get_str(s, NFTNL_SET_NAME),
			nftnl_set_get_str(s, NFTNL_SET_TABLE));
		if (nftnl_set_is_set(s, NFTNL_SET_ID))
			fprintf(out, " id %u", nftnl_set_get_u32(s, NFTNL_SET_ID));
		fputc('\n', out);
		if (nftnl_set_elem_foreach(s, print_elem, out) < 0)
			fputs("(an element does not print)\n", out);
	} else {
		fputs("(does not print)\n", out);
	}
	nftnl_set_free(s);
	free(c);
}

/* The rule printer names the set of a lookup or dynset but leaves out the
 * id it is bound by within the batch, which is what binds an anonymous
 * set (all named "__set%d"): one line per binding, in expression order. */
static int print_binding(struct nftnl_expr *e, void *data)
{
	const char *kind = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
	uint16_t name = NFTNL_EXPR_LOOKUP_SET, id = NFTNL_EXPR_LOOKUP_SET_ID;

	if (!strcmp(kind, "dynset")) {
		name = NFTNL_EXPR_DYNSET_SET_NAME;
		id = NFTNL_EXPR_DYNSET_SET_ID;
	} else if (strcmp(kind, "lookup")) {
		return 0;
	}
	if (nftnl_expr_is_set(e, id))
		fprintf(data, "  %s set %s id %u\n", kind, nftnl_expr_get_str(e, name),
			nftnl_expr_get_u32(e, id));
	return 0;
}

/* ret bytes of text from a libnftnl printer, or a line that fails the
 * comparison when it could not print. */
static bool print_text(const char *text, int ret, FILE *out)
{
	if (ret < 0 || (unsigned)ret >= TEXT_MAX) {
		fputs("(does not print)\n", out);
		return false;
	}
	fprintf(out, "%s%s", text, ret && text[ret - 1] == '\n' ? "" : "\n");
	return true;
}

static void print_rule(struct nlmsghdr *nlh, char *text, FILE *out)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	int ret = -1;

	if (nftnl_rule_nlmsg_parse(nlh, r) == 0)
		ret = nftnl_rule_snprintf(text, TEXT_MAX, r, NFTNL_OUTPUT_DEFAULT, 0);
	if (print_text(text, ret, out))
		(void)nftnl_expr_foreach(r, print_binding, out);
	nftnl_rule_free(r);
}

/* The object in message nlh as libnftnl prints it. */
static void print_object(const struct nlmsghdr *nlh, char *text, FILE *out)
{
	uint16_t type = nlh->nlmsg_type & 0xff;
	struct nlmsghdr *h = (struct nlmsghdr *)nlh;	/* libnftnl's parsers take non-const */
	int ret = -1;

	if (type == NFT_MSG_NEWSET) {
		print_set(h, text, out);
	} else if (type == NFT_MSG_NEWSETELEM || type == NFT_MSG_DELSETELEM) {
		print_elems(nlh, out);
	} else if (type == NFT_MSG_NEWRULE) {
		print_rule(h, text, out);
	} else if (type == NFT_MSG_NEWTABLE || type == NFT_MSG_DELTABLE) {
		struct nftnl_table *t = nftnl_table_alloc();

		if (nftnl_table_nlmsg_parse(h, t) == 0)
			ret = nftnl_table_snprintf(text, TEXT_MAX, t, NFTNL_OUTPUT_DEFAULT, 0);
		print_text(text, ret, out);
		nftnl_table_free(t);
	} else if (type == NFT_MSG_NEWCHAIN) {
		struct nftnl_chain *c = nftnl_chain_alloc();

		if (nftnl_chain_nlmsg_parse(h, c) == 0)
			ret = nftnl_chain_snprintf(text, TEXT_MAX, c, NFTNL_OUTPUT_DEFAULT, 0);
		print_text(text, ret, out);
		nftnl_chain_free(c);
	} else {
		fputs("(unexpected message)\n", out);
	}
}

int golden_payload(const struct ir_ruleset *rs, FILE *out)
{
	uint32_t seq = 1;
	struct bnft_tx tx;
	char *text = xmalloc(TEXT_MAX);
	int ret = bnft_tx_build(&tx, &seq, rs, rs->table, NULL, NULL);

	/* Message 0 is the batch's BEGIN: nothing of the ruleset in it. */
	for (size_t i = 1; ret == 0 && i < tx.n; i++) {
		const struct nlmsghdr *nlh = tx.msgs[i].nlh;

		fprintf(out, "# %s ", msg_name(nlh->nlmsg_type));
		print_flags(nlh->nlmsg_flags, out);
		print_object(nlh, text, out);
	}
	bnft_tx_free(&tx);
	free(text);
	return ret;
}
