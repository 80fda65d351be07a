/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The daemon side of a policy: a chrony sources file and an ntpd
 * configuration that ask exactly the addresses the firewall lets through
 * (the resolver's choice, not the daemon's own DNS lookup, which could pick
 * other pool members), plus the serving and restrict lines that mirror the
 * rules. The firewall stays the enforcement; these keep the daemon in step. */
#include "ntpwall/render.h"
#include "ntpwall/util.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/socket.h>

static const char *astr(const struct addr *a, char buf[INET6_ADDRSTRLEN])
{
	return addr_str(a, buf, INET6_ADDRSTRLEN);
}

/* An address some non-NTS upstream gave: asked by address. NTS-only
 * addresses are asked through their name (below). */
static bool plain_origin(const struct policy *p, const struct resolve_addr *a)
{
	for (size_t i = 0; i < a->n_origins; i++)
		if (!p->upstreams[a->origins[i]].nts)
			return true;
	return !a->n_origins;
}

/* The policy path in a comment line: a newline in it must not start a
 * line of configuration. */
static void put_path_comment(FILE *f, const char *path)
{
	for (; *path; path++)
		fputc((unsigned char)*path < 0x20 || *path == 0x7f ? '?' : *path, f);
}

static void header(FILE *f, const struct render_opts *o, const char *what)
{
	fprintf(f, "# ntpwall: %s for policy ", what);
	put_path_comment(f, o->policy->path);
	fprintf(f, " (hash %s).\n", o->policy->hash);
	fputs("# Generated: the addresses are the ones the firewall allows; edit the policy.\n", f);
}

/* " OPTIONS" for a chrony server line, or "". */
static const char *opt_sep(const struct render_opts *o)
{
	return o->chrony_options && o->chrony_options[0] ? " " : "";
}

static const char *opt_text(const struct render_opts *o)
{
	return o->chrony_options ? o->chrony_options : "";
}

/* NTS checks the server's certificate against the name it was asked by,
 * so NTS upstreams are written by name (RFC 8915 s8.1). */
static void nts_lines(FILE *f, const struct policy *p, const char *server_fmt,
		      const char *pool_fmt, const struct render_opts *o)
{
	for (size_t i = 0; i < p->n_upstreams; i++) {
		const struct policy_upstream *u = &p->upstreams[i];

		if (!u->nts)
			continue;
		/* chrony takes maxsources 1..16 (default 4). */
		if (u->kind == POLICY_UPSTREAM_POOL)
			fprintf(f, pool_fmt, u->host.name, !u->max ? 4 : u->max > 16 ? 16 : u->max,
				opt_sep(o), opt_text(o));
		else
			fprintf(f, server_fmt, u->host.name, opt_sep(o), opt_text(o));
	}
}

/* chrony's ratelimit interval is log2 seconds between responses, -19..12;
 * burst 1..255. */
static int log2_interval(const struct policy_rate *r, int lo, int hi)
{
	double s = (double)r->unit / (r->count ? r->count : 1);
	int v = (int)lround(log2(s));

	return v < lo ? lo : v > hi ? hi : v;
}

static void chrony_prefixes(FILE *f, const char *directive, const struct policy_prefixes *l)
{
	char buf[INET6_ADDRSTRLEN];

	for (size_t i = 0; i < l->n; i++)
		fprintf(f, "#   %s %s/%u\n", directive, astr(&l->v[i].addr, buf), l->v[i].len);
}

static void chrony_serve(FILE *f, const struct policy *p)
{
	const struct policy_serve *s = &p->serve;

	if (!s->present)
		return;
	fputs("#\n# Serving: chrony takes allow/deny/ratelimit only in chrony.conf (a sourcedir\n"
	      "# file holds server, pool and peer lines only). Put these in chrony.conf:\n", f);
	if (!p->restrict_.noserve)
		chrony_prefixes(f, "allow", &s->clients);
	/* "deny all" also overrides allows of smaller subnets inside it, as
	 * the firewall's ignore drop comes before every accept. */
	chrony_prefixes(f, "deny all", &p->restrict_.ignore);
	if (s->has_rate_limit)
		fprintf(f, "#   ratelimit interval %d burst %u\n",
			log2_interval(&s->per_source, -19, 12), s->burst > 255 ? 255 : s->burst);
	fputs("# chrony answers no mode 6/7 queries (chronyc uses its own port 323), so\n"
	      "# noquery, nomodify and query_from need no chrony line.\n", f);
}

