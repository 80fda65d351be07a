/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Diagnostic list: the only way stages report problems in their input. The
 * code table doubles as documentation: lint --list-codes and SARIF rule
 * metadata come from the same summaries; ntpwall-policy(5) lists them. */
#include "ntpwall/diag.h"
#include "ntpwall/util.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

static const struct {
	enum diag_code code;
	const char *name;
	const char *summary;
} codes[] = {
	{ NW100_IO, "NW100", "the policy file cannot be read" },
	{ NW101_SYNTAX, "NW101", "YAML syntax error" },
	{ NW102_ENCODING, "NW102", "the file is not valid UTF-8 text" },
	{ NW103_TOO_LARGE, "NW103", "file size, nesting depth or node count over the limit" },
	{ NW104_ALIAS, "NW104", "YAML anchors and aliases are refused" },
	{ NW105_DOCUMENT, "NW105", "the file must hold exactly one YAML document, a mapping" },
	{ NW110_UNKNOWN_KEY, "NW110", "unknown key" },
	{ NW111_TYPE, "NW111", "wrong type: mapping, list or scalar expected" },
	{ NW112_MISSING, "NW112", "a required key is missing" },
	{ NW113_DUPLICATE_KEY, "NW113", "a key appears twice in the same mapping" },
	{ NW114_CONFLICT, "NW114", "keys that cannot be used together" },
	{ NW120_ADDRESS, "NW120", "bad IP address or host name" },
	{ NW121_PREFIX, "NW121", "bad address prefix" },
	{ NW122_HOST_BITS, "NW122", "prefix has host bits set" },
	{ NW123_DURATION, "NW123", "bad duration (use ms, s, m or h)" },
	{ NW124_RATE, "NW124", "bad rate (use N/second, N/minute or N/hour)" },
	{ NW125_RANGE, "NW125", "number malformed or out of range" },
	{ NW126_BOOL, "NW126", "bad boolean (use true or false)" },
	{ NW127_ENUM, "NW127", "value not one of the allowed words" },
	{ NW128_NAME, "NW128", "bad table, interface or path name, or log prefix" },
	{ NW129_VERSION, "NW129", "unsupported policy version" },
	{ NW130_DUPLICATE, "NW130", "duplicate upstream, peer or prefix" },
	{ NW131_EMPTY, "NW131", "empty list where at least one entry is needed" },
	{ NW140_RESOLVE, "NW140", "a name did not resolve (lint --resolve)" },
	{ NW201_FEW_UPSTREAMS, "NW201", "fewer than four upstreams (RFC 8633 section 3.2)" },
	{ NW202_POOL_NO_MAX, "NW202", "pool without max: every address it returns is trusted" },
	{ NW203_NOQUERY_OFF, "NW203", "noquery is off: modes 6 and 7 (ntpq, monlist) are let through" },
	{ NW204_NO_RATE_LIMIT, "NW204", "serving clients without a rate limit" },
	{ NW205_NEVER_MATCHES, "NW205", "a rule that can never match" },
	{ NW206_OLD_VERSION, "NW206", "NTP versions 1 or 2 allowed" },
	{ NW207_NTS_LITERAL, "NW207", "nts on a literal address: NTS-KE needs a name to check the certificate" },
	{ NW208_WAIVE_UNUSED, "NW208", "a waiver for a finding that did not occur" },
	{ NW209_DAEMON_EXTRA, "NW209", "the time daemon's configuration asks servers the policy does not trust (lint --daemon-config)" },
	{ NW210_NAME_IS_POOL, "NW210", "a server name resolves to many addresses: it is a pool (lint --resolve)" },
	{ NW211_FAMILY_UNCOVERED, "NW211", "a wanted address family has no upstream address (lint --resolve)" },
	{ NW212_LOCAL_ADDRESS, "NW212", "a loopback, link-local or IPv4-mapped address as a server or peer" },
	{ NW213_LOG_PREFIX_CUT, "NW213", "log_prefix is cut to fit the log rules' 29-byte prefixes" },
};

/* Not findings: named, but never listed by diag_codes(). */
static const struct {
	enum diag_code code;
	const char *name;
	const char *summary;
} runtime_codes[] = {
	{ NW500_RUNTIME, "NW500", "runtime error" },
	{ NW501_KERNEL, "NW501", "the kernel refused the change or cannot be reached" },
	{ NW502_STATE, "NW502", "the state directory" },
	{ NW503_UNMANAGED, "NW503", "a table ntpwall did not make" },
	{ NW504_CHANGING, "NW504", "the ruleset kept changing" },
	{ NW505_DAEMON, "NW505", "the time daemon" },
	{ NW506_PROBE, "NW506", "the prober" },
	{ NW507_DNS, "NW507", "the resolver" },
	{ NW508_HOST_FIREWALL, "NW508", "another table's chain would drop NTP to or from the upstreams" },
};

void diag_init(struct diags *d, size_t max_errors)
{
	memset(d, 0, sizeof(*d));
	d->max_errors = max_errors;
}

