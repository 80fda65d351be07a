/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The host's legacy iptables chains, for the host check (ntpwall/hostfw.h):
 * the built-in chains that see NTP (filter, raw, mangle and security
 * INPUT, OUTPUT and PREROUTING) of both families, each table read in one
 * libiptc snapshot and only when /proc lists it (iptc_init would
 * instantiate it), with the user chains they jump to inlined in place and
 * ntpwall's own jumps kept as markers (their chains only drop what the
 * policy drops). What the decode does not know makes a rule unknown. */
#include "backend_ipt_kern.h"
#include "ntpwall/backend.h"
#include "ntpwall/hostfw.h"
#include "ntpwall/util.h"

#include <errno.h>
#include <libiptc/libip6tc.h>
#include <libiptc/libiptc.h>
#include <stdlib.h>
#include <string.h>

/* Jumps followed into user chains at most this deep (the kernel allows
 * more; past it a jump is a rule the check cannot judge). */
#define MAX_DEPTH 8
/* Rules visited while inlining, against a chain jumped to from many
 * places. */
#define MAX_STEPS (4 * HOSTFW_MAX_RULES)

/* libiptc's read calls of one family, the entry type hidden. */
struct rd_ops {
	struct xtc_handle *(*init)(const char *);
	void (*free)(struct xtc_handle *);
	const char *(*first_chain)(struct xtc_handle *);
	const char *(*next_chain)(struct xtc_handle *);
	int (*builtin)(const char *, struct xtc_handle *const);
	int (*is_chain)(const char *, struct xtc_handle *const);
	const void *(*first_rule)(const char *, struct xtc_handle *);
	const void *(*next_rule)(const void *, struct xtc_handle *);
	const char *(*target)(const void *, struct xtc_handle *);
	const char *(*policy)(const char *, struct xt_counters *, struct xtc_handle *);
};

static const void *first4(const char *c, struct xtc_handle *h) { return iptc_first_rule(c, h); }
static const void *next4(const void *e, struct xtc_handle *h) { return iptc_next_rule(e, h); }
static const char *target4(const void *e, struct xtc_handle *h) { return iptc_get_target(e, h); }
static const void *first6(const char *c, struct xtc_handle *h) { return ip6tc_first_rule(c, h); }
static const void *next6(const void *e, struct xtc_handle *h) { return ip6tc_next_rule(e, h); }
static const char *target6(const void *e, struct xtc_handle *h) { return ip6tc_get_target(e, h); }

static const struct rd_ops rd_ops[BIPT_NFAM] = {
	{ iptc_init, iptc_free, iptc_first_chain, iptc_next_chain, iptc_builtin, iptc_is_chain,
	  first4, next4, target4, iptc_get_policy },
	{ ip6tc_init, ip6tc_free, ip6tc_first_chain, ip6tc_next_chain, ip6tc_builtin,
	  ip6tc_is_chain, first6, next6, target6, ip6tc_get_policy },
};

/* The built-in chains read, with the hook and priority they run at. */
static const struct hook_map {
	const char *table, *chain;
	enum ir_hook hook;
	int priority;
} hook_maps[] = {
	{ "raw", "PREROUTING", IR_HOOK_PREROUTING, -300 },
	{ "raw", "OUTPUT", IR_HOOK_OUTPUT, -300 },
	{ "mangle", "PREROUTING", IR_HOOK_PREROUTING, -150 },
	{ "mangle", "INPUT", IR_HOOK_INPUT, -150 },
	{ "mangle", "OUTPUT", IR_HOOK_OUTPUT, -150 },
	{ "filter", "INPUT", IR_HOOK_INPUT, 0 },
	{ "filter", "OUTPUT", IR_HOOK_OUTPUT, 0 },
	{ "security", "INPUT", IR_HOOK_INPUT, 50 },
	{ "security", "OUTPUT", IR_HOOK_OUTPUT, 50 },
};

