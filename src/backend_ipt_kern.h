/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The iptables backend's kernel layer (backend_ipt_kernel.c: libiptc and
 * the xtables lock; backend_ipt_detect.c: which iptables the host uses),
 * under the backend_ops of backend_ipt.c. Not a module interface. */
#ifndef NTPWALL_BACKEND_IPT_KERN_H
#define NTPWALL_BACKEND_IPT_KERN_H

#include "backend_ipt_int.h"
#include "ntpwall/delta.h"

struct xtc_handle;

/* The lock file iptables-legacy takes; $XTABLES_LOCKFILE overrides it. */
#define BIPT_LOCK_FILE "/run/xtables.lock"
/* How long to wait for another iptables to release it. */
#define BIPT_LOCK_WAIT_MS 10000u

/* Take the xtables lock into *fd, waiting at most BIPT_LOCK_WAIT_MS:
 * -EAGAIN (and a message in d) when it stays held. */
int bipt_lock(int *fd, struct diags *d);
void bipt_unlock(int *fd);
/* Whether the family's kernel lists the table in /proc (read without
 * touching the table; iptc_init would instantiate it). */
bool bipt_table_exists(enum bipt_family fam, const char *table);

/* One table of one family: a libiptc handle, and what of it is ntpwall's
 * (chains of table and old, jumps to them from the built-in chains; the
 * append form, decoded). */
struct bipt_snap {
	enum bipt_family fam;
	enum bipt_table table;
	bool exists;		/* before this snapshot */
	struct xtc_handle *h;	/* NULL: the table does not exist (and was
				 * not created) */
	struct bipt_layout live;
	/* The generation hash of table's part (not old's): its chains and
	 * the jumps to them, counters aside; fed while the table is read. */
	uint64_t hash;
};

/* Open s; without create, a table that does not exist stays unopened (h
 * NULL, nothing live). old (may be NULL): another table name whose chains
 * count as live too (a rename). -errno with a message in d. */
int bipt_snap_open(struct bipt_snap *s, enum bipt_family fam, enum bipt_table t,
		   const char *table, const char *old, bool create, struct diags *d);
void bipt_snap_close(struct bipt_snap *s);
/* Open s (never creating the table, no old table) and hash it; its
 * chains are neither copied nor decoded: seen (may be NULL), a layout of
 * the same table read before with hash seen_hash, is taken into s->live
 * (*seen emptied) when the hash is still that, the table is read again
 * when not; with seen NULL nothing is live (the hash is all). A read
 * right before a change thus costs a copy of the table, not a decoding of
 * 10,000 entries again. */
int bipt_snap_open_seen(struct bipt_snap *s, enum bipt_family fam, enum bipt_table t,
			const char *table, struct bipt_layout *seen, uint64_t seen_hash,
			struct diags *d);
/* Feed s's hash (table's chains and jumps, not old's) into the hash h. */
uint64_t bipt_snap_hash(const struct bipt_snap *s, uint64_t h);
/* Make the live chains and jumps want (encoded) in the handle; *changed
 * when anything differed. Nothing is committed. */
int bipt_snap_make(struct bipt_snap *s, const struct bipt_layout *want, bool *changed,
		   struct diags *d);
/* Change the elements of the set chains of sd's set, to want's (encoded;
 * the set has n_want elements): -ENOENT when a chain is not as want but
 * for elements, or an element to delete is gone. */
int bipt_snap_update(struct bipt_snap *s, const struct bipt_layout *want, const struct set_delta *sd,
		     size_t n_want, bool *changed, struct diags *d);
/* Commit the handle (then freed): -errno with a message in d. */
int bipt_snap_commit(struct bipt_snap *s, struct diags *d);
struct backend_ipt_chain;
/* Append table's built-in chains (policy, rule count) to *out (*n of
 * *cap); nothing when /proc does not list the table. -errno. */
int bipt_legacy_builtins(enum bipt_family fam, const char *table,
			 struct backend_ipt_chain **out, size_t *n, size_t *cap);

struct hostfw;
/* The host's legacy chains for the host check (backend_ipt_host.c): the
 * built-in chains that see NTP of every table /proc lists (none is
 * instantiated), user chains inlined, ntpwall's (own_table's) chains
 * passed over, into *out (zeroed first; hostfw_free). -errno when a listed
 * table cannot be read (EPERM without CAP_NET_ADMIN). */
int bipt_read_host(const char *own_table, struct hostfw *out);

/* Which iptables the host filters with (backend_ipt_detect.c), without
 * side effects: legacy tables from /proc, nft base chains from a netlink
 * dump (iptables-nft's are INPUT, OUTPUT, ... in tables filter, raw,
 * mangle, nat, security of family ip or ip6), the alternatives link. */
struct bipt_host {
	bool legacy;			/* a legacy table exists (either family) */
	char legacy_tables[96];		/* "ip:filter ip6:raw" */
	bool nft_iptables;		/* base chains that iptables-nft made */
	bool nft_native;		/* other nft base chains */
	char nft_example[128];		/* "table ip filter chain INPUT" */
	char alternative[32];		/* "nft", "legacy" or "" (/usr/sbin/iptables) */
};
void bipt_host_detect(struct bipt_host *h);
/* "legacy", "nft", "mixed" or "empty". */
const char *bipt_host_flavour(const struct bipt_host *h);
/* One line for status: the flavour and what it rests on (caller frees). */
char *bipt_host_describe(const struct bipt_host *h);

#endif
