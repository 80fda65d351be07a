/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The rule model laid out as legacy iptables chains, per table and family
 * (doc/iptables-notes.md §3; the layout is described in ntpwall(8)):
 *   - <T>-IN, <T>-OUT in filter and <T>-PRE, <T>-OUT in raw, reached first
 *     thing from INPUT, OUTPUT (PREROUTING, OUTPUT) by a jump for the
 *     protocols and ports their rules match;
 *   - a rule without a set is one entry (two with a log); what the model
 *     accepts is RETURN: the packet goes on to the host's own rules, so
 *     ntpwall only ever drops, as in nft;
 *   - a rule over a set jumps (drop, reject, notrack) or goes (accept) to
 *     a chain R holding one entry per element, which go to a chain V
 *     holding the rule's statements; an accept must leave ntpwall's chains
 *     from R or V, so the rules after it continue in a chain of their own
 *     (a goto returns to INPUT, a jump would return to ntpwall's chain);
 *   - R's first entry, a no-op, names the set and its flags; each element
 *     entry names the rule, its timeout and origin, so that the kernel's
 *     chains read back into the same ruleset (backend_ipt_raise.c).
 * Sub-chains are <T>-<letter><number>, numbered in order, V right after
 * its R. A rule for one family only is left out of the other's chains. */
#include "backend_ipt_int.h"
#include "ntpwall/compile.h"
#include "ntpwall/util.h"

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

struct chain_map {
	enum bipt_table table;
	const char *suffix;
	char letter;
	const char *parent;
	const char *ir_name;
	enum ir_hook hook;
	int priority;
};

static const struct chain_map maps[] = {
	{ BIPT_FILTER, "-IN", 'I', "INPUT", COMPILE_CHAIN_INPUT, IR_HOOK_INPUT, 0 },
	{ BIPT_FILTER, "-OUT", 'O', "OUTPUT", COMPILE_CHAIN_OUTPUT, IR_HOOK_OUTPUT, 0 },
	{ BIPT_RAW, "-PRE", 'P', "PREROUTING", COMPILE_CHAIN_RAW_PREROUTING, IR_HOOK_PREROUTING,
	  -300 },
	{ BIPT_RAW, "-OUT", 'O', "OUTPUT", COMPILE_CHAIN_RAW_OUTPUT, IR_HOOK_OUTPUT, -300 },
};

/* The chain of orphan sets (no rule of the family uses them). */
#define ORPHAN_LETTER 'S'

struct lay {
	const struct ir_ruleset *rs;
	enum bipt_family fam;
	const struct bipt_fam *f;
	struct bipt_layout *l;
	unsigned next[26];
	struct diags *d;
};

static const struct chain_map *map_of(const struct ir_chain *c)
{
	for (size_t i = 0; i < ARRAY_SIZE(maps); i++)
		if (maps[i].hook == c->hook && maps[i].priority == c->priority)
			return &maps[i];
	return NULL;
}

const char *bipt_main_chain_ir(const char *table, enum bipt_table t, const char *name,
			       enum ir_hook *hook, int *priority)
{
	size_t len = strlen(table);

	if (strncmp(name, table, len))
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(maps); i++) {
		if (maps[i].table == t && !strcmp(name + len, maps[i].suffix)) {
			*hook = maps[i].hook;
			*priority = maps[i].priority;
			return maps[i].ir_name;
		}
	}
	return NULL;
}

bool bipt_chain_ours(const char *table, const char *name)
{
	size_t len = strlen(table), n;
	const char *p = name + len + 1;

	if (strncmp(name, table, len) || name[len] != '-')
		return false;
	if (!strcmp(p, "IN") || !strcmp(p, "OUT") || !strcmp(p, "PRE"))
		return true;
	if (!strchr("IOPS", *p) || !*p)
		return false;
	n = strspn(p + 1, "0123456789abcdefghijklmnopqrstuvwxyz");
	return n >= 1 && n <= 3 && !p[1 + n];
}

