/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The rule model: constructors, deep copy, sorting and structural equality.
 * Equality is what `diff` and the idempotent `apply` rest on, so it ignores
 * exactly what the kernel changes on its own: counters, handles, expiry
 * (listed in full above the equality functions). */
#include "ntpwall/ir.h"
#include "ntpwall/util.h"

#include <assert.h>
#include <string.h>

struct ir_ruleset *ir_ruleset_new(const char *table)
{
	struct ir_ruleset *rs = xcalloc(1, sizeof(*rs));

	rs->table = xstrdup(table);
	return rs;
}

static void match_free(struct ir_match *m)
{
	if (m->type == IR_MATCH_SADDR_SET || m->type == IR_MATCH_DADDR_SET)
		free(m->u.set);
	else if (m->type == IR_MATCH_RATE_OVER)
		free(m->u.limit.set);
}

static void rule_free(struct ir_rule *r)
{
	for (size_t i = 0; i < r->n_matches; i++)
		match_free(&r->matches[i]);
	free(r->matches);
	free(r->log_prefix);
	free(r->comment);
	free(r->unknown);
	free(r->target);
}

static void set_free(struct ir_set *s)
{
	for (size_t i = 0; i < s->n_elems; i++)
		free(s->elems[i].comment);
	free(s->elems);
	free(s->name);
}

static void chain_free(struct ir_chain *c)
{
	for (size_t i = 0; i < c->n_rules; i++)
		rule_free(&c->rules[i]);
	free(c->rules);
	free(c->name);
	free(c->type);
	free(c->device);
}

void ir_ruleset_free(struct ir_ruleset *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->n_sets; i++)
		set_free(&rs->sets[i]);
	for (size_t i = 0; i < rs->n_chains; i++)
		chain_free(&rs->chains[i]);
	free(rs->sets);
	free(rs->chains);
	free(rs->table);
	free(rs);
}

static char *strdup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static void match_copy(struct ir_match *dst, const struct ir_match *src)
{
	*dst = *src;
	if (src->type == IR_MATCH_SADDR_SET || src->type == IR_MATCH_DADDR_SET)
		dst->u.set = xstrdup(src->u.set);
	else if (src->type == IR_MATCH_RATE_OVER)
		dst->u.limit.set = xstrdup(src->u.limit.set);
}

static void rule_copy(struct ir_rule *dst, const struct ir_rule *src)
{
	*dst = *src;
	dst->matches = xcalloc(src->n_matches, sizeof(*dst->matches));
	dst->cap_matches = src->n_matches;
	for (size_t i = 0; i < src->n_matches; i++)
		match_copy(&dst->matches[i], &src->matches[i]);
	dst->log_prefix = strdup_or_null(src->log_prefix);
	dst->comment = strdup_or_null(src->comment);
	dst->unknown = strdup_or_null(src->unknown);
	dst->target = strdup_or_null(src->target);
}

struct ir_ruleset *ir_ruleset_clone(const struct ir_ruleset *rs)
{
	struct ir_ruleset *c = ir_ruleset_new(rs->table);

	c->flags = rs->flags;
	for (size_t i = 0; i < rs->n_sets; i++) {
		const struct ir_set *s = &rs->sets[i];
		struct ir_set *d = ir_set_add(c, s->name, s->key, s->flags);

		d->timeout_ms = s->timeout_ms;
		d->size = s->size;
		d->policy_memory = s->policy_memory;
		d->gc_interval_ms = s->gc_interval_ms;
		d->loc = s->loc;
		d->elems = xcalloc(s->n_elems, sizeof(*d->elems));
		d->cap_elems = d->n_elems = s->n_elems;
		for (size_t j = 0; j < s->n_elems; j++) {
			d->elems[j] = s->elems[j];
			d->elems[j].comment = strdup_or_null(s->elems[j].comment);
		}
	}
	for (size_t i = 0; i < rs->n_chains; i++)
		ir_chain_add_copy(c, &rs->chains[i]);
	return c;
}

