/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ntpwall probe POLICY|HOST...: ask the servers a policy trusts (or the hosts
 * given) for the time and say whether they can be trusted, as a table, JSON
 * or one monitoring-plugins line. Exit codes follow the monitoring plugins. */
#include "engine_cli.h"
#include "cli.h"
#include "probe_report.h"
#include "ntpwall/hostfw.h"
#include "ntpwall/privsep.h"
#include "ntpwall/probe.h"
#include "ntpwall/resolve.h"
#include "ntpwall/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

enum {
	OPT_FORMAT = 'f', OPT_WARN = 256, OPT_CRIT, OPT_TIMEOUT, OPT_SAMPLES, OPT_INTERVAL,
	OPT_NAGIOS, OPT_PORT, OPT_INFLIGHT,
};

static const struct cli_option probe_opts[] = {
	{ "format", OPT_FORMAT, "FMT", "text (default), json or prometheus; not with --nagios" },
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

#define PROBE_USAGE "ntpwall probe POLICY|HOST... [--format text|json|prometheus] " \
		    "[--warn-offset D] " \
		    "[--crit-offset D] [--timeout D] [--samples N] [--interval D] [--nagios]"

enum probe_format { PROBE_FMT_TEXT, PROBE_FMT_JSON, PROBE_FMT_PROMETHEUS };

/* A setting given on the command line overrides the policy's. */
struct probe_args {
	enum probe_format format;
	const char *format_name;	/* as given, for messages */
	bool has_format, nagios;
	uint16_t port;
	unsigned max_inflight;
	struct policy_probe set;	/* values given */
	bool has_timeout, has_samples, has_interval, has_warn, has_crit;
	/* Why the run cannot probe, for the UNKNOWN line: a message, a host
	 * name (<= 253 bytes) or a policy path and a diagnostic. */
	char why[1024];
};

/* An error on stderr, kept for --nagios's UNKNOWN line too. */
static void __attribute__((format(printf, 2, 3))) probe_error(struct probe_args *a,
							       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a->why, sizeof(a->why), fmt, ap);
	va_end(ap);
	cli_error("%s", a->why);
}

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
static int parse_duration_opt(struct probe_args *a, const char *opt, const char *arg,
			      uint64_t lo, uint64_t hi, uint64_t *ms)
{
	const char *e = policy_parse_duration(arg, ms);

	if (e) {
		probe_error(a, "--%s %s: %s", opt, arg, e);
		return -1;
	}
	if (*ms < lo || *ms > hi) {
		probe_error(a, "--%s %s: expected %llums to %llus", opt, arg, (unsigned long long)lo,
			  (unsigned long long)hi / 1000);
		return -1;
	}
	return 0;
}

#define MS_60S 60000ull
#define MS_DAY 86400000ull

static int parse_uint_opt(struct probe_args *a, const char *opt, const char *arg,
			  unsigned long lo, unsigned long hi, unsigned long *v)
{
	const char *e = policy_parse_uint(arg, lo, hi, v);

	if (e) {
		probe_error(a, "--%s %s: %s (%lu to %lu)", opt, arg, e, lo, hi);
		return -1;
	}
	return 0;
}

