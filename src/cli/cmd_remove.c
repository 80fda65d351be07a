/* ntpwall remove [--table NAME] [--keep N]: delete ntpwall's table, and
 * nothing else, in one transaction, and record a "remove" generation (no
 * ruleset) so that `rollback` can bring the rules back. Only the table the
 * state directory says ntpwall applied can be removed. */
#include "backend_cli.h"
#include "cli.h"
#include "ntpwall/util.h"

#include <string.h>

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
		return bcli_parse_keep(arg, &a->keep);
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
	struct remove_args a = { NULL, state_keep_default() };
	struct state_gen *latest, *g;
	struct live l = { 0 };
	struct state *st;
	const char *table;
	char *managed;
	int first, rc;

	first = cli_parse(argc, argv, "ntpwall remove [--table NAME] [--keep N]", remove_opts,
			  remove_opt, &a);
	if (first < 0)
		return first == -2 ? EXIT_OK : EXIT_USAGE;
	if (first != argc) {
		cli_error("remove: unexpected argument '%s'", argv[first]);
		return EXIT_USAGE;
	}
	if (bcli_state_existing(&st))
		return EXIT_USAGE;
	latest = st ? bcli_latest(st) : NULL;
	/* Never a table ntpwall did not make, whatever --table says. */
	managed = st ? bcli_managed_table(st, latest) : NULL;
	table = a.table ? a.table : managed;
	if (!table || !managed || strcmp(table, managed)) {
		cli_error("remove: table inet %s was not applied by ntpwall (state in %s); "
			  "nothing removed", table ? table : "?", arg_state_dir);
		free(managed);
		state_gen_free(latest);
		state_close(st);
		return EXIT_USAGE;
	}
	rc = bcli_open(latest ? latest->backend : "nft", &l);
	if (!rc)
		rc = bcli_read(&l, table);
	if (!rc && !l.rs) {
		if (arg_verbose >= 0)
			printf("table inet %s is not there; nothing to remove\n", table);
	} else if (!rc) {
		rc = bcli_commit(&l, NULL, table, NULL);
		if (!rc) {
			g = state_gen_new("remove", l.ops->name);
			if (latest && latest->policy_path)
				g->policy_path = xstrdup(latest->policy_path);
			rc = bcli_record(st, g, a.keep, false);
			(void)state_pending_clear(st);
		}
	}
	bcli_close(&l);
	free(managed);
	state_gen_free(latest);
	state_close(st);
	return rc;
}
