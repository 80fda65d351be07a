/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ntpwall status --format prometheus: the wall's state as Prometheus
 * metrics (ntpwall(8) lists them). */
#ifndef NTPWALL_CLI_STATUS_PROM_H
#define NTPWALL_CLI_STATUS_PROM_H

#include "ntpwall/engine.h"

#include <stdio.h>

/* The metrics of s and e->live (the table read back; NULL: absent),
 * ending with ntpwall_status_exit_code rc. s may be NULL when status
 * failed (rc 2): then only that. */
void status_report_prometheus(FILE *f, const struct engine_status *s, const struct engine *e,
			      int rc);

#endif
