/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Check suite for the engine (src/engine*.c) on the in-memory backend, run
 * without root: in place versus replace, every retry loop, unmanaged
 * tables, adoption, records written ahead of commits (a full disk is
 * RLIMIT_FSIZE in a forked child), crashes before and after a commit
 * (a forked child that _exits mid-operation), snapshots, restore, revert,
 * the --confirm watchdog, refresh and remove. */
#include "backend_mem.h"
#include "ntpwall/engine.h"
#include "ntpwall/util.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char dir[64], state_dir[96], run_dir[96];

/* Probe verdicts of the fake network: an address is OK iff listed. */
static const char *probe_ok[8];

static int fake_probe(const struct engine_net *n, const struct probe_target *t, size_t count,
		      const struct probe_options *o, struct probe_results **out)
{
	struct probe_results *r = xcalloc(1, sizeof(*r));

	r->v = xcalloc(count + 1, sizeof(*r->v));
	r->n = count;
	for (size_t i = 0; i < count; i++) {
		char buf[INET6_ADDRSTRLEN];
		bool ok = false;

		addr_str(&t[i].addr, buf, sizeof(buf));
		for (size_t j = 0; j < ARRAY_SIZE(probe_ok) && probe_ok[j]; j++)
			ok |= !strcmp(probe_ok[j], buf);
		r->v[i].name = xstrdup(t[i].name);
		r->v[i].addr = t[i].addr;
		r->v[i].status = ok ? PROBE_OK : PROBE_TIMEOUT;
		r->v[i].reason = xstrdup(ok ? "" : "no answer");
	}
	*out = r;
	return 0;
}

static int direct_resolve(const struct engine_net *n, const struct policy *p,
			  const struct resolve_options *o, struct diags *d, struct resolved **out)
{
	return engine_net_direct.resolve(n, p, o, d, out);
}

/* pool.test answers every one of these; the choice is the engine's. */
static const char *const pool_answers[] = {
	"203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4",
	"203.0.113.5", "203.0.113.6", "203.0.113.7", "203.0.113.8",
};

static int pool_resolve(const struct engine_net *n, const struct policy *p,
			const struct resolve_options *o, struct diags *d, struct resolved **out)
{
	struct resolved *r = xcalloc(1, sizeof(*r));
	struct resolve_name *nm;

	r->names = xcalloc(1, sizeof(*r->names));
	nm = &r->names[r->n_names++];
	nm->name = xstrdup("pool.test");
	nm->role = RESOLVE_ROLE_UPSTREAM;
	nm->n_found = ARRAY_SIZE(pool_answers);
	nm->found = xcalloc(nm->n_found, sizeof(*nm->found));
	for (size_t i = 0; i < nm->n_found; i++) {
		ck_assert_ptr_null(addr_parse(pool_answers[i], &nm->found[i].addr));
		nm->found[i].ttl = 130;
	}
	resolve_rechoose(r, p, o);
	*out = r;
	return 0;
}

static const struct engine_net fake_net = { direct_resolve, fake_probe, NULL };
static const struct engine_net pool_net = { pool_resolve, fake_probe, NULL };
static const struct engine_net *net = &fake_net;

/* A recording daemon: what the kernel's upstreams4 held when it was told,
 * and its verdicts on sources. */
struct rec_daemon {
	int syncs;
	char *content;			/* last content told */
	struct ir_ruleset *wall;	/* the kernel table when told */
	bool foreign;			/* check: the file is someone else's */
	bool down;			/* sync: the command fails */
	int forced;			/* syncs asked to run the command anyway */
	const char *unusable;		/* sources: this address is unusable */
	char state;			/* ... in this state ('?' or 'x') */
};

static struct rec_daemon rec;

static int rec_check(const struct daemon_state *s, struct diags *d)
{
	if (!rec.foreign)
		return 0;
	diag_add(d, NULL, DIAG_ERROR, NW505_DAEMON, "%s is someone else's", s->path);
	return -EEXIST;
}

static int rec_sync(const struct daemon_state *s, bool force, bool *changed, struct diags *d)
{
	*changed = !rec.content || !s->content || strcmp(rec.content, s->content);
	rec.forced += force;
	if (!*changed)
		return rec.down && force ? -ESRCH : 0;
	rec.syncs++;
	free(rec.content);
	rec.content = s->content ? xstrdup(s->content) : NULL;
	ir_ruleset_free(rec.wall);
	rec.wall = mem_table("t");
	return rec.down ? -ESRCH : 0;
}

static int rec_sources(const struct daemon_state *s, struct daemon_source **out, size_t *n,
		       struct diags *d)
{
	/* Every address the content names, usable but for rec.unusable. */
	const char *p = rec.content;

	*out = xcalloc(16, sizeof(**out));
	*n = 0;
	while (p && (p = strstr(p, "server ")) && *n < 16) {
		char addr[64];

		p += 7;
		if (sscanf(p, "%63s", addr) != 1 || addr_parse(addr, &(*out)[*n].addr))
			continue;
		(*out)[*n].usable = !rec.unusable || strcmp(addr, rec.unusable);
		(*out)[*n].state = (*out)[*n].usable ? '+' : rec.state;
		(*out)[*n].heard = (*out)[*n].usable || rec.state == 'x';
		(*out)[*n].reach = (*out)[*n].usable ? 0377 : 0;
		(*n)++;
	}
	return 0;
}

static const struct daemon_ops rec_ops = { rec_check, rec_sync, rec_sources };

static const char *const POLICY_A =
	"version: 1\ntable: t\nupstreams:\n  - server: 192.0.2.1\n  - server: 192.0.2.2\n"
	"  - server: 192.0.2.3\n  - server: \"2001:db8::1\"\nrestrict:\n  version: [4]\n";

static char *policy(const char *name, const char *text)
{
	char *path = xasprintf("%s/%s.yaml", dir, name);
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	return path;
}

