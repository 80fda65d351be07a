/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The resolver's pure half: which addresses of a pool are kept, and how the
 * addresses of every name and literal become the sorted, de-duplicated
 * upstream and peer sets. No DNS here, so all of it is unit tested. */
#include "resolve_int.h"
#include "ntpwall/util.h"

#include <string.h>
#include <sys/socket.h>

static const char *const status_names[] = {
	[RESOLVE_OK] = "ok",
	[RESOLVE_NXDOMAIN] = "NXDOMAIN",
	[RESOLVE_NODATA] = "NODATA",
	[RESOLVE_SERVFAIL] = "SERVFAIL",
	[RESOLVE_REFUSED] = "REFUSED",
	[RESOLVE_TIMEOUT] = "timeout",
	[RESOLVE_ERROR] = "error",
};

const char *resolve_status_str(enum resolve_status s)
{
	if ((size_t)s >= ARRAY_SIZE(status_names))
		return "error";
	return status_names[s];
}

unsigned resolve_family_bit(int family)
{
	return family == AF_INET ? POLICY_FAMILY_IPV4 : POLICY_FAMILY_IPV6;
}

static size_t addr_len(const struct addr *a)
{
	return a->family == AF_INET ? 4 : 16;
}

/* FNV-1a over the bytes, then a splitmix64 finaliser: FNV alone mixes the
 * last bytes (where pool addresses differ) poorly into the high bits. */
static uint64_t hash_bytes(uint64_t h, const void *data, size_t len)
{
	const uint8_t *b = data;

	for (size_t i = 0; i < len; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static uint64_t pool_weight(const char *seed, const char *name, const struct addr *a)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	uint8_t fam = (uint8_t)a->family;

	h = hash_bytes(h, seed, strlen(seed) + 1);
	h = hash_bytes(h, name, strlen(name) + 1);
	h = hash_bytes(h, &fam, 1);
	h = hash_bytes(h, a->bytes, addr_len(a));
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h;
}

struct ranked {
	struct addr addr;
	uint64_t weight;
	bool previous;
};

/* Previous members first, then highest weight; the address breaks ties. */
static int ranked_cmp(const void *x, const void *y)
{
	const struct ranked *a = x, *b = y;

	if (a->previous != b->previous)
		return a->previous ? -1 : 1;
	if (a->weight != b->weight)
		return a->weight > b->weight ? -1 : 1;
	return addr_cmp(&a->addr, &b->addr);
}

static int cmp_addrs(const void *x, const void *y)
{
	return addr_cmp(x, y);
}

static bool addr_in(const struct addr *a, const struct addr *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!addr_cmp(a, &v[i]))
			return true;
	return false;
}

/* Candidates of one family: previous members (sticky: with a max they stay
 * whether or not this answer holds them) and this run's answers, none
 * excluded, each once. */
static size_t candidates(const struct resolve_pick *k, int family, struct ranked *r)
{
	size_t n = 0;

	for (size_t i = 0; k->max && i < k->n_prev; i++) {
		const struct addr *a = &k->prev[i];

		if (a->family != family || addr_in(a, k->excluded, k->n_excluded))
			continue;
		r[n++] = (struct ranked){ *a, pool_weight(k->seed, k->name, a), true };
	}
	for (size_t i = 0; i < k->n_found; i++) {
		const struct addr *a = &k->found[i];
		bool dup = false;

		if (a->family != family || addr_in(a, k->excluded, k->n_excluded))
			continue;
		for (size_t j = 0; j < n && !dup; j++)
			dup = !addr_cmp(&r[j].addr, a);
		if (dup)
			continue;
		r[n++] = (struct ranked){ *a, pool_weight(k->seed, k->name, a),
					  addr_in(a, k->prev, k->n_prev) };
	}
	return n;
}

size_t resolve_pool_choose(const struct resolve_pick *k, struct addr *out)
{
	static const int families[] = { AF_INET, AF_INET6 };
	struct resolve_pick kk = *k;
	struct ranked *r = xcalloc(k->n_found + k->n_prev + 1, sizeof(*r));
	size_t total = 0;

	if (!kk.seed)
		kk.seed = "";
	/* max counts per family: an IPv4-only host must not be left with
	 * IPv6 members only. */
	for (size_t f = 0; f < ARRAY_SIZE(families); f++) {
		size_t n = candidates(&kk, families[f], r), take;

		xsort(r, n, sizeof(*r), ranked_cmp);
		take = kk.max && kk.max < n ? kk.max : n;
		for (size_t i = 0; i < take; i++)
			out[total++] = r[i].addr;
	}
	free(r);
	xsort(out, total, sizeof(*out), cmp_addrs);
	return total;
}

