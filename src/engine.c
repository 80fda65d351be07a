/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The engine's core: the state directory and backend connection of one
 * run, the compare-and-swap commit with bounded retries, in-place element
 * updates, records written ahead of commits, and the managed-table lookup.
 * The operations (apply, refresh, restore, confirm) sit on top of it in
 * engine_*.c. */
#include "engine_int.h"
#include "ntpwall/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void vdiag(struct engine *e, enum diag_severity sev, enum diag_code code,
		  const char *fmt, va_list ap)
{
	char *msg;

	if (vasprintf(&msg, fmt, ap) < 0)
		abort();
	diag_add(e->d, NULL, sev, code, "%s", msg);
	free(msg);
}

int eng_fail(struct engine *e, int ret, enum diag_code code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdiag(e, DIAG_ERROR, code, fmt, ap);
	va_end(ap);
	return ret;
}

void eng_warn(struct engine *e, enum diag_code code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdiag(e, DIAG_WARNING, code, fmt, ap);
	va_end(ap);
}

void engine_result_free(struct engine_result *r)
{
	probe_results_free(r->probe);
	free(r->table);
	engine_addr_changes_free(&r->addrs);
	memset(r, 0, sizeof(*r));
}

void engine_init(struct engine *e, const struct engine_config *cfg, struct diags *d)
{
	memset(e, 0, sizeof(*e));
	e->cfg = *cfg;
	if (!e->cfg.keep)
		e->cfg.keep = STATE_DEFAULT_KEEP;
	if (!e->cfg.net)
		e->cfg.net = &engine_net_direct;
	if (!e->cfg.daemon)
		e->cfg.daemon = &daemon_system;
	e->d = d;
}

static void engine_close_backend(struct engine *e)
{
	ir_ruleset_free(e->live);
	e->live = NULL;
	if (e->ops && e->b)
		e->ops->close(e->b);
	e->b = NULL;
	e->ops = NULL;
}

void engine_fini(struct engine *e)
{
	engine_close_backend(e);
	state_close(e->st);
	e->st = NULL;
}

static int state_fail(struct engine *e, int ret)
{
	if (ret == -EPERM)
		return eng_fail(e, ret, NW502_STATE,
				"state directory %s: must belong to this user and not be writable "
				"by group or others (chmod 700); refusing it", e->cfg.state_dir);
	return eng_fail(e, ret, NW502_STATE, "state directory %s: %s", e->cfg.state_dir,
			strerror(-ret));
}

int engine_state_open(struct engine *e, enum engine_state_mode mode)
{
	int ret;

	if (!e->st) {
		ret = state_open(e->cfg.state_dir, mode == ENGINE_STATE_CREATE, &e->st);
		if (ret == -ENOENT && mode != ENGINE_STATE_CREATE)
			return 0;
		if (ret < 0)
			return state_fail(e, ret);
	}
	if (mode != ENGINE_STATE_READ && e->st->lock_fd < 0 && (ret = state_lock(e->st)) < 0)
		return state_fail(e, ret);
	return 0;
}

void engine_state_unlock(struct engine *e)
{
	if (e->st)
		state_unlock(e->st);
}

int engine_open(struct engine *e, const char *name)
{
	int ret;

	engine_close_backend(e);
	e->ops = e->cfg.backend ? e->cfg.backend : backend_find(name);
	if (!e->ops)
		return eng_fail(e, -ENOENT, NW501_KERNEL, "backend '%s' is not available", name);
	ret = e->ops->open(&e->b);
	if (ret < 0) {
		e->ops = NULL;
		e->b = NULL;
		return eng_fail(e, ret, NW501_KERNEL, "%s: cannot talk to the kernel: %s%s", name,
				strerror(-ret),
				ret == -EPERM ? " (needs root or CAP_NET_ADMIN)" : "");
	}
	if (e->ops->configure)
		e->ops->configure(e->b, &(struct backend_opts){ .force = e->cfg.force_backend });
	return 0;
}

int engine_read(struct engine *e, const char *table)
{
	int ret;

	ir_ruleset_free(e->live);
	e->live = NULL;
	ret = e->ops->read(e->b, table, &e->live, &e->gen);
	if (ret == -ENOENT) {
		/* The table is absent; the generation still comes from the kernel. */
		ret = e->ops->generation(e->b, &e->gen);
		if (ret < 0)
			return eng_fail(e, ret, NW501_KERNEL, "reading the ruleset generation: %s",
					strerror(-ret));
		return 0;
	}
	if (ret < 0)
		return eng_fail(e, ret, NW501_KERNEL, "reading table inet %s: %s", table,
				strerror(-ret));
	return 0;
}

int engine_latest(struct engine *e, struct state_gen **out)
{
	unsigned long n = e->st ? state_latest(e->st) : 0;
	int ret;

	*out = NULL;
	if (!n)
		return 0;
	ret = state_load(e->st, n, out, e->d);
	if (ret == -ENOENT)	/* pruned by another run since state_latest() */
		eng_fail(e, ret, NW502_STATE, "state directory %s: generation %lu: %s",
			 e->cfg.state_dir, n, strerror(-ret));
	return ret < 0 ? ret : 0;
}

char *engine_managed_table(struct engine *e, const struct state_gen *latest)
{
	unsigned long *nums;
	char *table = NULL;
	size_t n;

	/* A generation of 100,000 elements is megabytes of JSON: never load
	 * the one the caller has already. */
	if (latest && latest->rs)
		return xstrdup(latest->rs->table);
	if (!e->st || state_list(e->st, &nums, &n) < 0)
		return NULL;
	while (n-- > 0 && !table) {
		struct state_gen *g;

		if (latest && nums[n] == latest->number)
			continue;
		if (state_load(e->st, nums[n], &g, NULL) < 0)
			continue;
		if (g->rs)
			table = xstrdup(g->rs->table);
		state_gen_free(g);
	}
	free(nums);
	return table;
}

