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
static size_t added_upstreams(const struct ruleset_delta *d, struct policy_addr **out)
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
static void drop_addr(struct engine_wanted *w, const struct policy_addr *addr)
{
	for (size_t i = 0; i < w->rs->n_sets; i++) {
		struct ir_set *s = &w->rs->sets[i];
		size_t k = 0;

		if (!is_upstream_set(s))
			continue;
		for (size_t j = 0; j < s->n_elems; j++) {
			if (!policy_addr_cmp(&s->elems[j].addr, addr)) {
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
			if (policy_addr_cmp(&nm->addrs[j], addr))
				nm->addrs[k++] = nm->addrs[j];
		nm->n_kept = k;
	}
}

/* Probe the new upstream addresses through the rules just updated; those
 * not OK are dropped from w (r->refused counts them, with a warning each). */
static void probe_new(struct engine *e, const struct ruleset_delta *d, struct engine_wanted *w,
		      struct engine_result *r)
{
	struct policy_addr *a;
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

/* Update in place; *d says what was sent. Refuses a structural change. */
static int update(struct engine *e, const struct engine_wanted *w, struct ruleset_delta *d)
{
	bool replace;
	int ret;

	ret = eng_update(e, w->rs, DELTA_RENEW_ALL, d, &replace);
	if (!ret && replace)
		ret = eng_fail(e, -EPROTO, NW501_KERNEL,
			       "refresh: the policy's rules differ from table inet %s's, not only "
			       "its addresses: run 'ntpwall diff' and 'ntpwall apply'; nothing "
			       "changed", w->rs->table);
	return ret;
}

static size_t names_kept_previous(const struct resolved *r)
{
	size_t n = 0;

	for (size_t i = 0; i < r->n_names; i++)
		n += r->names[i].kept_previous;
	return n;
}

/* Take the addresses the probe refused out of the kernel again, and
 * prepare the record anew for what is left. */
static int take_out_refused(struct engine *e, struct engine_wanted *w, struct state_gen **g,
			    struct state_prepared *pp)
{
	struct ruleset_delta d = { 0 };
	bool replace;
	int ret = engine_read(e, w->rs->table);

	if (!ret)
		ret = eng_update(e, w->rs, 0, &d, &replace);
	ruleset_delta_free(&d);
	state_discard(e->st, pp);
	state_gen_free(*g);
	*g = eng_gen_for(w, "refresh");
	return ret ? ret : eng_prepare(e, *g, pp);
}

int engine_refresh(struct engine *e, struct engine_wanted *w, bool probe,
		   struct engine_result *r)
{
	struct ruleset_delta d = { 0 };
	struct state_prepared pp = { 0 };
	struct state_gen *g = NULL;
	int ret;

	memset(r, 0, sizeof(*r));
	r->table = xstrdup(w->rs->table);
	if (!e->live)
		return eng_fail(e, -ENOENT, NW501_KERNEL,
				"refresh: table inet %s does not exist: run 'ntpwall apply' first",
				w->rs->table);
	ret = engine_state_open(e, ENGINE_STATE_CREATE);
	if (ret)
		return ret;
	/* Written ahead: a full disk stops the refresh before the kernel. */
	g = eng_gen_for(w, "refresh");
	ret = eng_prepare(e, g, &pp);
	if (!ret)
		ret = update(e, w, &d);
	if (ret)
		goto out;
	if ((probe || w->policy->refresh.probe) && d.added) {
		probe_new(e, &d, w, r);
		if (r->refused && (ret = take_out_refused(e, w, &g, &pp)))
			goto out;
	}
	r->in_place = true;
	r->added = d.added - r->refused;
	r->deleted = d.deleted;
	r->renewed = d.renewed;
	r->kept_previous = names_kept_previous(w->resolved);
	r->outcome = ENGINE_UNCHANGED;
	if (d.added > r->refused || d.deleted) {
		ret = eng_publish(e, &pp);
		if (!ret) {
			r->outcome = ENGINE_CHANGED;
			r->generation = g->number;
		}
	}
out:
	state_discard(e->st, &pp);
	state_gen_free(g);
	ruleset_delta_free(&d);
	return ret;
}
