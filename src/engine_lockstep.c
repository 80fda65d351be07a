/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The wall and the time daemon in lockstep (doc/design.md "Pools and the daemon"):
 * new addresses enter the wall first, then the daemon is pointed
 * at exactly the new set, then the old addresses leave. Each step is one
 * transaction; between them the wall holds a superset, so the daemon never
 * polls a server the wall blocks, and a crash there is finished by the next
 * apply or refresh (which tells the daemon again before it removes). Also
 * the published choice: what the wall trusts now, world-readable. */
#include "engine_int.h"
#include "ntpwall/compile.h"
#include "ntpwall/util.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The sets whose members the daemon is told about. */
static const char *const step_sets[] = {
	COMPILE_SET_UPSTREAMS4, COMPILE_SET_UPSTREAMS6, "peers4", "peers6",
};

void eng_gen_daemon(const struct state_gen *g, struct daemon_state *ds)
{
	if (!g || !g->daemon || daemon_state_from_json(g->daemon, ds))
		memset(ds, 0, sizeof(*ds));
}

int eng_daemon_check(struct engine *e, const struct daemon_state *ds)
{
	if (ds->kind == DAEMON_NONE)
		return 0;
	return e->cfg.daemon->check(ds, e->d);
}

/* A daemon that could not be told is remembered in the state directory:
 * its file is right by then, so only this says to run the command again. */
#define UNTOLD_FILE "daemon-untold.json"

static bool untold(struct engine *e)
{
	json_t *j = NULL;

	if (!e->st || state_json_read(e->st, UNTOLD_FILE, &j) < 0)
		return false;
	json_decref(j);
	return true;
}

static void set_untold(struct engine *e, bool on)
{
	json_t *j;

	if (!e->st || on == untold(e))
		return;
	if (!on) {
		(void)state_json_remove(e->st, UNTOLD_FILE);
		return;
	}
	j = json_pack("{s:b}", "untold", 1);
	(void)state_json_write(e->st, UNTOLD_FILE, j);
	json_decref(j);
}

int eng_daemon_sync(struct engine *e, const struct daemon_state *ds, struct engine_result *r)
{
	bool changed = false;
	int ret;

	if (ds->kind == DAEMON_NONE)
		return 0;
	ret = e->cfg.daemon->sync(ds, untold(e), &changed, e->d);
	set_untold(e, ret == -ESRCH);
	if (ret == -ESRCH) {
		/* The wall goes on: a daemon that is down reads the file when it
		 * starts; the message says what to run. */
		r->daemon_failed = true;
		eng_warn(e, NW505_DAEMON, "the wall is applied, but %s was not told: run '%s' "
			 "once it is running", daemon_kind_name(ds->kind),
			 ds->command ? ds->command : "its reload");
		return 0;
	}
	r->daemon_told |= changed;
	return ret;
}

/* Add to dst every element of src that dst lacks. */
static bool add_missing(struct ir_set *dst, const struct ir_set *src)
{
	bool added = false;

	for (size_t i = 0; i < src->n_elems; i++) {
		const struct ir_elem *x = &src->elems[i];
		struct ir_elem *e;

		if (ir_set_find_elem(dst, &x->addr, x->prefix_len))
			continue;
		e = ir_set_add_elem(dst, &x->addr, x->prefix_len, x->comment);
		e->timeout_ms = x->timeout_ms;
		added = true;
	}
	if (added)
		ir_set_sort(dst);
	return added;
}

struct ir_ruleset *eng_superset(const struct ir_ruleset *want, const struct ir_ruleset *live)
{
	struct ir_ruleset *sup;
	bool added = false;

	if (!want || !live || strcmp(want->table, live->table))
		return NULL;
	sup = ir_ruleset_clone(want);
	for (size_t i = 0; i < ARRAY_SIZE(step_sets); i++) {
		struct ir_set *dst = ir_set_find(sup, step_sets[i]);
		const struct ir_set *src = ir_set_find(live, step_sets[i]);

		if (dst && src && dst->key == src->key)
			added |= add_missing(dst, src);
	}
	if (!added) {
		ir_ruleset_free(sup);
		return NULL;
	}
	return sup;
}

int eng_make_live_in_step(struct engine *e, const struct ir_ruleset *target, const char *table,
			  const char *old_table, uint64_t renew_ms, const struct daemon_state *ds,
			  struct engine_result *r)
{
	struct engine_result first = { 0 };
	struct ir_ruleset *sup = NULL;
	int ret;

