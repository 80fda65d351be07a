/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ipt_floor FILE: the least any program that applies through libiptc does
 * for a table, as a yardstick for bench_ipt.sh. FILE holds the entries
 * ntpwall's iptables backend would append, prebuilt (`ipt_rt dump`):
 * per family and table, iptc_init, create the chains, append the entries,
 * insert the jumps into the built-in chains, one iptc_commit. No policy,
 * no compare, no state, no lock: only what libiptc and the kernel cost.
 *
 * FILE is a series of records, each 8-byte aligned: one byte of kind,
 * three of zero, a native uint32 length, the bytes, zeros up to a multiple
 * of 8. 'T' "4 filter" (a table of a family; what follows is its),
 * 'C' a chain name, 'J' a built-in chain name, 'E' one entry in append
 * form for the last 'C' (appended) or 'J' (inserted in order from the
 * top). The file is mapped, so its bytes are not copied once more; a
 * record cut short is an error. */
#include <errno.h>
#include <fcntl.h>
#include <libiptc/libip6tc.h>
#include <libiptc/libiptc.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct rec {
	char kind;
	uint32_t len;
	const unsigned char *p;
};

static bool cut;	/* a record ran past the end of the file */

/* The record at *at of the n bytes at base, *at moved past it; false at
 * the end (and cut set when a record is cut short). */
static bool next(const unsigned char *base, size_t n, size_t *at, struct rec *r)
{
	if (*at == n)
		return false;
	if (n - *at < 8)
		return !(cut = true);
	r->kind = (char)base[*at];
	memcpy(&r->len, base + *at + 4, sizeof(r->len));
	*at += 8;
	if (n - *at < r->len)
		return !(cut = true);
	r->p = base + *at;
	*at += ((size_t)r->len + 7) / 8 * 8;
	if (*at > n)
		*at = n;
	return true;
}

/* One family's libiptc calls on one handle type. */
static bool v6;

static void *init(const char *t)
{
	return v6 ? (void *)ip6tc_init(t) : (void *)iptc_init(t);
}

static bool create(const char *c, void *h)
{
	return v6 ? ip6tc_create_chain(c, h) : iptc_create_chain(c, h);
}

static bool put(const char *c, const unsigned char *e, bool append, unsigned k, void *h)
{
	if (v6)
		return append ? ip6tc_append_entry(c, (const struct ip6t_entry *)e, h) :
				ip6tc_insert_entry(c, (const struct ip6t_entry *)e, k, h);
	return append ? iptc_append_entry(c, (const struct ipt_entry *)e, h) :
			iptc_insert_entry(c, (const struct ipt_entry *)e, k, h);
}

static bool commit(void *h)
{
	bool ok = v6 ? ip6tc_commit(h) : iptc_commit(h);

	if (v6)
		ip6tc_free(h);
	else
		iptc_free(h);
	return ok;
}

/* The table whose 'T' record ends at start: chains first (an entry may
 * jump to a later one), then the entries. Returns where the next table
 * starts, or 0 on an error. */
static size_t table(const unsigned char *base, size_t n, size_t start, const char *name)
{
	void *h = init(name);
	char chain[32] = "";
	bool append = true;
	unsigned k = 0;
	size_t at = start, end = start, here = start;
	struct rec r;

	if (!h)
		return fprintf(stderr, "ipt_floor: init %s: %s\n", name, strerror(errno)), 0;
	for (; next(base, n, &here, &r) && r.kind != 'T'; end = here)
		if (r.kind == 'C' && !create((const char *)r.p, h))
			return fprintf(stderr, "ipt_floor: create: %s\n", strerror(errno)), 0;
	while (at < end && next(base, n, &at, &r)) {
		if (r.kind == 'C' || r.kind == 'J') {
			snprintf(chain, sizeof(chain), "%s", (const char *)r.p);
			append = r.kind == 'C';
			k = 0;
		} else if (r.kind == 'E' && !put(chain, r.p, append, k++, h)) {
			return fprintf(stderr, "ipt_floor: %s: %s\n", chain, strerror(errno)), 0;
		}
	}
	if (cut)
		return fprintf(stderr, "ipt_floor: a record is cut short\n"), 0;
	if (!commit(h))
		return fprintf(stderr, "ipt_floor: commit: %s\n", strerror(errno)), 0;
	return end;
}

int main(int argc, char **argv)
{
	int fd = argc == 2 ? open(argv[1], O_RDONLY) : -1;
	struct stat st;
	const unsigned char *base;
	size_t at = 0;
	struct rec r;

	if (fd < 0 || fstat(fd, &st) || !st.st_size)
		return fprintf(stderr, "usage: ipt_floor FILE (from ipt_rt dump)\n"), 2;
	base = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (base == MAP_FAILED)
		return perror("ipt_floor: mmap"), 1;
	while (next(base, (size_t)st.st_size, &at, &r)) {
		char fam[4], name[32];

		if (r.kind != 'T' || sscanf((const char *)r.p, "%3s %31s", fam, name) != 2)
			return fprintf(stderr, "ipt_floor: %s: not a table record\n", argv[1]), 1;
		v6 = !strcmp(fam, "6");
		at = table(base, (size_t)st.st_size, at, name);
		if (!at)
			return 1;
	}
	if (cut)
		return fprintf(stderr, "ipt_floor: %s: a record is cut short\n", argv[1]), 1;
	return 0;
}
