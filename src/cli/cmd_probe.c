/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ntpwall probe POLICY|HOST...: ask the servers a policy trusts (or the hosts
 * given) for the time and say whether they can be trusted, as a table, JSON
 * or one monitoring-plugins line. Exit codes follow the monitoring plugins. */
#include "engine_cli.h"
#include "cli.h"
#include "ntpwall/hostfw.h"
#include "ntpwall/privsep.h"
#include "ntpwall/probe.h"
#include "ntpwall/resolve.h"
#include "ntpwall/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netdb.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

enum {
	OPT_FORMAT = 'f', OPT_WARN = 256, OPT_CRIT, OPT_TIMEOUT, OPT_SAMPLES, OPT_INTERVAL,
	OPT_NAGIOS, OPT_PORT, OPT_INFLIGHT,
};

static const struct cli_option probe_opts[] = {
	{ "format", OPT_FORMAT, "FMT", "text (default) or json" },
	{ "warn-offset", OPT_WARN, "D", "warn above this |offset| (default 128ms)" },
	{ "crit-offset", OPT_CRIT, "D", "critical above this |offset| (default 1s)" },
	{ "timeout", OPT_TIMEOUT, "D", "per-request timeout (default 1s)" },
	{ "samples", OPT_SAMPLES, "N", "requests per server, 1-16 (default 4)" },
	{ "interval", OPT_INTERVAL, "D", "between samples of one server (default 2s)" },
	{ "nagios", OPT_NAGIOS, NULL, "print one monitoring-plugins line with perfdata" },
	{ "port", OPT_PORT, "N", "server port (default 123; for tests)" },
	{ "max-inflight", OPT_INFLIGHT, "N", "requests in flight at once (default 128)" },
	{ "help", 'h', NULL, "show this help" },
	{ 0 }
};

#define PROBE_USAGE "ntpwall probe POLICY|HOST... [--format text|json] [--warn-offset D] " \
		    "[--crit-offset D] [--timeout D] [--samples N] [--interval D] [--nagios]"

/* A setting given on the command line overrides the policy's. */
struct probe_args {
	enum report_format format;
	bool nagios;
	uint16_t port;
	unsigned max_inflight;
	struct policy_probe set;	/* values given */
	bool has_timeout, has_samples, has_interval, has_warn, has_crit;
};

/* The targets to probe and the strings their names point to. */
struct target_list {
	struct probe_target *v;
	size_t n, cap;
	char **names;
	size_t n_names, cap_names;
	struct policy_probe limits;
	bool have_policy;
	char *table;		/* the first policy's: ntpwall's own table */
};

/* A duration within [lo, hi] ms: the policy's own limits for the probe
 * (a 30-day timeout would hang a monitoring check). */
static int parse_duration_opt(const char *opt, const char *arg, uint64_t lo, uint64_t hi,
			      uint64_t *ms)
{
	const char *e = policy_parse_duration(arg, ms);

	if (e) {
		cli_error("--%s %s: %s", opt, arg, e);
		return -1;
	}
	if (*ms < lo || *ms > hi) {
		cli_error("--%s %s: expected %llums to %llus", opt, arg, (unsigned long long)lo,
			  (unsigned long long)hi / 1000);
		return -1;
	}
	return 0;
}

#define MS_60S 60000ull
#define MS_DAY 86400000ull

static int parse_uint_opt(const char *opt, const char *arg, unsigned long lo,
			  unsigned long hi, unsigned long *v)
{
	const char *e = policy_parse_uint(arg, lo, hi, v);

	if (e) {
		cli_error("--%s %s: %s (%lu to %lu)", opt, arg, e, lo, hi);
		return -1;
	}
	return 0;
}