static bool applies(const struct ir_rule *r, const struct bipt_fam *f)
{
	for (size_t i = 0; i < r->n_matches; i++) {
		const struct ir_match *m = &r->matches[i];

		if (m->type == IR_MATCH_NFPROTO && (m->u.num == f->nfproto) == m->negate)
			return false;
	}
	return true;
}

static bool fam_present(const struct ir_ruleset *rs, const struct bipt_fam *f)
{
	for (size_t i = 0; i < rs->n_chains; i++)
		for (size_t j = 0; j < rs->chains[i].n_rules; j++)
			if (applies(&rs->chains[i].rules[j], f))
				return true;
	for (size_t i = 0; i < rs->n_sets; i++)
		if ((rs->sets[i].key == IR_KEY_IPV4) == (f->af == AF_INET))
			return true;
	return false;
}

static int fail(struct lay *x, const struct ir_rule *r, int ret, const char *why)
{
	if (r)
		diag_add(x->d, &r->loc, DIAG_ERROR, NW501_KERNEL, "%s rule%s%s%s: %s", x->f->tool,
			 r->comment ? " (" : "", r->comment ? r->comment : "", r->comment ? ")" : "",
			 why);
	else
		diag_add(x->d, NULL, DIAG_ERROR, NW501_KERNEL, "%s: %s", x->f->tool, why);
	return ret;
}

/* A new sub-chain <T>-<letter><base 36 number>; -ENAMETOOLONG past 28. */
static int sub_chain(struct lay *x, char letter, char out[BIPT_NAME_LEN])
{
	static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	unsigned n = ++x->next[letter - 'A'];
	char num[16];
	size_t k = sizeof(num) - 1;

	num[k] = '\0';
	do {
		num[--k] = digits[n % 36];
		n /= 36;
	} while (n);
	if (strlen(x->rs->table) + 2 + strlen(num + k) > BIPT_CHAIN_MAX)
		return fail(x, NULL, -ENAMETOOLONG, "too many sub-chains for a chain name of 28 "
			    "characters: use a shorter table name");
	snprintf(out, BIPT_NAME_LEN, "%s-%c%s", x->rs->table, letter, num + k);
	bipt_layout_chain(x->l, out);
	return 0;
}

static struct bipt_rule *add(struct lay *x, const char *chain, const struct bipt_rule *base,
			     enum bipt_target t, const char *to)
{
	struct bipt_rule *r = bipt_chain_add(bipt_layout_chain(x->l, chain));

	*r = *base;
	r->entry = NULL;
	r->unknown = NULL;
	r->target = t;
	if (to)
		snprintf(r->chain, sizeof(r->chain), "%s", to);
	return r;
}

static void set_comment(struct bipt_rule *b, const char *text)
{
	b->has_comment = text != NULL;
	if (text)
		snprintf(b->comment, sizeof(b->comment), "%s", text);
}

static int limit_of(struct lay *x, const struct ir_rule *r, const struct ir_limit *il,
		    bool upto, struct bipt_rule *b)
{
	const struct ir_set *s = ir_set_find(x->rs, il->set);

	if (!s || !(s->flags & IR_SET_DYNAMIC) || s->flags != (IR_SET_DYNAMIC | IR_SET_TIMEOUT) ||
	    !s->timeout_ms || s->timeout_ms > UINT32_MAX || il->prefix_len > 128 ||
	    (s->key == IR_KEY_IPV4) != (x->f->af == AF_INET))
		return fail(x, r, -EINVAL, "a rate limit needs a dynamic set of the rule's family "
			    "with a timeout (hashlimit's htable-expire)");
	b->limit = true;
	b->hl.upto = upto;
	b->hl.srcmask = (uint8_t)il->prefix_len;
	b->hl.rate = il->rate;
	b->hl.unit_s = il->unit_s;
	b->hl.burst = il->burst;
	b->hl.max = s->size;
	b->hl.expire_ms = (uint32_t)s->timeout_ms;
	bipt_limit_name(x->rs->table, s->name, &b->hl, b->hl.name);
	return 0;
}

