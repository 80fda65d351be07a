/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ntpwall status [--format text|json|prometheus] [--table NAME]: the
 * latest generation and whether the kernel still has it, a pending
 * confirmation, the last refresh, and the live table with set elements
 * (expiry) and rule counters. Reads only; takes no lock. */
#include "cli.h"
#include "engine_cli.h"
#include "status_prom.h"
#include "ntpwall/backend.h"
#include "ntpwall/ir_json.h"
#include "ntpwall/render.h"
#include "ntpwall/util.h"

#include <errno.h>
#include <jansson.h>
#include <string.h>
#include <time.h>

enum status_format { STATUS_TEXT, STATUS_JSON, STATUS_PROMETHEUS };

struct status_args {
	enum status_format format;
	const char *table;
};

enum { OPT_FORMAT = 256, OPT_TABLE };

static const struct cli_option status_opts[] = {
	{ "format", OPT_FORMAT, "FMT", "text (default), json or prometheus" },
	{ "table", OPT_TABLE, "NAME", "table to show (default: the latest generation's)" },
	{ "help", 'h', NULL, "show this help" },
	{ 0 }
};

static int status_opt(int key, const char *arg, void *data)
{
	static const char *const names[] = { "text", "json", "prometheus" };
	struct status_args *a = data;

	if (key == OPT_FORMAT) {
		for (size_t i = 0; i < ARRAY_SIZE(names); i++)
			if (!strcmp(arg, names[i])) {
				a->format = (enum status_format)i;
				return 0;
			}
		cli_error("--format '%s': expected text, json or prometheus", arg);
		return -1;
	} else if (key == OPT_TABLE) {
		a->table = arg;
	}
	return 0;
}

static json_t *pending_json(const struct engine_status *s)
{
	const struct state_pending *p = &s->pending;

	if (!s->has_pending)
		return json_null();
	return json_pack("{s:I, s:I, s:I, s:I, s:b}", "generation", (json_int_t)p->generation,
			 "previous", (json_int_t)p->previous, "deadline", (json_int_t)p->deadline,
			 "watchdog", (json_int_t)p->watchdog, "expired", s->pending_expired);
}

static json_t *last_refresh_json(const struct engine_refresh_record *r)
{
	if (!r->present)
		return json_null();
	return json_pack("{s:I, s:i, s:I, s:I, s:I}", "time", (json_int_t)r->time, "exit_code",
			 r->exit_code, "added", (json_int_t)r->added, "removed",
			 (json_int_t)r->removed, "renewed", (json_int_t)r->renewed);
}

