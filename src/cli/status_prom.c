/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ntpwall status --format prometheus: generation, table state, rule
 * counters, set sizes and expiry, pending confirmation and the last
 * refresh, one family at a time (prom.h). Series are keyed by table, chain
 * and rule comment, or set name: they stay across generations. */
#include "status_prom.h"
#include "prom.h"
#include "ntpwall/util.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TABLE(s) { "table", (s)->table }

/* "2026-12-01T07:00:00Z" (state.c writes UTC) as Unix time; -1 if not. */
static double iso_time(const char *iso)
{
	struct tm tm = { 0 };
	const char *end = iso ? strptime(iso, "%Y-%m-%dT%H:%M:%SZ", &tm) : NULL;

	return end && !*end ? (double)timegm(&tm) : -1;
}

static void generation(FILE *f, const struct engine_status *s)
{
	struct prom_label t[] = { TABLE(s) };
	double created = s->latest ? iso_time(s->latest->created) : -1;

	prom_family(f, "ntpwall_generation", "gauge",
		    "Number of the latest generation ntpwall recorded (0: none).");
	prom_sample(f, "ntpwall_generation", t, 1, s->latest ? (double)s->latest->number : 0);
	if (created < 0)
		return;
	prom_family(f, "ntpwall_generation_timestamp_seconds", "gauge",
		    "When the latest generation was recorded, in Unix time.");
	prom_sample(f, "ntpwall_generation_timestamp_seconds", t, 1, created);
}

/* One sample per state, 1 for the current one (a state set). */
static void table_state(FILE *f, const struct engine_status *s)
{
	static const char *const words[] = { "in-sync", "drifted", "absent", "removed",
					     "unmanaged" };

	prom_family(f, "ntpwall_table_state", "gauge",
		    "1 for the state of the table against the latest generation: in-sync, "
		    "drifted, absent, removed (on purpose) or unmanaged.");
	for (size_t i = 0; i < ARRAY_SIZE(words); i++) {
		struct prom_label l[] = { TABLE(s), { "state", words[i] } };

		prom_sample(f, "ntpwall_table_state", l, 2, !strcmp(s->word, words[i]));
	}
	prom_family(f, "ntpwall_attention", "gauge",
		    "1 when status finds something an operator must look at (its exit status 1).");
	prom_sample(f, "ntpwall_attention", (struct prom_label[]){ TABLE(s) }, 1, s->attention);
	prom_family(f, "ntpwall_pending_confirmation", "gauge",
		    "1 while an apply waits for 'ntpwall confirm'.");
	prom_sample(f, "ntpwall_pending_confirmation", (struct prom_label[]){ TABLE(s) }, 1,
		    s->has_pending || s->pending_damaged);
	prom_family(f, "ntpwall_daemon_disagreements", "gauge",
		    "Servers the time daemon asks that the wall blocks, or lacks.");
	prom_sample(f, "ntpwall_daemon_disagreements", (struct prom_label[]){ TABLE(s) }, 1,
		    (double)s->n_disagree);
}

/* The rule label: its comment, with "#2", "#3"... for a comment seen before
 * in the chain (hand-made rules), so that no two series are the same. */
static char *rule_label(const struct ir_chain *c, size_t i)
{
	const char *me = c->rules[i].comment ? c->rules[i].comment : "";
	size_t seen = 0;

	for (size_t j = 0; j < i; j++)
		seen += !strcmp(c->rules[j].comment ? c->rules[j].comment : "", me);
	return seen ? xasprintf("%s#%zu", me, seen + 1) : xstrdup(me);
}

static size_t counted_rules(const struct ir_ruleset *rs)
{
	size_t n = 0;

	for (size_t i = 0; rs && i < rs->n_chains; i++)
		for (size_t j = 0; j < rs->chains[i].n_rules; j++)
			n += rs->chains[i].rules[j].counter;
	return n;
}