/* -m limit: within the rate only (xt_limit has no "over"), and a rate
 * that reads back as itself. */
static int rate_of(struct lay *x, const struct ir_rule *r, const struct ir_match *m,
		   struct bipt_rule *b)
{
	uint32_t held, unit;

	if (m->negate || !m->u.rate.burst ||
	    !xt_limit_holds(m->u.rate.rate, m->u.rate.unit_s, &held, &unit))
		return fail(x, r, -EINVAL, "a rate iptables' limit match cannot hold (at most "
			    "10000/second, in the smallest unit that makes it whole, and not 'over')");
	b->rate = true;
	b->rt = (struct bipt_rate){ xt_limit_avg(m->u.rate.rate, m->u.rate.unit_s),
				    m->u.rate.burst };
	return 0;
}

static int port_of(struct lay *x, const struct ir_rule *r, const struct ir_match *m,
		   struct bipt_rule *b)
{
	bool src = m->type == IR_MATCH_SPORT;

	if ((src ? b->sport_set : b->dport_set) || m->u.num > 0xffff)
		return fail(x, r, -EINVAL, "one source and one destination port at most");
	if (src)
		b->sport_set = true, b->sport = (uint16_t)m->u.num, b->sport_neg = m->negate;
	else
		b->dport_set = true, b->dport = (uint16_t)m->u.num, b->dport_neg = m->negate;
	return 0;
}

/* One match of r into b; sets and (with a set) the rate limit are the
 * caller's. */
static int match_of(struct lay *x, const struct ir_rule *r, const struct ir_match *m,
		    struct bipt_rule *b, bool with_limit)
{
	struct bipt_prefix *p;

	switch (m->type) {
	case IR_MATCH_IIFNAME:
	case IR_MATCH_OIFNAME:
		snprintf(m->type == IR_MATCH_IIFNAME ? b->iif : b->oif, sizeof(b->iif), "%s",
			 m->u.ifname);
		*(m->type == IR_MATCH_IIFNAME ? &b->iif_neg : &b->oif_neg) = m->negate;
		return 0;
	case IR_MATCH_NFPROTO:
	case IR_MATCH_SADDR_SET:
	case IR_MATCH_DADDR_SET:
		return 0;
	case IR_MATCH_L4PROTO:
		b->proto = (uint8_t)m->u.num;
		b->proto_neg = m->negate;
		return 0;
	case IR_MATCH_SPORT:
	case IR_MATCH_DPORT:
		return port_of(x, r, m, b);
	case IR_MATCH_SADDR:
	case IR_MATCH_DADDR:
		p = m->type == IR_MATCH_SADDR ? &b->src : &b->dst;
		if (m->u.prefix.addr.family != x->f->af)
			return fail(x, r, -EINVAL, "an address of the other family");
		*p = (struct bipt_prefix){ true, m->negate, m->u.prefix.addr, m->u.prefix.len };
		return 0;
	case IR_MATCH_CT_STATE:
		b->ct = true;
		b->ct_neg = m->negate;
		b->ct_bits = m->u.bits;
		return 0;
	case IR_MATCH_NTP_MODE:
	case IR_MATCH_NTP_VERSION:
	case IR_MATCH_NTP_OPCODE:
		if (b->n_u32 == BIPT_U32_MAX)
			return fail(x, r, -EINVAL, "too many NTP header matches");
		b->u32[b->n_u32++] = (struct bipt_u32){ m->type, m->u.bits, m->negate };
		/* u32 reads the NTP header at a fixed offset behind the IPv6
		 * header: only packets without extension headers (§5). */
		b->v6_plain = x->f->af == AF_INET6;
		return 0;
	case IR_MATCH_RATE_OVER:
		return with_limit ? limit_of(x, r, &m->u.limit, m->negate, b) : 0;
	case IR_MATCH_LIMIT:
		return with_limit ? rate_of(x, r, m, b) : 0;
	}
	return fail(x, r, -EINVAL, "a match iptables cannot express");
}

