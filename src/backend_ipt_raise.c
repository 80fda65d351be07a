/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ntpwall's iptables chains, read back from the kernel and decoded, raised
 * into the rule model again: each family's chains walked as
 * backend_ipt_layout.c lays them out (segments, set rules with their R and
 * V chains, statements), the sets gathered from the R chains, the two
 * families merged into one ruleset (a rule in both is one rule; one in a
 * single family gets its family match back), and the result laid out once
 * more and compared with what the kernel has, entry by entry: anything the
 * walk normalised away (a duplicate, a changed byte, a jump too many) makes
 * a rule that says so, so that an edited table never equals a wanted one. */
#include "backend_ipt_int.h"
#include "ntpwall/compile.h"
#include "ntpwall/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct rx {
	const char *table;
	const struct bipt_fam *f;
	const struct bipt_layout *l;
	struct ir_ruleset *rs;		/* sets gather here */
	struct ir_chain *out;		/* this family's rules of one chain */
	char *bad;			/* the first reason it is not ntpwall's layout */
};

static void bad(struct rx *x, const char *chain, const char *why)
{
	if (!x->bad)
		x->bad = xasprintf("%s chain %s: %s", x->f->tool, chain, why);
}

static bool has_matches(const struct bipt_rule *r)
{
	return r->src.set || r->dst.set || r->iif[0] || r->oif[0] || r->proto || r->sport_set ||
	       r->dport_set || r->n_ports || r->v6_plain || r->n_u32 || r->ct || r->limit ||
	       r->rate;
}

/* Same matches and comment: entries of one rule's statements. */
static bool same_matches(const struct bipt_rule *a, const struct bipt_rule *b)
{
	struct bipt_rule x = *a, y = *b;

	x.target = y.target = BIPT_T_NONE;
	memset(x.chain, 0, sizeof(x.chain));
	memset(y.chain, 0, sizeof(y.chain));
	memset(x.log_prefix, 0, sizeof(x.log_prefix));
	memset(y.log_prefix, 0, sizeof(y.log_prefix));
	x.unknown = y.unknown = NULL;
	x.entry = y.entry = NULL;
	x.entry_len = y.entry_len = 0;
	x.packets = y.packets = x.bytes = y.bytes = 0;
	return !memcmp(&x, &y, sizeof(x));
}

static void add_num(struct ir_rule *r, enum ir_match_type t, uint32_t v, bool neg)
{
	ir_rule_match_num(r, t, v)->negate = neg;
}

/* The rule's matches from an entry, in the model's order (the compiler's:
 * interface, protocol, ports, addresses, set, NTP header, conntrack; the
 * family match goes in after the ports when the families are merged). */
static void head_matches(const struct bipt_rule *e, struct ir_rule *r)
{
	if (e->iif[0])
		ir_rule_match_ifname(r, IR_MATCH_IIFNAME, e->iif)->negate = e->iif_neg;
	if (e->oif[0])
		ir_rule_match_ifname(r, IR_MATCH_OIFNAME, e->oif)->negate = e->oif_neg;
	if (e->proto)
		add_num(r, IR_MATCH_L4PROTO, e->proto, e->proto_neg);
	if (e->sport_set)
		add_num(r, IR_MATCH_SPORT, e->sport, e->sport_neg);
	if (e->dport_set)
		add_num(r, IR_MATCH_DPORT, e->dport, e->dport_neg);
	if (e->src.set)
		ir_rule_match_prefix(r, IR_MATCH_SADDR, &e->src.addr, e->src.len)->negate = e->src.neg;
	if (e->dst.set)
		ir_rule_match_prefix(r, IR_MATCH_DADDR, &e->dst.addr, e->dst.len)->negate = e->dst.neg;
}

static void tail_matches(struct rx *x, const struct bipt_rule *e, struct ir_rule *r)
{
	for (size_t i = 0; i < e->n_u32; i++)
		add_num(r, e->u32[i].field, e->u32[i].bits, e->u32[i].neg);
	if (e->ct)
		add_num(r, IR_MATCH_CT_STATE, e->ct_bits, e->ct_neg);
}

/* A rate limit's dynamic set: its name from the hashlimit table's
 * (<table>-<set>-<hash>), its settings from the match. */
