/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The iptables backend's kernel side, through libiptc: the xtables lock
 * iptables-legacy takes (libiptc takes none), a snapshot of ntpwall's
 * chains and jumps in one table of one family (a table not yet listed in
 * /proc is never initialised: iptc_init would instantiate it, §1 of
 * doc/iptables-notes.md), its generation hash, and a change made in the
 * snapshot's handle and committed in one IPT_SO_SET_REPLACE (atomic per
 * table). Unchanged entries keep their counters (libiptc maps them);
 * re-appended ones get the counters of an equal live entry (§4). */
#include "backend_ipt_kern.h"
#include "ntpwall/backend.h"
#include "ntpwall/util.h"

#include <errno.h>
#include <fcntl.h>
#include <libiptc/libip6tc.h>
#include <libiptc/libiptc.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* libiptc's calls of one family, the entry type hidden. */
struct iptc_ops {
	struct xtc_handle *(*init)(const char *);
	void (*free)(struct xtc_handle *);
	const char *(*first_chain)(struct xtc_handle *);
	const char *(*next_chain)(struct xtc_handle *);
	int (*builtin)(const char *, struct xtc_handle *const);
	const void *(*first_rule)(const char *, struct xtc_handle *);
	const void *(*next_rule)(const void *, struct xtc_handle *);
	const char *(*target)(const void *, struct xtc_handle *);
	int (*create)(const xt_chainlabel, struct xtc_handle *);
	int (*flush)(const xt_chainlabel, struct xtc_handle *);
	int (*remove)(const xt_chainlabel, struct xtc_handle *);
	int (*append)(const xt_chainlabel, const void *, struct xtc_handle *);
	int (*insert)(const xt_chainlabel, const void *, unsigned, struct xtc_handle *);
	int (*delete_num)(const xt_chainlabel, unsigned, struct xtc_handle *);
	int (*commit)(struct xtc_handle *);
	const char *(*policy)(const char *, struct xt_counters *, struct xtc_handle *);
};

static const void *first4(const char *c, struct xtc_handle *h) { return iptc_first_rule(c, h); }
static const void *next4(const void *e, struct xtc_handle *h) { return iptc_next_rule(e, h); }
static const char *target4(const void *e, struct xtc_handle *h) { return iptc_get_target(e, h); }
static int append4(const xt_chainlabel c, const void *e, struct xtc_handle *h)
{ return iptc_append_entry(c, e, h); }
static int insert4(const xt_chainlabel c, const void *e, unsigned n, struct xtc_handle *h)
{ return iptc_insert_entry(c, e, n, h); }
static const void *first6(const char *c, struct xtc_handle *h) { return ip6tc_first_rule(c, h); }
static const void *next6(const void *e, struct xtc_handle *h) { return ip6tc_next_rule(e, h); }
static const char *target6(const void *e, struct xtc_handle *h) { return ip6tc_get_target(e, h); }
static int append6(const xt_chainlabel c, const void *e, struct xtc_handle *h)
{ return ip6tc_append_entry(c, e, h); }
static int insert6(const xt_chainlabel c, const void *e, unsigned n, struct xtc_handle *h)
{ return ip6tc_insert_entry(c, e, n, h); }

static const struct iptc_ops ops[BIPT_NFAM] = {
	{ iptc_init, iptc_free, iptc_first_chain, iptc_next_chain, iptc_builtin, first4, next4,
	  target4, iptc_create_chain, iptc_flush_entries, iptc_delete_chain, append4, insert4,
	  iptc_delete_num_entry, iptc_commit, iptc_get_policy },
	{ ip6tc_init, ip6tc_free, ip6tc_first_chain, ip6tc_next_chain, ip6tc_builtin, first6, next6,
	  target6, ip6tc_create_chain, ip6tc_flush_entries, ip6tc_delete_chain, append6, insert6,
	  ip6tc_delete_num_entry, ip6tc_commit, ip6tc_get_policy },
};