/* LOG, CT --notrack and the verdict of r, each an entry like base. */
static void statements(struct lay *x, const char *chain, const struct bipt_rule *base,
		       const struct ir_rule *r)
{
	static const enum bipt_target verdicts[] = {
		[IR_VERDICT_NONE] = BIPT_T_NONE, [IR_VERDICT_ACCEPT] = BIPT_T_RETURN,
		[IR_VERDICT_DROP] = BIPT_T_DROP, [IR_VERDICT_REJECT] = BIPT_T_REJECT,
	};
	bool any = false;

	if (r->log_prefix) {
		snprintf(add(x, chain, base, BIPT_T_LOG, NULL)->log_prefix, BIPT_LOG_PREFIX_MAX + 1,
			 "%s", r->log_prefix);
		any = true;
	}
	if (r->notrack) {
		add(x, chain, base, BIPT_T_NOTRACK, NULL);
		any = true;
	}
	if (r->verdict != IR_VERDICT_NONE || !any)
		add(x, chain, base, verdicts[r->verdict], NULL);
}

static int elem_comment(struct lay *x, const struct ir_rule *r, const struct ir_elem *e,
			char out[BIPT_COMMENT_MAX + 1])
{
	int n = snprintf(out, BIPT_COMMENT_MAX + 1, "%s", r->comment ? r->comment : "-");

	if (e->timeout_ms)
		n += snprintf(out + n, n < BIPT_COMMENT_MAX + 1 ? BIPT_COMMENT_MAX + 1 - (size_t)n : 0,
			      " timeout %" PRIu64, e->timeout_ms);
	if (e->comment && n < BIPT_COMMENT_MAX + 1)
		n += snprintf(out + n, BIPT_COMMENT_MAX + 1 - (size_t)n, " from %s", e->comment);
	if (n > BIPT_COMMENT_MAX)
		return fail(x, r, -ENAMETOOLONG, "an element's comment (the rule, its timeout "
			    "and origin) is over 255 bytes");
	return 0;
}

static void set_header(const struct ir_set *s, const struct ir_match *m,
		       char out[BIPT_COMMENT_MAX + 1])
{
	int n = snprintf(out, BIPT_COMMENT_MAX + 1, "%s%s@%s flags 0x%" PRIx32,
			 !m ? "" : m->type == IR_MATCH_SADDR_SET ? "saddr " : "daddr ",
			 m && m->negate ? "!= " : "", s->name, s->flags);

	if (s->timeout_ms)
		n += snprintf(out + n, BIPT_COMMENT_MAX + 1 - (size_t)n, " timeout %" PRIu64,
			      s->timeout_ms);
	if (s->size)
		snprintf(out + n, BIPT_COMMENT_MAX + 1 - (size_t)n, " size %" PRIu32, s->size);
}

/* R: the header, then one entry per element of s, each commented with
 * what (the rule's comment, or @set for an orphan set), its timeout and
 * origin. r (may be NULL) is for messages. */
static int elements(struct lay *x, const char *R, const struct ir_rule *r, const char *what,
		    const struct ir_match *m, const struct ir_set *s, enum bipt_target t,
		    const char *to)
{
	struct ir_rule named = { .comment = (char *)what };
	struct bipt_rule b = { 0 };
	int ret = 0;

	/* The header, every element and a tail entry. */
	bipt_chain_reserve(bipt_layout_chain(x->l, R), s->n_elems + 2);
	if (r)
		named.loc = r->loc;
	b.has_comment = true;
	set_header(s, m, b.comment);
	add(x, R, &b, BIPT_T_NONE, NULL);
	for (size_t i = 0; i < s->n_elems && !ret; i++) {
		struct bipt_prefix *p = !m || m->type == IR_MATCH_SADDR_SET ? &b.src : &b.dst;

		memset(&b, 0, sizeof(b));
		*p = (struct bipt_prefix){ true, false, s->elems[i].addr, s->elems[i].prefix_len };
		b.has_comment = true;
		ret = elem_comment(x, &named, &s->elems[i], b.comment);
		add(x, R, &b, t, to);
	}
	return ret;
}

