/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Writing the Prometheus text exposition format 0.0.4 (prom.h): the escapes
 * of HELP text and label values, and the number formats. */
#include "prom.h"

#include <math.h>
#include <stdbool.h>

/* HELP text escapes backslash and newline; a label value also '"'. */
static void escaped(FILE *f, const char *s, bool quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else if (quote && *s == '"')
			fputs("\\\"", f);
		else
			fputc(*s, f);
	}
}

void prom_family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s ", name);
	escaped(f, help, false);
	fprintf(f, "\n# TYPE %s %s\n", name, type);
}

static void labels(FILE *f, const char *name, const struct prom_label *l, size_t n)
{
	fputs(name, f);
	if (!n)
		return;
	fputc('{', f);
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%s%s=\"", i ? "," : "", l[i].name);
		escaped(f, l[i].value, true);
		fputc('"', f);
	}
	fputc('}', f);
}

void prom_sample(FILE *f, const char *name, const struct prom_label *l, size_t n, double v)
{
	labels(f, name, l, n);
	if (isnan(v))
		fputs(" NaN\n", f);
	else if (fabs(v) < 1e15 && v == floor(v))
		fprintf(f, " %.0f\n", v);
	else
		fprintf(f, " %.12g\n", v);
}

void prom_sample_u64(FILE *f, const char *name, const struct prom_label *l, size_t n,
		     unsigned long long v)
{
	labels(f, name, l, n);
	fprintf(f, " %llu\n", v);
}