void ir_ruleset_swap_chains(struct ir_ruleset *a, struct ir_ruleset *b)
{
	struct ir_chain *c = a->chains;
	size_t n = a->n_chains, cap = a->cap_chains;

	a->chains = b->chains;
	a->n_chains = b->n_chains;
	a->cap_chains = b->cap_chains;
	b->chains = c;
	b->n_chains = n;
	b->cap_chains = cap;
}

struct ir_set *ir_set_add(struct ir_ruleset *rs, const char *name, enum ir_set_key key,
			  uint32_t flags)
{
	struct ir_set *s;

	xgrow((void **)&rs->sets, &rs->cap_sets, rs->n_sets, sizeof(*rs->sets));
	s = &rs->sets[rs->n_sets++];
	memset(s, 0, sizeof(*s));
	s->name = xstrdup(name);
	s->key = key;
	s->flags = flags;
	return s;
}

struct ir_set *ir_set_find(const struct ir_ruleset *rs, const char *name)
{
	for (size_t i = 0; i < rs->n_sets; i++)
		if (!strcmp(rs->sets[i].name, name))
			return &rs->sets[i];
	return NULL;
}

struct ir_elem *ir_set_add_elem(struct ir_set *s, const struct addr *addr,
				unsigned prefix_len, const char *comment)
{
	struct ir_elem *e;

	xgrow((void **)&s->elems, &s->cap_elems, s->n_elems, sizeof(*s->elems));
	e = &s->elems[s->n_elems++];
	memset(e, 0, sizeof(*e));
	e->addr = *addr;
	e->prefix_len = prefix_len;
	e->comment = strdup_or_null(comment);
	return e;
}

int ir_elem_cmp(const struct ir_elem *a, const struct ir_elem *b)
{
	int r = addr_cmp(&a->addr, &b->addr);

	if (r)
		return r;
	return a->prefix_len < b->prefix_len ? -1 : a->prefix_len > b->prefix_len;
}

