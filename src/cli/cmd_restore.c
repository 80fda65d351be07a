/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ntpwall restore: make the latest generation live again exactly as
 * recorded, without DNS, with the time daemon told. What the boot unit runs
 * (DNS is usually not up yet; the refresh timer renews names later) and
 * what it runs again when nftables.service reloads and flushes the
 * ruleset. Records nothing. */
#include "cli.h"
#include "engine_cli.h"

static const struct cli_option restore_opts[] = {
	{ "help", 'h', NULL, "show this help" },
	{ 0 }
};

static int no_opt(int key, const char *arg, void *data)
{
	return 0;
}

int cmd_restore_main(int argc, char **argv)
{
	struct engine_result r = { 0 };
	struct cli_run c;
	int first, ret, rc;

	first = cli_parse(argc, argv, "ntpwall restore", restore_opts, no_opt, NULL);
	if (first < 0)
		return first == -2 ? CHANGE_OK : CHANGE_ERROR;
	if (first != argc) {
		cli_error("restore: unexpected argument '%s'", argv[first]);
		return CHANGE_ERROR;
	}
	cli_run_init(&c, 0);
	ret = cli_state_lock(&c);
	if (!ret)
		ret = engine_restore_latest(&c.e, &r);
	cli_run_fini(&c);
	if (!ret && arg_verbose >= 0) {
		if (r.outcome == ENGINE_ABSENT)
			puts("nothing to restore: no generation with a table");
		else if (r.outcome == ENGINE_UNCHANGED)
			printf("table inet %s already is generation %lu\n", r.table, r.generation);
		else
			printf("restored generation %lu (table inet %s)\n", r.generation, r.table);
	}
	rc = cli_exit_for(ret, &r);
	engine_result_free(&r);
	return rc;
}
