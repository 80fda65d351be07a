/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Compile stage, part one: a policy and its resolved addresses to the sets of
 * the rule model, then the chains (compile_rules.c). Only the sets a policy
 * needs exist, and only for the families it filters. Linear in the number of
 * addresses apart from the final sort. */
#include "compile_int.h"
#include "ntpwall/util.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

static const enum ir_set_key cf_key[CF_N] = { IR_KEY_IPV4, IR_KEY_IPV6 };

static int cf_of(int af)
{
	return af == AF_INET ? CF_V4 : CF_V6;
}

static unsigned full_len(int af)
{
	return af == AF_INET ? 32 : 128;
}

/* Adds set <base>4 or <base>6 and returns its name, owned by the set; look
 * the set up again by name after adding others (the array moves). */
static const char *new_set(struct compile_ctx *cx, const char *base, int f, uint32_t flags)
{
	char name[32];

	snprintf(name, sizeof(name), "%s%c", base, f == CF_V4 ? '4' : '6');
	return ir_set_add(cx->rs, name, cf_key[f], flags)->name;
}

static struct ir_set *set_of(struct compile_ctx *cx, const char *name)
{
	return name ? ir_set_find(cx->rs, name) : NULL;
}

/* Appends name to a comma-separated comment, keeping it within nft's limit:
 * once a name no longer fits, "..." marks that more origins exist. */
static void comment_add(char *buf, size_t size, const char *name)
{
	size_t len = strlen(buf), nlen = strlen(name);

	if (len >= 3 && !strcmp(buf + len - 3, "..."))
		return;
	if (len + (len ? 1 : 0) + nlen < size) {
		if (len)
			buf[len++] = ',';
		memcpy(buf + len, name, nlen + 1);
	} else if (!len) {
		memcpy(buf, name, size - 4);
		memcpy(buf + size - 4, "...", 4);
	} else if (len + 4 < size) {
		memcpy(buf + len, ",...", 5);
	} else {
		memcpy(buf + size - 4, "...", 4);
	}
}

/* An address's element: literal addresses in the policy never expire;
 * addresses only a DNS name gave expire after refresh.expire unless a
 * refresh sees them again. The comment names the DNS origins. */
static void add_resolved(struct compile_ctx *cx, struct ir_set *s, const struct resolve_addr *a,
			 const struct policy_host *(*host)(const struct policy *, size_t))
{
	char comment[COMPILE_COMMENT_MAX + 1] = "";
	bool literal = a->ttl == RESOLVE_TTL_LITERAL;
	struct ir_elem *e;

	for (size_t i = 0; i < a->n_origins; i++) {
		const struct policy_host *h = host(cx->p, a->origins[i]);

		if (h->literal)
			literal = true;
		else
			comment_add(comment, sizeof(comment), h->name);
	}
	e = ir_set_add_elem(s, &a->addr, full_len(a->addr.family), comment[0] ? comment : NULL);
	if (!literal)
		e->timeout_ms = cx->p->refresh.expire_ms;
}

static const struct policy_host *upstream_host(const struct policy *p, size_t i)
{
	return &p->upstreams[i].host;
}

static const struct policy_host *peer_host(const struct policy *p, size_t i)
{
	return &p->peers[i];
}

/* Which families may ever hold addresses of a list: those of its literals,
 * and every family as soon as one entry is a name (a refresh may add them). */
static void host_families(const struct policy_host *h, bool want[CF_N])
{
	if (h->literal) {
		want[cf_of(h->addr.family)] = true;
	} else {
		want[CF_V4] = true;
		want[CF_V6] = true;
	}
}

static void build_upstream_sets(struct compile_ctx *cx)
{
	bool want[CF_N] = { false }, want_nts[CF_N] = { false };

	for (size_t i = 0; i < cx->p->n_upstreams; i++) {
		host_families(&cx->p->upstreams[i].host, want);
		if (cx->p->upstreams[i].nts)
			host_families(&cx->p->upstreams[i].host, want_nts);
	}
	for (int f = 0; f < CF_N; f++) {
		if (cx->fam[f] && want[f])
			cx->upstreams[f] = new_set(cx, "upstreams", f, IR_SET_TIMEOUT);
		if (cx->fam[f] && want_nts[f])
			cx->nts[f] = new_set(cx, "nts", f, IR_SET_TIMEOUT);
	}
	for (size_t i = 0; i < cx->r->n_upstreams; i++) {
		const struct resolve_addr *a = &cx->r->upstreams[i];
		int f = cf_of(a->addr.family);

		if (cx->upstreams[f])
			add_resolved(cx, set_of(cx, cx->upstreams[f]), a, upstream_host);
		if (a->nts && cx->nts[f])
			add_resolved(cx, set_of(cx, cx->nts[f]), a, upstream_host);
	}
}

