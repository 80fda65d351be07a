/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The state directory (default /var/lib/ntpwall): numbered generations
 * gen-NNNNNN.json, each the applied ruleset IR plus metadata, written to a
 * temporary file, fsynced and renamed (then the directory fsynced), a
 * bounded history, the flock that serialises every changing command, and
 * the pending-confirm record of `apply --confirm`. */
#ifndef NTPWALL_STATE_H
#define NTPWALL_STATE_H

#include "ntpwall/ir.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct json_t;

#define STATE_DEFAULT_KEEP 10
#define STATE_GEN_VERSION 1

struct state {
	char *dir;
	int dir_fd;
	int lock_fd;		/* -1 until state_lock() */
};

/* One generation. rs is NULL for a removal. */
struct state_gen {
	unsigned long number;	/* assigned by state_record() */
	char *action;		/* "apply", "rollback", "revert", "remove" */
	char *created;		/* UTC, ISO 8601 */
	char *backend;		/* "nft" */
	char *policy_path;	/* may be NULL */
	char *policy_hash;	/* may be NULL */
	unsigned long source;	/* rollback/revert: the generation made live again */
	struct json_t *resolved;	/* names with TTLs (resolve_to_json); may be NULL */
	struct json_t *daemon;		/* the time daemon's state (daemon_state_json);
					 * NULL: the daemon is not touched */
	char *version;		/* ntpwall version that wrote it */
	struct ir_ruleset *rs;
};

struct state_pending {
	unsigned long generation;	/* applied, waiting for `confirm` */
	unsigned long previous;		/* to revert to; 0: remove the table */
	int64_t deadline;		/* Unix time */
	pid_t watchdog;			/* 0 until started */
	uint64_t watchdog_start;	/* its start time (/proc/PID/stat), to tell it
					 * from a later process with the same pid */
};

/* Open (create with mode 0700 when create) the directory; *out freed by
 * state_close(). -errno; -EPERM when the directory belongs to another user
 * or is writable by group or others. */
int state_open(const char *dir, bool create, struct state **out);
/* Release the lock (if held) and free. NULL is fine. */
void state_close(struct state *st);
/* Take the exclusive lock, waiting for other ntpwall commands. -errno. */
int state_lock(struct state *st);
/* Release the lock early (state_close() does it too). */
void state_unlock(struct state *st);
/* Generation numbers present, ascending, into a new array *nums. */
int state_list(struct state *st, unsigned long **nums, size_t *n);
/* Highest generation number, 0 when there is none. */
unsigned long state_latest(struct state *st);
/* Load generation n into a new *out (state_gen_free). -ENOENT (nothing
 * recorded in d), -EINVAL for a corrupt file and other -errno, with an
 * NW502 error naming the file in d (may be NULL). */
int state_load(struct state *st, unsigned long n, struct state_gen **out, struct diags *d);
/* Write g as the next generation (sets g->number, g->created, g->version
 * when NULL), then delete the oldest beyond keep (never the pending
 * confirm's previous generation). Needs the lock. -errno. */
int state_record(struct state *st, struct state_gen *g, unsigned keep);
/* A record written ahead of a kernel change: complete and fsynced under a
 * temporary name, so a full disk fails it before the kernel is touched;
 * state_publish() renames it into place, state_discard() deletes it. A
 * crash in between leaves only the temporary, removed at the next lock. */
struct state_prepared {
	char name[40];		/* "gen-NNNNNN.json" or the pending record's name */
	char tmp[64];		/* "." + name + ".tmp." + pid */
	bool ready;
};

/* Prepare g as the next generation (sets g->number, g->created and
 * g->version as state_record() does). Needs the lock. -errno (-ENOSPC). */
int state_prepare(struct state *st, struct state_gen *g, struct state_prepared *pp);
/* Prepare the pending-confirm record p. -errno. */
int state_pending_prepare(struct state *st, const struct state_pending *p,
			  struct state_prepared *pp);
/* Rename a prepared record into place (a generation: then prune beyond
 * keep as state_record() does). -errno; the temporary is gone either way. */
int state_publish(struct state *st, struct state_prepared *pp, unsigned keep);
/* Delete a prepared record that will not be published; idempotent. */
void state_discard(struct state *st, struct state_prepared *pp);

/* Free a generation; NULL is fine. */
void state_gen_free(struct state_gen *g);
/* A new generation with the given action and strings copied. */
struct state_gen *state_gen_new(const char *action, const char *backend);

/* The pending-confirm record: write atomically, read (-ENOENT if none),
 * clear (0 also when absent). */
int state_pending_write(struct state *st, const struct state_pending *p);
int state_pending_read(struct state *st, struct state_pending *p);
int state_pending_clear(struct state *st);

/* A small JSON file of the state directory other than a generation (the
 * pool members' health): written atomically, read back (-ENOENT if none). */
int state_json_write(struct state *st, const char *name, struct json_t *j);
int state_json_read(struct state *st, const char *name, struct json_t **out);
/* Remove such a file (0 also when absent). */
int state_json_remove(struct state *st, const char *name);

#endif