	if (ds->kind == DAEMON_NONE)
		return eng_make_live(e, target, table, old_table, renew_ms, r);
	ret = eng_daemon_check(e, ds);
	if (ret)
		return ret;
	sup = eng_superset(target, e->live);
	if (sup)
		ret = eng_make_live(e, sup, table, old_table, renew_ms, &first);
	if (!ret)
		ret = eng_daemon_sync(e, ds, r);
	if (!ret)
		ret = eng_make_live(e, target, table, sup ? NULL : old_table, renew_ms, r);
	if (sup && r) {
		/* Both steps as one change: what came in the first, what left in
		 * the second. */
		r->in_place = r->in_place && first.in_place;
		r->added += first.added;
		r->renewed += first.renewed;
		eng_changes_take_renewed(&r->addrs, &first.addrs);
	}
	engine_result_free(&first);
	ir_ruleset_free(sup);
	return ret;
}

/* The addresses of rs's upstream or peer sets as JSON strings. */
static json_t *set_addrs(const struct ir_ruleset *rs, size_t from, size_t to)
{
	json_t *a = json_array();

	for (size_t i = from; rs && i < to; i++) {
		const struct ir_set *s = ir_set_find(rs, step_sets[i]);
		char buf[INET6_ADDRSTRLEN];

		for (size_t j = 0; s && j < s->n_elems; j++)
			json_array_append_new(a, json_string(addr_str(&s->elems[j].addr, buf,
								      sizeof(buf))));
	}
	return a;
}

/* Write j to dir/name, readable by all (a monitoring user probes what the
 * wall trusts), through a temporary and a rename. */
static int write_public(const char *dir, const char *name, json_t *j)
{
	char *tmp = xasprintf("%s/.%s.tmp.%ld", dir, name, (long)getpid());
	char *path = xasprintf("%s/%s", dir, name);
	int ret = 0;

	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		ret = -errno;
	if (!ret && json_dump_file(j, tmp, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0)
		ret = -EIO;
	if (!ret && chmod(tmp, 0644) < 0)
		ret = -errno;
	if (!ret && rename(tmp, path) < 0)
		ret = -errno;
	if (ret)
		(void)unlink(tmp);
	free(tmp);
	free(path);
	return ret;
}

static void withdraw_public(struct engine *e, const char *name)
{
	char *path = xasprintf("%s/%s", e->cfg.run_dir, name);

	if (unlink(path) < 0 && errno != ENOENT)
		eng_warn(e, NW502_STATE, "cannot withdraw %s: %s", path, strerror(errno));
	free(path);
}

void eng_publish_choice(struct engine *e, const struct state_gen *g)
{
	json_t *names, *j;
	int ret;

	if (!e->cfg.run_dir || !g)
		return;
	if (!g->rs) {
		/* A removal: no wall, so no choice for compile, probe, status or
		 * explain to stand by; they say so or choose afresh. */
		withdraw_public(e, "upstreams.json");
		return;
	}
	names = g->resolved ? json_object_get(g->resolved, "names") : NULL;
	j = json_pack("{s:s, s:i, s:I, s:o, s:o, s:o, s:o, s:o}", "format", "ntpwall-upstreams",
		      "version", 1, "generation", (json_int_t)g->number, "table",
		      g->rs ? json_string(g->rs->table) : json_null(), "policy",
		      g->policy_path ? json_string(g->policy_path) : json_null(), "names",
		      names ? json_incref(names) : json_array(), "upstreams", set_addrs(g->rs, 0, 2),
		      "peers",
		      set_addrs(g->rs, 2, 4));
	ret = write_public(e->cfg.run_dir, "upstreams.json", j);
	json_decref(j);
	if (ret < 0)
		eng_warn(e, NW502_STATE, "cannot publish the trusted servers in %s/upstreams.json: %s",
			 e->cfg.run_dir, strerror(-ret));
}

int engine_current_choice(struct engine *e, const struct policy *p, struct resolved **out)
{
	struct resolved *choice = NULL;
	char *path;
	json_t *j;
	int ret;

	*out = NULL;
	if (!e->cfg.run_dir)
		return -ENOENT;
	path = xasprintf("%s/upstreams.json", e->cfg.run_dir);
	j = json_load_file(path, 0, NULL);
	free(path);
	if (!j)
		return -ENOENT;
	ret = resolve_from_json(j, &choice);
	if (!ret)
		ret = resolve_from_choice(p, choice, out);
	resolve_free(choice);
	json_decref(j);
	return ret ? -ENOENT : 0;
}
