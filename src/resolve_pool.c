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

static size_t addr_len(const struct policy_addr *a)
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

static uint64_t pool_weight(const char *seed, const char *name, const struct policy_addr *a)
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
	struct policy_addr addr;
	uint64_t weight;
	bool previous;
};

/* Previous choices first, then highest weight; the address breaks ties. */
static int ranked_cmp(const void *x, const void *y)
{
	const struct ranked *a = x, *b = y;

	if (a->previous != b->previous)
		return a->previous ? -1 : 1;
	if (a->weight != b->weight)
		return a->weight > b->weight ? -1 : 1;
	return policy_addr_cmp(&a->addr, &b->addr);
}

static int addr_cmp(const void *x, const void *y)
{
	return policy_addr_cmp(x, y);
}

static bool addr_in(const struct policy_addr *a, const struct policy_addr *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!policy_addr_cmp(a, &v[i]))
			return true;
	return false;
}

size_t resolve_pool_pick(const char *seed, const char *name, const struct policy_addr *found,
			 size_t n, const struct policy_addr *prev, size_t n_prev, unsigned max,
			 struct policy_addr *out)
{
	struct ranked *r;
	size_t k;

	if (!n)
		return 0;
	if (!seed)
		seed = "";
	r = xcalloc(n, sizeof(*r));
	for (size_t i = 0; i < n; i++) {
		r[i].addr = found[i];
		r[i].weight = pool_weight(seed, name, &found[i]);
		r[i].previous = addr_in(&found[i], prev, n_prev);
	}
	xsort(r, n, sizeof(*r), ranked_cmp);
	k = max && max < n ? max : n;
	for (size_t i = 0; i < k; i++)
		out[i] = r[i].addr;
	free(r);
	xsort(out, k, sizeof(*out), addr_cmp);
	return k;
}

void resolve_acc_add(struct resolve_acc *a, const struct policy_addr *addr, uint32_t ttl)
{
	size_t lo = 0, hi = a->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = policy_addr_cmp(&a->v[mid].addr, addr);

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
	struct policy_addr addr;
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
	int c = policy_addr_cmp(&a->addr, &b->addr);

	if (c)
		return c;
	return (a->origin > b->origin) - (a->origin < b->origin);
}

static uint32_t acc_ttl(const struct resolve_acc *a, const struct policy_addr *addr)
{
	for (size_t i = 0; i < a->n; i++)
		if (!policy_addr_cmp(&a->v[i].addr, addr))
			return a->v[i].ttl;
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

		if (!a || policy_addr_cmp(&a->addr, &x->addr)) {
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

void resolve_build_sets(struct resolved *r, const struct policy *p, const struct resolve_acc *acc)
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
			x.ttl = acc ? acc_ttl(&acc[i], &x.addr) : 0;
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

struct resolved *resolve_literals(const struct policy *p)
{
	struct resolved *r = xcalloc(1, sizeof(*r));

	resolve_build_sets(r, p, NULL);
	return r;
}

static void free_addrs(struct resolve_addr *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].origins);
	free(v);
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
	}
	free(r->names);
	free(r->resolvers);
	free(r);
}
