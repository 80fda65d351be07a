/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Internal to the engine (engine*.c): the compare-and-swap commit, the
 * in-place update, records written ahead, snapshots. Not a module
 * interface. */
#ifndef NTPWALL_ENGINE_INT_H
#define NTPWALL_ENGINE_INT_H

#include "ntpwall/delta.h"
#include "ntpwall/engine.h"

/* Record an error in e's diagnostics and return ret (a -errno). */
int eng_fail(struct engine *e, int ret, enum diag_code code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Record a warning. */
void eng_warn(struct engine *e, enum diag_code code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Make rs live (NULL: delete table) in one transaction replacing the
 * table, deleting old_table (if not NULL and another name) in the same
 * transaction, with the genid check against e->gen: re-read and retried
 * when someone else changed the ruleset meanwhile. */
int eng_commit(struct engine *e, const struct ir_ruleset *rs, const char *table,
	       const char *old_table);
/* Change only set elements to make rs live, when the live table differs in
 * nothing else (renew_ms as ruleset_delta() takes it). *replace: it differs
 * in more, nothing was sent. The caller frees *delta (zeroed before). */
int eng_update(struct engine *e, const struct ir_ruleset *rs, uint64_t renew_ms,
	       struct ruleset_delta *delta, bool *replace);
/* Make rs live (NULL: remove table) the cheapest safe way: elements in
 * place when only they differ (r->in_place and counts set, r may be NULL),
 * else the table replaced. */
int eng_make_live(struct engine *e, const struct ir_ruleset *rs, const char *table,
		  const char *old_table, uint64_t renew_ms, struct engine_result *r);

/* Write g ahead (prepared, not yet published); a full disk fails here. */
int eng_prepare(struct engine *e, struct state_gen *g, struct state_prepared *pp);
/* Publish a prepared record (a generation: then prune). */
int eng_publish(struct engine *e, struct state_prepared *pp);
/* Prepare and publish g at once (nothing in the kernel depends on it). */
int eng_record(struct engine *e, struct state_gen *g);

/* A new generation recording w with action. */
struct state_gen *eng_gen_for(const struct engine_wanted *w, const char *action);
/* What a revert goes back to: the latest generation when it holds what is
 * live, else the live table recorded now as a "snapshot" generation; 0 when
 * no table is live. */
int eng_snapshot(struct engine *e, const char *backend, unsigned long *prev);
/* Probe the upstream addresses of w through e->cfg.net into r->probe;
 * *good: how many are OK. Local addresses never count as an upstream. */
int eng_probe(struct engine *e, const struct policy *p, const struct addr *addrs,
	      size_t n, struct engine_result *r, size_t *good);
/* After a --confirm commit (r->generation pending, r->previous to go back
 * to): start the watchdog, release the lock; ENGINE_PENDING, or reverted
 * at once when the watchdog cannot start. */
int eng_start_confirm(struct engine *e, struct engine_result *r);
/* Revert pending confirmation want (its record if readable, else want). */
int eng_revert_pending(struct engine *e, const struct state_pending *want,
		       struct engine_result *r);
/* Settle a pending confirmation (a plain apply, a rollback, a remove):
 * remove the record and stop its watchdog. */
void eng_settle_pending(struct engine *e);

/* The latest generation's resolved names (the pool members to keep), or
 * NULL. */
struct resolved *eng_previous_resolved(struct engine *e);
/* Choose w's pool members again without the excluded addresses (from the
 * answers w already has) and compile w anew. */
int eng_rechoose(struct engine *e, struct engine_wanted *w, const struct addr *excluded,
		 size_t n);
/* refresh: judge w's pool members the wall trusts now (the daemon's view
 * over daemon.replace_after refreshes; with probing, the prober) and
 * choose replacements for the unhealthy ones (r->replaced). */
int eng_judge_members(struct engine *e, struct engine_wanted *w, bool probing,
		      struct engine_result *r);
/* The daemon state generation g recorded (kind NONE: leave the daemon). */
void eng_gen_daemon(const struct state_gen *g, struct daemon_state *ds);
/* The daemon's file is ours or absent (before the wall changes). */
int eng_daemon_check(struct engine *e, const struct daemon_state *ds);
/* Tell the daemon ds: r->daemon_told when its file changed; a daemon
 * that could not be told is r->daemon_failed and a warning, not an error. */
int eng_daemon_sync(struct engine *e, const struct daemon_state *ds, struct engine_result *r);
/* want with every upstream and peer element of live added: the wall while
 * the daemon moves. NULL when nothing would be added. */
struct ir_ruleset *eng_superset(const struct ir_ruleset *want, const struct ir_ruleset *live);
/* eng_make_live() in lockstep with the daemon ds: superset, daemon,
 * target (NULL: the daemon first, then the table goes). */
int eng_make_live_in_step(struct engine *e, const struct ir_ruleset *target, const char *table,
			  const char *old_table, uint64_t renew_ms, const struct daemon_state *ds,
			  struct engine_result *r);
/* The address families (HOSTFW_V4 | HOSTFW_V6) of r's upstreams. */
unsigned eng_upstream_families(const struct resolved *r);
/* Those of the wall's upstream sets; both when there is no wall. */
unsigned eng_wall_families(const struct ir_ruleset *wall);
/* Warn (NW508) about every chain engine_host_firewall() finds, with the
 * rule to add, and when the chains cannot be read; how many it found. */
size_t eng_warn_host_firewall(struct engine *e, const char *own_table, unsigned families);
/* status: s->host_firewall for the wall read into e->live (else the
 * latest generation's); nothing without either. */
void eng_status_host_firewall(struct engine *e, struct engine_status *s);
/* Publish generation g's choice in cfg.run_dir/upstreams.json (a warning
 * when it cannot be written); a removal (no ruleset) withdraws the file. */
void eng_publish_choice(struct engine *e, const struct state_gen *g);

/* Upstream and peer addresses: after's that before lacks are added,
 * before's that after lacks removed (either may be NULL). */
void eng_changes_between(const struct ir_ruleset *before, const struct ir_ruleset *after,
			 struct engine_addr_changes *c);
/* The elements d deletes and adds again. */
void eng_changes_renewed(const struct ruleset_delta *d, struct engine_addr_changes *c);
void eng_changes_take_renewed(struct engine_addr_changes *to, struct engine_addr_changes *from);

#endif
