/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared pieces of the command line: exit codes, global arguments, option
 * tables and diagnostic printing. Only src/cli/ includes this. */
#ifndef NTPWALL_CLI_H
#define NTPWALL_CLI_H

#include "exit_codes.h"
#include "ntpwall/diag.h"

#include <stdbool.h>
#include <stdio.h>


/* Global options, set by main.c. */
extern const char *arg_state_dir;
extern const char *arg_run_dir;		/* NULL: see cli_run_dir() */
extern int arg_verbose;	/* -1 quiet, 0 normal, 1+ verbose */

struct cli_option {
	const char *name;	/* long name */
	int key;		/* short letter or a value >= 256 */
	const char *arg;	/* argument name, NULL for a flag */
	const char *help;
};

/* Parse argv[1..] against opts (terminated by a zeroed row). For every option
 * found, calls fn(key, optarg, data); fn returns 0 or a negative value to
 * stop. Returns the index of the first operand, or -1 after printing
 * a message naming the bad argument. --help prints usage and returns -2. */
int cli_parse(int argc, char **argv, const char *usage, const struct cli_option *opts,
	      int (*fn)(int key, const char *arg, void *data), void *data);
/* Print the option table as help. */
void cli_print_options(FILE *f, const struct cli_option *opts);
/* Raise the soft RLIMIT_NOFILE towards want, within the hard limit (the
 * library only reads limits: a process's resources are the program's to set). */
void cli_raise_nofile(size_t want);
/* "ntpwall: what: why" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

enum report_format {
	REPORT_TEXT,
	REPORT_JSON,
	REPORT_GITHUB,
	REPORT_SARIF,
	REPORT_CODECLIMATE,	/* GitLab Code Quality */
};

/* Parse "text", "json", ... allowing only formats up to max; -1 if bad. */
int report_format_parse(const char *s, enum report_format max);
/* Print diagnostics in fmt; text goes with source line and caret. */
void report_diags(FILE *f, const struct diags *d, enum report_format fmt);

int cmd_lint_main(int argc, char **argv);
/* This host's seed for pool choices: /etc/machine-id, so that many hosts
 * spread over a pool; "" when there is none. The caller frees it. */
char *cli_machine_seed(void);

/* resolve: */
int cmd_resolve_main(int argc, char **argv);
/* compile: */
int cmd_compile_main(int argc, char **argv);
/* probe: */
int cmd_probe_main(int argc, char **argv);
/* backend: */
int cmd_apply_main(int argc, char **argv);
int cmd_diff_main(int argc, char **argv);
int cmd_confirm_main(int argc, char **argv);
int cmd_rollback_main(int argc, char **argv);
int cmd_refresh_main(int argc, char **argv);
int cmd_status_main(int argc, char **argv);
int cmd_remove_main(int argc, char **argv);
int cmd_restore_main(int argc, char **argv);
int cmd_history_main(int argc, char **argv);
int cmd_explain_main(int argc, char **argv);
/* Where the trusted servers are published: --run-dir, /run/ntpwall for
 * the default state directory, else STATE-DIR-run. */
const char *cli_run_dir(void);

#endif
