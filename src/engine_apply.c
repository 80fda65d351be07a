/* engine_apply(): make a policy's ruleset live. A table ntpwall did not
 * make is refused unless the operator asks, and then kept for rollback; an
 * equal one is adopted; a commit whose record was lost is recorded. The
 * generation (and a pending confirmation) is written ahead of the commit,
 * so a full disk changes nothing; --probe and --confirm can revert. */
#include "engine_int.h"
#include "ntpwall/util.h"

#include <errno.h>
#include <string.h>
#include <time.h>

/* DNS elements with less than half their time left are renewed. */
static uint64_t renew_ms(const struct engine_wanted *w)
{
	return w->policy->refresh.expire_ms / 2;
}

/* A table of the policy's name that no generation of this state directory
 * made (the host's own `table inet filter`, one made by hand): never
 * touched unless the operator says so and it can be restored exactly. */
static int check_unmanaged(struct engine *e, const struct engine_wanted *w,
			   const struct engine_apply_opts *o)
{
	const char *t = w->rs->table;

	if (!o->replace_unmanaged)
		return eng_fail(e, -EEXIST, NW503_UNMANAGED,
				"table inet %s exists and was not made by ntpwall (no generation in "
				"%s); nothing changed: choose another 'table:' in the policy, or "
				"replace it with 'apply --replace-unmanaged' (kept as a generation "
				"that 'ntpwall rollback' restores)", t, e->cfg.state_dir);
	if (ir_ruleset_foreign(e->live))
		return eng_fail(e, -EEXIST, NW503_UNMANAGED,
				"table inet %s holds rules or sets ntpwall cannot restore, so it "
				"cannot be kept for rollback; nothing changed: choose another "
				"'table:', or save it ('nft list table inet %s') and delete it "
				"yourself", t, t);
	return 0;
}

/* The live table equals the policy's but no generation says so: an
 * unmanaged table built from the policy (`ntpwall compile | nft -f -`), or
 * a crash between a commit and its record. Record it; the kernel is not
 * touched. */
static int record_live(struct engine *e, const struct engine_wanted *w, bool unmanaged,
		       struct engine_result *r)
{
	struct state_gen *g = eng_gen_for(w, unmanaged ? "adopt" : "apply");
	int ret = eng_record(e, g);

	if (!ret) {
		r->outcome = unmanaged ? ENGINE_ADOPTED : ENGINE_RECORDED;
		r->generation = g->number;
	}
	state_gen_free(g);
	return ret;
}

/* The kernel already has w's rules: renew DNS elements running out. */
static int unchanged(struct engine *e, const struct engine_wanted *w,
		     const struct engine_apply_opts *o, bool unmanaged, struct engine_result *r)
{
	struct ruleset_delta d = { 0 };
	struct state_gen *latest = NULL;
	bool recorded, replace;
	int ret;

	if (!unmanaged && (ret = engine_latest(e, &latest)) < 0)
		return ret;
	recorded = latest && latest->rs && ir_ruleset_equal(latest->rs, e->live);
	state_gen_free(latest);
	if (unmanaged || !recorded)
		return record_live(e, w, unmanaged, r);
	r->outcome = ENGINE_UNCHANGED;
	ret = eng_update(e, w->rs, renew_ms(w), &d, &replace);
	/* Only after a retry: someone changed more than elements meanwhile. */
	if (!ret && replace)
		ret = eng_fail(e, -EAGAIN, NW504_CHANGING,
			       "table inet %s changed while its elements were renewed; nothing "
			       "changed: run apply again", w->rs->table);
	r->renewed = d.renewed;
	ruleset_delta_free(&d);
	if (!ret && !o->confirm)
		eng_settle_pending(e);
	return ret;
}

/* The recording of an apply failed after its commit: put back what was
 * live before (before: the table read under the policy's name; a rename:
 * the latest generation's table), so that the kernel never runs rules no
 * generation records. */
static int undo_commit(struct engine *e, const struct engine_wanted *w,
		       const struct ir_ruleset *before, const char *old)
{
	struct state_gen *latest = NULL;
	int ret = engine_read(e, w->rs->table);

	if (!ret && old && strcmp(old, w->rs->table))
		ret = engine_latest(e, &latest);
	/* A rename goes back under the old name, in one transaction. */
	if (!ret && latest && latest->rs)
		ret = eng_make_live(e, latest->rs, latest->rs->table, w->rs->table, 0, NULL);
	else if (!ret)
		ret = eng_make_live(e, before, w->rs->table, NULL, 0, NULL);
	state_gen_free(latest);
	if (ret)
		return eng_fail(e, ret, NW502_STATE,
				"table inet %s: could not undo the change either: the kernel holds "
				"rules no generation records; run 'ntpwall apply' again once the "
				"state directory has room", w->rs->table);
	return eng_fail(e, -EIO, NW502_STATE, "the change was undone; nothing changed");
}

