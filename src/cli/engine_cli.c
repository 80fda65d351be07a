/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Setting up the engine from the global options and printing what it
 * says. */
#include "engine_cli.h"
#include "cli.h"
#include "ntpwall/hostfw.h"
#include "ntpwall/privsep.h"
#include "ntpwall/util.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

unsigned cli_keep_default(void)
{
	const char *s = getenv("NTPWALL_KEEP");
	char *end;
	unsigned long v;

	if (!s || !*s)
		return 0;
	v = strtoul(s, &end, 10);
	return *end || v < 1 || v > 100000 ? 0 : (unsigned)v;
}

int cli_parse_keep(const char *s, unsigned *keep)
{
	unsigned long v;

	if (policy_parse_uint(s, 1, 100000, &v)) {
		cli_error("--keep '%s': expected a number from 1 to 100000", s);
		return -1;
	}
	*keep = (unsigned)v;
	return 0;
}

bool cli_is_iptables(const struct engine_wanted *w)
{
	return !strcmp(engine_backend_name(w->policy), "iptables");
}

char *cli_live_label(const struct engine_wanted *w)
{
	return cli_is_iptables(w) ? xasprintf("iptables chains %s-* (live)", w->rs->table)
				  : xasprintf("table inet %s (live)", w->rs->table);
}

void cli_run_init(struct cli_run *c, unsigned keep)
{
	/* DNS and NTP input parsed by the unprivileged child (privsep.h). */
	struct engine_config cfg = { .state_dir = arg_state_dir, .run_dir = cli_run_dir(),
				     .net = &privsep_net };

	memset(c, 0, sizeof(*c));
	c->seed = cli_machine_seed();
	cfg.seed = c->seed;
	cfg.keep = keep ? keep : cli_keep_default();
	diag_init(&c->d, 0);
	engine_init(&c->e, &cfg, &c->d);
}

void cli_run_report(struct cli_run *c)
{
	struct diags shown;

	diag_sort(&c->d);
	if (arg_verbose >= 0 || c->d.errors) {
		report_diags(stderr, &c->d, REPORT_TEXT);
		diag_free(&c->d);
		return;
	}
	/* -q: errors only. */
	diag_init(&shown, 0);
	for (size_t i = 0; i < c->d.n; i++)
		if (c->d.v[i].severity == DIAG_ERROR)
			diag_add(&shown, &c->d.v[i].loc, DIAG_ERROR, c->d.v[i].code, "%s",
				 c->d.v[i].msg);
	report_diags(stderr, &shown, REPORT_TEXT);
	diag_free(&shown);
	diag_free(&c->d);
}

void cli_run_fini(struct cli_run *c)
{
	cli_run_report(c);
	engine_fini(&c->e);
	diag_free(&c->d);
	free(c->seed);
}

int cli_exit_for(int ret, const struct engine_result *r)
{
	if (ret)
		return CHANGE_ERROR;
	return r->daemon_failed ? CHANGE_DAEMON : CHANGE_OK;
}

int cli_current_choice(const struct policy *p, struct resolved **out)
{
	struct cli_run c;
	int ret;

	cli_run_init(&c, 0);
	ret = engine_current_choice(&c.e, p, out);
	cli_run_fini(&c);
	return ret;
}

void cli_warn_host_firewall(const char *own_table, unsigned families)
{
	struct hostfw_findings f;
	struct cli_run c;
	char *managed = NULL, *trouble = NULL;
	int ret;

	if (!families)
		return;
	cli_run_init(&c, 0);
	if (!own_table) {
		/* A state directory this user may not read says nothing. */
		if (engine_state_open(&c.e, ENGINE_STATE_READ) < 0)
			diag_free(&c.d);
		managed = engine_managed_table(&c.e, NULL);
	}
	ret = engine_host_firewall(&c.e, own_table ? own_table : managed ? managed : "ntpwall",
				   families, &f);
	if (!ret || !engine_host_firewall_quiet(ret)) {
		for (size_t i = 0; i < f.n; i++)
			diag_add(&c.d, NULL, DIAG_WARNING, NW508_HOST_FIREWALL, "%s", f.v[i].msg);
		trouble = engine_host_firewall_trouble(ret, &f);
	}
	if (trouble)
		diag_add(&c.d, NULL, DIAG_WARNING, NW508_HOST_FIREWALL, "%s", trouble);
	free(trouble);
	free(managed);
	hostfw_findings_free(&f);
	cli_run_fini(&c);
}

int cli_state_lock(struct cli_run *c)
{
	struct engine_result r = { 0 };
	int ret = engine_state_open(&c->e, ENGINE_STATE_LOCK);

	if (!ret)
		ret = engine_expire_pending(&c->e, &r);
	if (!ret && r.outcome == ENGINE_REVERTED && r.generation && arg_verbose >= 0)
		printf("generation %lu (revert)\n", r.generation);
	engine_result_free(&r);
	return ret;
}

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

void cli_signals_hold(struct cli_run *c)
{
	struct sigaction sa = { .sa_handler = on_signal };	/* no SA_RESTART */
	sigset_t block;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigprocmask(SIG_BLOCK, &block, &c->sigmask);
	c->e.cfg.probe_sigmask = &c->sigmask;
}

int cli_signal_seen(void)
{
	return got_signal;
}

static void say_list(const char *what, char **v, size_t n)
{
	if (!n)
		return;
	printf("%s:", what);
	for (size_t i = 0; i < n; i++)
		printf(" %s", v[i]);
	putchar('\n');
}

void cli_say_changes(const struct engine_result *r, bool mode)
{
	if (arg_verbose < 1)
		return;
	if (mode && (r->outcome == ENGINE_CHANGED || r->outcome == ENGINE_PENDING))
		puts(r->in_place ? "in place: set elements changed, rules and counters kept" :
				   "replaced: a new table, counters start again");
	say_list("added", r->addrs.added, r->addrs.n_added);
	say_list("removed", r->addrs.removed, r->addrs.n_removed);
	say_list("renewed", r->addrs.renewed, r->addrs.n_renewed);
}

void cli_say_changes_brief(const struct engine_result *r)
{
	const struct engine_addr_changes *c = &r->addrs;

	fputs(c->n_added || c->n_removed ? ":" : ": no upstream or peer address changed", stdout);
	for (size_t i = 0; i < c->n_added; i++)
		printf(" +%s", c->added[i]);
	for (size_t i = 0; i < c->n_removed; i++)
		printf(" -%s", c->removed[i]);
	putchar('\n');
}