static json_t *strings_json(char **v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static void print_json(const struct engine_status *s, const struct engine *e)
{
	const struct state_gen *g = s->latest;
	json_t *o = json_pack("{s:s, s:i, s:s, s:s, s:I, s:b}", "format", "ntpwall-status",
			      "version", 1, "table", s->table, "state", s->word, "genid",
			      (json_int_t)e->gen.genid, "attention", s->attention);

	if (g)
		json_object_set_new(o, "generation", json_pack("{s:I, s:s, s:s, s:s, s:o, s:o}",
				    "number", (json_int_t)g->number, "action", g->action,
				    "created", g->created, "backend", g->backend,
				    "policy", g->policy_path ? json_string(g->policy_path) : json_null(),
				    "policy_hash", g->policy_hash ? json_string(g->policy_hash) : json_null()));
	else
		json_object_set_new(o, "generation", json_null());
	json_object_set_new(o, "pending_confirm", pending_json(s));
	json_object_set_new(o, "last_refresh", last_refresh_json(&s->last_refresh));
	json_object_set_new(o, "expiring", json_integer((json_int_t)s->expiring));
	json_object_set_new(o, "host", s->host ? json_string(s->host) : json_null());
	json_object_set_new(o, "daemon_disagrees", strings_json(s->disagree, s->n_disagree));
	json_object_set_new(o, "host_firewall", strings_json(s->host_firewall, s->n_host_firewall));
	json_object_set_new(o, "live", e->live ? ir_json_dump(e->live, true) : json_null());
	json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(o);
}

static void print_pending(const struct engine_status *s)
{
	const struct state_pending *p = &s->pending;
	long long left = (long long)(p->deadline - time(NULL));

	if (s->pending_damaged)
		printf("PENDING CONFIRMATION RECORD UNREADABLE (pending-confirm.json): its watchdog "
		       "still reverts at the deadline\n");
	if (!s->has_pending)
		return;
	if (s->pending_expired)
		printf("PENDING CONFIRMATION OF GENERATION %lu EXPIRED %llds AGO and was not "
		       "reverted (the watchdog is gone): the next changing command reverts it\n",
		       p->generation, -left);
	else if (p->previous)
		printf("pending confirmation of generation %lu: reverts to generation %lu in %llds\n",
		       p->generation, p->previous, left);
	else
		printf("pending confirmation of generation %lu: removes the table in %llds\n",
		       p->generation, left);
}

static void print_last_refresh(const struct engine_refresh_record *r)
{
	char when[32];
	time_t t = (time_t)r->time;
	struct tm tm;

	if (!r->present)
		return;
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
	printf("last refresh %s: exit %d, %zu added, %zu removed, %zu renewed\n", when,
	       r->exit_code, r->added, r->removed, r->renewed);
}

/* An iptables wall's chains as the kernel holds them, with counters, in
 * iptables' notation; -errno when they cannot be read (the nft listing of
 * the same rules is printed instead). */
static int live_iptables(const char *table)
{
	struct diags d;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int ret;

	if (!f)
		return -ENOMEM;
	diag_init(&d, 0);
	ret = backend_ipt_listing(table, f, &d);
	if (fclose(f) && !ret)
		ret = -EIO;
	diag_free(&d);
	if (!ret)
		fputs(buf, stdout);
	free(buf);
	return ret;
}

static void print_text(const struct engine_status *s, const struct engine *e)
{
	struct render_opts o = { .listing = true, .with_counters = true };
	const struct state_gen *g = s->latest;

	if (g)
		printf("generation %lu (%s, %s)%s%s\n", g->number, g->action, g->created,
		       g->policy_path ? " from " : "", g->policy_path ? g->policy_path : "");
	else
		printf("generation none\n");
	/* iptables: ntpwall's chains <table>-*, not an nft table. */
	if (g && g->backend && !strcmp(g->backend, "iptables"))
		printf("iptables chains %s-*: %s\n", s->table, s->word);
	else
		printf("table inet %s: %s\n", s->table, s->word);
	if (s->host)
		printf("host: %s\n", s->host);
	/* iptables has no element expiry: addresses from DNS stay until a
	 * refresh takes them out, so when that last ran is what tells. */
	if (g && g->backend && !strcmp(g->backend, "iptables"))
		printf("addresses from DNS stay until a refresh takes them out (iptables has no "
		       "element timeouts)%s\n", s->last_refresh.present ? "" : "; last refresh: never");
	print_pending(s);
	print_last_refresh(&s->last_refresh);
	if (s->expiring)
		printf("%zu addresses from DNS expire within a quarter of their timeout: is the "
		       "refresh timer running? (systemctl status ntpwall-refresh.timer)\n",
		       s->expiring);
	for (size_t i = 0; i < s->n_disagree; i++)
		printf("daemon: %s\n", s->disagree[i]);
	for (size_t i = 0; i < s->n_host_firewall; i++)
		printf("host firewall: %s\n", s->host_firewall[i]);
	if (e->live) {
		fputc('\n', stdout);
		if (!g || !g->backend || strcmp(g->backend, "iptables") || live_iptables(s->table))
			(void)render_nft(e->live, &o, stdout);
	}
}

int cmd_status_main(int argc, char **argv)
{
	struct status_args a = { STATUS_TEXT, NULL };
	struct engine_status s = { 0 };
	struct cli_run c;
	int first, ret, rc;

	first = cli_parse(argc, argv, "ntpwall status [--format text|json|prometheus] [--table NAME]",
			  status_opts, status_opt, &a);
	if (first < 0)
		return first == -2 ? STATUS_IN_SYNC : STATUS_ERROR;
	if (first != argc) {
		cli_error("status: unexpected argument '%s'", argv[first]);
		return STATUS_ERROR;
	}
	cli_run_init(&c, 0);
	ret = engine_state_open(&c.e, ENGINE_STATE_READ);
	if (!ret)
		ret = engine_status(&c.e, a.table, &s);
	cli_run_report(&c);
	/* A monitor's codes: 0 in sync, 1 needs attention, 2 error. */
	rc = ret ? STATUS_ERROR : s.attention ? STATUS_ATTENTION : STATUS_IN_SYNC;
	/* Metrics say an error too: a scrape must not keep old values. */
	if (a.format == STATUS_PROMETHEUS)
		status_report_prometheus(stdout, ret ? NULL : &s, &c.e, rc);
	else if (!ret && a.format == STATUS_JSON)
		print_json(&s, &c.e);
	else if (!ret)
		print_text(&s, &c.e);
	ret = rc;
	engine_status_free(&s);
	cli_run_fini(&c);
	return ret;
}