/* A with one edit: from -> to (the first occurrence). */
static char *policy_edit(const char *name, const char *from, const char *to)
{
	const char *at = strstr(POLICY_A, from);
	char *text, *path;

	ck_assert_ptr_nonnull(at);
	text = xasprintf("%.*s%s%s", (int)(at - POLICY_A), POLICY_A, to, at + strlen(from));
	path = policy(name, text);
	free(text);
	return path;
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/ntpwall-engine.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(state_dir, sizeof(state_dir), "%s/state", dir);
	snprintf(run_dir, sizeof(run_dir), "%s/run", dir);
	mem_reset();
	memset(probe_ok, 0, sizeof(probe_ok));
	memset(&rec, 0, sizeof(rec));
	net = &fake_net;
}

static void rm_rf(const char *path)
{
	char *cmd = xasprintf("rm -rf '%s'", path);

	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
}

static void teardown(void)
{
	rm_rf(dir);
	free(rec.content);
	ir_ruleset_free(rec.wall);
}

struct run {
	struct engine e;
	struct diags d;
	struct engine_result r;
	struct engine_wanted w;
};

static void run_init(struct run *x)
{
	struct engine_config cfg = {
		.state_dir = state_dir, .run_dir = run_dir, .backend = &backend_mem_ops, .net = net,
		.daemon = &rec_ops,
	};

	memset(x, 0, sizeof(*x));
	diag_init(&x->d, 0);
	engine_init(&x->e, &cfg, &x->d);
}

static void run_fini(struct run *x)
{
	engine_result_free(&x->r);
	engine_wanted_free(&x->w);
	engine_fini(&x->e);
	diag_free(&x->d);
}

/* As `ntpwall apply` calls the engine. Returns the engine's result;
 * *out (may be NULL) gets the outcome. */
static int apply_opts(const char *path, const struct engine_apply_opts *o,
		      struct engine_result *out)
{
	struct run x;
	int ret;

	run_init(&x);
	ret = engine_state_open(&x.e, ENGINE_STATE_LOCK);
	if (!ret)
		ret = engine_expire_pending(&x.e, &x.r);
	engine_result_free(&x.r);
	if (!ret)
		ret = engine_wanted(&x.e, path, false, &x.w);
	if (!ret)
		ret = engine_open(&x.e, engine_backend_name(x.w.policy));
	if (!ret)
		ret = engine_read(&x.e, x.w.rs->table);
	if (!ret)
		ret = engine_apply(&x.e, &x.w, o, &x.r);
	if (out) {
		*out = x.r;
		memset(&x.r, 0, sizeof(x.r));
	}
	run_fini(&x);
	return ret;
}

static int apply(const char *path, enum engine_outcome *outcome)
{
	struct engine_apply_opts o = { 0 };
	struct engine_result r;
	int ret = apply_opts(path, &o, &r);

	if (outcome)
		*outcome = r.outcome;
	engine_result_free(&r);
	return ret;
}

static int refresh(const char *path, bool probe, struct engine_result *out)
{
	struct run x;
	int ret;

	run_init(&x);
	ret = engine_state_open(&x.e, ENGINE_STATE_LOCK);
	if (!ret)
		ret = engine_wanted(&x.e, path, true, &x.w);
	if (!ret)
		ret = engine_open(&x.e, engine_backend_name(x.w.policy));
	if (!ret)
		ret = engine_read(&x.e, x.w.rs->table);
	if (!ret)
		ret = engine_refresh(&x.e, &x.w, probe, &x.r);
	*out = x.r;
	memset(&x.r, 0, sizeof(x.r));
	run_fini(&x);
	return ret;
}

enum op { OP_ROLLBACK, OP_REMOVE, OP_CONFIRM };

static int status_of(struct engine_status *s)
{
	struct run x;
	int ret;

	run_init(&x);
	ret = engine_state_open(&x.e, ENGINE_STATE_READ);
	if (!ret)
		ret = engine_status(&x.e, NULL, s);
	run_fini(&x);
	return ret;
}

static int simple_revert(unsigned long gen)
{
	struct engine_result r;
	struct run x;
	int ret;

	run_init(&x);
	ret = engine_revert_pending(&x.e, gen, &r);
	engine_result_free(&r);
	run_fini(&x);
	return ret;
}

static int simple(enum op op, unsigned long arg)
{
	struct run x;
	int ret;

	run_init(&x);
	ret = engine_state_open(&x.e, ENGINE_STATE_LOCK);
	if (!ret && op == OP_ROLLBACK)
		ret = x.e.st ? engine_rollback(&x.e, arg, &x.r) : -ENOENT;
	else if (!ret && op == OP_REMOVE)
		ret = engine_remove(&x.e, NULL, &x.r);
	else if (!ret)
		ret = engine_confirm(&x.e, arg, &x.r);
	run_fini(&x);
	return ret;
}

/* The compiled ruleset of the policy at path, as apply would make it. */
static struct ir_ruleset *compiled(const char *path)
{
	struct run x;
	struct ir_ruleset *rs;

	run_init(&x);
	ck_assert_int_eq(engine_wanted(&x.e, path, false, &x.w), 0);
	rs = ir_ruleset_clone(x.w.rs);
	run_fini(&x);
	return rs;
}

/* Whether the kernel's table t equals the policy at path. */
static bool live_is(const char *path)
{
	struct ir_ruleset *want = compiled(path), *live = mem_table(want->table);
	bool same = live && ir_ruleset_equal(live, want);

	ir_ruleset_free(live);
	ir_ruleset_free(want);
	return same;
}

