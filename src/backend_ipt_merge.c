/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The families of a raised ruleset merged into one, as the rule model has
 * it: a rule in both families' chains is one rule (their longest common
 * subsequence, counters added), a rule in one only gets its family match
 * back, and between two common rules those of IPv4 come first (the order
 * compile gives an iptables policy). Then the ruleset is laid out again and
 * compared with the kernel's chains entry by entry; and apply's first
 * check, that a ruleset read back after apply would equal itself. */
#include "backend_ipt_int.h"
#include "ntpwall/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Past this many cells the merge is greedy (a table edited by hand). */
#define LCS_MAX_CELLS (4u << 20)

/* The family match goes after the interface, protocol and ports. */
static void add_family(struct ir_rule *r, uint32_t nfproto)
{
	size_t pos = 0, n;
	struct ir_match m;

	while (pos < r->n_matches && (r->matches[pos].type == IR_MATCH_IIFNAME ||
				      r->matches[pos].type == IR_MATCH_OIFNAME ||
				      r->matches[pos].type == IR_MATCH_L4PROTO ||
				      r->matches[pos].type == IR_MATCH_SPORT ||
				      r->matches[pos].type == IR_MATCH_DPORT))
		pos++;
	ir_rule_match_num(r, IR_MATCH_NFPROTO, nfproto);
	n = r->n_matches;
	m = r->matches[n - 1];
	memmove(&r->matches[pos + 1], &r->matches[pos], (n - 1 - pos) * sizeof(m));
	r->matches[pos] = m;
}

/* Move r to the end of c (r is left empty). */
static void move_rule(struct ir_chain *c, struct ir_rule *r, uint32_t nfproto)
{
	if (nfproto)
		add_family(r, nfproto);
	xgrow((void **)&c->rules, &c->cap_rules, c->n_rules, sizeof(*c->rules));
	c->rules[c->n_rules++] = *r;
	memset(r, 0, sizeof(*r));
}

static void merge_chain(struct ir_chain *to, struct ir_chain *a, struct ir_chain *b)
{
	size_t na = a ? a->n_rules : 0, nb = b ? b->n_rules : 0, i = 0, j = 0;
	uint32_t *L = NULL;

#define AT(i, j) L[(i) * (nb + 1) + (j)]
	if (na && nb && (na + 1) * (nb + 1) <= LCS_MAX_CELLS) {
		L = xcalloc((na + 1) * (nb + 1), sizeof(*L));
		for (size_t p = na; p-- > 0;)
			for (size_t q = nb; q-- > 0;)
				AT(p, q) = ir_rule_equal(&a->rules[p], &b->rules[q]) ?
					   AT(p + 1, q + 1) + 1 :
					   AT(p + 1, q) > AT(p, q + 1) ? AT(p + 1, q) : AT(p, q + 1);
	}
	while (i < na || j < nb) {
		if (L && i < na && j < nb && ir_rule_equal(&a->rules[i], &b->rules[j]) &&
		    AT(i, j) == AT(i + 1, j + 1) + 1) {
			a->rules[i].packets += b->rules[j].packets;
			a->rules[i].bytes += b->rules[j].bytes;
			move_rule(to, &a->rules[i++], 0);
			j++;
		} else if (i < na && (j == nb || !L || AT(i + 1, j) == AT(i, j))) {
			move_rule(to, &a->rules[i++], IR_NFPROTO_IPV4);
		} else {
			move_rule(to, &b->rules[j++], IR_NFPROTO_IPV6);
		}
	}
#undef AT
	free(L);
}