static void limit_match(struct rx *x, const char *chain, const struct bipt_rule *e,
			struct ir_rule *r)
{
	size_t tl = strlen(x->table), nl = strlen(e->hl.name);
	struct bipt_limit l = e->hl;
	struct ir_match *m;
	struct ir_set *s;
	char *set;

	if (nl < tl + 11 || strncmp(e->hl.name, x->table, tl) || e->hl.name[tl] != '-' ||
	    e->hl.name[nl - 9] != '-') {
		bad(x, chain, "a hashlimit name ntpwall did not make");
		return;
	}
	set = xstrndup(e->hl.name + tl + 1, nl - tl - 10);
	if (!bipt_limit_rate(x->table, set, &l))
		bad(x, chain, "a hashlimit whose name does not match its settings");
	m = ir_rule_add_match(r, IR_MATCH_RATE_OVER);
	m->negate = l.upto;
	m->u.limit.prefix_len = l.srcmask;
	m->u.limit.set = xstrdup(set);
	m->u.limit.rate = l.rate;
	m->u.limit.unit_s = l.unit_s;
	m->u.limit.burst = l.burst;
	s = ir_set_find(x->rs, set);
	if (!s) {
		s = ir_set_add(x->rs, set, x->f->af == AF_INET ? IR_KEY_IPV4 : IR_KEY_IPV6,
			       IR_SET_DYNAMIC | IR_SET_TIMEOUT);
		s->timeout_ms = l.expire_ms;
		s->size = l.max;
	} else if (s->timeout_ms != l.expire_ms || s->size != l.max ||
		   s->key != (x->f->af == AF_INET ? IR_KEY_IPV4 : IR_KEY_IPV6) ||
		   s->flags != (IR_SET_DYNAMIC | IR_SET_TIMEOUT)) {
		s->flags |= IR_SET_FOREIGN;
	}
	free(set);
}

/* -m limit: one bucket for the rule, in the unit its avg reads back in. */
static void rate_match(struct rx *x, const char *chain, const struct bipt_rule *e,
		       struct ir_rule *r)
{
	struct ir_match *m;
	uint32_t rate, unit;

	if (!xt_limit_rate(e->rt.avg, &rate, &unit)) {
		bad(x, chain, "a limit match ntpwall did not make");
		return;
	}
	m = ir_rule_add_match(r, IR_MATCH_LIMIT);
	m->u.rate = (struct ir_rate){ rate, unit, e->rt.burst };
}

static struct ir_rule *new_rule(struct rx *x, const struct bipt_rule *e)
{
	struct ir_rule *r = ir_rule_add(x->out, e->has_comment ? e->comment : NULL, NULL);

	r->packets = e->packets;
	r->bytes = e->bytes;
	return r;
}

/* Statement entries from c->rules[i]: [LOG] [CT] [verdict], alike but for
 * the target. Sets r's statements; returns how many entries. */
static size_t statements(struct rx *x, const struct bipt_chain *c, size_t i, struct ir_rule *r)
{
	size_t n = 0;
	int stage = 0;

	for (; i + n < c->n && (!n || same_matches(&c->rules[i], &c->rules[i + n])); n++) {
		const struct bipt_rule *e = &c->rules[i + n];

		if (e->target == BIPT_T_LOG && stage < 1) {
			ir_rule_set_log(r, e->log_prefix);
			stage = 1;
		} else if (e->target == BIPT_T_NOTRACK && stage < 2) {
			r->notrack = true;
			stage = 2;
		} else if (stage < 3 && (e->target == BIPT_T_RETURN || e->target == BIPT_T_DROP ||
					 e->target == BIPT_T_REJECT || (e->target == BIPT_T_NONE && !n))) {
			r->verdict = e->target == BIPT_T_RETURN ? IR_VERDICT_ACCEPT :
				     e->target == BIPT_T_DROP ? IR_VERDICT_DROP :
				     e->target == BIPT_T_REJECT ? IR_VERDICT_REJECT : IR_VERDICT_NONE;
			n++;
			break;
		} else {
			break;
		}
	}
	if (!n)
		bad(x, c->name, "an entry with a target ntpwall does not use there");
	return n ? n : 1;
}

/* "saddr [!= ]@set flags 0x1 [timeout N] [size N]" (the R chain's first
 * entry) into a new set s (caller frees); *dir SADDR_SET or DADDR_SET, 0
 * for an orphan's "@set ...". */