/* Files in the state directory whose name starts with prefix. */
static int count_files(const char *prefix)
{
	DIR *d = opendir(state_dir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		n += !strncmp(de->d_name, prefix, strlen(prefix));
	closedir(d);
	return n;
}

static char *latest_action(void)
{
	struct state *st;
	struct state_gen *g = NULL;
	char *a;

	ck_assert_int_eq(state_open(state_dir, false, &st), 0);
	ck_assert_int_eq(state_load(st, state_latest(st), &g, NULL), 0);
	a = xstrdup(g->action);
	state_gen_free(g);
	state_close(st);
	return a;
}

static bool has_pending(void)
{
	char *p = xasprintf("%s/pending-confirm.json", state_dir);
	bool there = access(p, F_OK) == 0;

	free(p);
	return there;
}

/* Run fn in a child with a fault; the child's exit status. */
static int in_child(int (*fn)(const char *), const char *arg, rlim_t fsize)
{
	pid_t pid = fork();
	int status;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (fsize) {
			struct rlimit rl = { fsize, fsize };

			signal(SIGXFSZ, SIG_IGN);
			setrlimit(RLIMIT_FSIZE, &rl);
		}
		_exit(fn(arg) ? 1 : 0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int apply_plain(const char *path)
{
	return apply(path, NULL);
}

START_TEST(apply_records_and_is_idempotent)
{
	char *a = policy("a", POLICY_A);
	enum engine_outcome out;

	ck_assert_int_eq(apply(a, &out), 0);
	ck_assert_int_eq(out, ENGINE_CHANGED);
	ck_assert(live_is(a));
	ck_assert_int_eq(count_files("gen-"), 1);
	ck_assert_uint_eq(mem_commits(), 1);
	ck_assert_int_eq(apply(a, &out), 0);
	ck_assert_int_eq(out, ENGINE_UNCHANGED);
	ck_assert_uint_eq(mem_commits(), 1);
	ck_assert_int_eq(count_files("gen-"), 1);
	free(a);
}
END_TEST

START_TEST(elements_change_in_place_rules_replace)
{
	char *a = policy("a", POLICY_A), *b = policy_edit("b", "192.0.2.3", "192.0.2.4");
	char *c = policy_edit("c", "restrict:", "otherwise: reject\nrestrict:");
	struct engine_apply_opts o = { 0 };
	struct engine_result r;
	struct ir_ruleset *live;

	ck_assert_int_eq(apply(a, NULL), 0);
	live = mem_table("t");
	live->chains[0].rules[0].packets = 42;
	mem_put(live);
	ir_ruleset_free(live);
	ck_assert_int_eq(apply_opts(b, &o, &r), 0);
	ck_assert(r.in_place);
	ck_assert_uint_eq(r.added, 1);
	ck_assert_uint_eq(r.deleted, 1);
	engine_result_free(&r);
	ck_assert(live_is(b));
	live = mem_table("t");
	ck_assert_uint_eq(live->chains[0].rules[0].packets, 42);	/* counters kept */
	ir_ruleset_free(live);
	ck_assert_int_eq(apply_opts(c, &o, &r), 0);
	ck_assert(!r.in_place);
	engine_result_free(&r);
	ck_assert(live_is(c));
	live = mem_table("t");
	ck_assert_uint_eq(live->chains[0].rules[0].packets, 0);
	ir_ruleset_free(live);
	free(a);
	free(b);
	free(c);
}
END_TEST

/* Someone else commits between our read and our batch: re-read, retry;
 * past BACKEND_RETRIES, give up having changed nothing. Both loops. */
START_TEST(stale_generation_retried_then_given_up)
{
	char *a = policy("a", POLICY_A), *b = policy_edit("b", "192.0.2.3", "192.0.2.4");
	char *c = policy_edit("c", "restrict:", "otherwise: reject\nrestrict:");

	mem_faults.stale = 1;
	ck_assert_int_eq(apply(a, NULL), 0);
	ck_assert(live_is(a));
	mem_faults.stale = 1;
	mem_faults.expire = 1;
	ck_assert_int_eq(apply(b, NULL), 0);		/* in place, two retries */
	ck_assert(live_is(b));
	mem_faults.stale = BACKEND_RETRIES;
	ck_assert_int_eq(apply(c, NULL), -EAGAIN);	/* replace loop */
	ck_assert(live_is(b));
	mem_faults.stale = BACKEND_RETRIES;
	mem_faults.expire = BACKEND_RETRIES;
	ck_assert_int_eq(apply(a, NULL), -EAGAIN);	/* update loop: kept changing */
	ck_assert(live_is(b));
	ck_assert_int_eq(count_files("gen-"), 2);
	ck_assert_int_eq(count_files("."), 2);		/* "." and "..": no temporaries */
	/* An element the kernel never has (a set edited by hand): in place is
	 * impossible, the table is replaced instead. */
	mem_faults.expire = BACKEND_RETRIES;
	ck_assert_int_eq(apply(a, NULL), 0);
	ck_assert(live_is(a));
	free(a);
	free(b);
	free(c);
}
END_TEST

START_TEST(kernel_refusal_changes_nothing)
{
	char *a = policy("a", POLICY_A), *c = policy_edit("c", "restrict:", "otherwise: reject\nrestrict:");

	ck_assert_int_eq(apply(a, NULL), 0);
	mem_faults.refuse = 1;
	ck_assert_int_eq(apply(c, NULL), -EINVAL);
	ck_assert(live_is(a));
	ck_assert_int_eq(count_files("gen-"), 1);
	ck_assert_int_eq(count_files("."), 2);
	free(a);
	free(c);
}
END_TEST

START_TEST(unmanaged_table_refused_adopted_or_replaced)
{
	char *a = policy("a", POLICY_A), *b = policy_edit("b", "192.0.2.3", "192.0.2.4");
	struct engine_apply_opts o = { .replace_unmanaged = true };
	struct ir_ruleset *rb = compiled(b), *live;
	enum engine_outcome out;
	char *act;

	mem_put(rb);
	ck_assert_int_eq(apply(a, NULL), -EEXIST);
	ck_assert(live_is(b));
	ck_assert_int_eq(access(state_dir, F_OK), -1);	/* no state directory made */
	ck_assert_int_eq(apply(b, &out), 0);		/* equal: adopted, no commit */
	ck_assert_int_eq(out, ENGINE_ADOPTED);
	ck_assert_uint_eq(mem_commits(), 0);
	act = latest_action();
	ck_assert_str_eq(act, "adopt");
	free(act);
	rm_rf(state_dir);
	ck_assert_int_eq(apply_opts(a, &o, NULL), 0);	/* replaced, kept for rollback */
	ck_assert(live_is(a));
	ck_assert_int_eq(count_files("gen-"), 2);
	ck_assert_int_eq(simple(OP_ROLLBACK, 0), 0);
	live = mem_table("t");
	ck_assert(ir_ruleset_equal(live, rb));
	ir_ruleset_free(live);
	/* Something the rule model cannot express cannot be restored. */
	rm_rf(state_dir);
	rb->chains[0].rules[0].unknown = xstrdup("[ meta iif ]");
	mem_put(rb);
	ck_assert_int_eq(apply_opts(a, &o, NULL), -EEXIST);
	live = mem_table("t");
	ck_assert(ir_ruleset_equal(live, rb));
	ir_ruleset_free(live);
	ir_ruleset_free(rb);
	free(a);
	free(b);
}
END_TEST

/* A crash after the commit, before the record: the next apply records
 * what is live; a crash before the commit: the next apply commits. */
START_TEST(crash_points_recovered_by_the_next_apply)
{
	char *a = policy("a", POLICY_A), *b = policy_edit("b", "192.0.2.3", "192.0.2.4");
	char *c = policy_edit("c", "restrict:", "otherwise: reject\nrestrict:");
	enum engine_outcome out;

	ck_assert_int_eq(apply(a, NULL), 0);
	mem_faults.crash_after = 1;
	ck_assert_int_eq(in_child(apply_plain, c, 0), 99);
	mem_faults.crash_after = 0;
	ck_assert(live_is(c));
	ck_assert_int_eq(count_files("gen-"), 1);
	ck_assert_int_eq(apply(c, &out), 0);
	ck_assert_int_eq(out, ENGINE_RECORDED);
	ck_assert_int_eq(count_files("gen-"), 2);
	ck_assert_int_eq(simple(OP_ROLLBACK, 0), 0);
	ck_assert(live_is(a));
	mem_faults.crash_before = 1;
	ck_assert_int_eq(in_child(apply_plain, b, 0), 99);
	mem_faults.crash_before = 0;
	ck_assert(live_is(a));
	ck_assert_int_eq(apply(b, &out), 0);
	ck_assert_int_eq(out, ENGINE_CHANGED);
	ck_assert(live_is(b));
	free(a);
	free(b);
	free(c);
}
END_TEST

/* RLIMIT_FSIZE stands in for a full disk: every state write fails. */
START_TEST(full_disk_changes_nothing)
{
	char *a = policy("a", POLICY_A), *c = policy_edit("c", "restrict:", "otherwise: reject\nrestrict:");
	unsigned commits;

	ck_assert_int_eq(apply(a, NULL), 0);
	commits = mem_commits();
	ck_assert_int_eq(in_child(apply_plain, c, 16), 1);
	ck_assert_uint_eq(mem_commits(), commits);
	ck_assert(live_is(a));
	ck_assert_int_eq(count_files("gen-"), 1);
	ck_assert_int_eq(count_files("."), 2);
	free(a);
	free(c);
}
END_TEST

static int rollback_child(const char *unused)
{
	return simple(OP_ROLLBACK, 0);
}

START_TEST(full_disk_stops_rollback)
{
	char *a = policy("a", POLICY_A), *b = policy_edit("b", "192.0.2.3", "192.0.2.4");

	ck_assert_int_eq(apply(a, NULL), 0);
	ck_assert_int_eq(apply(b, NULL), 0);
	ck_assert_int_eq(in_child(rollback_child, NULL, 16), 1);
	ck_assert(live_is(b));
	ck_assert_int_eq(simple(OP_ROLLBACK, 0), 0);
	ck_assert(live_is(a));
	free(a);
	free(b);
}
END_TEST

START_TEST(probe_failure_reverts)
{
	char *a = policy("a", POLICY_A), *b = policy_edit("b", "192.0.2.3", "192.0.2.4");
	struct engine_apply_opts o = { .probe = true };
	struct engine_result r;

	/* No previous table: the revert removes it. */
	ck_assert_int_eq(apply_opts(a, &o, &r), 0);
	ck_assert_int_eq(r.outcome, ENGINE_REVERTED);
	ck_assert_ptr_nonnull(r.probe);
	engine_result_free(&r);
	ck_assert_ptr_null(mem_table("t"));
	ck_assert_int_eq(apply(a, NULL), 0);
	ck_assert_int_eq(apply_opts(b, &o, &r), 0);
	ck_assert_int_eq(r.outcome, ENGINE_REVERTED);
	engine_result_free(&r);
	ck_assert(live_is(a));
	probe_ok[0] = "192.0.2.4";
	ck_assert_int_eq(apply_opts(b, &o, &r), 0);
	ck_assert_int_eq(r.outcome, ENGINE_CHANGED);
	engine_result_free(&r);
	ck_assert(live_is(b));
	free(a);
	free(b);
}
END_TEST

/* apply --probe with nothing to change still probes; when no upstream
 * answers there is nothing to revert: r.probe_failed, and an error that
 * says nothing changed. */
START_TEST(probe_when_unchanged)
{
	char *a = policy("a", POLICY_A);
	struct engine_apply_opts o = { .probe = true };
	struct engine_result r;
	struct run x;
	uint32_t genid;

	ck_assert_int_eq(apply(a, NULL), 0);
	genid = mem_genid();
	ck_assert_int_eq(apply_opts(a, &o, &r), 0);
	ck_assert_int_eq(r.outcome, ENGINE_UNCHANGED);
	ck_assert_ptr_nonnull(r.probe);
	ck_assert_uint_eq(r.probe->n, 4);
	ck_assert(r.probe_failed);
	ck_assert_uint_eq(r.generation, 0);
	engine_result_free(&r);
	ck_assert_uint_eq(mem_genid(), genid);
	/* The error is there for the command to print. */
	run_init(&x);
	ck_assert_int_eq(engine_state_open(&x.e, ENGINE_STATE_LOCK), 0);
	ck_assert_int_eq(engine_wanted(&x.e, a, false, &x.w), 0);
	ck_assert_int_eq(engine_open(&x.e, "nft"), 0);
	ck_assert_int_eq(engine_read(&x.e, x.w.rs->table), 0);
	ck_assert_int_eq(engine_apply(&x.e, &x.w, &o, &x.r), 0);
	ck_assert_uint_eq(x.d.errors, 1);
	ck_assert_ptr_nonnull(strstr(x.d.v[x.d.n - 1].msg, "nothing changed; no upstream answered"));
	run_fini(&x);
	probe_ok[0] = "192.0.2.1";
	ck_assert_int_eq(apply_opts(a, &o, &r), 0);
	ck_assert_int_eq(r.outcome, ENGINE_UNCHANGED);
	ck_assert(!r.probe_failed);
	ck_assert_ptr_nonnull(r.probe);
	engine_result_free(&r);
	ck_assert_uint_eq(mem_genid(), genid);
	free(a);
}
END_TEST

/* A live table no generation holds is recorded before a --probe or
 * --confirm apply, so that the revert brings it back. */
START_TEST(snapshot_before_a_revertible_apply)
{
	char *a = policy("a", POLICY_A), *b = policy_edit("b", "192.0.2.3", "192.0.2.4");
	struct engine_apply_opts o = { .probe = true };
	struct ir_ruleset *drifted, *live;
	struct addr x;

	ck_assert_int_eq(apply(a, NULL), 0);
	drifted = mem_table("t");
	ck_assert_ptr_null(addr_parse("192.0.2.9", &x));
	ir_set_add_elem(ir_set_find(drifted, "upstreams4"), &x, 32, NULL);
	ir_set_sort(ir_set_find(drifted, "upstreams4"));
	mem_put(drifted);
	ck_assert_int_eq(apply_opts(b, &o, NULL), 0);
	live = mem_table("t");
	ck_assert(ir_ruleset_equal(live, drifted));
	ir_ruleset_free(live);
	ir_ruleset_free(drifted);
	free(a);
	free(b);
}
END_TEST

static bool wait_for(bool (*cond)(const char *), const char *arg)
{
	for (int i = 0; i < 100; i++) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };

		if (cond(arg))
			return true;
		nanosleep(&ts, NULL);
	}
	return false;
}

static bool no_pending(const char *unused)
{
	return !has_pending();
}

START_TEST(confirm_watchdog_reverts_at_the_deadline)
{
	char *a = policy("a", POLICY_A), *b = policy_edit("b", "192.0.2.3", "192.0.2.4");
	struct engine_apply_opts o = { .confirm = 1 };
	struct engine_result r;
	char *act;

	ck_assert_int_eq(apply(a, NULL), 0);
	ck_assert_int_eq(apply_opts(b, &o, &r), 0);
	ck_assert_int_eq(r.outcome, ENGINE_PENDING);
	ck_assert_int_gt(r.watchdog, 0);
	ck_assert(live_is(b));
	ck_assert(has_pending());
	ck_assert(wait_for(no_pending, NULL));
	ck_assert(live_is(a));
	act = latest_action();
	ck_assert_str_eq(act, "revert");
	free(act);
	engine_result_free(&r);
	free(a);
	free(b);
}
END_TEST

START_TEST(confirm_keeps_only_what_is_live)
{
	char *a = policy("a", POLICY_A), *b = policy_edit("b", "192.0.2.3", "192.0.2.4");
	struct engine_apply_opts o = { .confirm = 30 };
	struct engine_result r;
	struct ir_ruleset *ra = compiled(a);
	int status;

	ck_assert_int_eq(apply(a, NULL), 0);
	ck_assert_int_eq(apply_opts(b, &o, &r), 0);
	engine_result_free(&r);
	mem_put(ra);					/* someone put A back */
	ck_assert_int_eq(simple(OP_CONFIRM, 0), -ESTALE);
	ck_assert(has_pending());
	ck_assert_int_eq(apply(b, NULL), 0);		/* a plain apply settles it */
	ck_assert(!has_pending());
	ck_assert_int_eq(simple(OP_CONFIRM, 0), -ENOENT);
	ck_assert_int_eq(apply_opts(a, &o, &r), 0);
	ck_assert_int_eq(simple(OP_CONFIRM, r.generation), 0);
	ck_assert(!has_pending());
	/* The watchdog was stopped (a grandchild, reaped by init). */
	status = kill(r.watchdog, 0);
	for (int i = 0; i < 50 && status == 0; i++) {
		usleep(100000);
		status = kill(r.watchdog, 0);
	}
	ck_assert_int_eq(status, -1);
	engine_result_free(&r);
	ir_ruleset_free(ra);
	free(a);
	free(b);
}
END_TEST

/* The watchdog's revert goes ahead when its record cannot be written. */
static int revert_child(const char *gen)
{
	struct run x;
	int ret;

	run_init(&x);
	ret = engine_revert_pending(&x.e, strtoul(gen, NULL, 10), &x.r);
	run_fini(&x);
	return ret;
}

START_TEST(forced_revert_without_its_record)
{
	char *a = policy("a", POLICY_A), *b = policy_edit("b", "192.0.2.3", "192.0.2.4");
	struct engine_apply_opts o = { .confirm = 30 };
	struct engine_result r;
	enum engine_outcome out;
	char gen[24];

	ck_assert_int_eq(apply(a, NULL), 0);
	ck_assert_int_eq(apply_opts(b, &o, &r), 0);
	engine_stop_watchdog(r.watchdog, 0);
	kill(r.watchdog, SIGKILL);
	snprintf(gen, sizeof(gen), "%lu", r.generation);
	ck_assert_int_eq(in_child(revert_child, gen, 16), 1);
	ck_assert(live_is(a));
	ck_assert(!has_pending());
	ck_assert_int_eq(count_files("gen-"), 2);	/* the revert is not recorded */
	ck_assert_int_eq(apply(a, &out), 0);		/* the next apply records it */
	ck_assert_int_eq(out, ENGINE_RECORDED);
	engine_result_free(&r);
	free(a);
	free(b);
}
END_TEST

/* The watchdog was killed: the deadline still holds, kept by the next
 * command that changes state. */
START_TEST(expired_confirmation_reverted_by_the_next_command)
{
	char *a = policy("a", POLICY_A), *b = policy_edit("b", "192.0.2.3", "192.0.2.4");
	char *c = policy_edit("c", "192.0.2.2", "192.0.2.5");
	struct engine_apply_opts o = { .confirm = 1 };
	struct engine_result r;
	struct engine_status st;

	ck_assert_int_eq(apply(a, NULL), 0);
	ck_assert_int_eq(apply_opts(b, &o, &r), 0);
	kill(r.watchdog, SIGKILL);
	engine_result_free(&r);
	sleep(2);
	ck_assert(live_is(b));			/* nobody reverted */
	ck_assert_int_eq(status_of(&st), 0);
	ck_assert(st.pending_expired && st.attention);
	engine_status_free(&st);
	ck_assert_int_eq(apply(c, NULL), 0);	/* reverts to a first, then applies c */
	ck_assert(live_is(c));
	ck_assert(!has_pending());
	ck_assert_int_eq(simple(OP_ROLLBACK, 0), 0);	/* the one before c is the revert: a */
	ck_assert(live_is(a));
	free(a);
	free(b);
	free(c);
}
END_TEST

/* Two --confirm in a row: the revert goes to what was confirmed last. */
START_TEST(second_confirm_reverts_to_the_last_confirmed)
{
	char *a = policy("a", POLICY_A), *b = policy_edit("b", "192.0.2.3", "192.0.2.4");
	char *c = policy_edit("c", "192.0.2.2", "192.0.2.5");
	struct engine_apply_opts o = { .confirm = 30 };
	struct engine_result r1, r2;
	int status;

	ck_assert_int_eq(apply(a, NULL), 0);
	ck_assert_int_eq(apply_opts(b, &o, &r1), 0);
	ck_assert_int_eq(apply_opts(c, &o, &r2), 0);
	/* The first watchdog is gone: the second one owns the deadline. */
	status = kill(r1.watchdog, 0);
	for (int i = 0; i < 50 && status == 0; i++) {
		usleep(100000);
		status = kill(r1.watchdog, 0);
	}
	ck_assert_int_eq(status, -1);
	ck_assert_int_eq(simple_revert(r2.generation), 0);
	ck_assert(live_is(a));
	kill(r2.watchdog, SIGKILL);
	engine_result_free(&r1);
	engine_result_free(&r2);
	free(a);
	free(b);
	free(c);
}
END_TEST

/* A damaged pending record does not disarm the watchdog: it reverts with
 * what it was started with. */
START_TEST(damaged_pending_record_still_reverted)
{
	char *a = policy("a", POLICY_A), *b = policy_edit("b", "192.0.2.3", "192.0.2.4");
	struct engine_apply_opts o = { .confirm = 1 };
	struct engine_result r;
	char *pending = xasprintf("%s/pending-confirm.json", state_dir);
	FILE *f;

	ck_assert_int_eq(apply(a, NULL), 0);
	ck_assert_int_eq(apply_opts(b, &o, &r), 0);
	f = fopen(pending, "w");		/* truncated to half a record */
	fputs("{\"generation\": 2, \"prev", f);
	fclose(f);
	ck_assert(wait_for(no_pending, NULL));
	ck_assert(live_is(a));
	engine_result_free(&r);
	free(pending);
	free(a);
	free(b);
}
END_TEST

START_TEST(refresh_in_place_probe_and_records)
{
	char *a = policy("a", POLICY_A), *b = policy_edit("b", "192.0.2.3", "192.0.2.4");
	char *c = policy_edit("c", "restrict:", "otherwise: reject\nrestrict:");
	struct engine_result r;

	ck_assert_int_eq(refresh(a, false, &r), -ENOENT);	/* no table yet */
	engine_result_free(&r);
	ck_assert_int_eq(access(state_dir, F_OK), -1);
	ck_assert_int_eq(apply(a, NULL), 0);
	ck_assert_int_eq(refresh(a, false, &r), 0);
	ck_assert_int_eq(r.outcome, ENGINE_UNCHANGED);
	engine_result_free(&r);
	ck_assert_int_eq(count_files("gen-"), 1);
	/* A new address that fails the probe is taken out again. */
	ck_assert_int_eq(refresh(b, true, &r), 0);
	ck_assert_uint_eq(r.refused, 1);
	ck_assert_uint_eq(r.deleted, 1);
	engine_result_free(&r);
	{
		struct ir_ruleset *live = mem_table("t");
		struct addr x;

		ck_assert_ptr_null(addr_parse("192.0.2.4", &x));
		ck_assert_ptr_null(ir_set_find_elem(ir_set_find(live, "upstreams4"), &x, 32));
		ir_ruleset_free(live);
	}
	probe_ok[0] = "192.0.2.4";
	ck_assert_int_eq(refresh(b, true, &r), 0);
	ck_assert_uint_eq(r.added, 1);
	ck_assert_int_eq(r.outcome, ENGINE_CHANGED);
	engine_result_free(&r);
	ck_assert(live_is(b));
	/* Rules differ: refresh refuses and changes nothing. */
	ck_assert_int_eq(refresh(c, false, &r), -EPROTO);
	engine_result_free(&r);
	ck_assert(live_is(b));
	free(a);
	free(b);
	free(c);
}
END_TEST

START_TEST(remove_and_rollback)
{
	char *a = policy("a", POLICY_A), *a2 = policy_edit("a2", "table: t", "table: t2");
	char published[sizeof(run_dir) + 20];

	snprintf(published, sizeof(published), "%s/upstreams.json", run_dir);

	ck_assert_int_eq(simple(OP_REMOVE, 0), 0);	/* nothing applied: no error */
	ck_assert_int_eq(access(state_dir, F_OK), -1);
	ck_assert_int_eq(simple(OP_ROLLBACK, 0), -ENOENT);
	ck_assert_int_eq(apply(a, NULL), 0);
	ck_assert_int_eq(simple(OP_ROLLBACK, 0), -ENOENT);	/* no earlier generation */
	ck_assert_int_eq(apply(a2, NULL), 0);		/* a rename: t goes in the same commit */
	ck_assert_ptr_null(mem_table("t"));
	ck_assert(live_is(a2));
	ck_assert_int_eq(simple(OP_ROLLBACK, 0), 0);
	ck_assert_ptr_null(mem_table("t2"));
	ck_assert(live_is(a));
	ck_assert_int_eq(access(published, F_OK), 0);
	ck_assert_int_eq(simple(OP_REMOVE, 0), 0);
	ck_assert_ptr_null(mem_table("t"));
	/* No wall, no published choice to stand by. */
	ck_assert_int_eq(access(published, F_OK), -1);
	ck_assert_int_eq(simple(OP_ROLLBACK, 0), 0);
	ck_assert(live_is(a));
	ck_assert_int_eq(access(published, F_OK), 0);
	free(a);
	free(a2);
}
END_TEST

static bool set_has(const struct ir_ruleset *rs, const char *a)
{
	struct addr x;

	ck_assert_ptr_null(addr_parse(a, &x));
	return rs && ir_set_find_elem(ir_set_find(rs, "upstreams4"), &x, 32);
}

static char *daemon_policy(const char *name, const char *extra)
{
	char *text = xasprintf("%sdaemon: {chrony_sources: %s/ntpwall.sources%s}\n", POLICY_A, dir,
			       extra);
	char *path = policy(name, text);

	free(text);
	return path;
}

/* The daemon is told while the wall holds old and new addresses, and the
 * old ones leave after: it never polls a server the wall blocks. */
START_TEST(daemon_told_between_add_and_remove)
{
	char *a = daemon_policy("a", ""), *b;
	struct ir_ruleset *live;
	char *text;

	ck_assert_int_eq(apply(a, NULL), 0);
	ck_assert_int_eq(rec.syncs, 1);
	ck_assert_ptr_nonnull(strstr(rec.content, "server 192.0.2.3 iburst"));
	ck_assert(set_has(rec.wall, "192.0.2.3"));
	text = xasprintf("%s", POLICY_A);
	b = policy_edit("b", "192.0.2.3", "192.0.2.4");
	free(text);
	text = xasprintf("cat >> '%s' <<'E'\ndaemon: {chrony_sources: %s/ntpwall.sources}\nE\n", b,
			 dir);
	ck_assert_int_eq(system(text), 0);
	free(text);
	ck_assert_int_eq(apply(b, NULL), 0);
	ck_assert_int_eq(rec.syncs, 2);
	ck_assert_ptr_nonnull(strstr(rec.content, "server 192.0.2.4 iburst"));
	ck_assert_ptr_null(strstr(rec.content, "192.0.2.3"));
	/* When the daemon was told, the wall held both. */
	ck_assert(set_has(rec.wall, "192.0.2.3") && set_has(rec.wall, "192.0.2.4"));
	live = mem_table("t");
	ck_assert(!set_has(live, "192.0.2.3") && set_has(live, "192.0.2.4"));
	ir_ruleset_free(live);
	/* Rollback tells the daemon the generation's own sources, in step. */
	ck_assert_int_eq(simple(OP_ROLLBACK, 0), 0);
	ck_assert_ptr_nonnull(strstr(rec.content, "server 192.0.2.3 iburst"));
	ck_assert(set_has(rec.wall, "192.0.2.3") && set_has(rec.wall, "192.0.2.4"));
	/* Nothing changed: the daemon is not told again. */
	ck_assert_int_eq(apply(a, NULL), 0);
	ck_assert_int_eq(rec.syncs, 3);
	/* Remove: the daemon's file goes first, then the table. */
	ck_assert_int_eq(simple(OP_REMOVE, 0), 0);
	ck_assert_ptr_null(rec.content);
	ck_assert(set_has(rec.wall, "192.0.2.3"));
	ck_assert_ptr_null(mem_table("t"));
	free(a);
	free(b);
}
END_TEST

START_TEST(daemon_file_not_ours_or_daemon_down)
{
	char *a = daemon_policy("a", "");
	struct engine_apply_opts o = { 0 };
	struct engine_result r;

	rec.foreign = true;
	ck_assert_int_eq(apply(a, NULL), -EEXIST);	/* refused before the wall */
	ck_assert_ptr_null(mem_table("t"));
	ck_assert_int_eq(rec.syncs, 0);
	rec.foreign = false;
	rec.down = true;
	ck_assert_int_eq(apply_opts(a, &o, &r), 0);	/* the wall goes on */
	ck_assert(r.daemon_failed);
	ck_assert(live_is(a));
	engine_result_free(&r);
	/* The file is right now, but the daemon was not told: the next run
	 * tells it although nothing changed, until it works. */
	ck_assert_int_eq(apply_opts(a, &o, &r), 0);
	ck_assert(r.daemon_failed);
	ck_assert_int_eq(rec.forced, 1);
	engine_result_free(&r);
	rec.down = false;
	ck_assert_int_eq(apply_opts(a, &o, &r), 0);
	ck_assert(!r.daemon_failed);
	ck_assert_int_eq(rec.forced, 2);
	engine_result_free(&r);
	ck_assert_int_eq(apply_opts(a, &o, &r), 0);	/* told: not forced again */
	ck_assert_int_eq(rec.forced, 2);
	engine_result_free(&r);
	free(a);
}
END_TEST

static int member_count(const struct ir_ruleset *rs)
{
	int n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(pool_answers); i++)
		n += set_has(rs, pool_answers[i]);
	return n;
}

