/* ntpwall rollback [--to GEN] [--keep N]: make a stored generation live
 * again in one transaction (the one before the latest by default) and
 * record it as a new generation. */
#include "backend_cli.h"
#include "cli.h"

struct rollback_args {
	unsigned long to;
	unsigned keep;
};

enum { OPT_TO = 256, OPT_KEEP };

static const struct cli_option rollback_opts[] = {
	{ "to", OPT_TO, "GEN", "the generation to make live (default: the one before the latest)" },
	{ "keep", OPT_KEEP, "N", "generations to keep (default 10 or $NTPWALL_KEEP)" },
	{ "help", 'h', NULL, "show this help" },
	{ 0 }
};

static int rollback_opt(int key, const char *arg, void *data)
{
	struct rollback_args *a = data;

	if (key == OPT_KEEP)
		return bcli_parse_keep(arg, &a->keep);
	if (key == OPT_TO && policy_parse_uint(arg, 1, 999999999, &a->to)) {
		cli_error("--to '%s': expected a generation number", arg);
		return -1;
	}
	return 0;
}

int cmd_rollback_main(int argc, char **argv)
{
	struct rollback_args a = { 0, state_keep_default() };
	unsigned long latest;
	struct state *st;
	int first, rc;

	first = cli_parse(argc, argv, "ntpwall rollback [--to GEN] [--keep N]", rollback_opts,
			  rollback_opt, &a);
	if (first < 0)
		return first == -2 ? EXIT_OK : EXIT_USAGE;
	if (first != argc) {
		cli_error("rollback: unexpected argument '%s'", argv[first]);
		return EXIT_USAGE;
	}
	st = bcli_state(false, true);
	if (!st)
		return EXIT_USAGE;
	latest = state_latest(st);
	if (!a.to)
		a.to = latest > 1 ? latest - 1 : 0;
	if (!a.to) {
		cli_error("rollback: no earlier generation in %s", arg_state_dir);
		state_close(st);
		return EXIT_USAGE;
	}
	rc = bcli_restore(st, a.to, "rollback", a.keep, 0);
	/* The operator chose: a pending confirmation is settled. */
	if (!rc)
		(void)state_pending_clear(st);
	state_close(st);
	return rc;
}
