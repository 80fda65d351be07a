/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ntpwall probe POLICY|HOST...: ask the servers a policy trusts (or the hosts
 * given) for the time and say whether they can be trusted, as a table, JSON
 * or one monitoring-plugins line. Exit codes follow the monitoring plugins. */
#include "engine_cli.h"
#include "cli.h"
#include "probe_report.h"
#include "ntpwall/privsep.h"
#include "ntpwall/probe.h"
#include "ntpwall/resolve.h"
#include "ntpwall/util.h"

#include <arpa/inet.h>
#include <errno.h>
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

/* cli_parse() stops at the first operand (getopt's "+"), but the usage puts
 * options after POLICY|HOST..., so move every option (with its argument)
 * in front of the operands first, as GNU getopt's permutation would. */
static bool takes_arg(const char *tok)
{
	const struct cli_option *hit = NULL;
	size_t len;

	if (tok[1] != '-')	/* short: -fjson or -f json */
		return tok[1] == OPT_FORMAT && !tok[2];
	if (strchr(tok, '='))
		return false;
	len = strlen(tok + 2);
	for (const struct cli_option *o = probe_opts; o->name; o++) {
		if (!strcmp(o->name, tok + 2))
			return o->arg;
		if (!strncmp(o->name, tok + 2, len))
			hit = hit ? probe_opts : o;	/* ambiguous: getopt complains */
	}
	return hit && hit != probe_opts && hit->arg;
}

static char **permute_args(int argc, char **argv)
{
	char **v = xcalloc((size_t)argc + 1, sizeof(*v));
	char **ops = xcalloc((size_t)argc + 1, sizeof(*ops));
	int n = 0, k = 0, i;

	v[n++] = argv[0];
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		}
		if (argv[i][0] != '-' || !argv[i][1]) {
			ops[k++] = argv[i];
			continue;
		}
		v[n++] = argv[i];
		if (takes_arg(argv[i]) && i + 1 < argc)
			v[n++] = argv[++i];
	}
	v[n++] = "--";
	while (i < argc)
		ops[k++] = argv[i++];
	memcpy(v + n, ops, (size_t)k * sizeof(*v));
	free(ops);
	return v;
}

static const char *keep_name(struct target_list *l, const char *name)
{
	xgrow((void **)&l->names, &l->cap_names, l->n_names, sizeof(*l->names));
	l->names[l->n_names] = xstrdup(name);
	return l->names[l->n_names++];
}

static void add_target(struct target_list *l, const char *name, const struct policy_addr *a,
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
	struct policy_addr a;
	size_t before = l->n;
	int ret;

	if (!policy_parse_addr(host, &a)) {
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
			dup |= !policy_addr_cmp(&l->v[i].addr, &a);
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

int cmd_probe_main(int argc, char **argv)
{
	struct probe_args a = { .format = REPORT_TEXT };
	struct target_list l = { .limits = probe_defaults };
	struct probe_results *r = NULL;
	struct probe_report rep;
	struct probe_options o;
	char **args;
	int first, ret, rc = EXIT_PROBE_UNKNOWN;

	argv = args = permute_args(argc, argv);
	first = cli_parse(argc + 1, argv, PROBE_USAGE, probe_opts, probe_opt, &a);
	if (first == -2)
		rc = EXIT_OK;
	if (first < 0)
		goto out;
	if (first >= argc + 1) {
		cli_error("probe: no policy or host given (usage: %s)", PROBE_USAGE);
		goto out;
	}
	argc++;	/* the "--" added */
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
	o = (struct probe_options){ .limits = l.limits, .max_inflight = a.max_inflight };
	ret = privsep_net.probe(&privsep_net, l.v, l.n, &o, &r);
	if (ret) {
		cli_error("probe: %s", strerror(-ret));
		goto out;
	}
	probe_report_init(&rep, r, &l.limits);
	rc = rep.rc;
	if (a.nagios)
		probe_report_nagios(stdout, &rep);
	else if (a.format == REPORT_JSON)
		probe_report_json(stdout, &rep);
	else
		probe_report_table(stdout, &rep);
out:
	probe_results_free(r);
	target_list_free(&l);
	free(args);
	return rc;
}
