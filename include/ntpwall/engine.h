/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The engine: every change to the kernel, the time daemon and the state
 * directory goes through here, written against struct backend_ops and
 * struct daemon_ops only. It decides in place versus replace, retries on a
 * stale ruleset generation, writes records ahead of commits, keeps
 * snapshots, restores, reverts and adopts. It never prints and never
 * exits: functions return 0 or -errno and leave their messages in the
 * diagnostics given to engine_init(); struct engine_result says what
 * happened, for the caller to show. */
#ifndef NTPWALL_ENGINE_H
#define NTPWALL_ENGINE_H

#include "ntpwall/backend.h"
#include "ntpwall/daemon.h"
#include "ntpwall/diag.h"
#include "ntpwall/ir.h"
#include "ntpwall/policy.h"
#include "ntpwall/probe.h"
#include "ntpwall/resolve.h"
#include "ntpwall/state.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* The seam where network input is parsed: DNS answers and NTP replies.
 * engine_net_direct parses them in this process; privilege separation
 * puts an unprivileged child behind the same two calls. */
struct engine_net {
	int (*resolve)(const struct engine_net *n, const struct policy *p,
		       const struct resolve_options *o, struct diags *d, struct resolved **out);
	int (*probe)(const struct engine_net *n, const struct probe_target *t, size_t count,
		     const struct probe_options *o, struct probe_results **out);
	void *ctx;
};

extern const struct engine_net engine_net_direct;

struct engine_config {
	const char *state_dir;
	unsigned keep;				/* generations to keep; 0: the default */
	const char *seed;			/* spreads pool choices; NULL: none */
	const struct backend_ops *backend;	/* NULL: by name (policy, generation) */
	const struct engine_net *net;		/* NULL: engine_net_direct */
	const struct daemon_ops *daemon;	/* NULL: daemon_system */
	const char *run_dir;			/* where upstreams.json is published;
						 * NULL: not published */
	const sigset_t *probe_sigmask;		/* see probe_options.sigmask */
	bool force_backend;			/* backend_opts.force */
};

/* One engine run: a state directory, a backend connection and what the
 * kernel had when last read. */
struct engine {
	struct engine_config cfg;
	struct diags *d;
	struct state *st;		/* NULL until opened */
	const struct backend_ops *ops;	/* NULL until opened */
	struct backend *b;
	struct ir_ruleset *live;	/* NULL: the table is absent */
	struct backend_gen gen;
};

/* What a policy asks for: loaded, linted, resolved and compiled. */
struct engine_wanted {
	struct policy *policy;
	struct resolved *resolved;
	struct ir_ruleset *rs;
};

enum engine_outcome {
	ENGINE_UNCHANGED,	/* the kernel already was as asked (elements may be renewed) */
	ENGINE_CHANGED,		/* made live and recorded */
	ENGINE_ADOPTED,		/* an equal unmanaged table recorded, nothing sent */
	ENGINE_RECORDED,	/* the kernel was as asked but no generation said so */
	ENGINE_REVERTED,	/* the probe or the confirmation failed: back as before */
	ENGINE_PENDING,		/* made live, waiting for confirmation */
	ENGINE_ABSENT,		/* remove: the table was not there */
};

/* Upstream and peer addresses that came, went, or stayed with their
 * timeout renewed (text, as inet_ntop writes them). */
struct engine_addr_changes {
	char **added, **removed, **renewed;
	size_t n_added, n_removed, n_renewed;
};

void engine_addr_changes_free(struct engine_addr_changes *c);