void resolve_acc_add(struct resolve_acc *a, const struct addr *addr, uint32_t ttl)
{
	size_t lo = 0, hi = a->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = addr_cmp(&a->v[mid].addr, addr);

		if (!c) {
			if (ttl < a->v[mid].ttl)
				a->v[mid].ttl = ttl;
			return;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	xgrow((void **)&a->v, &a->cap, a->n, sizeof(*a->v));
	memmove(&a->v[lo + 1], &a->v[lo], (a->n - lo) * sizeof(*a->v));
	a->v[lo] = (struct resolve_found){ *addr, ttl };
	a->n++;
}

const struct policy_host *resolve_name_host(const struct policy *p, const struct resolve_name *n)
{
	if (n->role == RESOLVE_ROLE_PEER)
		return &p->peers[n->index];
	return &p->upstreams[n->index].host;
}

/* One address from one origin, before de-duplication. */
struct entry {
	struct addr addr;
	uint32_t ttl;
	bool literal;
	bool nts;
	size_t origin;
};

struct entries {
	struct entry *v;
	size_t n, cap;
};

static void entry_add(struct entries *e, const struct entry *x)
{
	xgrow((void **)&e->v, &e->cap, e->n, sizeof(*e->v));
	e->v[e->n++] = *x;
}

static int entry_cmp(const void *x, const void *y)
{
	const struct entry *a = x, *b = y;
	int c = addr_cmp(&a->addr, &b->addr);

	if (c)
		return c;
	return (a->origin > b->origin) - (a->origin < b->origin);
}

static uint32_t found_ttl(const struct resolve_name *nm, const struct addr *addr)
{
	for (size_t i = 0; nm->found && i < nm->n_found; i++)
		if (!addr_cmp(&nm->found[i].addr, addr))
			return nm->found[i].ttl;
	return 0;
}

/* A literal origin makes the address permanent: it must not expire with the
 * TTL of a name that happens to give the same address. */
static void merge(const struct entries *e, struct resolve_addr **out, size_t *n_out)
{
	struct resolve_addr *v = xcalloc(e->n ? e->n : 1, sizeof(*v));
	size_t n = 0;

	for (size_t i = 0; i < e->n; i++) {
		const struct entry *x = &e->v[i];
		struct resolve_addr *a = n ? &v[n - 1] : NULL;
		uint32_t ttl = x->literal ? RESOLVE_TTL_LITERAL : x->ttl;

		if (!a || addr_cmp(&a->addr, &x->addr)) {
			a = &v[n++];
			a->addr = x->addr;
			a->ttl = ttl;
		}
		if (ttl == RESOLVE_TTL_LITERAL || a->ttl == RESOLVE_TTL_LITERAL)
			a->ttl = RESOLVE_TTL_LITERAL;
		else if (ttl < a->ttl)
			a->ttl = ttl;
		a->nts |= x->nts;
		/* Entries are sorted by origin too: a repeat is the last one. */
		if (a->n_origins && a->origins[a->n_origins - 1] == x->origin)
			continue;
		a->origins = xreallocarray(a->origins, a->n_origins + 1, sizeof(*a->origins));
		a->origins[a->n_origins++] = x->origin;
	}
	*out = v;
	*n_out = n;
}

static void add_host(struct entries *e, const struct policy *p, const struct policy_host *h,
		     size_t origin, bool nts)
{
	struct entry x = { h->addr, RESOLVE_TTL_LITERAL, true, nts, origin };

	if (h->literal && (p->families & resolve_family_bit(h->addr.family)))
		entry_add(e, &x);
}

void resolve_build_sets(struct resolved *r, const struct policy *p)
{
	struct entries up = { 0 }, peer = { 0 };

	for (size_t i = 0; i < p->n_upstreams; i++)
		add_host(&up, p, &p->upstreams[i].host, i, p->upstreams[i].nts);
	for (size_t i = 0; i < p->n_peers; i++)
		add_host(&peer, p, &p->peers[i], i, false);
	for (size_t i = 0; i < r->n_names; i++) {
		const struct resolve_name *nm = &r->names[i];
		bool is_peer = nm->role == RESOLVE_ROLE_PEER;
		struct entry x = { .origin = nm->index,
				   .nts = !is_peer && p->upstreams[nm->index].nts };

		for (size_t j = 0; j < nm->n_kept; j++) {
			x.addr = nm->addrs[j];
			x.ttl = found_ttl(nm, &x.addr);
			entry_add(is_peer ? &peer : &up, &x);
		}
	}
	xsort(up.v, up.n, sizeof(*up.v), entry_cmp);
	xsort(peer.v, peer.n, sizeof(*peer.v), entry_cmp);
	merge(&up, &r->upstreams, &r->n_upstreams);
	merge(&peer, &r->peers, &r->n_peers);
	free(up.v);
	free(peer.v);
}

static void free_addrs(struct resolve_addr *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].origins);
	free(v);
}

