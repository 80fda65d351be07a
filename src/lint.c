/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Warnings for weak but valid policies, and errors for what the backend
 * cannot hold (include/ntpwall/lint.h). Each check is one small function
 * in a table, so a new best practice is one more row. */
#include "ntpwall/lint.h"
#include "ntpwall/compile.h"
#include "ntpwall/daemon.h"
#include "ntpwall/util.h"
#include "ntpwall/xt_limit.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

void lint_warn(struct policy *p, struct diags *d, const struct loc *loc, enum diag_code code,
	       const char *fmt, ...)
{
	const struct policy_waiver *w = policy_waiver(p, code);
	va_list ap;
	char *msg;

	if (w) {
		((struct policy_waiver *)w)->used = true;
		return;
	}
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		abort();
	va_end(ap);
	diag_add(d, loc, DIAG_WARNING, code, "%s", msg);
	free(msg);
}

static unsigned family_bit(int family)
{
	return family == AF_INET ? POLICY_FAMILY_IPV4 : POLICY_FAMILY_IPV6;
}

static const char *family_word(int family)
{
	return family == AF_INET ? "IPv4" : "IPv6";
}

/* RFC 8633 section 3.2: at least four sources, so that one falseticker
 * is outvoted. A pool counts for its max (4 when unbounded). */
unsigned lint_upstream_count(const struct policy *p)
{
	unsigned n = 0;

	for (size_t i = 0; i < p->n_upstreams; i++) {
		const struct policy_upstream *u = &p->upstreams[i];

		n += u->kind == POLICY_UPSTREAM_POOL ? (u->max ? u->max : 4) : 1;
	}
	return n;
}

static void check_count(struct policy *p, struct diags *d)
{
	unsigned n = lint_upstream_count(p);

	if (p->n_upstreams && n < 4)
		lint_warn(p, d, &p->upstreams[0].loc, NW201_FEW_UPSTREAMS,
			  "%u upstream%s: RFC 8633 asks for at least four so that one bad clock is outvoted (waive NW201 with a reason if this is deliberate)",
			  n, n == 1 ? "" : "s");
}

/* A local reference clock daemon on 127.0.0.1 can be meant, but a
 * loopback, link-local or mapped address is never a time server out there. */
static void check_local(struct policy *p, struct diags *d, const struct policy_host *h,
			const char *what)
{
	const char *kind = h->literal ? addr_special(&h->addr) : NULL;

	if (kind)
		lint_warn(p, d, &h->loc, NW212_LOCAL_ADDRESS,
			  "%s %s is a%s %s address, not a server out there (a local reference "
			  "clock daemon is fine: waive NW212)", what, h->name,
			  kind[0] == 'I' ? "n" : "", kind);
}

static void check_upstreams(struct policy *p, struct diags *d)
{
	for (size_t i = 0; i < p->n_upstreams; i++) {
		const struct policy_upstream *u = &p->upstreams[i];

		if (u->kind == POLICY_UPSTREAM_POOL && !u->max)
			lint_warn(p, d, &u->loc, NW202_POOL_NO_MAX,
				  "pool '%s' has no 'max': every address it ever returns is trusted",
				  u->host.name);
		if (u->nts && u->host.literal)
			lint_warn(p, d, &u->host.loc, NW207_NTS_LITERAL,
				  "nts on the address %s: NTS-KE checks the server's certificate against a name",
				  u->host.name);
		check_local(p, d, &u->host, "upstream");
		if (u->host.literal && !(p->families & family_bit(u->host.addr.family)))
			lint_warn(p, d, &u->host.loc, NW205_NEVER_MATCHES,
				  "%s is %s but 'families' leaves %s out: no rule will allow it",
				  u->host.name, family_word(u->host.addr.family),
				  family_word(u->host.addr.family));
	}
}

static void check_ignored(struct policy *p, struct diags *d, const struct policy_host *h,
			  const char *what)
{
	const struct policy_prefixes *ig = &p->restrict_.ignore;

	if (!h->literal)
		return;
	for (size_t j = 0; j < ig->n; j++)
		if (policy_prefix_contains(&ig->v[j], &h->addr))
			lint_warn(p, d, &h->loc, NW205_NEVER_MATCHES,
				  "%s %s lies in 'ignore' (line %u): its packets are dropped",
				  what, h->name, ig->v[j].loc.line);
}

static void check_prefix_families(struct policy *p, struct diags *d,
				  const struct policy_prefixes *l, const char *what)
{
	for (size_t i = 0; i < l->n; i++)
		if (!(p->families & family_bit(l->v[i].addr.family)))
			lint_warn(p, d, &l->v[i].loc, NW205_NEVER_MATCHES,
				  "%s prefix is %s but 'families' leaves %s out", what,
				  family_word(l->v[i].addr.family), family_word(l->v[i].addr.family));
}

