/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The kernel's layout of a ruleset (doc/design.md "Packet path"). Every
 * packet the host sends or receives crosses ntpwall's base chains, so they
 * hold only one cheap test per port class: a goto into "<chain>-ntp" for
 * UDP to or from port 123 (and TCP 4460 with NTS), where the chain's rules
 * follow in their order. A goto, not a jump: a packet that matches two
 * classes (123 to 123) walks the rules once, and what falls through them
 * meets the base chain's policy as before. In "<chain>-ntp", each run of
 * rules that match one NTP mode moves into "<chain>-mode<N>", reached by
 * a jump on the mode, so a packet walks only its own mode's rules; a
 * packet has one mode, so the runs' order among themselves is free, and
 * ir_ruleset_group_modes makes the runs long at compile time.
 *
 * Every rule moves unchanged (its port and mode tests too), so flattening
 * is inlining; ir_flatten accepts a layout only when laying out its flat
 * form gives it back exactly, so a hand-edited dispatch or jump reads back
 * as drift. The dispatch and jump rules have no counter: the rules'
 * counters say what was decided. */
#include "ntpwall/ir.h"
#include "ntpwall/ntp_packet.h"
#include "ntpwall/util.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#define N_MODES 8

/* The modes in the order a chain puts their runs: the mode the hook sees
 * most first (input: requests to a server, output: its replies). */
static const unsigned mode_order[2][N_MODES] = {
	{ NTP_MODE_CLIENT, NTP_MODE_SERVER, 6, 7, 1, 2, 5, 0 },
	{ NTP_MODE_SERVER, NTP_MODE_CLIENT, 6, 7, 1, 2, 5, 0 },
};

static bool is_output(const struct ir_chain *c)
{
	return c->hook == IR_HOOK_OUTPUT;
}

static const struct ir_match *find_match(const struct ir_rule *r, enum ir_match_type t)
{
	for (size_t i = 0; i < r->n_matches; i++)
		if (r->matches[i].type == t && !r->matches[i].negate)
			return &r->matches[i];
	return NULL;
}

/* The one NTP mode a UDP rule matches, or -1. */
static int rule_mode(const struct ir_rule *r)
{
	const struct ir_match *p = find_match(r, IR_MATCH_L4PROTO);
	const struct ir_match *m = find_match(r, IR_MATCH_NTP_MODE);

	if (!p || p->u.num != IPPROTO_UDP || !m || !m->u.bits || (m->u.bits & (m->u.bits - 1)))
		return -1;
	return __builtin_ctz(m->u.bits);
}

static bool is_jump(const struct ir_rule *r)
{
	return r->verdict == IR_VERDICT_JUMP || r->verdict == IR_VERDICT_GOTO;
}

/* ---- grouping by mode (compile time) ---- */

static unsigned mode_rank(const struct ir_chain *c, int mode)
{
	for (unsigned i = 0; i < N_MODES; i++)
		if ((int)mode_order[is_output(c)][i] == mode)
			return i;
	return N_MODES;
}

/* The rank of a single-mode rule's mode in c's order; -1 for any other. */
static int mode_key(const struct ir_chain *c, const struct ir_rule *r)
{
	int mode = rule_mode(r);

	return mode < 0 ? -1 : (int)mode_rank(c, mode);
}

void ir_ruleset_group_modes(struct ir_ruleset *rs)
{
	ir_ruleset_group(rs, mode_key, N_MODES);
}

/* ---- layout ---- */

/* A port class: the packets a dispatch rule sends on. */
struct port_key {
	uint32_t proto;
	enum ir_match_type port;	/* IR_MATCH_SPORT or IR_MATCH_DPORT */
	uint32_t num;
};

/* The class that covers r: its destination port, else its source port;
 * false when r matches no port (it could match any packet). */
static bool rule_key(const struct ir_rule *r, struct port_key *k)
{
	const struct ir_match *p = find_match(r, IR_MATCH_L4PROTO);
	const struct ir_match *dp = find_match(r, IR_MATCH_DPORT);
	const struct ir_match *sp = find_match(r, IR_MATCH_SPORT);

	if (!p || (!dp && !sp))
		return false;
	k->proto = p->u.num;
	k->port = dp ? IR_MATCH_DPORT : IR_MATCH_SPORT;
	k->num = dp ? dp->u.num : sp->u.num;
	return true;
}