/* The set r matches (*sm its match), NULL without one; -EINVAL for more
 * than one, an unknown set or one of another family. */
static int rule_set(struct lay *x, const struct ir_rule *r, const struct ir_match **sm,
		    const struct ir_set **s)
{
	size_t n = 0;

	*sm = NULL;
	*s = NULL;
	for (size_t i = 0; i < r->n_matches; i++) {
		if (r->matches[i].type == IR_MATCH_SADDR_SET ||
		    r->matches[i].type == IR_MATCH_DADDR_SET) {
			*sm = &r->matches[i];
			n++;
		}
	}
	if (!n)
		return 0;
	*s = ir_set_find(x->rs, (*sm)->u.set);
	if (n > 1 || !*s || ((*s)->flags & IR_SET_DYNAMIC) ||
	    ((*s)->key == IR_KEY_IPV4) != (x->f->af == AF_INET))
		return fail(x, r, -EINVAL, "one address set of the rule's family at most");
	return 0;
}

/* A rule over a set (module comment at the top). *seg moves on to the
 * chain after an accept. */
static int set_rule(struct lay *x, char *seg, char letter, const struct ir_rule *r,
		    const struct bipt_rule *head, const struct ir_match *sm,
		    const struct ir_set *s, bool last)
{
	bool accept = r->verdict == IR_VERDICT_ACCEPT;
	char R[BIPT_NAME_LEN], V[BIPT_NAME_LEN], next[BIPT_NAME_LEN] = "";
	struct bipt_rule base = { 0 };
	const char *what;
	int ret = sub_chain(x, letter, R);

	if (!ret)
		ret = sub_chain(x, letter, V);
	if (!ret && accept && !last)
		ret = sub_chain(x, letter, next);
	if (ret)
		return ret;
	add(x, seg, head, accept ? BIPT_T_GOTO : BIPT_T_JUMP, R);
	set_comment(&base, r->comment);
	if (*next)
		add(x, seg, &base, BIPT_T_GOTO, next);
	what = r->comment ? r->comment : "-";
	if (!sm->negate)
		ret = elements(x, R, r, what, sm, s, BIPT_T_GOTO, V);
	else if (accept)
		ret = elements(x, R, r, what, sm, s, *next ? BIPT_T_GOTO : BIPT_T_RETURN,
			       *next ? next : NULL);
	else
		ret = elements(x, R, r, what, sm, s, BIPT_T_RETURN, NULL);
	if (!sm->negate && *next)
		add(x, R, &base, BIPT_T_GOTO, next);
	if (sm->negate)
		add(x, R, &base, BIPT_T_GOTO, V);
	/* The limits count only what the set let through: in V. */
	for (size_t i = 0; !ret && i < r->n_matches; i++)
		if (r->matches[i].type == IR_MATCH_RATE_OVER)
			ret = limit_of(x, r, &r->matches[i].u.limit, r->matches[i].negate, &base);
		else if (r->matches[i].type == IR_MATCH_LIMIT)
			ret = rate_of(x, r, &r->matches[i], &base);
	statements(x, V, &base, r);
	/* Out of the limit: not this rule; the rules after it go on. */
	if (*next && base.limit) {
		struct bipt_rule cont = { 0 };

		set_comment(&cont, r->comment);
		add(x, V, &cont, BIPT_T_GOTO, next);
	}
	if (*next)
		snprintf(seg, BIPT_NAME_LEN, "%s", next);
	return ret;
}