/* A daemon key whose file is not set is never used. */
static void check_daemon_keys(struct policy *p, struct diags *d)
{
	static const struct {
		size_t key, file;
		const char *name, *file_name;
	} deps[] = {
#define D(k, f) { offsetof(struct policy_daemon, k), offsetof(struct policy_daemon, f), #k, #f }
		D(chronyc, chrony_sources), D(chrony_options, chrony_sources),
		D(chrony_conf, chrony_sources),
		D(timesyncd_restart, timesyncd_conf), D(ntpd_restart, ntpd_conf),
#undef D
	};
	const char *base = (const char *)&p->daemon;

	for (size_t i = 0; i < sizeof(deps) / sizeof(deps[0]); i++)
		if (*(char *const *)(base + deps[i].key) && !*(char *const *)(base + deps[i].file))
			lint_warn(p, d, &p->daemon.loc, NW205_NEVER_MATCHES,
				  "daemon.%s has no effect without daemon.%s", deps[i].name,
				  deps[i].file_name);
}

static const char *unit_word(uint32_t unit_s)
{
	return unit_s == 1 ? "second" : unit_s == 60 ? "minute" : unit_s == 3600 ? "hour" : "day";
}

/* iptables' limit match keeps 10000 x seconds / rate as a whole number,
 * so a rate that does not divide evenly reads back as another: compile
 * and apply refuse it, so lint must not pass it. */
static void log_rate_error(struct policy *p, struct diags *d, struct ir_rate r, uint32_t held,
			   uint32_t held_unit)
{
	const struct loc *loc = p->log_limit_loc.line ? &p->log_limit_loc : &p->loc;

	if (!xt_limit_avg(r.rate, r.unit_s))
		diag_add(d, loc, DIAG_ERROR, NW124_RATE, "'log_rate' %" PRIu32 "/%s is more than "
			 "iptables' limit match holds (10000/second)", r.rate, unit_word(r.unit_s));
	else if (!held)
		diag_add(d, loc, DIAG_ERROR, NW124_RATE, "'log_rate' %" PRIu32 "/%s is a rate "
			 "iptables' limit match cannot hold", r.rate, unit_word(r.unit_s));
	else
		diag_add(d, loc, DIAG_ERROR, NW124_RATE, "'log_rate' %" PRIu32 "/%s is a rate "
			 "iptables' limit match cannot hold: it would read back as %" PRIu32 "/%s "
			 "(it keeps 10000 x seconds / rate as a whole number)", r.rate,
			 unit_word(r.unit_s), held, unit_word(held_unit));
}

/* Log settings that log nothing, a log_rate the iptables backend cannot
 * hold (an error: compile and apply refuse it, so lint must not pass it),
 * and a log_prefix too long to keep whole beside the longest rule tag
 * (compile_log_prefix). */
static void check_log(struct policy *p, struct diags *d)
{
	size_t tag = compile_log_tag_max(p), part;
	char prefix[COMPILE_LOG_PREFIX_MAX + 1], dummy[COMPILE_LOG_PREFIX_MAX + 1];
	struct ir_rate rate = compile_log_rate(p);
	uint32_t held, held_unit;

	if (!tag) {
		if (p->log_prefix)
			lint_warn(p, d, &p->log_prefix_loc, NW205_NEVER_MATCHES,
				  "'log_prefix' is set but nothing logs ('otherwise' is not log, "
				  "restrict.log is off)");
		if (p->log_limit_loc.line)
			lint_warn(p, d, &p->log_limit_loc, NW205_NEVER_MATCHES,
				  "'log_rate' or 'log_burst' is set but nothing logs ('otherwise' is "
				  "not log, restrict.log is off)");
		return;
	}
	if (p->backend == POLICY_BACKEND_IPTABLES &&
	    !xt_limit_holds(rate.rate, rate.unit_s, &held, &held_unit))
		log_rate_error(p, d, rate, held, held_unit);
	memset(dummy, 'x', tag);
	dummy[tag] = '\0';
	if (!compile_log_prefix(p, dummy, prefix))
		return;
	/* prefix is "<part> <tag>: ", or "<tag>: " with nothing left of part */
	part = strlen(prefix) > tag + 2 ? strlen(prefix) - tag - 3 : 0;
	lint_warn(p, d, p->log_prefix ? &p->log_prefix_loc : &p->loc, NW213_LOG_PREFIX_CUT,
		  "'log_prefix'%s is cut to \"%.*s\" in the longest log prefixes: the rule's tag "
		  "and ': ' must fit the 29 bytes iptables' LOG target keeps",
		  p->log_prefix ? "" : " (by default the table name)", (int)part, prefix);
}

