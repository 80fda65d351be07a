/* ntpwall apply POLICY [--dry-run] [--probe] [--confirm SECONDS] [--keep N]:
 * resolve and compile the policy, compare with what the kernel has, and
 * when they differ make it live in one transaction (set elements changed in
 * place when nothing else differs, else a new table) and record a
 * generation. --confirm leaves a detached watchdog that reverts unless the
 * change is confirmed in time; it outlives the SSH session that started it. */
#include "backend_cli.h"
#include "cli.h"
#include "ntpwall/diff.h"
#include "ntpwall/probe.h"
#include "ntpwall/util.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct apply_args {
	bool dry_run, probe, replace_unmanaged;
	unsigned confirm;	/* seconds; 0 none */
	unsigned keep;
};

enum { OPT_DRY_RUN = 256, OPT_PROBE, OPT_CONFIRM, OPT_KEEP, OPT_REPLACE_UNMANAGED };

static const struct cli_option apply_opts[] = {
	{ "dry-run", OPT_DRY_RUN, NULL, "print the diff; exit 0 unchanged, 1 would change" },
	{ "probe", OPT_PROBE, NULL, "probe the upstreams through the new rules; revert if none answers" },
	{ "confirm", OPT_CONFIRM, "SECONDS", "revert unless confirmed within SECONDS" },
	{ "keep", OPT_KEEP, "N", "generations to keep (default 10 or $NTPWALL_KEEP)" },
	{ "replace-unmanaged", OPT_REPLACE_UNMANAGED, NULL,
	  "replace a table of that name ntpwall did not make (kept for rollback)" },
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
		a->probe = true;
		break;
	case OPT_CONFIRM:
		if (policy_parse_uint(arg, 1, 86400, &v)) {
			cli_error("--confirm '%s': expected seconds from 1 to 86400", arg);
			return -1;
		}
		a->confirm = (unsigned)v;
		break;
	case OPT_KEEP:
		return bcli_parse_keep(arg, &a->keep);
	case OPT_REPLACE_UNMANAGED:
		a->replace_unmanaged = true;
		break;
	}
	return 0;
}

/* true when at least one upstream answers with a good time through the
 * rules just applied. */
static bool probe_upstreams(const struct wanted *w)
{
	const struct resolved *r = w->resolved;
	struct probe_target *t = xcalloc(r->n_upstreams + 1, sizeof(*t));
	char (*names)[INET6_ADDRSTRLEN] = xcalloc(r->n_upstreams + 1, sizeof(*names));
	struct probe_options o = { .limits = w->policy->probe };
	struct probe_results *res = NULL;
	size_t ok = 0;

	for (size_t i = 0; i < r->n_upstreams; i++) {
		t[i].addr = r->upstreams[i].addr;
		t[i].name = policy_addr_str(&t[i].addr, names[i], sizeof(names[i]));
	}
	if (probe_run(t, r->n_upstreams, &o, &res) == 0) {
		for (size_t i = 0; i < res->n; i++) {
			if (res->v[i].status == PROBE_OK)
				ok++;
			if (arg_verbose >= 0)
				fprintf(stderr, "probe %s: %s%s%s\n", res->v[i].name,
					probe_status_str(res->v[i].status),
					res->v[i].reason[0] ? ": " : "", res->v[i].reason);
		}
	}
	probe_results_free(res);
	free(names);
	free(t);
	return ok > 0;
}

/* What to go back to: the generation equal to what is live now, 0 when
 * no table is live; a live table no generation holds is recorded first. */
static int previous_gen(struct state *st, const struct live *l, const char *backend,
			unsigned keep, unsigned long *prev)
{
	struct state_gen *g = bcli_latest(st);

	*prev = 0;
	if (!l->rs) {
		state_gen_free(g);
		return EXIT_OK;
	}
	if (g && g->rs && ir_ruleset_equal(g->rs, l->rs)) {
		*prev = g->number;
		state_gen_free(g);
		return EXIT_OK;
	}
	state_gen_free(g);
	g = state_gen_new("snapshot", backend);
	g->rs = ir_ruleset_clone(l->rs);
	if (bcli_record(st, g, keep + 1, true))
		return EXIT_USAGE;
	*prev = state_latest(st);
	return EXIT_OK;
}

