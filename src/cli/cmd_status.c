/* ntpwall status [--format text|json] [--table NAME]: the latest
 * generation and whether the kernel still has it, a pending confirmation,
 * and the live table with set elements (expiry) and rule counters. Reads
 * only; takes no lock. */
#include "cli.h"
#include "engine_cli.h"
#include "ntpwall/ir_json.h"
#include "ntpwall/render.h"
#include "ntpwall/util.h"

#include <jansson.h>
#include <string.h>
#include <time.h>

struct status_args {
	enum report_format format;
	const char *table;
};

enum { OPT_FORMAT = 256, OPT_TABLE };

static const struct cli_option status_opts[] = {
	{ "format", OPT_FORMAT, "FMT", "text (default) or json" },
	{ "table", OPT_TABLE, "NAME", "table to show (default: the latest generation's)" },
	{ "help", 'h', NULL, "show this help" },
	{ 0 }
};

static int status_opt(int key, const char *arg, void *data)
{
	struct status_args *a = data;
	int f;

	if (key == OPT_FORMAT) {
		f = report_format_parse(arg, REPORT_JSON);
		if (f < 0) {
			cli_error("--format '%s': expected text or json", arg);
			return -1;
		}
		a->format = (enum report_format)f;
	} else if (key == OPT_TABLE) {
		a->table = arg;
	}
	return 0;
}

static const char *sync_word(const struct state_gen *g, const struct ir_ruleset *live)
{
	if (!g)
		return live ? "unmanaged" : "absent";
	if (!g->rs)
		return live ? "drifted" : "removed";
	if (!live)
		return "absent";
	return ir_ruleset_equal(g->rs, live) ? "in-sync" : "drifted";
}

static json_t *pending_json(const struct state_pending *p, bool has)
{
	if (!has)
		return json_null();
	return json_pack("{s:I, s:I, s:I, s:I}", "generation", (json_int_t)p->generation,
			 "previous", (json_int_t)p->previous, "deadline", (json_int_t)p->deadline,
			 "watchdog", (json_int_t)p->watchdog);
}

static void print_json(const struct state_gen *g, const struct engine *l, const char *table,
		       const struct state_pending *p, bool has_pending)
{
	json_t *o = json_pack("{s:s, s:i, s:s, s:s, s:I}", "format", "ntpwall-status",
			      "version", 1, "table", table, "state", sync_word(g, l->live),
			      "genid", (json_int_t)l->gen.genid);

	if (g)
		json_object_set_new(o, "generation", json_pack("{s:I, s:s, s:s, s:s, s:o, s:o}",
				    "number", (json_int_t)g->number, "action", g->action,
				    "created", g->created, "backend", g->backend,
				    "policy", g->policy_path ? json_string(g->policy_path) : json_null(),
				    "policy_hash", g->policy_hash ? json_string(g->policy_hash) : json_null()));
	else
		json_object_set_new(o, "generation", json_null());
	json_object_set_new(o, "pending_confirm", pending_json(p, has_pending));
	json_object_set_new(o, "live", l->live ? ir_json_dump(l->live, true) : json_null());
	json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(o);
}

static void print_text(const struct state_gen *g, const struct engine *l, const char *table,
		       const struct state_pending *p, bool has_pending)
{
	struct render_opts o = { .listing = true, .with_counters = true };

	if (g)
		printf("generation %lu (%s, %s)%s%s\n", g->number, g->action, g->created,
		       g->policy_path ? " from " : "", g->policy_path ? g->policy_path : "");
	else
		printf("generation none\n");
	printf("table inet %s: %s\n", table, sync_word(g, l->live));
	if (has_pending && p->previous)
		printf("pending confirmation of generation %lu: reverts to generation %lu in %llds\n",
		       p->generation, p->previous, (long long)(p->deadline - time(NULL)));
	else if (has_pending)
		printf("pending confirmation of generation %lu: removes the table in %llds\n",
		       p->generation, (long long)(p->deadline - time(NULL)));
	if (l->live) {
		fputc('\n', stdout);
		(void)render_nft(l->live, &o, stdout);
	}
}

int cmd_status_main(int argc, char **argv)
{
	struct status_args a = { REPORT_TEXT, NULL };
	struct state_pending p = { 0 };
	struct state_gen *g = NULL;
	struct cli_run c;
	struct engine *e = &c.e;
	const char *table;
	char *managed = NULL;
	bool has_pending = false;
	int first, ret;

	first = cli_parse(argc, argv, "ntpwall status [--format text|json] [--table NAME]",
			  status_opts, status_opt, &a);
	if (first < 0)
		return first == -2 ? EXIT_OK : EXIT_USAGE;
	if (first != argc) {
		cli_error("status: unexpected argument '%s'", argv[first]);
		return EXIT_USAGE;
	}
	cli_run_init(&c, 0);
	ret = engine_state_open(e, ENGINE_STATE_READ);
	if (!ret)
		ret = engine_latest(e, &g);
	if (!ret && e->st) {
		has_pending = state_pending_read(e->st, &p) == 0;
		/* After a remove, the table ntpwall managed last, not the default name. */
		managed = engine_managed_table(e, g);
	}
	table = a.table ? a.table : managed ? managed : "ntpwall";
	if (!ret)
		ret = engine_open(e, g ? g->backend : "nft");
	if (!ret)
		ret = engine_read(e, table);
	cli_run_report(&c);
	if (!ret && a.format == REPORT_JSON)
		print_json(g, e, table, &p, has_pending);
	else if (!ret)
		print_text(g, e, table, &p, has_pending);
	state_gen_free(g);
	free(managed);
	cli_run_fini(&c);
	return ret ? EXIT_USAGE : EXIT_OK;
}
