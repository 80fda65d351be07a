/* SPDX-License-Identifier: GPL-2.0-or-later */
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
		eng_publish_choice(e, g);
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
	struct daemon_state ds;
	bool recorded, replace;
	int ret;

	if (!unmanaged && (ret = engine_latest(e, &latest)) < 0)
		return ret;
	recorded = latest && latest->rs && ir_ruleset_equal(latest->rs, e->live);
	/* The daemon is told again (only when its file differs): after a
	 * crash between the daemon and the record, or a new daemon key. */
	daemon_state_for(w->policy, w->resolved, w->rs, &ds);
	ret = eng_daemon_check(e, &ds);
	if (!ret)
		ret = eng_daemon_sync(e, &ds, r);
	daemon_state_free(&ds);
	if (!ret && (unmanaged || !recorded))
		ret = record_live(e, w, unmanaged, r);
	else if (!ret)
		eng_publish_choice(e, latest);
	state_gen_free(latest);
	if (ret || unmanaged || !recorded)
		return ret;
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
	struct engine_result r = { 0 };
	struct state_gen *latest = NULL;
	struct daemon_state ds;
	int ret = engine_read(e, w->rs->table);

	if (!ret)
		ret = engine_latest(e, &latest);
	/* A rename goes back under the old name, in one transaction. */
	if (!ret && old && strcmp(old, w->rs->table) && latest && latest->rs)
		ret = eng_make_live(e, latest->rs, latest->rs->table, w->rs->table, 0, NULL);
	else if (!ret)
		ret = eng_make_live(e, before, w->rs->table, NULL, 0, NULL);
	/* The daemon may have been told already: back to the latest's. */
	eng_gen_daemon(latest, &ds);
	if (!ret)
		(void)eng_daemon_sync(e, &ds, &r);
	daemon_state_free(&ds);
	engine_result_free(&r);
	state_gen_free(latest);
	if (ret)
		return eng_fail(e, ret, NW502_STATE,
				"table inet %s: could not undo the change either: the kernel holds "
				"rules no generation records; run 'ntpwall apply' again once the "
				"state directory has room", w->rs->table);
	return eng_fail(e, -EIO, NW502_STATE, "the change was undone; nothing changed");
}

/* Back to r->previous after a failed probe: ENGINE_REVERTED. */
static int revert(struct engine *e, struct engine_result *r)
{
	struct engine_result rr = { 0 };
	int ret = engine_restore(e, r->previous, "revert", true, &rr);

	r->outcome = ENGINE_REVERTED;
	r->generation = rr.generation;
	r->unrecorded = rr.unrecorded;
	r->daemon_failed |= rr.daemon_failed;
	engine_result_free(&rr);
	return ret;
}

static int probe_upstreams(struct engine *e, const struct engine_wanted *w,
			   struct engine_result *r, size_t *good)
{
	const struct resolved *res = w->resolved;
	struct addr *a = xcalloc(res->n_upstreams + 1, sizeof(*a));
	int ret;

	for (size_t i = 0; i < res->n_upstreams; i++)
		a[i] = res->upstreams[i].addr;
	ret = eng_probe(e, w->policy, a, res->n_upstreams, r, good);
	free(a);
	return ret;
}

/* One apply's records and what it makes live. */
struct apply_step {
	struct state_prepared pg, pp;	/* the generation, the pending record */
	struct state_gen *g;
	struct daemon_state ds;
	struct ir_ruleset *before;	/* the live table, to undo */
	struct ir_ruleset *sup;		/* old and new addresses: the wall while the daemon moves */
	char *old;			/* the managed table (a rename deletes it) */
};

/* The generation (and, with confirm, the pending record) written ahead: a
 * full state disk fails here, before the kernel is touched. */
static int prepare(struct engine *e, const struct engine_wanted *w,
		   const struct engine_apply_opts *o, struct apply_step *s, struct engine_result *r)
{
	struct state_pending p;
	int ret;

	s->g = eng_gen_for(w, "apply");
	daemon_state_for(w->policy, w->resolved, w->rs, &s->ds);
	s->before = e->live ? ir_ruleset_clone(e->live) : NULL;
	s->old = engine_managed_table(e, NULL);
	ret = eng_prepare(e, s->g, &s->pg);
	if (ret || !o->confirm)
		return ret;
	p = (struct state_pending){ s->g->number, r->previous, (int64_t)time(NULL) + o->confirm };
	r->deadline = p.deadline;
	ret = state_pending_prepare(e->st, &p, &s->pp);
	if (ret)
		eng_fail(e, ret, NW502_STATE, "state directory %s: writing the pending "
			 "confirmation: %s; nothing changed", e->cfg.state_dir, strerror(-ret));
	return ret;
}

