/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The engine as the changing and reading commands use it: set up from the
 * global options, its messages printed with the one diagnostics printer.
 * Only src/cli/ includes this. */
#ifndef NTPWALL_ENGINE_CLI_H
#define NTPWALL_ENGINE_CLI_H

#include "ntpwall/engine.h"

#include <signal.h>
#include <stdbool.h>

struct cli_run {
	struct engine e;
	struct diags d;
	char *seed;
	sigset_t sigmask;	/* the caller's, while cli_signals_hold() holds */
};

/* The wanted ruleset goes to the iptables backend. */
bool cli_is_iptables(const struct engine_wanted *w);
/* "table inet NAME (live)" or "iptables chains NAME-* (live)", new. */
char *cli_live_label(const struct engine_wanted *w);
/* Set up an engine on --state-dir with keep generations (0: the default,
 * $NTPWALL_KEEP or 10) and this host's pool seed. */
void cli_run_init(struct cli_run *c, unsigned keep);
/* Print what the engine said so far (warnings unless -q) and forget it. */
void cli_run_report(struct cli_run *c);
/* Report what is left, close everything. */
void cli_run_fini(struct cli_run *c);

/* Parse --keep N; -1 (printed) if bad. */
int cli_parse_keep(const char *s, unsigned *keep);
/* $NTPWALL_KEEP if set and valid, else 0 (the engine's default). */
unsigned cli_keep_default(void);

/* The exit code of a changing command (enum change_exit): 2 on error, 3
 * when the wall changed but the time daemon was not told, else 0. */
int cli_exit_for(int ret, const struct engine_result *r);

/* After the generation line of a change, with -v: whether the table was
 * changed in place or replaced (if mode), and the addresses added,
 * removed and renewed, a line each. */
void cli_say_changes(const struct engine_result *r, bool mode);
/* Ends a line with ": +ADDR -ADDR" for what r added and removed, or
 * ": no upstream or peer address changed". */
void cli_say_changes_brief(const struct engine_result *r);

/* p's addresses as published by the wall (--run-dir), as
 * engine_current_choice(). */
int cli_current_choice(const struct policy *p, struct resolved **out);

/* Warn on standard error (NW508, unless -q) about other tables' chains
 * that would drop NTP to upstreams of families (HOSTFW_V4 | HOSTFW_V6),
 * own_table left out (NULL: the table the state directory says ntpwall
 * manages, else "ntpwall"). Says nothing when this user may not read
 * them. */
void cli_warn_host_firewall(const char *own_table, unsigned families);

/* Lock the state directory (if it exists) for a changing command, and
 * first revert a pending confirmation whose deadline passed unreverted. */
int cli_state_lock(struct cli_run *c);

/* Hold SIGINT and SIGTERM for the rest of the command: a transaction and
 * its records are never cut in half. They come through only while the
 * prober waits (the engine then reverts the unchecked rules) and at a
 * prompt (see cli_signal_seen()). */
void cli_signals_hold(struct cli_run *c);
/* The signal that came while held and let through, or 0. */
int cli_signal_seen(void);

#endif
