/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The Prometheus text exposition format, version 0.0.4 (what node_exporter's
 * textfile collector reads): families with HELP and TYPE lines, samples
 * with escaped label values. A family's samples must follow its TYPE line
 * together; a counter family is named x_total and so are its samples. */
#ifndef NTPWALL_CLI_PROM_H
#define NTPWALL_CLI_PROM_H

#include <stddef.h>
#include <stdio.h>

struct prom_label {
	const char *name;	/* [a-zA-Z_][a-zA-Z0-9_]* */
	const char *value;	/* any UTF-8; escaped here */
};

/* "# HELP name help" and "# TYPE name type" (gauge, counter). */
void prom_family(FILE *f, const char *name, const char *type, const char *help);
/* One sample "name{labels} value": integral values exactly, others with 12
 * significant digits (a nanosecond of an offset in seconds). */
void prom_sample(FILE *f, const char *name, const struct prom_label *l, size_t n, double v);
/* The same for a counter, exact up to 2^64 - 1. */
void prom_sample_u64(FILE *f, const char *name, const struct prom_label *l, size_t n,
		     unsigned long long v);

#endif
