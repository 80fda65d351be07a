/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Private to the compiler (compile*.c): the context shared by the set
 * builder (compile.c) and the chain builders (compile_rules.c). */
#ifndef NTPWALL_COMPILE_INT_H
#define NTPWALL_COMPILE_INT_H

#include "ntpwall/compile.h"

/* Index of an address family in the per-family arrays below. */
enum { CF_V4, CF_V6, CF_N };

struct compile_ctx {
	const struct policy *p;
	const struct resolved *r;
	struct ir_ruleset *rs;
	struct ir_chain *in, *out, *raw_pre, *raw_out;
	/* Per family, the set's name; NULL when the policy needs no such set.
	 * Names, not pointers: ir_set_add() may move the set array. */
	const char *upstreams[CF_N], *peers[CF_N], *nts[CF_N];
	const char *clients[CF_N], *ignore[CF_N], *query[CF_N], *rl[CF_N];
	bool fam[CF_N];		/* family filtered by the policy */
	const char *ifname;	/* interface the rules being built are for; NULL: any */
	bool if_suffix;		/* several interfaces: comments get "@ifname" */
};

/* Builds every chain of cx->rs from the sets already in it. */
void compile_chains(struct compile_ctx *cx);
/* Puts a rate-limited log rule before each drop the policy logs
 * (compile_log.c). */
void compile_log_rules(struct compile_ctx *cx);

#endif
