/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Diagnostics: errors and warnings with a source location and a stable code.
 * Stages record them; only src/cli/ prints them. */
#ifndef NTPWALL_DIAG_H
#define NTPWALL_DIAG_H

#include <stdbool.h>
#include <stddef.h>

/* A position in a policy file, counted from 1. file is borrowed. */
struct loc {
	const char *file;
	unsigned line;
	unsigned column;
};

enum diag_severity {
	DIAG_ERROR,
	DIAG_WARNING,
	DIAG_NOTE,		/* information about the report itself; no finding */
};

/* Stable finding codes, documented in ntpwall-policy(5). Never renumber. */
enum diag_code {
	DIAG_NO_CODE = 0,	/* notes: not a finding, not listed */
	NW100_IO = 100,		/* file cannot be read */
	NW101_SYNTAX,		/* YAML syntax error */
	NW102_ENCODING,		/* not UTF-8, NUL byte */
	NW103_TOO_LARGE,	/* file, nesting or node count over the limit */
	NW104_ALIAS,		/* YAML anchors and aliases are refused */
	NW105_DOCUMENT,		/* empty file, several documents, top not a mapping */
	NW110_UNKNOWN_KEY = 110,
	NW111_TYPE,		/* wrong YAML type */
	NW112_MISSING,		/* required key missing */
	NW113_DUPLICATE_KEY,
	NW114_CONFLICT,		/* keys that exclude each other */
	NW120_ADDRESS = 120,	/* bad address or host name */
	NW121_PREFIX,		/* malformed prefix */
	NW122_HOST_BITS,	/* prefix with host bits set */
	NW123_DURATION,
	NW124_RATE,
	NW125_RANGE,		/* number malformed or out of range */
	NW126_BOOL,
	NW127_ENUM,		/* value not one of a fixed list */
	NW128_NAME,		/* bad table, interface or path name */
	NW129_VERSION,		/* unsupported policy version */
	NW130_DUPLICATE = 130,	/* duplicate upstream, peer or prefix */
	NW131_EMPTY,		/* empty upstream list or other required list */
	NW140_RESOLVE = 140,	/* --resolve: name did not resolve */
	NW201_FEW_UPSTREAMS = 201,
	NW202_POOL_NO_MAX,
	NW203_NOQUERY_OFF,
	NW204_NO_RATE_LIMIT,
	NW205_NEVER_MATCHES,
	NW206_OLD_VERSION,	/* NTP versions 1/2 allowed */
	NW207_NTS_LITERAL,	/* nts on an address: no name to check the certificate */
	NW208_WAIVE_UNUSED,	/* a waiver for a finding that did not occur */
	NW209_DAEMON_EXTRA,	/* --daemon-config: the daemon asks servers the policy does not trust */
	NW210_NAME_IS_POOL = 210, /* --resolve: server name gives many addresses */
	NW211_FAMILY_UNCOVERED,	/* --resolve: wanted family has no upstream */
	NW212_LOCAL_ADDRESS,	/* a loopback, link-local or IPv4-mapped literal */
	NW213_LOG_PREFIX_CUT,	/* log_prefix cut to fit a rule's tag into 29 bytes */
	/* Runtime errors of the engine, backends and daemons: not findings
	 * about a policy, never listed by lint --list-codes. */
	NW500_RUNTIME = 500,	/* anything else */
	NW501_KERNEL,		/* the kernel refused, or cannot be reached */
	NW502_STATE,		/* the state directory */
	NW503_UNMANAGED,	/* a table ntpwall did not make */
	NW504_CHANGING,		/* the ruleset kept changing under us */
	NW505_DAEMON,		/* the time daemon */
	NW506_PROBE,		/* the prober could not run, or found no good server */
	NW507_DNS,		/* the resolver could not run */
	NW508_HOST_FIREWALL,	/* another table's chain would drop NTP */
};

/* A runtime error rather than a finding about a policy. */
#define DIAG_IS_RUNTIME(code) ((code) >= NW500_RUNTIME)

struct diag {
	struct loc loc;		/* loc.file owned by the diag */
	enum diag_severity severity;
	enum diag_code code;
	char *msg;
	char *hint;		/* optional "did you mean" or fix; NULL if none */
};

struct diags {
	struct diag *v;
	size_t n, cap;
	size_t errors, warnings;	/* recorded; notes count as neither */
	size_t max_errors;	/* stop recording errors past this; 0 = no cap */
	bool truncated;		/* errors were dropped because of max_errors */
	size_t suppressed;	/* how many were dropped */
};

/* Initialise an empty list that keeps at most max_errors errors (0 = all). */
void diag_init(struct diags *d, size_t max_errors);
/* Free every diagnostic; the list can be reused after diag_init(). */
void diag_free(struct diags *d);
/* Record a finding; loc may be NULL for a file-less one. Returns -EINVAL for
 * errors and 0 for warnings and notes, so that `return diag_add(...)` reads
 * well. Notes are never capped and counted neither as errors nor warnings. */
int diag_add(struct diags *d, const struct loc *loc, enum diag_severity sev,
	     enum diag_code code, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* Attach a hint to the last recorded diagnostic (no-op if it was dropped). */
void diag_hint(struct diags *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Move every diagnostic of src to the end of dst, keeping dst's cap: errors
 * past it are dropped and counted as suppressed. src is left empty. */
void diag_move(struct diags *dst, struct diags *src);
/* Sort by file, line, column, keeping insertion order among equals. */
void diag_sort(struct diags *d);
/* "NW101" style name of a code, into a static table; never NULL. */
const char *diag_code_name(enum diag_code code);
/* One-line description of a code, for SARIF rules and lint --list-codes. */
const char *diag_code_summary(enum diag_code code);
/* Every known code in order, for listings; returns the count. */
size_t diag_codes(const enum diag_code **codes);

#endif