/* A pool member the daemon reports unusable stays until the K-th refresh
 * in a row (a source just added is unreachable too), then is replaced;
 * the others never move. */
START_TEST(pool_member_replaced_after_k_daemon_reports)
{
	char *p = policy("p", "version: 1\ntable: t\nupstreams:\n  - pool: pool.test\n    max: 3\n"
			 "daemon: {chrony_sources: /tmp/x.sources, replace_after: 2}\n");
	struct ir_ruleset *first, *live;
	struct engine_result r;
	const char *victim = NULL;

	net = &pool_net;
	ck_assert_int_eq(apply(p, NULL), 0);
	first = mem_table("t");
	ck_assert_int_eq(member_count(first), 3);
	for (size_t i = 0; i < ARRAY_SIZE(pool_answers) && !victim; i++)
		if (set_has(first, pool_answers[i]))
			victim = pool_answers[i];
	for (int i = 0; i < 3; i++) {		/* healthy: nothing moves */
		ck_assert_int_eq(refresh(p, false, &r), 0);
		engine_result_free(&r);
		live = mem_table("t");
		ck_assert(ir_ruleset_equal(live, first));
		ir_ruleset_free(live);
	}
	/* Unreachable but just added (chrony shows new sources so): not
	 * judged within the grace period, however many refreshes. */
	rec.unusable = victim;
	rec.state = '?';
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(refresh(p, false, &r), 0);
		ck_assert_uint_eq(r.replaced, 0);
		engine_result_free(&r);
	}
	/* A falseticker is judged at once. */
	rec.state = 'x';
	ck_assert_int_eq(refresh(p, false, &r), 0);	/* strike 1 of 2 */
	ck_assert_uint_eq(r.replaced, 0);
	engine_result_free(&r);
	live = mem_table("t");
	ck_assert(set_has(live, victim));
	ir_ruleset_free(live);
	ck_assert_int_eq(refresh(p, false, &r), 0);	/* strike 2: replaced */
	ck_assert_uint_eq(r.replaced, 1);
	engine_result_free(&r);
	live = mem_table("t");
	ck_assert(!set_has(live, victim));
	ck_assert_int_eq(member_count(live), 3);
	for (size_t i = 0; i < ARRAY_SIZE(pool_answers); i++)	/* the others stayed */
		if (set_has(first, pool_answers[i]) && strcmp(pool_answers[i], victim))
			ck_assert(set_has(live, pool_answers[i]));
	ck_assert_ptr_null(strstr(rec.content, victim));
	ck_assert(set_has(rec.wall, victim));	/* still in the wall when told */
	ir_ruleset_free(live);
	ir_ruleset_free(first);
	free(p);
}
END_TEST

