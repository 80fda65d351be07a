/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Private to the resolver (resolve*.c): what each name gave, and the step
 * that turns it into the sorted, de-duplicated address sets. */
#ifndef NTPWALL_RESOLVE_INT_H
#define NTPWALL_RESOLVE_INT_H

#include "ntpwall/policy.h"
#include "ntpwall/resolve.h"

/* Everything the queries of one name gave, sorted by address, unique. */
struct resolve_acc {
	struct resolve_found *v;
	size_t n, cap;
	/* Answers that cannot be an NTP server (loopback, link-local...):
	 * never trusted; the first is named in the warning. */
	struct addr special;
	size_t n_special;
};

/* Fills r->upstreams and r->peers from the literal addresses of p (of the
 * families p wants) and the kept addresses (r->names[i].addrs) of every
 * name, with TTLs from the name's answers (0 for a kept address the
 * answers lack). */
void resolve_build_sets(struct resolved *r, const struct policy *p);
/* Choose the kept addresses of name nm (a pool's members) from its
 * answers, o's previous result and o's excluded list. */
void resolve_choose_name(const struct policy *p, const struct resolve_options *o,
			 struct resolve_name *nm);
/* Adds addr with ttl to a, keeping it sorted and unique (smallest TTL). */
void resolve_acc_add(struct resolve_acc *a, const struct addr *addr, uint32_t ttl);
/* The policy host behind a name of r. */
const struct policy_host *resolve_name_host(const struct policy *p, const struct resolve_name *n);
/* POLICY_FAMILY_IPV4 or POLICY_FAMILY_IPV6 for AF_INET or AF_INET6. */
unsigned resolve_family_bit(int family);

#endif