/* Targets that let the packet go on to the next rule. */
static const char *const go_on[] = { "", "LOG", "NFLOG", "ULOG", "CT", "NOTRACK", "MARK",
				     "CONNMARK", "TRACE", "CLASSIFY", "DSCP", "TOS", "TCPMSS",
				     "AUDIT", "CONNSECMARK", "SECMARK" };

enum kind { K_GO_ON, K_ACCEPT, K_DROP, K_REJECT, K_RETURN, K_JUMP, K_GOTO, K_OWN, K_OTHER };

/* One rule: its matches decoded (from a copy of the entry with a plain
 * target, so that an unknown target does not count as an unknown match)
 * and what its target does. */
struct hrule {
	struct bipt_rule m;
	enum kind kind;
	char target[BIPT_NAME_LEN];
};

struct hchain {
	char name[BIPT_NAME_LEN];
	char policy[16];
	struct hrule *v;
	size_t n, cap;
};

struct hread {
	const struct bipt_fam *f;
	const char *own;
	struct hchain *c;
	size_t n, cap;
	struct hostfw *h;
	struct hostfw_table *t;
	size_t n_rules, steps;
};

static bool one_of(const char *s, const char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(s, v[i]))
			return true;
	return false;
}

static enum kind kind_of(const struct hread *r, const char *target, bool is_chain, bool is_goto)
{
	static const struct { const char *name; enum kind k; } verdicts[] = {
		{ "ACCEPT", K_ACCEPT }, { "DROP", K_DROP }, { "REJECT", K_REJECT },
		{ "RETURN", K_RETURN },
	};

	if (is_chain)
		return bipt_chain_ours(r->own, target) ? K_OWN : is_goto ? K_GOTO : K_JUMP;
	for (size_t i = 0; i < ARRAY_SIZE(verdicts); i++)
		if (!strcmp(target, verdicts[i].name))
			return verdicts[i].k;
	return one_of(target, go_on, ARRAY_SIZE(go_on)) ? K_GO_ON : K_OTHER;
}

/* The entry's matches with a standard target in place of its own: a jump
 * to the chain it jumps to (keeping a goto's flag valid), ACCEPT else. */
static void decode_matches(const struct bipt_fam *f, const void *e, const char *chain,
			   struct bipt_rule *m)
{
	size_t toff = bipt_entry_target_offset(f, e);
	size_t len = toff + XT_ALIGN(sizeof(struct xt_standard_target));
	struct xt_standard_target *t;
	uint16_t next = (uint16_t)len;

	m->entry = xcalloc(1, len);
	m->entry_len = len;
	memcpy(m->entry, e, toff);
	memcpy(m->entry + f->off_next, &next, sizeof(next));
	t = (struct xt_standard_target *)(m->entry + toff);
	t->target.u.target_size = XT_ALIGN(sizeof(*t));
	snprintf(t->target.u.user.name, sizeof(t->target.u.user.name), "%s",
		 chain ? chain : "ACCEPT");
	bipt_rule_decode(f, m);
}

static void read_rules(struct hread *r, const struct rd_ops *o, struct xtc_handle *h,
		       struct hchain *c)
{
	for (const void *e = o->first_rule(c->name, h); e; e = o->next_rule(e, h)) {
		const char *target = o->target(e, h);
		bool is_chain = target && *target && !o->builtin(target, h) &&
				o->is_chain(target, h);
		struct hrule *x;

		xgrow((void **)&c->v, &c->cap, c->n, sizeof(*c->v));
		x = &c->v[c->n++];
		memset(x, 0, sizeof(*x));
		decode_matches(r->f, e, is_chain ? target : NULL, &x->m);
		x->kind = kind_of(r, target ? target : "", is_chain, x->m.target == BIPT_T_GOTO);
		snprintf(x->target, sizeof(x->target), "%s", target ? target : "");
	}
}

