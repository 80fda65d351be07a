/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Resolve stage: the names of a policy (upstream servers, pools, peers) to
 * addresses with their DNS TTLs, through c-ares, every query in flight at
 * once. Literal addresses pass through without a query. */
#ifndef NTPWALL_RESOLVE_H
#define NTPWALL_RESOLVE_H

#include "ntpwall/addr.h"
#include "ntpwall/diag.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct policy;

/* TTL reported for literal addresses: they never expire. */
#define RESOLVE_TTL_LITERAL UINT32_MAX

enum resolve_status {
	RESOLVE_OK,
	RESOLVE_NXDOMAIN,	/* the name does not exist */
	RESOLVE_NODATA,		/* exists, but no address of a wanted family */
	RESOLVE_SERVFAIL,
	RESOLVE_REFUSED,
	RESOLVE_TIMEOUT,	/* no answer from any resolver in time */
	RESOLVE_ERROR,		/* anything else; see message */
};

/* Where an address came from. */
enum resolve_role {
	RESOLVE_ROLE_UPSTREAM,
	RESOLVE_ROLE_PEER,
};

/* One trusted address after de-duplication. */
struct resolve_addr {
	struct addr addr;
	uint32_t ttl;		/* seconds, smallest seen; RESOLVE_TTL_LITERAL */
	bool nts;		/* some origin upstream has nts: true */
	size_t *origins;	/* indices into policy->upstreams or ->peers */
	size_t n_origins;
};

/* One address a name gave, with the smallest TTL seen for it. */
struct resolve_found {
	struct addr addr;
	uint32_t ttl;
};

/* One name of the policy and what became of it. */
struct resolve_name {
	char *name;
	enum resolve_role role;
	size_t index;		/* into policy->upstreams or policy->peers */
	enum resolve_status status;
	char *message;		/* NULL when status is RESOLVE_OK */
	size_t n_found;		/* addresses the name gave (after family filter) */
	struct resolve_found *found;	/* those addresses, sorted; NULL when loaded
					 * from JSON */
	size_t n_kept;		/* of those, kept (a pool's max) */
	bool kept_previous;	/* failed; addrs are the previous result's */
	struct loc loc;
	struct addr *addrs;		/* the n_kept kept addresses, sorted */
};

struct resolved {
	struct resolve_addr *upstreams;	/* sorted by address, unique */
	size_t n_upstreams;
	struct resolve_addr *peers;	/* sorted by address, unique */
	size_t n_peers;
	struct resolve_name *names;	/* policy order; literals not included */
	size_t n_names;
	size_t queries_sent;		/* DNS queries put on the wire */
	size_t retries;			/* of those, re-sent after a timeout,
					 * SERVFAIL or REFUSED */
	size_t replies;			/* DNS answers received, any rcode; 0
					 * with names: no resolver answered */
	char *resolvers;		/* the resolvers asked, "ADDR:PORT,..."
					 * ("[V6]:PORT"); NULL without names */
};

struct resolve_options {
	/* Previous result (last generation), for a stable choice of pool
	 * addresses: kept first while they still resolve. May be NULL. */
	const struct resolved *previous;
	/* Overrides of the policy's resolvers (tests); NULL = policy's or
	 * /etc/resolv.conf. Format "ADDR[:PORT]" or "[V6]:PORT", comma-separated. */
	const char *servers;
	/* Spreads the pool choice across hosts (e.g. /etc/machine-id); NULL
	 * or "" = same choice on every host. See resolve_pool_pick(). */
	const char *seed;
	/* refresh: a name that fails keeps its addresses from previous (a
	 * warning instead of an error; the name's status still says why). */
	bool keep_failed;
	/* Unhealthy pool members (failed probe, falseticker, reported
	 * unusable by the daemon): never kept, never chosen. May be NULL. */
	const struct addr *excluded;
	size_t n_excluded;
};

/* Resolve every name of p. *out is always set (caller frees with
 * resolve_free) and holds what could be resolved; each failed name has a
 * non-OK status and an error diagnostic at its loc. Returns 0 when every
 * name resolved, -EINVAL when some failed (the caller decides whether a
 * partial result may be used), another -errno when c-ares cannot start. */
int resolve_policy(const struct policy *p, const struct resolve_options *opt,
		   struct diags *d, struct resolved **out);
/* Choose every pool's members again from r's answers with o (previous,
 * excluded, seed), and rebuild r's address sets: the choice after a probe
 * found some unhealthy, without asking DNS again. r came from
 * resolve_policy() for p. */
void resolve_rechoose(struct resolved *r, const struct policy *p, const struct resolve_options *o);
/* p's names with the addresses choice gives them (the wall's current
 * choice, from resolve_from_json), without any query; -ENOENT when choice
 * lacks one of p's names. */
int resolve_from_choice(const struct policy *p, const struct resolved *choice,
			struct resolved **out);
/* Only the literal addresses of p, without any query; never fails. */
struct resolved *resolve_literals(const struct policy *p);
/* Whether p names a host (an upstream or peer that is no address):
 * without one, resolve_policy reads nothing from the network. */
bool resolve_needs_dns(const struct policy *p);
/* Free a result; NULL is fine. */
void resolve_free(struct resolved *r);
/* "NXDOMAIN", "timeout", ... for a status. */
const char *resolve_status_str(enum resolve_status s);

/* What one pool's choice starts from. */
struct resolve_pick {
	const char *seed;			/* spreads hosts over the pool; NULL "" */
	const char *name;			/* the pool's name */
	const struct addr *found;		/* this run's answers */
	size_t n_found;
	const struct addr *prev;		/* the members chosen last time */
	size_t n_prev;
	const struct addr *excluded;		/* unhealthy: never kept, never chosen */
	size_t n_excluded;
	unsigned max;				/* per address family; 0: every answer */
};

/* The pool choice, a pure function, as chrony keeps pool sources: with a
 * max, a previous member stays while it is not excluded, whether or not
 * this run's answers hold it (real pools answer a few random servers of
 * thousands); the places left, per family, go to the answers ranked by
 * rendezvous (highest random weight) hashing of seed, name and address, so
 * hosts with other seeds spread over the pool. Without a max every answer
 * is taken and nothing is sticky. Writes to out (room for n_found + n_prev)
 * and returns how many; out is sorted by address. */
size_t resolve_pool_choose(const struct resolve_pick *k, struct addr *out);

struct json_t;

/* The documented JSON shape of a result (ntpwall(8), resolve): a new
 * reference the caller owns. p must be the policy r was resolved from. */
struct json_t *resolve_to_json(const struct resolved *r, const struct policy *p);
/* Read back the "names" of resolve_to_json() (name, role, addresses) into a
 * new result usable as resolve_options.previous; -EINVAL on a bad shape. */
int resolve_from_json(const struct json_t *j, struct resolved **out);

#endif
