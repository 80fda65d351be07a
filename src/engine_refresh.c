/* SPDX-License-Identifier: GPL-2.0-or-later */
/* engine_refresh(): what cron or the systemd timer runs. The live table's
 * sets are updated in place to the freshly resolved policy in one
 * transaction; rules and counters are never touched. New upstream
 * addresses can be probed through the updated rules and taken out again
 * when they fail. A generation is recorded only when addresses came or
 * went. */
#include "engine_int.h"
#include "ntpwall/compile.h"
#include "ntpwall/util.h"

#include <errno.h>
#include <string.h>

static bool is_upstream_set(const struct ir_set *s)
{
	return !strcmp(s->name, COMPILE_SET_UPSTREAMS4) || !strcmp(s->name, COMPILE_SET_UPSTREAMS6);
}

/* The upstream addresses this refresh added (renewed ones aside). */
static size_t added_upstreams(const struct ruleset_delta *d, struct addr **out)
{
	size_t n = 0;

	*out = xcalloc(d->added + 1, sizeof(**out));
	for (size_t i = 0; i < d->n_sets; i++) {
		const struct set_delta *sd = &d->sets[i];

		if (!is_upstream_set(sd->set))
			continue;
		/* Renewed elements are in del and add alike (both sorted): only
		 * keys that del lacks are new. */
		for (size_t j = 0, k = 0; j < sd->n_add && n < d->added; j++) {
			const struct ir_elem *e = sd->add[j];

			while (k < sd->n_del && ir_elem_cmp(sd->del[k], e) < 0)
				k++;
			if (k < sd->n_del && !ir_elem_cmp(sd->del[k], e))
				continue;
			(*out)[n++] = e->addr;
		}
	}
	return n;
}

/* Drop addr from every upstream set of w and from the names that gave it,
 * so the generation records what is live. */
static void drop_addr(struct engine_wanted *w, const struct addr *addr)
{
	for (size_t i = 0; i < w->rs->n_sets; i++) {
		struct ir_set *s = &w->rs->sets[i];
		size_t k = 0;

		if (!is_upstream_set(s))
			continue;
		for (size_t j = 0; j < s->n_elems; j++) {
			if (!addr_cmp(&s->elems[j].addr, addr)) {
				free(s->elems[j].comment);
				continue;
			}
			s->elems[k++] = s->elems[j];
		}
		s->n_elems = k;
	}
	for (size_t i = 0; i < w->resolved->n_names; i++) {
		struct resolve_name *nm = &w->resolved->names[i];
		size_t k = 0;

		for (size_t j = 0; j < nm->n_kept; j++)
			if (addr_cmp(&nm->addrs[j], addr))
				nm->addrs[k++] = nm->addrs[j];
		nm->n_kept = k;
	}
}

/* Probe the new upstream addresses through the rules just updated; those
 * not OK are dropped from w (r->refused counts them, with a warning each). */
static void probe_new(struct engine *e, const struct ruleset_delta *d, struct engine_wanted *w,
		      struct engine_result *r)
{
	struct addr *a;
	size_t n = added_upstreams(d, &a), good;

	if (n && eng_probe(e, w->policy, a, n, r, &good) == 0) {
		for (size_t i = 0; i < r->probe->n; i++) {
			const struct probe_result *pr = &r->probe->v[i];

			if (pr->status == PROBE_OK)
				continue;
			eng_warn(e, NW506_PROBE, "refresh: new upstream %s refused: %s: %s", pr->name,
				 probe_status_str(pr->status), pr->reason);
			drop_addr(w, &pr->addr);
			r->refused++;
		}
	}
	free(a);
}

static size_t names_kept_previous(const struct resolved *r)
{
	size_t n = 0;

	for (size_t i = 0; i < r->n_names; i++)
		n += r->names[i].kept_previous;
	return n;
}

/* The table is gone (nftables.service's `flush ruleset`): restore the
 * latest generation's rules with this refresh's addresses, the daemon in
 * step, and say so. */
static int restore_missing(struct engine *e, struct engine_wanted *w, struct engine_result *r)
{
	struct state_gen *latest = NULL, *g = NULL;
	struct state_prepared pp = { 0 };
	struct daemon_state ds;
	int ret;

	ret = engine_latest(e, &latest);
	if (!ret && (!latest || !latest->rs || strcmp(latest->rs->table, w->rs->table)))
		ret = eng_fail(e, -ENOENT, NW501_KERNEL,
			       "refresh: table inet %s does not exist: run 'ntpwall apply' first",
			       w->rs->table);
	if (!ret && !ir_ruleset_same_shape(latest->rs, w->rs))
		ret = eng_fail(e, -EPROTO, NW501_KERNEL,
			       "refresh: table inet %s is gone and the policy's rules differ from "
			       "the latest generation's: run 'ntpwall restore' or 'ntpwall apply'",
			       w->rs->table);
	if (ret)
		goto out;
	g = eng_gen_for(w, "refresh");
	daemon_state_for(w->policy, w->resolved, w->rs, &ds);
	ret = eng_prepare(e, g, &pp);
	if (!ret)
		ret = eng_make_live_in_step(e, w->rs, w->rs->table, NULL, 0, &ds, r);
	if (!ret)
		ret = eng_publish(e, &pp);
	if (!ret) {
		r->outcome = ENGINE_CHANGED;
		r->restored = true;
		r->generation = g->number;
		eng_publish_choice(e, g);
	}
	daemon_state_free(&ds);
out:
	state_discard(e->st, &pp);
	state_gen_free(g);
	state_gen_free(latest);
	return ret;
}

