/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Private to the evaluator (explain*.c): the state of one walk and the
 * helpers the files share. */
#ifndef NTPWALL_EXPLAIN_INT_H
#define NTPWALL_EXPLAIN_INT_H

#include "ntpwall/explain.h"

/* The kernel's NF_IP_PRI_CONNTRACK: a notrack before it takes effect. */
#define IR_PRIO_CONNTRACK (-200)

enum explain_m {
	EXPLAIN_M_FAIL,
	EXPLAIN_M_HOLD,
	EXPLAIN_M_UNKNOWN,
};

/* Near misses collected in a walk, and shown of them. */
#define EXPLAIN_NEAR_MAX 16
#define EXPLAIN_NEAR_SHOWN 3

/* A rule one condition short: chain, index and the failing match. */
struct explain_near {
	const struct ir_chain *chain;
	size_t rule, match;
};

struct explain_walk {
	const struct ir_ruleset *rs;
	const struct explain_packet *pkt;
	uint32_t ct;		/* the packet's state here (notrack changes it) */
	bool over;		/* rate limits: over (true) or within */
	bool rate_seen;		/* a rate limit was consulted */
	struct explain_near *near;	/* NULL: not collected */
	size_t n_near;
	const struct ir_rule *unknown_rule;	/* what stopped the walk */
	const struct ir_chain *unknown_chain;
};

/* Base chains pkt meets in its direction, in order, into out (room for
 * rs->n_chains); returns how many. */
size_t explain_path(const struct ir_ruleset *rs, const struct explain_packet *pkt,
		    const struct ir_chain **out);
/* The element of s that holds a, or NULL. */
const struct ir_elem *explain_set_lookup(const struct ir_set *s, const struct addr *a);
enum explain_m explain_match(const struct explain_walk *w, const struct ir_match *m);
/* IR_NFPROTO_* of the packet's addresses. */
uint32_t explain_nfproto(const struct explain_packet *p);
/* An ingress chain is bound to the packet's interface. */
bool explain_on_device(const struct ir_chain *c, const struct explain_packet *p);

/* explain_text.c: r's reasons (the deciding rule's conditions, the near
 * misses of w) and, for an unknown, what was not understood. */
void explain_say_reasons(struct explain_result *r, const struct explain_walk *w);
void explain_say_unknown(struct explain_result *r, const struct explain_walk *w);
/* One match in words, with the packet's value, into a new string. */
char *explain_match_text(const struct explain_walk *w, const struct ir_match *m);

#endif
