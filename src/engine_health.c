/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Pool members' health, as refresh judges it before it keeps them: the
 * prober (refresh --probe) and the time daemon's own view of its sources.
 * A member the daemon reports unusable (chrony: state '?' or 'x', or
 * nothing received) for daemon.replace_after refreshes in a row, or one
 * that fails the probe or is a falseticker, is replaced from the current
 * DNS answers; the rest stay, answered or not. The count of refreshes in a
 * row is kept in the state directory (health.json). */
#include "engine_int.h"
#include "ntpwall/compile.h"
#include "ntpwall/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HEALTH_FILE "health.json"

struct members {
	struct addr *v;
	size_t n, cap;
};

static void add(struct members *m, const struct addr *a)
{
	for (size_t i = 0; i < m->n; i++)
		if (!addr_cmp(&m->v[i], a))
			return;
	xgrow((void **)&m->v, &m->cap, m->n, sizeof(*m->v));
	m->v[m->n++] = *a;
}

static bool in_wall(const struct ir_ruleset *live, const struct addr *a)
{
	const char *name = a->family == AF_INET ? COMPILE_SET_UPSTREAMS4 : COMPILE_SET_UPSTREAMS6;
	const struct ir_set *s = live ? ir_set_find(live, name) : NULL;

	return s && ir_set_find_elem(s, a, a->family == AF_INET ? 32 : 128);
}

/* The pool members w keeps that the wall already trusts. */
static void current_members(const struct engine *e, const struct engine_wanted *w,
			    struct members *m)
{
	const struct policy *p = w->policy;

	for (size_t i = 0; i < w->resolved->n_names; i++) {
		const struct resolve_name *nm = &w->resolved->names[i];

		if (nm->role != RESOLVE_ROLE_UPSTREAM ||
		    p->upstreams[nm->index].kind != POLICY_UPSTREAM_POOL)
			continue;
		for (size_t j = 0; j < nm->n_kept; j++)
			if (in_wall(e->live, &nm->addrs[j]))
				add(m, &nm->addrs[j]);
	}
}

static const struct daemon_source *find_source(const struct daemon_source *v, size_t n,
					       const struct addr *a)
{
	for (size_t i = 0; i < n; i++)
		if (!addr_cmp(&v[i].addr, a))
			return &v[i];
	return NULL;
}

/* A member the daemon never heard from is judged only after this long: a
 * source just added is unreachable until its first answer (chrony's
 * iburst polls two seconds apart). One heard before and silent now, or a
 * falseticker, is judged at once. */
#define HEALTH_GRACE_S 8

/* One member's record in health.json: since when it is a member, and at
 * how many refreshes in a row the daemon found it unusable. */
static json_int_t strikes(const struct daemon_source *s, json_t *old, json_int_t now,
			  json_int_t *since)
{
	json_int_t k = json_integer_value(json_object_get(old, "unusable"));

	*since = old ? json_integer_value(json_object_get(old, "since")) : now;
	if (!s)	/* not among the daemon's sources: it cannot be judged */
		return k;
	if (s->usable)
		return 0;
	return s->state == 'x' || s->heard || now - *since >= HEALTH_GRACE_S ? k + 1 : k;
}

/* Count the refreshes in a row the daemon found each member unusable;
 * those at the limit join bad. Without a daemon view, nothing changes. */
static void daemon_strikes(struct engine *e, const struct engine_wanted *w,
			   const struct members *cur, struct members *bad)
{
	json_int_t now = (json_int_t)time(NULL);
	struct daemon_state ds;
	struct daemon_source *src = NULL;
	json_t *old = NULL, *now_j = json_object(), *j;
	size_t n = 0;
	char buf[INET6_ADDRSTRLEN];

	daemon_state_for(w->policy, w->resolved, w->rs, &ds);
	if (ds.kind != DAEMON_CHRONY || e->cfg.daemon->sources(&ds, &src, &n, e->d) < 0 || !n)
		goto out;
	(void)state_json_read(e->st, HEALTH_FILE, &old);
	for (size_t i = 0; i < cur->n; i++) {
		const struct daemon_source *s = find_source(src, n, &cur->v[i]);
		const char *key = addr_str(&cur->v[i], buf, sizeof(buf));
		json_int_t since, k = strikes(s, json_object_get(json_object_get(old, "members"),
								  key), now, &since);

		json_object_set_new(now_j, key, json_pack("{s:I, s:I}", "since", since,
							   "unusable", k));
		if (k >= (json_int_t)w->policy->daemon.replace_after) {
			eng_warn(e, NW505_DAEMON, "pool member %s: %s reported it unusable at %lld "
				 "refreshes in a row (state '%c', reach %o): replaced", key,
				 daemon_kind_name(ds.kind), (long long)k, s ? s->state : '?',
				 s ? s->reach : 0);
			add(bad, &cur->v[i]);
		}
	}
	j = json_pack("{s:O}", "members", now_j);
	(void)state_json_write(e->st, HEALTH_FILE, j);
	json_decref(j);
out:
	json_decref(old);
	json_decref(now_j);
	free(src);
	daemon_state_free(&ds);
}

/* Probe the current members through the wall; those not OK join bad. */
static void probe_members(struct engine *e, const struct engine_wanted *w,
			  const struct members *cur, struct members *bad, struct engine_result *r)
{
	size_t good;

	if (!cur->n || eng_probe(e, w->policy, cur->v, cur->n, r, &good) < 0)
		return;
	for (size_t i = 0; i < r->probe->n; i++) {
		const struct probe_result *pr = &r->probe->v[i];

		if (pr->status == PROBE_OK)
			continue;
		eng_warn(e, NW506_PROBE, "pool member %s failed the probe: %s: %s; replaced",
			 pr->name, probe_status_str(pr->status), pr->reason);
		add(bad, &pr->addr);
	}
}

int eng_judge_members(struct engine *e, struct engine_wanted *w, bool probing,
		      struct engine_result *r)
{
	struct members cur = { 0 }, bad = { 0 };
	int ret = 0;

	current_members(e, w, &cur);
	daemon_strikes(e, w, &cur, &bad);
	if (probing)
		probe_members(e, w, &cur, &bad, r);
	if (bad.n)
		ret = eng_rechoose(e, w, bad.v, bad.n);
	r->replaced = bad.n;
	free(cur.v);
	free(bad.v);
	return ret;
}
