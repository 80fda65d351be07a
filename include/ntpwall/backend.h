/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Backends: apply a ruleset to the kernel in one transaction, read
 * ntpwall's table back into the IR, remove it. Each backend fills in a
 * struct backend_ops table; the CLI picks one at run time by the policy's
 * backend name. No netlink or libiptc types here. */
#ifndef NTPWALL_BACKEND_H
#define NTPWALL_BACKEND_H

#include "ntpwall/diag.h"
#include "ntpwall/ir.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* An open connection to the kernel; backend-specific, opaque. */
struct backend;
struct ruleset_delta;
struct hostfw;

/* What a read saw: the ruleset generation it is consistent with. */
struct backend_gen {
	uint32_t genid;		/* kernel ruleset generation (nft); 0 if unknown */
};

/* Options a backend may take (struct backend_ops.configure). */
struct backend_opts {
	/* iptables: apply even on a host that filters with nftables and has
	 * no legacy tables (refused otherwise). */
	bool force;
};

/* How many times apply/read retry on a concurrent change before giving up. */
#define BACKEND_RETRIES 5

struct backend_ops {
	const char *name;	/* "nft", "iptables" */
	/* Open a connection; *out is freed with close. -errno (EPERM without
	 * CAP_NET_ADMIN, EPROTONOSUPPORT without nf_tables). */
	int (*open)(struct backend **out);
	void (*close)(struct backend *b);
	/* Current ruleset generation into *gen. */
	int (*generation)(struct backend *b, struct backend_gen *gen);
	/* Read table back into a new sorted ruleset *out (caller frees), with
	 * counters, handles and element expiry filled in, consistent with
	 * *gen (retried internally on a concurrent change). -ENOENT when the
	 * table does not exist (*out NULL), -EAGAIN when it kept changing. */
	int (*read)(struct backend *b, const char *table, struct ir_ruleset **out,
		    struct backend_gen *gen);
	/* Replace table rs->table by rs in one transaction, deleting
	 * old_table (ntpwall's table under an earlier name; NULL: none) in
	 * the same transaction. With expect non-NULL, the kernel refuses
	 * (-ERESTART) if its generation is no longer expect->genid. Kernel
	 * rejections are recorded in d naming the set, element, chain or
	 * rule, with the kernel's message, and return -EINVAL or the
	 * kernel's -errno; nothing is changed then. -ECANCELED (and why in
	 * d): the backend declined without asking the kernel. */
	int (*apply)(struct backend *b, const struct ir_ruleset *rs, const char *old_table,
		     const struct backend_gen *expect, struct diags *d);
	/* Change only elements of rs's existing sets, in one transaction:
	 * delta's deletions, then its additions (delta computed against the
	 * live table, its sets pointing into rs). expect and d as for apply;
	 * -ENOENT when an element to delete is gone (it expired meanwhile,
	 * which changes no generation): re-read and retry. */
	int (*update)(struct backend *b, const struct ir_ruleset *rs,
		      const struct ruleset_delta *delta, const struct backend_gen *expect,
		      struct diags *d);
	/* Delete table in one transaction; 0 also when it did not exist.
	 * expect and d as for apply. */
	int (*remove)(struct backend *b, const char *table, const struct backend_gen *expect,
		      struct diags *d);
	/* Optional (NULL: takes none): options, right after open. */
	void (*configure)(struct backend *b, const struct backend_opts *o);
	/* Optional: one line on the host's firewall for status (a new
	 * string), or NULL. */
	char *(*describe)(struct backend *b);
	/* The host's other firewalls (ntpwall/hostfw.h), read only: the base
	 * chains on the input and output hooks of every other table (nft:
	 * families inet, ip and ip6, all but table inet own_table), with
	 * their rules raised into the IR as far as the backend understands
	 * them, into *out (zeroed first; hostfw_free), consistent with one
	 * generation (retried internally). -EAGAIN when it kept changing,
	 * -EPERM without CAP_NET_ADMIN. */
	int (*host_chains)(struct backend *b, const char *own_table, struct hostfw *out);
};

/* The backend called name, or NULL if unknown. */
const struct backend_ops *backend_find(const char *name);
/* The nft backend (libnftnl + libmnl). */
extern const struct backend_ops backend_nft_ops;
/* The iptables backend (legacy iptables and ip6tables through libiptc). */
extern const struct backend_ops backend_ipt_ops;

/* A built-in chain of a legacy iptables table that exists. */
struct backend_ipt_chain {
	int family;		/* AF_INET, AF_INET6 */
	char table[32];		/* "filter", "raw", "mangle", ... */
	char chain[32];		/* "INPUT", ... */
	char policy[16];	/* "ACCEPT", "DROP" */
	uint64_t rules;
};
/* The built-in chains of every legacy table that exists, without making
 * one (/proc first): a new array *out of *n (caller frees). -errno when a
 * listed table cannot be read (EPERM without CAP_NET_ADMIN). */
int backend_ipt_legacy_chains(struct backend_ipt_chain **out, size_t *n);
/* ntpwall's chains of table as the kernel holds them (both families, raw
 * and filter, under the xtables lock; no table is made), as
 * iptables-restore text with iptables-save -c's "[packets:bytes]" before
 * each rule, into f; each family after a "# iptables" or "# ip6tables"
 * line. -errno (and why in d). */
int backend_ipt_listing(const char *table, FILE *f, struct diags *d);

#endif
