/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ntpwall's entry point: global options, then one subcommand from a table.
 * Names match exactly; no prefix matching (iproute2's matches() breaks as
 * soon as two commands share a prefix). */
#include "cli.h"
#include "ntpwall/util.h"

#include <getopt.h>
#include <stdarg.h>
#include <string.h>
#include <sys/resource.h>

#define DEFAULT_STATE_DIR "/var/lib/ntpwall"
#define DEFAULT_RUN_DIR "/run/ntpwall"

const char *arg_state_dir = DEFAULT_STATE_DIR;
const char *arg_run_dir;
int arg_verbose;

struct command {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "lint", cmd_lint_main, "check policies without touching anything" },
	/* resolve: */
	{ "resolve", cmd_resolve_main, "resolve the names of a policy: addresses, TTLs, origins" },
	/* compile: */
	{ "compile", cmd_compile_main, "print the rules (or daemon config) a policy gives" },
	/* probe: */
	{ "probe", cmd_probe_main, "ask the trusted servers for the time and judge them" },
	/* backend: */
	{ "diff", cmd_diff_main, "show what apply would change (0 same, 1 differs)" },
	{ "apply", cmd_apply_main, "make the policy's rules live in one transaction" },
	{ "confirm", cmd_confirm_main, "keep the rules of a pending apply --confirm" },
	{ "refresh", cmd_refresh_main, "re-resolve names, update the sets in place (cron)" },
	{ "rollback", cmd_rollback_main, "make an earlier generation live again" },
	{ "restore", cmd_restore_main, "make the latest generation live again, without DNS (boot)" },
	{ "history", cmd_history_main, "every generation: when, what, which addresses came or went" },
	{ "status", cmd_status_main, "generation, sets with expiry, rule counters" },
	{ "explain", cmd_explain_main, "which rule decides a described NTP packet, and why" },
	{ "remove", cmd_remove_main, "delete ntpwall's table (and nothing else)" },
};

enum { OPT_STATE_DIR = 256, OPT_RUN_DIR, OPT_VERSION };

static const struct cli_option global_opts[] = {
	{ "state-dir", OPT_STATE_DIR, "DIR", "state directory (default /var/lib/ntpwall)" },
	{ "run-dir", OPT_RUN_DIR, "DIR", "where the trusted servers are published (default "
	  "/run/ntpwall, or STATE-DIR-run with --state-dir)" },
	{ "verbose", 'v', NULL, "say more" },
	{ "quiet", 'q', NULL, "say only errors" },
	{ "version", OPT_VERSION, NULL, "print the version and exit" },
	{ "help", 'h', NULL, "show this help" },
	{ 0 }
};

void cli_raise_nofile(size_t want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= want ||
	    rl.rlim_max <= rl.rlim_cur)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
	(void)setrlimit(RLIMIT_NOFILE, &rl);
}

void cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("ntpwall: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void cli_print_options(FILE *f, const struct cli_option *opts)
{
	for (const struct cli_option *o = opts; o->name; o++) {
		char left[48];

		if (o->key < 256)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", o->key, o->name,
				 o->arg ? " " : "", o->arg ? o->arg : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", o->name, o->arg ? " " : "",
				 o->arg ? o->arg : "");
		fprintf(f, "  %-28s %s\n", left, o->help);
	}
}

/* Builds getopt's short string and long table from the option table.
 * Global options stop at the command name ('+'); a command's own options may
 * come before or after its operands, so getopt permutes them. */
