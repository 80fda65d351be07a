/* SPDX-License-Identifier: GPL-2.0-or-later */
/* engine_status(): what a monitor needs to know, read only: is the latest
 * generation what the kernel holds, is a confirmation pending (or past its
 * deadline), are DNS elements running out (no refresh), and does the time
 * daemon ask only servers the wall lets through. */
#include "engine_int.h"
#include "daemon_int.h"
#include "ntpwall/compile.h"
#include "ntpwall/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <glob.h>
#include <jansson.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *sync_word(const struct state_gen *g, const struct ir_ruleset *live)
{
	if (!g)
		return live ? "unmanaged" : "absent";
	if (!g->rs)
		return live ? "drifted" : "removed";
	if (!live)
		return "absent";
	return ir_ruleset_equal(g->rs, live) ? "in-sync" : "drifted";
}

/* DNS elements with less than a quarter of their timeout left: the
 * refresh timer is not running, and they will expire. */
static size_t expiring(const struct ir_ruleset *live)
{
	size_t n = 0;

	for (size_t i = 0; live && i < live->n_sets; i++) {
		const struct ir_set *s = &live->sets[i];

		for (size_t j = 0; j < s->n_elems; j++) {
			uint64_t t = s->elems[j].timeout_ms ? s->elems[j].timeout_ms : s->timeout_ms;

			if (t && !(s->flags & IR_SET_DYNAMIC) && s->elems[j].expires_ms < t / 4)
				n++;
		}
	}
	return n;
}

static bool wall_has(const struct ir_ruleset *wall, const struct addr *a)
{
	static const char *const sets[] = { COMPILE_SET_UPSTREAMS4, COMPILE_SET_UPSTREAMS6,
					    "peers4", "peers6" };

	for (size_t i = 0; wall && i < ARRAY_SIZE(sets); i++) {
		const struct ir_set *s = ir_set_find(wall, sets[i]);

		if (s && ir_set_find_elem(s, a, a->family == AF_INET ? 32 : 128))
			return true;
	}
	return false;
}

static void say(struct engine_status *s, char *msg)
{
	s->disagree = xreallocarray(s->disagree, s->n_disagree + 1, sizeof(*s->disagree));
	s->disagree[s->n_disagree++] = msg;
}

static bool among(const struct daemon_source *v, size_t n, const struct addr *a)
{
	for (size_t i = 0; i < n; i++)
		if (!addr_cmp(&v[i].addr, a))
			return true;
	return false;
}

/* The servers ntpwall's file names by address that the daemon does not
 * ask: it was not told (or lost them on a reload). */
static void check_missing(const struct daemon_state *ds, const struct daemon_source *src,
			  size_t n, struct engine_status *s)
{
	const char *p = ds->content;

	while (p && *p) {
		char kind[8], host[64];	/* "server"/"peer"; an address is at most 45 */
		struct addr a;

		if (sscanf(p, "%7s %63s", kind, host) == 2 &&
		    (!strcmp(kind, "server") || !strcmp(kind, "peer")) &&
		    !addr_parse(host, &a) && !among(src, n, &a))
			say(s, xasprintf("%s does not ask %s, which %s names and the wall trusts: "
					 "run '%s'", daemon_kind_name(ds->kind), host, ds->path,
					 ds->command ? ds->command : "its reload"));
		p = strchr(p, '\n');
		if (p)
			p++;
	}
}

/* chronyd's sources that the wall blocks, by address, and those of
 * ntpwall's file it lacks. */
