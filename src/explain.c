/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The evaluator: a described packet walked through the base chains of one
 * direction in the kernel's order, rule by rule, over the rule model. What
 * the rules say in words is explain_text.c; the defaults for what the
 * caller leaves open are explain_complete.c. */
#include "explain_int.h"
#include "ntpwall/util.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

/* The base chains pkt meets, in order: by hook along the path, then by
 * priority (lowest first, as the kernel runs them). */
size_t explain_path(const struct ir_ruleset *rs, const struct explain_packet *pkt,
		    const struct ir_chain **out)
{
	static const enum ir_hook in[] = { IR_HOOK_INGRESS, IR_HOOK_PREROUTING, IR_HOOK_INPUT };
	static const enum ir_hook outh[] = { IR_HOOK_OUTPUT, IR_HOOK_POSTROUTING };
	const enum ir_hook *hooks = pkt->dir == EXPLAIN_DIR_OUT ? outh : in;
	size_t n_hooks = pkt->dir == EXPLAIN_DIR_OUT ? ARRAY_SIZE(outh) : ARRAY_SIZE(in);
	size_t n = 0;

	for (size_t h = 0; h < n_hooks; h++) {
		size_t first = n;

		for (size_t i = 0; i < rs->n_chains; i++)
			if (rs->chains[i].hook == hooks[h])
				out[n++] = &rs->chains[i];
		/* Insertion sort: stable, so equal priorities keep their order. */
		for (size_t i = first + 1; i < n; i++)
			for (size_t j = i; j > first && out[j - 1]->priority > out[j]->priority; j--) {
				const struct ir_chain *t = out[j];

				out[j] = out[j - 1];
				out[j - 1] = t;
			}
	}
	return n;
}

static bool elem_has(const struct ir_set *s, const struct ir_elem *e, const struct addr *a)
{
	struct policy_prefix p = { .addr = e->addr, .len = e->prefix_len };

	if (e->addr.family != a->family)
		return false;
	if (!(s->flags & IR_SET_INTERVAL))
		return !addr_cmp(&e->addr, a);
	return policy_prefix_contains(&p, a);
}

const struct ir_elem *explain_set_lookup(const struct ir_set *s, const struct addr *a)
{
	for (size_t i = 0; i < s->n_elems; i++)
		if (elem_has(s, &s->elems[i], a))
			return &s->elems[i];
	return NULL;
}

static bool iface_is(const char *pkt_if, const char *name)
{
	return !strncmp(pkt_if, name, sizeof(((struct ir_match *)0)->u.ifname));
}

/* One match against the packet as it is at this point of the path. */
enum explain_m explain_match(const struct explain_walk *w, const struct ir_match *m)
{
	const struct explain_packet *p = w->pkt;
	const struct addr *a;
	const struct ir_set *s;
	bool held;

	switch (m->type) {
	case IR_MATCH_IIFNAME:
		held = iface_is(p->dir == EXPLAIN_DIR_IN ? p->ifname : "", m->u.ifname);
		break;
	case IR_MATCH_OIFNAME:
		held = iface_is(p->dir == EXPLAIN_DIR_OUT ? p->ifname : "", m->u.ifname);
		break;
	case IR_MATCH_NFPROTO:
		held = m->u.num == explain_nfproto(p);
		break;
	case IR_MATCH_L4PROTO:
		held = m->u.num == IPPROTO_UDP;
		break;
	case IR_MATCH_SPORT:
		held = m->u.num == p->sport;
		break;
	case IR_MATCH_DPORT:
		held = m->u.num == p->dport;
		break;
	case IR_MATCH_SADDR:
	case IR_MATCH_DADDR: {
		struct policy_prefix pre = { .addr = m->u.prefix.addr, .len = m->u.prefix.len };

		a = m->type == IR_MATCH_SADDR ? &p->src : &p->dst;
		held = pre.addr.family == a->family && policy_prefix_contains(&pre, a);
		break;
	}
	case IR_MATCH_SADDR_SET:
	case IR_MATCH_DADDR_SET:
		s = ir_set_find(w->rs, m->u.set);
		if (!s)
			return EXPLAIN_M_UNKNOWN;
		a = m->type == IR_MATCH_SADDR_SET ? &p->src : &p->dst;
		held = explain_set_lookup(s, a) != NULL;
		break;
	case IR_MATCH_CT_STATE:
		held = (m->u.bits & w->ct) != 0;
		break;
	case IR_MATCH_NTP_MODE:
		held = (m->u.bits >> p->mode) & 1;
		break;
	case IR_MATCH_NTP_VERSION:
		held = (m->u.bits >> p->version) & 1;
		break;
	case IR_MATCH_NTP_OPCODE:
		/* The second byte: the opcode in mode 6, the stratum (0 in a
		 * request) otherwise. */
		held = (m->u.bits >> (p->mode == 6 ? p->opcode : 0)) & 1;
		break;
	case IR_MATCH_RATE_OVER:
		/* Not decidable from one packet: the walk assumes within the
		 * limit (over, on the second walk). */
		held = w->over;
		break;
	case IR_MATCH_LIMIT:
		/* One bucket for every packet the rule sees: assumed within.
		 * ntpwall puts it only on log rules, which decide nothing. */
		held = true;
		break;
	default:
		return EXPLAIN_M_UNKNOWN;
	}
	return held != m->negate ? EXPLAIN_M_HOLD : EXPLAIN_M_FAIL;
}

