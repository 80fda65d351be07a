/* ntpwall refresh POLICY [--probe] [--keep N]: what cron or the systemd
 * timer runs. Re-resolve the policy's names and update the live table's
 * sets in place, in one transaction: addresses a name now gives are added,
 * ones no name gives any more are removed, and every address that came
 * from DNS is renewed (deleted and added again in the same batch, so its
 * timeout restarts even on kernels before 6.12: netlink-notes §8.3).
 * Rules and counters are never touched: when the policy's rules differ
 * from the live table's, refresh changes nothing and asks for `apply`.
 * A name that fails to resolve keeps its last known addresses, with a
 * warning (chrony too keeps a server whose name stops resolving).
 * A generation is recorded only when addresses came or went.
 * Exit: 0 done; 1 done, but a name failed or a new address was refused
 * by the probe; 2 nothing changed (error). */
#include "backend_cli.h"
#include "cli.h"
#include "ntpwall/compile.h"
#include "ntpwall/probe.h"
#include "ntpwall/util.h"

#include <string.h>

struct refresh_args {
	bool probe;
	unsigned keep;
};

enum { OPT_PROBE = 256, OPT_KEEP };

static const struct cli_option refresh_opts[] = {
	{ "probe", OPT_PROBE, NULL, "probe new upstream addresses; take out those that fail" },
	{ "keep", OPT_KEEP, "N", "generations to keep (default 10 or $NTPWALL_KEEP)" },
	{ "help", 'h', NULL, "show this help" },
	{ 0 }
};

static int refresh_opt(int key, const char *arg, void *data)
{
	struct refresh_args *a = data;

	if (key == OPT_PROBE)
		a->probe = true;
	else if (key == OPT_KEEP)
		return bcli_parse_keep(arg, &a->keep);
	return 0;
}

static bool is_upstream_set(const struct ir_set *s)
{
	return !strcmp(s->name, COMPILE_SET_UPSTREAMS4) || !strcmp(s->name, COMPILE_SET_UPSTREAMS6);
}

/* The upstream addresses this refresh added, as probe targets. */
static size_t added_upstreams(const struct ruleset_delta *d, struct probe_target **out,
			      char (**names)[INET6_ADDRSTRLEN])
{
	size_t n = 0;

	*out = xcalloc(d->added + 1, sizeof(**out));
	*names = xcalloc(d->added + 1, sizeof(**names));
	for (size_t i = 0; i < d->n_sets; i++) {
		const struct set_delta *sd = &d->sets[i];

		if (!is_upstream_set(sd->set))
			continue;
		/* Renewed elements are in del and add alike (both sorted): only
		 * keys that del lacks are new. */
		for (size_t j = 0, k = 0; j < sd->n_add && n < d->added; j++) {
			const struct ir_elem *e = sd->add[j];

			while (k < sd->n_del && ir_elem_cmp(sd->del[k], e) < 0)
				k++;
			if (k < sd->n_del && !ir_elem_cmp(sd->del[k], e))
				continue;
			(*out)[n].addr = e->addr;
			(*out)[n].name = policy_addr_str(&e->addr, (*names)[n], sizeof((*names)[n]));
			n++;
		}
	}
	return n;
}

/* Drop addr from every upstream set of rs and from the names that gave it,
 * so the generation records what is live. */
static void drop_addr(struct wanted *w, const struct policy_addr *addr)
{
	for (size_t i = 0; i < w->rs->n_sets; i++) {
		struct ir_set *s = &w->rs->sets[i];
		size_t k = 0;

		if (!is_upstream_set(s))
			continue;
		for (size_t j = 0; j < s->n_elems; j++) {
			if (!policy_addr_cmp(&s->elems[j].addr, addr)) {
				free(s->elems[j].comment);
				continue;
			}
			s->elems[k++] = s->elems[j];
		}
		s->n_elems = k;
	}
	for (size_t i = 0; i < w->resolved->n_names; i++) {
		struct resolve_name *nm = &w->resolved->names[i];
		size_t k = 0;

		for (size_t j = 0; j < nm->n_kept; j++)
			if (policy_addr_cmp(&nm->addrs[j], addr))
				nm->addrs[k++] = nm->addrs[j];
		nm->n_kept = k;
	}
}

/* Probe the new upstream addresses through the rules just updated; those
 * not OK are dropped from w. Returns how many were dropped. */
