/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A backend for the engine's unit tests (never in the installed binary):
 * a "kernel" of tables kept as IR JSON in shared memory, so that it
 * outlives a forked child that crashes mid-operation, with faults to
 * inject at any step. */
#ifndef NTPWALL_TEST_BACKEND_MEM_H
#define NTPWALL_TEST_BACKEND_MEM_H

#include "ntpwall/backend.h"
#include "ntpwall/ir.h"

#include <stdbool.h>

/* Faults for the next operations; a counter is used up one per commit
 * (apply, update or remove) that meets it. */
struct mem_faults {
	int stale;		/* refuse with ERESTART after a concurrent commit */
	int expire;		/* update: ENOENT, an element expired meanwhile */
	int refuse;		/* commit refused with EINVAL and a message */
	int crash_before;	/* _exit(99) when the Nth commit from now comes */
	int crash_after;	/* _exit(99) right after the Nth commit from now */
	int open_errno;		/* open fails with -open_errno */
};

extern const struct backend_ops backend_mem_ops;
extern struct mem_faults mem_faults;

/* A fresh, empty kernel; faults cleared. */
void mem_reset(void);
/* The table as the kernel has it (a new ruleset), or NULL. */
struct ir_ruleset *mem_table(const char *name);
/* Put rs into the kernel by hand (someone else's commit); NULL name+rs
 * deletes nothing. */
void mem_put(const struct ir_ruleset *rs);
void mem_delete(const char *name);
/* The kernel's ruleset generation. */
uint32_t mem_genid(void);
/* Commits the kernel accepted so far, in this process and its children. */
unsigned mem_commits(void);

#endif
