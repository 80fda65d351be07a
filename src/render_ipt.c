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

static void put_table(FILE *f, const struct bipt_layout *l)
{
	const struct bipt_fam *fam = &bipt_fams[l->fam];

	if (bipt_layout_empty(l))
		return;
	fprintf(f, "*%s\n", bipt_table_names[l->table]);
	for (size_t i = 0; i < l->n; i++)
		fprintf(f, ":%s - [0:0]\n", l->chains[i].name);
	/* First in the built-in chain, before the host's own rules. */
	for (size_t i = 0; i < l->n_jumps; i++) {
		for (size_t j = 0; j < l->jumps[i].n; j++) {
			char head[64];

			snprintf(head, sizeof(head), "-I %s %zu", l->jumps[i].name, j + 1);
			bipt_rule_print(f, fam, head, &l->jumps[i].rules[j]);
		}
	}
	for (size_t i = 0; i < l->n; i++) {
		char head[64];

		snprintf(head, sizeof(head), "-A %s", l->chains[i].name);
		for (size_t j = 0; j < l->chains[i].n; j++)
			bipt_rule_print(f, fam, head, &l->chains[i].rules[j]);
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
	put_table(f, &all.t[fam][BIPT_RAW]);
	put_table(f, &all.t[fam][BIPT_FILTER]);
	bipt_all_free(&all);
	return ferror(f) ? -EIO : 0;
}