static void check_never_matches(struct policy *p, struct diags *d)
{
	const struct policy_restrict *r = &p->restrict_;

	for (size_t i = 0; i < p->n_upstreams; i++)
		check_ignored(p, d, &p->upstreams[i].host, "upstream");
	for (size_t i = 0; i < p->n_peers; i++) {
		check_ignored(p, d, &p->peers[i], "peer");
		check_local(p, d, &p->peers[i], "peer");
	}
	check_prefix_families(p, d, &p->serve.clients, "serve client");
	check_prefix_families(p, d, &r->query_from, "query_from");
	if (p->serve.present && r->noserve)
		lint_warn(p, d, &r->noserve_loc, NW205_NEVER_MATCHES,
			  "restrict.noserve drops every client request, but 'serve' (line %u) serves clients",
			  p->serve.loc.line);
	if (r->query_from.n && !r->noquery)
		lint_warn(p, d, &r->query_from.v[0].loc, NW205_NEVER_MATCHES,
			  "'query_from' has no effect while noquery is false: everyone may query");
	if (r->query_from.n && !p->serve.present)
		lint_warn(p, d, &r->query_from.v[0].loc, NW205_NEVER_MATCHES,
			  "'query_from' has no effect without 'serve': only upstream replies come in");
	check_log(p, d);
	check_daemon_keys(p, d);
}

static void check_restrict(struct policy *p, struct diags *d)
{
	const struct policy_restrict *r = &p->restrict_;

	if (!r->noquery)
		lint_warn(p, d, &r->noquery_loc, NW203_NOQUERY_OFF,
			  "noquery is false: mode 6/7 queries (ntpq, monlist amplification) are let through");
	if (r->version_loc.line && (r->versions & 0x06))
		lint_warn(p, d, &r->version_loc, NW206_OLD_VERSION,
			  "NTP version 1 or 2 allowed: no current client needs it");
	if (p->serve.present && !p->serve.has_rate_limit)
		lint_warn(p, d, &p->serve.loc, NW204_NO_RATE_LIMIT,
			  "'serve' has no rate_limit: any client may send as fast as it likes");
}

/* Codes that only lint --resolve (NW210, NW211) or --daemon-config (NW209)
 * can give: without them, their waivers are not known to be unused. */
static bool not_checked(const struct policy *p, enum diag_code code, bool resolved)
{
	if (code == NW209_DAEMON_EXTRA)
		return !p->daemon_config_checked;
	return !resolved && (code == NW210_NAME_IS_POOL || code == NW211_FAMILY_UNCOVERED);
}

static void lint_all(struct policy *p, struct diags *d, bool resolved)
{
	check_count(p, d);
	check_upstreams(p, d);
	check_never_matches(p, d);
	check_restrict(p, d);
	for (size_t i = 0; i < p->n_waivers; i++) {
		const struct policy_waiver *w = &p->waivers[i];

		if (w->used || not_checked(p, w->code, resolved))
			continue;
		diag_add(d, &w->loc, DIAG_WARNING, NW208_WAIVE_UNUSED,
			 "%s is waived but the policy does not trigger it", diag_code_name(w->code));
	}
}

void lint_policy(struct policy *p, struct diags *d)
{
	lint_all(p, d, false);
}

void lint_policy_resolved(struct policy *p, struct diags *d)
{
	lint_all(p, d, true);
}

static bool trusted_literal(const struct policy *p, const char *host)
{
	struct addr a;

	if (addr_parse(host, &a))
		return false;
	for (size_t i = 0; i < p->n_upstreams; i++)
		if (p->upstreams[i].host.literal && !addr_cmp(&p->upstreams[i].host.addr, &a))
			return true;
	for (size_t i = 0; i < p->n_peers; i++)
		if (p->peers[i].literal && !addr_cmp(&p->peers[i].addr, &a))
			return true;
	return false;
}

void lint_daemon_config(struct policy *p, const char *conf, struct diags *d)
{
	struct daemon_conf_line *v = NULL;
	size_t n = 0;

	p->daemon_config_checked = true;
	if (daemon_chrony_conf(conf, p->daemon.chrony_sources, &v, &n, d) < 0) {
		struct loc l = { conf, 0, 0 };

		diag_add(d, &l, DIAG_ERROR, NW100_IO, "cannot read the daemon configuration");
	}
	for (size_t i = 0; i < n; i++) {
		struct loc l = { v[i].file, v[i].line, 1 };

		if (trusted_literal(p, v[i].host))
			continue;
		lint_warn(p, d, &l, NW209_DAEMON_EXTRA,
			  "'%s' asks %s the policy does not trust: the wall will block %s; comment "
			  "it out and let ntpwall's file name the servers", v[i].text,
			  strcmp(v[i].kind, "pool") ? v[i].host : "the servers of a pool",
			  strcmp(v[i].kind, "pool") ? "it" : "them");
	}
	daemon_conf_lines_free(v, n);
}
