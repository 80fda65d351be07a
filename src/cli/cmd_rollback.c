/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ntpwall rollback [--to GEN] [--keep N]: make a stored generation live
 * again in one transaction (the one before the latest by default) and
 * record it as a new generation. */
#include "cli.h"
#include "engine_cli.h"

#include <errno.h>

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
		return cli_parse_keep(arg, &a->keep);
	if (key == OPT_TO && policy_parse_uint(arg, 1, 999999999, &a->to)) {
		cli_error("--to '%s': expected a generation number", arg);
		return -1;
	}
	return 0;
}

int cmd_rollback_main(int argc, char **argv)
{
	struct rollback_args a = { 0, 0 };
	struct engine_result r = { 0 };
	struct cli_run c;
	int first, ret;

	first = cli_parse(argc, argv, "ntpwall rollback [--to GEN] [--keep N]", rollback_opts,
			  rollback_opt, &a);
	if (first < 0)
		return first == -2 ? CHANGE_OK : CHANGE_ERROR;
	if (first != argc) {
		cli_error("rollback: unexpected argument '%s'", argv[first]);
		return CHANGE_ERROR;
	}
	cli_run_init(&c, a.keep);
	ret = cli_state_lock(&c);
	if (!ret && !c.e.st)
		ret = -ENOENT;
	if (ret == -ENOENT && !c.d.errors)
		cli_error("rollback: no state directory %s: nothing to roll back to",
			  arg_state_dir);
	if (!ret)
		ret = engine_rollback(&c.e, a.to, &r);
	cli_run_fini(&c);
	if (!ret && arg_verbose >= 0) {
		printf("generation %lu (rollback of %lu)", r.generation, r.previous);
		cli_say_changes_brief(&r);
		cli_say_changes(&r, true);
	}
	ret = cli_exit_for(ret, &r);
	engine_result_free(&r);
	return ret;
}
