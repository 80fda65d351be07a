/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ntpwall probe --format prometheus: the run's verdict and offset, and per
 * server its offset, delay, root distance, stratum, whether it answered
 * and its verdict. Servers are keyed by upstream name and rank, as in the
 * monitoring line, so that series stay when a pool hands out other
 * addresses; the address is a label of ntpwall_probe_server_info only. */
#include "probe_report.h"
#include "prom.h"
#include "ntpwall/util.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <time.h>

/* Per-server gauges, in the order written. */
enum server_metric { M_OFFSET, M_DELAY, M_DISTANCE, M_STRATUM, M_REACHABLE, M_COUNT };

static const struct {
	const char *name, *help;
	bool needs_sample;
} server_metrics[M_COUNT] = {
	{ "ntpwall_probe_server_offset_seconds",
	  "The server's clock minus ours, from its minimum-delay valid sample.", true },
	{ "ntpwall_probe_server_delay_seconds", "Round-trip delay of that sample.", true },
	{ "ntpwall_probe_server_root_distance_seconds",
	  "Root distance of that sample (root delay / 2 + root dispersion + delay / 2).", true },
	{ "ntpwall_probe_server_stratum", "The server's stratum.", true },
	{ "ntpwall_probe_server_reachable",
	  "1 when the server gave a valid sample (whatever the verdict).", false },
};

static double metric_value(const struct probe_result *s, enum server_metric m)
{
	switch (m) {
	case M_OFFSET:
		return ntp_fp_to_double(s->offset);
	case M_DELAY:
		return ntp_fp_to_double(s->delay);
	case M_DISTANCE:
		return ntp_fp_to_double(s->root_distance);
	case M_STRATUM:
		return s->stratum;
	default:
		return s->has_sample;
	}
}

static bool any_sample(const struct probe_results *r)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].has_sample)
			return true;
	return false;
}

static void server_family(FILE *f, const struct probe_results *r, enum server_metric m)
{
	if (server_metrics[m].needs_sample && !any_sample(r))
		return;
	prom_family(f, server_metrics[m].name, "gauge", server_metrics[m].help);
	for (size_t i = 0; i < r->n; i++) {
		char rank[24];

		if (server_metrics[m].needs_sample && !r->v[i].has_sample)
			continue;
		snprintf(rank, sizeof(rank), "%zu", probe_report_rank(r, i));
		prom_sample(f, server_metrics[m].name, (struct prom_label[]){
			    { "upstream", r->v[i].name }, { "rank", rank } }, 2,
			    metric_value(&r->v[i], m));
	}
}

/* The address and the verdict: labels that change, so one series each
 * with the value 1 (join on upstream and rank). */
static void server_labels(FILE *f, const struct probe_results *r)
{
	char rank[24], addr[INET6_ADDRSTRLEN];

	prom_family(f, "ntpwall_probe_server_info", "gauge",
		    "1 per server: the address it has now.");
	for (size_t i = 0; i < r->n; i++) {
		snprintf(rank, sizeof(rank), "%zu", probe_report_rank(r, i));
		prom_sample(f, "ntpwall_probe_server_info", (struct prom_label[]){
			    { "upstream", r->v[i].name }, { "rank", rank },
			    { "address", addr_str(&r->v[i].addr, addr, sizeof(addr)) } }, 3, 1);
	}
	prom_family(f, "ntpwall_probe_server_verdict", "gauge",
		    "1 per server: its verdict (OK, TIMEOUT, FALSETICKER... as ntpwall(8) lists "
		    "them).");
	for (size_t i = 0; i < r->n; i++) {
		snprintf(rank, sizeof(rank), "%zu", probe_report_rank(r, i));
		prom_sample(f, "ntpwall_probe_server_verdict", (struct prom_label[]){
			    { "upstream", r->v[i].name }, { "rank", rank },
			    { "verdict", probe_status_str(r->v[i].status) } }, 3, 1);
	}
}

static void gauge(FILE *f, const char *name, const char *help, double v)
{
	prom_family(f, name, "gauge", help);
	prom_sample(f, name, NULL, 0, v);
}

static void run_metrics(FILE *f, const struct probe_report *p)
{
	const struct probe_summary *sum = &p->sum;

	gauge(f, "ntpwall_probe_timestamp_seconds", "When the probe ran, in Unix time.",
	      (double)time(NULL));
	gauge(f, "ntpwall_probe_servers", "Servers probed.", (double)p->r->n);
	gauge(f, "ntpwall_probe_usable_servers", "Servers with verdict OK.", (double)sum->usable);
	gauge(f, "ntpwall_probe_clock_off",
	      "1 when most servers agree with each other and not with the local clock.",
	      sum->clock_off);
	if (sum->pick == PROBE_PICK_NONE)
		return;
	gauge(f, "ntpwall_probe_offset_seconds",
	      "The offset the run reports for the local clock: the median of the truechimers' "
	      "offsets (three or more), else the one with the smaller root distance.",
	      sum->offset_ns / 1e9);
	gauge(f, "ntpwall_probe_jitter_seconds",
	      "RMS of the other truechimers' offsets from that one.", sum->jitter_ns / 1e9);
}

static void exit_code(FILE *f, int rc)
{
	gauge(f, "ntpwall_probe_exit_code",
	      "The run's monitoring-plugins state: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN "
	      "(nothing probed: then no other ntpwall_probe_ metric).", rc);
}

void probe_report_prometheus(FILE *f, const struct probe_report *p)
{
	exit_code(f, p->rc);
	run_metrics(f, p);
	for (int m = 0; m < M_COUNT; m++)
		server_family(f, p->r, (enum server_metric)m);
	server_labels(f, p->r);
}

void probe_report_prometheus_unknown(FILE *f)
{
	exit_code(f, NAGIOS_UNKNOWN);
}