/* refresh --probe probes the current members too: a dead one goes
 * (with a daemon: in lockstep, the new ones probed inside the superset). */
START_TEST(refresh_probe_replaces_a_dead_member)
{
	char *p = policy("p", _i ? "version: 1\ntable: t\nupstreams:\n  - pool: pool.test\n    max: 3\n"
			 "daemon: {chrony_sources: /tmp/x.sources}\n" :
			 "version: 1\ntable: t\nupstreams:\n  - pool: pool.test\n    max: 3\n");
	struct ir_ruleset *first, *live;
	struct engine_result r;
	size_t k = 0;

	net = &pool_net;
	ck_assert_int_eq(apply(p, NULL), 0);
	first = mem_table("t");
	/* Every answer is good but one of the members. */
	for (size_t i = 0, skipped = 0; i < ARRAY_SIZE(pool_answers); i++) {
		if (!skipped && set_has(first, pool_answers[i])) {
			skipped = 1;
			continue;
		}
		probe_ok[k++] = pool_answers[i];
	}
	ck_assert_int_eq(refresh(p, true, &r), 0);
	ck_assert_uint_eq(r.replaced, 1);
	engine_result_free(&r);
	live = mem_table("t");
	ck_assert_int_eq(member_count(live), 3);
	ck_assert(!ir_ruleset_equal(live, first));
	ir_ruleset_free(live);
	ir_ruleset_free(first);
	free(p);
}
END_TEST

