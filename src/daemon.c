/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The daemon's state: which file, what it holds, which command makes the
 * daemon read it; built from a policy, recorded in a generation, and made
 * true on disk by daemon_system.sync. */
#include "ntpwall/daemon.h"
#include "ntpwall/render.h"
#include "ntpwall/util.h"
#include "daemon_int.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[] = {
	[DAEMON_NONE] = "none",
	[DAEMON_CHRONY] = "chrony",
	[DAEMON_TIMESYNCD] = "timesyncd",
	[DAEMON_NTPD] = "ntpd",
};

const char *daemon_kind_name(enum daemon_kind k)
{
	return (size_t)k < ARRAY_SIZE(kind_names) ? kind_names[k] : "none";
}

typedef int (*render_fn)(const struct ir_ruleset *, const struct render_opts *, FILE *);

static char *render(render_fn fn, const struct ir_ruleset *rs, const struct render_opts *o)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		abort();
	if (fn(rs, o, f) < 0) {
		fclose(f);
		free(text);
		return NULL;
	}
	fclose(f);
	return text;
}

void daemon_state_for(const struct policy *p, const struct resolved *r,
		      const struct ir_ruleset *rs, struct daemon_state *out)
{
	const struct policy_daemon *dm = &p->daemon;
	struct render_opts o = { .policy = p, .resolved = r, .chrony_options = dm->chrony_options };

	memset(out, 0, sizeof(*out));
	if (dm->chrony_sources) {
		out->kind = DAEMON_CHRONY;
		out->path = xstrdup(dm->chrony_sources);
		out->client = xstrdup(dm->chronyc ? dm->chronyc : "chronyc");
		out->conf = xstrdup(dm->chrony_conf ? dm->chrony_conf : "/etc/chrony/chrony.conf");
		out->command = xasprintf("%s reload sources", out->client);
		out->content = render(render_chrony, rs, &o);
	} else if (dm->timesyncd_conf) {
		out->kind = DAEMON_TIMESYNCD;
		out->path = xstrdup(dm->timesyncd_conf);
		out->command = xstrdup(dm->timesyncd_restart ? dm->timesyncd_restart :
				       "systemctl try-restart systemd-timesyncd");
		out->content = render(render_timesyncd, rs, &o);
	} else if (dm->ntpd_conf) {
		out->kind = DAEMON_NTPD;
		out->path = xstrdup(dm->ntpd_conf);
		out->command = dm->ntpd_restart ? xstrdup(dm->ntpd_restart) : NULL;
		out->content = render(render_ntpd, rs, &o);
	}
}