/* The classes of c's rules, most used first: on output a server's replies
 * (source port 123), on input its requests. 0 when a rule has no class. */
static size_t chain_keys(const struct ir_chain *c, struct port_key *keys, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < c->n_rules; i++) {
		struct port_key k;
		size_t j;

		if (!rule_key(&c->rules[i], &k) || is_jump(&c->rules[i]))
			return 0;
		for (j = 0; j < n; j++)
			if (!memcmp(&keys[j], &k, sizeof(k)))
				break;
		if (j == n) {
			if (n == max)
				return 0;
			keys[n++] = k;
		}
	}
	for (size_t i = 1; i < n && is_output(c); i++) {
		struct port_key k = keys[i];

		if (k.proto == IPPROTO_UDP && k.port == IR_MATCH_SPORT && k.num == NTP_PORT) {
			memmove(&keys[1], &keys[0], i * sizeof(*keys));
			keys[0] = k;
		}
	}
	return n;
}

static struct ir_rule *jump_rule(struct ir_chain *c, enum ir_verdict v, const char *target)
{
	struct ir_rule *r = ir_rule_add(c, NULL, NULL);

	r->counter = false;
	r->verdict = v;
	r->target = xstrdup(target);
	return r;
}

/* A run of rules for one mode, as ir_ruleset_group_modes leaves them. */
struct run {
	size_t start, end;
	int mode;
};

/* The runs of two or more rules of one mode, in order, in c's rules
 * [0, n); a run of one stays inline (a jump would cost as much). */
static size_t mode_runs(const struct ir_chain *c, struct run *runs)
{
	size_t n = 0;

	for (size_t i = 0; i < c->n_rules;) {
		int m = rule_mode(&c->rules[i]);
		size_t j = i + 1;

		while (m >= 0 && j < c->n_rules && rule_mode(&c->rules[j]) == m)
			j++;
		if (m >= 0 && j - i >= 2)
			runs[n++] = (struct run){ i, j, m };
		i = j;
	}
	return n;
}

/* Which runs get a chain: not the first (its packets meet its rules first
 * anyway, and it is the mode the hook sees most: a jump would only cost
 * them), and one per mode (a mode's later run stays inline, so chain names
 * are unique). */
static bool run_chained(const struct run *runs, size_t k)
{
	if (k == 0)
		return false;
	for (size_t i = 0; i < k; i++)
		if (runs[i].mode == runs[k].mode)
			return false;
	return true;
}

/* "<base>-ntp" with c's rules, its mode runs moved into "<base>-mode<N>". */
static void lay_out_ntp(struct ir_ruleset *out, const struct ir_chain *c, const char *ntp)
{
	struct run *runs = xcalloc(c->n_rules + 1, sizeof(*runs));
	size_t n_runs = mode_runs(c, runs), k = 0;
	struct ir_chain *dst = ir_chain_add(out, ntp, IR_HOOK_NONE, 0);
	size_t ntp_idx = (size_t)(dst - out->chains);

	for (size_t i = 0; i < c->n_rules;) {
		struct ir_rule *jr;
		struct ir_chain *mc;
		char *name;

		while (k < n_runs && !run_chained(runs, k))
			k++;
		if (k == n_runs || i < runs[k].start) {
			ir_rule_add_copy(&out->chains[ntp_idx], &c->rules[i++]);
			continue;
		}
		name = xasprintf("%s-mode%d", c->name, runs[k].mode);
		/* No UDP test: every rule of the mode chain has its own, so a
		 * TCP segment (NTS-KE) whose bytes read as the mode walks them
		 * in vain, and an NTP packet pays one test less. */
		jr = jump_rule(&out->chains[ntp_idx], IR_VERDICT_JUMP, name);
		ir_rule_match_num(jr, IR_MATCH_NTP_MODE, 1u << runs[k].mode);
		mc = ir_chain_add(out, name, IR_HOOK_NONE, 0);
		for (; i < runs[k].end; i++)
			ir_rule_add_copy(mc, &c->rules[i]);
		free(name);
		k++;
	}
	free(runs);
}

#define MAX_KEYS 8