static size_t probe_new(const struct ruleset_delta *d, struct wanted *w)
{
	struct probe_options o = { .limits = w->policy->probe };
	char (*names)[INET6_ADDRSTRLEN];
	struct probe_target *t;
	struct probe_results *res = NULL;
	size_t n = added_upstreams(d, &t, &names), dropped = 0;

	if (n && probe_run(t, n, &o, &res) == 0) {
		for (size_t i = 0; i < res->n; i++) {
			if (res->v[i].status == PROBE_OK)
				continue;
			fprintf(stderr, "ntpwall: refresh: new upstream %s refused: %s: %s\n",
				res->v[i].name, probe_status_str(res->v[i].status), res->v[i].reason);
			drop_addr(w, &res->v[i].addr);
			dropped++;
		}
	}
	probe_results_free(res);
	free(names);
	free(t);
	return dropped;
}

static size_t names_kept_previous(const struct resolved *r)
{
	size_t n = 0;

	for (size_t i = 0; i < r->n_names; i++)
		n += r->names[i].kept_previous;
	return n;
}

/* Update in place; *d says what was sent. Refuses a structural change. */
static int update(struct live *l, const struct wanted *w, struct ruleset_delta *d)
{
	bool replace;
	int rc;

	if (!l->rs) {
		cli_error("refresh: table inet %s does not exist: run 'ntpwall apply' first",
			  w->rs->table);
		return EXIT_USAGE;
	}
	rc = bcli_update(l, w->rs, DELTA_RENEW_ALL, d, &replace);
	if (!rc && replace) {
		cli_error("refresh: the policy's rules differ from table inet %s's, not only "
			  "its addresses: run 'ntpwall diff' and 'ntpwall apply'; nothing changed",
			  w->rs->table);
		rc = EXIT_USAGE;
	}
	return rc;
}

/* With the state lock held: update, probe, take refused ones out again,
 * record a generation when addresses came or went. */
static int refresh_locked(struct state *st, struct live *l, struct wanted *w,
			  const struct refresh_args *a)
{
	struct ruleset_delta d = { 0 };
	size_t refused = 0;
	int rc = update(l, w, &d);

	if (rc)
		goto out;
	if ((a->probe || w->policy->refresh.probe) && d.added) {
		refused = probe_new(&d, w);
		if (refused) {
			struct ruleset_delta d2 = { 0 };
			bool replace;

			rc = bcli_read(l, w->rs->table);
			if (!rc)
				rc = bcli_update(l, w->rs, 0, &d2, &replace);
			ruleset_delta_free(&d2);
			if (rc)
				goto out;
		}
	}
	if (arg_verbose >= 0)
		printf("refresh: %zu added, %zu removed, %zu renewed%s\n", d.added - refused,
		       d.deleted, d.renewed, refused ? " (new addresses refused by the probe)" : "");
	if (d.added > refused || d.deleted)
		rc = bcli_record(st, bcli_gen_for(w, "refresh"), a->keep, false);
out:
	ruleset_delta_free(&d);
	if (!rc && (refused || names_kept_previous(w->resolved)))
		rc = EXIT_FINDINGS;
	return rc;
}

int cmd_refresh_main(int argc, char **argv)
{
	struct refresh_args a = { .keep = state_keep_default() };
	struct state *st;
	struct wanted w;
	struct live l = { 0 };
	int first, rc;

	first = cli_parse(argc, argv, "ntpwall refresh POLICY [--probe] [--keep N]", refresh_opts,
			  refresh_opt, &a);
	if (first < 0)
		return first == -2 ? EXIT_OK : EXIT_USAGE;
	if (argc - first != 1) {
		cli_error("refresh: expected one policy (usage: ntpwall refresh POLICY)");
		return EXIT_USAGE;
	}
	if (bcli_state_existing(&st))
		return EXIT_USAGE;
	rc = bcli_wanted(argv[first], st, true, &w);
	if (!rc)
		rc = bcli_open(bcli_backend_name(w.policy), &l);
	if (!rc)
		rc = bcli_read(&l, w.rs->table);
	if (!rc && l.rs)
		rc = bcli_state_ensure(&st);
	if (!rc)
		rc = refresh_locked(st, &l, &w, &a);
	bcli_close(&l);
	bcli_wanted_free(&w);
	state_close(st);
	return rc;
}
