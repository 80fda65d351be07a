/* ntpwall diff POLICY: what apply would change, as a unified diff of the
 * live table and the policy's, both in nft syntax. Exit 0 same, 1 differs,
 * 2 error (diff(1) convention). Reads only; takes no lock. */
#include "backend_cli.h"
#include "cli.h"
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
	struct state *st = NULL;
	struct live l = { 0 };
	struct wanted w;
	bool differs = false;
	char *label;
	int first, rc, ret;

	first = cli_parse(argc, argv, "ntpwall diff POLICY", diff_opts, no_opt, NULL);
	if (first < 0)
		return first == -2 ? EXIT_OK : EXIT_USAGE;
	if (argc - first != 1) {
		cli_error("diff: expected one policy (usage: ntpwall diff POLICY)");
		return EXIT_USAGE;
	}
	if (state_open(arg_state_dir, false, &st) < 0)
		st = NULL;
	rc = bcli_wanted(argv[first], st, false, &w);
	state_close(st);
	if (rc)
		return EXIT_USAGE;
	rc = bcli_open(w.policy->backend == POLICY_BACKEND_NFT ? "nft" : "iptables", &l);
	if (!rc)
		rc = bcli_read(&l, w.rs->table);
	if (!rc) {
		label = xasprintf("table inet %s (live)", w.rs->table);
		ret = diff_rulesets(l.rs, w.rs, label, argv[first], stdout, &differs);
		free(label);
		if (ret < 0) {
			cli_error("diff: %s", strerror(-ret));
			rc = EXIT_USAGE;
		} else {
			rc = differs ? EXIT_FINDINGS : EXIT_OK;
		}
	}
	bcli_close(&l);
	bcli_wanted_free(&w);
	return rc ? (rc == EXIT_FINDINGS ? EXIT_FINDINGS : EXIT_USAGE) : EXIT_OK;
}
