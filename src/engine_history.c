/* SPDX-License-Identifier: GPL-2.0-or-later */
/* engine_history(): what changed when. Every stored generation with its
 * action, time, policy, how many addresses each set holds, and which
 * upstream and peer addresses came or went against the one before; the
 * same comparison tells a changing command's result what it changed. */
#include "engine_int.h"
#include "ntpwall/compile.h"
#include "ntpwall/util.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* The sets whose addresses are reported as coming and going. */
static const char *const watched[] = {
	COMPILE_SET_UPSTREAMS4, COMPILE_SET_UPSTREAMS6, "peers4", "peers6",
};

static size_t count(const struct ir_ruleset *rs, size_t from, size_t to)
{
	size_t n = 0;

	for (size_t i = from; rs && i < to; i++) {
		const struct ir_set *s = ir_set_find(rs, watched[i]);

		n += s ? s->n_elems : 0;
	}
	return n;
}

static void push(char ***v, size_t *n, const struct ir_elem *e)
{
	char buf[INET6_ADDRSTRLEN];

	*v = xreallocarray(*v, *n + 1, sizeof(**v));
	(*v)[(*n)++] = xstrdup(addr_str(&e->addr, buf, sizeof(buf)));
}

static bool watched_set(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(watched); i++)
		if (!strcmp(name, watched[i]))
			return true;
	return false;
}

/* The elements of a's watched sets that b's lack, into v. */
static void missing(const struct ir_ruleset *a, const struct ir_ruleset *b, char ***v, size_t *n)
{
	for (size_t i = 0; a && i < ARRAY_SIZE(watched); i++) {
		const struct ir_set *s = ir_set_find(a, watched[i]);
		const struct ir_set *t = b ? ir_set_find(b, watched[i]) : NULL;

		for (size_t j = 0; s && j < s->n_elems; j++)
			if (!t || !ir_set_find_elem(t, &s->elems[j].addr, s->elems[j].prefix_len))
				push(v, n, &s->elems[j]);
	}
}

void eng_changes_between(const struct ir_ruleset *before, const struct ir_ruleset *after,
			 struct engine_addr_changes *c)
{
	missing(after, before, &c->added, &c->n_added);
	missing(before, after, &c->removed, &c->n_removed);
}

void eng_changes_renewed(const struct ruleset_delta *d, struct engine_addr_changes *c)
{
	for (size_t i = 0; i < d->n_sets; i++) {
		const struct set_delta *sd = &d->sets[i];

		if (!watched_set(sd->set->name))
			continue;
		/* Renewed: deleted and added again (both lists sorted). */
		for (size_t j = 0, k = 0; j < sd->n_add; j++) {
			while (k < sd->n_del && ir_elem_cmp(sd->del[k], sd->add[j]) < 0)
				k++;
			if (k < sd->n_del && !ir_elem_cmp(sd->del[k], sd->add[j]))
				push(&c->renewed, &c->n_renewed, sd->add[j]);
		}
	}
}

/* A first step's renewals join the result's; the rest of from goes. */
void eng_changes_take_renewed(struct engine_addr_changes *to, struct engine_addr_changes *from)
{
	for (size_t i = 0; i < from->n_renewed; i++) {
		to->renewed = xreallocarray(to->renewed, to->n_renewed + 1, sizeof(char *));
		to->renewed[to->n_renewed++] = from->renewed[i];
	}
	from->n_renewed = 0;
	engine_addr_changes_free(from);
}

static void fill(struct engine_history_entry *h, const struct state_gen *g,
		 const struct ir_ruleset *before)
{
	h->number = g->number;
	h->source = g->source;
	h->action = xstrdup(g->action);
	h->created = xstrdup(g->created);
	h->backend = xstrdup(g->backend);
	h->policy_path = g->policy_path ? xstrdup(g->policy_path) : NULL;
	h->policy_hash = g->policy_hash ? xstrdup(g->policy_hash) : NULL;
	h->table = g->rs ? xstrdup(g->rs->table) : NULL;
	h->upstreams = count(g->rs, 0, 2);
	h->peers = count(g->rs, 2, 4);
	eng_changes_between(before, g->rs, &h->addrs);
}

/* One generation; a damaged one is a warning: the others are listed. */
static int load_or_warn(struct engine *e, unsigned long n, struct state_gen **g)
{
	struct diags why;
	int ret;

	diag_init(&why, 0);
	ret = state_load(e->st, n, g, &why);
	if (ret < 0)
		eng_warn(e, NW502_STATE, "%s", why.n ? why.v[0].msg : "generation vanished");
	diag_free(&why);
	return ret;
}

int engine_history(struct engine *e, struct engine_history_entry **out, size_t *n)
{
	struct ir_ruleset *before = NULL;
	unsigned long *nums = NULL;
	size_t count_gens = 0;
	int ret;

	*out = NULL;
	*n = 0;
	if (!e->st)
		return 0;
	ret = state_list(e->st, &nums, &count_gens);
	if (ret < 0)
		return eng_fail(e, ret, NW502_STATE, "state directory %s: %s", e->cfg.state_dir,
				strerror(-ret));
	*out = xcalloc(count_gens + 1, sizeof(**out));
	for (size_t i = 0; i < count_gens; i++) {
		struct state_gen *g = NULL;

		if (load_or_warn(e, nums[i], &g) < 0)
			continue;
		fill(&(*out)[(*n)++], g, before);
		ir_ruleset_free(before);
		before = g->rs;
		g->rs = NULL;
		state_gen_free(g);
	}
	ir_ruleset_free(before);
	free(nums);
	return 0;
}

static void free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void engine_addr_changes_free(struct engine_addr_changes *c)
{
	free_list(c->added, c->n_added);
	free_list(c->removed, c->n_removed);
	free_list(c->renewed, c->n_renewed);
	memset(c, 0, sizeof(*c));
}

void engine_history_free(struct engine_history_entry *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].action);
		free(v[i].created);
		free(v[i].backend);
		free(v[i].policy_path);
		free(v[i].policy_hash);
		free(v[i].table);
		engine_addr_changes_free(&v[i].addrs);
	}
	free(v);
}