static int parse_opts(int argc, char **argv, const char *usage, const struct cli_option *opts,
		      int (*fn)(int key, const char *arg, void *data), void *data, bool global)
{
	struct option longs[32];
	char shorts[80] = "+";
	size_t n = 0, s = global ? 1 : 0;
	int c;

	for (const struct cli_option *o = opts; o->name && n < ARRAY_SIZE(longs) - 1; o++, n++) {
		longs[n] = (struct option){ o->name, o->arg ? required_argument : no_argument,
					    NULL, o->key };
		if (o->key < 256 && s + 3 < sizeof(shorts)) {
			shorts[s++] = (char)o->key;
			if (o->arg)
				shorts[s++] = ':';
		}
	}
	longs[n] = (struct option){ 0 };
	shorts[s] = '\0';
	optind = 0;	/* glibc re-reads '+' (the ordering) only on a full reset */
	opterr = 0;
	while ((c = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
		if (c == 'h') {
			printf("usage: %s\n", usage);
			cli_print_options(stdout, opts);
			return -2;
		}
		if (c == '?' || c == ':') {
			if (optopt && optopt < 256)
				cli_error("option -%c: %s", optopt,
					  c == ':' ? "needs an argument" : "unknown option");
			else
				cli_error("'%s': %s", argv[optind - 1],
					  c == ':' ? "needs an argument" : "unknown option");
			fprintf(stderr, "usage: %s\n", usage);
			return -1;
		}
		if (fn(c, optarg, data) < 0)
			return -1;
	}
	return optind;
}

const char *cli_run_dir(void)
{
	static char *derived;

	if (arg_run_dir)
		return arg_run_dir;
	/* A state directory of its own (tests, a second instance) publishes
	 * beside itself, never into the system's /run/ntpwall. */
	if (!derived) {
		size_t len = strlen(arg_state_dir);

		while (len > 1 && arg_state_dir[len - 1] == '/')
			len--;
		if (len == strlen(DEFAULT_STATE_DIR) && !strncmp(arg_state_dir, DEFAULT_STATE_DIR, len))
			return DEFAULT_RUN_DIR;
		derived = xasprintf("%.*s-run", (int)len, arg_state_dir);
	}
	return derived;
}

char *cli_machine_seed(void)
{
	char *buf = NULL;
	size_t len;

	if (util_read_file("/etc/machine-id", 4096, &buf, &len))
		return xstrdup("");
	buf[strcspn(buf, "\r\n")] = '\0';
	return buf;
}

int cli_parse(int argc, char **argv, const char *usage, const struct cli_option *opts,
	      int (*fn)(int key, const char *arg, void *data), void *data)
{
	return parse_opts(argc, argv, usage, opts, fn, data, false);
}

static int global_opt(int key, const char *arg, void *data)
{
	switch (key) {
	case OPT_STATE_DIR:
		arg_state_dir = arg;
		break;
	case OPT_RUN_DIR:
		arg_run_dir = arg;
		break;
	case 'v':
		arg_verbose++;
		break;
	case 'q':
		arg_verbose = -1;
		break;
	case OPT_VERSION:
		puts("ntpwall " NTPWALL_VERSION);
		exit(MAIN_OK);
	}
	return 0;
}

static void print_commands(FILE *f)
{
	fputs("\ncommands:\n", f);
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
	fputs("\n'ntpwall COMMAND --help' shows a command's options.\n", f);
}

int main(int argc, char **argv)
{
	int first = parse_opts(argc, argv, "ntpwall [--state-dir DIR] [--run-dir DIR] [-v|-q] COMMAND ...",
			       global_opts, global_opt, NULL, true);

	if (first == -2) {
		print_commands(stdout);
		return MAIN_OK;
	}
	if (first < 0)
		return MAIN_USAGE;
	if (first >= argc) {
		fputs("usage: ntpwall [--state-dir DIR] [--run-dir DIR] [-v|-q] COMMAND [ARGS...]\n",
		      stderr);
		cli_print_options(stderr, global_opts);
		print_commands(stderr);
		return MAIN_USAGE;
	}
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(argv[first], commands[i].name))
			return commands[i].main(argc - first, argv + first);
	cli_error("'%s': unknown command (try 'ntpwall --help')", argv[first]);
	return MAIN_USAGE;
}