int render_chrony(const struct ir_ruleset *rs, const struct render_opts *o, FILE *f)
{
	const struct policy *p = o->policy;
	const struct resolved *r = o->resolved;
	char buf[INET6_ADDRSTRLEN];

	if (!p || !r)
		return -EINVAL;
	header(f, o, "chrony sources");
	for (size_t i = 0; i < r->n_upstreams; i++)
		if (plain_origin(p, &r->upstreams[i]))
			fprintf(f, "server %s iburst%s%s\n", astr(&r->upstreams[i].addr, buf),
				opt_sep(o), opt_text(o));
	nts_lines(f, p, "server %s iburst nts%s%s\n", "pool %s iburst nts maxsources %u%s%s\n", o);
	for (size_t i = 0; i < r->n_peers; i++)
		fprintf(f, "peer %s\n", astr(&r->peers[i].addr, buf));
	chrony_serve(f, p);
	return ferror(f) ? -EIO : 0;
}

/* "ADDR mask MASK", or just ADDR for a host. */
static void ntpd_prefix(FILE *f, const struct addr *a, unsigned len)
{
	unsigned full = a->family == AF_INET ? 32 : 128;
	struct addr mask = { .family = a->family };
	char buf[INET6_ADDRSTRLEN];

	fputs(astr(a, buf), f);
	if (len == full)
		return;
	for (unsigned i = 0; i < len; i++)
		mask.bytes[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	fprintf(f, " mask %s", astr(&mask, buf));
}

struct ntpd_flags {
	bool kod_limited, nomodify, nopeer, noquery, noserve, version;
};

static void ntpd_flags(FILE *f, const struct ntpd_flags *fl)
{
	if (fl->kod_limited)
		fputs(" kod limited", f);
	if (fl->nomodify)
		fputs(" nomodify", f);
	fputs(" notrap", f);
	if (fl->nopeer)
		fputs(" nopeer", f);
	if (fl->noquery)
		fputs(" noquery", f);
	if (fl->noserve)
		fputs(" noserve", f);
	if (fl->version)
		fputs(" version", f);
	fputc('\n', f);
}

static void ntpd_restrict_list(FILE *f, const struct policy_prefixes *l,
			       const struct ntpd_flags *fl, const char *raw)
{
	for (size_t i = 0; i < l->n; i++) {
		fputs("restrict ", f);
		ntpd_prefix(f, &l->v[i].addr, l->v[i].len);
		if (raw)
			fprintf(f, " %s\n", raw);
		else
			ntpd_flags(f, fl);
	}
}

static void ntpd_sources(FILE *f, const struct policy *p, const struct resolved *r)
{
	char buf[INET6_ADDRSTRLEN];

	fputs("\n# upstreams: only their replies are taken\n", f);
	for (size_t i = 0; i < r->n_upstreams; i++) {
		if (!plain_origin(p, &r->upstreams[i]))
			continue;
		astr(&r->upstreams[i].addr, buf);
		fprintf(f, "server %s iburst\nrestrict %s nomodify notrap nopeer noquery\n", buf, buf);
	}
	for (size_t i = 0; i < p->n_upstreams; i++) {
		if (p->upstreams[i].nts) {
			fputs("# NTS upstreams: NTPsec syntax (classic ntpd 4.2 has no NTS)\n", f);
			break;
		}
	}
	nts_lines(f, p, "server %s iburst nts%s%s\n", "pool %s iburst nts # at most %u of them%s%s\n",
		  &(struct render_opts){ 0 });
	if (r->n_peers)
		fputs("\n# peers: symmetric mode\n", f);
	for (size_t i = 0; i < r->n_peers; i++) {
		astr(&r->peers[i].addr, buf);
		fprintf(f, "peer %s\nrestrict %s nomodify notrap noquery\n", buf, buf);
	}
}

/* ntpd's discard: average is log2 seconds (0..16), minimum whole seconds
 * between packets; ntpd has no burst, and minimum stays <= 2 s so that an
 * iburst (packets 2 s apart) is never refused. */
static void ntpd_discard(FILE *f, const struct policy_serve *s)
{
	uint32_t gap = s->per_source.count ? s->per_source.unit / s->per_source.count : 2;

	fprintf(f, "discard average %d minimum %u\n", log2_interval(&s->per_source, 0, 16),
		gap > 2 ? 2 : gap);
}

int render_ntpd(const struct ir_ruleset *rs, const struct render_opts *o, FILE *f)
{
	const struct policy *p = o->policy;
	const struct policy_restrict *rx;
	struct ntpd_flags def, cl;

	if (!p || !o->resolved)
		return -EINVAL;
	rx = &p->restrict_;
	def = (struct ntpd_flags){ p->serve.has_rate_limit, rx->nomodify, rx->nopeer,
				   rx->noquery, true, rx->versions == (1u << 4) };
	header(f, o, "ntpd configuration");
	fputs("# Nobody but the lines below gets time (RFC 8633 s5.1); localhost is free.\n"
	      "restrict default", f);
	ntpd_flags(f, &def);
	/* Servers ntpd finds by name itself (the NTS ones) get the upstream
	 * line through "restrict source" (ntpd 4.2.7+, NTPsec). */
	fputs("restrict source nomodify notrap nopeer noquery\n"
	      "restrict 127.0.0.1\nrestrict ::1\n", f);
	if (rx->versions != (1u << 4) && rx->versions != POLICY_VERSIONS_ALL)
		fputs("# ntpd can only refuse all but v4 ('version'); the firewall drops the\n"
		      "# other versions the policy leaves out.\n", f);
	ntpd_sources(f, p, o->resolved);
	if (p->serve.present) {
		cl = def;
		cl.noserve = rx->noserve;
		fputs("\n# clients\n", f);
		ntpd_restrict_list(f, &p->serve.clients, &cl, NULL);
		if (rx->noquery && rx->query_from.n) {
			fputs("# monitoring hosts: may send mode 6 (ntpq)\n", f);
			cl.noquery = false;
			ntpd_restrict_list(f, &rx->query_from, &cl, NULL);
		}
		if (p->serve.has_rate_limit)
			ntpd_discard(f, &p->serve);
	}
	if (rx->ignore.n) {
		fputs("\n# ignore: nothing at all (ntpd's most specific match wins, so a client\n"
		      "# prefix inside one of these still gets the client line; the firewall\n"
		      "# drops it first)\n", f);
		ntpd_restrict_list(f, &rx->ignore, NULL, "ignore");
	}
	return ferror(f) ? -EIO : 0;
}

int render_timesyncd(const struct ir_ruleset *rs, const struct render_opts *o, FILE *f)
{
	const struct resolved *r = o->resolved;
	char buf[INET6_ADDRSTRLEN];

	if (!o->policy || !r)
		return -EINVAL;
	header(f, o, "systemd-timesyncd drop-in");
	fputs("# Servers that systemd-networkd learns per link (DHCP) are asked too: set\n"
	      "# UseNTP=no in the .network files, or the wall drops their replies.\n"
	      "[Time]\nNTP=", f);
	for (size_t i = 0; i < r->n_upstreams; i++)
		fprintf(f, "%s%s", i ? " " : "", astr(&r->upstreams[i].addr, buf));
	fputs("\nFallbackNTP=\n", f);
	return ferror(f) ? -EIO : 0;
}
