/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The iptables backend (legacy iptables and ip6tables through libiptc):
 * the backend_ops table. Every operation takes the xtables lock, opens the
 * filter and raw tables of both families that exist (or that it creates),
 * checks the generation (a hash of ntpwall's chains and jumps, since
 * x_tables has no generation id) against the one the engine read, and
 * commits each changed table once, putting the tables already committed
 * back when a later commit fails. The layout is backend_ipt_layout.c, the
 * kernel backend_ipt_kernel.c. This is the top of the backend: the files
 * below it never call up into it. */
#include "backend_ipt_kern.h"
#include "ntpwall/backend.h"
#include "ntpwall/util.h"

#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

/* Commits a stale snapshot (EAGAIN: someone changed the table without the
 * lock) is taken again and retried. */
#define STALE_RETRIES 3

struct backend {
	struct backend_opts opts;
	int lock_fd;
	char *table;		/* the last one read: what generation() hashes */
	/* What that read saw (decoded) and its hashes, for the change that
	 * follows it: an update takes it instead of decoding the table again
	 * when the table's hash is unchanged. */
	struct bipt_all seen;
	uint64_t seen_hash[BIPT_NFAM][BIPT_NTAB];
	bool has_seen;
	/* A read that found no chain of the table: its generation, for the
	 * generation() the engine asks for right after it (once). */
	uint32_t read_gen;
	bool has_read_gen;
};

/* How snaps_open reads a table: ntpwall's chains decoded; the hash
 * alone; or what the last read saw, if the table still hashes the same. */
enum how { READ, HASH, SEEN };

struct snaps {
	struct bipt_snap s[BIPT_NFAM][BIPT_NTAB];
	const char *table, *old;
};

/* A wall of 10,000 addresses is a table of 9 MB that libiptc copies on
 * every read and commit, and a layout of as much that is made, checked and
 * freed again and again in one run. glibc maps each such block afresh and
 * gives it back on free, so every pass paid again for its pages (a fault
 * of 15-20 us each on a virtual machine: a third of the faults of adding
 * one address). Kept in the heap, the pages are reused; what is free is
 * given back when the backend closes, if it is much (apply --confirm's
 * watchdog, forked before that, keeps a copy of the heap as it was while
 * it waits). */
#define TRIM_ABOVE (8u << 20)

static void keep_pages(void)
{
	(void)mallopt(M_MMAP_THRESHOLD, 32 << 20);
	(void)mallopt(M_TRIM_THRESHOLD, 128 << 20);
}

static int bipt_open(struct backend **out)
{
	keep_pages();
	*out = xcalloc(1, sizeof(**out));
	(*out)->lock_fd = -1;
	return 0;
}

static void bipt_close(struct backend *b)
{
	if (!b)
		return;
	bipt_unlock(&b->lock_fd);
	bipt_all_free(&b->seen);
	free(b->table);
	free(b);
	/* Only after big tables: a trim of a small heap costs more than the
	 * rest of a small apply's own work. */
	if (mallinfo2().fordblks > TRIM_ABOVE)
		(void)malloc_trim(0);
}

static void bipt_configure(struct backend *b, const struct backend_opts *o)
{
	b->opts = *o;
}

static void snaps_close(struct snaps *x)
{
	for (int f = 0; f < BIPT_NFAM; f++)
		for (int t = 0; t < BIPT_NTAB; t++)
			bipt_snap_close(&x->s[f][t]);
}

static void forget_seen(struct backend *b)
{
	bipt_all_free(&b->seen);
	b->has_seen = false;
	b->has_read_gen = false;
}

static int open_one(struct backend *b, struct snaps *x, int f, int t, const struct bipt_all *want,
		    enum how how, struct diags *d)
{
	struct bipt_snap *s = &x->s[f][t];

	if (how == HASH)
		return bipt_snap_open_seen(s, f, t, x->table, NULL, 0, d);
	if (how == SEEN && b->has_seen && !x->old && b->table && !strcmp(b->table, x->table))
		return bipt_snap_open_seen(s, f, t, x->table, &b->seen.t[f][t], b->seen_hash[f][t], d);
	return bipt_snap_open(s, f, t, x->table, x->old, want && !bipt_layout_empty(&want->t[f][t]), d);
}

