/* Shared steps of the changing commands: policy to wanted IR, backend
 * open/read, the compare-and-swap commit with bounded retries, recording a
 * generation, and reverting a pending --confirm (used by the prompt, the
 * watchdog and nothing else). */
#include "backend_cli.h"
#include "cli.h"
#include "ntpwall/compile.h"
#include "ntpwall/lint.h"
#include "ntpwall/util.h"

#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

void bcli_print_diags(const struct diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct diag *g = &d->v[i];

		if (g->loc.file && g->loc.line)
			fprintf(stderr, "%s:%u:%u: error: %s\n", g->loc.file, g->loc.line,
				g->loc.column, g->msg);
		else
			cli_error("%s", g->msg);
	}
}

/* The latest generation's resolved names (pool choices to keep), or NULL. */
static struct resolved *previous_resolved(struct state *st)
{
	struct state_gen *g = st ? bcli_latest(st) : NULL;
	struct resolved *r = NULL;

	if (g && g->resolved && resolve_from_json(g->resolved, &r))
		r = NULL;
	state_gen_free(g);
	return r;
}

/* Only a pool's choice depends on the previous result. */
static bool has_pool(const struct policy *p)
{
	for (size_t i = 0; i < p->n_upstreams; i++)
		if (p->upstreams[i].kind == POLICY_UPSTREAM_POOL)
			return true;
	return false;
}

int bcli_resolve(const struct policy *p, struct state *previous, bool keep_failed,
		 struct diags *d, struct resolved **out)
{
	struct resolve_options opt = { .keep_failed = keep_failed };
	char *seed = cli_machine_seed();
	int ret;

	if (has_pool(p) || keep_failed)
		opt.previous = previous_resolved(previous);
	opt.seed = seed;
	ret = resolve_policy(p, &opt, d, out);
	resolve_free((struct resolved *)opt.previous);
	free(seed);
	return ret;
}

int bcli_wanted(const char *path, struct state *previous, bool keep_failed, struct wanted *w)
{
	struct diags d;
	int ret, rc = EXIT_USAGE;

	memset(w, 0, sizeof(*w));
	diag_init(&d, 0);
	if (policy_load(path, &d, &w->policy))
		goto out;
	lint_policy(w->policy, &d);
	ret = bcli_resolve(w->policy, previous, keep_failed, &d, &w->resolved);
	if (ret) {
		/* An apply must never silently drop an upstream. */
		if (ret != -EINVAL)
			cli_error("%s: resolve: %s", path, strerror(-ret));
		cli_error("%s: not every name resolved; nothing changed", path);
		goto out;
	}
	if (compile_policy(w->policy, w->resolved, &d, &w->rs))
		goto out;
	rc = EXIT_OK;
out:
	diag_sort(&d);
	if (arg_verbose >= 0 || rc)
		report_diags(stderr, &d, REPORT_TEXT);
	diag_free(&d);
	if (rc)
		bcli_wanted_free(w);
	return rc;
}

void bcli_wanted_free(struct wanted *w)
{
	ir_ruleset_free(w->rs);
	resolve_free(w->resolved);
	policy_free(w->policy);
	memset(w, 0, sizeof(*w));
}

