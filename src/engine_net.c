/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What a policy asks for, as the engine builds it: load, lint, resolve
 * through the network seam (pool choices kept from the latest generation),
 * compile; and the seam itself in its direct form, where DNS answers and
 * NTP replies are parsed in this process. */
#include "engine_int.h"
#include "ntpwall/compile.h"
#include "ntpwall/lint.h"
#include "ntpwall/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static int direct_resolve(const struct engine_net *n, const struct policy *p,
			  const struct resolve_options *o, struct diags *d, struct resolved **out)
{
	return resolve_policy(p, o, d, out);
}

static int direct_probe(const struct engine_net *n, const struct probe_target *t, size_t count,
			const struct probe_options *o, struct probe_results **out)
{
	return probe_run(t, count, o, out);
}

const struct engine_net engine_net_direct = {
	.resolve = direct_resolve,
	.probe = direct_probe,
};

struct resolved *eng_previous_resolved(struct engine *e)
{
	struct state_gen *g = NULL;
	struct resolved *r = NULL;

	/* An unreadable generation is reported by whoever needs it. */
	if (e->st && state_latest(e->st))
		(void)state_load(e->st, state_latest(e->st), &g, NULL);
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

int engine_resolve(struct engine *e, const struct policy *p, bool keep_failed,
		   struct resolved **out)
{
	struct resolve_options opt = { .keep_failed = keep_failed, .seed = e->cfg.seed };
	int ret;

	if (has_pool(p) || keep_failed)
		opt.previous = eng_previous_resolved(e);
	ret = e->cfg.net->resolve(e->cfg.net, p, &opt, e->d, out);
	resolve_free((struct resolved *)opt.previous);
	return ret;
}

int engine_wanted(struct engine *e, const char *path, bool keep_failed,
		  struct engine_wanted *w)
{
	size_t errors = e->d->errors;
	int ret;

	memset(w, 0, sizeof(*w));
	ret = policy_load(path, e->d, &w->policy);
	if (ret)
		return ret;
	/* Lint's errors are a policy this backend cannot hold: refused
	 * before anything is resolved, as a malformed policy is. */
	lint_policy(w->policy, e->d);
	if (e->d->errors > errors) {
		engine_wanted_free(w);
		return -EINVAL;
	}
	ret = engine_resolve(e, w->policy, keep_failed, &w->resolved);
	if (ret == -EINVAL) {
		/* An apply must never silently drop an upstream. */
		ret = eng_fail(e, ret, NW507_DNS, "%s: not every name resolved; nothing changed",
			       path);
	} else if (ret) {
		ret = eng_fail(e, ret, NW507_DNS, "%s: resolve: %s; nothing changed", path,
			       strerror(-ret));
	}
	if (!ret)
		ret = compile_policy(w->policy, w->resolved, e->d, &w->rs);
	if (ret)
		engine_wanted_free(w);
	return ret;
}

void engine_wanted_free(struct engine_wanted *w)
{
	ir_ruleset_free(w->rs);
	resolve_free(w->resolved);
	policy_free(w->policy);
	memset(w, 0, sizeof(*w));
}

/* Of resolve_to_json(), the names (with TTLs and the addresses they gave):
 * what resolve_from_json() needs for a stable pool choice next time. The
 * addresses themselves are in the ruleset already. */
static json_t *resolved_names(const struct engine_wanted *w)
{
	/* Without the address list: 100,000 literal upstreams would cost
	 * 100,000 JSON objects only to be dropped. */
	struct resolved names_only = *w->resolved;
	json_t *all, *names, *o = json_object();

	names_only.upstreams = NULL;
	names_only.n_upstreams = 0;
	names_only.peers = NULL;
	names_only.n_peers = 0;
	all = resolve_to_json(&names_only, w->policy);
	names = json_object_get(all, "names");
	json_object_set_new(o, "names", names ? json_incref(names) : json_array());
	json_decref(all);
	return o;
}

struct state_gen *eng_gen_for(const struct engine_wanted *w, const char *action)
{
	struct state_gen *g = state_gen_new(action, engine_backend_name(w->policy));

	/* Absolute: the history must name the file whatever directory a
	 * later command runs in. */
	g->policy_path = realpath(w->policy->path, NULL);
	if (!g->policy_path)
		g->policy_path = xstrdup(w->policy->path);
	g->policy_hash = xstrdup(w->policy->hash);
	g->resolved = resolved_names(w);
	g->rs = ir_ruleset_clone(w->rs);
	if (w->policy) {
		struct daemon_state ds;

		daemon_state_for(w->policy, w->resolved, w->rs, &ds);
		if (ds.kind != DAEMON_NONE)
			g->daemon = daemon_state_json(&ds);
		daemon_state_free(&ds);
	}
	return g;
}

int eng_probe(struct engine *e, const struct policy *p, const struct addr *addrs,
	      size_t n, struct engine_result *r, size_t *good)
{
	struct probe_target *t = xcalloc(n + 1, sizeof(*t));
	char (*names)[INET6_ADDRSTRLEN] = xcalloc(n + 1, sizeof(*names));
	struct probe_options o = { .limits = p->probe, .sigmask = e->cfg.probe_sigmask };
	int ret;

	*good = 0;
	for (size_t i = 0; i < n; i++) {
		t[i].addr = addrs[i];
		t[i].name = addr_str(&t[i].addr, names[i], sizeof(names[i]));
	}
	probe_results_free(r->probe);
	r->probe = NULL;
	ret = e->cfg.net->probe(e->cfg.net, t, n, &o, &r->probe);
	if (ret == -EINTR)
		eng_fail(e, ret, NW506_PROBE, "probe: interrupted by a signal before every "
			 "upstream was checked");
	else if (ret < 0)
		eng_fail(e, ret, NW506_PROBE, "probe: %s", strerror(-ret));
	/* The host's own daemon on a local address answers whatever the wall
	 * does: it never proves an upstream reachable. */
	for (size_t i = 0; r->probe && i < r->probe->n; i++)
		*good += r->probe->v[i].status == PROBE_OK &&
			 !addr_special(&r->probe->v[i].addr);
	free(names);
	free(t);
	return ret;
}

int eng_rechoose(struct engine *e, struct engine_wanted *w, const struct addr *excluded,
		 size_t n)
{
	struct resolve_options o = { .seed = e->cfg.seed, .excluded = excluded, .n_excluded = n };
	int ret;

	o.previous = eng_previous_resolved(e);
	resolve_rechoose(w->resolved, w->policy, &o);
	resolve_free((struct resolved *)o.previous);
	ir_ruleset_free(w->rs);
	w->rs = NULL;
	ret = compile_policy(w->policy, w->resolved, e->d, &w->rs);
	return ret;
}