static bool layout_equal(const struct bipt_layout *live, const struct bipt_layout *want)
{
	const struct bipt_fam *f = &bipt_fams[live->fam];
	const struct bipt_chain none = { .name = "" };

	if (live->n != want->n)
		return false;
	for (size_t i = 0; i < live->n; i++) {
		const struct bipt_chain *w = bipt_layout_find(want, live->chains[i].name);

		if (!w || !bipt_chain_equal(f, &live->chains[i], w))
			return false;
	}
	for (int pass = 0; pass < 2; pass++) {
		const struct bipt_layout *x = pass ? want : live, *y = pass ? live : want;

		for (size_t i = 0; i < x->n_jumps; i++) {
			const struct bipt_chain *c = &x->jumps[i], *o = &none;
			struct bipt_chain tmp = { 0 };

			for (size_t k = 0; k < y->n_jumps; k++)
				if (!strcmp(y->jumps[k].name, c->name))
					o = &y->jumps[k];
			if (o == &none) {
				snprintf(tmp.name, sizeof(tmp.name), "%s", c->name);
				o = &tmp;
			}
			if (!bipt_chain_equal(f, c, o))
				return false;
		}
	}
	return true;
}

/* Lay rs out again and compare with what the kernel has. */
static void verify(const struct bipt_all *live, const struct ir_ruleset *rs, char **why)
{
	struct bipt_all want;
	struct diags quiet;

	diag_init(&quiet, 0);
	if (bipt_layout_all(rs, &want, &quiet) < 0) {
		if (!*why)
			*why = xasprintf("read back, it does not lay out again: %s",
					 quiet.n ? quiet.v[0].msg : "?");
		diag_free(&quiet);
		return;
	}
	for (int f = 0; f < BIPT_NFAM; f++) {
		for (int t = 0; t < BIPT_NTAB; t++) {
			if (bipt_layout_encode(&want.t[f][t], &quiet) < 0 ||
			    !layout_equal(&live->t[f][t], &want.t[f][t])) {
				if (!*why)
					*why = xasprintf("%s table %s: ntpwall's chains or jumps "
							 "differ from what it makes (edited by "
							 "hand?)", bipt_fams[f].tool,
							 bipt_table_names[t]);
				goto out;
			}
		}
	}
out:
	bipt_all_free(&want);
	diag_free(&quiet);
}

/* A rule that never equals a wanted one, saying why. */
static void mark(struct ir_ruleset *rs, const char *why)
{
	struct ir_chain *c = rs->n_chains ? &rs->chains[0] : ir_chain_add(rs, "input",
									    IR_HOOK_INPUT, 0);
	struct ir_rule *r = ir_rule_add(c, NULL, NULL);

	r->unknown = xasprintf("%s", why);
}

/* The families merged into one sorted ruleset; *why gets the first
 * reason the layout is not ntpwall's. -ENOENT without a chain. */
static int raise_merged(const char *table, const struct bipt_all *live, struct ir_ruleset **out,
			char **why)
{
	struct ir_ruleset *rs, *fam[BIPT_NFAM];
	bool any = false;

	*out = NULL;
	for (int f = 0; f < BIPT_NFAM; f++)
		for (int t = 0; t < BIPT_NTAB; t++)
			any |= !bipt_layout_empty(&live->t[f][t]);
	if (!any)
		return -ENOENT;
	rs = ir_ruleset_new(table);
	for (int f = 0; f < BIPT_NFAM; f++) {
		fam[f] = ir_ruleset_new(table);
		for (int t = 0; t < BIPT_NTAB; t++)
			bipt_raise_layout(table, &live->t[f][t], fam[f], rs, why);
	}
	for (int f = 0; f < BIPT_NFAM; f++) {
		for (size_t i = 0; i < fam[f]->n_chains; i++) {
			const struct ir_chain *c = &fam[f]->chains[i];
			struct ir_chain *to;

			if (ir_chain_find(rs, c->name))
				continue;
			to = ir_chain_add(rs, c->name, c->hook, c->priority);
			merge_chain(to, ir_chain_find(fam[BIPT_V4], c->name),
				    ir_chain_find(fam[BIPT_V6], c->name));
		}
	}
	for (int f = 0; f < BIPT_NFAM; f++)
		ir_ruleset_free(fam[f]);
	ir_ruleset_sort(rs);
	*out = rs;
	return 0;
}