static void lay_out_chain(struct ir_ruleset *out, const struct ir_chain *c)
{
	struct port_key keys[MAX_KEYS];
	size_t n = c->hook == IR_HOOK_NONE ? 0 : chain_keys(c, keys, MAX_KEYS);
	size_t base = out->n_chains;
	char *ntp;

	/* Not worth it (or not exact): the chain as it is. */
	if (!n || c->n_rules <= n) {
		ir_chain_add_copy(out, c);
		return;
	}
	ir_chain_add_like(out, c);
	ntp = xasprintf("%s-ntp", c->name);
	for (size_t i = 0; i < n; i++) {
		struct ir_rule *r = jump_rule(&out->chains[base], IR_VERDICT_GOTO, ntp);

		ir_rule_match_num(r, IR_MATCH_L4PROTO, keys[i].proto);
		ir_rule_match_num(r, keys[i].port, keys[i].num);
	}
	lay_out_ntp(out, c, ntp);
	free(ntp);
}

static bool has_jumps(const struct ir_ruleset *rs)
{
	for (size_t i = 0; i < rs->n_chains; i++)
		for (size_t j = 0; j < rs->chains[i].n_rules; j++)
			if (is_jump(&rs->chains[i].rules[j]))
				return true;
	return false;
}

struct ir_ruleset *ir_layout(const struct ir_ruleset *rs)
{
	struct ir_ruleset *out = ir_ruleset_new(rs->table);
	/* Already laid out, or made by hand: nothing is moved. */
	bool keep = has_jumps(rs);

	for (size_t i = 0; i < rs->n_chains; i++) {
		if (keep)
			ir_chain_add_copy(out, &rs->chains[i]);
		else
			lay_out_chain(out, &rs->chains[i]);
	}
	return out;
}

/* ---- flatten ---- */

/* Append chain name's rules to dst, its mode jumps inlined; false when a
 * jump leads nowhere or further. */
static bool inline_chain(const struct ir_ruleset *rs, const char *name, struct ir_chain *dst,
			 int depth)
{
	const struct ir_chain *c = ir_chain_find(rs, name);

	if (!c || c->hook != IR_HOOK_NONE || depth > 1)
		return false;
	for (size_t i = 0; i < c->n_rules; i++) {
		const struct ir_rule *r = &c->rules[i];

		if (r->verdict == IR_VERDICT_GOTO)
			return false;
		if (r->verdict == IR_VERDICT_JUMP) {
			if (!inline_chain(rs, r->target, dst, depth + 1))
				return false;
		} else {
			ir_rule_add_copy(dst, r);
		}
	}
	return true;
}

/* The flat form of base chain c into out: its dispatch gotos all lead to
 * one chain, whose rules (mode jumps inlined) are c's. */
static bool flatten_chain(const struct ir_ruleset *rs, const struct ir_chain *c,
			  struct ir_ruleset *out)
{
	struct ir_chain *d;
	const char *target = NULL;
	size_t gotos = 0;

	for (size_t i = 0; i < c->n_rules; i++)
		gotos += c->rules[i].verdict == IR_VERDICT_GOTO;
	/* A chain ir_layout left as it was (too few rules to dispatch). */
	if (!gotos) {
		ir_chain_add_copy(out, c);
		return true;
	}
	d = ir_chain_add_like(out, c);
	for (size_t i = 0; i < c->n_rules; i++) {
		const struct ir_rule *r = &c->rules[i];

		if (r->verdict != IR_VERDICT_GOTO || (target && strcmp(target, r->target)))
			return false;
		target = r->target;
	}
	return inline_chain(rs, target, d, 0);
}

static bool same_chains(const struct ir_ruleset *a, const struct ir_ruleset *b)
{
	if (a->n_chains != b->n_chains)
		return false;
	for (size_t i = 0; i < a->n_chains; i++)
		if (!ir_chain_equal(&a->chains[i], &b->chains[i]))
			return false;
	return true;
}

void ir_flatten(struct ir_ruleset *rs)
{
	struct ir_ruleset *flat, *again = NULL;
	bool ok = has_jumps(rs);

	if (!ok)
		return;
	flat = ir_ruleset_new(rs->table);
	for (size_t i = 0; ok && i < rs->n_chains; i++)
		if (rs->chains[i].hook != IR_HOOK_NONE)
			ok = flatten_chain(rs, &rs->chains[i], flat);
	/* Exactly ir_layout's form of what it flattens to, or not ours: a
	 * changed dispatch test would let packets past rules that read back
	 * unchanged. */
	if (ok)
		again = ir_layout(flat);
	if (again && same_chains(again, rs))
		ir_ruleset_swap_chains(rs, flat);
	ir_ruleset_free(again);
	ir_ruleset_free(flat);
}