const struct ir_elem *ir_set_find_elem(const struct ir_set *s, const struct addr *addr,
				       unsigned prefix_len)
{
	struct ir_elem key = { .addr = *addr, .prefix_len = prefix_len };
	size_t lo = 0, hi = s->n_elems;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = ir_elem_cmp(&s->elems[mid], &key);

		if (!r)
			return &s->elems[mid];
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

struct ir_chain *ir_chain_add(struct ir_ruleset *rs, const char *name, enum ir_hook hook,
			      int priority)
{
	struct ir_chain *c;

	xgrow((void **)&rs->chains, &rs->cap_chains, rs->n_chains, sizeof(*rs->chains));
	c = &rs->chains[rs->n_chains++];
	memset(c, 0, sizeof(*c));
	c->name = xstrdup(name);
	c->hook = hook;
	c->priority = priority;
	return c;
}

struct ir_chain *ir_chain_add_like(struct ir_ruleset *rs, const struct ir_chain *src)
{
	struct ir_chain *d = ir_chain_add(rs, src->name, src->hook, src->priority);

	d->policy_drop = src->policy_drop;
	d->type = strdup_or_null(src->type);
	d->device = strdup_or_null(src->device);
	return d;
}

struct ir_chain *ir_chain_add_copy(struct ir_ruleset *rs, const struct ir_chain *src)
{
	struct ir_chain *d = ir_chain_add_like(rs, src);

	d->rules = xcalloc(src->n_rules, sizeof(*d->rules));
	d->cap_rules = d->n_rules = src->n_rules;
	for (size_t j = 0; j < src->n_rules; j++)
		rule_copy(&d->rules[j], &src->rules[j]);
	return d;
}

struct ir_chain *ir_chain_find(const struct ir_ruleset *rs, const char *name)
{
	for (size_t i = 0; i < rs->n_chains; i++)
		if (!strcmp(rs->chains[i].name, name))
			return &rs->chains[i];
	return NULL;
}

struct ir_rule *ir_rule_add(struct ir_chain *c, const char *comment, const struct loc *loc)
{
	struct ir_rule *r;

	xgrow((void **)&c->rules, &c->cap_rules, c->n_rules, sizeof(*c->rules));
	r = &c->rules[c->n_rules++];
	memset(r, 0, sizeof(*r));
	r->counter = true;
	r->comment = strdup_or_null(comment);
	if (loc)
		r->loc = *loc;
	return r;
}

struct ir_rule *ir_rule_add_copy(struct ir_chain *c, const struct ir_rule *src)
{
	struct ir_rule *r;

	xgrow((void **)&c->rules, &c->cap_rules, c->n_rules, sizeof(*c->rules));
	r = &c->rules[c->n_rules++];
	rule_copy(r, src);
	return r;
}

struct ir_match *ir_rule_add_match(struct ir_rule *r, enum ir_match_type type)
{
	struct ir_match *m;

	xgrow((void **)&r->matches, &r->cap_matches, r->n_matches, sizeof(*r->matches));
	m = &r->matches[r->n_matches++];
	memset(m, 0, sizeof(*m));
	m->type = type;
	return m;
}

struct ir_match *ir_rule_match_num(struct ir_rule *r, enum ir_match_type type, uint32_t num)
{
	struct ir_match *m = ir_rule_add_match(r, type);

	m->u.num = num;
	return m;
}

struct ir_match *ir_rule_match_set(struct ir_rule *r, enum ir_match_type type, const char *set)
{
	struct ir_match *m = ir_rule_add_match(r, type);

	m->u.set = xstrdup(set);
	return m;
}

struct ir_match *ir_rule_match_prefix(struct ir_rule *r, enum ir_match_type type,
				      const struct addr *addr, unsigned len)
{
	struct ir_match *m = ir_rule_add_match(r, type);

	m->u.prefix.addr = *addr;
	m->u.prefix.len = len;
	return m;
}

struct ir_match *ir_rule_match_ifname(struct ir_rule *r, enum ir_match_type type,
				      const char *ifname)
{
	struct ir_match *m = ir_rule_add_match(r, type);

	snprintf(m->u.ifname, sizeof(m->u.ifname), "%s", ifname);
	return m;
}

void ir_rule_set_log(struct ir_rule *r, const char *prefix)
{
	free(r->log_prefix);
	r->log_prefix = strdup_or_null(prefix);
}

struct ir_rule *ir_rule_insert_copy(struct ir_chain *c, size_t i)
{
	struct ir_rule copy;

	assert(i < c->n_rules);
	rule_copy(&copy, &c->rules[i]);
	xgrow((void **)&c->rules, &c->cap_rules, c->n_rules, sizeof(*c->rules));
	memmove(&c->rules[i + 1], &c->rules[i], (c->n_rules - i) * sizeof(*c->rules));
	c->rules[i] = copy;
	c->n_rules++;
	return &c->rules[i];
}

static int elem_qsort_cmp(const void *a, const void *b)
{
	return ir_elem_cmp(a, b);
}

static int set_qsort_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ir_set *)a)->name, ((const struct ir_set *)b)->name);
}

/* compile: the compiler appends the resolver's sorted, unique addresses;
 * one pass finds that out and keeps the sort linear for them. */
static bool set_sorted_unique(const struct ir_set *s)
{
	for (size_t i = 1; i < s->n_elems; i++)
		if (ir_elem_cmp(&s->elems[i - 1], &s->elems[i]) >= 0)
			return false;
	return true;
}

/* Byte d of an element's sort key: the address bytes, then the prefix
 * length (klen is 4 or 16). */
static uint8_t key_byte(const struct ir_elem *e, unsigned d, unsigned klen)
{
	return d < klen ? e->addr.bytes[d] : (uint8_t)e->prefix_len;
}

/* One stable counting-sort pass over byte d; false when every element has
 * the same byte there (nothing to do). */
static bool radix_pass(const struct ir_elem *v, unsigned d, unsigned klen, const uint32_t *in,
		       uint32_t *out, size_t n)
{
	size_t count[257] = { 0 };

	for (size_t i = 0; i < n; i++)
		count[key_byte(&v[in[i]], d, klen) + 1]++;
	for (unsigned b = 0; b < 256; b++) {
		if (count[b + 1] == n)
			return false;
		count[b + 1] += count[b];
	}
	for (size_t i = 0; i < n; i++)
		out[count[key_byte(&v[in[i]], d, klen)]++] = in[i];
	return true;
}