/* The table is gone (flushed): refresh restores it. */
START_TEST(refresh_restores_a_flushed_table)
{
	char *a = policy("a", POLICY_A);
	struct engine_result r;

	ck_assert_int_eq(apply(a, NULL), 0);
	mem_delete("t");
	ck_assert_int_eq(refresh(a, false, &r), 0);
	ck_assert(r.restored);
	engine_result_free(&r);
	ck_assert(live_is(a));
	free(a);
}
END_TEST

/* DNS elements about to expire (no refresh timer) need attention. */
START_TEST(status_sees_expiring_elements)
{
	char *p = policy("p", "version: 1\ntable: t\nupstreams:\n  - pool: pool.test\n    max: 3\n");
	struct engine_status s;
	struct ir_ruleset *live;
	struct ir_set *set;

	net = &pool_net;
	ck_assert_int_eq(apply(p, NULL), 0);
	live = mem_table("t");
	set = ir_set_find(live, "upstreams4");
	for (size_t i = 0; i < set->n_elems; i++)
		set->elems[i].expires_ms = 3000000;	/* of 3,600,000 */
	mem_put(live);
	ck_assert_int_eq(status_of(&s), 0);	/* expiry is never compared */
	ck_assert_str_eq(s.word, "in-sync");
	ck_assert_uint_eq(s.expiring, 0);
	ck_assert(!s.attention);
	engine_status_free(&s);
	set->elems[0].expires_ms = 600000;	/* less than a quarter left */
	mem_put(live);
	ck_assert_int_eq(status_of(&s), 0);
	ck_assert_uint_eq(s.expiring, 1);
	ck_assert(s.attention);
	engine_status_free(&s);
	ir_ruleset_free(live);
	free(p);
}
END_TEST