struct engine_result {
	enum engine_outcome outcome;
	unsigned long generation;	/* recorded now; 0 none */
	unsigned long previous;		/* what a revert goes (or went) back to; 0 no table */
	bool in_place;			/* set elements changed, rules kept */
	size_t added, deleted, renewed;	/* elements */
	size_t refused;			/* refresh: new addresses the probe refused */
	size_t replaced;		/* refresh: unhealthy pool members replaced */
	size_t kept_previous;		/* refresh: names that failed and kept addresses */
	bool unrecorded;		/* a revert went ahead without its record */
	bool daemon_failed;		/* the wall changed; the daemon was not told */
	bool daemon_told;		/* its file changed and it was told */
	bool restored;			/* refresh found no table and restored it */
	bool interrupted;		/* a signal stopped the probe */
	bool probe_failed;		/* apply --probe, nothing changed: no upstream
					 * answered (or the probe did not run to its
					 * end), and there was nothing to revert */
	struct probe_results *probe;	/* when probed; freed by engine_result_free */
	int64_t deadline;		/* ENGINE_PENDING: Unix time */
	pid_t watchdog;			/* ENGINE_PENDING: its pid */
	char *table;			/* the table acted on; may be NULL */
	struct engine_addr_changes addrs;	/* against the table before */
};

void engine_result_free(struct engine_result *r);

/* Set up e (nothing opened yet); diagnostics go to d. */
void engine_init(struct engine *e, const struct engine_config *cfg, struct diags *d);
/* Close the backend and the state directory (releasing the lock). */
void engine_fini(struct engine *e);

enum engine_state_mode {
	ENGINE_STATE_READ,	/* open if it exists, no lock (diff, status) */
	ENGINE_STATE_LOCK,	/* open and lock if it exists */
	ENGINE_STATE_CREATE,	/* create if needed, then lock */
};

/* Open the state directory as mode says; e->st stays NULL when it does not
 * exist (READ, LOCK). A directory others may write to is -EPERM. Bad input
 * must leave no state directory behind, so changing operations create it
 * only once they are about to change something. */
int engine_state_open(struct engine *e, enum engine_state_mode mode);
/* Release the state lock early (a pending confirmation's prompt). */
void engine_state_unlock(struct engine *e);

/* Open the backend called name (e->cfg.backend wins): -ENOENT unknown,
 * -EPERM without CAP_NET_ADMIN. */
int engine_open(struct engine *e, const char *name);
/* (Re-)read table into e->live and e->gen. */
int engine_read(struct engine *e, const char *table);

/* The latest generation (NULL: none; -EINVAL and a diagnostic when it does
 * not load). */
int engine_latest(struct engine *e, struct state_gen **out);
/* The table of the newest generation that has one (new string), or NULL:
 * the table ntpwall manages. latest may be the caller's loaded latest. */
char *engine_managed_table(struct engine *e, const struct state_gen *latest);

/* Build what the policy at path asks for: load, lint (warnings into the
 * diagnostics), resolve through e->cfg.net (pool choices kept from the
 * latest generation; with keep_failed, a failed name keeps its last
 * addresses) and compile. -EINVAL when the policy is bad or a name did not
 * resolve (without keep_failed): nothing may be applied then. */
int engine_wanted(struct engine *e, const char *path, bool keep_failed,
		  struct engine_wanted *w);
void engine_wanted_free(struct engine_wanted *w);
/* Resolve p's names as apply does (pool choices spread by the seed and
 * kept from the latest generation, if the state is open). As
 * resolve_policy(). */
int engine_resolve(struct engine *e, const struct policy *p, bool keep_failed,
		   struct resolved **out);
/* p's addresses as the wall trusts them now, from the choice published
 * in cfg.run_dir (no DNS): -ENOENT when none is published or it lacks one
 * of p's names (then resolve as a first apply would). */
int engine_current_choice(struct engine *e, const struct policy *p, struct resolved **out);
/* The ruleset the wall runs by the records, for explain. */
struct engine_current {
	struct ir_ruleset *rs;		/* owned */
	bool published;			/* from the published choice, not the state */
	int state_error;		/* published: why the state was not read (-errno) */
	unsigned long generation;	/* the generation it is (or was published for) */
	char *policy_path;		/* may be NULL */
	char *created;			/* the generation's time; NULL when published */
	bool iptables;			/* rs is (or is for) backend: iptables */
};

