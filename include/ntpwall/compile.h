/* Compile stage: a policy plus its resolved addresses to the rule model,
 * following design.md "Rules". */
#ifndef NTPWALL_COMPILE_H
#define NTPWALL_COMPILE_H

#include "ntpwall/diag.h"
#include "ntpwall/ir.h"
#include "ntpwall/policy.h"
#include "ntpwall/resolve.h"

/* Set names, shared with renderers, backends and status. */
#define COMPILE_SET_UPSTREAMS4 "upstreams4"
#define COMPILE_SET_UPSTREAMS6 "upstreams6"
#define COMPILE_SET_PEERS4 "peers4"
#define COMPILE_SET_PEERS6 "peers6"
#define COMPILE_SET_CLIENTS4 "clients4"
#define COMPILE_SET_CLIENTS6 "clients6"

/* Build the ruleset for p with the addresses in r. The result is sorted
 * (ir_ruleset_sort) and owned by the caller. Addresses from DNS names get
 * the element timeout p->refresh.expire_ms; literal addresses never expire.
 * Returns 0, or -EINVAL with diagnostics (e.g. nothing to allow). */
int compile_policy(const struct policy *p, const struct resolved *r, struct diags *d,
		   struct ir_ruleset **out);

#endif