/* LSD radix sort by (address, prefix length), the order of ir_elem_cmp for
 * one family: read-back hands over 100,000 elements in hash order, and a
 * comparison sort of them was most of its user time. false (nothing done)
 * when the set mixes families. */
static bool radix_sort_elems(struct ir_set *s)
{
	size_t n = s->n_elems;
	int family = s->elems[0].addr.family;
	unsigned klen = family == AF_INET ? 4 : 16;
	uint32_t *idx, *tmp, *t;
	struct ir_elem *sorted;

	for (size_t i = 1; i < n; i++)
		if (s->elems[i].addr.family != family)
			return false;
	idx = xreallocarray(NULL, n, sizeof(*idx));
	tmp = xreallocarray(NULL, n, sizeof(*tmp));
	for (size_t i = 0; i < n; i++)
		idx[i] = (uint32_t)i;
	for (unsigned d = klen + 1; d-- > 0;) {
		if (!radix_pass(s->elems, d, klen, idx, tmp, n))
			continue;
		t = idx;
		idx = tmp;
		tmp = t;
	}
	sorted = xreallocarray(NULL, n, sizeof(*sorted));
	for (size_t i = 0; i < n; i++)
		sorted[i] = s->elems[idx[i]];
	free(s->elems);
	s->elems = sorted;
	s->cap_elems = n;
	free(idx);
	free(tmp);
	return true;
}

/* Sets are small but for upstreams: a comparison sort below this. */
#define RADIX_MIN 256

void ir_set_sort(struct ir_set *s)
{
	size_t out = 0;

	if (set_sorted_unique(s))
		return;
	if (s->n_elems < RADIX_MIN || s->n_elems > UINT32_MAX || !radix_sort_elems(s))
		xsort(s->elems, s->n_elems, sizeof(*s->elems), elem_qsort_cmp);
	for (size_t i = 0; i < s->n_elems; i++) {
		if (out && !ir_elem_cmp(&s->elems[out - 1], &s->elems[i])) {
			free(s->elems[i].comment);
			continue;
		}
		s->elems[out++] = s->elems[i];
	}
	s->n_elems = out;
}

void ir_ruleset_sort(struct ir_ruleset *rs)
{
	if (rs->n_sets)
		xsort(rs->sets, rs->n_sets, sizeof(*rs->sets), set_qsort_cmp);
	for (size_t i = 0; i < rs->n_sets; i++)
		ir_set_sort(&rs->sets[i]);
}

/* Equality is drift detection: `diff`, `status` and the idempotent `apply`
 * rest on it, so it compares every attribute that changes what a packet
 * meets, and a read-back attribute the IR cannot express makes the object
 * differ (ir_rule.unknown, IR_SET_FOREIGN, table flags, chain type and
 * devices, set policy and gc interval), never match. It ignores only what
 * cannot change a verdict:
 *   - rule counters (packets, bytes) and handles: the kernel's own state;
 *   - element expiry (expires_ms): time left, counting down by itself;
 *   - policy locations (loc): where a rule came from, not what it does.
 * The nft read-back leaves out, for the same reason: use counts; handles
 * of tables, chains and sets; chain counters; the owner's port id of an
 * owned table (the owner flag itself is compared); anonymous set names and
 * batch ids; the userdata nft writes (key byte order, comments of tables,
 * chains and sets; a rule's comment is kept); a base chain's "base" flag
 * (the kernel refuses every other chain flag on an inet base chain); and
 * the elements of dynamic sets, which traffic fills. Rule and element
 * comments and element timeouts are compared: the comments are ntpwall's
 * ids, a timeout is when the address stops being let through. What nft
 * merges or re-encodes when it loads a script (one compare for
 * sport+dport, a family's own reject code, byte-aligned prefix loads,
 * ranges) is raised to the IR ntpwall lowers, so the same filter reads
 * back equal however it was loaded. */