void diag_free(struct diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free((char *)d->v[i].loc.file);
		free(d->v[i].msg);
		free(d->v[i].hint);
	}
	free(d->v);
	diag_init(d, d->max_errors);
}

int diag_add(struct diags *d, const struct loc *loc, enum diag_severity sev,
	     enum diag_code code, const char *fmt, ...)
{
	struct diag *g;
	va_list ap;
	int ret = sev == DIAG_ERROR ? -EINVAL : 0;

	if (sev == DIAG_ERROR) {
		if (d->max_errors && d->errors >= d->max_errors) {
			d->truncated = true;
			d->suppressed++;
			return ret;
		}
		d->errors++;
	} else if (sev == DIAG_WARNING) {
		d->warnings++;
	}
	xgrow((void **)&d->v, &d->cap, d->n, sizeof(*d->v));
	g = &d->v[d->n++];
	memset(g, 0, sizeof(*g));
	if (loc) {
		g->loc = *loc;
		g->loc.file = loc->file ? xstrdup(loc->file) : NULL;
	}
	g->severity = sev;
	g->code = code;
	va_start(ap, fmt);
	if (vasprintf(&g->msg, fmt, ap) < 0)
		abort();
	va_end(ap);
	return ret;
}

void diag_hint(struct diags *d, const char *fmt, ...)
{
	va_list ap;
	struct diag *g;

	if (!d->n || d->truncated)
		return;
	g = &d->v[d->n - 1];
	free(g->hint);
	va_start(ap, fmt);
	if (vasprintf(&g->hint, fmt, ap) < 0)
		abort();
	va_end(ap);
}

void diag_move(struct diags *dst, struct diags *src)
{
	for (size_t i = 0; i < src->n; i++) {
		struct diag *g = &src->v[i];

		if (g->severity == DIAG_ERROR && dst->max_errors && dst->errors >= dst->max_errors) {
			dst->truncated = true;
			dst->suppressed++;
			free((char *)g->loc.file);
			free(g->msg);
			free(g->hint);
			continue;
		}
		dst->errors += g->severity == DIAG_ERROR;
		dst->warnings += g->severity == DIAG_WARNING;
		xgrow((void **)&dst->v, &dst->cap, dst->n, sizeof(*dst->v));
		dst->v[dst->n++] = *g;
	}
	dst->truncated |= src->truncated;
	dst->suppressed += src->suppressed;
	free(src->v);
	diag_init(src, src->max_errors);
}

/* A diagnostic and its place in the list: the tie-break that makes qsort stable. */
struct diag_ref {
	const struct diag *g;
	size_t seq;
};

static int ref_cmp(const void *pa, const void *pb)
{
	const struct diag_ref *ra = pa, *rb = pb;
	const struct diag *a = ra->g, *b = rb->g;
	int c = strcmp(a->loc.file ? a->loc.file : "", b->loc.file ? b->loc.file : "");

	if (c)
		return c;
	if (a->loc.line != b->loc.line)
		return a->loc.line < b->loc.line ? -1 : 1;
	if (a->loc.column != b->loc.column)
		return a->loc.column < b->loc.column ? -1 : 1;
	return ra->seq < rb->seq ? -1 : ra->seq > rb->seq;
}

void diag_sort(struct diags *d)
{
	struct diag_ref *refs;
	struct diag *v;

	if (d->n < 2)
		return;
	refs = xreallocarray(NULL, d->n, sizeof(*refs));
	for (size_t i = 0; i < d->n; i++)
		refs[i] = (struct diag_ref){ &d->v[i], i };
	xsort(refs, d->n, sizeof(*refs), ref_cmp);
	v = xreallocarray(NULL, d->cap, sizeof(*v));
	for (size_t i = 0; i < d->n; i++)
		v[i] = *refs[i].g;
	free(refs);
	free(d->v);
	d->v = v;
}

const char *diag_code_name(enum diag_code code)
{
	for (size_t i = 0; i < ARRAY_SIZE(codes); i++)
		if (codes[i].code == code)
			return codes[i].name;
	for (size_t i = 0; i < ARRAY_SIZE(runtime_codes); i++)
		if (runtime_codes[i].code == code)
			return runtime_codes[i].name;
	return "NW000";
}

const char *diag_code_summary(enum diag_code code)
{
	for (size_t i = 0; i < ARRAY_SIZE(codes); i++)
		if (codes[i].code == code)
			return codes[i].summary;
	for (size_t i = 0; i < ARRAY_SIZE(runtime_codes); i++)
		if (runtime_codes[i].code == code)
			return runtime_codes[i].summary;
	return "unknown finding";
}

size_t diag_codes(const enum diag_code **out)
{
	static enum diag_code list[ARRAY_SIZE(codes)];

	for (size_t i = 0; i < ARRAY_SIZE(codes); i++)
		list[i] = codes[i].code;
	*out = list;
	return ARRAY_SIZE(codes);
}
