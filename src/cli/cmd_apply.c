/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ntpwall apply POLICY [--dry-run] [--probe] [--confirm SECONDS] [--keep N]:
 * resolve and compile the policy, compare with what the kernel has, and
 * when they differ make it live in one transaction (set elements changed in
 * place when nothing else differs, else a new table) and record a
 * generation (the engine decides and acts; this file prints). --confirm
 * leaves a detached watchdog that reverts unless the change is confirmed
 * in time; on a terminal, apply asks. */
#include "cli.h"
#include "engine_cli.h"
#include "ntpwall/diff.h"
#include "ntpwall/util.h"

#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct apply_args {
	struct engine_apply_opts o;
	bool dry_run;
	bool force_backend;
	unsigned keep;
};

enum { OPT_DRY_RUN = 256, OPT_PROBE, OPT_CONFIRM, OPT_KEEP, OPT_REPLACE_UNMANAGED,
       OPT_FORCE_BACKEND };

static const struct cli_option apply_opts[] = {
	{ "dry-run", OPT_DRY_RUN, NULL, "print the diff; exit 0 unchanged, 1 would change" },
	{ "probe", OPT_PROBE, NULL, "probe the upstreams through the rules (also when unchanged); revert a change if none answers" },
	{ "confirm", OPT_CONFIRM, "SECONDS", "revert unless confirmed within SECONDS" },
	{ "keep", OPT_KEEP, "N", "generations to keep (default 10 or $NTPWALL_KEEP)" },
	{ "replace-unmanaged", OPT_REPLACE_UNMANAGED, NULL,
	  "replace a table of that name ntpwall did not make (kept for rollback)" },
	{ "force-backend", OPT_FORCE_BACKEND, NULL,
	  "backend: iptables on a host that filters with nftables (refused otherwise)" },
	{ "help", 'h', NULL, "show this help" },
	{ 0 }
};

static int apply_opt(int key, const char *arg, void *data)
{
	struct apply_args *a = data;
	unsigned long v;

	switch (key) {
	case OPT_DRY_RUN:
		a->dry_run = true;
		break;
	case OPT_PROBE:
		a->o.probe = true;
		break;
	case OPT_CONFIRM:
		if (policy_parse_uint(arg, 1, 86400, &v)) {
			cli_error("--confirm '%s': expected seconds from 1 to 86400", arg);
			return -1;
		}
		a->o.confirm = (unsigned)v;
		break;
	case OPT_KEEP:
		return cli_parse_keep(arg, &a->keep);
	case OPT_REPLACE_UNMANAGED:
		a->o.replace_unmanaged = true;
		break;
	case OPT_FORCE_BACKEND:
		a->force_backend = true;
		break;
	}
	return 0;
}

/* "keep? [y/N]" until the deadline; true only for y. Ctrl-C is a no. */
static bool prompt_keep(const struct cli_run *c, int64_t deadline)
{
	struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
	char line[16];	/* one answer word */
	int64_t left = deadline - time(NULL);
	struct timespec ts = { left > 0 ? left : 0, 0 };
	ssize_t n;

	fprintf(stderr, "keep the new rules? [y/N] (reverting in %llds) ", (long long)left);
	fflush(stderr);
	if (left <= 0 || ppoll(&p, 1, &ts, &c->sigmask) <= 0) {
		fputc('\n', stderr);
		return false;
	}
	n = read(STDIN_FILENO, line, sizeof(line) - 1);
	if (n <= 0)
		return false;
	line[n] = '\0';
	return line[0] == 'y' || line[0] == 'Y';
}

static void print_probe(const struct probe_results *res)
{
	for (size_t i = 0; res && arg_verbose >= 0 && i < res->n; i++)
		fprintf(stderr, "probe %s: %s%s%s\n", res->v[i].name,
			probe_status_str(res->v[i].status), res->v[i].reason[0] ? ": " : "",
			res->v[i].reason);
}

static void say_generation(const struct engine_result *r, const char *action)
{
	if (r->generation && arg_verbose >= 0)
		printf("generation %lu (%s)\n", r->generation, action);
}

/* The confirmation is pending and the lock released: ask, or say how
 * long the change has. Returns the exit code. */
static int pending(struct cli_run *c, const struct engine_result *r, unsigned seconds)
{
	struct engine_result rr = { 0 };
	int rc;

	if (!isatty(STDIN_FILENO)) {
		if (arg_verbose >= 0)
			printf("reverting to %s in %us unless 'ntpwall confirm' runs\n",
			       r->previous ? "the previous generation" : "no table", seconds);
		return APPLY_OK;
	}
	if (prompt_keep(c, r->deadline)) {
		rc = engine_confirm(&c->e, r->generation, &rr) ? APPLY_ERROR : APPLY_OK;
		if (!rc)
			printf("confirmed generation %lu\n", rr.generation);
	} else {
		rc = engine_revert_pending(&c->e, r->generation, &rr) ? APPLY_ERROR : APPLY_REVERTED;
		say_generation(&rr, "revert");
		if (rc == APPLY_REVERTED && arg_verbose >= 0)
			printf("reverted\n");
	}
	engine_stop_watchdog(r->watchdog, 0);
	engine_result_free(&rr);
	return rc;
}

