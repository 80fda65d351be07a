/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Lint: warnings about weak but valid choices in a loaded policy (RFC 8633
 * best practices, rules that can never match), after the operator's
 * waivers; and errors, which cannot be waived, for what the policy's
 * backend cannot hold (a log_rate iptables' limit match would read back
 * as another). The engine refuses a policy lint found errors in, before
 * resolving or changing anything: add an error only for that. */
#ifndef NTPWALL_LINT_H
#define NTPWALL_LINT_H

#include "ntpwall/diag.h"
#include "ntpwall/policy.h"

/* Record a warning for every weak choice of p, except the codes p waives,
 * and an error for what p's backend cannot hold; marks the waivers used
 * and warns (NW208) about unused ones, except the waivers of codes only
 * `lint --resolve` gives (NW210, NW211). Returns nothing: the errors are
 * in d. */
void lint_policy(struct policy *p, struct diags *d);
/* Same, after lint_resolve() ran on p: unused NW210/NW211 waivers get NW208 too. */
void lint_policy_resolved(struct policy *p, struct diags *d);

/* Warn (NW209) about every server, pool and peer line of the chrony
 * configuration conf (and what it includes, ntpwall's own file aside) that
 * names a server p does not trust by address: the wall will block it.
 * Call before lint_policy() so that a waiver of NW209 counts as used. */
void lint_daemon_config(struct policy *p, const char *conf, struct diags *d);

/* lint --resolve: resolve p (servers: "ADDR[:PORT],..." or NULL for the
 * policy's resolvers) and add NW140 errors, NW210/NW211 warnings to d. Call
 * before lint_policy() so waivers of NW210/NW211 count as used. Returns 0,
 * -EINVAL when a name failed, -EHOSTUNREACH when no resolver answered any
 * query (then nothing is added to d, and *resolvers, which the caller frees,
 * lists the resolvers asked), another -errno when c-ares cannot start. */
int lint_resolve(struct policy *p, struct diags *d, const char *servers, char **resolvers);

/* Upstreams as NW201 counts them before resolving: a pool for its max (4
 * when unbounded), anything else for one. */
unsigned lint_upstream_count(const struct policy *p);

/* Record a warning at loc unless p waives code (then mark the waiver used). */
void lint_warn(struct policy *p, struct diags *d, const struct loc *loc, enum diag_code code,
	       const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