static void add_step(struct explain_outcome *o, const struct ir_chain *c, size_t i)
{
	const struct ir_rule *r = &c->rules[i];

	xgrow((void **)&o->steps, &o->cap_steps, o->n_steps, sizeof(*o->steps));
	o->steps[o->n_steps++] = (struct explain_step){
		.chain = c->name, .rule = i, .comment = r->comment, .verdict = r->verdict,
		.notrack = r->notrack, .log = r->log_prefix != NULL,
	};
}

static void decide(struct explain_outcome *o, enum explain_verdict v, const struct ir_chain *c,
		   size_t i)
{
	o->verdict = v;
	o->chain = c->name;
	o->rule = i;
	o->comment = i < c->n_rules ? c->rules[i].comment : NULL;
}

/* A rule one condition short of matching, whose verdict differs from
 * where the packet went: worth a line ("would accept, but ..."). */
static void note_near_miss(struct explain_walk *w, const struct ir_chain *c, size_t i,
			   size_t failed)
{
	if (!w->near || w->n_near >= EXPLAIN_NEAR_MAX || c->rules[i].verdict == IR_VERDICT_NONE)
		return;
	w->near[w->n_near++] = (struct explain_near){ .chain = c, .rule = i, .match = failed };
}

/* Evaluates rule i of c: 1 when it matched, 0 when not, -1 when it holds
 * something not understood (and nothing known rules it out). */
static int eval_rule(struct explain_walk *w, const struct ir_chain *c, size_t i)
{
	const struct ir_rule *r = &c->rules[i];
	size_t fails = 0, failed = 0, rate_failed = 0;
	bool unknown = r->unknown != NULL, rate = false;

	for (size_t k = 0; k < r->n_matches; k++) {
		enum explain_m res = explain_match(w, &r->matches[k]);

		rate |= r->matches[k].type == IR_MATCH_RATE_OVER;
		if (res == EXPLAIN_M_UNKNOWN)
			unknown = true;
		else if (res == EXPLAIN_M_FAIL && r->matches[k].type == IR_MATCH_RATE_OVER)
			rate_failed = k + 1;
		else if (res == EXPLAIN_M_FAIL && !fails++)
			failed = k;
	}
	/* The meter is consulted only once the other conditions hold. */
	if (rate && !fails && !unknown)
		w->rate_seen = true;
	if (rate_failed && !fails++)
		failed = rate_failed - 1;
	/* A verdict always ends a rule, so a rule with a failing known
	 * condition decides nothing whatever its unknown parts are. */
	if (fails) {
		if (fails == 1 && !unknown)
			note_near_miss(w, c, i, failed);
		return 0;
	}
	return unknown ? -1 : 1;
}

/* A chain type other than filter (nat sees only a connection's first
 * packet, route reroutes) is not modelled. */
static bool chain_understood(const struct ir_chain *c)
{
	return !c->type || !strcmp(c->type, "filter");
}

enum walk_end { W_FALL, W_ACCEPT, W_FINAL };

/* Nothing ntpwall makes jumps further (ir_layout: base, -ntp, -mode<N>);
 * this bounds a loop made by hand, which the kernel refuses anyway. */
#define JUMP_DEPTH_MAX 16

/* Walk c's rules: W_FINAL when the packet leaves with a final verdict (or
 * an unknown), W_ACCEPT when accepted (on to the next base chain),
 * W_FALL when it falls off the end. A jump walks its chain and goes on
 * after it; a goto walks its chain instead of the rest of this one. */
