/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The rule model as iptables-restore input for one family (legacy
 * iptables/ip6tables, --noflush): the very chains the iptables backend
 * makes (backend_ipt_layout.c lays them out, backend_ipt_text.c prints each
 * rule), so that loading this text and `ntpwall apply` give the same
 * tables byte for byte. */
#include "backend_ipt_int.h"
#include "ntpwall/render.h"
#include "ntpwall/util.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

/* A rule's head, with iptables-save -c's "[packets:bytes]" before it; a
 * rule read back with parts ntpwall does not write says so on a comment
 * line first (what follows it is only what ntpwall could read). */
static void counter_head(char *buf, size_t len, bool counters, const struct bipt_rule *r,
			 const char *op, const char *chain)
{
	if (counters)
		snprintf(buf, len, "[%llu:%llu] %s %s", (unsigned long long)r->packets,
			 (unsigned long long)r->bytes, op, chain);
	else
		snprintf(buf, len, "%s %s", op, chain);
}

static void put_rule(FILE *f, const struct bipt_fam *fam, const char *head,
		     const struct bipt_rule *r)
{
	if (r->unknown)
		fprintf(f, "# not as ntpwall writes it: %s\n", r->unknown);
	bipt_rule_print(f, fam, head, r);
}

void bipt_layout_print(FILE *f, const struct bipt_layout *l, bool counters)
{
	const struct bipt_fam *fam = &bipt_fams[l->fam];
	/* "[<u64>:<u64>] -I <chain> <n>" */
	char head[2 * 21 + 8 + BIPT_NAME_LEN + 24];

	if (bipt_layout_empty(l))
		return;
	fprintf(f, "*%s\n", bipt_table_names[l->table]);
	for (size_t i = 0; i < l->n; i++)
		fprintf(f, ":%s - [0:0]\n", l->chains[i].name);
	/* First in the built-in chain, before the host's own rules. */
	for (size_t i = 0; i < l->n_jumps; i++) {
		for (size_t j = 0; j < l->jumps[i].n; j++) {
			const struct bipt_rule *r = &l->jumps[i].rules[j];

			counter_head(head, sizeof(head), counters, r, "-I", l->jumps[i].name);
			snprintf(head + strlen(head), sizeof(head) - strlen(head), " %zu", j + 1);
			put_rule(f, fam, head, r);
		}
	}
	for (size_t i = 0; i < l->n; i++) {
		for (size_t j = 0; j < l->chains[i].n; j++) {
			const struct bipt_rule *r = &l->chains[i].rules[j];

			counter_head(head, sizeof(head), counters, r, "-A", l->chains[i].name);
			put_rule(f, fam, head, r);
		}
	}
	fputs("COMMIT\n", f);
}

/* The policy path in a comment line: a newline in it must not start a
 * line of configuration. */
static void put_path_comment(FILE *f, const char *path)
{
	for (; *path; path++)
		fputc((unsigned char)*path < 0x20 || *path == 0x7f ? '?' : *path, f);
}

static void put_header(FILE *f, const struct ir_ruleset *rs, const char *tool,
		       const struct render_opts *o)
{
	if (o->policy) {
		fprintf(f, "# ntpwall: %s rules for %s from policy ", tool, rs->table);
		put_path_comment(f, o->policy->path);
		fprintf(f, " (hash %s)\n", o->policy->hash);
	}
	fprintf(f, "# Load with %s-legacy-restore --noflush: the ':' lines create ntpwall's\n"
		   "# chains (or flush them), the -I lines put the jumps first in the built-in\n"
		   "# chains; load it once, or delete the old jumps first (iptables-restore\n"
		   "# cannot add a rule only when it is missing; the iptables backend does).\n"
		   "# What the policy accepts is RETURN, not ACCEPT: the packet goes on to the\n"
		   "# host's own rules, so ntpwall only ever drops, as in its nft table. A rule\n"
		   "# over an address set goes through a chain holding one entry per address;\n"
		   "# after an accept the rules continue in a chain of their own.\n", tool);
}

int render_iptables(const struct ir_ruleset *rs, int family, const struct render_opts *o, FILE *f)
{
	enum bipt_family fam = family == AF_INET ? BIPT_V4 : BIPT_V6;
	struct diags quiet, *d = o->diags ? o->diags : &quiet;
	struct bipt_all all;
	int ret;

	/* iptables chain names hold 28 characters: <TABLE>-OUT must fit. */
	if (strlen(rs->table) + 4 > BIPT_CHAIN_MAX)
		return -ENAMETOOLONG;
	diag_init(&quiet, 0);
	ret = bipt_layout_all(rs, &all, d);
	diag_free(&quiet);
	if (ret < 0)
		return ret;
	put_header(f, rs, bipt_fams[fam].tool, o);
	bipt_layout_print(f, &all.t[fam][BIPT_RAW], false);
	bipt_layout_print(f, &all.t[fam][BIPT_FILTER], false);
	bipt_all_free(&all);
	return ferror(f) ? -EIO : 0;
}

/* Whether name is main or one of its sub-chains, which share its letter
 * ("<table>-I3", "<table>-Ih" for "<table>-IN": bipt_chain_ours). */
static bool in_group(const char *table, const char *name, const char *main)
{
	size_t n = strlen(table) + 1;

	return !strcmp(name, main) || (bipt_chain_ours(table, name) && name[n] == main[n]);
}

static int chain_in(const struct ir_ruleset *rs, const struct bipt_layout *l, const char *chain,
		    const char *comment, char *out, size_t len, char *main, size_t main_len)
{
	const char *m = NULL;

	for (size_t i = 0; i < l->n && !m; i++) {
		enum ir_hook hook;
		int prio;
		const char *ir = bipt_main_chain_ir(rs->table, l->table, l->chains[i].name, &hook,
						    &prio);

		if (ir && !strcmp(ir, chain))
			m = l->chains[i].name;
	}
	if (!m)
		return -ENOENT;
	if (main)
		snprintf(main, main_len, "%s", m);
	for (size_t i = 0; i < l->n && comment; i++) {
		const struct bipt_chain *c = &l->chains[i];

		if (!in_group(rs->table, c->name, m))
			continue;
		for (size_t j = 0; j < c->n; j++) {
			if (c->rules[j].has_comment && !strcmp(c->rules[j].comment, comment)) {
				snprintf(out, len, "%s", c->name);
				return 0;
			}
		}
	}
	if (comment)
		return -ENOENT;
	snprintf(out, len, "%s", m);
	return 0;
}

int render_iptables_chain(const struct ir_ruleset *rs, int family, const char *chain, size_t rule,
			  char *out, size_t len, char *main, size_t main_len)
{
	const struct ir_chain *c = ir_chain_find(rs, chain);
	const char *comment = NULL;
	struct diags quiet;
	struct bipt_all all;
	int ret;

	if (!c || (rule != SIZE_MAX && rule >= c->n_rules))
		return -ENOENT;
	if (rule != SIZE_MAX && !(comment = c->rules[rule].comment))
		return -ENOENT;
	diag_init(&quiet, 0);
	ret = bipt_layout_all(rs, &all, &quiet);
	diag_free(&quiet);
	if (ret < 0)
		return -EINVAL;
	ret = -ENOENT;
	for (int f = 0; f < BIPT_NFAM && ret; f++) {
		if (family && bipt_fams[f].af != family)
			continue;
		for (int t = 0; t < BIPT_NTAB && ret; t++)
			ret = chain_in(rs, &all.t[f][t], chain, comment, out, len, main, main_len);
	}
	bipt_all_free(&all);
	return ret;
}
