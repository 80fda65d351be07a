/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The output of ntpwall probe (src/cli/probe_report.c). Only src/cli/
 * includes this. */
#ifndef NTPWALL_PROBE_REPORT_H
#define NTPWALL_PROBE_REPORT_H

#include "cli.h"
#include "ntpwall/probe.h"

#include <stdio.h>

/* The run's level as monitoring plugins give it: NAGIOS_OK, NAGIOS_WARNING
 * or NAGIOS_CRITICAL. */
int probe_report_exit(const struct probe_results *r);

/* One run as every output shows it. */
struct probe_report {
	const struct probe_results *r;
	const struct policy_probe *lim;
	struct probe_summary sum;	/* the offset stood by, agreement */
	int rc;				/* probe_report_exit() */
};

/* Fill p from r (borrowed, as lim). */
void probe_report_init(struct probe_report *p, const struct probe_results *r,
		       const struct policy_probe *lim);
/* The table and a summary line. */
void probe_report_table(FILE *f, const struct probe_report *p);
/* The JSON document (ntpwall(8) gives its keys). */
void probe_report_json(FILE *f, const struct probe_report *p);
/* One monitoring-plugins line with performance data: the aggregates
 * (offset, jitter, usable, stratum), then offset_NAME#RANK and
 * delay_NAME#RANK per server (RANK counts the servers of one name). */
void probe_report_nagios(FILE *f, const struct probe_report *p);
/* Server i's rank among the servers of its name (upstream), from 1: what
 * labels it in the monitoring line and the metrics. */
size_t probe_report_rank(const struct probe_results *r, size_t i);
/* The Prometheus metrics of a run (ntpwall(8) lists them). */
void probe_report_prometheus(FILE *f, const struct probe_report *p);
/* Those of a run that could not probe: ntpwall_probe_exit_code 3. */
void probe_report_prometheus_unknown(FILE *f);
/* The monitoring-plugins line of a run that could not probe: "NTPWALL
 * UNKNOWN - why", on one line. */
void probe_report_unknown(FILE *f, const char *why);

#endif
