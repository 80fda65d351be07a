/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ntpwall diff POLICY: what apply would change, as a unified diff of the
 * live table and the policy's, both in nft syntax. Exit 0 same, 1 differs,
 * 2 error (diff(1) convention). Reads only; takes no lock. */
#include "cli.h"
#include "engine_cli.h"
#include "ntpwall/diff.h"
#include "ntpwall/util.h"

#include <string.h>

static const struct cli_option diff_opts[] = {
	{ "help", 'h', NULL, "show this help" },
	{ 0 }
};

static int no_opt(int key, const char *arg, void *data)
{
	return 0;
}

int cmd_diff_main(int argc, char **argv)
{
	struct engine_wanted w = { 0 };
	struct cli_run c;
	struct engine *e = &c.e;
	bool differs = false;
	char *label;
	int first, ret, rc = DIFF_ERROR;

	first = cli_parse(argc, argv, "ntpwall diff POLICY", diff_opts, no_opt, NULL);
	if (first < 0)
		return first == -2 ? DIFF_SAME : DIFF_ERROR;
	if (argc - first != 1) {
		cli_error("diff: expected one policy (usage: ntpwall diff POLICY)");
		return DIFF_ERROR;
	}
	cli_run_init(&c, 0);
	ret = engine_state_open(e, ENGINE_STATE_READ);
	if (!ret)
		ret = engine_wanted(e, argv[first], false, &w);
	if (!ret)
		ret = engine_open(e, engine_backend_name(w.policy));
	if (!ret)
		ret = engine_read(e, w.rs->table);
	cli_run_report(&c);
	if (!ret) {
		label = cli_live_label(&w);
		ret = diff_rulesets(e->live, w.rs, cli_is_iptables(&w), label, argv[first], stdout,
				    &differs);
		free(label);
		if (ret < 0)
			cli_error("diff: %s", strerror(-ret));
		else
			rc = differs ? DIFF_DIFFERS : DIFF_SAME;
	}
	engine_wanted_free(&w);
	cli_run_fini(&c);
	return rc;
}
