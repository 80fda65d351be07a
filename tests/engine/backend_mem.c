/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The in-memory backend of the engine tests: see backend_mem.h. Tables
 * are IR JSON (ir_json_dump with live fields) in one shared mapping, the
 * generation id counts commits, and every commit checks it like the
 * kernel checks NFTA_GEN_ID. */
#include "backend_mem.h"
#include "ntpwall/delta.h"
#include "ntpwall/hostfw.h"
#include "ntpwall/ir_json.h"
#include "ntpwall/util.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MEM_SIZE (16u << 20)

struct mem_kernel {
	uint32_t genid;
	unsigned commits;
	size_t len;
	char text[];
};

struct backend {
	int unused;
};

struct mem_faults mem_faults;
static struct mem_kernel *k;

void mem_reset(void)
{
	if (!k) {
		k = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (k == MAP_FAILED)
			abort();
	}
	k->genid = 1;
	k->commits = 0;
	k->len = strlen(strcpy(k->text, "{}"));
	memset(&mem_faults, 0, sizeof(mem_faults));
}

static json_t *load_all(void)
{
	json_t *j = json_loadb(k->text, k->len, 0, NULL);

	if (!j)
		abort();
	return j;
}

static void save_all(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);
	size_t len = strlen(s);

	if (len + 1 > MEM_SIZE - sizeof(*k))
		abort();
	memcpy(k->text, s, len + 1);
	k->len = len;
	free(s);
	json_decref(j);
}

struct ir_ruleset *mem_table(const char *name)
{
	json_t *all = load_all(), *t = json_object_get(all, name);
	struct ir_ruleset *rs = NULL;

	if (t && ir_json_load(t, &rs, NULL))
		abort();
	json_decref(all);
	return rs;
}

void mem_put(const struct ir_ruleset *rs)
{
	json_t *all = load_all();

	json_object_set_new(all, rs->table, ir_json_dump(rs, true));
	save_all(all);
	k->genid++;
}

void mem_delete(const char *name)
{
	json_t *all = load_all();

	json_object_del(all, name);
	save_all(all);
	k->genid++;
}

uint32_t mem_genid(void)
{
	return k->genid;
}

unsigned mem_commits(void)
{
	return k->commits;
}

static int mem_open(struct backend **out)
{
	*out = NULL;
	if (mem_faults.open_errno)
		return -mem_faults.open_errno;
	*out = xcalloc(1, sizeof(**out));
	return 0;
}

static void mem_close(struct backend *b)
{
	free(b);
}

static int mem_generation(struct backend *b, struct backend_gen *gen)
{
	gen->genid = k->genid;
	return 0;
}

static int mem_read(struct backend *b, const char *table, struct ir_ruleset **out,
		    struct backend_gen *gen)
{
	gen->genid = k->genid;
	*out = mem_table(table);
	return *out ? 0 : -ENOENT;
}

/* The checks every commit meets, in the kernel's order. 1: go ahead. */
static int commit_begin(const struct backend_gen *expect, struct diags *d)
{
	if (mem_faults.crash_before && --mem_faults.crash_before == 0)
		_exit(99);
	if (mem_faults.stale > 0) {
		mem_faults.stale--;
		k->genid++;	/* someone else committed meanwhile */
	}
	if (expect && expect->genid != k->genid)
		return -ERESTART;
	if (mem_faults.refuse > 0) {
		mem_faults.refuse--;
		diag_add(d, NULL, DIAG_ERROR, NW501_KERNEL, "memory backend: refused (test fault)");
		return -EINVAL;
	}
	return 1;
}

static void commit_end(void)
{
	k->genid++;
	k->commits++;
	if (mem_faults.crash_after && --mem_faults.crash_after == 0)
		_exit(99);
}

static int mem_apply(struct backend *b, const struct ir_ruleset *rs, const char *old_table,
		     const struct backend_gen *expect, struct diags *d)
{
	int ret = commit_begin(expect, d);
	json_t *all;
	struct ir_ruleset *fresh;

	if (ret <= 0)
		return ret;
	all = load_all();
	if (old_table && strcmp(old_table, rs->table))
		json_object_del(all, old_table);
	/* A new table starts with zero counters, as in the kernel. */
	fresh = ir_ruleset_clone(rs);
	json_object_set_new(all, rs->table, ir_json_dump(fresh, true));
	ir_ruleset_free(fresh);
	save_all(all);
	commit_end();
	return 0;
}

/* Apply one set's deletions and additions to the live copy. */
static int update_set(struct ir_ruleset *live, const struct set_delta *sd)
{
	struct ir_set *s = ir_set_find(live, sd->set->name);
	size_t n = 0;

	if (!s)
		return -ENOENT;
	for (size_t i = 0; i < sd->n_del; i++)
		if (!ir_set_find_elem(s, &sd->del[i]->addr, sd->del[i]->prefix_len))
			return -ENOENT;
	for (size_t j = 0; j < s->n_elems; j++) {
		bool del = false;

		for (size_t i = 0; i < sd->n_del && !del; i++)
			del = !ir_elem_cmp(&s->elems[j], sd->del[i]);
		if (del)
			free(s->elems[j].comment);
		else
			s->elems[n++] = s->elems[j];
	}
	s->n_elems = n;
	for (size_t i = 0; i < sd->n_add; i++) {
		struct ir_elem *e = ir_set_add_elem(s, &sd->add[i]->addr, sd->add[i]->prefix_len,
						    sd->add[i]->comment);

		e->timeout_ms = sd->add[i]->timeout_ms;
		e->expires_ms = e->timeout_ms ? e->timeout_ms : s->timeout_ms;
	}
	ir_set_sort(s);
	return 0;
}

static int mem_update(struct backend *b, const struct ir_ruleset *rs,
		      const struct ruleset_delta *delta, const struct backend_gen *expect,
		      struct diags *d)
{
	int ret = commit_begin(expect, d);
	struct ir_ruleset *live;

	if (ret <= 0)
		return ret;
	if (mem_faults.expire > 0) {
		mem_faults.expire--;
		return -ENOENT;
	}
	live = mem_table(rs->table);
	if (!live)
		return -ENOENT;
	ret = 0;
	for (size_t i = 0; i < delta->n_sets && !ret; i++)
		ret = update_set(live, &delta->sets[i]);
	if (!ret) {
		json_t *all = load_all();

		json_object_set_new(all, rs->table, ir_json_dump(live, true));
		save_all(all);
		commit_end();
	}
	ir_ruleset_free(live);
	return ret;
}

static int mem_remove(struct backend *b, const char *table, const struct backend_gen *expect,
		      struct diags *d)
{
	int ret = commit_begin(expect, d);
	json_t *all;

	if (ret <= 0)
		return ret;
	all = load_all();
	json_object_del(all, table);
	save_all(all);
	commit_end();
	return 0;
}

/* No other tables in memory. */
static int mem_host_chains(struct backend *b, const char *own_table, struct hostfw *out)
{
	memset(out, 0, sizeof(*out));
	return 0;
}

const struct backend_ops backend_mem_ops = {
	.name = "nft",	/* stands in for the policy's backend */
	.open = mem_open,
	.close = mem_close,
	.generation = mem_generation,
	.read = mem_read,
	.apply = mem_apply,
	.update = mem_update,
	.remove = mem_remove,
	.host_chains = mem_host_chains,
};
