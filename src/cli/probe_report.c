/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What ntpwall probe prints: the verdict of the run (the exit code), the
 * table, the JSON document and the monitoring-plugins line. */
#include "probe_report.h"
#include "ntpwall/util.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <string.h>

/* Per-server level: OK (0), WARNING (1) or CRITICAL (2). A server that gives
 * no usable time is a warning on its own; whether that makes the whole run
 * critical depends on the others (see probe_report_exit). */
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
int probe_report_exit(const struct probe_results *r)
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

/* Seconds, with "-0.000000" written as 0. */
static double secs(int64_t ns)
{
	return ns > -500 && ns < 500 ? 0 : ns / 1e9;
}

static const char *pick_text(const struct probe_summary *s)
{
	return s->pick == PROBE_PICK_MEDIAN ? "median" : s->pick == PROBE_PICK_NEAREST ? "nearest"
									  : NULL;
}

void probe_report_init(struct probe_report *p, const struct probe_results *r,
		       const struct policy_probe *lim)
{
	*p = (struct probe_report){ .r = r, .lim = lim };
	probe_summarize(r, &p->sum);
	p->rc = probe_report_exit(r);
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
void probe_report_table(FILE *f, const struct probe_report *p)
{
	const struct probe_results *r = p->r;
	const struct probe_summary *sum = &p->sum;
	static const char *const head[] = { "SERVER", "ADDRESS", "STRATUM", "REFID", "OFFSET",
					    "DELAY", "ROOT DIST", "VERDICT", "REASON" };
	enum { NCOL = 9 };
	char (*cells)[NCOL][INET6_ADDRSTRLEN + 8] = xcalloc(r->n ? r->n : 1, sizeof(*cells));
	int w[NCOL];

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
	fprintf(f, "%s: ", level_name(p->rc));
	if (sum->clock_off)
		fprintf(f, "local clock off by %+.6f s (%zu of %zu servers agree), ",
			secs(sum->offset_ns), sum->agree, r->n);
	fprintf(f, "%zu of %zu servers usable", sum->usable, r->n);
	if (sum->pick == PROBE_PICK_MEDIAN)
		fprintf(f, ", offset %+.6f s (median of %zu)", secs(sum->offset_ns), sum->truechimers);
	else if (sum->pick == PROBE_PICK_NEAREST)
		fprintf(f, ", offset %+.6f s (nearest of %zu)", secs(sum->offset_ns),
			sum->truechimers);
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

void probe_report_json(FILE *f, const struct probe_report *p)
{
	const struct probe_results *r = p->r;
	const struct policy_probe *lim = p->lim;
	const struct probe_summary *sum = &p->sum;
	json_t *root = json_object(), *servers = json_array(), *sel = json_object();
	json_t *set = json_object();
	bool has = sum->pick != PROBE_PICK_NONE;
	char addr[INET6_ADDRSTRLEN];

	json_object_set_new(root, "status", json_string(level_name(p->rc)));
	json_object_set_new(root, "exit_code", json_integer(p->rc));
	json_object_set_new(root, "usable", json_integer((json_int_t)sum->usable));
	json_object_set_new(root, "offset", has ? json_real(secs(sum->offset_ns)) : json_null());
	json_object_set_new(root, "offset_pick", has ? json_string(pick_text(sum)) : json_null());
	json_object_set_new(root, "offset_server", has ? json_string(addr_text(&r->v[sum->server],
						addr, sizeof(addr))) : json_null());
	json_object_set_new(root, "jitter", has ? json_real(secs(sum->jitter_ns)) : json_null());
	json_object_set_new(root, "clock_off", json_boolean(sum->clock_off));
	/* The older name of "offset". */
	json_object_set_new(root, "median_offset", has ? json_real(secs(sum->offset_ns))
						       : json_null());
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

/* The servers a monitoring line names: those not OK, except the ones that
 * agree on a local clock that is off (the line says so already). */
static bool worth_naming(const struct probe_report *p, const struct probe_result *s)
{
	if (!server_level(s))
		return false;
	return !(p->sum.clock_off && s->status == PROBE_OFFSET);
}

/* 1 + the servers before i with the same name (the upstream), so that
 * labels stay when a pool hands out other addresses. */
size_t probe_report_rank(const struct probe_results *r, size_t i)
{
	size_t rank = 1;

	for (size_t j = 0; j < i; j++)
		rank += !strcmp(r->v[j].name, r->v[i].name);
	return rank;
}

/* A quoted label may hold anything but = and ' (doubled): names come from
 * the policy or the command line, so replace those two. */
static void perf_label(FILE *f, const char *what, const char *name, size_t rank)
{
	fprintf(f, " '%s_", what);
	for (const char *c = name; *c; c++)
		fputc(*c == '=' || *c == '\'' || (unsigned char)*c < ' ' ? '_' : *c, f);
	fprintf(f, "#%zu'", rank);
}

/* The aggregates graphs keep across pool changes: the offset reported, the
 * jitter, the usable count and the stratum of the server picked. */
static void perf_aggregates(FILE *f, const struct probe_report *p, double w, double c)
{
	const struct probe_summary *sum = &p->sum;

	if (sum->pick == PROBE_PICK_NONE) {
		fprintf(f, " 'offset'=U;-%.6f:%.6f;-%.6f:%.6f;; 'jitter'=U;;;0; ", w, w, c, c);
		fprintf(f, "'usable'=%zu;;;0;%zu 'stratum'=U;;;0;16", sum->usable, p->r->n);
		return;
	}
	fprintf(f, " 'offset'=%.6fs;-%.6f:%.6f;-%.6f:%.6f;; 'jitter'=%.6fs;;;0; ",
		secs(sum->offset_ns), w, w, c, c, secs(sum->jitter_ns));
	fprintf(f, "'usable'=%zu;;;0;%zu 'stratum'=%u;;;0;16", sum->usable, p->r->n,
		p->r->v[sum->server].stratum);
}

static void perf_server(FILE *f, const struct probe_report *p, size_t i, double w, double c)
{
	const struct probe_result *s = &p->r->v[i];
	size_t rank = probe_report_rank(p->r, i);

	perf_label(f, "offset", s->name, rank);
	if (s->has_sample)
		fprintf(f, "=%.6fs", ntp_fp_to_double(s->offset));
	else
		fputs("=U", f);
	fprintf(f, ";-%.6f:%.6f;-%.6f:%.6f;;", w, w, c, c);
	perf_label(f, "delay", s->name, rank);
	if (s->has_sample)
		fprintf(f, "=%.6fs;;;0;", ntp_fp_to_double(s->delay));
	else
		fputs("=U;;;0;", f);
}

/* Monitoring-plugins output: "NTPWALL STATE - summary | perfdata". Labels are
 * quoted, thresholds are ranges (-w:w) because an offset may be negative. */
void probe_report_nagios(FILE *f, const struct probe_report *p)
{
	const struct probe_results *r = p->r;
	const struct probe_summary *sum = &p->sum;
	double w = p->lim->warn_offset_ms / 1e3, c = p->lim->crit_offset_ms / 1e3;
	size_t shown = 0, bad = 0;
	char addr[INET6_ADDRSTRLEN];

	fprintf(f, "NTPWALL %s - ", level_name(p->rc));
	if (sum->clock_off)
		fprintf(f, "local clock off by %+.6f s (%zu of %zu servers agree)",
			secs(sum->offset_ns), sum->agree, r->n);
	else
		fprintf(f, "%zu of %zu servers usable", sum->usable, r->n);
	if (!sum->clock_off && sum->pick != PROBE_PICK_NONE)
		fprintf(f, ", offset %+.6f s", secs(sum->offset_ns));
	for (size_t i = 0; i < r->n; i++) {
		if (!worth_naming(p, &r->v[i]))
			continue;
		if (shown++ < 3)
			fprintf(f, "%s %s %s", bad++ ? "," : ";", addr_text(&r->v[i], addr, sizeof(addr)),
				verdict(&r->v[i]));
	}
	if (shown > 3)
		fprintf(f, " and %zu more", shown - 3);
	fputs(" |", f);
	perf_aggregates(f, p, w, c);
	for (size_t i = 0; i < r->n; i++)
		perf_server(f, p, i, w, c);
	fputc('\n', f);
}

void probe_report_unknown(FILE *f, const char *why)
{
	fputs("NTPWALL UNKNOWN - ", f);
	/* One line, and no '|': that would start the performance data. */
	for (const char *c = why; *c; c++)
		fputc(*c == '|' ? '/' : (unsigned char)*c < ' ' ? ' ' : *c, f);
	fputc('\n', f);
}