static void build_peer_sets(struct compile_ctx *cx)
{
	bool want[CF_N] = { false };

	for (size_t i = 0; i < cx->p->n_peers; i++)
		host_families(&cx->p->peers[i], want);
	for (int f = 0; f < CF_N; f++)
		if (cx->fam[f] && want[f])
			cx->peers[f] = new_set(cx, "peers", f, IR_SET_TIMEOUT);
	for (size_t i = 0; i < cx->r->n_peers; i++) {
		const struct resolve_addr *a = &cx->r->peers[i];
		int f = cf_of(a->addr.family);

		if (cx->peers[f])
			add_resolved(cx, set_of(cx, cx->peers[f]), a, peer_host);
	}
}

static bool prefix_covers(const struct ir_elem *outer, const struct ir_elem *inner)
{
	struct policy_prefix p = { .addr = outer->addr, .len = outer->prefix_len };

	return outer->prefix_len <= inner->prefix_len && policy_prefix_contains(&p, &inner->addr);
}

/* nft refuses overlapping intervals in one set ("conflicting intervals"), so
 * a prefix inside another of the same list is dropped: sorted by address and
 * then length, a covering prefix always comes right before what it covers. */
static int elem_qsort_cmp(const void *a, const void *b)
{
	return ir_elem_cmp(a, b);
}

static void drop_covered(struct ir_set *s)
{
	size_t out = 0;

	xsort(s->elems, s->n_elems, sizeof(*s->elems), elem_qsort_cmp);
	for (size_t i = 0; i < s->n_elems; i++) {
		if (out && prefix_covers(&s->elems[out - 1], &s->elems[i])) {
			free(s->elems[i].comment);
			continue;
		}
		s->elems[out++] = s->elems[i];
	}
	s->n_elems = out;
}

/* One interval set per family holding the prefixes of l; sets[f] stays NULL
 * for a family without any. */
static void build_prefix_sets(struct compile_ctx *cx, const struct policy_prefixes *l,
			      const char *base, const char *sets[CF_N])
{
	for (size_t i = 0; i < l->n; i++) {
		int f = cf_of(l->v[i].addr.family);

		if (cx->fam[f] && !sets[f])
			sets[f] = new_set(cx, base, f, IR_SET_INTERVAL);
	}
	for (size_t i = 0; i < l->n; i++) {
		int f = cf_of(l->v[i].addr.family);

		if (sets[f])
			ir_set_add_elem(set_of(cx, sets[f]), &l->v[i].addr, l->v[i].len, NULL);
	}
	for (int f = 0; f < CF_N; f++)
		if (sets[f])
			drop_covered(set_of(cx, sets[f]));
}

/* How many sources the served prefixes of family f hold (IPv6: how many
 * /ipv6_prefix), bounded: the meter never needs more entries than that. */
static uint32_t meter_size(const struct policy *p, int f)
{
	const struct policy_prefixes *c = &p->serve.clients;
	unsigned bits = f == CF_V4 ? 32 : p->serve.ipv6_prefix;
	uint64_t n = 0;

	for (size_t i = 0; i < c->n && n < COMPILE_RL_SIZE_MAX; i++) {
		if ((c->v[i].addr.family == AF_INET) != (f == CF_V4))
			continue;
		n += c->v[i].len >= bits ? 1 :
		     bits - c->v[i].len >= 32 ? COMPILE_RL_SIZE_MAX : 1ull << (bits - c->v[i].len);
	}
	/* Up to a power of two: a small change of the client prefixes then
	 * rarely changes the set's definition, which would replace the table
	 * instead of changing its elements in place. */
	for (uint64_t p2 = COMPILE_RL_SIZE_MIN; p2 <= COMPILE_RL_SIZE_MAX; p2 <<= 1)
		if (p2 >= n)
			return (uint32_t)p2;
	return COMPILE_RL_SIZE_MAX;
}

