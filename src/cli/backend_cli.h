/* Pieces shared by the commands that touch the kernel and the state
 * directory (apply, diff, rollback, confirm, status, remove). Only
 * src/cli/ includes this. */
#ifndef NTPWALL_BACKEND_CLI_H
#define NTPWALL_BACKEND_CLI_H

#include "ntpwall/backend.h"
#include "ntpwall/delta.h"
#include "ntpwall/ir.h"
#include "ntpwall/policy.h"
#include "ntpwall/resolve.h"
#include "ntpwall/state.h"

#include <stdbool.h>

/* What a policy asks for: loaded, linted (warnings to stderr), resolved
 * (every name must resolve) and compiled. */
struct wanted {
	struct policy *policy;
	struct resolved *resolved;
	struct ir_ruleset *rs;
};

/* An open backend plus what was live when last read. */
struct live {
	const struct backend_ops *ops;
	struct backend *b;
	struct ir_ruleset *rs;	/* NULL: the table does not exist */
	struct backend_gen gen;
};

/* Build w from the policy at path; previous (may be NULL) keeps pool
 * choices stable and, with keep_failed (refresh), gives a name that fails
 * to resolve its last known addresses. Prints diagnostics; returns 0 or an exit code. */
int bcli_wanted(const char *path, struct state *previous, bool keep_failed, struct wanted *w);
void bcli_wanted_free(struct wanted *w);

/* Resolve p's names as apply does: pool choices spread by this host's seed
 * and kept from previous's latest generation (previous may be NULL), and
 * with keep_failed (refresh) a failed name keeps its last addresses. As
 * resolve_policy(). */
int bcli_resolve(const struct policy *p, struct state *previous, bool keep_failed,
		 struct diags *d, struct resolved **out);

/* Open the backend called name; prints why not. Returns 0 or an exit code. */
int bcli_open(const char *name, struct live *l);
/* (Re-)read table into l->rs / l->gen. Prints why not. 0 or an exit code. */
int bcli_read(struct live *l, const char *table);
void bcli_close(struct live *l);

/* Open the state directory (created when create), locked when lock.
 * Prints why not; NULL on failure. */
struct state *bcli_state(bool create, bool lock);

/* The state directory opened and locked if it exists; *st NULL (and 0)
 * when it does not. Bad input must not leave a state directory behind, so
 * the changing commands create it only once they are about to change
 * something, with bcli_state_ensure(). Returns 0 or an exit code. */
int bcli_state_existing(struct state **st);
/* *st, or the state directory created and locked now. 0 or an exit code. */
int bcli_state_ensure(struct state **st);

/* Make rs live (NULL: remove table; old_table, if not NULL and other than
 * rs's, is deleted in the same transaction: a renamed table) with the genid check against l->gen,
 * re-reading and retrying when someone else changed the ruleset meanwhile.
 * Prints kernel errors by object. Returns 0 or an exit code. */
int bcli_commit(struct live *l, const struct ir_ruleset *rs, const char *table,
		const char *old_table);

/* Make rs live by changing set elements only, when the live table differs
 * from it in nothing else (rules, counters and hooks stay): *delta is what
 * was sent (empty: nothing was), with elements renewed as ruleset_delta()
 * says for renew_ms. Re-reads and retries on a concurrent change or an
 * element that expired meanwhile. *replace: the table is absent or differs
 * in more than elements, nothing was sent; use bcli_commit. The caller
 * frees *delta (zeroed before the call). Returns 0 or an exit code. */
int bcli_update(struct live *l, const struct ir_ruleset *rs, uint64_t renew_ms,
		struct ruleset_delta *delta, bool *replace);

/* Make rs live (NULL: remove table) the cheapest safe way: set elements
 * changed in place (bcli_update, renew_ms as there) when the table keeps
 * its name and nothing but elements differs, so rules keep their counters;
 * else the table replaced (bcli_commit, old_table deleted with it). say:
 * print "in place: ..." when it was done in place. 0 or an exit code. */
int bcli_make_live(struct live *l, const struct ir_ruleset *rs, const char *table,
		   const char *old_table, uint64_t renew_ms, bool say);

/* Print backend diagnostics: "file:line:col: error: msg" or "ntpwall: msg". */
void bcli_print_diags(const struct diags *d);

/* Record g (taking ownership) as the next generation; prints its number
 * unless quiet. Returns 0 or an exit code. */
int bcli_record(struct state *st, struct state_gen *g, unsigned keep, bool quiet);

/* The latest generation, or NULL (none, or unreadable: printed). */
struct state_gen *bcli_latest(struct state *st);

enum {
	BCLI_QUIET = 1,		/* print nothing (the watchdog) */
	BCLI_FORCE = 2,		/* change the kernel even if the record cannot be written */
};

/* Make generation src live again (0: remove the table) and record it as a
 * new generation with action ("rollback", "revert"); the record is written
 * ahead, so without BCLI_FORCE a full disk changes nothing. flags: BCLI_*.
 * Needs the lock. Returns 0 or an exit code. */
int bcli_restore(struct state *st, unsigned long src, const char *action, unsigned keep,
		 unsigned flags);

/* Undo a pending --confirm apply of generation gen if it is still pending:
 * make the pending record's previous generation live again and record it
 * as a "revert". Takes the lock itself. Returns 0 when reverted or nothing
 * was pending, else an exit code. quiet: print nothing (watchdog). */
int bcli_revert_pending(unsigned long gen, bool quiet);

/* The table of the newest generation that has one (new string), or NULL:
 * the table ntpwall manages. latest (may be NULL) is the newest generation
 * as the caller loaded it already. */
char *bcli_managed_table(struct state *st, const struct state_gen *latest);

/* "nft" or "iptables": the policy's backend. */
const char *bcli_backend_name(const struct policy *p);
/* A new generation recording w (policy path and hash, resolved names,
 * ruleset) with action ("apply", "refresh"). */
struct state_gen *bcli_gen_for(const struct wanted *w, const char *action);

/* *live: the kernel holds exactly generation gen's rules (a removal: its
 * table is absent). Prints why not readable. Returns 0 or an exit code. */
int bcli_gen_live(struct state *st, unsigned long gen, bool *live);

/* End a confirm watchdog early (it would find nothing to do). */
void bcli_stop_watchdog(pid_t pid);

/* Parse --keep N; -1 if bad. */
int bcli_parse_keep(const char *s, unsigned *keep);

#endif
