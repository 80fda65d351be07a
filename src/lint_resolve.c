/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lint --resolve: resolve a loaded policy and check what the names give.
 * NW140 for a name that does not resolve, NW210 for a `server:` name that
 * behaves like a pool, NW211 for a wanted family no upstream covers, NW201
 * when the names give fewer than four different addresses. */
#include "ntpwall/lint.h"
#include "ntpwall/resolve.h"
#include "ntpwall/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sys/socket.h>

/* A `server:` giving this many addresses is a pool in disguise: every one
 * of them would be trusted, and which ones may change with each answer. */
#define LINT_POOL_ADDRESSES 4

static void check_pool_names(struct policy *p, const struct resolved *r, struct diags *d)
{
	for (size_t i = 0; i < r->n_names; i++) {
		const struct resolve_name *n = &r->names[i];

		if (n->role != RESOLVE_ROLE_UPSTREAM || n->n_found < LINT_POOL_ADDRESSES ||
		    p->upstreams[n->index].kind != POLICY_UPSTREAM_SERVER)
			continue;
		lint_warn(p, d, &n->loc, NW210_NAME_IS_POOL,
			  "'%s' gives %zu addresses: it is a pool; use 'pool:' with 'max'",
			  n->name, n->n_found);
	}
}

static void check_families(struct policy *p, const struct resolved *r, struct diags *d)
{
	static const struct { unsigned bit; int family; const char *word; } fams[] = {
		{ POLICY_FAMILY_IPV4, AF_INET, "IPv4" },
		{ POLICY_FAMILY_IPV6, AF_INET6, "IPv6" },
	};
	const struct loc *loc = p->n_upstreams ? &p->upstreams[0].loc : &p->loc;

	for (size_t f = 0; f < 2; f++) {
		bool covered = false;

		if (!(p->families & fams[f].bit))
			continue;
		for (size_t i = 0; i < r->n_upstreams && !covered; i++)
			covered = r->upstreams[i].addr.family == fams[f].family;
		if (!covered)
			lint_warn(p, d, loc, NW211_FAMILY_UNCOVERED,
				  "'families' wants %s but no upstream has an %s address: %s NTP is only dropped",
				  fams[f].word, fams[f].word, fams[f].word);
	}
}

/* NW201 counts names; RFC 8633 means different servers. Names that give
 * the same addresses (a server that is also in the pool), or a pool with
 * fewer addresses than its max, can leave fewer than four. */
static void check_distinct(struct policy *p, const struct resolved *r, struct diags *d)
{
	char buf[INET6_ADDRSTRLEN] = "";
	const char *why = "";

	if (lint_upstream_count(p) < 4 || r->n_upstreams >= 4)
		return;
	for (size_t i = 0; i < r->n_upstreams && !buf[0]; i++)
		if (r->upstreams[i].n_origins > 1)
			addr_str(&r->upstreams[i].addr, buf, sizeof(buf));
	if (buf[0])
		why = " (names overlap: ";
	lint_warn(p, d, &p->upstreams[0].loc, NW201_FEW_UPSTREAMS,
		  "the upstreams resolve to only %zu different address%s%s%s%s: RFC 8633 asks for at least four servers",
		  r->n_upstreams, r->n_upstreams == 1 ? "" : "es", why, buf,
		  buf[0] ? " comes from more than one)" : "");
}

int lint_resolve(struct policy *p, struct diags *d, const char *servers, char **resolvers)
{
	struct resolve_options opt = { .servers = servers };
	struct resolved *r = NULL;
	struct diags rd;
	int ret;

	/* Apart, so that a resolver's silence blames no name of the policy. */
	diag_init(&rd, 0);
	ret = resolve_policy(p, &opt, &rd, &r);
	if (ret == -EINVAL && r->n_names && !r->replies) {
		*resolvers = xstrdup(r->resolvers ? r->resolvers : "");
		diag_free(&rd);
		resolve_free(r);
		return -EHOSTUNREACH;
	}
	diag_move(d, &rd);
	if (!ret || ret == -EINVAL) {
		check_pool_names(p, r, d);
		/* With a failed name the missing family is already explained. */
		if (!ret) {
			check_families(p, r, d);
			check_distinct(p, r, d);
		}
	}
	resolve_free(r);
	return ret;
}