static enum walk_end walk_rules(struct explain_walk *w, const struct ir_chain *c, int prio,
				struct explain_outcome *o, int depth)
{
	for (size_t i = 0; i < c->n_rules; i++) {
		const struct ir_rule *r = &c->rules[i];
		const struct ir_chain *t;
		enum walk_end e;
		int m = eval_rule(w, c, i);

		if (m < 0) {
			decide(o, EXPLAIN_UNKNOWN, c, i);
			w->unknown_rule = r;
			return W_FINAL;
		}
		if (!m)
			continue;
		if (r->verdict != IR_VERDICT_JUMP && r->verdict != IR_VERDICT_GOTO)
			add_step(o, c, i);
		/* notrack before conntrack (priority -200) leaves the packet
		 * untracked for every later chain; the hook's priority is the
		 * base chain's, whatever chain jumped to. */
		if (r->notrack && prio < IR_PRIO_CONNTRACK)
			w->ct = IR_CT_UNTRACKED;
		switch (r->verdict) {
		case IR_VERDICT_ACCEPT:
			decide(o, EXPLAIN_ACCEPT, c, i);
			return W_ACCEPT;
		case IR_VERDICT_DROP:
			decide(o, EXPLAIN_DROP, c, i);
			return W_FINAL;
		case IR_VERDICT_REJECT:
			decide(o, EXPLAIN_REJECT, c, i);
			return W_FINAL;
		case IR_VERDICT_JUMP:
		case IR_VERDICT_GOTO:
			t = ir_chain_find(w->rs, r->target);
			if (!t || t->hook != IR_HOOK_NONE || depth >= JUMP_DEPTH_MAX) {
				decide(o, EXPLAIN_UNKNOWN, c, i);
				w->unknown_rule = r;
				return W_FINAL;
			}
			e = walk_rules(w, t, prio, o, depth + 1);
			if (e != W_FALL || r->verdict == IR_VERDICT_GOTO)
				return e;
			break;
		default:
			break;
		}
	}
	return W_FALL;
}

/* Walk one base chain: 1 when the packet leaves it with a final verdict
 * (or an unknown), 0 when it goes on to the next chain. */
static int walk_chain(struct explain_walk *w, const struct ir_chain *c, struct explain_outcome *o)
{
	enum walk_end e = walk_rules(w, c, c->priority, o, 0);

	if (e != W_FALL)
		return e == W_FINAL;
	if (c->policy_drop) {
		decide(o, EXPLAIN_DROP, c, c->n_rules);
		o->chain_policy = true;
		return 1;
	}
	return 0;
}

/* One walk along the path: o gets the outcome. */
static void walk(struct explain_walk *w, struct explain_outcome *o)
{
	const struct ir_chain **path = xcalloc(w->rs->n_chains + 1, sizeof(*path));
	size_t n = explain_path(w->rs, w->pkt, path);

	o->verdict = EXPLAIN_CONTINUE;
	w->ct = w->pkt->ct;
	for (size_t i = 0; i < n; i++) {
		if (!chain_understood(path[i])) {
			decide(o, EXPLAIN_UNKNOWN, path[i], path[i]->n_rules);
			w->unknown_chain = path[i];
			break;
		}
		if (path[i]->hook == IR_HOOK_INGRESS && !explain_on_device(path[i], w->pkt))
			continue;
		if (walk_chain(w, path[i], o))
			break;
	}
	free(path);
}

static bool same_outcome(const struct explain_outcome *a, const struct explain_outcome *b)
{
	return a->verdict == b->verdict && a->chain == b->chain && a->rule == b->rule;
}

void explain_packet(const struct ir_ruleset *rs, const struct explain_packet *pkt,
		    struct explain_result *r)
{
	struct explain_near near[EXPLAIN_NEAR_MAX];
	struct explain_walk w = { .rs = rs, .pkt = pkt, .near = near };
	struct explain_walk wo = { .rs = rs, .pkt = pkt, .over = true };

	r->pkt = *pkt;
	walk(&w, &r->out);
	r->why = r->out.chain_policy ? NULL : explain_rule_why(r->out.comment);
	if (r->out.verdict == EXPLAIN_UNKNOWN) {
		explain_say_unknown(r, &w);
		return;
	}
	/* Over the rate the packet may meet other rules (the drop after the
	 * accepts): walk again to say which. */
	if (w.rate_seen) {
		walk(&wo, &r->over);
		r->rate_limited = !same_outcome(&r->out, &r->over);
		if (!r->rate_limited) {
			free(r->over.steps);
			memset(&r->over, 0, sizeof(r->over));
		}
	}
	explain_say_reasons(r, &w);
}

static void outcome_free(struct explain_outcome *o)
{
	free(o->steps);
	memset(o, 0, sizeof(*o));
}

void explain_result_free(struct explain_result *r)
{
	if (!r)
		return;
	outcome_free(&r->out);
	outcome_free(&r->over);
	for (size_t i = 0; i < r->n_reasons; i++)
		free(r->reasons[i].text);
	free(r->reasons);
	for (size_t i = 0; i < r->n_assumed; i++)
		free(r->assumed[i]);
	free(r->assumed);
	free(r->unknown);
	memset(r, 0, sizeof(*r));
}