static void check_sources(struct engine *e, const struct daemon_state *ds,
			  const struct ir_ruleset *wall, struct engine_status *s)
{
	struct daemon_source *src = NULL;
	char buf[INET6_ADDRSTRLEN];
	struct diags quiet;
	size_t n = 0;

	diag_init(&quiet, 0);
	if (e->cfg.daemon->sources(ds, &src, &n, &quiet) < 0) {
		say(s, xasprintf("%s cannot be asked for its sources ('%s -c -n sources')",
				 daemon_kind_name(ds->kind), ds->client));
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (!wall_has(wall, &src[i].addr))
			say(s, xasprintf("%s asks %s (state '%c'), which the wall blocks",
					 daemon_kind_name(ds->kind),
					 addr_str(&src[i].addr, buf, sizeof(buf)), src[i].state));
	check_missing(ds, src, n, s);
out:
	diag_free(&quiet);
	free(src);
}

/* Lines of chrony.conf (and what it includes) that name servers besides
 * ntpwall's file: the wall blocks what they find unless it trusts them. */
static void check_conf(struct engine *e, const struct daemon_state *ds,
		       const struct ir_ruleset *wall, struct engine_status *s)
{
	struct daemon_conf_line *v = NULL;
	struct diags quiet;
	size_t n = 0;

	if (!ds->conf)
		return;
	diag_init(&quiet, 0);
	(void)daemon_chrony_conf(ds->conf, ds->path, &v, &n, &quiet);
	for (size_t i = 0; i < n; i++) {
		struct addr a;

		if (!addr_parse(v[i].host, &a) && wall_has(wall, &a))
			continue;
		say(s, xasprintf("%s:%u: '%s': the wall blocks %s; comment it out (%s names the "
				 "servers the wall trusts)", v[i].file, v[i].line, v[i].text,
				 strcmp(v[i].kind, "pool") ? "this server" : "the servers this pool gives",
				 ds->path));
	}
	daemon_conf_lines_free(v, n);
	diag_free(&quiet);
}

void engine_daemon_agreement(struct engine *e, const struct daemon_state *ds,
			     const struct ir_ruleset *wall, struct engine_status *s)
{
	if (ds->kind != DAEMON_CHRONY)
		return;
	check_sources(e, ds, wall, s);
	check_conf(e, ds, wall, s);
}

#define LAST_REFRESH_FILE "last-refresh.json"

int engine_refresh_record(struct engine *e, int exit_code, const struct engine_result *r)
{
	json_t *j;
	int ret;

	if (!e->st)
		return -ENOENT;
	j = json_pack("{s:I, s:i, s:I, s:I, s:I}", "time", (json_int_t)time(NULL), "exit_code",
		      exit_code, "added", (json_int_t)(r ? r->added : 0), "removed",
		      (json_int_t)(r ? r->deleted : 0), "renewed", (json_int_t)(r ? r->renewed : 0));
	ret = state_json_write(e->st, LAST_REFRESH_FILE, j);
	json_decref(j);
	return ret;
}

/* A record that does not read is as good as none: status says "never". */
static void read_last_refresh(struct engine *e, struct engine_refresh_record *rec)
{
	json_int_t t, code, added = 0, removed = 0, renewed = 0;
	json_t *j = NULL;

	memset(rec, 0, sizeof(*rec));
	if (!e->st || state_json_read(e->st, LAST_REFRESH_FILE, &j))
		return;
	if (!json_unpack(j, "{s:I, s:I, s?I, s?I, s?I}", "time", &t, "exit_code", &code, "added",
			 &added, "removed", &removed, "renewed", &renewed) &&
	    code >= 0 && code <= 3 && t >= 0 && added >= 0 && removed >= 0 && renewed >= 0)
		*rec = (struct engine_refresh_record){ true, t, (int)code, (size_t)added,
						       (size_t)removed, (size_t)renewed };
	json_decref(j);
}

int engine_status(struct engine *e, const char *table, struct engine_status *s)
{
	struct daemon_state ds;
	int ret;

	memset(s, 0, sizeof(*s));
	ret = engine_latest(e, &s->latest);
	if (ret)
		return ret;
	if (e->st) {
		int rd = state_pending_read(e->st, &s->pending);

		s->has_pending = rd == 0;
		s->pending_damaged = rd < 0 && rd != -ENOENT;
	}
	read_last_refresh(e, &s->last_refresh);
	/* After a remove, the table ntpwall managed last, not the default name. */
	s->table = table ? xstrdup(table) : engine_managed_table(e, s->latest);
	if (!s->table)
		s->table = xstrdup("ntpwall");
	ret = engine_open(e, s->latest ? s->latest->backend : "nft");
	if (!ret)
		ret = engine_read(e, s->table);
	if (ret)
		return ret;
	if (e->ops->describe)
		s->host = e->ops->describe(e->b);
	s->word = sync_word(s->latest, e->live);
	s->expiring = expiring(e->live);
	s->pending_expired = s->has_pending && s->pending.deadline < (int64_t)time(NULL);
	eng_gen_daemon(s->latest, &ds);
	if (e->live)
		engine_daemon_agreement(e, &ds, e->live, s);
	daemon_state_free(&ds);
	eng_status_host_firewall(e, s);
	/* A table removed on purpose and gone needs nothing. */
	s->attention = (strcmp(s->word, "in-sync") && strcmp(s->word, "removed")) ||
		       s->has_pending || s->pending_damaged || s->expiring || s->n_disagree ||
		       s->n_host_firewall;
	return 0;
}

void engine_status_free(struct engine_status *s)
{
	state_gen_free(s->latest);
	free(s->table);
	free(s->host);
	for (size_t i = 0; i < s->n_disagree; i++)
		free(s->disagree[i]);
	free(s->disagree);
	for (size_t i = 0; i < s->n_host_firewall; i++)
		free(s->host_firewall[i]);
	free(s->host_firewall);
	memset(s, 0, sizeof(*s));
}

/* A cron file that runs `ntpwall ... refresh`. */
static bool cron_file_refreshes(const char *path)
{
	char *buf = NULL;
	size_t len;
	bool found = false;

	if (util_read_file(path, 1u << 20, &buf, &len))
		return false;
	for (char *line = buf; line && *line && !found; ) {
		char *nl = strchr(line, '\n');

		if (nl)
			*nl = '\0';
		found = line[strspn(line, " \t")] != '#' && strstr(line, "ntpwall") &&
			strstr(line, " refresh");
		line = nl ? nl + 1 : NULL;
	}
	free(buf);
	return found;
}

int engine_refresh_scheduled(void)
{
	static const char *const cron_files[] = { "/etc/crontab", "/etc/cron.d/*",
						  "/var/spool/cron/crontabs/*" };
	bool can_tell = false;

	/* PID 1 is systemd: ask it about the timer. */
	if (access("/run/systemd/system", F_OK) == 0) {
		struct diags quiet;
		int ret;

		diag_init(&quiet, 0);
		ret = daemon_run("systemctl is-enabled --quiet ntpwall-refresh.timer", NULL, &quiet);
		diag_free(&quiet);
		if (ret == 0)
			return 1;
		can_tell = true;
	}
	for (size_t i = 0; i < ARRAY_SIZE(cron_files); i++) {
		glob_t g;

		if (glob(cron_files[i], 0, NULL, &g))
			continue;
		can_tell = true;
		for (size_t j = 0; j < g.gl_pathc; j++) {
			if (cron_file_refreshes(g.gl_pathv[j])) {
				globfree(&g);
				return 1;
			}
		}
		globfree(&g);
	}
	/* An empty /etc/cron.d still tells: cron is there, nothing refreshes. */
	if (access("/etc/cron.d", F_OK) == 0)
		can_tell = true;
	return can_tell ? 0 : -1;
}