/* Back to generation prev (0: no table): exit 1 when done, 2 when not. */
static int revert(struct state *st, unsigned long prev)
{
	return bcli_restore(st, prev, "revert", state_keep_default(), BCLI_FORCE) ? EXIT_USAGE :
										EXIT_FINDINGS;
}

static void sleep_until(int64_t deadline)
{
	for (;;) {
		int64_t now = time(NULL);

		if (now >= deadline)
			return;
		sleep((unsigned)(deadline - now));
	}
}

/* Double fork and setsid: the watchdog has no terminal, survives the
 * session's hangup and is reparented to init. Returns its pid or -errno. */
static pid_t spawn_watchdog(unsigned long gen, int64_t deadline)
{
	int pfd[2];
	pid_t child, wd = -1;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	fflush(NULL);
	child = fork();
	if (child < 0)
		return -errno;
	if (child == 0) {
		int fd;

		setsid();
		wd = fork();
		if (wd != 0) {
			(void)!write(pfd[1], &wd, sizeof(wd));
			_exit(0);
		}
		fd = open("/dev/null", O_RDWR | O_CLOEXEC);
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		/* Above all the state lock: the watchdog must not hold it. */
		close_range(3, ~0u, 0);
		signal(SIGHUP, SIG_IGN);
		sleep_until(deadline);
		_exit(bcli_revert_pending(gen, true));
	}
	close(pfd[1]);
	if (read(pfd[0], &wd, sizeof(wd)) != sizeof(wd))
		wd = -EIO;
	close(pfd[0]);
	waitpid(child, NULL, 0);
	return wd;
}

/* "keep? [y/N]" until the deadline; true only for y. */
static bool prompt_keep(int64_t deadline)
{
	struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
	char line[16];	/* one answer word */
	int64_t left = deadline - time(NULL);
	ssize_t n;

	fprintf(stderr, "keep the new rules? [y/N] (reverting in %llds) ", (long long)left);
	fflush(stderr);
	if (left <= 0 || poll(&p, 1, (int)(left * 1000)) <= 0) {
		fputc('\n', stderr);
		return false;
	}
	n = read(STDIN_FILENO, line, sizeof(line) - 1);
	if (n <= 0)
		return false;
	line[n] = '\0';
	return line[0] == 'y' || line[0] == 'Y';
}

static int confirm_now(unsigned long gen)
{
	struct state *st = bcli_state(false, true);
	struct state_pending p;
	bool live = false;
	int rc = EXIT_FINDINGS;

	if (!st)
		return EXIT_USAGE;
	if (state_pending_read(st, &p) == 0 && p.generation == gen) {
		rc = bcli_gen_live(st, gen, &live);
		if (!rc && !live) {
			cli_error("generation %lu is no longer what the kernel holds; nothing "
				  "confirmed", gen);
			rc = EXIT_USAGE;
		}
		if (!rc)
			rc = state_pending_clear(st) ? EXIT_USAGE : EXIT_OK;
		if (!rc)
			printf("confirmed generation %lu\n", gen);
	}
	state_close(st);
	return rc;
}

/* After the apply, whose pending record is written: the watchdog, the
 * prompt. The state lock is released here so `ntpwall confirm` can run
 * meanwhile. */
