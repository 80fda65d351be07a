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
	bool dry_run, probe;
	unsigned confirm;	/* seconds; 0 none */
	unsigned keep;
};

enum { OPT_DRY_RUN = 256, OPT_PROBE, OPT_CONFIRM, OPT_KEEP };

static const struct cli_option apply_opts[] = {
	{ "dry-run", OPT_DRY_RUN, NULL, "print the diff; exit 0 unchanged, 1 would change" },
	{ "probe", OPT_PROBE, NULL, "probe the upstreams through the new rules; revert if none answers" },
	{ "confirm", OPT_CONFIRM, "SECONDS", "revert unless confirmed within SECONDS" },
	{ "keep", OPT_KEEP, "N", "generations to keep (default 10 or $NTPWALL_KEEP)" },
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
	return bcli_restore(st, prev, "revert", state_keep_default(), false) ? EXIT_USAGE :
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
	int rc = EXIT_FINDINGS;

	if (!st)
		return EXIT_USAGE;
	if (state_pending_read(st, &p) == 0 && p.generation == gen) {
		rc = state_pending_clear(st) ? EXIT_USAGE : EXIT_OK;
		if (!rc)
			printf("confirmed generation %lu\n", gen);
	}
	state_close(st);
	return rc;
}

/* After the apply: the pending record, the watchdog, the prompt. The state
 * lock is released here so `ntpwall confirm` can run meanwhile. */
static int start_confirm(struct state *st, unsigned long gen, unsigned long prev,
			 unsigned seconds)
{
	struct state_pending p = { gen, prev, (int64_t)time(NULL) + seconds, 0 };
	pid_t wd;
	int rc;

	if (state_pending_write(st, &p) < 0) {
		cli_error("cannot write the pending-confirm record; reverting now");
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

static int apply_locked(struct state *st, struct live *l, const struct wanted *w,
			const struct apply_args *a)
{
	unsigned long prev = 0, gen;
	char *old;
	int rc;

	if ((a->confirm || a->probe) &&
	    previous_gen(st, l, bcli_backend_name(w->policy), a->keep, &prev))
		return EXIT_USAGE;
	old = bcli_managed_table(st, NULL);
	rc = bcli_make_live(l, w->rs, w->rs->table, old, renew_ms(w), true);
	free(old);
	if (rc)
		return rc;
	rc = bcli_record(st, bcli_gen_for(w, "apply"), a->keep, false);
	if (rc)
		return rc;
	gen = state_latest(st);
	if (a->probe && !probe_upstreams(w)) {
		cli_error("probe: no upstream answered through the new rules; reverting");
		return revert(st, prev);
	}
	if (a->confirm)
		return start_confirm(st, gen, prev, a->confirm);
	/* A plain apply settles any earlier pending confirmation. */
	(void)state_pending_clear(st);
	return EXIT_OK;
}

int cmd_apply_main(int argc, char **argv)
{
	struct apply_args a = { .keep = state_keep_default() };
	struct state *st = NULL;
	struct wanted w;
	struct live l = { 0 };
	int first, rc;

	first = cli_parse(argc, argv,
			  "ntpwall apply POLICY [--dry-run] [--probe] [--confirm SECONDS] [--keep N]",
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
	if (rc)
		goto out;
	if (!a.dry_run)
		rc = bcli_state_ensure(&st);
	if (rc)
		goto out;
	if (!(l.rs && ir_ruleset_equal(l.rs, w.rs)))
		rc = a.dry_run ? dry_run(&l, &w, argv[first]) : apply_locked(st, &l, &w, &a);
	else if (!a.dry_run)
		rc = renew_only(&l, &w);
	else if (arg_verbose >= 0)
		puts("unchanged");
out:
	bcli_close(&l);
	bcli_wanted_free(&w);
	state_close(st);
	return rc;
}