static void build_serve_sets(struct compile_ctx *cx)
{
	const struct policy *p = cx->p;

	if (p->restrict_.ignore.n)
		build_prefix_sets(cx, &p->restrict_.ignore, "ignore", cx->ignore);
	if (!p->serve.present)
		return;
	build_prefix_sets(cx, &p->serve.clients, "clients", cx->clients);
	/* query_from only matters where noquery would drop mode 6. */
	if (p->restrict_.noquery)
		build_prefix_sets(cx, &p->restrict_.query_from, "query", cx->query);
	if (!p->serve.has_rate_limit)
		return;
	for (int f = 0; f < CF_N; f++) {
		struct ir_set *s;

		if (!cx->clients[f])
			continue;
		cx->rl[f] = new_set(cx, "rl", f, IR_SET_DYNAMIC | IR_SET_TIMEOUT);
		s = set_of(cx, cx->rl[f]);
		s->timeout_ms = COMPILE_RL_TIMEOUT_MS;
		s->size = p->serve.meter_size ? p->serve.meter_size : meter_size(p, f);
	}
}

static bool any_upstream_set(const struct compile_ctx *cx)
{
	for (int f = 0; f < CF_N; f++)
		if (cx->upstreams[f] || cx->peers[f])
			return true;
	return false;
}

static void build_all_chains(struct compile_ctx *cx)
{
	const struct policy *p = cx->p;
	bool raw = false;

	ir_chain_add(cx->rs, COMPILE_CHAIN_INPUT, IR_HOOK_INPUT, 0);
	ir_chain_add(cx->rs, COMPILE_CHAIN_OUTPUT, IR_HOOK_OUTPUT, 0);
	for (int f = 0; f < CF_N; f++)
		raw |= cx->clients[f] != NULL;
	if (p->serve.notrack && !p->restrict_.noserve && raw) {
		ir_chain_add(cx->rs, COMPILE_CHAIN_RAW_PREROUTING, IR_HOOK_PREROUTING, -300);
		ir_chain_add(cx->rs, COMPILE_CHAIN_RAW_OUTPUT, IR_HOOK_OUTPUT, -300);
	}
	/* Pointers only now: ir_chain_add() may move the chain array. */
	cx->in = ir_chain_find(cx->rs, COMPILE_CHAIN_INPUT);
	cx->out = ir_chain_find(cx->rs, COMPILE_CHAIN_OUTPUT);
	cx->raw_pre = ir_chain_find(cx->rs, COMPILE_CHAIN_RAW_PREROUTING);
	cx->raw_out = ir_chain_find(cx->rs, COMPILE_CHAIN_RAW_OUTPUT);
	/* Rules for different interfaces never match the same packet, so
	 * building the whole rule list once per interface keeps its meaning. */
	cx->if_suffix = p->n_interfaces > 1;
	if (!p->n_interfaces) {
		cx->ifname = NULL;
		compile_chains(cx);
	}
	for (size_t i = 0; i < p->n_interfaces; i++) {
		cx->ifname = p->interfaces[i];
		compile_chains(cx);
	}
	compile_log_rules(cx);
}

int compile_policy(const struct policy *p, const struct resolved *r, struct diags *d,
		   struct ir_ruleset **out)
{
	struct compile_ctx cx = { .p = p, .r = r };

	*out = NULL;
	cx.fam[CF_V4] = p->families & POLICY_FAMILY_IPV4;
	cx.fam[CF_V6] = p->families & POLICY_FAMILY_IPV6;
	cx.rs = ir_ruleset_new(p->table);
	build_upstream_sets(&cx);
	build_peer_sets(&cx);
	if (!any_upstream_set(&cx)) {
		const struct loc *l = p->n_upstreams ? &p->upstreams[0].loc : &p->loc;

		diag_add(d, l, DIAG_ERROR, NW131_EMPTY,
			 "no upstream of a family in 'families': every NTP packet would be dropped");
		ir_ruleset_free(cx.rs);
		return -EINVAL;
	}
	build_serve_sets(&cx);
	build_all_chains(&cx);
	ir_ruleset_group_modes(cx.rs);
	if (p->backend == POLICY_BACKEND_IPTABLES)
		ir_ruleset_group_families(cx.rs);
	ir_ruleset_sort(cx.rs);
	*out = cx.rs;
	return 0;
}