static int start_confirm(struct state *st, unsigned long gen, unsigned long prev,
			 unsigned seconds)
{
	struct state_pending p;
	pid_t wd;
	int rc;

	if (state_pending_read(st, &p) < 0 || p.generation != gen) {
		cli_error("cannot read the pending-confirm record back; reverting now");
		(void)state_pending_clear(st);
		return revert(st, prev);
	}
	wd = spawn_watchdog(gen, p.deadline);
	if (wd < 0) {
		cli_error("cannot start the watchdog: %s; reverting now", strerror(-wd));
		(void)state_pending_clear(st);
		return revert(st, prev);
	}
	p.watchdog = wd;
	(void)state_pending_write(st, &p);
	state_unlock(st);
	if (!isatty(STDIN_FILENO)) {
		if (arg_verbose >= 0)
			printf("reverting to %s in %us unless 'ntpwall confirm' runs\n",
			       prev ? "the previous generation" : "no table", seconds);
		return EXIT_OK;
	}
	if (prompt_keep(p.deadline)) {
		rc = confirm_now(gen);
	} else {
		rc = bcli_revert_pending(gen, false) ? EXIT_USAGE : EXIT_FINDINGS;
		if (rc == EXIT_FINDINGS && arg_verbose >= 0)
			printf("reverted\n");
	}
	bcli_stop_watchdog(wd);
	return rc;
}

/* An apply without --confirm keeps what it made live: an earlier pending
 * confirmation is settled and its watchdog stopped. */
static void settle_pending(struct state *st)
{
	struct state_pending p;

	if (state_pending_read(st, &p) < 0)
		return;
	if (state_pending_clear(st) == 0)
		bcli_stop_watchdog(p.watchdog);
}

static int dry_run(const struct live *l, const struct wanted *w, const char *path)
{
	char *label_live = xasprintf("table inet %s (live)", w->rs->table);
	bool differs;
	int ret = diff_rulesets(l->rs, w->rs, label_live, path, stdout, &differs);

	free(label_live);
	if (ret < 0) {
		cli_error("diff: %s", strerror(-ret));
		return EXIT_USAGE;
	}
	return differs ? EXIT_FINDINGS : EXIT_OK;
}

/* Elements from DNS with less than half their time left are renewed. */
static uint64_t renew_ms(const struct wanted *w)
{
	return w->policy->refresh.expire_ms / 2;
}

/* The live table already is what the policy asks for: only renew the DNS
 * elements that are running out. No new generation. */
static int renew_only(struct live *l, const struct wanted *w)
{
	struct ruleset_delta d = { 0 };
	bool replace;
	int rc = bcli_update(l, w->rs, renew_ms(w), &d, &replace);

	/* Only after a retry: someone changed more than elements meanwhile. */
	if (!rc && replace) {
		cli_error("table inet %s changed while its elements were renewed; nothing changed: "
			  "run apply again", w->rs->table);
		rc = EXIT_USAGE;
	}
	if (!rc && arg_verbose >= 0) {
		if (d.renewed)
			printf("unchanged (renewed %zu elements)\n", d.renewed);
		else
			puts("unchanged");
	}
	ruleset_delta_free(&d);
	return rc;
}

/* The recording of an apply failed after its commit: put back what was
 * live before (before: the table read under the policy's name; renamed:
 * the table had another name, which the latest generation holds), so the
 * kernel never runs rules no generation records. */
static int undo_commit(struct state *st, struct live *l, const struct wanted *w,
		       const struct ir_ruleset *before, const char *old)
{
	struct state_gen *latest = NULL;
	int rc = bcli_read(l, w->rs->table);

	if (!rc && old && strcmp(old, w->rs->table))
		latest = bcli_latest(st);
	/* A rename goes back under the old name, in one transaction. */
	if (!rc && latest && latest->rs)
		rc = bcli_make_live(l, latest->rs, latest->rs->table, w->rs->table, 0, false);
	else if (!rc)
		rc = bcli_make_live(l, before, w->rs->table, NULL, 0, false);
	state_gen_free(latest);
	if (rc)
		cli_error("table inet %s: could not undo the change either: the kernel holds rules "
			  "no generation records; run 'ntpwall apply' again once the state "
			  "directory has room", w->rs->table);
	return rc;
}

static void record_error(const char *what, int ret)
{
	cli_error("state directory %s: %s: %s", arg_state_dir, what, strerror(-ret));
}