void daemon_state_free(struct daemon_state *s)
{
	free(s->path);
	free(s->command);
	free(s->client);
	free(s->conf);
	free(s->content);
	memset(s, 0, sizeof(*s));
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

json_t *daemon_state_json(const struct daemon_state *s)
{
	if (s->kind == DAEMON_NONE)
		return json_null();
	return json_pack("{s:s, s:s, s:o, s:o, s:o, s:o}", "kind", daemon_kind_name(s->kind),
			 "path", s->path, "command", str_or_null(s->command), "client",
			 str_or_null(s->client), "conf", str_or_null(s->conf), "content",
			 str_or_null(s->content));
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

int daemon_state_from_json(const json_t *j, struct daemon_state *out)
{
	const char *kind, *path, *command = NULL, *client = NULL, *conf = NULL, *content = NULL;

	memset(out, 0, sizeof(*out));
	if (!j || json_is_null(j))
		return 0;
	if (json_unpack((json_t *)j, "{s:s, s:s, s?:s, s?:s, s?:s, s?:s}", "kind", &kind, "path",
			&path, "command", &command, "client", &client, "conf", &conf, "content",
			&content))
		return -EINVAL;
	for (size_t k = 1; k < ARRAY_SIZE(kind_names); k++)
		if (!strcmp(kind, kind_names[k]))
			out->kind = (enum daemon_kind)k;
	if (out->kind == DAEMON_NONE || path[0] != '/')
		return -EINVAL;
	out->path = xstrdup(path);
	out->command = dup_or_null(command);
	out->client = dup_or_null(client);
	out->conf = dup_or_null(conf);
	out->content = dup_or_null(content);
	return 0;
}

/* A file ntpwall wrote starts with this; anything else is the operator's. */
#define OWN_MARK "# ntpwall: "

/* 1: the file is ours (or absent: *old NULL), 0: someone else's. */
static int read_own(const char *path, char **old, struct diags *d)
{
	size_t len;
	int ret = util_read_file(path, 1u << 20, old, &len);

	if (ret == -ENOENT) {
		*old = NULL;
		return 1;
	}
	if (ret < 0)
		return diag_add(d, NULL, DIAG_ERROR, NW505_DAEMON, "%s: %s", path, strerror(-ret));
	if (strncmp(*old, OWN_MARK, strlen(OWN_MARK))) {
		free(*old);
		*old = NULL;
		return 0;
	}
	return 1;
}

/* Does chronyd lack a server the file names by address? */
static bool chrony_lost_sources(const struct daemon_state *s)
{
	struct daemon_source *src = NULL;
	struct diags quiet;
	bool lost = false;
	size_t n = 0;

	diag_init(&quiet, 0);
	if (daemon_chrony_sources(s, &src, &n, &quiet) < 0) {
		diag_free(&quiet);
		return false;
	}
	for (const char *p = s->content; p && *p && !lost; ) {
		char kind[8], host[64];	/* "server"/"peer"; an address is at most 45 */
		struct addr a;
		bool found = false;

		if (sscanf(p, "%7s %63s", kind, host) == 2 && !strcmp(kind, "server") &&
		    !addr_parse(host, &a)) {
			for (size_t i = 0; i < n && !found; i++)
				found = !addr_cmp(&src[i].addr, &a);
			lost = !found;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	free(src);
	diag_free(&quiet);
	return lost;
}

static int refuse(const struct daemon_state *s, struct diags *d)
{
	diag_add(d, NULL, DIAG_ERROR, NW505_DAEMON,
		 "%s holds a file ntpwall did not write; nothing changed: move it away, or name "
		 "another file in the policy's 'daemon' section", s->path);
	return -EEXIST;
}

static int system_check(const struct daemon_state *s, struct diags *d)
{
	char *old = NULL;
	int ret;

	if (s->kind == DAEMON_NONE)
		return 0;
	ret = read_own(s->path, &old, d);
	free(old);
	return ret < 0 ? ret : ret ? 0 : refuse(s, d);
}

static int system_sync(const struct daemon_state *s, bool force, bool *changed, struct diags *d)
{
	char *old = NULL;
	int ret;

	*changed = false;
	if (s->kind == DAEMON_NONE)
		return 0;
	ret = read_own(s->path, &old, d);
	if (ret < 0)
		return ret;
	if (!ret)
		return refuse(s, d);
	if ((!old && !s->content) || (old && s->content && !strcmp(old, s->content))) {
		free(old);
		/* Written before, but the daemon was not told then. */
		return force && s->command ? daemon_run(s->command, NULL, d) : 0;
	}
	free(old);
	ret = s->content ? daemon_write_file(s->path, s->content, d) : daemon_remove_file(s->path, d);
	if (ret < 0)
		return ret;
	*changed = true;
	if (!s->command)	/* ntpd without daemon.ntpd_restart */
		diag_add(d, NULL, DIAG_WARNING, NW505_DAEMON,
			 "%s changed, but nothing tells the daemon (no restart command): it keeps "
			 "the servers it has, the wall blocks those it lost; restart it, or set "
			 "daemon.ntpd_restart", s->path);
	ret = s->command ? daemon_run(s->command, NULL, d) : 0;
	/* chrony 4.3 adds before it removes: a server whose options changed
	 * can fail to come back ("Could not add source") while the reload
	 * says 200 OK. A second reload adds what the first lost. */
	if (!ret && s->kind == DAEMON_CHRONY && chrony_lost_sources(s))
		ret = daemon_run(s->command, NULL, d);
	return ret;
}

const struct daemon_ops daemon_system = {
	.check = system_check,
	.sync = system_sync,
	.sources = daemon_chrony_sources,
};