/* Publish the records; if that fails after the commit, undo the commit. */
static int publish(struct engine *e, const struct engine_wanted *w,
		   const struct engine_apply_opts *o, struct apply_step *s, struct engine_result *r)
{
	int ret = o->confirm ? eng_publish(e, &s->pp) : 0;

	if (!ret)
		ret = eng_publish(e, &s->pg);
	if (ret) {
		if (o->confirm)
			(void)state_pending_clear(e->st);
		return undo_commit(e, w, s->before, s->old);
	}
	r->outcome = ENGINE_CHANGED;
	r->generation = s->g->number;
	eng_publish_choice(e, s->g);
	return 0;
}

static void step_free(struct engine *e, struct apply_step *s)
{
	state_discard(e->st, &s->pp);
	state_discard(e->st, &s->pg);
	state_gen_free(s->g);
	daemon_state_free(&s->ds);
	ir_ruleset_free(s->before);
	ir_ruleset_free(s->sup);
	free(s->old);
}

/* The host's other firewalls, checked for the upstreams' families. */
static size_t warn_host(struct engine *e, const struct engine_wanted *w)
{
	return eng_warn_host_firewall(e, w->rs->table, eng_upstream_families(w->resolved));
}

/* The first transaction: the policy's rules, with the old addresses still
 * in while a daemon is moved; then the host's other firewalls are checked
 * (*blocked: chains found that would drop NTP) and the probe runs. *bad:
 * no upstream is good. */
static int first_step(struct engine *e, const struct engine_wanted *w,
		      const struct engine_apply_opts *o, struct apply_step *s,
		      struct engine_result *r, bool *bad, size_t *blocked)
{
	size_t good = 0;
	int ret;

	*bad = false;
	*blocked = 0;
	ret = eng_daemon_check(e, &s->ds);
	if (ret)
		return ret;
	if (s->ds.kind != DAEMON_NONE)
		s->sup = eng_superset(w->rs, e->live);
	ret = eng_make_live(e, s->sup ? s->sup : w->rs, w->rs->table, s->old, renew_ms(w), r);
	if (!ret && o->probe) {
		int pr;

		*blocked = warn_host(e, w);
		pr = probe_upstreams(e, w, r, &good);

		/* Interrupted (Ctrl-C, SIGTERM): unchecked rules do not stay. */
		r->interrupted = pr == -EINTR;
		*bad = pr < 0 || !good;
	}
	return ret;
}

/* Make w live, the daemon in step, records written ahead. */
static int commit(struct engine *e, const struct engine_wanted *w,
		  const struct engine_apply_opts *o, struct engine_result *r)
{
	struct apply_step s = { 0 };
	struct engine_result second = { 0 };
	size_t blocked;
	bool bad;
	int ret;

	ret = prepare(e, w, o, &s, r);
	if (!ret)
		ret = first_step(e, w, o, &s, r, &bad, &blocked);
	if (!ret && bad) {
		/* What was live is recorded, then taken back. */
		if (r->interrupted)
			diag_add(e->d, NULL, DIAG_ERROR, NW506_PROBE, "reverting the unchecked rules");
		else
			diag_add(e->d, NULL, DIAG_ERROR, NW506_PROBE,
				 "probe: no upstream answered through the new rules; reverting%s",
				 blocked ? " (is NTP blocked elsewhere? see the warnings above)" : "");
		if (!eng_publish(e, &s.pg))
			r->generation = s.g->number;
		step_free(e, &s);
		return revert(e, r);
	}
	if (!ret)
		ret = eng_daemon_sync(e, &s.ds, r);
	if (!ret && s.sup) {
		ret = eng_make_live(e, w->rs, w->rs->table, NULL, renew_ms(w), &second);
		r->deleted += second.deleted;
		engine_result_free(&second);
	}
	if (!ret)
		ret = publish(e, w, o, &s, r);
	step_free(e, &s);
	return ret;
}

static int changed(struct engine *e, const struct engine_wanted *w,
		   const struct engine_apply_opts *o, bool unmanaged, struct engine_result *r)
{
	int ret;

	struct state_pending p;

	/* Something to go back to: the live table, recorded first unless the
	 * latest generation already holds it. */
	if (o->confirm || o->probe || unmanaged) {
		ret = eng_snapshot(e, engine_backend_name(w->policy), &r->previous);
		if (ret)
			return ret;
	}
	/* A second --confirm before the first is confirmed: the revert goes
	 * back to what was confirmed last, not to the unconfirmed change, and
	 * the first watchdog is not needed any more. */
	if (o->confirm && e->st && state_pending_read(e->st, &p) == 0) {
		r->previous = p.previous;
		engine_stop_watchdog(p.watchdog, p.watchdog_start);
	}
	ret = commit(e, w, o, r);
	if (ret || r->outcome == ENGINE_REVERTED)
		return ret;
	if (o->confirm)
		return eng_start_confirm(e, r);
	eng_settle_pending(e);
	return 0;
}