/* The latest generation's ruleset, read without the kernel; where this
 * user may not read the state directory (-EACCES, or -EPERM: another
 * user's), the policy the published choice in cfg.run_dir names, compiled
 * with the published addresses (the policy file as it is now). -ENOENT
 * with a diagnostic when neither gives one (nothing applied, the table
 * removed); -EINVAL when the named policy does not load. */
int engine_current_ruleset(struct engine *e, struct engine_current *cur);
/* Free what cur holds (a zeroed cur too) and zero it. */
void engine_current_free(struct engine_current *cur);
/* "nft" or "iptables". */
const char *engine_backend_name(const struct policy *p);

/* True when the table read into e->live exists and no generation of the
 * state directory made it. */
bool engine_unmanaged(struct engine *e, const char *table);

struct engine_apply_opts {
	bool probe;		/* probe the upstreams through the new rules (also when
				 * nothing changed); revert a change if none is OK */
	unsigned confirm;	/* seconds; 0: none */
	bool replace_unmanaged;	/* replace a table ntpwall did not make (kept for rollback) */
};

/* Make w live (e opened, its table read): refuse (-EEXIST) an unmanaged
 * table unless asked; adopt one that already equals w; record a commit
 * that happened but was not recorded; else change elements in place or
 * replace the table, with the generation (and the pending confirmation)
 * written ahead so a full disk changes nothing. With o->confirm the
 * watchdog is started and the state lock released (ENGINE_PENDING). The
 * host's other firewalls are checked (warnings NW508) once the wall is
 * up, before the probe with o->probe; with nothing to change the probe
 * runs too, and r->probe_failed says when no upstream answered. */
int engine_apply(struct engine *e, const struct engine_wanted *w,
		 const struct engine_apply_opts *o, struct engine_result *r);

/* refresh: the live table's sets updated in place to w (new addresses
 * added, gone ones removed, DNS elements renewed), rules never touched
 * (-EPROTO when they differ, -ENOENT without a table); with probe, new
 * upstream addresses that fail the probe are taken out again. Records a
 * generation when addresses came or went. */
int engine_refresh(struct engine *e, struct engine_wanted *w, bool probe,
		   struct engine_result *r);

/* Make generation src live again (0: remove the table) and record it with
 * action ("rollback", "revert"). The record is written ahead, so a full
 * disk changes nothing unless force (a revert, whose deadline is a
 * promise: then r->unrecorded). Needs the lock. */
int engine_restore(struct engine *e, unsigned long src, const char *action, bool force,
		   struct engine_result *r);
/* The boot unit and nftables reloads: make the latest generation live
 * again exactly as recorded, without DNS, the daemon in step; nothing is
 * recorded (ENGINE_ABSENT when nothing was applied or the latest removed
 * it). Needs the lock. */
int engine_restore_latest(struct engine *e, struct engine_result *r);
/* rollback: the generation before the latest, or to (non-zero). */
int engine_rollback(struct engine *e, unsigned long to, struct engine_result *r);
/* Delete the managed table (table, if not NULL, must be it) and record a
 * removal. -EPERM for a table ntpwall did not make. */
int engine_remove(struct engine *e, const char *table, struct engine_result *r);

/* The last refresh, as it recorded itself (last-refresh.json). */
struct engine_refresh_record {
	bool present;			/* false: none recorded (or unreadable) */
	int64_t time;			/* Unix time it finished */
	int exit_code;			/* ntpwall refresh's exit status (0 to 3) */
	size_t added, removed, renewed;	/* elements */
};

/* Record that a refresh finished with exit_code (r: what it did; may be
 * NULL) in the state directory, if it is open: written atomically, the
 * last one only. -errno. */
int engine_refresh_record(struct engine *e, int exit_code, const struct engine_result *r);

