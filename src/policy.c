/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Policy loader: libyaml events -> a small node tree with positions -> the
 * typed struct policy. Each mapping is described by a table of keys, so
 * every key is parsed and an unknown key gets a "did you mean" hint.
 * Cross-entry errors (duplicates) are checked here too; warnings about weak
 * but valid choices are lint.c's. */
#include "ntpwall/policy.h"
#include "ntpwall/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "policy_parse.h"

static int prefix_from(struct policy_ctx *c, const struct ynode *v, struct policy_prefix *out)
{
	char fixed[INET6_ADDRSTRLEN + 8], a[INET6_ADDRSTRLEN];
	const char *e;
	bool host_bits;

	if (policy_want_str(c, v, "an address prefix such as 192.0.2.0/24"))
		return -EINVAL;
	e = policy_parse_prefix(v->value, out, &host_bits);
	if (host_bits) {
		snprintf(fixed, sizeof(fixed), "%s/%u",
			 addr_str(&out->addr, a, sizeof(a)), out->len);
		policy_err(c, v, NW122_HOST_BITS, "prefix '%s' has host bits set", v->value);
		diag_hint(c->d, "did you mean '%s'?", fixed);
		return -EINVAL;
	}
	if (e)
		return policy_err(c, v, NW121_PREFIX, "%s: '%s'", e, v->value);
	out->loc = policy_node_loc(c, v);
	return 0;
}

static int prefix_cmp(const void *a, const void *b)
{
	const struct policy_prefix *x = a, *y = b;
	int r = addr_cmp(&x->addr, &y->addr);

	if (r)
		return r;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	if (x->loc.line != y->loc.line)
		return x->loc.line < y->loc.line ? -1 : 1;
	return x->loc.column < y->loc.column ? -1 : x->loc.column > y->loc.column;
}

/* Sorted copies find duplicates in O(n log n); the list keeps policy order. */
static int check_dup_prefixes(struct policy_ctx *c, const struct policy_prefixes *l)
{
	struct policy_prefix *s;
	int ret = 0;

	if (l->n < 2)
		return 0;
	s = xreallocarray(NULL, l->n, sizeof(*s));
	memcpy(s, l->v, l->n * sizeof(*s));
	xsort(s, l->n, sizeof(*s), prefix_cmp);
	for (size_t i = 1; i < l->n; i++) {
		char a[INET6_ADDRSTRLEN];

		if (addr_cmp(&s[i].addr, &s[i - 1].addr) || s[i].len != s[i - 1].len)
			continue;
		ret = diag_add(c->d, &s[i].loc, DIAG_ERROR, NW130_DUPLICATE,
			       "prefix %s/%u listed twice (first at line %u)",
			       addr_str(&s[i].addr, a, sizeof(a)), s[i].len, s[i - 1].loc.line);
	}
	free(s);
	return ret;
}

static int p_prefixes(struct policy_ctx *c, const struct ynode *v, void *dst, const struct key_spec *k)
{
	struct policy_prefixes *l = dst;
	int ret = 0;

	if (policy_want(c, v, Y_SEQ, "a list of address prefixes"))
		return -EINVAL;
	free(l->v);
	l->v = xcalloc(v->n, sizeof(*l->v));
	l->n = 0;
	for (size_t i = 0; i < v->n; i++) {
		if (prefix_from(c, v->kids[i], &l->v[l->n]))
			ret = -EINVAL;
		else
			l->n++;
	}
	if (!ret)
		ret = check_dup_prefixes(c, l);
	return ret;
}