/* Every table that exists; with want, those its layout needs too. */
static int snaps_open(struct backend *b, struct snaps *x, const char *table, const char *old,
		      const struct bipt_all *want, enum how how, struct diags *d)
{
	int ret = 0;

	memset(x, 0, sizeof(*x));
	x->table = table;
	x->old = old && strcmp(old, table) ? old : NULL;
	for (int f = 0; f < BIPT_NFAM && !ret; f++)
		for (int t = 0; t < BIPT_NTAB && !ret; t++)
			ret = open_one(b, x, f, t, want, how, d);
	if (ret)
		snaps_close(x);
	return ret;
}

static uint32_t snaps_gen(const struct snaps *x)
{
	uint64_t h = UTIL_HASH_INIT;

	for (int f = 0; f < BIPT_NFAM; f++)
		for (int t = 0; t < BIPT_NTAB; t++)
			h = bipt_snap_hash(&x->s[f][t], h);
	h ^= h >> 32;
	/* 0 means "unknown" to the engine. */
	return (uint32_t)h ? (uint32_t)h : 1;
}

/* Lock, open, check the generation. */
static int begin(struct backend *b, struct snaps *x, const char *table, const char *old,
		 const struct bipt_all *want, enum how how, const struct backend_gen *expect,
		 struct diags *d)
{
	int ret = bipt_lock(&b->lock_fd, d);

	if (!ret)
		ret = snaps_open(b, x, table, old, want, how, d);
	if (!ret && expect && expect->genid && snaps_gen(x) != expect->genid) {
		snaps_close(x);
		ret = -ERESTART;
	}
	if (ret)
		bipt_unlock(&b->lock_fd);
	return ret;
}

static void end(struct backend *b, struct snaps *x)
{
	snaps_close(x);
	bipt_unlock(&b->lock_fd);
}

static int bipt_generation(struct backend *b, struct backend_gen *gen)
{
	struct snaps x;
	struct diags quiet;
	int ret;

	/* Asked right after a read that found no chain: that read's
	 * generation, taken under the lock moments ago (a change since is
	 * found by the check before any commit), not a third copy of the
	 * tables. */
	if (b->has_read_gen) {
		b->has_read_gen = false;
		gen->genid = b->read_gen;
		return 0;
	}
	diag_init(&quiet, 0);
	/* The generation of ntpwall's chains of the table read last (the
	 * engine asks after reading a table that is absent). */
	ret = begin(b, &x, b->table ? b->table : "", NULL, NULL, HASH, NULL, &quiet);
	diag_free(&quiet);
	if (!ret) {
		gen->genid = snaps_gen(&x);
		end(b, &x);
	}
	return ret;
}

static int bipt_read(struct backend *b, const char *table, struct ir_ruleset **out,
		     struct backend_gen *gen)
{
	struct bipt_all live;
	struct diags quiet;
	struct snaps x;
	int ret;

	*out = NULL;
	forget_seen(b);
	free(b->table);
	b->table = xstrdup(table);
	diag_init(&quiet, 0);
	ret = begin(b, &x, table, NULL, NULL, READ, NULL, &quiet);
	diag_free(&quiet);
	if (ret)
		return ret;
	gen->genid = snaps_gen(&x);
	for (int f = 0; f < BIPT_NFAM; f++) {
		for (int t = 0; t < BIPT_NTAB; t++) {
			b->seen_hash[f][t] = x.s[f][t].hash;
			live.t[f][t] = x.s[f][t].live, memset(&x.s[f][t].live, 0, sizeof(live.t[f][t]));
		}
	}
	end(b, &x);
	ret = bipt_raise(table, &live, out);
	b->read_gen = gen->genid;
	b->has_read_gen = ret == -ENOENT;
	/* Kept for an update right after this read. */
	b->seen = live;
	b->has_seen = true;
	return ret;
}

/* Put the tables committed so far (done) back as they were. */
static void undo(struct snaps *x, bool done[BIPT_NFAM][BIPT_NTAB], struct diags *d)
{
	for (int f = 0; f < BIPT_NFAM; f++) {
		for (int t = 0; t < BIPT_NTAB; t++) {
			struct bipt_snap now;
			bool changed;

			if (!done[f][t] || bipt_snap_open(&now, f, t, x->table, x->old, true, d) < 0)
				continue;
			if (bipt_snap_make(&now, &x->s[f][t].live, &changed, d) == 0 && changed &&
			    bipt_snap_commit(&now, d) == 0)
				diag_add(d, NULL, DIAG_WARNING, NW501_KERNEL, "%s table %s: put back "
					 "as it was", bipt_fams[f].tool, bipt_table_names[t]);
			bipt_snap_close(&now);
		}
	}
}