static int probe_opt(int key, const char *arg, void *data)
{
	static const char *const formats[] = { "text", "json", "prometheus" };
	struct probe_args *a = data;
	unsigned long v;

	switch (key) {
	case OPT_FORMAT:
		for (size_t i = 0; i < ARRAY_SIZE(formats); i++)
			if (!strcmp(arg, formats[i])) {
				a->format = (enum probe_format)i;
				a->format_name = arg;
				a->has_format = true;
				return 0;
			}
		probe_error(a, "--format %s: expected text, json or prometheus", arg);
		return -1;
	case OPT_WARN:
		a->has_warn = true;
		return parse_duration_opt(a, "warn-offset", arg, 1, MS_DAY, &a->set.warn_offset_ms);
	case OPT_CRIT:
		a->has_crit = true;
		return parse_duration_opt(a, "crit-offset", arg, 1, MS_DAY, &a->set.crit_offset_ms);
	case OPT_TIMEOUT:
		a->has_timeout = true;
		return parse_duration_opt(a, "timeout", arg, 10, MS_60S, &a->set.timeout_ms);
	case OPT_INTERVAL:
		/* Zero is fine here: samples back to back. */
		a->has_interval = true;
		return parse_duration_opt(a, "interval", arg, 0, MS_60S, &a->set.interval_ms);
	case OPT_SAMPLES:
		a->has_samples = true;
		if (parse_uint_opt(a, "samples", arg, 1, 16, &v))
			return -1;
		a->set.samples = (unsigned)v;
		return 0;
	case OPT_PORT:
		if (parse_uint_opt(a, "port", arg, 1, 65535, &v))
			return -1;
		a->port = (uint16_t)v;
		return 0;
	case OPT_INFLIGHT:
		if (parse_uint_opt(a, "max-inflight", arg, 1, 1000000, &v))
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
static int add_host(struct target_list *l, const char *host, struct probe_args *pa)
{
	uint16_t port = pa->port;
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
		probe_error(pa, "probe: %s: %s", host, gai_strerror(ret));
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
/* "file:line:col: msg" of the first error, for the UNKNOWN line. */
static void first_error(struct probe_args *a, const char *path, const struct diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct diag *g = &d->v[i];

		if (g->severity != DIAG_ERROR)
			continue;
		if (g->loc.line)
			snprintf(a->why, sizeof(a->why), "%s:%u:%u: %s", g->loc.file ? g->loc.file : path,
				 g->loc.line, g->loc.column, g->msg);
		else
			snprintf(a->why, sizeof(a->why), "%s: %s", path, g->msg);
		return;
	}
	snprintf(a->why, sizeof(a->why), "%s: cannot load the policy", path);
}

static int add_policy(struct target_list *l, const char *path, struct probe_args *a)
{
	uint16_t port = a->port;
	struct diags d;
	struct policy *p = NULL;
	struct resolved *r = NULL;
	int ret;

	diag_init(&d, 10);
	ret = policy_load(path, &d, &p);
	if (ret) {
		report_diags(stderr, &d, REPORT_TEXT);
		first_error(a, path, &d);
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
	if (d.errors && !l->n)
		first_error(a, path, &d);	/* why nothing may be probed */
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

/* Is --nagios (or a prefix getopt takes for it) among the options? Looked
 * for before parsing, so that a bad option before it still gets the UNKNOWN
 * line. */
static bool wants_nagios(char **argv)
{
	for (int i = 1; argv[i] && strcmp(argv[i], "--"); i++) {
		size_t len = strlen(argv[i]);

		if (len > 2 && !strncmp(argv[i], "--nagios", len))
			return true;
	}
	return false;
}

/* Options and targets. Returns 0, -2 after --help, or -1 with a->why set. */
static int probe_setup(int argc, char **argv, struct probe_args *a, struct target_list *l)
{
	int first = cli_parse(argc, argv, PROBE_USAGE, probe_opts, probe_opt, a);

	if (first == -1 && !a->why[0] && optind > 0 && optind <= argc)
		/* getopt's own complaint, printed by cli_parse. */
		snprintf(a->why, sizeof(a->why), "'%s': unknown option or missing argument",
			 argv[optind - 1]);
	if (first < 0)
		return first;
	if (a->nagios && a->has_format && a->format != PROBE_FMT_TEXT) {
		probe_error(a, "probe: --nagios prints one monitoring-plugins line; "
			       "--format %s cannot go with it", a->format_name);
		return -1;
	}
	if (first >= argc) {
		probe_error(a, "probe: no policy or host given (usage: %s)", PROBE_USAGE);
		return -1;
	}
	for (int i = first; i < argc; i++)
		if (is_policy_arg(argv[i]) ? add_policy(l, argv[i], a) : add_host(l, argv[i], a))
			return -1;
	apply_overrides(&l->limits, a);
	if (l->limits.warn_offset_ms > l->limits.crit_offset_ms) {
		probe_error(a, "probe: warning offset %llums above critical offset %llums",
			    (unsigned long long)l->limits.warn_offset_ms,
			    (unsigned long long)l->limits.crit_offset_ms);
		return -1;
	}
	if (!l->n) {
		char why[sizeof(a->why)];

		snprintf(why, sizeof(why), "%s", a->why[0] ? a->why : "no upstream name resolved");
		probe_error(a, "probe: no server to probe: %.900s", why);
		return -1;
	}
	return 0;
}

int cmd_probe_main(int argc, char **argv)
{
	struct probe_args a = { .format = PROBE_FMT_TEXT };
	struct target_list l = { .limits = probe_defaults };
	struct probe_results *r = NULL;
	struct probe_report rep;
	struct probe_options o;
	int ret, rc = NAGIOS_UNKNOWN;

	a.nagios = wants_nagios(argv);
	ret = probe_setup(argc, argv, &a, &l);
	if (ret == -2)
		rc = NAGIOS_OK;
	if (ret)
		goto out;
	/* What would drop NTP on this host, before the probe shows it (the
	 * check knows port 123 only). */
	if (!a.port || a.port == 123)
		cli_warn_host_firewall(l.table, target_families(&l));
	o = (struct probe_options){ .limits = l.limits, .max_inflight = a.max_inflight };
	cli_raise_nofile(probe_fds_wanted(l.n, a.max_inflight));
	ret = privsep_net.probe(&privsep_net, l.v, l.n, &o, &r);
	if (ret) {
		probe_error(&a, "probe: %s", strerror(-ret));
		goto out;
	}
	probe_report_init(&rep, r, &l.limits);
	rc = rep.rc;
	if (a.nagios)
		probe_report_nagios(stdout, &rep);
	else if (a.format == PROBE_FMT_JSON)
		probe_report_json(stdout, &rep);
	else if (a.format == PROBE_FMT_PROMETHEUS)
		probe_report_prometheus(stdout, &rep);
	else
		probe_report_table(stdout, &rep);
out:
	/* The monitoring-plugins guidelines: one line on stdout, always. */
	if (rc == NAGIOS_UNKNOWN && a.nagios)
		probe_report_unknown(stdout, a.why[0] ? a.why : "probe: cannot run");
	/* Metrics say it too: a textfile must not keep the last run's. */
	else if (rc == NAGIOS_UNKNOWN && a.format == PROBE_FMT_PROMETHEUS)
		probe_report_prometheus_unknown(stdout);
	probe_results_free(r);
	target_list_free(&l);
	return rc;
}