static bool has_timeouts(const struct ir_ruleset *rs)
{
	for (size_t i = 0; i < rs->n_sets; i++)
		for (size_t j = 0; j < rs->sets[i].n_elems; j++)
			if (rs->sets[i].elems[j].timeout_ms)
				return true;
	return false;
}

/* What the operator should know once the wall is up: addresses that will
 * expire with nothing to refresh them, and a daemon that asks servers the
 * wall blocks (as status says it). */
static void warn_after(struct engine *e, const struct engine_wanted *w)
{
	struct engine_status s = { 0 };
	struct daemon_state ds;

	if (has_timeouts(w->rs) && engine_refresh_scheduled() == 0)
		eng_warn(e, NW500_RUNTIME, "addresses from DNS expire after refresh.expire (%llus) "
			 "and nothing refreshes them: enable the timer ('systemctl enable --now "
			 "ntpwall-refresh.timer') or install the cron entry, or NTP to them stops "
			 "when they expire", (unsigned long long)(w->policy->refresh.expire_ms / 1000));
	daemon_state_for(w->policy, w->resolved, w->rs, &ds);
	engine_daemon_agreement(e, &ds, w->rs, &s);
	for (size_t i = 0; i < s.n_disagree; i++)
		eng_warn(e, NW505_DAEMON, "%s", s.disagree[i]);
	daemon_state_free(&ds);
	engine_status_free(&s);
}

/* apply --probe with nothing to change: the wall may be as asked and NTP
 * dead all the same, so the probe runs anyway, after the host's other
 * firewalls are checked. There is nothing to revert when no upstream
 * answers: r->probe_failed. */
static void probe_unchanged(struct engine *e, const struct engine_wanted *w,
			    struct engine_result *r)
{
	size_t good = 0, blocked = warn_host(e, w);
	int pr = probe_upstreams(e, w, r, &good);

	r->interrupted = pr == -EINTR;
	if (pr >= 0 && good)
		return;
	r->probe_failed = true;
	if (r->interrupted)
		diag_add(e->d, NULL, DIAG_ERROR, NW506_PROBE, "nothing changed; not every upstream "
			 "was probed");
	/* Otherwise the prober said why it could not run. */
	if (pr < 0)
		return;
	if (blocked)
		diag_add(e->d, NULL, DIAG_ERROR, NW506_PROBE, "nothing changed; no upstream "
			 "answered: is NTP blocked elsewhere? (see the warnings above)");
	else
		diag_add(e->d, NULL, DIAG_ERROR, NW506_PROBE, "nothing changed; no upstream "
			 "answered: is NTP blocked elsewhere (by a rule ntpwall cannot judge, or "
			 "on the way)?");
}

int engine_apply(struct engine *e, const struct engine_wanted *w,
		 const struct engine_apply_opts *o, struct engine_result *r)
{
	bool unmanaged = engine_unmanaged(e, w->rs->table);
	bool same = e->live && ir_ruleset_equal(e->live, w->rs);
	struct daemon_state ds;
	int ret;

	memset(r, 0, sizeof(*r));
	r->table = xstrdup(w->rs->table);
	if (unmanaged && !same && (ret = check_unmanaged(e, w, o)))
		return ret;
	/* A daemon file someone else wrote stops the apply before anything,
	 * the state directory included, is made. */
	daemon_state_for(w->policy, w->resolved, w->rs, &ds);
	ret = eng_daemon_check(e, &ds);
	daemon_state_free(&ds);
	if (ret)
		return ret;
	ret = engine_state_open(e, ENGINE_STATE_CREATE);
	if (ret)
		return ret;
	if (!same)
		eng_changes_between(e->live, w->rs, &r->addrs);
	ret = same ? unchanged(e, w, o, unmanaged, r) : changed(e, w, o, unmanaged, r);
	if (ret || r->outcome == ENGINE_REVERTED)
		return ret;
	warn_after(e, w);
	/* With --probe a change was checked before its probe. */
	if (!o->probe)
		(void)warn_host(e, w);
	else if (same)
		probe_unchanged(e, w, r);
	return 0;
}