START_TEST(backend_that_cannot_open)
{
	char *a = policy("a", POLICY_A);

	mem_faults.open_errno = EPERM;
	ck_assert_int_eq(apply(a, NULL), -EPERM);
	ck_assert_int_eq(access(state_dir, F_OK), -1);
	free(a);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("engine");
	TCase *tc = tcase_create("engine");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, apply_records_and_is_idempotent);
	tcase_add_test(tc, elements_change_in_place_rules_replace);
	tcase_add_test(tc, stale_generation_retried_then_given_up);
	tcase_add_test(tc, kernel_refusal_changes_nothing);
	tcase_add_test(tc, unmanaged_table_refused_adopted_or_replaced);
	tcase_add_test(tc, crash_points_recovered_by_the_next_apply);
	tcase_add_test(tc, full_disk_changes_nothing);
	tcase_add_test(tc, full_disk_stops_rollback);
	tcase_add_test(tc, probe_failure_reverts);
	tcase_add_test(tc, probe_when_unchanged);
	tcase_add_test(tc, snapshot_before_a_revertible_apply);
	tcase_add_test(tc, confirm_watchdog_reverts_at_the_deadline);
	tcase_add_test(tc, confirm_keeps_only_what_is_live);
	tcase_add_test(tc, forced_revert_without_its_record);
	tcase_add_test(tc, refresh_in_place_probe_and_records);
	tcase_add_test(tc, expired_confirmation_reverted_by_the_next_command);
	tcase_add_test(tc, second_confirm_reverts_to_the_last_confirmed);
	tcase_add_test(tc, damaged_pending_record_still_reverted);
	tcase_add_test(tc, remove_and_rollback);
	tcase_add_test(tc, backend_that_cannot_open);
	tcase_add_test(tc, daemon_told_between_add_and_remove);
	tcase_add_test(tc, daemon_file_not_ours_or_daemon_down);
	tcase_add_test(tc, pool_member_replaced_after_k_daemon_reports);
	tcase_add_loop_test(tc, refresh_probe_replaces_a_dead_member, 0, 2);
	tcase_add_test(tc, refresh_restores_a_flushed_table);
	tcase_add_test(tc, status_sees_expiring_elements);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