/* What apply did, as text; the exit code. */
static int report(struct cli_run *c, const struct engine_result *r, int ret,
		  const struct apply_args *a)
{
	print_probe(r->probe);
	cli_run_report(c);
	if (r->in_place && r->outcome != ENGINE_UNCHANGED && arg_verbose >= 0)
		printf("in place: %zu added, %zu removed, %zu renewed\n", r->added, r->deleted,
		       r->renewed);
	switch (r->outcome) {
	case ENGINE_UNCHANGED:
		/* The probe failed: the error says nothing changed. */
		if (r->probe_failed)
			break;
		if (!ret && arg_verbose >= 0 && r->renewed) {
			printf("unchanged (renewed %zu elements)\n", r->renewed);
			cli_say_changes(r, false);
		}
		else if (!ret && arg_verbose >= 0)
			puts("unchanged");
		break;
	case ENGINE_ADOPTED:
		say_generation(r, "adopt");
		if (arg_verbose >= 0)
			puts("adopted: the table already is what the policy asks for");
		break;
	case ENGINE_RECORDED:
		say_generation(r, "apply");
		if (arg_verbose >= 0)
			puts("recorded: the table already was what the policy asks for, but the "
			     "latest generation said otherwise");
		break;
	case ENGINE_REVERTED:
		say_generation(r, "revert");
		if (r->interrupted && arg_verbose >= 0)
			printf("reverted: interrupted before the probe was done\n");
		return ret ? APPLY_ERROR : APPLY_REVERTED;
	case ENGINE_CHANGED:
	case ENGINE_PENDING:
		say_generation(r, "apply");
		if (arg_verbose >= 0)
			cli_say_changes(r, !r->in_place);
		break;
	default:
		break;
	}
	if (ret)
		return APPLY_ERROR;
	/* Nothing changed (or only recorded), and no upstream answered. */
	if (r->probe_failed)
		return APPLY_PROBE_FAILED;
	if (r->outcome == ENGINE_PENDING)
		return pending(c, r, a->o.confirm);
	return cli_exit_for(ret, r);
}

static int dry_run(const struct engine *e, const struct engine_wanted *w, const char *path)
{
	char *label_live = cli_live_label(w);
	bool differs;
	int ret = diff_rulesets(e->live, w->rs, cli_is_iptables(w), label_live, path, stdout,
				&differs);

	free(label_live);
	if (ret < 0) {
		cli_error("diff: %s", strerror(-ret));
		return APPLY_ERROR;
	}
	if (!differs && arg_verbose >= 0)
		puts("unchanged");
	return differs ? APPLY_WOULD_CHANGE : APPLY_OK;
}

static int apply(struct cli_run *c, const struct apply_args *a, const char *path)
{
	struct engine *e = &c->e;
	struct engine_result r = { 0 };
	struct engine_wanted w = { 0 };
	int ret, rc;

	ret = a->dry_run ? engine_state_open(e, ENGINE_STATE_READ) : cli_state_lock(c);
	if (!ret)
		ret = engine_wanted(e, path, false, &w);
	if (!ret)
		ret = engine_open(e, engine_backend_name(w.policy));
	if (!ret)
		ret = engine_read(e, w.rs->table);
	if (ret) {
		cli_run_report(c);
		engine_wanted_free(&w);
		return APPLY_ERROR;
	}
	if (a->dry_run) {
		if (engine_unmanaged(e, w.rs->table) && !ir_ruleset_equal(e->live, w.rs))
			cli_error("table inet %s was not made by ntpwall: apply would refuse it "
				  "without --replace-unmanaged", w.rs->table);
		cli_run_report(c);
		rc = dry_run(e, &w, path);
	} else {
		ret = engine_apply(e, &w, &a->o, &r);
		rc = report(c, &r, ret, a);
	}
	engine_result_free(&r);
	engine_wanted_free(&w);
	return rc;
}

int cmd_apply_main(int argc, char **argv)
{
	struct apply_args a = { 0 };
	struct cli_run c;
	int first, rc;

	first = cli_parse(argc, argv,
			  "ntpwall apply POLICY [--dry-run] [--probe] [--confirm SECONDS] [--keep N] "
			  "[--replace-unmanaged] [--force-backend]",
			  apply_opts, apply_opt, &a);
	if (first < 0)
		return first == -2 ? APPLY_OK : APPLY_ERROR;
	if (argc - first != 1) {
		cli_error("apply: expected one policy (usage: ntpwall apply POLICY)");
		return APPLY_ERROR;
	}
	if (a.dry_run && (a.o.confirm || a.o.probe)) {
		cli_error("apply: --dry-run changes nothing, so it takes no --confirm or --probe");
		return APPLY_ERROR;
	}
	cli_run_init(&c, a.keep);
	c.e.cfg.force_backend = a.force_backend;
	cli_signals_hold(&c);
	rc = apply(&c, &a, argv[first]);
	cli_run_fini(&c);
	return rc;
}