int bipt_lock(int *fd, struct diags *d)
{
	const char *path = getenv("XTABLES_LOCKFILE");
	struct timespec pause = { 0, 20 * 1000 * 1000 };

	if (!path || !*path)
		path = BIPT_LOCK_FILE;
	*fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	if (*fd < 0)
		return diag_add(d, NULL, DIAG_ERROR, NW501_KERNEL, "xtables lock %s: %s", path,
				strerror(errno)), -errno;
	for (unsigned waited = 0; flock(*fd, LOCK_EX | LOCK_NB) < 0; waited += 20) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			int err = errno;

			bipt_unlock(fd);
			diag_add(d, NULL, DIAG_ERROR, NW501_KERNEL, "xtables lock %s: %s", path,
				 strerror(err));
			return -err;
		}
		if (waited >= BIPT_LOCK_WAIT_MS) {
			bipt_unlock(fd);
			diag_add(d, NULL, DIAG_ERROR, NW504_CHANGING, "xtables lock %s: still held "
				 "by another iptables after %u s; nothing changed", path,
				 BIPT_LOCK_WAIT_MS / 1000);
			return -EAGAIN;
		}
		nanosleep(&pause, NULL);
	}
	return 0;
}

void bipt_unlock(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

bool bipt_table_exists(enum bipt_family fam, const char *table)
{
	char *buf = NULL;
	size_t len;
	bool found = false;

	if (util_read_file(bipt_fams[fam].proc, 1u << 16, &buf, &len) < 0)
		return false;
	for (char *save, *line = strtok_r(buf, "\n", &save); line && !found; line = strtok_r(NULL, "\n", &save))
		found = !strcmp(line, table);
	free(buf);
	return found;
}

/* A modular kernel without ip_tables loaded: iptables-legacy runs modprobe
 * (xtables_load_ko) and so do we, once. */
static void load_module(enum bipt_family fam)
{
	char *argv[] = { "modprobe", "-q", fam == BIPT_V4 ? "ip_tables" : "ip6_tables", NULL };
	pid_t pid;
	int status;

	if (posix_spawnp(&pid, "modprobe", NULL, NULL, argv, environ) == 0)
		(void)waitpid(pid, &status, 0);
}

/* The append form of a live entry in place (a copy): standard targets
 * and jumps by name, the kernel's comefrom cleared, counters kept. */
static void fix_form(const struct bipt_fam *f, unsigned char *e, const char *target)
{
	struct xt_entry_target *t = (struct xt_entry_target *)(e + bipt_entry_target_offset(f, e));

	memset(e + f->off_comefrom, 0, sizeof(unsigned int));
	if (!t->u.user.name[0] && t->u.target_size == XT_ALIGN(sizeof(struct xt_standard_target))) {
		memset(t->u.user.name, 0, sizeof(t->u.user.name));
		snprintf(t->u.user.name, sizeof(t->u.user.name), "%s", target ? target : "");
		memset(t->data, 0, sizeof(int));
	}
}

static void append_form(const struct bipt_fam *f, const void *e, const char *target,
			struct bipt_rule *r)
{
	size_t len = bipt_entry_next_offset(f, e);

	r->entry = xmalloc(len);
	memcpy(r->entry, e, len);
	r->entry_len = len;
	fix_form(f, r->entry, target);
	bipt_rule_decode(f, r);
}

static bool ours(const char *table, const char *old, const char *name)
{
	return name && (bipt_chain_ours(table, name) || (old && bipt_chain_ours(old, name)));
}

/* The generation hash of a snapshot, fed while its chains are read:
 * table's chains (their names, even empty) and the jumps to them, each
 * entry in the append form, counters aside. */
struct hasher {
	uint64_t h;
	unsigned char *buf;	/* an entry's append form, when not kept */
	size_t cap;
};

static void hash_name(struct hasher *x, const char *name, bool *named)
{
	if (!*named)
		x->h = util_hash(x->h, name, strlen(name) + 1);
	*named = true;
}

/* e's append form is kept (NULL: made here, in x->buf). */
static void hash_entry(struct hasher *x, const struct bipt_fam *f, const void *e, const char *t,
		       const unsigned char *kept)
{
	size_t len = bipt_entry_next_offset(f, e);

	if (kept) {
		x->h = bipt_entry_hash(f, x->h, kept);
		return;
	}
	if (x->cap < len) {
		x->buf = xreallocarray(x->buf, len, 1);
		x->cap = len;
	}
	memcpy(x->buf, e, len);
	fix_form(f, x->buf, t);
	x->h = bipt_entry_hash(f, x->h, x->buf);
}

/* One chain: its entries hashed when hash (table's own chain or jumps to
 * it), kept into c when keep (every entry, or with only_jumps those to
 * ntpwall's chains). */
static void read_chain(struct bipt_snap *s, const char *name, struct bipt_chain *c,
		       bool only_jumps, const char *table, const char *old, struct hasher *x)
{
	const struct iptc_ops *o = &ops[s->fam];
	const struct bipt_fam *f = &bipt_fams[s->fam];
	bool named = false, own = !only_jumps && bipt_chain_ours(table, name);
	size_t n = 0;

	if (c && !only_jumps) {
		for (const void *e = o->first_rule(name, s->h); e; e = o->next_rule(e, s->h))
			n++;
		bipt_chain_reserve(c, n);
	}
	if (own)
		hash_name(x, name, &named);
	for (const void *e = o->first_rule(name, s->h); e; e = o->next_rule(e, s->h)) {
		const char *t = o->target(e, s->h);
		const unsigned char *kept = NULL;

		if (c && (!only_jumps || ours(table, old, t))) {
			struct bipt_rule *r = bipt_chain_add(c);

			append_form(f, e, t, r);
			kept = r->entry;
		}
		if (only_jumps && !(t && bipt_chain_ours(table, t)))
			continue;
		if (only_jumps || own) {
			hash_name(x, name, &named);
			hash_entry(x, f, e, t, kept);
		}
	}
}

/* ntpwall's chains and jumps into s->live when keep; s->hash always. */
static void read_live(struct bipt_snap *s, const char *table, const char *old, bool keep)
{
	const struct iptc_ops *o = &ops[s->fam];
	struct hasher x = { .h = s->hash };
	char **names = NULL;
	size_t n = 0, cap = 0;

	for (const char *c = o->first_chain(s->h); c; c = o->next_chain(s->h)) {
		xgrow((void **)&names, &cap, n, sizeof(*names));
		names[n++] = xstrdup(c);
	}
	for (size_t i = 0; i < n; i++) {
		if (o->builtin(names[i], s->h)) {
			struct bipt_chain tmp = { 0 };

			snprintf(tmp.name, sizeof(tmp.name), "%s", names[i]);
			read_chain(s, names[i], keep ? &tmp : NULL, true, table, old, &x);
			if (tmp.n)
				*bipt_layout_jumps(&s->live, names[i]) = tmp;
		} else if (ours(table, old, names[i])) {
			read_chain(s, names[i], keep ? bipt_layout_chain(&s->live, names[i]) : NULL,
				   false, table, old, &x);
		}
		free(names[i]);
	}
	free(names);
	free(x.buf);
	s->hash = x.h;
}

/* The hash of s before its chains: its family and table. */
static void hash_seed(struct bipt_snap *s)
{
	s->hash = util_hash(UTIL_HASH_INIT, &s->fam, sizeof(s->fam));
	s->hash = util_hash(s->hash, &s->table, sizeof(s->table));
}

/* The handle of s (the table made when create); s->h stays NULL for a
 * table that does not exist. */
static int snap_init(struct bipt_snap *s, enum bipt_family fam, enum bipt_table t, bool create,
		     struct diags *d)
{
	const char *name = bipt_table_names[t];

	memset(s, 0, sizeof(*s));
	s->fam = s->live.fam = fam;
	s->table = s->live.table = t;
	hash_seed(s);
	s->exists = bipt_table_exists(fam, name);
	if (!s->exists && !create)
		return 0;
	s->h = ops[fam].init(name);
	if (!s->h && errno == ENOPROTOOPT) {
		load_module(fam);
		s->h = ops[fam].init(name);
	}
	if (!s->h) {
		int err = errno ? errno : EIO;

		return diag_add(d, NULL, DIAG_ERROR, NW501_KERNEL, "%s table %s: cannot read it: %s%s",
				bipt_fams[fam].tool, name, strerror(err),
				err == EPERM ? " (needs root or CAP_NET_ADMIN)" : ""), -err;
	}
	return 0;
}

int bipt_snap_open(struct bipt_snap *s, enum bipt_family fam, enum bipt_table t,
		   const char *table, const char *old, bool create, struct diags *d)
{
	int ret = snap_init(s, fam, t, create, d);

	if (!ret && s->h)
		read_live(s, table, old, true);
	return ret;
}

int bipt_snap_open_seen(struct bipt_snap *s, enum bipt_family fam, enum bipt_table t,
			const char *table, struct bipt_layout *seen, uint64_t seen_hash,
			struct diags *d)
{
	int ret = snap_init(s, fam, t, false, d);

	if (ret || !s->h)
		return ret;
	read_live(s, table, NULL, false);
	if (!seen)
		return 0;
	if (s->hash == seen_hash) {
		s->live = *seen;
		memset(seen, 0, sizeof(*seen));
		return 0;
	}
	hash_seed(s);
	read_live(s, table, NULL, true);
	return 0;
}

void bipt_snap_close(struct bipt_snap *s)
{
	if (s->h)
		ops[s->fam].free(s->h);
	s->h = NULL;
	bipt_layout_free(&s->live);
}

uint64_t bipt_snap_hash(const struct bipt_snap *s, uint64_t h)
{
	return util_hash(h, &s->hash, sizeof(s->hash));
}

/* Counters carried over: the live entries of chains about to be emptied,
 * by hash, each given to at most one equal new entry. */
struct carry {
	struct { uint64_t h; const struct bipt_rule *r; bool used; } *v;
	size_t n, cap;
};

static int carry_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void carry_add(struct carry *c, const struct bipt_fam *f, const struct bipt_chain *ch)
{
	for (size_t i = 0; i < ch->n; i++) {
		xgrow((void **)&c->v, &c->cap, c->n, sizeof(*c->v));
		c->v[c->n].h = bipt_entry_hash(f, UTIL_HASH_INIT, ch->rules[i].entry);
		c->v[c->n].r = &ch->rules[i];
		c->v[c->n++].used = false;
	}
}

static void carry_counters(struct carry *c, const struct bipt_fam *f, unsigned char *e)
{
	uint64_t h;
	size_t lo = 0, hi = c->n;

	if (!c->n)
		return;	/* nothing live to carry (a new table): no hash */
	h = bipt_entry_hash(f, UTIL_HASH_INIT, e);

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (c->v[mid].h < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < c->n && c->v[lo].h == h; lo++) {
		if (!c->v[lo].used && bipt_entry_equal(f, c->v[lo].r->entry, e)) {
			c->v[lo].used = true;
			memcpy(e + f->off_counters, c->v[lo].r->entry + f->off_counters,
			       sizeof(struct xt_counters));
			return;
		}
	}
}

static int fail(struct bipt_snap *s, const char *what, const char *chain, struct diags *d)
{
	int err = errno ? errno : EINVAL;

	diag_add(d, NULL, DIAG_ERROR, NW501_KERNEL, "%s table %s: %s %s: %s", bipt_fams[s->fam].tool,
		 bipt_table_names[s->table], what, chain, strerror(err));
	return -err;
}

static const struct bipt_chain *find_jumps(const struct bipt_layout *l, const char *builtin)
{
	for (size_t i = 0; i < l->n_jumps; i++)
		if (!strcmp(l->jumps[i].name, builtin))
			return &l->jumps[i];
	return NULL;
}

static bool jumps_equal(const struct bipt_fam *f, const struct bipt_chain *a,
			const struct bipt_chain *b)
{
	size_t na = a ? a->n : 0, nb = b ? b->n : 0;

	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (!bipt_entry_equal(f, a->rules[i].entry, b->rules[i].entry))
			return false;
	return true;
}

/* Delete every jump of builtin to a chain of the live layout. */
static int drop_jumps(struct bipt_snap *s, const char *builtin, struct diags *d)
{
	const struct iptc_ops *o = &ops[s->fam];
	xt_chainlabel label;
	unsigned *idx = NULL, n = 0, i = 0;
	size_t cap = 0;
	int ret = 0;

	snprintf(label, sizeof(label), "%s", builtin);
	for (const void *e = o->first_rule(label, s->h); e; e = o->next_rule(e, s->h), i++) {
		const char *t = o->target(e, s->h);

		if (t && bipt_layout_find(&s->live, t)) {
			xgrow((void **)&idx, &cap, n, sizeof(*idx));
			idx[n++] = i;
		}
	}
	while (n-- > 0 && !ret)
		if (!o->delete_num(label, idx[n], s->h))
			ret = fail(s, "deleting a jump from", builtin, d);
	free(idx);
	return ret;
}

static int fill_chain(struct bipt_snap *s, const struct bipt_chain *c, struct carry *cr,
		      struct diags *d)
{
	const struct bipt_fam *f = &bipt_fams[s->fam];
	xt_chainlabel label;

	snprintf(label, sizeof(label), "%s", c->name);
	for (size_t i = 0; i < c->n; i++) {
		carry_counters(cr, f, c->rules[i].entry);
		if (!ops[s->fam].append(label, c->rules[i].entry, s->h))
			return fail(s, "appending to", c->name, d);
	}
	return 0;
}

/* Make the live layout want in the handle: jumps first out, chains
 * emptied, deleted, created and filled, jumps back in first place. */
static int edit(struct bipt_snap *s, const struct bipt_layout *want, bool *changed,
		struct diags *d)
{
	const struct bipt_fam *f = &bipt_fams[s->fam];
	const struct iptc_ops *o = &ops[s->fam];
	bool *refill = xcalloc(want->n + 1, sizeof(*refill));
	struct carry cr = { 0 };
	xt_chainlabel label;
	int ret = 0;

	for (size_t i = 0; i < s->live.n_jumps && !ret; i++) {
		const char *b = s->live.jumps[i].name;

		if (!jumps_equal(f, &s->live.jumps[i], find_jumps(want, b))) {
			ret = drop_jumps(s, b, d);
			*changed = true;
		}
	}
	for (size_t i = 0; i < s->live.n && !ret; i++) {
		const struct bipt_chain *c = &s->live.chains[i], *w = bipt_layout_find(want, c->name);

		if (w && bipt_chain_equal(f, c, w))
			continue;
		carry_add(&cr, f, c);
		snprintf(label, sizeof(label), "%s", c->name);
		if (!o->flush(label, s->h))
			ret = fail(s, "flushing", c->name, d);
		*changed = true;
	}
	xsort(cr.v, cr.n, sizeof(*cr.v), carry_cmp);
	for (size_t i = 0; i < s->live.n && !ret; i++) {
		snprintf(label, sizeof(label), "%s", s->live.chains[i].name);
		if (!bipt_layout_find(want, label) && !o->remove(label, s->h))
			ret = fail(s, "deleting chain", label, d);
	}
	for (size_t i = 0; i < want->n && !ret; i++) {
		const struct bipt_chain *l = bipt_layout_find(&s->live, want->chains[i].name);

		snprintf(label, sizeof(label), "%s", want->chains[i].name);
		refill[i] = !l || !bipt_chain_equal(f, l, &want->chains[i]);
		if (!l && !o->create(label, s->h))
			ret = fail(s, "creating chain", label, d);
		*changed |= refill[i];
	}
	for (size_t i = 0; i < want->n && !ret; i++)
		if (refill[i])
			ret = fill_chain(s, &want->chains[i], &cr, d);
	for (size_t i = 0; i < want->n_jumps && !ret; i++) {
		const struct bipt_chain *j = &want->jumps[i];

		if (jumps_equal(f, find_jumps(&s->live, j->name), j))
			continue;
		snprintf(label, sizeof(label), "%s", j->name);
		for (size_t k = 0; k < j->n && !ret; k++)
			if (!o->insert(label, j->rules[k].entry, (unsigned)k, s->h))
				ret = fail(s, "adding a jump to", j->name, d);
		*changed = true;
	}
	free(cr.v);
	free(refill);
	return ret;
}

int bipt_snap_commit(struct bipt_snap *s, struct diags *d)
{
	int ret = 0;

	if (!ops[s->fam].commit(s->h)) {
		int err = errno ? errno : EIO;

		diag_add(d, NULL, DIAG_ERROR, NW501_KERNEL, "%s table %s: the kernel refused the "
			 "commit: %s%s", bipt_fams[s->fam].tool, bipt_table_names[s->table],
			 strerror(err), err == ENOENT ? " (a match or target module missing?)" :
			 err == EPROTOTYPE ? " (a match revision this kernel lacks)" : "");
		ret = -err;
	}
	/* A handle is good for one commit (§2). */
	ops[s->fam].free(s->h);
	s->h = NULL;
	return ret;
}

int bipt_snap_make(struct bipt_snap *s, const struct bipt_layout *want, bool *changed,
		   struct diags *d)
{
	*changed = false;
	if (!s->h)
		return bipt_layout_empty(want) ? 0 : -EINVAL;
	return edit(s, want, changed, d);
}

/* The element key of an entry of a set chain: its address, or 0/0. */
static struct ir_elem entry_key(const struct bipt_fam *f, const struct bipt_rule *r)
{
	const struct bipt_prefix *p = r->src.set ? &r->src : &r->dst;
	struct ir_elem e = { .addr = { .family = f->af } };

	if (p->set) {
		e.addr = p->addr;
		e.prefix_len = p->len;
	}
	return e;
}

static bool has_elem(const struct bipt_fam *f, const struct bipt_chain *l, size_t from, size_t to,
		     const struct ir_elem *want)
{
	for (size_t i = from; i < to; i++) {
		struct ir_elem k = entry_key(f, &l->rules[i]);

		if (!ir_elem_cmp(&k, want))
			return true;
	}
	return false;
}

/* One set chain from l to w (same header and tail; elements 1..n_l of l,
 * 1..n_w of w, sorted): deletions from the end, then insertions in order;
 * unchanged entries keep their place and counters. */
static int edit_elements(struct bipt_snap *s, const struct bipt_chain *l, const struct bipt_chain *w,
			 size_t n_l, size_t n_w, bool *changed, struct diags *d)
{
	const struct bipt_fam *f = &bipt_fams[s->fam];
	const struct iptc_ops *o = &ops[s->fam];
	bool *del = xcalloc(n_l + 1, sizeof(*del)), *ins = xcalloc(n_w + 1, sizeof(*ins));
	size_t i = 0, j = 0;
	xt_chainlabel label;
	int ret = 0;

	snprintf(label, sizeof(label), "%s", l->name);
	while (i < n_l || j < n_w) {
		struct ir_elem a, b;
		int c;

		if (i < n_l)
			a = entry_key(f, &l->rules[1 + i]);
		if (j < n_w)
			b = entry_key(f, &w->rules[1 + j]);
		c = i == n_l ? 1 : j == n_w ? -1 : ir_elem_cmp(&a, &b);
		if (!c && bipt_entry_equal(f, l->rules[1 + i].entry, w->rules[1 + j].entry)) {
			i++, j++;
			continue;
		}
		if (c <= 0)
			del[i++] = true;
		if (c >= 0)
			ins[j++] = true;
	}
	for (size_t k = n_l; k-- > 0 && !ret;)
		if (del[k] && !o->delete_num(label, (unsigned)(1 + k), s->h))
			ret = fail(s, "deleting from", l->name, d);
	for (size_t k = 0; k < n_w && !ret; k++) {
		if (ins[k] && !o->insert(label, w->rules[1 + k].entry, (unsigned)(1 + k), s->h))
			ret = fail(s, "inserting into", l->name, d);
		*changed |= ins[k];
	}
	for (size_t k = 0; k < n_l; k++)
		*changed |= del[k];
	free(del);
	free(ins);
	return ret;
}

int bipt_snap_update(struct bipt_snap *s, const struct bipt_layout *want, const struct set_delta *sd,
		     size_t n_want, bool *changed, struct diags *d)
{
	const struct bipt_fam *f = &bipt_fams[s->fam];

	for (size_t i = 0; i < want->n; i++) {
		const struct bipt_chain *w = &want->chains[i], *l;
		const char *at = w->n && w->rules[0].has_comment ? strchr(w->rules[0].comment, '@') : NULL;
		size_t nl = strlen(sd->set->name), tail, n_l;
		int ret;

		if (!at || strncmp(at + 1, sd->set->name, nl) || at[1 + nl] != ' ' ||
		    w->rules[0].target != BIPT_T_NONE || w->n < 1 + n_want)
			continue;
		l = bipt_layout_find(&s->live, w->name);
		tail = w->n - 1 - n_want;
		if (!l || l->n < 1 + tail || !bipt_entry_equal(f, l->rules[0].entry, w->rules[0].entry))
			return -ENOENT;
		n_l = l->n - 1 - tail;
		for (size_t k = 0; k < tail; k++)
			if (!bipt_entry_equal(f, l->rules[1 + n_l + k].entry, w->rules[1 + n_want + k].entry))
				return -ENOENT;
		/* An element to delete that is not there: deleted meanwhile. */
		for (size_t k = 0; k < sd->n_del; k++)
			if (!has_elem(f, l, 1, 1 + n_l, sd->del[k]))
				return -ENOENT;
		ret = edit_elements(s, l, w, n_l, n_want, changed, d);
		if (ret)
			return ret;
	}
	return 0;
}

int bipt_legacy_builtins(enum bipt_family fam, const char *table,
			 struct backend_ipt_chain **out, size_t *n, size_t *cap)
{
	const struct iptc_ops *o = &ops[fam];
	struct xtc_handle *h;
	char **names = NULL;
	size_t k = 0, kcap = 0;

	/* Listed in /proc: it exists, so iptc_init makes nothing. */
	if (!bipt_table_exists(fam, table))
		return 0;
	h = o->init(table);
	if (!h)
		return -(errno ? errno : EIO);
	for (const char *c = o->first_chain(h); c; c = o->next_chain(h)) {
		if (!o->builtin(c, h))
			continue;
		xgrow((void **)&names, &kcap, k, sizeof(*names));
		names[k++] = xstrdup(c);
	}
	for (size_t i = 0; i < k; i++) {
		struct backend_ipt_chain *bc;
		struct xt_counters cnt;
		const char *pol = o->policy(names[i], &cnt, h);

		xgrow((void **)out, cap, *n, sizeof(**out));
		bc = &(*out)[(*n)++];
		memset(bc, 0, sizeof(*bc));
		bc->family = bipt_fams[fam].af;
		snprintf(bc->table, sizeof(bc->table), "%s", table);
		snprintf(bc->chain, sizeof(bc->chain), "%s", names[i]);
		snprintf(bc->policy, sizeof(bc->policy), "%s", pol ? pol : "");
		for (const void *e = o->first_rule(names[i], h); e; e = o->next_rule(e, h))
			bc->rules++;
		free(names[i]);
	}
	free(names);
	o->free(h);
	return 0;
}