/* Make w live with its generation (and, with --confirm, the pending record)
 * written ahead: a full state disk fails before the kernel is touched, and
 * a record that still cannot be published undoes the commit. *gen: the new
 * generation's number. */
static int commit_recorded(struct state *st, struct live *l, const struct wanted *w,
			   const struct apply_args *a, unsigned long prev, unsigned long *gen)
{
	struct state_prepared pg = { 0 }, pp = { 0 };
	struct state_gen *g = bcli_gen_for(w, "apply");
	struct ir_ruleset *before = l->rs ? ir_ruleset_clone(l->rs) : NULL;
	char *old = bcli_managed_table(st, NULL);
	int ret, rc = EXIT_USAGE;

	ret = state_prepare(st, g, &pg);
	if (ret) {
		record_error("writing the generation", ret);
		cli_error("nothing changed");
		goto out;
	}
	*gen = g->number;
	if (a->confirm) {
		struct state_pending p = { g->number, prev, (int64_t)time(NULL) + a->confirm, 0 };

		ret = state_pending_prepare(st, &p, &pp);
		if (ret) {
			record_error("writing the pending confirmation", ret);
			cli_error("nothing changed");
			goto out;
		}
	}
	rc = bcli_make_live(l, w->rs, w->rs->table, old, renew_ms(w), true);
	if (rc)
		goto out;
	ret = a->confirm ? state_publish(st, &pp, 0) : 0;
	if (!ret)
		ret = state_publish(st, &pg, a->keep);
	if (ret) {
		if (a->confirm)
			(void)state_pending_clear(st);
		record_error("recording the generation", ret);
		if (!undo_commit(st, l, w, before, old))
			cli_error("the change was undone; nothing changed");
		rc = EXIT_USAGE;
		goto out;
	}
	if (arg_verbose >= 0)
		printf("generation %lu (%s)\n", g->number, g->action);
out:
	state_discard(st, &pp);
	state_discard(st, &pg);
	ir_ruleset_free(before);
	state_gen_free(g);
	free(old);
	return rc;
}

static int apply_locked(struct state *st, struct live *l, const struct wanted *w,
			const struct apply_args *a, bool unmanaged)
{
	unsigned long prev = 0, gen = 0;
	int rc;

	/* Something to go back to: the live table, recorded first unless the
	 * latest generation already holds it. */
	if ((a->confirm || a->probe || unmanaged) &&
	    previous_gen(st, l, bcli_backend_name(w->policy), a->keep, &prev))
		return EXIT_USAGE;
	rc = commit_recorded(st, l, w, a, prev, &gen);
	if (rc)
		return rc;
	if (a->probe && !probe_upstreams(w)) {
		cli_error("probe: no upstream answered through the new rules; reverting");
		if (a->confirm)
			(void)state_pending_clear(st);
		return revert(st, prev);
	}
	if (a->confirm)
		return start_confirm(st, gen, prev, a->confirm);
	/* A plain apply settles any earlier pending confirmation. */
	settle_pending(st);
	return EXIT_OK;
}

/* The live table equals the policy's, but no generation says so: an
 * unmanaged table built from the policy (`ntpwall compile | nft -f -`), or
 * a crash between a commit and its record. Record it; the kernel is not
 * touched. */
static int record_live(struct state *st, const struct wanted *w, bool unmanaged, unsigned keep)
{
	int rc = bcli_record(st, bcli_gen_for(w, unmanaged ? "adopt" : "apply"), keep, false);

	if (!rc && arg_verbose >= 0)
		printf("%s\n", unmanaged ? "adopted: the table already is what the policy asks for" :
		       "recorded: the table already was what the policy asks for, but the latest "
		       "generation said otherwise");
	return rc;
}

