/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Which servers chrony will ask besides ntpwall's file: every server, pool
 * and peer line of chrony.conf and of what it pulls in (include, confdir,
 * sourcedir), for the agreement check of status, apply and lint
 * --daemon-config. Debian's default `pool 2.debian.pool.ntp.org iburst`
 * keeps chrony trying servers the wall blocks next to ntpwall's file. */
#include "daemon_int.h"
#include "ntpwall/util.h"

#include <errno.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>

/* How deep include/confdir/sourcedir may nest (chrony itself nests). */
#define CONF_MAX_DEPTH 8
#define CONF_MAX_FILE (1u << 20)

struct walk {
	const char *own;
	struct daemon_conf_line *v;
	size_t n, cap;
	struct diags *d;
};

static int read_conf(struct walk *w, const char *path, unsigned depth);

static void add_line(struct walk *w, const char *file, unsigned line, const char *text,
		     const char *kind, const char *host)
{
	struct daemon_conf_line *l;

	xgrow((void **)&w->v, &w->cap, w->n, sizeof(*w->v));
	l = &w->v[w->n++];
	l->file = xstrdup(file);
	l->line = line;
	l->text = xstrdup(text);
	l->kind = xstrdup(kind);
	l->host = xstrdup(host);
}

/* Every file matching pattern, in glob's (sorted) order. */
static void read_glob(struct walk *w, const char *pattern, unsigned depth)
{
	glob_t g;

	if (glob(pattern, 0, NULL, &g))
		return;
	for (size_t i = 0; i < g.gl_pathc; i++)
		if (!w->own || strcmp(g.gl_pathv[i], w->own))
			(void)read_conf(w, g.gl_pathv[i], depth + 1);
	globfree(&g);
}

/* One directive; words[0] is its name. */
static void directive(struct walk *w, const char *file, unsigned line, const char *text,
		      char **words, size_t n, unsigned depth)
{
	char *pat;

	if (n >= 2 && (!strcmp(words[0], "server") || !strcmp(words[0], "pool") ||
		       !strcmp(words[0], "peer"))) {
		add_line(w, file, line, text, words[0], words[1]);
		return;
	}
	if (depth >= CONF_MAX_DEPTH)
		return;
	for (size_t i = 1; i < n; i++) {
		if (!strcmp(words[0], "include"))
			pat = xstrdup(words[i]);
		else if (!strcmp(words[0], "confdir"))
			pat = xasprintf("%s/*.conf", words[i]);
		else if (!strcmp(words[0], "sourcedir"))
			pat = xasprintf("%s/*.sources", words[i]);
		else
			return;
		read_glob(w, pat, depth);
		free(pat);
	}
}

static void parse_line(struct walk *w, const char *file, unsigned line, char *text,
		       unsigned depth)
{
	char *copy = xstrdup(text), *save = NULL, *words[8];
	size_t n = 0;

	text[strcspn(text, "#;!%")] = '\0';	/* chrony's comment characters */
	for (char *t = strtok_r(text, " \t", &save); t && n < 8; t = strtok_r(NULL, " \t", &save))
		words[n++] = t;
	if (n)
		directive(w, file, line, copy, words, n, depth);
	free(copy);
}

static int read_conf(struct walk *w, const char *path, unsigned depth)
{
	char *buf;
	unsigned line = 0;
	size_t len;
	int ret = util_read_file(path, CONF_MAX_FILE, &buf, &len);

	if (ret)
		return ret;
	/* Line by line by hand: strtok would skip empty lines and miscount. */
	for (char *p = buf, *nl; p && *p; p = nl ? nl + 1 : NULL) {
		nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		line++;
		parse_line(w, path, line, p, depth);
	}
	free(buf);
	return 0;
}

int daemon_chrony_conf(const char *conf, const char *own, struct daemon_conf_line **out,
		       size_t *n, struct diags *d)
{
	struct walk w = { .own = own, .d = d };
	int ret = read_conf(&w, conf, 0);

	*out = w.v;
	*n = w.n;
	if (ret < 0 && ret != -ENOENT)
		diag_add(d, NULL, DIAG_WARNING, NW505_DAEMON, "%s: %s", conf, strerror(-ret));
	return ret == -ENOENT ? 0 : ret;
}

void daemon_conf_lines_free(struct daemon_conf_line *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].file);
		free(v[i].text);
		free(v[i].kind);
		free(v[i].host);
	}
	free(v);
}