static bool str_equal(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return !strcmp(a, b);
}

bool ir_match_equal(const struct ir_match *a, const struct ir_match *b)
{
	if (a->type != b->type || a->negate != b->negate)
		return false;
	switch (a->type) {
	case IR_MATCH_IIFNAME:
	case IR_MATCH_OIFNAME:
		return !strncmp(a->u.ifname, b->u.ifname, sizeof(a->u.ifname));
	case IR_MATCH_SADDR:
	case IR_MATCH_DADDR:
		return a->u.prefix.len == b->u.prefix.len &&
		       !addr_cmp(&a->u.prefix.addr, &b->u.prefix.addr);
	case IR_MATCH_SADDR_SET:
	case IR_MATCH_DADDR_SET:
		return !strcmp(a->u.set, b->u.set);
	case IR_MATCH_RATE_OVER:
		return !strcmp(a->u.limit.set, b->u.limit.set) && a->u.limit.rate == b->u.limit.rate &&
		       a->u.limit.unit_s == b->u.limit.unit_s && a->u.limit.burst == b->u.limit.burst &&
		       a->u.limit.prefix_len == b->u.limit.prefix_len;
	case IR_MATCH_LIMIT:
		return a->u.rate.rate == b->u.rate.rate && a->u.rate.unit_s == b->u.rate.unit_s &&
		       a->u.rate.burst == b->u.rate.burst;
	default:
		return a->u.num == b->u.num;
	}
}

bool ir_rule_equal(const struct ir_rule *a, const struct ir_rule *b)
{
	if (a->n_matches != b->n_matches || a->counter != b->counter || a->notrack != b->notrack ||
	    a->verdict != b->verdict || !str_equal(a->log_prefix, b->log_prefix) ||
	    !str_equal(a->comment, b->comment) || !str_equal(a->unknown, b->unknown) ||
	    !str_equal(a->target, b->target))
		return false;
	for (size_t i = 0; i < a->n_matches; i++)
		if (!ir_match_equal(&a->matches[i], &b->matches[i]))
			return false;
	return true;
}

bool ir_elem_equal(const struct ir_elem *a, const struct ir_elem *b)
{
	return !ir_elem_cmp(a, b) && a->timeout_ms == b->timeout_ms &&
	       str_equal(a->comment, b->comment);
}

bool ir_set_def_equal(const struct ir_set *a, const struct ir_set *b)
{
	return !strcmp(a->name, b->name) && a->key == b->key && a->flags == b->flags &&
	       a->timeout_ms == b->timeout_ms && a->size == b->size &&
	       a->policy_memory == b->policy_memory && a->gc_interval_ms == b->gc_interval_ms;
}

bool ir_set_equal(const struct ir_set *a, const struct ir_set *b)
{
	if (!ir_set_def_equal(a, b) || a->n_elems != b->n_elems)
		return false;
	for (size_t i = 0; i < a->n_elems; i++)
		if (!ir_elem_equal(&a->elems[i], &b->elems[i]))
			return false;
	return true;
}

bool ir_chain_equal(const struct ir_chain *a, const struct ir_chain *b)
{
	if (strcmp(a->name, b->name) || a->hook != b->hook || a->priority != b->priority ||
	    a->policy_drop != b->policy_drop || !str_equal(a->type, b->type) ||
	    !str_equal(a->device, b->device) || a->n_rules != b->n_rules)
		return false;
	for (size_t i = 0; i < a->n_rules; i++)
		if (!ir_rule_equal(&a->rules[i], &b->rules[i]))
			return false;
	return true;
}

bool ir_ruleset_same_shape(const struct ir_ruleset *a, const struct ir_ruleset *b)
{
	if (strcmp(a->table, b->table) || a->flags != b->flags || a->n_sets != b->n_sets ||
	    a->n_chains != b->n_chains)
		return false;
	for (size_t i = 0; i < a->n_sets; i++)
		if (!ir_set_def_equal(&a->sets[i], &b->sets[i]))
			return false;
	/* Chains compare by name: the kernel lists them in its own order. */
	for (size_t i = 0; i < a->n_chains; i++) {
		const struct ir_chain *c = ir_chain_find(b, a->chains[i].name);

		if (!c || !ir_chain_equal(&a->chains[i], c))
			return false;
	}
	return true;
}

