/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Making a stored generation live again: rollback, the revert of a failed
 * probe or confirmation, and remove (a generation without a table). The
 * new generation is written ahead, so a full disk stops a rollback before
 * the kernel is touched; a revert goes ahead regardless. */
#include "engine_int.h"
#include "ntpwall/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The generation to make live again for src (0: a removal), with its
 * action and source set as the new record wants them. */
static int restore_gen(struct engine *e, unsigned long src, const char *action,
		       const struct state_gen *latest, struct state_gen **out)
{
	struct state_gen *g = NULL;
	int ret;

	*out = NULL;
	if (src && (ret = state_load(e->st, src, &g, e->d)) < 0) {
		if (ret == -ENOENT)
			eng_fail(e, ret, NW502_STATE, "generation %lu: not found", src);
		return ret;
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
	*out = g;
	return 0;
}

/* With g's record prepared (or, forced, not): make it live, publish. */
static int restore_live(struct engine *e, struct state_gen *g, const char *managed,
			struct state_prepared *pp, int prepared, struct engine_result *r)
{
	const char *table = g->rs ? g->rs->table : managed ? managed : "ntpwall";
	struct daemon_state ds;
	int ret = engine_open(e, g->backend);

	eng_gen_daemon(g, &ds);
	if (!ret)
		ret = engine_read(e, table);
	/* A removal of an absent table is a no-op but still a new generation
	 * (and the daemon is still told). */
	if (!ret)
		eng_changes_between(e->live, g->rs, &r->addrs);
	if (!ret && (g->rs || e->live))
		ret = eng_make_live_in_step(e, g->rs, table, managed, 0, &ds, r);
	else if (!ret)
		ret = eng_daemon_sync(e, &ds, r);
	daemon_state_free(&ds);
	if (ret)
		return ret;
	r->table = xstrdup(table);
	if (prepared < 0) {
		r->unrecorded = true;
		return eng_fail(e, prepared, NW502_STATE,
				"state directory %s: the %s is live but could not be recorded: %s",
				e->cfg.state_dir, g->action, strerror(-prepared));
	}
	ret = eng_publish(e, pp);
	r->unrecorded = ret < 0;
	if (!ret) {
		r->generation = g->number;
		eng_publish_choice(e, g);
	}
	return ret;
}

int engine_restore(struct engine *e, unsigned long src, const char *action, bool force,
		   struct engine_result *r)
{
	struct state_gen *g = NULL, *latest = NULL;
	struct state_prepared pp = { 0 };
	char *managed = NULL;
	int ret, prepared;

	memset(r, 0, sizeof(*r));
	r->outcome = ENGINE_CHANGED;
	r->previous = src;
	ret = engine_latest(e, &latest);
	if (!ret)
		ret = restore_gen(e, src, action, latest, &g);
	if (ret)
		goto out;
	managed = engine_managed_table(e, latest);
	/* Written ahead: a full disk stops a rollback before the kernel is
	 * touched. A revert goes on regardless: its deadline is a promise. */
	prepared = state_prepare(e->st, g, &pp);
	if (prepared < 0 && !force) {
		ret = eng_fail(e, prepared, NW502_STATE,
			       "state directory %s: writing the generation: %s; nothing changed",
			       e->cfg.state_dir, strerror(-prepared));
		goto out;
	}
	ret = restore_live(e, g, managed, &pp, prepared, r);
out:
	state_discard(e->st, &pp);
	state_gen_free(g);
	state_gen_free(latest);
	free(managed);
	return ret;
}

int engine_rollback(struct engine *e, unsigned long to, struct engine_result *r)
{
	unsigned long latest = e->st ? state_latest(e->st) : 0;
	int ret;

	memset(r, 0, sizeof(*r));
	if (!to)
		to = latest > 1 ? latest - 1 : 0;
	if (!to)
		return eng_fail(e, -ENOENT, NW502_STATE, "rollback: no earlier generation in %s",
				e->cfg.state_dir);
	ret = engine_restore(e, to, "rollback", false, r);
	/* The operator chose: a pending confirmation is settled. */
	if (!ret)
		eng_settle_pending(e);
	return ret;
}

int engine_remove(struct engine *e, const char *table, struct engine_result *r)
{
	struct state_gen *latest = NULL, *g = NULL;
	struct state_prepared pp = { 0 };
	struct daemon_state ds = { 0 };
	char *managed = NULL;
	int ret;

	memset(r, 0, sizeof(*r));
	ret = engine_latest(e, &latest);
	if (ret)
		return ret;
	/* Never a table ntpwall did not make, whatever --table says. */
	managed = engine_managed_table(e, latest);
	if (!managed && !table) {
		r->outcome = ENGINE_ABSENT;
		goto out;
	}
	if (!managed || (table && strcmp(table, managed))) {
		ret = eng_fail(e, -EPERM, NW503_UNMANAGED,
			       "remove: table inet %s was not applied by ntpwall (state in %s); "
			       "nothing removed", table ? table : managed, e->cfg.state_dir);
		goto out;
	}
	r->table = xstrdup(managed);
	ret = engine_open(e, latest ? latest->backend : "nft");
	if (!ret)
		ret = engine_read(e, managed);
	if (ret || !e->live) {
		r->outcome = ENGINE_ABSENT;
		goto out;
	}
	g = state_gen_new("remove", e->ops->name);
	if (latest && latest->policy_path)
		g->policy_path = xstrdup(latest->policy_path);
	/* The daemon's file goes too, before the wall: it lets go of the
	 * servers first. The removal records that, so rollback brings it back. */
	eng_gen_daemon(latest, &ds);
	free(ds.content);
	ds.content = NULL;
	if (ds.kind != DAEMON_NONE)
		g->daemon = daemon_state_json(&ds);
	ret = eng_prepare(e, g, &pp);
	eng_changes_between(e->live, NULL, &r->addrs);
	if (!ret)
		ret = eng_make_live_in_step(e, NULL, managed, NULL, 0, &ds, r);
	if (!ret)
		ret = eng_publish(e, &pp);
	if (!ret) {
		r->outcome = ENGINE_CHANGED;
		r->generation = g->number;
		eng_publish_choice(e, g);
		eng_settle_pending(e);
	}
out:
	if (e->st)
		state_discard(e->st, &pp);
	daemon_state_free(&ds);
	state_gen_free(g);
	state_gen_free(latest);
	free(managed);
	return ret;
}

int engine_restore_latest(struct engine *e, struct engine_result *r)
{
	struct state_gen *g = NULL;
	struct daemon_state ds;
	int ret;

	memset(r, 0, sizeof(*r));
	ret = engine_latest(e, &g);
	if (ret)
		return ret;
	if (!g || !g->rs) {
		/* Nothing applied, or removed last: nothing to restore. */
		r->outcome = ENGINE_ABSENT;
		state_gen_free(g);
		return 0;
	}
	r->table = xstrdup(g->rs->table);
	eng_gen_daemon(g, &ds);
	ret = engine_open(e, g->backend);
	if (!ret)
		ret = engine_read(e, g->rs->table);
	r->outcome = e->live && ir_ruleset_equal(e->live, g->rs) ? ENGINE_UNCHANGED : ENGINE_CHANGED;
	/* As recorded, without DNS: at boot it is usually not up yet; the
	 * refresh timer renews the names later. */
	if (!ret)
		ret = eng_make_live_in_step(e, g->rs, g->rs->table, NULL, 0, &ds, r);
	if (!ret) {
		r->generation = g->number;
		eng_publish_choice(e, g);
	}
	daemon_state_free(&ds);
	state_gen_free(g);
	return ret;
}
