/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Test helper: a deterministic struct resolved for a policy without DNS.
 * Every name gets documentation-range addresses derived from a hash of the
 * name (IPv4 198.18.0.0/15, IPv6 2001:db8:ffff::/48): a `server:` name one
 * IPv4 and one IPv6 address, a pool `max` (default 4) IPv4 addresses. Free
 * with resolve_free(). */
#ifndef NTPWALL_TEST_FAKE_RESOLVED_H
#define NTPWALL_TEST_FAKE_RESOLVED_H

#include "ntpwall/policy.h"
#include "ntpwall/resolve.h"

/* TTL the fake gives every name's addresses. */
#define FAKE_TTL 300

struct resolved *fake_resolved(const struct policy *p);

/* Adds one address to a result being built by hand (role upstream or peer),
 * from origin index origin; call fake_finish() once at the end to sort and
 * merge. For tests that build big or odd results directly. */
void fake_add(struct resolved *r, enum resolve_role role, const struct addr *a,
	      size_t origin, uint32_t ttl, bool nts);
void fake_finish(struct resolved *r);

/* The policy at path compiled against fake_resolved(), with backend
 * (POLICY_BACKEND_*) instead of the policy's own when >= 0. NULL, the
 * reason on stderr, when it does not load or compile. */
struct ir_ruleset *fake_compile(const char *path, int backend);

#endif
