/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ntpwall refresh POLICY [--probe] [--keep N]: what cron or the systemd
 * timer runs. Re-resolve the policy's names and update the live table's
 * sets in place, in one transaction: addresses a name now gives are added,
 * ones no name gives any more are removed, and every address that came
 * from DNS is renewed (deleted and added again in the same batch, so its
 * timeout restarts even on kernels before 6.12: doc/netlink-notes.md §8.3).
 * Rules and counters are never touched: when the policy's rules differ
 * from the live table's, refresh changes nothing and asks for `apply`.
 * A name that fails to resolve keeps its last known addresses, with a
 * warning (chrony too keeps a server whose name stops resolving).
 * A generation is recorded only when addresses came or went.
 * Exit: 0 done; 1 done, but a name failed or a new address was refused
 * by the probe; 2 nothing changed (error). */
#include "cli.h"
#include "engine_cli.h"

struct refresh_args {
	bool probe;
	unsigned keep;
};

enum { OPT_PROBE = 256, OPT_KEEP };

static const struct cli_option refresh_opts[] = {
	{ "probe", OPT_PROBE, NULL, "probe new upstream addresses; take out those that fail" },
	{ "keep", OPT_KEEP, "N", "generations to keep (default 10 or $NTPWALL_KEEP)" },
	{ "help", 'h', NULL, "show this help" },
	{ 0 }
};

static int refresh_opt(int key, const char *arg, void *data)
{
	struct refresh_args *a = data;

	if (key == OPT_PROBE)
		a->probe = true;
	else if (key == OPT_KEEP)
		return cli_parse_keep(arg, &a->keep);
	return 0;
}

static int refresh(struct cli_run *c, const struct refresh_args *a, const char *path)
{
	struct engine_result r = { 0 };
	struct engine_wanted w = { 0 };
	struct engine *e = &c->e;
	int ret, rc;

	ret = cli_state_lock(c);
	if (!ret)
		ret = engine_wanted(e, path, true, &w);
	if (!ret)
		ret = engine_open(e, engine_backend_name(w.policy));
	if (!ret)
		ret = engine_read(e, w.rs->table);
	if (!ret)
		ret = engine_refresh(e, &w, a->probe, &r);
	cli_run_report(c);
	if (!ret && arg_verbose >= 0) {
		if (r.restored)
			printf("refresh: table inet %s was gone (flushed?): restored from the latest "
			       "generation with fresh DNS\n", r.table);
		printf("refresh: %zu added, %zu removed, %zu renewed%s\n", r.added, r.deleted,
		       r.renewed, r.refused ? " (new addresses refused by the probe)" : "");
		if (r.generation)
			printf("generation %lu (refresh)\n", r.generation);
		cli_say_changes(&r, false);
	}
	rc = ret ? REFRESH_ERROR : r.daemon_failed ? REFRESH_DAEMON :
	     r.refused || r.kept_previous ? REFRESH_PARTIAL : REFRESH_OK;
	/* For status and its metrics: when the timer last ran, and how. */
	(void)engine_refresh_record(e, rc, ret ? NULL : &r);
	engine_result_free(&r);
	engine_wanted_free(&w);
	return rc;
}

int cmd_refresh_main(int argc, char **argv)
{
	struct refresh_args a = { 0 };
	struct cli_run c;
	int first, rc;

	first = cli_parse(argc, argv, "ntpwall refresh POLICY [--probe] [--keep N]", refresh_opts,
			  refresh_opt, &a);
	if (first < 0)
		return first == -2 ? REFRESH_OK : REFRESH_ERROR;
	if (argc - first != 1) {
		cli_error("refresh: expected one policy (usage: ntpwall refresh POLICY)");
		return REFRESH_ERROR;
	}
	cli_run_init(&c, a.keep);
	cli_signals_hold(&c);
	rc = refresh(&c, &a, argv[first]);
	cli_run_fini(&c);
	return rc;
}