/* Make w live with its generation (and, with confirm, the pending record)
 * written ahead: a full state disk fails before the kernel is touched, and
 * a record that still cannot be published undoes the commit. */
static int commit_recorded(struct engine *e, const struct engine_wanted *w,
			   const struct engine_apply_opts *o, struct engine_result *r)
{
	struct state_prepared pg = { 0 }, pp = { 0 };
	struct state_gen *g = eng_gen_for(w, "apply");
	struct ir_ruleset *before = e->live ? ir_ruleset_clone(e->live) : NULL;
	char *old = engine_managed_table(e, NULL);
	int ret;

	ret = eng_prepare(e, g, &pg);
	if (!ret && o->confirm) {
		struct state_pending p = { g->number, r->previous, (int64_t)time(NULL) + o->confirm };

		ret = state_pending_prepare(e->st, &p, &pp);
		if (ret)
			eng_fail(e, ret, NW502_STATE,
				 "state directory %s: writing the pending confirmation: %s; "
				 "nothing changed", e->cfg.state_dir, strerror(-ret));
		r->deadline = p.deadline;
	}
	if (!ret)
		ret = eng_make_live(e, w->rs, w->rs->table, old, renew_ms(w), r);
	if (ret)
		goto out;
	if (o->confirm)
		ret = eng_publish(e, &pp);
	if (!ret)
		ret = eng_publish(e, &pg);
	if (ret) {
		if (o->confirm)
			(void)state_pending_clear(e->st);
		ret = undo_commit(e, w, before, old);
		goto out;
	}
	r->outcome = ENGINE_CHANGED;
	r->generation = g->number;
out:
	state_discard(e->st, &pp);
	state_discard(e->st, &pg);
	ir_ruleset_free(before);
	state_gen_free(g);
	free(old);
	return ret;
}

/* Back to r->previous after a failed probe: ENGINE_REVERTED. */
static int revert(struct engine *e, struct engine_result *r)
{
	struct engine_result rr = { 0 };
	int ret = engine_restore(e, r->previous, "revert", true, &rr);

	r->outcome = ENGINE_REVERTED;
	r->generation = rr.generation;
	r->unrecorded = rr.unrecorded;
	engine_result_free(&rr);
	return ret;
}

static int probe_upstreams(struct engine *e, const struct engine_wanted *w,
			   struct engine_result *r, size_t *good)
{
	const struct resolved *res = w->resolved;
	struct policy_addr *a = xcalloc(res->n_upstreams + 1, sizeof(*a));
	int ret;

	for (size_t i = 0; i < res->n_upstreams; i++)
		a[i] = res->upstreams[i].addr;
	ret = eng_probe(e, w->policy, a, res->n_upstreams, r, good);
	free(a);
	return ret;
}

static int changed(struct engine *e, const struct engine_wanted *w,
		   const struct engine_apply_opts *o, bool unmanaged, struct engine_result *r)
{
	size_t good = 0;
	int ret;

	/* Something to go back to: the live table, recorded first unless the
	 * latest generation already holds it. */
	if (o->confirm || o->probe || unmanaged) {
		ret = eng_snapshot(e, engine_backend_name(w->policy), &r->previous);
		if (ret)
			return ret;
	}
	ret = commit_recorded(e, w, o, r);
	if (ret)
		return ret;
	if (o->probe && (probe_upstreams(e, w, r, &good) < 0 || !good)) {
		eng_fail(e, 0, NW506_PROBE,
			 "probe: no upstream answered through the new rules; reverting");
		if (o->confirm)
			(void)state_pending_clear(e->st);
		return revert(e, r);
	}
	if (o->confirm)
		return eng_start_confirm(e, r);
	eng_settle_pending(e);
	return 0;
}

int engine_apply(struct engine *e, const struct engine_wanted *w,
		 const struct engine_apply_opts *o, struct engine_result *r)
{
	bool unmanaged = engine_unmanaged(e, w->rs->table);
	bool same = e->live && ir_ruleset_equal(e->live, w->rs);
	int ret;

	memset(r, 0, sizeof(*r));
	r->table = xstrdup(w->rs->table);
	if (unmanaged && !same && (ret = check_unmanaged(e, w, o)))
		return ret;
	ret = engine_state_open(e, ENGINE_STATE_CREATE);
	if (ret)
		return ret;
	if (same)
		return unchanged(e, w, o, unmanaged, r);
	return changed(e, w, o, unmanaged, r);
}