struct resolved *resolve_literals(const struct policy *p)
{
	struct resolved *r = xcalloc(1, sizeof(*r));

	resolve_build_sets(r, p);
	return r;
}

static const struct resolve_name *previous_name(const struct resolve_options *o,
						const struct resolve_name *nm)
{
	if (!o || !o->previous)
		return NULL;
	for (size_t i = 0; i < o->previous->n_names; i++) {
		const struct resolve_name *x = &o->previous->names[i];

		if (x->role == nm->role && !strcmp(x->name, nm->name))
			return x;
	}
	return NULL;
}

void resolve_choose_name(const struct policy *p, const struct resolve_options *o,
			 struct resolve_name *nm)
{
	const struct resolve_name *prev = previous_name(o, nm);
	struct addr *found = xcalloc(nm->n_found + 1, sizeof(*found));
	struct resolve_pick k = { .seed = o ? o->seed : NULL, .name = nm->name, .found = found,
				  .n_found = nm->n_found };

	for (size_t j = 0; j < nm->n_found; j++)
		found[j] = nm->found[j].addr;
	/* Only a pool's members are chosen; a server name gives all it has. */
	if (nm->role == RESOLVE_ROLE_UPSTREAM &&
	    p->upstreams[nm->index].kind == POLICY_UPSTREAM_POOL) {
		k.max = p->upstreams[nm->index].max;
		k.prev = prev ? prev->addrs : NULL;
		k.n_prev = prev ? prev->n_kept : 0;
		k.excluded = o ? o->excluded : NULL;
		k.n_excluded = o ? o->n_excluded : 0;
	}
	free(nm->addrs);
	nm->addrs = xcalloc(k.n_found + k.n_prev + 1, sizeof(*nm->addrs));
	nm->n_kept = resolve_pool_choose(&k, nm->addrs);
	/* A sticky member the answers lack keeps only the wanted families. */
	for (size_t j = 0, m = 0; j <= nm->n_kept; j++) {
		if (j == nm->n_kept) {
			nm->n_kept = m;
			break;
		}
		if (p->families & resolve_family_bit(nm->addrs[j].family))
			nm->addrs[m++] = nm->addrs[j];
	}
	free(found);
}

void resolve_rechoose(struct resolved *r, const struct policy *p, const struct resolve_options *o)
{
	for (size_t i = 0; i < r->n_names; i++)
		if (!r->names[i].kept_previous)
			resolve_choose_name(p, o, &r->names[i]);
	free_addrs(r->upstreams, r->n_upstreams);
	free_addrs(r->peers, r->n_peers);
	r->upstreams = r->peers = NULL;
	r->n_upstreams = r->n_peers = 0;
	resolve_build_sets(r, p);
}

void resolve_free(struct resolved *r)
{
	if (!r)
		return;
	free_addrs(r->upstreams, r->n_upstreams);
	free_addrs(r->peers, r->n_peers);
	for (size_t i = 0; i < r->n_names; i++) {
		free(r->names[i].name);
		free(r->names[i].message);
		free(r->names[i].addrs);
		free(r->names[i].found);
	}
	free(r->names);
	free(r->resolvers);
	free(r);
}