/* Every chain of the table but ntpwall's, rules decoded. */
static int read_table(struct hread *r, enum bipt_family fam, const char *table)
{
	const struct rd_ops *o = &rd_ops[fam];
	struct xtc_handle *h = o->init(table);

	if (!h)
		return -(errno ? errno : EIO);
	for (const char *name = o->first_chain(h); name; name = o->next_chain(h)) {
		struct hchain *c;

		if (bipt_chain_ours(r->own, name))
			continue;
		xgrow((void **)&r->c, &r->cap, r->n, sizeof(*r->c));
		c = &r->c[r->n++];
		memset(c, 0, sizeof(*c));
		snprintf(c->name, sizeof(c->name), "%s", name);
		if (o->builtin(name, h)) {
			struct xt_counters cnt;
			const char *pol = o->policy(name, &cnt, h);

			snprintf(c->policy, sizeof(c->policy), "%s", pol ? pol : "");
		}
	}
	/* Rules after the chains: libiptc's chain and rule iterators share
	 * the handle. */
	for (size_t i = 0; i < r->n; i++)
		read_rules(r, o, h, &r->c[i]);
	o->free(h);
	return 0;
}

static void free_chains(struct hread *r)
{
	for (size_t i = 0; i < r->n; i++) {
		for (size_t j = 0; j < r->c[i].n; j++)
			bipt_rule_free(&r->c[i].v[j].m);
		free(r->c[i].v);
	}
	free(r->c);
	r->c = NULL;
	r->n = r->cap = 0;
}

static const struct hchain *find_chain(const struct hread *r, const char *name)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->c[i].name, name))
			return &r->c[i];
	return NULL;
}

static bool no_matches(const struct bipt_rule *m)
{
	return !m->src.set && !m->dst.set && !m->iif[0] && !m->oif[0] && !m->proto &&
	       !m->sport_set && !m->dport_set && !m->n_ports && !m->v6_plain && !m->n_u32 &&
	       !m->ct && !m->limit && !m->unknown;
}

static void add_unknown(struct ir_rule *ir, const char *what)
{
	char *s = ir->unknown ? xasprintf("%s; %s", ir->unknown, what) : xstrdup(what);

	free(ir->unknown);
	ir->unknown = s;
	if (strlen(s) > HOSTFW_UNKNOWN_MAX)
		strcpy(s + HOSTFW_UNKNOWN_MAX - 3, "...");
}

/* The multiport --sports or --dports of m, read as --sport or --dport
 * 123: said beside the rule's place in ir's comment, since a warning
 * quotes the rule as read, which iptables -S does not list. */
