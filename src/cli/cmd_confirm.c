/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ntpwall confirm: keep the rules of a pending `apply --confirm`, so the
 * watchdog finds nothing to revert when its deadline comes; only when that
 * generation is what the kernel holds. */
#include "cli.h"
#include "engine_cli.h"

#include <errno.h>

static const struct cli_option confirm_opts[] = {
	{ "help", 'h', NULL, "show this help" },
	{ 0 }
};

static int no_opt(int key, const char *arg, void *data)
{
	return 0;
}

int cmd_confirm_main(int argc, char **argv)
{
	struct engine_result r = { 0 };
	struct cli_run c;
	int first, ret;

	first = cli_parse(argc, argv, "ntpwall confirm", confirm_opts, no_opt, NULL);
	if (first < 0)
		return first == -2 ? CONFIRM_OK : CONFIRM_ERROR;
	if (first != argc) {
		cli_error("confirm: takes no arguments");
		return CONFIRM_ERROR;
	}
	cli_run_init(&c, 0);
	ret = cli_state_lock(&c);
	if (!ret)
		ret = engine_confirm(&c.e, 0, &r);
	cli_run_fini(&c);
	if (!ret && arg_verbose >= 0)
		printf("confirmed generation %lu\n", r.generation);
	engine_result_free(&r);
	return !ret ? CONFIRM_OK : ret == -ENOENT ? CONFIRM_NOTHING_PENDING : CONFIRM_ERROR;
}
