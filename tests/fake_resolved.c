/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Test helper: deterministic fake resolution (see fake_resolved.h). */
#include "fake_resolved.h"
#include "ntpwall/compile.h"
#include "ntpwall/util.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t fnv(const char *s, unsigned k)
{
	uint32_t h = 2166136261u ^ k;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

void fake_add(struct resolved *r, enum resolve_role role, const struct addr *a,
	      size_t origin, uint32_t ttl, bool nts)
{
	struct resolve_addr **v = role == RESOLVE_ROLE_PEER ? &r->peers : &r->upstreams;
	size_t *n = role == RESOLVE_ROLE_PEER ? &r->n_peers : &r->n_upstreams;
	struct resolve_addr *x;

	/* Doubling at every power of two: tests add 20,000 addresses, and one
	 * realloc per address is quadratic under ASan (it always copies). */
	if (!(*n & (*n - 1)))
		*v = xreallocarray(*v, *n ? *n * 2 : 1, sizeof(**v));
	x = &(*v)[(*n)++];
	memset(x, 0, sizeof(*x));
	x->addr = *a;
	x->ttl = ttl;
	x->nts = nts;
	x->origins = xmalloc(sizeof(size_t));
	x->origins[0] = origin;
	x->n_origins = 1;
}

static int addr_qcmp(const void *a, const void *b)
{
	const struct resolve_addr *x = a, *y = b;
	int c = addr_cmp(&x->addr, &y->addr);

	if (c)
		return c;
	return x->origins[0] < y->origins[0] ? -1 : x->origins[0] > y->origins[0];
}

static void merge(struct resolve_addr *v, size_t *n)
{
	size_t out = 0;

	if (*n)
		qsort(v, *n, sizeof(*v), addr_qcmp);
	for (size_t i = 0; i < *n; i++) {
		struct resolve_addr *o = out ? &v[out - 1] : NULL;

		if (o && !addr_cmp(&o->addr, &v[i].addr)) {
			o->origins = xreallocarray(o->origins, o->n_origins + 1, sizeof(size_t));
			o->origins[o->n_origins++] = v[i].origins[0];
			o->nts |= v[i].nts;
			if (v[i].ttl < o->ttl)
				o->ttl = v[i].ttl;
			free(v[i].origins);
			continue;
		}
		v[out++] = v[i];
	}
	*n = out;
}

void fake_finish(struct resolved *r)
{
	merge(r->upstreams, &r->n_upstreams);
	merge(r->peers, &r->n_peers);
}

static void fake_v4(struct addr *a, const char *name, unsigned k)
{
	uint32_t h = fnv(name, k);

	memset(a, 0, sizeof(*a));
	a->family = AF_INET;
	/* 198.18.0.0/15, never .0 or .255 */
	a->v4.s_addr = htonl((198u << 24) | (18u << 16) | ((h >> 8) & 0x1ff00) |
			     (1 + (h & 0xff) % 254));
}

static void fake_v6(struct addr *a, const char *name, unsigned k)
{
	uint32_t h = fnv(name, k);

	memset(a, 0, sizeof(*a));
	a->family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8:ffff::", &a->v6);
	memcpy(&a->bytes[8], &h, 4);
	a->bytes[15] = (uint8_t)(k + 1);
}

static bool wanted(const struct policy *p, int af)
{
	return p->families & (af == AF_INET ? POLICY_FAMILY_IPV4 : POLICY_FAMILY_IPV6);
}

static void add_host(struct resolved *r, const struct policy *p, enum resolve_role role,
		     const struct policy_host *h, size_t idx, bool pool, unsigned max, bool nts)
{
	struct addr a;

	if (h->literal) {
		if (wanted(p, h->addr.family))
			fake_add(r, role, &h->addr, idx, RESOLVE_TTL_LITERAL, nts);
		return;
	}
	for (unsigned k = 0; k < (pool ? (max ? max : 4) : 1); k++) {
		fake_v4(&a, h->name, k);
		if (wanted(p, AF_INET))
			fake_add(r, role, &a, idx, FAKE_TTL, nts);
	}
	fake_v6(&a, h->name, 0);
	if (!pool && wanted(p, AF_INET6))
		fake_add(r, role, &a, idx, FAKE_TTL, nts);
}

struct resolved *fake_resolved(const struct policy *p)
{
	struct resolved *r = xcalloc(1, sizeof(*r));

	for (size_t i = 0; i < p->n_upstreams; i++) {
		const struct policy_upstream *u = &p->upstreams[i];

		add_host(r, p, RESOLVE_ROLE_UPSTREAM, &u->host, i, u->kind == POLICY_UPSTREAM_POOL,
			 u->max, u->nts);
	}
	for (size_t i = 0; i < p->n_peers; i++)
		add_host(r, p, RESOLVE_ROLE_PEER, &p->peers[i], i, false, 0, false);
	fake_finish(r);
	return r;
}

struct ir_ruleset *fake_compile(const char *path, int backend)
{
	struct policy *p = NULL;
	struct resolved *r;
	struct ir_ruleset *rs = NULL;
	struct diags d;

	diag_init(&d, 0);
	if (policy_load(path, &d, &p)) {
		fprintf(stderr, "%s does not load\n", path);
		diag_free(&d);
		return NULL;
	}
	if (backend >= 0)
		p->backend = (enum policy_backend)backend;
	r = fake_resolved(p);
	if (compile_policy(p, r, &d, &rs))
		fprintf(stderr, "%s does not compile\n", path);
	resolve_free(r);
	policy_free(p);
	diag_free(&d);
	return rs;
}
