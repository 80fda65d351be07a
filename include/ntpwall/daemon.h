/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Time daemons kept in lockstep with the wall. A daemon's state is one
 * file ntpwall owns (chrony sourcedir file, timesyncd drop-in, ntpd
 * include) and the command that makes the daemon read it. The engine
 * writes it after new servers enter the wall and before old ones leave,
 * so the daemon never polls a server the wall blocks; each generation
 * records the state it made live, so rollback tells the daemon too. */
#ifndef NTPWALL_DAEMON_H
#define NTPWALL_DAEMON_H

#include "ntpwall/addr.h"
#include "ntpwall/diag.h"
#include "ntpwall/ir.h"
#include "ntpwall/resolve.h"

#include <stdbool.h>
#include <stddef.h>

struct json_t;
struct policy;

enum daemon_kind {
	DAEMON_NONE,
	DAEMON_CHRONY,
	DAEMON_TIMESYNCD,
	DAEMON_NTPD,
};

/* What the daemon should be told: its file's whole content (NULL: no
 * file, the wall is gone) and the command that makes it read the file,
 * split at spaces, run without a shell (NULL: none). */
struct daemon_state {
	enum daemon_kind kind;
	char *path;
	char *command;
	char *client;		/* chrony: the chronyc command line (its sources) */
	char *conf;		/* chrony: its main configuration (the agreement check) */
	char *content;
};

/* A source as the daemon sees it (chrony). */
struct daemon_source {
	struct addr addr;
	char state;		/* chrony: '*', '+', '-', '?', 'x', '~' */
	unsigned reach;		/* the 8-bit reachability register */
	bool usable;		/* not a falseticker ('x'), heard in the last 8 polls */
	bool heard;		/* a sample was ever received */
};

/* The daemon part of policy p with r resolved into rs: kind NONE when p
 * names no daemon file. Never fails. */
void daemon_state_for(const struct policy *p, const struct resolved *r,
		      const struct ir_ruleset *rs, struct daemon_state *out);
void daemon_state_free(struct daemon_state *s);
/* The state as a generation records it (a new reference), and back:
 * -EINVAL on a bad shape. JSON null is kind NONE. */
struct json_t *daemon_state_json(const struct daemon_state *s);
int daemon_state_from_json(const struct json_t *j, struct daemon_state *out);
/* kind's word: "none", "chrony", "timesyncd", "ntpd". */
const char *daemon_kind_name(enum daemon_kind k);

/* How the engine reaches the daemon; daemon_system is the real one, tests
 * put a recording stand-in in its place. */
struct daemon_ops {
	/* 0 when s->path is absent or holds a file ntpwall wrote; -EEXIST
	 * (with a message) when it holds someone else's: checked before the
	 * wall changes. */
	int (*check)(const struct daemon_state *s, struct diags *d);
	/* Make s->path hold s->content (NULL: delete it), atomically (a
	 * temporary in the same directory, fsync, rename, mode 0644), and run
	 * s->command, both only when the content differs (or, force, run the
	 * command anyway: the last one failed): *changed says whether it did. -EEXIST (nothing written) when the path holds a
	 * file ntpwall did not write; -ESRCH when the file is written but the
	 * command failed (the daemon was not told); messages in d. */
	int (*sync)(const struct daemon_state *s, bool force, bool *changed, struct diags *d);
	/* The daemon's own view of its sources (chrony; others: none, 0). */
	int (*sources)(const struct daemon_state *s, struct daemon_source **out, size_t *n,
		       struct diags *d);
};

extern const struct daemon_ops daemon_system;

/* A server, pool or peer line of the daemon's configuration. */
struct daemon_conf_line {
	char *file;
	unsigned line;
	char *text;		/* the whole line */
	char *kind;		/* "server", "pool", "peer" */
	char *host;		/* address or name */
};

/* Every server, pool and peer line chrony reads from conf and what it
 * pulls in (include, confdir, sourcedir), except the file own (ntpwall's).
 * A missing conf is no line and 0. */
int daemon_chrony_conf(const char *conf, const char *own, struct daemon_conf_line **out,
		       size_t *n, struct diags *d);
void daemon_conf_lines_free(struct daemon_conf_line *v, size_t n);

/* Parse `chronyc -c -n sources` output (pure; tests feed it text). */
int daemon_chrony_parse_sources(const char *text, struct daemon_source **out, size_t *n);

#endif