/* A host: literal address or DNS name. Numeric-looking names are addresses. */
static int host_from(struct policy_ctx *c, const struct ynode *v, struct policy_host *h, bool name_only)
{
	const char *e;

	memset(h, 0, sizeof(*h));
	if (policy_want_str(c, v, "a host name or address"))
		return -EINVAL;
	h->loc = policy_node_loc(c, v);
	if (!addr_parse(v->value, &h->addr)) {
		if (name_only)
			return policy_err(c, v, NW120_ADDRESS,
				   "a pool needs a DNS name, not the address '%s' (use server:)",
				   v->value);
		if ((h->addr.family == AF_INET && (h->addr.bytes[0] >= 224 || h->addr.v4.s_addr == 0)) ||
		    (h->addr.family == AF_INET6 &&
		     (h->addr.bytes[0] == 0xff || IN6_IS_ADDR_UNSPECIFIED(&h->addr.v6))))
			return policy_err(c, v, NW120_ADDRESS, "'%s' is not a unicast address", v->value);
		h->literal = true;
		h->name = xstrdup(v->value);
		return 0;
	}
	if (strchr(v->value, ':'))
		e = addr_parse(v->value, &h->addr);
	else
		e = policy_check_hostname(v->value);
	if (e)
		return policy_err(c, v, NW120_ADDRESS, "%s: '%s'", e, v->value);
	h->name = xstrdup(v->value);
	for (char *p = h->name; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p += 'a' - 'A';
	return 0;
}

static int p_peers(struct policy_ctx *c, const struct ynode *v, void *dst, const struct key_spec *k)
{
	struct policy *p = c->p;
	int ret = 0;

	if (policy_want(c, v, Y_SEQ, "a list of peer addresses or names"))
		return -EINVAL;
	p->peers = xcalloc(v->n, sizeof(*p->peers));
	for (size_t i = 0; i < v->n; i++) {
		if (host_from(c, v->kids[i], &p->peers[p->n_peers], false))
			ret = -EINVAL;
		else
			p->n_peers++;
	}
	return ret;
}

static int p_interfaces(struct policy_ctx *c, const struct ynode *v, void *dst, const struct key_spec *k)
{
	struct policy *p = c->p;
	int ret = 0;

	if (policy_want(c, v, Y_SEQ, "a list of interface names such as [eth0]"))
		return -EINVAL;
	if (!v->n)
		return policy_err(c, v, NW131_EMPTY, "'interfaces' is empty; leave it out to filter all");
	p->interfaces = xcalloc(v->n, sizeof(*p->interfaces));
	for (size_t i = 0; i < v->n; i++) {
		const struct ynode *n = v->kids[i];
		const char *e;

		if (policy_want_str(c, n, "an interface name")) {
			ret = -EINVAL;
			continue;
		}
		e = policy_check_ifname(n->value);
		if (e) {
			ret = policy_err(c, n, NW128_NAME, "%s: '%s'", e, n->value);
			continue;
		}
		for (size_t j = 0; j < p->n_interfaces; j++)
			if (!strcmp(p->interfaces[j], n->value))
				e = "dup";
		if (e) {
			ret = policy_err(c, n, NW130_DUPLICATE, "interface '%s' listed twice", n->value);
			continue;
		}
		p->interfaces[p->n_interfaces++] = xstrdup(n->value);
	}
	return ret;
}

/* "192.0.2.53", "192.0.2.53:5353", "2001:db8::53", "[2001:db8::53]:5353". */
static int resolver_from(struct policy_ctx *c, const struct ynode *v, struct policy_resolver *r)
{
	static const struct key_spec port = { .name = "port", .min = 1, .max = 65535 };
	char buf[INET6_ADDRSTRLEN + 16];
	const char *colon, *addr = buf;
	unsigned long n = 53;

	if (policy_want_str(c, v, "a resolver address such as 192.0.2.53 or [2001:db8::53]:53"))
		return -EINVAL;
	if (strlen(v->value) >= sizeof(buf))
		return policy_err(c, v, NW120_ADDRESS, "bad resolver address '%s'", v->value);
	strcpy(buf, v->value);
	if (buf[0] == '[') {
		char *end = strchr(buf, ']');

		if (!end || (end[1] && end[1] != ':'))
			return policy_err(c, v, NW120_ADDRESS, "expected [IPv6]:PORT, got '%s'", v->value);
		*end = '\0';
		addr = buf + 1;
		colon = end[1] ? end + 1 : NULL;
	} else {
		colon = strchr(buf, ':');
		if (colon && strchr(colon + 1, ':'))
			colon = NULL;	/* bare IPv6 */
		else if (colon)
			buf[colon - buf] = '\0';
	}
	if (colon && policy_parse_uint(colon + 1, port.min, port.max, &n))
		return policy_err(c, v, NW125_RANGE, "bad port in resolver '%s' (1 to 65535)", v->value);
	if (addr_parse(addr, &r->addr))
		return policy_err(c, v, NW120_ADDRESS, "expected a resolver IP address, got '%s'", v->value);
	if (addr != buf && r->addr.family == AF_INET) {
		policy_err(c, v, NW120_ADDRESS, "brackets are for IPv6 addresses only, got '%s'", v->value);
		diag_hint(c->d, "did you mean '%s%s%s'?", addr, colon ? ":" : "", colon ? colon + 1 : "");
		return -EINVAL;
	}
	r->port = n;
	r->loc = policy_node_loc(c, v);
	return 0;
}

static int p_resolvers(struct policy_ctx *c, const struct ynode *v, void *dst, const struct key_spec *k)
{
	struct policy *p = c->p;
	int ret = 0;

	if (policy_want(c, v, Y_SEQ, "a list of resolver addresses"))
		return -EINVAL;
	if (!v->n)
		return policy_err(c, v, NW131_EMPTY, "'resolvers' is empty; leave it out to use /etc/resolv.conf");
	p->resolvers = xcalloc(v->n, sizeof(*p->resolvers));
	for (size_t i = 0; i < v->n; i++) {
		if (resolver_from(c, v->kids[i], &p->resolvers[p->n_resolvers]))
			ret = -EINVAL;
		else
			p->n_resolvers++;
	}
	return ret;
}

static int upstream_from(struct policy_ctx *c, const struct ynode *v, struct policy_upstream *u)
{
	const struct ynode *pool = NULL, *server = NULL, *max = NULL, *nts = NULL;
	static const struct key_spec maxk = { .name = "max", .min = 1, .max = 256 };
	static const struct key_spec ntsk = { .name = "nts" };
	static const char *const keys[] = { "pool", "server", "max", "nts", NULL };
	const struct ynode **slot[] = { &pool, &server, &max, &nts };
	unsigned long n;
	int ret = 0;

	memset(u, 0, sizeof(*u));
	u->loc = policy_node_loc(c, v);
	if (v->type != Y_MAP)
		return policy_err(c, v, NW111_TYPE,
			   "expected a mapping such as 'server: 192.0.2.10' or 'pool: uk.pool.ntp.org', got %s",
			   policy_type_name(v));
	for (size_t i = 0; i + 1 < v->n; i += 2) {
		const struct ynode *key = v->kids[i];
		size_t j;

		for (j = 0; keys[j] && (key->type != Y_SCALAR || strcmp(key->value, keys[j])); j++)
			;
		if (!keys[j]) {
			const char *best = NULL;

			for (j = 0; keys[j] && key->type == Y_SCALAR; j++)
				if (str_edit_distance(key->value, keys[j]) < 3)
					best = keys[j];
			ret = policy_err(c, key, NW110_UNKNOWN_KEY, "unknown key '%s' in upstream",
				  key->type == Y_SCALAR ? key->value : "?");
			if (best)
				diag_hint(c->d, "did you mean '%s'?", best);
			continue;
		}
		if (*slot[j]) {
			ret = policy_err(c, key, NW113_DUPLICATE_KEY, "key '%s' given twice", keys[j]);
			continue;
		}
		*slot[j] = v->kids[i + 1];
	}
	if (ret)
		return ret;
	if (pool && server)
		return policy_err(c, v, NW114_CONFLICT, "an upstream is either 'pool:' or 'server:', not both");
	if (!pool && !server)
		return policy_err(c, v, NW112_MISSING, "an upstream needs 'pool:' or 'server:'");
	u->kind = pool ? POLICY_UPSTREAM_POOL : POLICY_UPSTREAM_SERVER;
	if (host_from(c, pool ? pool : server, &u->host, pool != NULL))
		ret = -EINVAL;
	if (max && server)
		ret = policy_err(c, max, NW114_CONFLICT,
			  "'max' applies to 'pool:' only; a server's every address is trusted");
	else if (max && !policy_scalar_uint(c, max, &maxk, &n))
		u->max = n;
	else if (max)
		ret = -EINVAL;
	if (nts && policy_p_bool(c, nts, &u->nts, &ntsk))
		ret = -EINVAL;
	if (ret) {
		/* The caller drops a failed entry: free what host_from kept. */
		free(u->host.name);
		u->host.name = NULL;
	}
	return ret;
}

static int p_upstreams(struct policy_ctx *c, const struct ynode *v, void *dst, const struct key_spec *k)
{
	struct policy *p = c->p;
	int ret = 0;

	if (policy_want(c, v, Y_SEQ, "a list of upstreams"))
		return -EINVAL;
	if (!v->n)
		return policy_err(c, v, NW131_EMPTY, "'upstreams' is empty: no server could give time");
	p->upstreams = xcalloc(v->n, sizeof(*p->upstreams));
	for (size_t i = 0; i < v->n; i++) {
		if (upstream_from(c, v->kids[i], &p->upstreams[p->n_upstreams]))
			ret = -EINVAL;
		else
			p->n_upstreams++;
	}
	return ret;
}

static int p_waive(struct policy_ctx *c, const struct ynode *v, void *dst, const struct key_spec *k)
{
	struct policy *p = c->p;
	const enum diag_code *codes;
	size_t n_codes = diag_codes(&codes);
	int ret = 0;

	if (policy_want(c, v, Y_MAP, "a mapping of warning codes to reasons, such as NW201: \"why\""))
		return -EINVAL;
	p->waivers = xcalloc(v->n / 2 + 1, sizeof(*p->waivers));
	for (size_t i = 0; i + 1 < v->n; i += 2) {
		const struct ynode *key = v->kids[i], *why = v->kids[i + 1];
		struct policy_waiver *w = &p->waivers[p->n_waivers];
		size_t j;

		for (j = 0; j < n_codes; j++)
			if (key->type == Y_SCALAR && !strcmp(key->value, diag_code_name(codes[j])))
				break;
		if (j == n_codes || codes[j] < NW201_FEW_UPSTREAMS) {
			ret = policy_err(c, key, NW127_ENUM, "'%s' is not a warning code that can be waived",
				  key->type == Y_SCALAR ? key->value : "?");
			continue;
		}
		if (policy_want_str(c, why, "a reason for the waiver")) {
			ret = -EINVAL;
			continue;
		}
		if (policy_waiver(p, codes[j])) {
			ret = policy_err(c, key, NW113_DUPLICATE_KEY, "%s waived twice", key->value);
			continue;
		}
		w->code = codes[j];
		w->reason = xstrdup(why->value);
		w->loc = policy_node_loc(c, key);
		p->n_waivers++;
	}
	return ret;
}

static int p_version(struct policy_ctx *c, const struct ynode *v, void *dst, const struct key_spec *k)
{
	unsigned long n;

	if (v->type != Y_SCALAR || !v->plain || policy_parse_uint(v->value, 0, 1000000, &n))
		return policy_err(c, v, NW129_VERSION, "expected 'version: 1', got %s%s%s",
			   v->type == Y_SCALAR ? "'" : policy_type_name(v),
			   v->type == Y_SCALAR ? v->value : "", v->type == Y_SCALAR ? "'" : "");
	if (n != 1)
		return policy_err(c, v, NW129_VERSION,
			   "policy version %lu is not supported by this ntpwall (it reads version 1)", n);
	*(unsigned *)dst = n;
	return 0;
}

#define F(type, field) offsetof(type, field)

static const struct key_spec rate_keys[] = {
	{ "per_source", policy_p_rate, F(struct policy_serve, per_source) },
	{ "burst", policy_p_uint, F(struct policy_serve, burst), 1, 65535 },
	{ "meter_size", policy_p_uint, F(struct policy_serve, meter_size), 16, 4194304 },
	{ "ipv6_prefix", policy_p_uint, F(struct policy_serve, ipv6_prefix), 32, 128 },
	{ NULL }
};

static int p_rate_limit(struct policy_ctx *c, const struct ynode *v, void *dst, const struct key_spec *k)
{
	struct policy_serve *s = dst;

	s->has_rate_limit = true;
	if (policy_parse_map(c, v, s, rate_keys))
		return -EINVAL;
	if (!s->per_source.count)
		return policy_err(c, v, NW112_MISSING, "'rate_limit' needs 'per_source', such as 16/second");
	return 0;
}

static const struct key_spec serve_keys[] = {
	{ "clients", p_prefixes, F(struct policy_serve, clients) },
	{ "rate_limit", p_rate_limit, 0 },
	{ "notrack", policy_p_bool, F(struct policy_serve, notrack) },
	{ NULL }
};

static int p_serve(struct policy_ctx *c, const struct ynode *v, void *dst, const struct key_spec *k)
{
	struct policy_serve *s = dst;
	const struct ynode *clients = NULL;

	const struct ynode *key = c->key;

	s->present = true;
	/* Findings about the whole section point at its key, not its first child. */
	s->loc = policy_node_loc(c, key);
	if (policy_parse_map(c, v, s, serve_keys))
		return -EINVAL;
	for (size_t i = 0; i + 1 < v->n; i += 2)
		if (!strcmp(v->kids[i]->value, "clients"))
			clients = v->kids[i + 1];
	if (!clients)
		return policy_err(c, key, NW112_MISSING, "'serve' needs 'clients', the prefixes it serves");
	if (!s->clients.n)
		return policy_err(c, clients, NW131_EMPTY, "'clients' is empty");
	if (s->has_rate_limit && !s->burst)
		s->burst = s->per_source.count * 2 > 65535 ? 65535 : s->per_source.count * 2;
	if (!s->ipv6_prefix)
		s->ipv6_prefix = 64;
	return 0;
}

static int p_noquery(struct policy_ctx *c, const struct ynode *v, void *dst, const struct key_spec *k)
{
	c->p->restrict_.noquery_loc = policy_node_loc(c, v);
	return policy_p_bool(c, v, dst, k);
}

static int p_noserve(struct policy_ctx *c, const struct ynode *v, void *dst, const struct key_spec *k)
{
	c->p->restrict_.noserve_loc = policy_node_loc(c, c->key);
	return policy_p_bool(c, v, dst, k);
}

static const struct key_spec restrict_keys[] = {
	{ "noquery", p_noquery, F(struct policy_restrict, noquery) },
	{ "nomodify", policy_p_bool, F(struct policy_restrict, nomodify) },
	{ "nopeer", policy_p_bool, F(struct policy_restrict, nopeer) },
	{ "noserve", p_noserve, F(struct policy_restrict, noserve) },
	{ "log", policy_p_bool, F(struct policy_restrict, log) },
	{ "version", policy_p_versions, F(struct policy_restrict, versions) },
	{ "ignore", p_prefixes, F(struct policy_restrict, ignore) },
	{ "query_from", p_prefixes, F(struct policy_restrict, query_from) },
	{ NULL }
};

static int p_restrict(struct policy_ctx *c, const struct ynode *v, void *dst, const struct key_spec *k)
{
	c->p->restrict_.loc = policy_node_loc(c, c->key);
	return policy_parse_map(c, v, dst, restrict_keys);
}

/* The prefix is written into nft and iptables rules, between double quotes. */
static int p_log_prefix(struct policy_ctx *c, const struct ynode *v, void *dst, const struct key_spec *k)
{
	const char *e;

	c->p->log_prefix_loc = policy_node_loc(c, c->key);
	if (policy_want_str(c, v, "a log prefix"))
		return -EINVAL;
	e = policy_check_log_prefix(v->value);
	if (e)
		return policy_err(c, v, NW128_NAME, "%s", e);
	return policy_p_string(c, v, dst, k);
}

/* The log rules' limit; the key is remembered for lint. */
static int p_log_rate(struct policy_ctx *c, const struct ynode *v, void *dst, const struct key_spec *k)
{
	c->p->log_limit_loc = policy_node_loc(c, c->key);
	return policy_p_rate(c, v, dst, k);
}

static int p_log_burst(struct policy_ctx *c, const struct ynode *v, void *dst, const struct key_spec *k)
{
	c->p->log_limit_loc = policy_node_loc(c, c->key);
	return policy_p_uint(c, v, dst, k);
}

#define HOUR_MS 3600000ul
#define DAY_MS (24 * HOUR_MS)

static const struct key_spec refresh_keys[] = {
	{ "expire", policy_p_duration, F(struct policy_refresh, expire_ms), 60000, 7 * DAY_MS },
	{ "probe", policy_p_bool, F(struct policy_refresh, probe) },
	{ NULL }
};

static const struct key_spec probe_keys[] = {
	{ "timeout", policy_p_duration, F(struct policy_probe, timeout_ms), 10, 60000 },
	{ "samples", policy_p_uint, F(struct policy_probe, samples), 1, 16 },
	{ "interval", policy_p_duration, F(struct policy_probe, interval_ms), 0, 60000 },
	{ "warn_offset", policy_p_duration, F(struct policy_probe, warn_offset_ms), 1, DAY_MS },
	{ "crit_offset", policy_p_duration, F(struct policy_probe, crit_offset_ms), 1, DAY_MS },
	{ "max_stratum", policy_p_uint, F(struct policy_probe, max_stratum), 1, 15 },
	{ "max_root_distance", policy_p_duration, F(struct policy_probe, max_root_distance_ms), 1, 60000 },
	{ NULL }
};

static const struct key_spec resolve_keys[] = {
	{ "timeout", policy_p_duration, F(struct policy_resolve, timeout_ms), 10, 60000 },
	{ "attempts", policy_p_uint, F(struct policy_resolve, attempts), 1, 10 },
	{ "pool_queries", policy_p_uint, F(struct policy_resolve, pool_queries), 1, 20 },
	{ NULL }
};

/* A command line or option string: it is split at spaces (commands) or
 * written into the daemon's file (options), so no control character may
 * start another line there. */
static int p_cmdline(struct policy_ctx *c, const struct ynode *v, void *dst, const struct key_spec *k)
{
	if (policy_want_str(c, v, "a command line"))
		return -EINVAL;
	for (const unsigned char *s = (const unsigned char *)v->value; *s; s++)
		if (*s < 0x20 || *s == 0x7f)
			return policy_err(c, v, NW128_NAME, "'%s' holds a control character", k->name);
	if (!v->value[strspn(v->value, " ")])
		return policy_err(c, v, NW128_NAME, "'%s' is empty", k->name);
	return policy_p_string(c, v, dst, k);
}

static const struct key_spec daemon_keys[] = {
	{ "chrony_sources", policy_p_path, F(struct policy_daemon, chrony_sources), 0, 4095 },
	{ "chronyc", p_cmdline, F(struct policy_daemon, chronyc), 0, 1024 },
	{ "chrony_options", p_cmdline, F(struct policy_daemon, chrony_options), 0, 1024 },
	{ "chrony_conf", policy_p_path, F(struct policy_daemon, chrony_conf), 0, 4095 },
	{ "timesyncd_conf", policy_p_path, F(struct policy_daemon, timesyncd_conf), 0, 4095 },
	{ "timesyncd_restart", p_cmdline, F(struct policy_daemon, timesyncd_restart), 0, 1024 },
	{ "ntpd_conf", policy_p_path, F(struct policy_daemon, ntpd_conf), 0, 4095 },
	{ "ntpd_restart", p_cmdline, F(struct policy_daemon, ntpd_restart), 0, 1024 },
	{ "replace_after", policy_p_uint, F(struct policy_daemon, replace_after), 1, 100 },
	{ NULL }
};

static int p_daemon(struct policy_ctx *c, const struct ynode *v, void *dst, const struct key_spec *k)
{
	c->p->daemon.loc = policy_node_loc(c, c->key);
	return policy_p_section(c, v, dst, k);
}

/* One daemon is kept in step: two files would tell two daemons. */
static int check_daemon(struct policy_ctx *c)
{
	const struct policy_daemon *dm = &c->p->daemon;
	int n = !!dm->chrony_sources + !!dm->timesyncd_conf + !!dm->ntpd_conf;

	if (n <= 1)
		return 0;
	return diag_add(c->d, &dm->loc, DIAG_ERROR, NW114_CONFLICT,
			"'daemon' names more than one of chrony_sources, timesyncd_conf and "
			"ntpd_conf: ntpwall keeps one time daemon in step");
}

static const struct key_spec top_keys[] = {
	{ "version", p_version, F(struct policy, version) },
	{ "table", policy_p_table, F(struct policy, table), 0, POLICY_TABLE_NAME_MAX },
	{ "backend", policy_p_backend, F(struct policy, backend) },
	{ "interfaces", p_interfaces, 0 },
	{ "families", policy_p_families, F(struct policy, families) },
	{ "resolvers", p_resolvers, 0 },
	{ "resolve", policy_p_section, F(struct policy, resolve), .sub = resolve_keys },
	{ "upstreams", p_upstreams, 0 },
	{ "peers", p_peers, 0 },
	{ "serve", p_serve, F(struct policy, serve) },
	{ "restrict", p_restrict, F(struct policy, restrict_) },
	{ "otherwise", policy_p_otherwise, F(struct policy, otherwise) },
	{ "log_prefix", p_log_prefix, F(struct policy, log_prefix), 0, POLICY_LOG_PREFIX_MAX },
	{ "log_rate", p_log_rate, F(struct policy, log_rate) },
	{ "log_burst", p_log_burst, F(struct policy, log_burst), 1, 10000 },
	{ "refresh", policy_p_section, F(struct policy, refresh), .sub = refresh_keys },
	{ "probe", policy_p_section, F(struct policy, probe), .sub = probe_keys },
	{ "daemon", p_daemon, F(struct policy, daemon), .sub = daemon_keys },
	{ "waive", p_waive, 0 },
	{ NULL }
};

static void set_defaults(struct policy *p)
{
	p->table = xstrdup("ntpwall");
	p->backend = POLICY_BACKEND_NFT;
	p->families = POLICY_FAMILY_IPV4 | POLICY_FAMILY_IPV6;
	p->resolve = (struct policy_resolve){ .timeout_ms = 2000, .attempts = 2, .pool_queries = 3 };
	p->restrict_.noquery = true;
	p->restrict_.nomodify = true;
	p->restrict_.nopeer = true;
	p->restrict_.versions = POLICY_VERSIONS_ALL;
	p->otherwise = POLICY_OTHERWISE_DROP;
	p->log_rate = (struct policy_rate){ POLICY_LOG_RATE_DEFAULT, POLICY_LOG_UNIT_DEFAULT };
	p->log_burst = POLICY_LOG_BURST_DEFAULT;
	p->refresh = (struct policy_refresh){ .expire_ms = HOUR_MS, .probe = false };
	p->daemon.replace_after = 3;
	p->probe = (struct policy_probe){
		.timeout_ms = 1000, .samples = 4, .interval_ms = 2000,
		.warn_offset_ms = 128, .crit_offset_ms = 1000,
		.max_stratum = 15, .max_root_distance_ms = 1500,
	};
}

static int host_cmp(const struct policy_host *a, const struct policy_host *b)
{
	if (a->literal != b->literal)
		return a->literal ? -1 : 1;
	if (a->literal)
		return addr_cmp(&a->addr, &b->addr);
	return strcmp(a->name, b->name);
}

struct host_ref {
	const struct policy_host *h;
	const char *what;
};

static int host_ref_cmp(const void *a, const void *b)
{
	const struct host_ref *x = a, *y = b;
	int r = host_cmp(x->h, y->h);

	if (r)
		return r;
	if (x->h->loc.line != y->h->loc.line)
		return x->h->loc.line < y->h->loc.line ? -1 : 1;
	return x->h->loc.column < y->h->loc.column ? -1 : x->h->loc.column > y->h->loc.column;
}

/* The same address or name twice among upstreams and peers is an error:
 * the operator meant two different servers. */
static int check_dup_hosts(struct policy_ctx *c)
{
	struct policy *p = c->p;
	size_t n = p->n_upstreams + p->n_peers, k = 0;
	struct host_ref *v;
	int ret = 0;

	if (n < 2)
		return 0;
	v = xcalloc(n, sizeof(*v));
	for (size_t i = 0; i < p->n_upstreams; i++)
		v[k++] = (struct host_ref){ &p->upstreams[i].host, "upstream" };
	for (size_t i = 0; i < p->n_peers; i++)
		v[k++] = (struct host_ref){ &p->peers[i], "peer" };
	xsort(v, n, sizeof(*v), host_ref_cmp);
	for (size_t i = 1; i < n; i++) {
		if (host_cmp(v[i].h, v[i - 1].h))
			continue;
		ret = diag_add(c->d, &v[i].h->loc, DIAG_ERROR, NW130_DUPLICATE,
			       "'%s' is already listed as %s at line %u", v[i].h->name,
			       v[i - 1].what, v[i - 1].h->loc.line);
	}
	free(v);
	return ret;
}

static int check_required(struct policy_ctx *c, const struct ynode *root)
{
	bool version = false, upstreams = false;
	int ret = 0;

	for (size_t i = 0; i + 1 < root->n; i += 2) {
		const char *key = root->kids[i]->value;

		if (!key)
			continue;	/* a list or mapping as key: already reported */
		version |= !strcmp(key, "version");
		upstreams |= !strcmp(key, "upstreams");
	}
	if (!version)
		ret = policy_err(c, root, NW112_MISSING, "the policy needs 'version: 1'");
	if (!upstreams)
		ret = policy_err(c, root, NW112_MISSING, "the policy needs 'upstreams', the servers to trust");
	return ret;
}

int policy_load_buffer(const char *name, const char *buf, size_t len, struct diags *d,
		       struct policy **out)
{
	struct policy_ctx c = { .d = d };
	struct ynode *root = NULL;
	struct loc top = { name, 1, 1 };
	int ret;

	*out = NULL;
	c.p = xcalloc(1, sizeof(*c.p));
	c.p->path = xstrdup(name);
	c.file = c.p->path;
	c.p->loc = top;
	c.p->loc.file = c.p->path;
	util_hash_hex(buf, len, c.p->hash);
	set_defaults(c.p);
	if (len > POLICY_MAX_FILE_SIZE) {
		ret = diag_add(d, &top, DIAG_ERROR, NW103_TOO_LARGE,
			       "policy is %zu bytes, more than the %u allowed", len, POLICY_MAX_FILE_SIZE);
		goto out;
	}
	if (len >= 2 && ((buf[0] == '\xff' && buf[1] == '\xfe') || (buf[0] == '\xfe' && buf[1] == '\xff'))) {
		ret = diag_add(d, &top, DIAG_ERROR, NW102_ENCODING,
			       "policy is UTF-16; save it as UTF-8");
		goto out;
	}
	ret = policy_tree_build(&c, buf, len, &root);
	if (ret)
		goto out;
	if (!root) {
		ret = diag_add(d, &top, DIAG_ERROR, NW105_DOCUMENT, "policy is empty");
		goto out;
	}
	if (root->type != Y_MAP) {
		ret = policy_err(&c, root, NW105_DOCUMENT, "a policy is a YAML mapping (key: value), got %s",
			  policy_type_name(root));
		goto out;
	}
	ret = policy_parse_map(&c, root, c.p, top_keys);
	if (check_required(&c, root))
		ret = -EINVAL;
	if (check_dup_hosts(&c))
		ret = -EINVAL;
	if (check_daemon(&c))
		ret = -EINVAL;
out:
	policy_tree_free(&c);
	if (ret) {
		policy_free(c.p);
		return ret;
	}
	*out = c.p;
	return 0;
}

int policy_load(const char *path, struct diags *d, struct policy **out)
{
	struct loc l = { path, 0, 0 };
	char *buf;
	size_t len;
	int ret;

	*out = NULL;
	ret = util_read_file(path, POLICY_MAX_FILE_SIZE, &buf, &len);
	if (ret == -EFBIG)
		return diag_add(d, &l, DIAG_ERROR, NW103_TOO_LARGE,
				"policy is larger than %u bytes", POLICY_MAX_FILE_SIZE);
	if (ret) {
		diag_add(d, &l, DIAG_ERROR, NW100_IO, "cannot read: %s", strerror(-ret));
		return ret;
	}
	ret = policy_load_buffer(path, buf, len, d, out);
	free(buf);
	return ret;
}

static void host_free(struct policy_host *h)
{
	free(h->name);
}

void policy_free(struct policy *p)
{
	if (!p)
		return;
	free(p->path);
	free(p->table);
	for (size_t i = 0; i < p->n_interfaces; i++)
		free(p->interfaces[i]);
	free(p->interfaces);
	free(p->resolvers);
	for (size_t i = 0; i < p->n_upstreams; i++)
		host_free(&p->upstreams[i].host);
	free(p->upstreams);
	for (size_t i = 0; i < p->n_peers; i++)
		host_free(&p->peers[i]);
	free(p->peers);
	free(p->serve.clients.v);
	free(p->restrict_.ignore.v);
	free(p->restrict_.query_from.v);
	free(p->log_prefix);
	free(p->daemon.chrony_sources);
	free(p->daemon.chronyc);
	free(p->daemon.chrony_options);
	free(p->daemon.chrony_conf);
	free(p->daemon.timesyncd_conf);
	free(p->daemon.timesyncd_restart);
	free(p->daemon.ntpd_conf);
	free(p->daemon.ntpd_restart);
	for (size_t i = 0; i < p->n_waivers; i++)
		free(p->waivers[i].reason);
	free(p->waivers);
	free(p);
}