/* A commit of a stale snapshot (EAGAIN): take the table again; if
 * ntpwall's part of it is as before, make the change again on it. */
static int retry_stale(struct snaps *x, int f, int t, const struct bipt_layout *want,
		       struct diags *d)
{
	struct bipt_snap *s = &x->s[f][t];
	int ret = -EAGAIN;

	for (int i = 0; i < STALE_RETRIES && ret == -EAGAIN; i++) {
		struct bipt_snap now;
		bool changed;

		ret = bipt_snap_open(&now, f, t, x->table, x->old, true, d);
		if (ret)
			return ret;
		if (now.hash != s->hash) {
			bipt_snap_close(&now);
			return -ERESTART;
		}
		ret = bipt_snap_make(&now, want, &changed, d);
		if (!ret && changed)
			ret = bipt_snap_commit(&now, d);
		bipt_snap_close(&now);
	}
	return ret;
}

/* Make want live, table by table, each changed one in one commit. */
static int commit_all(struct snaps *x, const struct bipt_all *want, struct diags *d)
{
	bool done[BIPT_NFAM][BIPT_NTAB] = { { false } };
	int ret = 0;

	for (int f = 0; f < BIPT_NFAM && !ret; f++) {
		for (int t = 0; t < BIPT_NTAB && !ret; t++) {
			bool changed;

			ret = bipt_snap_make(&x->s[f][t], &want->t[f][t], &changed, d);
			if (!ret && changed) {
				struct diags tmp;

				diag_init(&tmp, 0);
				ret = bipt_snap_commit(&x->s[f][t], &tmp);
				if (ret == -EAGAIN)
					ret = retry_stale(x, f, t, &want->t[f][t], &tmp);
				if (ret && ret != -ERESTART)
					diag_move(d, &tmp);
				diag_free(&tmp);
				done[f][t] = !ret;
			}
		}
	}
	if (ret)
		undo(x, done, d);
	return ret;
}

/* A host that filters with nftables and has no legacy tables: legacy
 * tables next to it would filter too (a drop in either wins), unseen by
 * its tools. */
static int host_check(struct backend *b, struct diags *d)
{
	struct bipt_host h;

	bipt_host_detect(&h);
	if (!h.legacy && (h.nft_iptables || h.nft_native)) {
		if (!b->opts.force)
			return diag_add(d, NULL, DIAG_ERROR, NW501_KERNEL, "this host filters with "
					"nftables (%s%s) and has no legacy iptables tables: use "
					"'backend: nft' (--force-backend adds legacy tables beside "
					"it; packets then pass both, and a drop in either wins)",
					h.nft_example, h.nft_native ? "" : ", made by iptables-nft"),
			       -ECANCELED;
		diag_add(d, NULL, DIAG_WARNING, NW501_KERNEL, "--force-backend: legacy iptables "
			 "tables beside nftables (%s): packets pass both, a drop in either wins",
			 h.nft_example);
	} else if (h.legacy && (h.nft_iptables || h.nft_native)) {
		diag_add(d, NULL, DIAG_WARNING, NW501_KERNEL, "mixed host: legacy iptables (%s) and "
			 "nftables (%s): packets pass both, a drop in either wins",
			 h.legacy_tables, h.nft_example);
	} else if (!h.legacy) {
		diag_add(d, NULL, DIAG_NOTE, DIAG_NO_CODE, "no firewall on this host yet: this "
			 "creates legacy iptables tables (iptables-nft will say they exist)");
	}
	return 0;
}

static int bipt_apply(struct backend *b, const struct ir_ruleset *rs, const char *old_table,
		      const struct backend_gen *expect, struct diags *d)
{
	struct bipt_all want;
	struct snaps x;
	int ret = bipt_check_roundtrip(rs, &want, d);

	if (ret)
		return ret;
	forget_seen(b);
	ret = host_check(b, d);
	if (!ret)
		ret = begin(b, &x, rs->table, old_table, &want, READ, expect, d);
	if (!ret) {
		ret = commit_all(&x, &want, d);
		end(b, &x);
	}
	bipt_all_free(&want);
	return ret;
}