int bipt_raise(const char *table, const struct bipt_all *live, struct ir_ruleset **out)
{
	char *why = NULL;
	int ret = raise_merged(table, live, out, &why);

	if (!ret)
		verify(live, *out, &why);
	if (!ret && why)
		mark(*out, why);
	free(why);
	return ret;
}

/* The first thing in which got differs from want, for a message. */
static char *first_difference(const struct ir_ruleset *want, const struct ir_ruleset *got)
{
	for (size_t i = 0; i < want->n_chains; i++) {
		const struct ir_chain *w = &want->chains[i], *g = ir_chain_find(got, w->name);

		for (size_t j = 0; g && j < w->n_rules; j++)
			if (j >= g->n_rules || !ir_rule_equal(&w->rules[j], &g->rules[j]))
				return xasprintf("chain %s rule %zu (%s) would read back as %s", w->name,
						 j + 1, w->rules[j].comment ? w->rules[j].comment : "-",
						 j >= g->n_rules ? "nothing" :
						 g->rules[j].unknown ? g->rules[j].unknown :
						 "another rule");
		if (!g || g->n_rules != w->n_rules)
			return xasprintf("chain %s would read back with other rules", w->name);
	}
	for (size_t i = 0; i < want->n_sets; i++) {
		const struct ir_set *g = ir_set_find(got, want->sets[i].name);

		if (!g || !ir_set_equal(&want->sets[i], g))
			return xasprintf("set %s would read back otherwise", want->sets[i].name);
	}
	return xstrdup("it would read back otherwise");
}

/* The rules of c as a read-back would have them: each entry decoded
 * into its rule afresh (the fields the layout gave it dropped, the entry
 * kept), as a copy read from the kernel would be. */
static void decode_chain(const struct bipt_fam *f, struct bipt_chain *c)
{
	for (size_t i = 0; i < c->n; i++) {
		struct bipt_rule *r = &c->rules[i];
		unsigned char *entry = r->entry;
		size_t len = r->entry_len;

		free(r->unknown);
		memset(r, 0, sizeof(*r));
		r->entry = entry;
		r->entry_len = len;
		bipt_rule_decode(f, r);
	}
}

/* The layout is encoded, then decoded in place: from then on it is what
 * reading it back from the kernel would give (entries are kept as they
 * are, so what apply commits is what was checked). The check needs no
 * verify() of the read-back: a raised ruleset equal to rs lays out as rs
 * did, which is this layout. */
int bipt_check_roundtrip(const struct ir_ruleset *rs, struct bipt_all *out, struct diags *d)
{
	struct bipt_all all;
	struct ir_ruleset *got = NULL;
	char *why = NULL;
	int ret = bipt_layout_all(rs, &all, d);

	if (ret < 0)
		return ret;
	for (int f = 0; f < BIPT_NFAM && !ret; f++) {
		for (int t = 0; t < BIPT_NTAB && !ret; t++) {
			struct bipt_layout *w = &all.t[f][t];

			ret = bipt_layout_encode(w, d);
			for (size_t i = 0; !ret && i < w->n; i++)
				decode_chain(&bipt_fams[f], &w->chains[i]);
			for (size_t i = 0; !ret && i < w->n_jumps; i++)
				decode_chain(&bipt_fams[f], &w->jumps[i]);
		}
	}
	if (!ret && raise_merged(rs->table, &all, &got, &why) < 0)
		ret = diag_add(d, NULL, DIAG_ERROR, NW501_KERNEL, "iptables: table %s has no rule "
			       "for iptables to hold", rs->table);
	if (!ret && why)
		mark(got, why);
	if (!ret && !ir_ruleset_equal(rs, got)) {
		char *first = first_difference(rs, got);

		ret = diag_add(d, NULL, DIAG_ERROR, NW501_KERNEL, "iptables cannot hold table %s "
			       "exactly: %s", rs->table, first);
		free(first);
	}
	free(why);
	ir_ruleset_free(got);
	if (!ret && out)
		*out = all;
	else
		bipt_all_free(&all);
	return ret;
}