/* A family is written only with samples (no live table: no counters). */
static void rule_counters(FILE *f, const struct engine_status *s, const struct ir_ruleset *rs,
			  bool bytes)
{
	const char *name = bytes ? "ntpwall_rule_bytes_total" : "ntpwall_rule_packets_total";

	if (!counted_rules(rs))
		return;
	prom_family(f, name, "counter", bytes ? "Bytes the rule's counter has seen."
					      : "Packets the rule's counter has seen.");
	for (size_t i = 0; rs && i < rs->n_chains; i++) {
		const struct ir_chain *c = &rs->chains[i];

		for (size_t j = 0; j < c->n_rules; j++) {
			char *rule;

			if (!c->rules[j].counter)
				continue;
			rule = rule_label(c, j);
			prom_sample_u64(f, name, (struct prom_label[]){ TABLE(s), { "chain", c->name },
							{ "rule", rule } }, 3,
					bytes ? c->rules[j].bytes : c->rules[j].packets);
			free(rule);
		}
	}
}

/* Seconds until the first element that expires does; -1: none expires
 * (no timeout, or a meter filled from the packet path). */
static double first_expiry(const struct ir_set *set)
{
	double first = -1;

	if (set->flags & IR_SET_DYNAMIC)
		return -1;
	for (size_t i = 0; i < set->n_elems; i++) {
		const struct ir_elem *el = &set->elems[i];
		double left = el->expires_ms / 1e3;

		if ((el->timeout_ms || set->timeout_ms) && (first < 0 || left < first))
			first = left;
	}
	return first;
}

static void expiries(FILE *f, const struct engine_status *s, const struct ir_ruleset *rs)
{
	bool any = false;

	for (size_t i = 0; rs && i < rs->n_sets; i++) {
		double left = first_expiry(&rs->sets[i]);

		if (left < 0)
			continue;
		if (!any)
			prom_family(f, "ntpwall_set_next_expiry_seconds", "gauge",
				    "Seconds until the set's first element expires (elements from "
				    "DNS, renewed by refresh); absent when none has a timeout.");
		any = true;
		prom_sample(f, "ntpwall_set_next_expiry_seconds", (struct prom_label[]){
			    TABLE(s), { "set", rs->sets[i].name } }, 2, left);
	}
}

static void sets(FILE *f, const struct engine_status *s, const struct ir_ruleset *rs)
{
	if (rs && rs->n_sets)
		prom_family(f, "ntpwall_set_elements", "gauge", "Elements in the set.");
	for (size_t i = 0; rs && i < rs->n_sets; i++)
		prom_sample(f, "ntpwall_set_elements", (struct prom_label[]){ TABLE(s),
			    { "set", rs->sets[i].name } }, 2, (double)rs->sets[i].n_elems);
	expiries(f, s, rs);
	prom_family(f, "ntpwall_dns_elements_expiring", "gauge",
		    "Elements from DNS with less than a quarter of their timeout left (is the "
		    "refresh timer running?).");
	prom_sample(f, "ntpwall_dns_elements_expiring", (struct prom_label[]){ TABLE(s) }, 1,
		    (double)s->expiring);
}

static void last_refresh(FILE *f, const struct engine_status *s)
{
	const struct engine_refresh_record *r = &s->last_refresh;

	if (!r->present)
		return;
	prom_family(f, "ntpwall_last_refresh_timestamp_seconds", "gauge",
		    "When 'ntpwall refresh' last finished, in Unix time.");
	prom_sample(f, "ntpwall_last_refresh_timestamp_seconds", NULL, 0, (double)r->time);
	prom_family(f, "ntpwall_last_refresh_exit_code", "gauge",
		    "The last refresh's exit status: 0 done, 1 a name failed or an address was "
		    "refused, 2 error, 3 the time daemon was not told.");
	prom_sample(f, "ntpwall_last_refresh_exit_code", NULL, 0, r->exit_code);
	prom_family(f, "ntpwall_last_refresh_success", "gauge",
		    "1 when the last refresh exited 0.");
	prom_sample(f, "ntpwall_last_refresh_success", NULL, 0, r->exit_code == 0);
}

void status_report_prometheus(FILE *f, const struct engine_status *s, const struct engine *e,
			      int rc)
{
	if (s) {
		generation(f, s);
		table_state(f, s);
		rule_counters(f, s, e->live, false);
		rule_counters(f, s, e->live, true);
		sets(f, s, e->live);
		last_refresh(f, s);
	}
	prom_family(f, "ntpwall_status_exit_code", "gauge",
		    "Exit status of 'ntpwall status': 0 in sync, 1 needs attention, 2 error "
		    "(then no other ntpwall_ status metric).");
	prom_sample(f, "ntpwall_status_exit_code", NULL, 0, rc);
}