/* The kernel already has w's rules. */
static int unchanged(struct state *st, struct live *l, const struct wanted *w,
		     const struct apply_args *a, bool unmanaged)
{
	struct state_gen *latest = unmanaged ? NULL : bcli_latest(st);
	bool recorded = !unmanaged && latest && latest->rs && ir_ruleset_equal(latest->rs, l->rs);
	int rc;

	state_gen_free(latest);
	if (!recorded)
		return record_live(st, w, unmanaged, a->keep);
	rc = renew_only(l, w);
	if (!rc && !a->confirm)
		settle_pending(st);
	return rc;
}

/* A table of the policy's name that no generation of this state directory
 * made (the host's own `table inet filter`, one made by hand): never
 * touched unless the operator says so and it can be restored exactly. */
static int check_unmanaged(const struct live *l, const struct wanted *w,
			   const struct apply_args *a)
{
	if (!a->replace_unmanaged) {
		cli_error("table inet %s exists and was not made by ntpwall (no generation in %s); "
			  "nothing changed: choose another 'table:' in the policy, or replace it "
			  "with 'apply --replace-unmanaged' (kept as a generation that 'ntpwall "
			  "rollback' restores)", w->rs->table, arg_state_dir);
		return EXIT_USAGE;
	}
	if (ir_ruleset_foreign(l->rs)) {
		cli_error("table inet %s holds rules or sets ntpwall cannot restore, so it cannot "
			  "be kept for rollback; nothing changed: choose another 'table:', or save "
			  "it ('nft list table inet %s') and delete it yourself", w->rs->table,
			  w->rs->table);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/* With the backend open and the live table read: decide and act. */
static int apply_read(struct state **st, struct live *l, const struct wanted *w,
		      const struct apply_args *a, const char *path)
{
	char *managed = *st ? bcli_managed_table(*st, NULL) : NULL;
	bool unmanaged = l->rs && (!managed || strcmp(managed, w->rs->table));
	bool same = l->rs && ir_ruleset_equal(l->rs, w->rs);
	int rc;

	free(managed);
	if (a->dry_run) {
		if (unmanaged && !same)
			cli_error("table inet %s was not made by ntpwall: apply would refuse it "
				  "without --replace-unmanaged", w->rs->table);
		if (!same)
			return dry_run(l, w, path);
		if (arg_verbose >= 0)
			puts("unchanged");
		return EXIT_OK;
	}
	if (unmanaged && !same && (rc = check_unmanaged(l, w, a)))
		return rc;
	rc = bcli_state_ensure(st);
	if (rc)
		return rc;
	if (same)
		return unchanged(*st, l, w, a, unmanaged);
	return apply_locked(*st, l, w, a, unmanaged);
}

int cmd_apply_main(int argc, char **argv)
{
	struct apply_args a = { .keep = state_keep_default() };
	struct state *st = NULL;
	struct wanted w;
	struct live l = { 0 };
	int first, rc;

	first = cli_parse(argc, argv,
			  "ntpwall apply POLICY [--dry-run] [--probe] [--confirm SECONDS] [--keep N] "
			  "[--replace-unmanaged]",
			  apply_opts, apply_opt, &a);
	if (first < 0)
		return first == -2 ? EXIT_OK : EXIT_USAGE;
	if (argc - first != 1) {
		cli_error("apply: expected one policy (usage: ntpwall apply POLICY)");
		return EXIT_USAGE;
	}
	if (a.dry_run && (a.confirm || a.probe)) {
		cli_error("apply: --dry-run changes nothing, so it takes no --confirm or --probe");
		return EXIT_USAGE;
	}
	if (!a.dry_run) {
		if (bcli_state_existing(&st))
			return EXIT_USAGE;
	} else if (state_open(arg_state_dir, false, &st) < 0) {
		st = NULL;
	}
	rc = bcli_wanted(argv[first], st, false, &w);
	if (rc)
		goto out;
	rc = bcli_open(bcli_backend_name(w.policy), &l);
	if (!rc)
		rc = bcli_read(&l, w.rs->table);
	if (!rc)
		rc = apply_read(&st, &l, &w, &a, argv[first]);
out:
	bcli_close(&l);
	bcli_wanted_free(&w);
	state_close(st);
	return rc;
}