bool engine_unmanaged(struct engine *e, const char *table)
{
	char *managed;
	bool unmanaged;

	if (!e->live)
		return false;
	managed = engine_managed_table(e, NULL);
	unmanaged = !managed || strcmp(managed, table);
	free(managed);
	return unmanaged;
}

const char *engine_backend_name(const struct policy *p)
{
	return p->backend == POLICY_BACKEND_NFT ? "nft" : "iptables";
}

/* The last attempt's ret, as the caller sees it: retried means the
 * ruleset kept changing (the retries ran out). */
static int outcome(struct engine *e, int ret, bool retried, const char *table)
{
	if (retried)
		return eng_fail(e, -EAGAIN, NW504_CHANGING,
				"table inet %s: the ruleset kept changing under us; nothing changed",
				table);
	/* The backend declined (its message says why), the kernel was not asked. */
	if (ret == -ECANCELED)
		return eng_fail(e, ret, NW501_KERNEL, "table inet %s: not applied; nothing changed",
				table);
	if (ret < 0)
		return eng_fail(e, ret, NW501_KERNEL,
				"table inet %s: the kernel refused the transaction; nothing changed",
				table);
	return 0;
}

int eng_commit(struct engine *e, const struct ir_ruleset *rs, const char *table,
	       const char *old_table)
{
	int ret = -ERESTART;

	for (int i = 0; i < BACKEND_RETRIES && ret == -ERESTART; i++) {
		if (i && (ret = engine_read(e, table)) < 0)
			return ret;
		ret = rs ? e->ops->apply(e->b, rs, old_table, &e->gen, e->d) :
			   e->ops->remove(e->b, table, &e->gen, e->d);
	}
	return outcome(e, ret, ret == -ERESTART, table);
}

int eng_update(struct engine *e, const struct ir_ruleset *rs, uint64_t renew_ms,
	       struct ruleset_delta *delta, bool *replace)
{
	int ret = -ERESTART;

	*replace = false;
	/* An element that expired since the read is ENOENT: read and retry. */
	for (int i = 0; i < BACKEND_RETRIES && (ret == -ERESTART || ret == -ENOENT); i++) {
		if (i && (ret = engine_read(e, rs->table)) < 0)
			return ret;
		ruleset_delta_free(delta);
		if (!e->live || !ruleset_delta(e->live, rs, renew_ms, delta)) {
			*replace = true;
			return 0;
		}
		if (ruleset_delta_empty(delta))
			return 0;
		ret = e->ops->update(e->b, rs, delta, &e->gen, e->d);
	}
	/* Still an element the kernel does not have, after every re-read:
	 * not an expiry but a set in a form ntpwall cannot edit. A new table
	 * is the way out; the caller replaces it. */
	if (ret == -ENOENT) {
		eng_warn(e, NW501_KERNEL, "table inet %s: its elements cannot be changed in place "
			 "(edited by hand?): the table is replaced instead", rs->table);
		*replace = true;
		return 0;
	}
	return outcome(e, ret, ret == -ERESTART, rs->table);
}

int eng_make_live(struct engine *e, const struct ir_ruleset *rs, const char *table,
		  const char *old_table, uint64_t renew_ms, struct engine_result *r)
{
	struct ruleset_delta d = { 0 };
	bool replace = true;
	int ret = 0;

	if (rs && (!old_table || !strcmp(old_table, rs->table)))
		ret = eng_update(e, rs, renew_ms, &d, &replace);
	if (!ret && replace) {
		ret = eng_commit(e, rs, table, old_table);
	} else if (!ret && r) {
		r->in_place = true;
		r->added = d.added;
		r->deleted = d.deleted;
		r->renewed = d.renewed;
		eng_changes_renewed(&d, &r->addrs);
	}
	ruleset_delta_free(&d);
	return ret;
}

int eng_prepare(struct engine *e, struct state_gen *g, struct state_prepared *pp)
{
	int ret = state_prepare(e->st, g, pp);

	if (ret < 0)
		return eng_fail(e, ret, NW502_STATE,
				"state directory %s: writing generation %lu: %s; nothing changed",
				e->cfg.state_dir, g->number, strerror(-ret));
	return 0;
}

int eng_publish(struct engine *e, struct state_prepared *pp)
{
	int ret = state_publish(e->st, pp, e->cfg.keep);

	if (ret < 0)
		return eng_fail(e, ret, NW502_STATE, "state directory %s: recording %s: %s",
				e->cfg.state_dir, pp->name, strerror(-ret));
	return 0;
}

int eng_record(struct engine *e, struct state_gen *g)
{
	struct state_prepared pp;
	int ret = eng_prepare(e, g, &pp);

	return ret ? ret : eng_publish(e, &pp);
}

int eng_snapshot(struct engine *e, const char *backend, unsigned long *prev)
{
	struct state_gen *g;
	int ret;

	*prev = 0;
	if (!e->live)
		return 0;
	ret = engine_latest(e, &g);
	if (ret < 0)
		return ret;
	if (g && g->rs && ir_ruleset_equal(g->rs, e->live)) {
		*prev = g->number;
		state_gen_free(g);
		return 0;
	}
	state_gen_free(g);
	g = state_gen_new("snapshot", backend);
	g->rs = ir_ruleset_clone(e->live);
	/* One more than keep: the snapshot must survive the apply's pruning. */
	e->cfg.keep++;
	ret = eng_record(e, g);
	e->cfg.keep--;
	if (!ret)
		*prev = g->number;
	state_gen_free(g);
	return ret;
}
