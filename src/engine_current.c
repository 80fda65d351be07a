/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The ruleset the wall runs by the records, read without the kernel (no
 * root, no netlink), for `ntpwall explain`: the latest generation, or,
 * where this user may not read the state directory, the policy the
 * published choice names compiled with the published addresses. */
#include "engine_int.h"
#include "ntpwall/compile.h"
#include "ntpwall/util.h"

#include <errno.h>
#include <jansson.h>
#include <string.h>

void engine_current_free(struct engine_current *cur)
{
	ir_ruleset_free(cur->rs);
	free(cur->policy_path);
	free(cur->created);
	memset(cur, 0, sizeof(*cur));
}

static int from_state(struct engine *e, struct engine_current *cur)
{
	unsigned long n = state_latest(e->st);
	struct state_gen *g = NULL;
	struct diags why;
	int ret;

	if (!n)
		return eng_fail(e, -ENOENT, NW502_STATE, "state directory %s holds no generation: "
				"nothing was applied (give a POLICY)", e->cfg.state_dir);
	/* Its own diagnostics: an unreadable generation is not an error
	 * here when the published choice can stand in. */
	diag_init(&why, 0);
	ret = state_load(e->st, n, &g, &why);
	if (ret < 0 && ret != -EACCES && ret != -EPERM)
		eng_fail(e, ret, NW502_STATE, "state directory %s: generation %lu: %s",
			 e->cfg.state_dir, n, why.n ? why.v[0].msg : strerror(-ret));
	diag_free(&why);
	if (ret < 0)
		return ret;
	if (!g->rs) {
		state_gen_free(g);
		return eng_fail(e, -ENOENT, NW502_STATE, "generation %lu removed the table: ntpwall "
				"filters nothing (give a POLICY)", n);
	}
	cur->rs = g->rs;
	g->rs = NULL;
	cur->generation = n;
	cur->policy_path = g->policy_path ? xstrdup(g->policy_path) : NULL;
	cur->created = g->created ? xstrdup(g->created) : NULL;
	cur->iptables = g->backend && !strcmp(g->backend, "iptables");
	state_gen_free(g);
	return 0;
}

/* The published choice names a policy path and a generation. */
static int read_published(struct engine *e, int why, char **policy, unsigned long *gen)
{
	char *path = xasprintf("%s/upstreams.json", e->cfg.run_dir ? e->cfg.run_dir : "");
	json_t *j = e->cfg.run_dir ? json_load_file(path, 0, NULL) : NULL;
	const char *p = j ? json_string_value(json_object_get(j, "policy")) : NULL;
	int ret = 0;

	if (!p)
		ret = eng_fail(e, -ENOENT, NW502_STATE, "state directory %s: %s, and %s %s", e->cfg.state_dir,
			       strerror(-why), path, j ? "names no policy" : "cannot be read");
	else
		*policy = xstrdup(p);
	*gen = j ? (unsigned long)json_integer_value(json_object_get(j, "generation")) : 0;
	json_decref(j);
	free(path);
	return ret;
}

static int from_published(struct engine *e, int why, struct engine_current *cur)
{
	struct policy *p = NULL;
	struct resolved *r = NULL;
	int ret = read_published(e, why, &cur->policy_path, &cur->generation);

	if (!ret)
		ret = policy_load(cur->policy_path, e->d, &p);
	if (!ret && engine_current_choice(e, p, &r) < 0)
		ret = eng_fail(e, -ENOENT, NW502_STATE, "%s/upstreams.json lacks a name of %s "
			       "(changed since generation %lu?)", e->cfg.run_dir, cur->policy_path,
			       cur->generation);
	if (!ret)
		ret = compile_policy(p, r, e->d, &cur->rs);
	if (!ret)
		cur->iptables = !strcmp(engine_backend_name(p), "iptables");
	cur->published = !ret;
	cur->state_error = why;
	resolve_free(r);
	policy_free(p);
	return ret;
}

int engine_current_ruleset(struct engine *e, struct engine_current *cur)
{
	int ret = 0;

	memset(cur, 0, sizeof(*cur));
	if (!e->st)
		ret = state_open(e->cfg.state_dir, false, &e->st);
	if (ret == -ENOENT)
		return eng_fail(e, ret, NW502_STATE, "no state directory %s: nothing was applied "
				"(give a POLICY)", e->cfg.state_dir);
	if (!ret)
		ret = from_state(e, cur);
	/* Another user's state (mode 0700, or not this user's: state_open
	 * refuses it): what the wall published for everyone instead. */
	if (ret == -EACCES || ret == -EPERM)
		return from_published(e, ret, cur);
	if (ret < 0 && !e->d->errors)
		eng_fail(e, ret, NW502_STATE, "state directory %s: %s", e->cfg.state_dir,
			 strerror(-ret));
	return ret;
}
