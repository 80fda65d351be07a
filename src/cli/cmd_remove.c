/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ntpwall remove [--table NAME] [--keep N]: delete ntpwall's table, and
 * nothing else, in one transaction, and record a "remove" generation (no
 * ruleset) so that `rollback` can bring the rules back. Only the table the
 * state directory says ntpwall applied can be removed. */
#include "cli.h"
#include "engine_cli.h"

struct remove_args {
	const char *table;
	unsigned keep;
};

enum { OPT_TABLE = 256, OPT_KEEP };

static const struct cli_option remove_opts[] = {
	{ "table", OPT_TABLE, "NAME", "table to remove; must be the one ntpwall applied" },
	{ "keep", OPT_KEEP, "N", "generations to keep (default 10 or $NTPWALL_KEEP)" },
	{ "help", 'h', NULL, "show this help" },
	{ 0 }
};

static int remove_opt(int key, const char *arg, void *data)
{
	struct remove_args *a = data;

	if (key == OPT_KEEP)
		return cli_parse_keep(arg, &a->keep);
	if (key == OPT_TABLE) {
		const char *why = policy_check_table(arg);

		if (why) {
			cli_error("--table '%s': %s", arg, why);
			return -1;
		}
		a->table = arg;
	}
	return 0;
}

int cmd_remove_main(int argc, char **argv)
{
	struct remove_args a = { NULL, 0 };
	struct engine_result r = { 0 };
	struct cli_run c;
	int first, ret;

	first = cli_parse(argc, argv, "ntpwall remove [--table NAME] [--keep N]", remove_opts,
			  remove_opt, &a);
	if (first < 0)
		return first == -2 ? CHANGE_OK : CHANGE_ERROR;
	if (first != argc) {
		cli_error("remove: unexpected argument '%s'", argv[first]);
		return CHANGE_ERROR;
	}
	cli_run_init(&c, a.keep);
	ret = cli_state_lock(&c);
	if (!ret)
		ret = engine_remove(&c.e, a.table, &r);
	cli_run_fini(&c);
	if (!ret && arg_verbose >= 0) {
		if (r.outcome == ENGINE_ABSENT && r.table)
			printf("table inet %s is not there; nothing to remove\n", r.table);
		else if (r.outcome == ENGINE_ABSENT)
			printf("no table applied by ntpwall (state in %s); nothing to remove\n",
			       arg_state_dir);
		else
			printf("generation %lu (remove)\n", r.generation);
	}
	ret = cli_exit_for(ret, &r);
	engine_result_free(&r);
	return ret;
}
