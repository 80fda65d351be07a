/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Exit codes, per command, as doc/design.md "CLI" and ntpwall(8) (EXIT
 * STATUS and each command's section) give them. The values are documented
 * and tested: never change one. Only src/cli/ includes this (via cli.h). */
#ifndef NTPWALL_EXIT_CODES_H
#define NTPWALL_EXIT_CODES_H

/* ntpwall itself: --help, --version, an unknown command or global option. */
enum main_exit {
	MAIN_OK = 0,
	MAIN_USAGE = 2,
};

/* lint, as diff(1). */
enum lint_exit {
	LINT_CLEAN = 0,		/* warnings allowed (not with --strict) */
	LINT_FINDINGS = 1,	/* errors, or warnings with --strict */
	LINT_ERROR = 2,		/* usage, I/O; --resolve with no DNS server answering */
};

/* resolve (RESOLVE_OK and RESOLVE_ERROR are resolve.h's, of one name). */
enum resolve_exit {
	RESOLVE_EXIT_OK = 0,		/* every name resolved */
	RESOLVE_EXIT_UNRESOLVED = 1,	/* some name did not; the rest is printed */
	RESOLVE_EXIT_ERROR = 2,		/* usage, bad policy, the resolver cannot start */
};

/* compile: a name that does not resolve is an error too. */
enum compile_exit {
	COMPILE_OK = 0,
	COMPILE_ERROR = 2,
};

/* probe, as the monitoring plugins. */
enum probe_exit {
	NAGIOS_OK = 0,
	NAGIOS_WARNING = 1,
	NAGIOS_CRITICAL = 2,
	NAGIOS_UNKNOWN = 3,	/* usage, bad policy, the prober could not run */
};

/* diff, as diff(1). */
enum diff_exit {
	DIFF_SAME = 0,
	DIFF_DIFFERS = 1,
	DIFF_ERROR = 2,
};

/* apply. */
enum apply_exit {
	APPLY_OK = 0,		/* changed, unchanged, or a confirmation pending */
	APPLY_REVERTED = 1,	/* --probe or --confirm reverted the change */
	APPLY_PROBE_FAILED = 1,	/* --probe: no upstream answered, nothing changed */
	APPLY_WOULD_CHANGE = 1,	/* --dry-run: it differs (0: it does not) */
	APPLY_ERROR = 2,	/* nothing changed */
	APPLY_DAEMON = 3,	/* the wall changed, the time daemon was not told */
};

/* refresh. */
enum refresh_exit {
	REFRESH_OK = 0,
	REFRESH_PARTIAL = 1,	/* a name failed, or a new address was refused */
	REFRESH_ERROR = 2,	/* nothing changed */
	REFRESH_DAEMON = 3,	/* the wall changed, the time daemon was not told */
};

/* confirm. */
enum confirm_exit {
	CONFIRM_OK = 0,
	CONFIRM_NOTHING_PENDING = 1,
	CONFIRM_ERROR = 2,
};

/* status, as a monitor reads it. */
enum status_exit {
	STATUS_IN_SYNC = 0,
	STATUS_ATTENTION = 1,
	STATUS_ERROR = 2,
};

/* history. */
enum history_exit {
	HISTORY_OK = 0,
	HISTORY_ERROR = 2,	/* usage, the state cannot be read */
};

/* explain: what the described packet meets. */
enum explain_exit {
	EXPLAIN_EXIT_PASSES = 0,	/* accepted, or no rule decides (continue) */
	EXPLAIN_EXIT_DROPPED = 1,	/* dropped or rejected */
	EXPLAIN_EXIT_ERROR = 2,		/* usage, no rules to read, or a rule not understood */
};

/* rollback, remove, restore; cli_exit_for() gives them for any changing
 * command. */
enum change_exit {
	CHANGE_OK = 0,
	CHANGE_ERROR = 2,	/* nothing changed */
	CHANGE_DAEMON = 3,	/* the wall changed, the time daemon was not told */
};

/* apply returns cli_exit_for() too. */
_Static_assert((int)APPLY_OK == (int)CHANGE_OK && (int)APPLY_ERROR == (int)CHANGE_ERROR &&
	       (int)APPLY_DAEMON == (int)CHANGE_DAEMON, "apply's codes are cli_exit_for()'s");

#endif