static int rule_of(struct lay *x, char *seg, char letter, const struct ir_rule *r, bool last)
{
	const struct ir_match *sm;
	const struct ir_set *s;
	struct bipt_rule head = { 0 };
	int ret = rule_set(x, r, &sm, &s);

	if (ret)
		return ret;
	if (r->unknown)
		return fail(x, r, -EINVAL, "a rule read back from the kernel that ntpwall did not make");
	if (r->comment && strlen(r->comment) > BIPT_COMMENT_MAX)
		return fail(x, r, -ENAMETOOLONG, "a comment of over 255 bytes");
	if (r->log_prefix && strlen(r->log_prefix) > BIPT_LOG_PREFIX_MAX)
		return fail(x, r, -ENAMETOOLONG, "a log prefix of over 29 bytes");
	for (size_t i = 0; i < r->n_matches && !ret; i++)
		ret = match_of(x, r, &r->matches[i], &head, !sm);
	if (ret)
		return ret;
	set_comment(&head, r->comment);
	if (!sm) {
		statements(x, seg, &head, r);
		return 0;
	}
	return set_rule(x, seg, letter, r, &head, sm, s, last);
}

/* Packets reach ntpwall's chain through a jump per protocol for the ports
 * its rules match, so every rule must match a protocol and a port. */
static int jumps(struct lay *x, const struct ir_chain *c, const struct chain_map *m,
		 const char *own)
{
	static const uint8_t protos[] = { IPPROTO_UDP, IPPROTO_TCP };
	struct bipt_rule j[2];

	memset(j, 0, sizeof(j));

	for (size_t i = 0; i < c->n_rules; i++) {
		const struct ir_rule *r = &c->rules[i];
		struct bipt_rule b = { 0 };
		bool ok = false;
		size_t k;

		if (!applies(r, x->f))
			continue;
		for (size_t q = 0; q < r->n_matches; q++)
			if (match_of(x, r, &r->matches[q], &b, false) < 0)
				return -EINVAL;
		for (k = 0; k < 2 && protos[k] != b.proto; k++)
			;
		for (int s = 0; k < 2 && !b.proto_neg && s < 2; s++) {
			bool set = s ? b.dport_set : b.sport_set, neg = s ? b.dport_neg : b.sport_neg;
			uint16_t port = s ? b.dport : b.sport;
			size_t q;

			if (!set || neg)
				continue;
			ok = true;
			for (q = 0; q < j[k].n_ports && j[k].ports[q] != port; q++)
				;
			if (q == j[k].n_ports && q < BIPT_PORTS_MAX)
				j[k].ports[j[k].n_ports++] = port;
		}
		if (!ok)
			return fail(x, r, -EINVAL, "iptables reaches ntpwall's chains only for UDP "
				    "and TCP ports that its rules match");
	}
	for (size_t k = 0; k < 2; k++) {
		if (!j[k].n_ports)
			continue;
		j[k].proto = protos[k];
		set_comment(&j[k], x->rs->table);
		j[k].target = BIPT_T_JUMP;
		snprintf(j[k].chain, sizeof(j[k].chain), "%s", own);
		*bipt_chain_add(bipt_layout_jumps(x->l, m->parent)) = j[k];
	}
	return 0;
}

static size_t last_rule(const struct ir_chain *c, const struct bipt_fam *f)
{
	size_t last = SIZE_MAX;

	for (size_t i = 0; i < c->n_rules; i++)
		if (applies(&c->rules[i], f))
			last = i;
	return last;
}

static int chain_of(struct lay *x, const struct ir_chain *c, const struct chain_map *m,
		    bool first_fam)
{
	char seg[BIPT_NAME_LEN], own[BIPT_NAME_LEN];
	size_t last = last_rule(c, x->f);
	int ret = 0;

	if (last == SIZE_MAX && (c->n_rules || !first_fam))
		return 0;
	if (strlen(x->rs->table) + strlen(m->suffix) > BIPT_CHAIN_MAX)
		return fail(x, NULL, -ENAMETOOLONG, "the table name is too long for a chain name "
			    "of 28 characters");
	snprintf(own, sizeof(own), "%s%s", x->rs->table, m->suffix);
	snprintf(seg, sizeof(seg), "%s", own);
	bipt_layout_chain(x->l, own);
	for (size_t i = 0; i < c->n_rules && !ret; i++)
		if (applies(&c->rules[i], x->f))
			ret = rule_of(x, seg, m->letter, &c->rules[i], i == last);
	return ret ? ret : jumps(x, c, m, own);
}