/* The record and the daemon state for w as it is now. */
static int prepare_for(struct engine *e, struct engine_wanted *w, struct state_gen **g,
		       struct state_prepared *pp, struct daemon_state *ds)
{
	state_discard(e->st, pp);
	state_gen_free(*g);
	daemon_state_free(ds);
	*g = eng_gen_for(w, "refresh");
	daemon_state_for(w->policy, w->resolved, w->rs, ds);
	return eng_prepare(e, *g, pp);
}

/* live differs from want only in sets made foreign by hand (their
 * definitions and the rules are the policy's). */
static bool only_foreign_sets(const struct ir_ruleset *live, const struct ir_ruleset *want)
{
	struct ir_ruleset *clean = ir_ruleset_clone(live);
	bool only;

	for (size_t i = 0; i < clean->n_sets; i++)
		clean->sets[i].flags &= ~IR_SET_FOREIGN;
	only = ir_ruleset_same_shape(clean, want);
	ir_ruleset_free(clean);
	return only;
}

/* The first transaction: the new addresses in (the old ones too while a
 * daemon moves), every DNS element renewed; then the new upstream
 * addresses probed and the refused ones dropped from w. */
static int first_step(struct engine *e, struct engine_wanted *w, bool probing,
		      const struct daemon_state *ds, struct ruleset_delta *d, struct engine_result *r,
		      bool *more, struct ir_ruleset **keep)
{
	struct ir_ruleset *sup = ds->kind != DAEMON_NONE ? eng_superset(w->rs, e->live) : NULL;
	bool replace;
	int ret;

	ret = eng_update(e, sup ? sup : w->rs, DELTA_RENEW_ALL, d, &replace);
	if (!ret && replace && e->live && only_foreign_sets(e->live, w->rs)) {
		/* Rules as the policy's, a set edited by hand (a range): the
		 * elements cannot be changed in place; the addresses from DNS
		 * must not run out meanwhile. */
		eng_warn(e, NW501_KERNEL, "refresh: a set of table inet %s holds elements ntpwall "
			 "did not make (a range added by hand?): the table is replaced, its "
			 "counters start again", w->rs->table);
		ret = eng_commit(e, sup ? sup : w->rs, w->rs->table, NULL);
		replace = false;
	}
	if (!ret && replace)
		ret = eng_fail(e, -EPROTO, NW501_KERNEL,
			       "refresh: the policy's rules differ from table inet %s's, not only "
			       "its addresses: run 'ntpwall diff' and 'ntpwall apply'; nothing "
			       "changed", w->rs->table);
	*more = sup != NULL;
	/* d points into sup: the caller frees it after d. */
	*keep = sup;
	if (!ret && probing && d->added)
		probe_new(e, d, w, r);
	*more |= r->refused > 0;
	return ret;
}

/* The second transaction: what is not wanted any more leaves. */
static int second_step(struct engine *e, const struct engine_wanted *w, struct engine_result *r)
{
	struct ruleset_delta d = { 0 };
	bool replace;
	int ret = engine_read(e, w->rs->table);

	if (!ret)
		ret = eng_update(e, w->rs, 0, &d, &replace);
	/* The refused addresses went in and out: no change. */
	r->deleted += d.deleted - (d.deleted < r->refused ? d.deleted : r->refused);
	ruleset_delta_free(&d);
	return ret;
}

int engine_refresh(struct engine *e, struct engine_wanted *w, bool probe,
		   struct engine_result *r)
{
	bool probing = probe || w->policy->refresh.probe, more = false;
	struct ruleset_delta d = { 0 };
	struct state_prepared pp = { 0 };
	struct daemon_state ds = { 0 };
	struct state_gen *g = NULL;
	struct ir_ruleset *sup = NULL, *before;
	int ret;

	memset(r, 0, sizeof(*r));
	r->table = xstrdup(w->rs->table);
	/* No table: restored from the latest generation, if there is one;
	 * without a state directory there is none, and none is made. */
	if (!e->live && !e->st)
		return eng_fail(e, -ENOENT, NW501_KERNEL, "refresh: table inet %s does not exist: "
				"run 'ntpwall apply' first", w->rs->table);
	ret = engine_state_open(e, ENGINE_STATE_CREATE);
	if (!ret && !e->live)
		return restore_missing(e, w, r);
	if (!ret)
		ret = eng_judge_members(e, w, probing, r);
	/* Written ahead: a full disk stops the refresh before the kernel. */
	if (!ret)
		ret = prepare_for(e, w, &g, &pp, &ds);
	if (!ret)
		ret = eng_daemon_check(e, &ds);
	before = e->live ? ir_ruleset_clone(e->live) : NULL;
	if (!ret)
		ret = first_step(e, w, probing, &ds, &d, r, &more, &sup);
	eng_changes_renewed(&d, &r->addrs);
	if (!ret && r->refused)
		ret = prepare_for(e, w, &g, &pp, &ds);
	if (!ret)
		ret = eng_daemon_sync(e, &ds, r);
	r->in_place = true;
	r->added = d.added - r->refused;
	r->deleted = d.deleted;
	r->renewed = d.renewed;
	if (!ret && more)
		ret = second_step(e, w, r);
	r->kept_previous = names_kept_previous(w->resolved);
	r->outcome = ENGINE_UNCHANGED;
	if (!ret && (r->added || r->deleted || r->daemon_told)) {
		ret = eng_publish(e, &pp);
		if (!ret) {
			r->outcome = ENGINE_CHANGED;
			r->generation = g->number;
			eng_changes_between(before, w->rs, &r->addrs);
		}
	}
	if (!ret)
		eng_publish_choice(e, r->generation ? g : NULL);
	state_discard(e->st, &pp);
	state_gen_free(g);
	daemon_state_free(&ds);
	ruleset_delta_free(&d);
	ir_ruleset_free(sup);
	ir_ruleset_free(before);
	return ret;
}