int bcli_open(const char *name, struct live *l)
{
	int ret;

	memset(l, 0, sizeof(*l));
	l->ops = backend_find(name);
	if (!l->ops) {
		cli_error("backend '%s' is not available", name);
		return EXIT_USAGE;
	}
	ret = l->ops->open(&l->b);
	if (ret < 0) {
		cli_error("%s: cannot talk to the kernel: %s%s", name, strerror(-ret),
			  ret == -EPERM ? " (needs root or CAP_NET_ADMIN)" : "");
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

int bcli_read(struct live *l, const char *table)
{
	int ret;

	ir_ruleset_free(l->rs);
	l->rs = NULL;
	ret = l->ops->read(l->b, table, &l->rs, &l->gen);
	if (ret == -ENOENT) {
		/* The table is absent; the generation still comes from the read. */
		return l->ops->generation(l->b, &l->gen) < 0 ? EXIT_USAGE : EXIT_OK;
	}
	if (ret < 0) {
		cli_error("reading table inet %s: %s", table, strerror(-ret));
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

void bcli_close(struct live *l)
{
	ir_ruleset_free(l->rs);
	if (l->ops && l->b)
		l->ops->close(l->b);
	memset(l, 0, sizeof(*l));
}

static void state_error(int ret)
{
	if (ret == -EPERM)
		cli_error("state directory %s: must belong to this user and not be writable by "
			  "group or others (chmod 700); refusing it", arg_state_dir);
	else
		cli_error("state directory %s: %s", arg_state_dir, strerror(-ret));
}

struct state *bcli_state(bool create, bool lock)
{
	struct state *st;
	int ret = state_open(arg_state_dir, create, &st);

	if (ret < 0) {
		state_error(ret);
		return NULL;
	}
	if (lock && (ret = state_lock(st)) < 0) {
		cli_error("state directory %s: lock: %s", arg_state_dir, strerror(-ret));
		state_close(st);
		return NULL;
	}
	return st;
}

int bcli_state_existing(struct state **st)
{
	int ret = state_open(arg_state_dir, false, st);

	if (ret == -ENOENT) {
		*st = NULL;
		return EXIT_OK;
	}
	if (ret < 0 || (ret = state_lock(*st)) < 0) {
		state_error(ret);
		state_close(*st);
		*st = NULL;
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

int bcli_state_ensure(struct state **st)
{
	if (!*st)
		*st = bcli_state(true, true);
	return *st ? EXIT_OK : EXIT_USAGE;
}

/* Test hook: pretend someone committed between the first read and send. */
static void test_stale_genid(struct live *l, int attempt)
{
	if (!attempt && getenv("NTPWALL_TEST_STALE_GENID"))
		l->gen.genid--;
}

/* The exit code for the last attempt's ret, said to the user; retried:
 * ret was an error worth another try (the retries ran out). */
static int outcome(int ret, bool retried, const char *table)
{
	if (retried) {
		cli_error("table inet %s: the ruleset kept changing under us; nothing changed",
			  table);
		return EXIT_USAGE;
	}
	if (ret < 0) {
		cli_error("table inet %s: the kernel refused the transaction; nothing changed",
			  table);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

int bcli_commit(struct live *l, const struct ir_ruleset *rs, const char *table,
		const char *old_table)
{
	int ret = -ERESTART;

	for (int i = 0; i < BACKEND_RETRIES && ret == -ERESTART; i++) {
		struct diags d;

		if (i && bcli_read(l, table))
			return EXIT_USAGE;
		test_stale_genid(l, i);
		diag_init(&d, 10);
		ret = rs ? l->ops->apply(l->b, rs, old_table, &l->gen, &d) :
			   l->ops->remove(l->b, table, &l->gen, &d);
		if (ret < 0 && ret != -ERESTART)
			bcli_print_diags(&d);
		diag_free(&d);
	}
	return outcome(ret, ret == -ERESTART, table);
}

int bcli_update(struct live *l, const struct ir_ruleset *rs, uint64_t renew_ms,
		struct ruleset_delta *delta, bool *replace)
{
	int ret = -ERESTART;

	*replace = false;
	/* An element that expired since the read is ENOENT: read and retry. */
	for (int i = 0; i < BACKEND_RETRIES && (ret == -ERESTART || ret == -ENOENT); i++) {
		struct diags d;

		if (i && bcli_read(l, rs->table))
			return EXIT_USAGE;
		ruleset_delta_free(delta);
		if (!l->rs || !ruleset_delta(l->rs, rs, renew_ms, delta)) {
			*replace = true;
			return EXIT_OK;
		}
		if (ruleset_delta_empty(delta))
			return EXIT_OK;
		test_stale_genid(l, i);
		diag_init(&d, 10);
		ret = l->ops->update(l->b, rs, delta, &l->gen, &d);
		if (ret < 0 && ret != -ERESTART && ret != -ENOENT)
			bcli_print_diags(&d);
		diag_free(&d);
	}
	return outcome(ret, ret == -ERESTART || ret == -ENOENT, rs->table);
}

int bcli_record(struct state *st, struct state_gen *g, unsigned keep, bool quiet)
{
	int ret = state_record(st, g, keep);

	if (ret < 0) {
		cli_error("state directory %s: writing a generation: %s", arg_state_dir,
			  strerror(-ret));
		state_gen_free(g);
		return EXIT_USAGE;
	}
	if (!quiet && arg_verbose >= 0)
		printf("generation %lu (%s)\n", g->number, g->action);
	state_gen_free(g);
	return EXIT_OK;
}

struct state_gen *bcli_latest(struct state *st)
{
	unsigned long n = state_latest(st);
	struct state_gen *g = NULL;
	char *err = NULL;

	if (n && state_load(st, n, &g, &err) < 0) {
		cli_error("state directory %s: generation %lu: %s", arg_state_dir, n,
			  err ? err : "unreadable");
		g = NULL;
	}
	free(err);
	return g;
}

int bcli_make_live(struct live *l, const struct ir_ruleset *rs, const char *table,
		   const char *old_table, uint64_t renew_ms, bool say)
{
	struct ruleset_delta d = { 0 };
	bool replace = true;
	int rc = EXIT_OK;

	if (rs && (!old_table || !strcmp(old_table, rs->table)))
		rc = bcli_update(l, rs, renew_ms, &d, &replace);
	if (!rc && replace)
		rc = bcli_commit(l, rs, table, old_table);
	else if (!rc && say && arg_verbose >= 0)
		printf("in place: %zu added, %zu removed, %zu renewed\n", d.added, d.deleted,
		       d.renewed);
	ruleset_delta_free(&d);
	return rc;
}

/* The generation to make live again for src (0: a removal), with its
 * action and source set as the new record wants them. */
static struct state_gen *restore_gen(struct state *st, unsigned long src, const char *action,
				     const struct state_gen *latest, bool quiet)
{
	struct state_gen *g = NULL;
	char *err = NULL;

	if (src && state_load(st, src, &g, &err) < 0) {
		if (!quiet)
			cli_error("generation %lu: %s", src, err ? err : "not found");
		free(err);
		return NULL;
	}
	if (!g)
		g = state_gen_new("remove", latest ? latest->backend : "nft");
	free(g->action);
	g->action = xstrdup(action);
	free(g->created);
	g->created = NULL;
	free(g->version);
	g->version = NULL;
	g->source = src;
	return g;
}

int bcli_restore(struct state *st, unsigned long src, const char *action, unsigned keep,
		 unsigned flags)
{
	struct state_gen *g, *latest = bcli_latest(st);
	char *managed = bcli_managed_table(st, latest);
	const char *table = managed ? managed : "ntpwall";
	bool quiet = flags & BCLI_QUIET;
	struct state_prepared pp = { 0 };
	struct live l;
	int ret, rc = EXIT_USAGE;

	g = restore_gen(st, src, action, latest, quiet);
	if (!g)
		goto out;
	if (g->rs)
		table = g->rs->table;
	/* Written ahead: a full disk stops a rollback before the kernel is
	 * touched. A revert goes on regardless: its deadline is a promise. */
	ret = state_prepare(st, g, &pp);
	if (ret && !(flags & BCLI_FORCE)) {
		cli_error("state directory %s: writing the generation: %s; nothing changed",
			  arg_state_dir, strerror(-ret));
		goto out;
	}
	rc = bcli_open(g->backend, &l);
	if (!rc)
		rc = bcli_read(&l, table);
	/* A removal of an absent table is a no-op but still a new generation. */
	if (!rc && (g->rs || l.rs))
		rc = bcli_make_live(&l, g->rs, table, managed, 0, false);
	bcli_close(&l);
	if (rc)
		goto out;
	ret = ret ? ret : state_publish(st, &pp, keep);
	if (ret) {
		if (!quiet)
			cli_error("state directory %s: the %s is live but could not be recorded: %s",
				  arg_state_dir, action, strerror(-ret));
		rc = EXIT_USAGE;
	} else if (!quiet && arg_verbose >= 0) {
		printf("generation %lu (%s)\n", g->number, g->action);
	}
out:
	state_discard(st, &pp);
	state_gen_free(g);
	state_gen_free(latest);
	free(managed);
	return rc;
}

int bcli_revert_pending(unsigned long gen, bool quiet)
{
	struct state_pending p;
	struct state *st;
	int rc = EXIT_OK;

	st = bcli_state(false, true);
	if (!st)
		return EXIT_USAGE;
	if (state_pending_read(st, &p) == 0 && p.generation == gen) {
		rc = bcli_restore(st, p.previous, "revert", state_keep_default(),
				  BCLI_FORCE | (quiet ? BCLI_QUIET : 0));
		/* The kernel is reverted even when the record could not be
		 * written: nothing is pending any more either way. */
		(void)state_pending_clear(st);
		syslog(rc ? LOG_ERR : LOG_WARNING, "reverted generation %lu to %s%lu%s", gen,
		       p.previous ? "generation " : "no table (", p.previous,
		       rc ? ": the revert could not be recorded or failed" :
		       p.previous ? "" : ")");
	}
	state_close(st);
	return rc;
}

int bcli_gen_live(struct state *st, unsigned long gen, bool *live)
{
	struct state_gen *g = NULL;
	char *err = NULL, *managed = NULL;
	struct live l;
	int rc;

	*live = false;
	if (state_load(st, gen, &g, &err) < 0) {
		cli_error("generation %lu: %s", gen, err ? err : "not found");
		free(err);
		return EXIT_USAGE;
	}
	if (!g->rs)
		managed = bcli_managed_table(st, NULL);
	rc = bcli_open(g->backend, &l);
	if (!rc)
		rc = bcli_read(&l, g->rs ? g->rs->table : managed ? managed : "ntpwall");
	if (!rc)
		*live = g->rs ? l.rs && ir_ruleset_equal(g->rs, l.rs) : !l.rs;
	bcli_close(&l);
	free(managed);
	state_gen_free(g);
	return rc;
}

void bcli_stop_watchdog(pid_t pid)
{
	char path[64], comm[32] = "";	/* /proc/<pid>/comm; comm is 16 bytes */
	FILE *f;

	if (pid <= 0)
		return;
	snprintf(path, sizeof(path), "/proc/%ld/comm", (long)pid);
	f = fopen(path, "re");
	if (!f)
		return;
	/* Only if the pid still names an ntpwall process (pids are reused). */
	if (fgets(comm, sizeof(comm), f) && !strncmp(comm, "ntpwall", 7))
		(void)kill(pid, SIGTERM);
	fclose(f);
}

char *bcli_managed_table(struct state *st, const struct state_gen *latest)
{
	unsigned long *nums;
	char *table = NULL;
	size_t n;

	/* A generation of 100,000 elements is megabytes of JSON: never load
	 * the one the caller has already. */
	if (latest && latest->rs)
		return xstrdup(latest->rs->table);
	if (state_list(st, &nums, &n) < 0)
		return NULL;
	while (n-- > 0 && !table) {
		struct state_gen *g;

		if (latest && nums[n] == latest->number)
			continue;
		if (state_load(st, nums[n], &g, NULL) < 0)
			continue;
		if (g->rs)
			table = xstrdup(g->rs->table);
		state_gen_free(g);
	}
	free(nums);
	return table;
}

int bcli_parse_keep(const char *s, unsigned *keep)
{
	unsigned long v;

	if (policy_parse_uint(s, 1, 100000, &v)) {
		cli_error("--keep '%s': expected a number from 1 to 100000", s);
		return -1;
	}
	*keep = (unsigned)v;
	return 0;
}

const char *bcli_backend_name(const struct policy *p)
{
	return p->backend == POLICY_BACKEND_NFT ? "nft" : "iptables";
}

/* Of resolve_to_json(), the names (with TTLs and the addresses they gave):
 * what resolve_from_json() needs for a stable pool choice next time. The
 * addresses themselves are in the ruleset already. */
static json_t *resolved_names(const struct wanted *w)
{
	/* Without the address list: 100,000 literal upstreams would cost
	 * 100,000 JSON objects only to be dropped. */
	struct resolved names_only = *w->resolved;
	json_t *all;

	names_only.upstreams = NULL;
	names_only.n_upstreams = 0;
	names_only.peers = NULL;
	names_only.n_peers = 0;
	all = resolve_to_json(&names_only, w->policy);
	json_t *names = json_object_get(all, "names");
	json_t *o = json_object();

	json_object_set(o, "names", names ? names : json_array());
	json_decref(all);
	return o;
}

struct state_gen *bcli_gen_for(const struct wanted *w, const char *action)
{
	struct state_gen *g = state_gen_new(action, bcli_backend_name(w->policy));

	g->policy_path = xstrdup(w->policy->path);
	g->policy_hash = xstrdup(w->policy->hash);
	g->resolved = resolved_names(w);
	g->rs = ir_ruleset_clone(w->rs);
	return g;
}
