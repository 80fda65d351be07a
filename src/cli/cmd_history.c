/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ntpwall history [--format text|json]: every stored generation, oldest
 * first: number, time, action, policy (absolute path and hash), how many
 * upstream and peer addresses, and which came or went. Reads only. */
#include "cli.h"
#include "engine_cli.h"

#include <jansson.h>
#include <string.h>

struct history_args {
	enum report_format format;
};

enum { OPT_FORMAT = 'f' };

static const struct cli_option history_opts[] = {
	{ "format", OPT_FORMAT, "FMT", "text (default) or json" },
	{ "help", 'h', NULL, "show this help" },
	{ 0 }
};

static int history_opt(int key, const char *arg, void *data)
{
	struct history_args *a = data;
	int f = report_format_parse(arg, REPORT_JSON);

	if (f < 0) {
		cli_error("--format '%s': expected text or json", arg);
		return -1;
	}
	a->format = (enum report_format)f;
	return 0;
}

static json_t *list_json(char **v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static void print_json(const struct engine_history_entry *v, size_t n)
{
	json_t *a = json_array(), *o;

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:I, s:s, s:s, s:s, s:s*, s:s*, s:s*, s:I, s:I, "
						   "s:o, s:o}", "generation", (json_int_t)v[i].number,
						   "action", v[i].action, "created", v[i].created,
						   "backend", v[i].backend, "policy", v[i].policy_path,
						   "policy_hash", v[i].policy_hash, "table", v[i].table,
						   "upstreams", (json_int_t)v[i].upstreams, "peers",
						   (json_int_t)v[i].peers, "added",
						   list_json(v[i].addrs.added, v[i].addrs.n_added),
						   "removed",
						   list_json(v[i].addrs.removed, v[i].addrs.n_removed)));
	o = json_pack("{s:s, s:i, s:o}", "format", "ntpwall-history", "version", 1,
		      "generations", a);
	json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(o);
}

static void print_changes(const struct engine_history_entry *h)
{
	for (size_t i = 0; i < h->addrs.n_added; i++)
		printf(" +%s", h->addrs.added[i]);
	for (size_t i = 0; i < h->addrs.n_removed; i++)
		printf(" -%s", h->addrs.removed[i]);
}

static void print_text(const struct engine_history_entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct engine_history_entry *h = &v[i];

		printf("%lu %s %s", h->number, h->created, h->action);
		if (h->source)
			printf(" of %lu", h->source);
		printf(": %zu upstream%s, %zu peer%s", h->upstreams, h->upstreams == 1 ? "" : "s",
		       h->peers, h->peers == 1 ? "" : "s");
		print_changes(h);
		if (h->policy_path)
			printf(" (%s%s%s)", h->policy_path, h->policy_hash ? ", hash " : "",
			       h->policy_hash ? h->policy_hash : "");
		putchar('\n');
	}
}

int cmd_history_main(int argc, char **argv)
{
	struct history_args a = { REPORT_TEXT };
	struct engine_history_entry *v = NULL;
	struct cli_run c;
	size_t n = 0;
	int first, ret;

	first = cli_parse(argc, argv, "ntpwall history [--format text|json]", history_opts,
			  history_opt, &a);
	if (first < 0)
		return first == -2 ? HISTORY_OK : HISTORY_ERROR;
	if (first != argc) {
		cli_error("history: unexpected argument '%s'", argv[first]);
		return HISTORY_ERROR;
	}
	cli_run_init(&c, 0);
	ret = engine_state_open(&c.e, ENGINE_STATE_READ);
	if (!ret)
		ret = engine_history(&c.e, &v, &n);
	cli_run_report(&c);
	if (!ret && a.format == REPORT_JSON)
		print_json(v, n);
	else if (!ret)
		print_text(v, n);
	engine_history_free(v, n);
	cli_run_fini(&c);
	return ret ? HISTORY_ERROR : HISTORY_OK;
}