static int probe_opt(int key, const char *arg, void *data)
{
	struct probe_args *a = data;
	unsigned long v;
	int f;

	switch (key) {
	case OPT_FORMAT:
		f = report_format_parse(arg, REPORT_JSON);
		if (f < 0) {
			cli_error("--format %s: expected text or json", arg);
			return -1;
		}
		a->format = f;
		return 0;
	case OPT_WARN:
		a->has_warn = true;
		return parse_duration_opt("warn-offset", arg, 1, MS_DAY, &a->set.warn_offset_ms);
	case OPT_CRIT:
		a->has_crit = true;
		return parse_duration_opt("crit-offset", arg, 1, MS_DAY, &a->set.crit_offset_ms);
	case OPT_TIMEOUT:
		a->has_timeout = true;
		return parse_duration_opt("timeout", arg, 10, MS_60S, &a->set.timeout_ms);
	case OPT_INTERVAL:
		/* Zero is fine here: samples back to back. */
		a->has_interval = true;
		return parse_duration_opt("interval", arg, 0, MS_60S, &a->set.interval_ms);
	case OPT_SAMPLES:
		a->has_samples = true;
		if (parse_uint_opt("samples", arg, 1, 16, &v))
			return -1;
		a->set.samples = (unsigned)v;
		return 0;
	case OPT_PORT:
		if (parse_uint_opt("port", arg, 1, 65535, &v))
			return -1;
		a->port = (uint16_t)v;
		return 0;
	case OPT_INFLIGHT:
		if (parse_uint_opt("max-inflight", arg, 1, 1000000, &v))
			return -1;
		a->max_inflight = (unsigned)v;
		return 0;
	case OPT_NAGIOS:
		a->nagios = true;
		return 0;
	}
	return 0;
}

static const char *keep_name(struct target_list *l, const char *name)
{
	xgrow((void **)&l->names, &l->cap_names, l->n_names, sizeof(*l->names));
	l->names[l->n_names] = xstrdup(name);
	return l->names[l->n_names++];
}

static void add_target(struct target_list *l, const char *name, const struct addr *a,
		       uint16_t port)
{
	xgrow((void **)&l->v, &l->cap, l->n, sizeof(*l->v));
	l->v[l->n++] = (struct probe_target){ keep_name(l, name), *a, port };
}

/* "pool.test,ntp1.test": every upstream of the policy that gave the address. */
static char *origins_label(const struct policy *p, const struct resolve_addr *ra)
{
	char *s = xstrdup("");

	for (size_t i = 0; i < ra->n_origins; i++) {
		char *t = xasprintf("%s%s%s", s, i ? "," : "", p->upstreams[ra->origins[i]].host.name);

		free(s);
		s = t;
	}
	return s;
}

static void target_list_free(struct target_list *l)
{
	for (size_t i = 0; i < l->n_names; i++)
		free(l->names[i]);
	free(l->names);
	free(l->v);
	free(l->table);
}

/* HOSTFW_V4 | HOSTFW_V6 of the targets. */
static unsigned target_families(const struct target_list *l)
{
	unsigned f = 0;

	for (size_t i = 0; i < l->n; i++)
		f |= l->v[i].addr.family == AF_INET6 ? HOSTFW_V6 : HOSTFW_V4;
	return f;
}

static bool is_policy_arg(const char *s)
{
	const char *dot = strrchr(s, '.');
	struct stat st;

	if (dot && dot != s && (!strcmp(dot, ".yaml") || !strcmp(dot, ".yml")))
		return true;
	return !stat(s, &st) && S_ISREG(st.st_mode);
}

