/* SPDX-License-Identifier: GPL-2.0-or-later */
/* In-place updates: when the live table and the wanted ruleset differ only
 * in set elements, the change is a list of element deletions and additions
 * per set instead of a new table. Rules, chains and counters stay as they
 * are, no hook is re-registered, and `refresh` renews the timeout of DNS
 * elements by deleting and adding them in one transaction (doc/netlink-notes.md
 * §8.3: re-adding alone keeps the old expiry before kernel 6.12). */
#ifndef NTPWALL_DELTA_H
#define NTPWALL_DELTA_H

#include "ntpwall/ir.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Renew every element with a timeout, however much time it has left. */
#define DELTA_RENEW_ALL UINT64_MAX

struct set_delta {
	const struct ir_set *set;	/* the wanted set (name, key, flags) */
	const struct ir_elem **del;	/* live elements to delete */
	size_t n_del;
	const struct ir_elem **add;	/* wanted elements to add */
	size_t n_add;
};

struct ruleset_delta {
	const char *table;
	struct set_delta *sets;		/* only sets with something to do */
	size_t n_sets;
	size_t added, deleted;		/* elements that come or go */
	size_t renewed;			/* elements deleted and added again */
};

/* The element changes that turn live into wanted (both sorted). Elements
 * of wanted with a timeout whose live copy expires in less than renew_ms
 * (DELTA_RENEW_ALL: all of them; 0: none) are renewed. Returns false when
 * the two differ in anything but elements (table, set definitions,
 * chains, rules): then only a new table will do. */
bool ruleset_delta(const struct ir_ruleset *live, const struct ir_ruleset *wanted,
		   uint64_t renew_ms, struct ruleset_delta *d);
/* true when there is nothing to send. */
bool ruleset_delta_empty(const struct ruleset_delta *d);
void ruleset_delta_free(struct ruleset_delta *d);

#endif