bool ir_ruleset_equal(const struct ir_ruleset *a, const struct ir_ruleset *b)
{
	if (!ir_ruleset_same_shape(a, b))
		return false;
	for (size_t i = 0; i < a->n_sets; i++)
		if (!ir_set_equal(&a->sets[i], &b->sets[i]))
			return false;
	return true;
}

bool ir_ruleset_foreign(const struct ir_ruleset *rs)
{
	/* What read-back fills in but apply never makes. */
	if (rs->flags)
		return true;
	for (size_t i = 0; i < rs->n_sets; i++) {
		const struct ir_set *s = &rs->sets[i];

		if ((s->flags & IR_SET_FOREIGN) || s->policy_memory || s->gc_interval_ms)
			return true;
	}
	for (size_t i = 0; i < rs->n_chains; i++) {
		const struct ir_chain *c = &rs->chains[i];

		if (c->type || c->device || c->hook > IR_HOOK_OUTPUT)
			return true;
		for (size_t j = 0; j < c->n_rules; j++)
			if (c->rules[j].unknown)
				return true;
	}
	return false;
}

const char *ir_set_key_name(enum ir_set_key k)
{
	return k == IR_KEY_IPV4 ? "ipv4_addr" : "ipv6_addr";
}

const char *ir_hook_name(enum ir_hook h)
{
	static const char *const names[] = {
		"none", "prerouting", "input", "output", "forward", "postrouting", "ingress",
	};

	return h < ARRAY_SIZE(names) ? names[h] : "?";
}

const char *ir_verdict_name(enum ir_verdict v)
{
	static const char *const names[] = { "none", "accept", "drop", "reject", "jump", "goto" };

	return v < ARRAY_SIZE(names) ? names[v] : "?";
}

const char *ir_match_type_name(enum ir_match_type t)
{
	static const char *const names[] = {
		"iifname", "oifname", "nfproto", "l4proto", "sport", "dport", "saddr", "daddr",
		"saddr_set", "daddr_set", "ct_state", "ntp_mode", "ntp_version", "ntp_opcode",
		"rate_over", "limit",
	};

	return t < ARRAY_SIZE(names) ? names[t] : "?";
}

/* 4 or 6 for a rule of one family only, 0 for one of both. */
static int rule_family(const struct ir_rule *r)
{
	for (size_t i = 0; i < r->n_matches; i++)
		if (r->matches[i].type == IR_MATCH_NFPROTO && !r->matches[i].negate)
			return r->matches[i].u.num == IR_NFPROTO_IPV4 ? 4 : 6;
	return 0;
}

void ir_ruleset_group(struct ir_ruleset *rs,
		      int (*key)(const struct ir_chain *c, const struct ir_rule *r),
		      unsigned n_keys)
{
	for (size_t i = 0; i < rs->n_chains; i++) {
		struct ir_chain *c = &rs->chains[i];
		struct ir_rule *tmp = xcalloc(c->n_rules + 1, sizeof(*tmp));

		for (size_t start = 0; start < c->n_rules;) {
			size_t end = start, out = 0;

			while (end < c->n_rules && key(c, &c->rules[end]) >= 0)
				end++;
			for (unsigned k = 0; k < n_keys; k++)
				for (size_t j = start; j < end; j++)
					if (key(c, &c->rules[j]) == (int)k)
						tmp[out++] = c->rules[j];
			memcpy(&c->rules[start], tmp, out * sizeof(*tmp));
			start = end + 1;
		}
		free(tmp);
	}
}

/* IPv4 only 0, IPv6 only 1, both -1. */
static int family_key(const struct ir_chain *c, const struct ir_rule *r)
{
	int fam = rule_family(r);

	return fam == 4 ? 0 : fam == 6 ? 1 : -1;
}

void ir_ruleset_group_families(struct ir_ruleset *rs)
{
	ir_ruleset_group(rs, family_key, 2);
}