static bool set_used(const struct ir_ruleset *rs, const struct bipt_fam *f, const char *set)
{
	for (size_t i = 0; i < rs->n_chains; i++) {
		for (size_t j = 0; j < rs->chains[i].n_rules; j++) {
			const struct ir_rule *r = &rs->chains[i].rules[j];

			for (size_t k = 0; applies(r, f) && k < r->n_matches; k++)
				if ((r->matches[k].type == IR_MATCH_SADDR_SET ||
				     r->matches[k].type == IR_MATCH_DADDR_SET) &&
				    !strcmp(r->matches[k].u.set, set))
					return true;
		}
	}
	return false;
}

/* A set no rule of the family uses still has its definition and elements
 * in the kernel: in a chain of its own that nothing jumps to. */
static int orphans(struct lay *x)
{
	for (size_t i = 0; i < x->rs->n_sets; i++) {
		const struct ir_set *s = &x->rs->sets[i];
		char name[BIPT_NAME_LEN];
		int ret;

		if ((s->flags & IR_SET_DYNAMIC) || (s->key == IR_KEY_IPV4) != (x->f->af == AF_INET) ||
		    set_used(x->rs, x->f, s->name))
			continue;
		char *what = xasprintf("@%s", s->name);

		ret = sub_chain(x, ORPHAN_LETTER, name);
		if (!ret)
			ret = elements(x, name, NULL, what, NULL, s, BIPT_T_RETURN, NULL);
		free(what);
		if (ret)
			return ret;
	}
	return 0;
}

static int layout_one(const struct ir_ruleset *rs, enum bipt_family fam, enum bipt_table t,
		      bool first_fam, struct bipt_layout *l, struct diags *d)
{
	struct lay x = { .rs = rs, .fam = fam, .f = &bipt_fams[fam], .l = l, .d = d };
	int ret = 0;

	l->fam = fam;
	l->table = t;
	for (size_t i = 0; i < rs->n_chains && !ret; i++) {
		const struct chain_map *m = map_of(&rs->chains[i]);

		if (m && m->table == t)
			ret = chain_of(&x, &rs->chains[i], m, first_fam);
	}
	if (!ret && t == BIPT_FILTER)
		ret = orphans(&x);
	return ret;
}

int bipt_layout_all(const struct ir_ruleset *rs, struct bipt_all *out, struct diags *d)
{
	bool present[BIPT_NFAM];
	int first = BIPT_V4, ret = 0;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < rs->n_chains; i++) {
		const struct ir_chain *c = &rs->chains[i];

		if (!map_of(c) || c->policy_drop || c->type || c->device)
			return diag_add(d, NULL, DIAG_ERROR, NW501_KERNEL,
					"iptables: chain %s: only input, output (filter and raw) and "
					"raw prerouting chains with policy accept", c->name);
	}
	for (int f = BIPT_NFAM - 1; f >= 0; f--) {
		present[f] = fam_present(rs, &bipt_fams[f]);
		if (present[f])
			first = f;
	}
	/* A chain without rules lives in the first family there is. */
	for (int f = 0; f < BIPT_NFAM && !ret; f++) {
		for (int t = 0; t < BIPT_NTAB && !ret; t++) {
			out->t[f][t].fam = (enum bipt_family)f;
			out->t[f][t].table = (enum bipt_table)t;
			if (present[f] || f == first)
				ret = layout_one(rs, (enum bipt_family)f, (enum bipt_table)t,
						 f == first, &out->t[f][t], d);
		}
	}
	if (ret)
		bipt_all_free(out);
	return ret;
}