static void note_ports(struct ir_rule *ir, const struct bipt_rule *m)
{
	char list[BIPT_PORTS_MAX * 6 + 1] = "";
	const char *side = m->ports_dir == BIPT_PORTS_SRC ? "sport" : "dport";
	size_t n = 0;
	char *s;

	for (size_t i = 0; i < m->n_ports; i++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%u", i ? "," : "", m->ports[i]);
	s = ir->comment ? xasprintf("%s; -m multiport --%ss %s read as --%s 123", ir->comment, side,
				    list, side) :
			  xasprintf("-m multiport --%ss %s read as --%s 123", side, list, side);
	free(ir->comment);
	ir->comment = s;
}

/* A decoded rule's matches, appended to ir as the check reads them. */
static void raise_matches(const struct bipt_rule *m, struct ir_rule *ir)
{
	bool ntp = false;

	if (m->iif[0])
		ir_rule_match_ifname(ir, IR_MATCH_IIFNAME, m->iif)->negate = m->iif_neg;
	if (m->oif[0])
		ir_rule_match_ifname(ir, IR_MATCH_OIFNAME, m->oif)->negate = m->oif_neg;
	if (m->proto)
		ir_rule_match_num(ir, IR_MATCH_L4PROTO, m->proto)->negate = m->proto_neg;
	if (m->sport_set)
		ir_rule_match_num(ir, IR_MATCH_SPORT, m->sport)->negate = m->sport_neg;
	if (m->dport_set)
		ir_rule_match_num(ir, IR_MATCH_DPORT, m->dport)->negate = m->dport_neg;
	if (m->src.set)
		ir_rule_match_prefix(ir, IR_MATCH_SADDR, &m->src.addr, m->src.len)->negate =
			m->src.neg;
	if (m->dst.set)
		ir_rule_match_prefix(ir, IR_MATCH_DADDR, &m->dst.addr, m->dst.len)->negate =
			m->dst.neg;
	if (m->ct) {
		struct ir_match *x = ir_rule_add_match(ir, IR_MATCH_CT_STATE);

		x->u.bits = m->ct_bits;
		x->negate = m->ct_neg;
	}
	/* --ports on either side: NTP's remote port is 123. --sports or
	 * --dports with 123 among them: what the check asks of a rule is
	 * whether it takes NTP, as --sport 123 or --dport 123 would. */
	for (size_t i = 0; i < m->n_ports; i++)
		ntp |= m->ports[i] == 123;
	if (m->n_ports && ntp && m->ports_dir != BIPT_PORTS_EITHER &&
	    !(m->ports_dir == BIPT_PORTS_SRC ? m->sport_set : m->dport_set)) {
		ir_rule_match_num(ir, m->ports_dir == BIPT_PORTS_SRC ? IR_MATCH_SPORT : IR_MATCH_DPORT,
				  123);
		note_ports(ir, m);
	} else if (m->n_ports && (!ntp || m->ports_dir != BIPT_PORTS_EITHER))
		add_unknown(ir, "multiport");
	if (m->n_u32 || m->limit || m->v6_plain)
		add_unknown(ir, "u32, hashlimit or ipv6header");
	if (m->unknown)
		add_unknown(ir, m->unknown);
}

/* The jumps that led to a user chain's rule: their matches hold too. */
struct via {
	const struct hrule *v[MAX_DEPTH];
	size_t n;
	uint64_t pos;		/* the first jump's number in the built-in chain */
	char *where;		/* "jump to HOST, its rule 2" */
	bool unsure;		/* an earlier rule may have returned (or gone to) */
};

static struct ir_rule *add_rule(struct hread *r, struct ir_chain *out, const struct via *via,
				const struct hrule *x, uint64_t pos, const char *where)
{
	struct ir_rule *ir;

	if (r->n_rules >= HOSTFW_MAX_RULES) {
		r->t->truncated = true;
		return NULL;
	}
	r->n_rules++;
	ir = ir_rule_add(out, where, NULL);
	ir->counter = false;
	ir->handle = pos;
	for (size_t i = 0; i < via->n; i++)
		raise_matches(&via->v[i]->m, ir);
	if (x)
		raise_matches(&x->m, ir);
	if (via->unsure)
		add_unknown(ir, "after a conditional RETURN or goto");
	return ir;
}

static void inline_chain(struct hread *r, struct ir_chain *out, const struct hchain *c,
			 struct via *via);

/* A jump (or goto) to a user chain: its rules in place, under the jump's
 * matches. */
static void follow(struct hread *r, struct ir_chain *out, const struct hrule *x, uint64_t pos,
		   struct via *via, size_t i)
{
	const struct hchain *to = find_chain(r, x->target);
	struct via next = *via;
	struct ir_rule *ir;
	char *where = via->where ? xasprintf("%s, its rule %zu, jump to %s", via->where, i + 1,
					     x->target)
				 : xasprintf("jump to %s", x->target);

	if (!to || via->n >= MAX_DEPTH) {
		ir = add_rule(r, out, via, x, pos, via->where);
		if (ir)
			add_unknown(ir, "a jump too deep");
		free(where);
		return;
	}
	next.v[next.n++] = x;
	next.pos = pos;
	next.where = where;
	inline_chain(r, out, to, &next);
	free(where);
}

static void inline_chain(struct hread *r, struct ir_chain *out, const struct hchain *c,
			 struct via *via)
{
	bool builtin = !via->n;

	for (size_t i = 0; i < c->n; i++) {
		const struct hrule *x = &c->v[i];
		uint64_t pos = builtin ? i + 1 : via->pos;
		char *where = builtin ? NULL : xasprintf("%s, its rule %zu", via->where, i + 1);
		struct ir_rule *ir = NULL;

		if (++r->steps > MAX_STEPS) {
			r->t->truncated = true;
			free(where);
			return;
		}
		switch (x->kind) {
		case K_OWN:
			/* ntpwall's chains drop only what its policy drops. */
			if (builtin && (ir = add_rule(r, out, &(struct via){ 0 }, NULL, pos, NULL)))
				ir->comment = xstrdup(HOSTFW_OWN_JUMP);
			break;
		case K_JUMP:
		case K_GOTO:
			follow(r, out, x, pos, via, i);
			/* After a goto that was taken, the rest of c is skipped. */
			via->unsure |= x->kind == K_GOTO;
			break;
		case K_RETURN:
			if (!builtin && no_matches(&x->m)) {
				free(where);
				return;
			}
			if (!builtin) {
				via->unsure = true;
				break;
			}
			/* RETURN from a built-in chain: the policy, right here. */
			if ((ir = add_rule(r, out, via, x, pos, where)))
				add_unknown(ir, "-j RETURN");
			break;
		default:
			if (!(ir = add_rule(r, out, via, x, pos, where)))
				break;
			ir->verdict = x->kind == K_ACCEPT ? IR_VERDICT_ACCEPT :
				      x->kind == K_DROP ? IR_VERDICT_DROP :
				      x->kind == K_REJECT ? IR_VERDICT_REJECT : IR_VERDICT_NONE;
			if (x->kind == K_OTHER) {
				char *t = xasprintf("-j %s", x->target);

				add_unknown(ir, t);
				free(t);
			}
			break;
		}
		free(where);
	}
}

/* One family's tables that /proc lists, into h. */
static int read_family(struct hread *r, enum bipt_family fam, size_t *n_chains)
{
	static const char *const tables[] = { "raw", "mangle", "filter", "security" };
	uint8_t family = fam == BIPT_V4 ? HOSTFW_IP : HOSTFW_IP6;
	int ret = 0;

	for (size_t i = 0; i < ARRAY_SIZE(tables) && !ret; i++) {
		if (!bipt_table_exists(fam, tables[i]))
			continue;
		ret = read_table(r, fam, tables[i]);
		for (size_t k = 0; k < ARRAY_SIZE(hook_maps) && !ret; k++) {
			const struct hook_map *m = &hook_maps[k];
			const struct hchain *c;
			struct ir_chain *out;

			if (strcmp(m->table, tables[i]) || !(c = find_chain(r, m->chain)))
				continue;
			if (*n_chains >= HOSTFW_MAX_CHAINS) {
				r->h->truncated = true;
				continue;
			}
			(*n_chains)++;
			r->t = hostfw_table_get(r->h, family, tables[i]);
			r->t->legacy = true;
			out = ir_chain_add(r->t->rs, m->chain, m->hook, m->priority);
			out->policy_drop = !strcmp(c->policy, "DROP");
			inline_chain(r, out, c, &(struct via){ 0 });
		}
		free_chains(r);
	}
	return ret;
}

int bipt_read_host(const char *own_table, struct hostfw *out)
{
	struct hread r = { .own = own_table ? own_table : "", .h = out };
	size_t n_chains = 0;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	for (int f = 0; f < BIPT_NFAM && !ret; f++) {
		r.f = &bipt_fams[f];
		ret = read_family(&r, f, &n_chains);
	}
	free_chains(&r);
	if (ret < 0)
		hostfw_free(out);
	return ret;
}