static bool parse_header(struct rx *x, const char *text, enum ir_match_type *dir, bool *neg,
			 struct ir_set **s)
{
	char name[BIPT_COMMENT_MAX + 1];
	unsigned long long timeout = 0;
	unsigned flags, size = 0;
	int n = 0, k;
	const char *p = text;

	*dir = 0;
	*neg = false;
	if (!strncmp(p, "saddr ", 6) || !strncmp(p, "daddr ", 6)) {
		*dir = *p == 's' ? IR_MATCH_SADDR_SET : IR_MATCH_DADDR_SET;
		p += 6;
	}
	if (*dir && !strncmp(p, "!= ", 3)) {
		*neg = true;
		p += 3;
	}
	if (sscanf(p, "@%255s flags 0x%x%n", name, &flags, &n) != 2)
		return false;
	p += n;
	k = 0;
	if (sscanf(p, " timeout %llu%n", &timeout, &k) == 1 && k)
		p += k;
	k = 0;
	if (sscanf(p, " size %u%n", &size, &k) == 1 && k)
		p += k;
	if (*p || (flags & (IR_SET_DYNAMIC | IR_SET_FOREIGN)))
		return false;
	*s = xcalloc(1, sizeof(**s));
	(*s)->name = xstrdup(name);
	(*s)->key = x->f->af == AF_INET ? IR_KEY_IPV4 : IR_KEY_IPV6;
	(*s)->flags = flags;
	(*s)->timeout_ms = timeout;
	(*s)->size = size;
	return true;
}

/* "<what>[ timeout N][ from ORIGIN]": an element entry's comment. */
static bool parse_elem(const char *text, const char *what, struct ir_elem *el)
{
	size_t wl = strlen(what);
	unsigned long long t;
	int k = 0;
	const char *p = text + wl;

	if (strncmp(text, what, wl) || (*p && *p != ' '))
		return false;
	if (sscanf(p, " timeout %llu%n", &t, &k) == 1 && k) {
		el->timeout_ms = t;
		p += k;
	}
	if (!strncmp(p, " from ", 6)) {
		el->comment = xstrdup(p + 6);
		p += strlen(p);
	}
	return !*p;
}

static void free_set(struct ir_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_elems; i++)
		free(s->elems[i].comment);
	free(s->elems);
	free(s->name);
	free(s);
}

/* Keep the set read from one R chain: the first copy defines the set,
 * every other copy must be the same or the set is foreign. */
static void keep_set(struct rx *x, struct ir_set *got)
{
	struct ir_set *s = ir_set_find(x->rs, got->name), tmp;

	ir_set_sort(got);
	if (s) {
		tmp = *s;
		tmp.flags &= ~IR_SET_FOREIGN;
		if (!ir_set_equal(&tmp, got))
			s->flags |= IR_SET_FOREIGN;
		return;
	}
	s = ir_set_add(x->rs, got->name, got->key, got->flags);
	s->timeout_ms = got->timeout_ms;
	s->size = got->size;
	for (size_t i = 0; i < got->n_elems; i++) {
		struct ir_elem *e = ir_set_add_elem(s, &got->elems[i].addr, got->elems[i].prefix_len,
						    got->elems[i].comment);

		/* No timeouts in iptables: an address stays until a refresh
		 * takes it out, so it never runs out. */
		e->timeout_ms = e->expires_ms = got->elems[i].timeout_ms;
	}
}

/* Element entries of R in [i, end): (an address or none) -> t (to chain
 * to, any chain but not_to when to is NULL and t a goto). Returns how many
 * there are before the first other entry. */