static int bipt_update(struct backend *b, const struct ir_ruleset *rs,
		       const struct ruleset_delta *delta, const struct backend_gen *expect,
		       struct diags *d)
{
	bool done[BIPT_NFAM][BIPT_NTAB] = { { false } }, changed[BIPT_NFAM][BIPT_NTAB] = { { false } };
	struct bipt_all want;
	struct snaps x;
	int ret = bipt_check_roundtrip(rs, &want, d);

	if (ret)
		return ret;
	ret = begin(b, &x, rs->table, NULL, NULL, SEEN, expect, d);
	/* Taken or stale: a later change reads afresh. */
	forget_seen(b);
	if (ret) {
		bipt_all_free(&want);
		return ret;
	}
	for (size_t i = 0; i < delta->n_sets && !ret; i++) {
		const struct set_delta *sd = &delta->sets[i];
		int f = sd->set->key == IR_KEY_IPV4 ? BIPT_V4 : BIPT_V6;

		for (int t = 0; t < BIPT_NTAB && !ret; t++)
			ret = bipt_snap_update(&x.s[f][t], &want.t[f][t], sd, sd->set->n_elems,
					       &changed[f][t], d);
	}
	for (int f = 0; f < BIPT_NFAM && !ret; f++) {
		for (int t = 0; t < BIPT_NTAB && !ret; t++) {
			if (!changed[f][t])
				continue;
			ret = bipt_snap_commit(&x.s[f][t], d);
			done[f][t] = !ret;
		}
	}
	if (ret && ret != -ENOENT)
		undo(&x, done, d);
	end(b, &x);
	bipt_all_free(&want);
	return ret;
}

static int bipt_remove(struct backend *b, const char *table, const struct backend_gen *expect,
		       struct diags *d)
{
	struct bipt_all none;
	struct snaps x;
	int ret;

	forget_seen(b);
	ret = begin(b, &x, table, NULL, NULL, READ, expect, d);
	if (ret)
		return ret;
	memset(&none, 0, sizeof(none));
	ret = commit_all(&x, &none, d);
	end(b, &x);
	return ret;
}

static char *bipt_describe(struct backend *b)
{
	struct bipt_host h;

	(void)b;
	bipt_host_detect(&h);
	return bipt_host_describe(&h);
}

static int bipt_host_chains(struct backend *b, const char *own_table, struct hostfw *out)
{
	(void)b;
	return bipt_read_host(own_table, out);
}

int backend_ipt_legacy_chains(struct backend_ipt_chain **out, size_t *n)
{
	size_t cap = 0;
	int ret = 0;

	*out = NULL;
	*n = 0;
	for (int f = 0; f < BIPT_NFAM && !ret; f++) {
		char *buf = NULL;
		size_t len;

		if (util_read_file(bipt_fams[f].proc, 1u << 16, &buf, &len) < 0)
			continue;
		for (char *save, *t = strtok_r(buf, "\n", &save); t && !ret; t = strtok_r(NULL, "\n", &save))
			ret = bipt_legacy_builtins(f, t, out, n, &cap);
		free(buf);
	}
	if (ret) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return ret;
}

int backend_ipt_listing(const char *table, FILE *f, struct diags *d)
{
	struct backend b = { .lock_fd = -1 };
	struct snaps x;
	int ret = begin(&b, &x, table, NULL, NULL, READ, NULL, d);

	if (ret)
		return ret;
	for (int fam = 0; fam < BIPT_NFAM; fam++) {
		if (bipt_layout_empty(&x.s[fam][BIPT_RAW].live) &&
		    bipt_layout_empty(&x.s[fam][BIPT_FILTER].live))
			continue;
		fprintf(f, "# %s\n", bipt_fams[fam].tool);
		bipt_layout_print(f, &x.s[fam][BIPT_RAW].live, true);
		bipt_layout_print(f, &x.s[fam][BIPT_FILTER].live, true);
	}
	end(&b, &x);
	return ferror(f) ? -EIO : 0;
}

const struct backend_ops backend_ipt_ops = {
	.name = "iptables",
	.open = bipt_open,
	.close = bipt_close,
	.generation = bipt_generation,
	.read = bipt_read,
	.apply = bipt_apply,
	.update = bipt_update,
	.remove = bipt_remove,
	.configure = bipt_configure,
	.describe = bipt_describe,
	.host_chains = bipt_host_chains,
};