/* What status shows, read only. */
struct engine_status {
	struct state_gen *latest;	/* NULL: none */
	struct state_pending pending;
	bool has_pending, pending_expired;
	bool pending_damaged;		/* a pending record that does not read */
	char *table;
	const char *word;		/* in-sync, drifted, absent, removed, unmanaged */
	size_t expiring;		/* DNS elements with less than a quarter left */
	char **disagree;		/* the daemon asks what the wall blocks */
	size_t n_disagree;
	char **host_firewall;		/* other tables' chains that drop NTP, with
					 * the rule to add (hostfw_findings' msg) */
	size_t n_host_firewall;
	bool attention;			/* anything above that needs an operator */
	struct engine_refresh_record last_refresh;
	char *host;			/* the backend on the host's firewall; may be NULL */
};

/* Fill s for table (NULL: the managed one): state opened READ, backend
 * opened here. */
int engine_status(struct engine *e, const char *table, struct engine_status *s);
void engine_status_free(struct engine_status *s);
/* Add to s->disagree what the daemon ds asks besides wall (chrony: its
 * sources, and chrony.conf's server/pool/peer lines). */
void engine_daemon_agreement(struct engine *e, const struct daemon_state *ds,
			     const struct ir_ruleset *wall, struct engine_status *s);

struct hostfw_findings;
/* The host's other firewalls (ntpwall/hostfw.h): the chains of other
 * tables that would drop NTP to the upstreams of families (HOSTFW_V4 |
 * HOSTFW_V6) or their replies, own_table (ntpwall's) left out, into *out
 * (zeroed first; hostfw_findings_free). Opens the nft backend, without a
 * diagnostic, when e has none open. -EOPNOTSUPP when the backend cannot
 * list them, else the backend's -errno (-EPERM unprivileged). */
int engine_host_firewall(struct engine *e, const char *own_table, unsigned families,
			 struct hostfw_findings *out);
/* What to tell the operator about engine_host_firewall()'s err and f
 * besides the findings: the chains could not be read, or not all of
 * them (new string), or NULL for nothing. */
char *engine_host_firewall_trouble(int err, const struct hostfw_findings *f);
/* true when err only means that this user may not read the chains (or
 * the backend cannot): a command that works unprivileged says nothing. */
bool engine_host_firewall_quiet(int err);

/* 1 when something refreshes the names (the systemd timer is enabled, or
 * a cron file runs `ntpwall refresh`), 0 when neither does, -1 when it
 * cannot be told (no systemd as PID 1 and no cron). */
int engine_refresh_scheduled(void);

/* One generation as the history shows it. */
struct engine_history_entry {
	unsigned long number, source;	/* source: what a rollback or revert restored */
	char *action, *created, *backend, *policy_path, *policy_hash, *table;
	size_t upstreams, peers;	/* addresses in the sets */
	struct engine_addr_changes addrs;	/* against the generation before */
};

/* Every stored generation, oldest first (state opened READ). An
 * unreadable one is a warning and left out. */
int engine_history(struct engine *e, struct engine_history_entry **out, size_t *n);
void engine_history_free(struct engine_history_entry *v, size_t n);

/* Keep a pending confirmation (of gen, or any when gen is 0) if its
 * generation is what the kernel holds (-ESTALE otherwise). -ENOENT when
 * nothing (or another generation) is pending. Takes the lock itself. */
int engine_confirm(struct engine *e, unsigned long gen, struct engine_result *r);
/* Undo pending generation gen, if still pending: make its previous
 * generation live again as a "revert" (forced), clear the record, log to
 * syslog. 0 also when nothing was pending. Takes the lock itself. */
int engine_revert_pending(struct engine *e, unsigned long gen, struct engine_result *r);
/* A pending confirmation past its deadline whose watchdog did not revert
 * (killed): revert it now (ENGINE_REVERTED, with a warning). Every
 * changing command calls it once the state is locked. A damaged record is
 * a warning. */
int engine_expire_pending(struct engine *e, struct engine_result *r);
/* Stop the watchdog of a settled confirmation: pid, if it is still the
 * process that started at start (pids are reused). */
void engine_stop_watchdog(pid_t pid, uint64_t start);

#endif