static size_t elements(struct rx *x, const struct bipt_chain *R, size_t i, size_t end,
		       enum ir_match_type dir, const char *what, enum bipt_target t,
		       const char *to, struct ir_set *s)
{
	size_t start = i;

	for (; i < end; i++) {
		const struct bipt_rule *e = &R->rules[i];
		const struct bipt_prefix *p = dir == IR_MATCH_DADDR_SET ? &e->dst : &e->src;
		const struct bipt_prefix *other = dir == IR_MATCH_DADDR_SET ? &e->src : &e->dst;
		struct ir_elem el = { 0 };
		struct addr any = { .family = x->f->af };

		if (e->target != t || (to && strcmp(e->chain, to)) || !e->has_comment ||
		    other->set || e->iif[0] || e->oif[0] || e->proto || e->n_u32 || e->ct ||
		    e->limit || e->rate || e->v6_plain || e->sport_set || e->dport_set || e->n_ports ||
		    (p->set && p->neg) || e->unknown)
			break;
		if (!parse_elem(e->comment, what, &el)) {
			free(el.comment);
			break;
		}
		ir_set_add_elem(s, p->set ? &p->addr : &any, p->set ? p->len : 0, el.comment)
			->timeout_ms = el.timeout_ms;
		free(el.comment);
	}
	return i - start;
}

/* The V chain of R: its name is R's with the number after. */
static const struct bipt_chain *v_chain(struct rx *x, const char *R)
{
	static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	const char *num = R + strlen(x->table) + 2;
	char name[BIPT_NAME_LEN], buf[8];
	unsigned long n = strtoul(num, NULL, 36) + 1;
	size_t k = sizeof(buf) - 1;

	buf[k] = '\0';
	do {
		buf[--k] = digits[n % 36];
		n /= 36;
	} while (n && k);
	snprintf(name, sizeof(name), "%.*s%s", (int)(num - R), R, buf + k);
	return bipt_layout_find(x->l, name);
}

static bool is_header(struct rx *x, const struct bipt_rule *e)
{
	enum ir_match_type dir;
	struct ir_set *s = NULL;
	bool neg, ok = !e->target && !has_matches(e) && e->has_comment &&
		       parse_header(x, e->comment, &dir, &neg, &s);

	free_set(s);
	return ok;
}

/* The elements of a set chain R after its header; *n_tail the entries
 * after them that go on (an accept's next segment, a negated set's V). */
static void set_elements(struct rx *x, const struct bipt_chain *R, const struct bipt_chain *V,
			 bool neg, bool accept, enum ir_match_type dir, const char *what,
			 struct ir_set *s)
{
	size_t end = R->n, n, tail = 0;
	const struct bipt_rule *last = R->n > 1 ? &R->rules[R->n - 1] : NULL;

	/* The last entry goes on: to V (negated), or to the next segment. */
	if (last && last->target == BIPT_T_GOTO && !has_matches(last) && last->has_comment &&
	    !strcmp(last->comment, what) && (neg ? !strcmp(last->chain, V->name) :
					     accept && strcmp(last->chain, V->name)))
		tail = 1;
	if (neg && !tail) {
		bad(x, R->name, "a negated set chain that does not end in its statements");
		return;
	}
	end -= tail;
	if (!neg)
		n = elements(x, R, 1, end, dir, what, BIPT_T_GOTO, V->name, s);
	else if (end > 1)
		n = elements(x, R, 1, end, dir, what, R->rules[1].target,
			     R->rules[1].target == BIPT_T_GOTO ? R->rules[1].chain : NULL, s);
	else
		n = 0;
	if (1 + n != end)
		bad(x, R->name, "entries ntpwall did not make");
}

/* A rule over a set: head (in a segment) goes or jumps to R. */
static void set_rule(struct rx *x, const struct bipt_rule *head)
{
	const struct bipt_chain *R = bipt_layout_find(x->l, head->chain), *V = NULL;
	bool accept = head->target == BIPT_T_GOTO, neg = false;
	const char *what = head->has_comment ? head->comment : "-";
	enum ir_match_type dir = 0;
	struct ir_set *s = NULL;
	struct ir_rule *r;
	size_t n;

	if (!R || !bipt_chain_ours(x->table, R->name) || !R->n || !is_header(x, &R->rules[0]) ||
	    !parse_header(x, R->rules[0].comment, &dir, &neg, &s) || !dir ||
	    !(V = v_chain(x, R->name)) || !V->n) {
		bad(x, head->chain, "not a set chain ntpwall made");
		free_set(s);
		return;
	}
	r = new_rule(x, head);
	head_matches(head, r);
	ir_rule_match_set(r, dir, s->name)->negate = neg;
	tail_matches(x, head, r);
	if (V->rules[0].limit)
		limit_match(x, V->name, &V->rules[0], r);
	if (V->rules[0].rate)
		rate_match(x, V->name, &V->rules[0], r);
	n = statements(x, V, 0, r);
	/* An accept within a limit: a go-on to the next segment after it. */
	if (n + 1 == V->n && accept && V->rules[0].limit && V->rules[n].target == BIPT_T_GOTO &&
	    !has_matches(&V->rules[n]) && !strcmp(V->rules[n].comment, what))
		n++;
	if (n != V->n || V->rules[0].unknown || V->rules[0].src.set ||
	    V->rules[0].dst.set || V->rules[0].proto || V->rules[0].n_u32 || V->rules[0].ct)
		bad(x, V->name, "statements ntpwall did not make");
	r->packets = V->rules[0].packets;
	r->bytes = V->rules[0].bytes;
	if ((r->verdict == IR_VERDICT_ACCEPT) != accept)
		bad(x, R->name, "an accept that does not leave ntpwall's chains");
	set_elements(x, R, V, neg, accept, dir, what, s);
	keep_set(x, s);
	free_set(s);
}