/* A host name for the command line only: every address getaddrinfo gives. */
static int add_host(struct target_list *l, const char *host, uint16_t port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *res, *ai;
	struct addr a;
	size_t before = l->n;
	int ret;

	if (!addr_parse(host, &a)) {
		add_target(l, host, &a, port);
		return 0;
	}
	ret = getaddrinfo(host, NULL, &hints, &res);
	if (ret) {
		cli_error("probe: %s: %s", host, gai_strerror(ret));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		bool dup = false;

		memset(&a, 0, sizeof(a));
		a.family = ai->ai_family;
		if (ai->ai_family == AF_INET)
			a.v4 = ((struct sockaddr_in *)ai->ai_addr)->sin_addr;
		else if (ai->ai_family == AF_INET6)
			a.v6 = ((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
		else
			continue;
		for (size_t i = before; i < l->n; i++)
			dup |= !addr_cmp(&l->v[i].addr, &a);
		if (!dup)
			add_target(l, host, &a, port);
	}
	freeaddrinfo(res);
	return 0;
}

/* The addresses apply trusted: pool choices made with this host's seed and
 * kept from the latest generation when the state directory is readable
 * (a monitoring user without access gets the same deterministic choice as a
 * first apply). */
static int resolve_for_probe(const struct policy *p, struct diags *d, struct resolved **r)
{
	struct cli_run c;
	int ret;

	/* What the wall trusts now, published world-readable for a monitor. */
	if (cli_current_choice(p, r) == 0)
		return 0;
	cli_run_init(&c, 0);
	/* Unreadable state: the choice of a first apply, said nowhere. */
	if (engine_state_open(&c.e, ENGINE_STATE_READ) < 0)
		diag_free(&c.d);
	c.e.d = d;
	ret = engine_resolve(&c.e, p, false, r);
	cli_run_fini(&c);
	return ret;
}

/* The upstreams of a policy: literals as they are, names through the
 * resolver. A name that fails is reported and skipped; the servers left are
 * still probed (the exit code shows whether they are enough). */
static int add_policy(struct target_list *l, const char *path, uint16_t port)
{
	struct diags d;
	struct policy *p = NULL;
	struct resolved *r = NULL;
	int ret;

	diag_init(&d, 10);
	ret = policy_load(path, &d, &p);
	if (ret) {
		report_diags(stderr, &d, REPORT_TEXT);
		diag_free(&d);
		return -1;
	}
	ret = resolve_for_probe(p, &d, &r);
	if (ret && ret != -EINVAL)
		cli_error("probe: %s: cannot resolve names: %s", path, strerror(-ret));
	for (size_t i = 0; r && i < r->n_upstreams; i++) {
		char *name = origins_label(p, &r->upstreams[i]);

		add_target(l, name, &r->upstreams[i].addr, port);
		free(name);
	}
	if (d.n)
		report_diags(stderr, &d, REPORT_TEXT);
	if (!l->have_policy) {
		l->limits = p->probe;
		l->table = xstrdup(p->table);
		l->have_policy = true;
	}
	resolve_free(r);
	policy_free(p);
	diag_free(&d);
	return 0;
}

/* Per-server level: OK (0), WARNING (1) or CRITICAL (2). A server that gives
 * no usable time is a warning on its own; whether that makes the whole run
 * critical depends on the others (see probe_exit). */
static int server_level(const struct probe_result *s)
{
	if (s->status == PROBE_OK)
		return s->warn ? NAGIOS_WARNING : NAGIOS_OK;
	return s->status == PROBE_OFFSET ? NAGIOS_CRITICAL : NAGIOS_WARNING;
}

static size_t usable_count(const struct probe_results *r)
{
	size_t n = 0;

	for (size_t i = 0; i < r->n; i++)
		n += r->v[i].status == PROBE_OK;
	return n;
}

/* CRITICAL: no usable server, or a server that is not a falseticker is
 * beyond the critical offset (our own clock is off). WARNING: any server
 * unusable or beyond the warning offset, or no majority among >= 3. */
static int probe_exit(const struct probe_results *r)
{
	int rc = NAGIOS_OK;

	if (!usable_count(r))
		return NAGIOS_CRITICAL;
	for (size_t i = 0; i < r->n; i++) {
		int l = server_level(&r->v[i]);

		rc = l > rc ? l : rc;
	}
	if (r->selection.ran && !r->selection.majority && rc < NAGIOS_WARNING)
		rc = NAGIOS_WARNING;
	return rc;
}

static const char *level_name(int rc)
{
	static const char *const names[] = { "OK", "WARNING", "CRITICAL", "UNKNOWN" };

	return rc >= 0 && rc <= 3 ? names[rc] : "UNKNOWN";
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median offset of the usable servers, in seconds; false when none. */
static bool median_offset(const struct probe_results *r, double *out)
{
	double *v = xcalloc(r->n ? r->n : 1, sizeof(*v));
	size_t m = 0;

	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].status == PROBE_OK)
			v[m++] = ntp_fp_to_double(r->v[i].offset);
	if (m) {
		xsort(v, m, sizeof(*v), cmp_double);
		*out = m % 2 ? v[m / 2] : (v[m / 2 - 1] + v[m / 2]) / 2;
		if (*out > -5e-7 && *out < 5e-7)
			*out = 0;	/* no "-0.000000" */
	}
	free(v);
	return m > 0;
}

static const char *verdict(const struct probe_result *s)
{
	return s->status == PROBE_OK && s->warn ? "WARN" : probe_status_str(s->status);
}

static const char *addr_text(const struct probe_result *s, char *buf, size_t len)
{
	return addr_str(&s->addr, buf, len);
}

/* Column widths are the longest cell; names are at most 253 bytes. */
static void print_table(FILE *f, const struct probe_results *r, int rc)
{
	static const char *const head[] = { "SERVER", "ADDRESS", "STRATUM", "REFID", "OFFSET",
					    "DELAY", "ROOT DIST", "VERDICT", "REASON" };
	enum { NCOL = 9 };
	char (*cells)[NCOL][INET6_ADDRSTRLEN + 8] = xcalloc(r->n ? r->n : 1, sizeof(*cells));
	int w[NCOL];
	double med;

	for (int c = 0; c < NCOL; c++)
		w[c] = (int)strlen(head[c]);
	for (size_t i = 0; i < r->n; i++) {
		const struct probe_result *s = &r->v[i];
		char *row[NCOL];

		for (int c = 0; c < NCOL; c++)
			row[c] = cells[i][c];
		addr_text(s, row[1], sizeof(cells[i][1]));
		if (s->has_sample) {
			snprintf(row[2], sizeof(cells[i][2]), "%u", s->stratum);
			snprintf(row[3], sizeof(cells[i][3]), "%s",
				 s->refid_str[0] ? s->refid_str : "-");
			snprintf(row[4], sizeof(cells[i][4]), "%+.6fs", ntp_fp_to_double(s->offset));
			snprintf(row[5], sizeof(cells[i][5]), "%.6fs", ntp_fp_to_double(s->delay));
			snprintf(row[6], sizeof(cells[i][6]), "%.6fs",
				 ntp_fp_to_double(s->root_distance));
		} else {
			for (int c = 2; c <= 6; c++)
				strcpy(row[c], "-");
		}
		snprintf(row[7], sizeof(cells[i][7]), "%s", verdict(s));
		for (int c = 1; c < NCOL - 1; c++)
			w[c] = (int)strlen(row[c]) > w[c] ? (int)strlen(row[c]) : w[c];
		w[0] = (int)strlen(s->name) > w[0] ? (int)strlen(s->name) : w[0];
	}
	fprintf(f, "%-*s  %-*s  %*s  %-*s  %*s  %*s  %*s  %-*s  %s\n", w[0], head[0], w[1],
		head[1], w[2], head[2], w[3], head[3], w[4], head[4], w[5], head[5], w[6], head[6],
		w[7], head[7], head[8]);
	for (size_t i = 0; i < r->n; i++) {
		char (*c)[INET6_ADDRSTRLEN + 8] = cells[i];

		fprintf(f, "%-*s  %-*s  %*s  %-*s  %*s  %*s  %*s  %-*s  %s\n", w[0], r->v[i].name,
			w[1], c[1], w[2], c[2], w[3], c[3], w[4], c[4], w[5], c[5], w[6], c[6],
			w[7], c[7], r->v[i].reason);
	}
	fprintf(f, "%s: %zu of %zu servers usable", level_name(rc), usable_count(r), r->n);
	if (median_offset(r, &med))
		fprintf(f, ", median offset %+.6f s", med);
	if (r->selection.ran)
		fprintf(f, r->selection.majority ? ", %zu of %zu agree" : ", no majority (%zu of %zu)",
			r->selection.truechimers, r->selection.candidates);
	fputc('\n', f);
	free(cells);
}

static json_t *fp_json(const struct probe_result *s, ntp_fp v)
{
	return s->has_sample ? json_real(ntp_fp_to_double(v)) : json_null();
}

static json_t *server_json(const struct probe_result *s)
{
	char addr[INET6_ADDRSTRLEN];
	json_t *o = json_object();

	json_object_set_new(o, "name", json_string(s->name));
	json_object_set_new(o, "address", json_string(addr_text(s, addr, sizeof(addr))));
	json_object_set_new(o, "port", json_integer(s->port));
	json_object_set_new(o, "status", json_string(probe_status_str(s->status)));
	json_object_set_new(o, "level", json_string(level_name(server_level(s))));
	json_object_set_new(o, "reason", json_string(s->reason));
	json_object_set_new(o, "stratum", s->has_sample ? json_integer(s->stratum) : json_null());
	json_object_set_new(o, "refid", s->has_sample ? json_string(s->refid_str) : json_null());
	json_object_set_new(o, "leap", s->has_sample ? json_integer(s->leap) : json_null());
	json_object_set_new(o, "offset", fp_json(s, s->offset));
	json_object_set_new(o, "delay", fp_json(s, s->delay));
	json_object_set_new(o, "root_distance", fp_json(s, s->root_distance));
	json_object_set_new(o, "offset_ns", s->has_sample ? json_integer(ntp_fp_to_ns(s->offset))
							  : json_null());
	json_object_set_new(o, "truechimer", json_boolean(s->truechimer));
	json_object_set_new(o, "samples_sent", json_integer(s->samples_sent));
	json_object_set_new(o, "samples_ok", json_integer(s->samples_ok));
	return o;
}

static void print_json(FILE *f, const struct probe_results *r, const struct policy_probe *lim,
		       int rc)
{
	json_t *root = json_object(), *servers = json_array(), *sel = json_object();
	json_t *set = json_object();
	double med;

	json_object_set_new(root, "status", json_string(level_name(rc)));
	json_object_set_new(root, "exit_code", json_integer(rc));
	json_object_set_new(root, "usable", json_integer((json_int_t)usable_count(r)));
	json_object_set_new(root, "median_offset",
			    median_offset(r, &med) ? json_real(med) : json_null());
	json_object_set_new(set, "timeout_ms", json_integer((json_int_t)lim->timeout_ms));
	json_object_set_new(set, "samples", json_integer(lim->samples));
	json_object_set_new(set, "interval_ms", json_integer((json_int_t)lim->interval_ms));
	json_object_set_new(set, "warn_offset_ms", json_integer((json_int_t)lim->warn_offset_ms));
	json_object_set_new(set, "crit_offset_ms", json_integer((json_int_t)lim->crit_offset_ms));
	json_object_set_new(set, "max_stratum", json_integer(lim->max_stratum));
	json_object_set_new(set, "max_root_distance_ms",
			    json_integer((json_int_t)lim->max_root_distance_ms));
	json_object_set_new(root, "settings", set);
	json_object_set_new(sel, "ran", json_boolean(r->selection.ran));
	json_object_set_new(sel, "majority", json_boolean(r->selection.majority));
	json_object_set_new(sel, "candidates", json_integer((json_int_t)r->selection.candidates));
	json_object_set_new(sel, "truechimers", json_integer((json_int_t)r->selection.truechimers));
	json_object_set_new(sel, "low", r->selection.ran ? json_real(r->selection.low_ns / 1e9)
							 : json_null());
	json_object_set_new(sel, "high", r->selection.ran ? json_real(r->selection.high_ns / 1e9)
							  : json_null());
	json_object_set_new(root, "selection", sel);
	for (size_t i = 0; i < r->n; i++)
		json_array_append_new(servers, server_json(&r->v[i]));
	json_object_set_new(root, "servers", servers);
	json_dumpf(root, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', f);
	json_decref(root);
}

/* Monitoring-plugins output: "NTPWALL STATE - summary | perfdata". Labels are
 * quoted, thresholds are ranges (-w:w) because an offset may be negative. */
static void print_nagios(FILE *f, const struct probe_results *r, const struct policy_probe *lim,
			 int rc)
{
	double w = lim->warn_offset_ms / 1e3, c = lim->crit_offset_ms / 1e3, med;
	size_t shown = 0, bad = 0;
	char addr[INET6_ADDRSTRLEN];

	fprintf(f, "NTPWALL %s - %zu of %zu servers usable", level_name(rc), usable_count(r), r->n);
	if (median_offset(r, &med))
		fprintf(f, ", offset %+.6f s", med);
	for (size_t i = 0; i < r->n; i++) {
		if (!server_level(&r->v[i]))
			continue;
		if (shown++ < 3)
			fprintf(f, "%s %s %s", bad++ ? "," : ";", addr_text(&r->v[i], addr, sizeof(addr)),
				verdict(&r->v[i]));
	}
	if (shown > 3)
		fprintf(f, " and %zu more", shown - 3);
	fputs(" |", f);
	for (size_t i = 0; i < r->n; i++) {
		const struct probe_result *s = &r->v[i];

		addr_text(s, addr, sizeof(addr));
		if (s->has_sample)
			fprintf(f, " 'offset_%s'=%.6fs;-%.6f:%.6f;-%.6f:%.6f;; 'delay_%s'=%.6fs;;;0;",
				addr, ntp_fp_to_double(s->offset), w, w, c, c, addr,
				ntp_fp_to_double(s->delay));
		else
			fprintf(f, " 'offset_%s'=U;-%.6f:%.6f;-%.6f:%.6f;; 'delay_%s'=U;;;0;", addr, w,
				w, c, c, addr);
	}
	fputc('\n', f);
}

/* Defaults when no policy is given: the same as a policy's (doc/design.md). */
static const struct policy_probe probe_defaults = {
	.timeout_ms = 1000, .samples = 4, .interval_ms = 2000, .warn_offset_ms = 128,
	.crit_offset_ms = 1000, .max_stratum = 15, .max_root_distance_ms = 1500,
};

static void apply_overrides(struct policy_probe *lim, const struct probe_args *a)
{
	if (a->has_timeout)
		lim->timeout_ms = a->set.timeout_ms;
	if (a->has_samples)
		lim->samples = a->set.samples;
	if (a->has_interval)
		lim->interval_ms = a->set.interval_ms;
	if (a->has_warn)
		lim->warn_offset_ms = a->set.warn_offset_ms;
	if (a->has_crit)
		lim->crit_offset_ms = a->set.crit_offset_ms;
}

int cmd_probe_main(int argc, char **argv)
{
	struct probe_args a = { .format = REPORT_TEXT };
	struct target_list l = { .limits = probe_defaults };
	struct probe_results *r = NULL;
	struct probe_options o;
	int first, ret, rc = NAGIOS_UNKNOWN;

	first = cli_parse(argc, argv, PROBE_USAGE, probe_opts, probe_opt, &a);
	if (first == -2)
		rc = NAGIOS_OK;
	if (first < 0)
		goto out;
	if (first >= argc) {
		cli_error("probe: no policy or host given (usage: %s)", PROBE_USAGE);
		goto out;
	}
	for (int i = first; i < argc; i++) {
		ret = is_policy_arg(argv[i]) ? add_policy(&l, argv[i], a.port)
					     : add_host(&l, argv[i], a.port);
		if (ret)
			goto out;
	}
	apply_overrides(&l.limits, &a);
	if (l.limits.warn_offset_ms > l.limits.crit_offset_ms) {
		cli_error("probe: warning offset %llums above critical offset %llums",
			  (unsigned long long)l.limits.warn_offset_ms,
			  (unsigned long long)l.limits.crit_offset_ms);
		goto out;
	}
	/* What would drop NTP on this host, before the probe shows it (the
	 * check knows port 123 only). */
	if (!a.port || a.port == 123)
		cli_warn_host_firewall(l.table, target_families(&l));
	o = (struct probe_options){ .limits = l.limits, .max_inflight = a.max_inflight };
	cli_raise_nofile(probe_fds_wanted(l.n, a.max_inflight));
	ret = privsep_net.probe(&privsep_net, l.v, l.n, &o, &r);
	if (ret) {
		cli_error("probe: %s", strerror(-ret));
		goto out;
	}
	rc = probe_exit(r);
	if (a.nagios)
		print_nagios(stdout, r, &l.limits, rc);
	else if (a.format == REPORT_JSON)
		print_json(stdout, r, &l.limits, rc);
	else
		print_table(stdout, r, rc);
out:
	probe_results_free(r);
	target_list_free(&l);
	return rc;
}