/* An unconditional goto to a chain that is not a set's R: the rest of the
 * chain after an accept. */
static const struct bipt_chain *segment(struct rx *x, const struct bipt_rule *e)
{
	const struct bipt_chain *c;

	if (e->target != BIPT_T_GOTO || has_matches(e))
		return NULL;
	c = bipt_layout_find(x->l, e->chain);
	if (!c || (c->n && is_header(x, &c->rules[0])))
		return NULL;
	return c;
}

static void walk(struct rx *x, const struct bipt_chain *c)
{
	size_t i = 0, hops = 0;

	while (c && i < c->n) {
		const struct bipt_rule *e = &c->rules[i];
		const struct bipt_chain *next = segment(x, e);
		struct ir_rule *r;

		if (e->unknown) {
			bad(x, c->name, e->unknown);
			i++;
		} else if (next) {
			if (++hops > x->l->n) {
				bad(x, c->name, "a loop");
				return;
			}
			c = next;
			i = 0;
		} else if (e->target == BIPT_T_JUMP || e->target == BIPT_T_GOTO) {
			set_rule(x, e);
			i++;
		} else {
			r = new_rule(x, e);
			head_matches(e, r);
			tail_matches(x, e, r);
			if (e->limit)
				limit_match(x, c->name, e, r);
			if (e->rate)
				rate_match(x, c->name, e, r);
			i += statements(x, c, i, r);
		}
	}
}

/* Orphan sets: "@set ..." then elements -> RETURN. */
static void orphan(struct rx *x, const struct bipt_chain *c)
{
	enum ir_match_type dir;
	struct ir_set *s = NULL;
	char *what;
	bool neg;

	if (!c->n || c->rules[0].target || has_matches(&c->rules[0]) ||
	    !parse_header(x, c->rules[0].comment, &dir, &neg, &s) || dir) {
		bad(x, c->name, "not a set chain ntpwall made");
		free_set(s);
		return;
	}
	what = xasprintf("@%s", s->name);
	if (1 + elements(x, c, 1, c->n, IR_MATCH_SADDR_SET, what, BIPT_T_RETURN, NULL, s) != c->n)
		bad(x, c->name, "entries ntpwall did not make");
	free(what);
	keep_set(x, s);
	free_set(s);
}

void bipt_raise_layout(const char *table, const struct bipt_layout *l, struct ir_ruleset *rules,
		       struct ir_ruleset *sets, char **why)
{
	struct rx x = { .table = table, .f = &bipt_fams[l->fam], .l = l, .rs = sets };

	for (size_t i = 0; i < l->n; i++) {
		const struct bipt_chain *c = &l->chains[i];
		const char *ir_name;
		enum ir_hook hook;
		int prio;

		ir_name = bipt_main_chain_ir(table, l->table, c->name, &hook, &prio);
		if (ir_name) {
			x.out = ir_chain_find(rules, ir_name);
			if (!x.out)
				x.out = ir_chain_add(rules, ir_name, hook, prio);
			walk(&x, c);
		} else if (l->table == BIPT_FILTER && c->name[strlen(table) + 1] == 'S') {
			orphan(&x, c);
		}
	}
	if (x.bad && !*why)
		*why = x.bad;
	else
		free(x.bad);
}
