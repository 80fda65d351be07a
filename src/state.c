/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The state directory: generations as JSON written crash-safely (temporary
 * file, fsync, rename, fsync of the directory), so after a crash or kill -9
 * every gen-*.json parses; the lock; the pending-confirm record. */
#include "ntpwall/state.h"
#include "ntpwall/diag.h"
#include "ntpwall/ir_json.h"
#include "ntpwall/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define GEN_FMT "gen-%06lu.json"
#define PENDING "pending-confirm.json"

/* The generations decide what a root process loads into the kernel, so
 * nobody else may write there (as sshd's StrictModes asks of ~/.ssh). */
static bool dir_is_private(int fd)
{
	struct stat sb;

	return fstat(fd, &sb) == 0 && sb.st_uid == geteuid() && !(sb.st_mode & (S_IWGRP | S_IWOTH));
}

int state_open(const char *dir, bool create, struct state **out)
{
	struct state *st;
	int fd;

	*out = NULL;
	if (create && mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (!dir_is_private(fd)) {
		close(fd);
		return -EPERM;
	}
	st = xcalloc(1, sizeof(*st));
	st->dir = xstrdup(dir);
	st->dir_fd = fd;
	st->lock_fd = -1;
	*out = st;
	return 0;
}

void state_close(struct state *st)
{
	if (!st)
		return;
	if (st->lock_fd >= 0)
		close(st->lock_fd);
	close(st->dir_fd);
	free(st->dir);
	free(st);
}

/* Writers hold the lock, so under it any ".NAME.tmp.PID" left is from a
 * process that died mid-write (kill -9): remove it. */
static void remove_temporaries(struct state *st)
{
	int fd = dup(st->dir_fd);
	struct dirent *de;
	DIR *d;

	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	rewinddir(d);
	while ((de = readdir(d)))
		if (de->d_name[0] == '.' && strstr(de->d_name, ".tmp."))
			(void)unlinkat(st->dir_fd, de->d_name, 0);
	closedir(d);
}

int state_lock(struct state *st)
{
	int fd = openat(st->dir_fd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0)
		return -errno;
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			int ret = -errno;

			close(fd);
			return ret;
		}
	}
	st->lock_fd = fd;
	remove_temporaries(st);
	return 0;
}

void state_unlock(struct state *st)
{
	if (st->lock_fd >= 0)
		close(st->lock_fd);
	st->lock_fd = -1;
}

static int ul_cmp(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;

	return x < y ? -1 : x > y;
}

int state_list(struct state *st, unsigned long **nums, size_t *n)
{
	int fd = dup(st->dir_fd);
	DIR *d;
	struct dirent *de;
	size_t cap = 0;

	*nums = NULL;
	*n = 0;
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	rewinddir(d);
	while ((de = readdir(d))) {
		unsigned long v;
		char tail[8];

		/* Only complete names: temporaries start with a dot. */
		if (sscanf(de->d_name, "gen-%lu.jso%7s", &v, tail) != 2 || strcmp(tail, "n") ||
		    !v)
			continue;
		xgrow((void **)nums, &cap, *n, sizeof(**nums));
		(*nums)[(*n)++] = v;
	}
	closedir(d);
	xsort(*nums, *n, sizeof(**nums), ul_cmp);
	return 0;
}

unsigned long state_latest(struct state *st)
{
	unsigned long *nums, v = 0;
	size_t n;

	if (state_list(st, &nums, &n) == 0 && n)
		v = nums[n - 1];
	free(nums);
	return v;
}

/* One buffer, few writes: json_dumpfd() writes token by token, which
 * for a 100,000-element generation is millions of syscalls. */
static int write_json(int fd, json_t *j)
{
	char *text = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	size_t len, off = 0;
	int ret = 0;

	if (!text)
		return -ENOMEM;
	len = strlen(text);
	text[len] = '\n';	/* replaces the NUL; len + 1 bytes are written */
	while (off < len + 1) {
		ssize_t n = write(fd, text + off, len + 1 - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			break;
		}
		off += (size_t)n;
	}
	free(text);
	return ret;
}

/* Write j to a fresh temporary file in the directory and fsync it: once
 * this succeeds, the disk can no longer fail the record (ENOSPC, EDQUOT and
 * EIO on the data all show here); publishing it is a rename. */
static int write_temp(struct state *st, const char *name, json_t *j, struct state_prepared *pp)
{
	int fd, ret;

	memset(pp, 0, sizeof(*pp));
	snprintf(pp->name, sizeof(pp->name), "%s", name);
	snprintf(pp->tmp, sizeof(pp->tmp), ".%s.tmp.%ld", name, (long)getpid());
	/* A fresh file, never one (or a link) that was there before. */
	(void)unlinkat(st->dir_fd, pp->tmp, 0);
	fd = openat(st->dir_fd, pp->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		    0600);
	if (fd < 0)
		return -errno;
	ret = write_json(fd, j);
	if (!ret && fsync(fd) < 0)
		ret = -errno;
	if (close(fd) < 0 && !ret)
		ret = -errno;
	if (ret)
		(void)unlinkat(st->dir_fd, pp->tmp, 0);
	else
		pp->ready = true;
	return ret;
}

static int publish(struct state *st, struct state_prepared *pp)
{
	int ret = 0;

	if (!pp->ready)
		return -EINVAL;
	if (renameat(st->dir_fd, pp->tmp, st->dir_fd, pp->name) < 0)
		ret = -errno;
	else if (fsync(st->dir_fd) < 0)
		ret = -errno;
	if (ret)
		(void)unlinkat(st->dir_fd, pp->tmp, 0);
	pp->ready = false;
	return ret;
}

void state_discard(struct state *st, struct state_prepared *pp)
{
	if (pp->ready)
		(void)unlinkat(st->dir_fd, pp->tmp, 0);
	pp->ready = false;
}

/* Write j to name atomically: temporary, fsync, rename, fsync dir. */
static int write_atomic(struct state *st, const char *name, json_t *j)
{
	struct state_prepared pp;
	int ret = write_temp(st, name, j, &pp);

	return ret ? ret : publish(st, &pp);
}

/* Largest state file read back: a generation of 100,000 elements is
 * about 15 MiB. */
#define STATE_MAX_FILE (1024u << 20)

static json_t *read_json(struct state *st, const char *name, int *ret)
{
	char *path = xasprintf("%s/%s", st->dir, name), *buf = NULL;
	json_error_t e;
	json_t *j = NULL;
	size_t len;

	/* One read, not json_loadfd()'s byte at a time. */
	*ret = util_read_file(path, STATE_MAX_FILE, &buf, &len);
	free(path);
	if (*ret)
		return NULL;
	j = json_loadb(buf, len, 0, &e);
	free(buf);
	*ret = j ? 0 : -EINVAL;
	return j;
}

static char *now_iso(void)
{
	char buf[32];	/* "YYYY-MM-DDTHH:MM:SSZ" is 20 */
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return xstrdup(buf);
}

struct state_gen *state_gen_new(const char *action, const char *backend)
{
	struct state_gen *g = xcalloc(1, sizeof(*g));

	g->action = xstrdup(action);
	g->backend = xstrdup(backend);
	return g;
}

void state_gen_free(struct state_gen *g)
{
	if (!g)
		return;
	free(g->action);
	free(g->created);
	free(g->backend);
	free(g->policy_path);
	free(g->policy_hash);
	free(g->version);
	json_decref(g->resolved);
	json_decref(g->daemon);
	ir_ruleset_free(g->rs);
	free(g);
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *gen_json(const struct state_gen *g)
{
	json_t *o = json_pack("{s:s, s:i, s:I, s:s, s:s, s:s, s:s}",
			      "format", "ntpwall-generation", "version", STATE_GEN_VERSION,
			      "generation", (json_int_t)g->number, "action", g->action,
			      "created", g->created, "backend", g->backend,
			      "ntpwall_version", g->version);

	json_object_set_new(o, "policy", json_pack("{s:o, s:o}", "path",
			    str_or_null(g->policy_path), "hash", str_or_null(g->policy_hash)));
	if (g->source)
		json_object_set_new(o, "source", json_integer((json_int_t)g->source));
	json_object_set(o, "resolved", g->resolved ? g->resolved : json_null());
	if (g->daemon)
		json_object_set(o, "daemon", g->daemon);
	json_object_set_new(o, "ruleset", g->rs ? ir_json_dump(g->rs, false) : json_null());
	return o;
}

static void prune(struct state *st, unsigned keep)
{
	struct state_pending p = { 0 };
	unsigned long *nums;
	size_t n;

	if (!keep || state_list(st, &nums, &n) < 0)
		return;
	(void)state_pending_read(st, &p);
	for (size_t i = 0; i + keep < n; i++) {
		char name[40];	/* "gen-" + 20 digits + ".json" */

		if (nums[i] == p.previous || nums[i] == p.generation)
			continue;
		snprintf(name, sizeof(name), GEN_FMT, nums[i]);
		(void)unlinkat(st->dir_fd, name, 0);
	}
	free(nums);
}

int state_prepare(struct state *st, struct state_gen *g, struct state_prepared *pp)
{
	char name[40];	/* "gen-" + 20 digits + ".json" */
	json_t *j;
	int ret;

	g->number = state_latest(st) + 1;
	if (!g->created)
		g->created = now_iso();
	if (!g->version)
		g->version = xstrdup(NTPWALL_VERSION);
	snprintf(name, sizeof(name), GEN_FMT, g->number);
	j = gen_json(g);
	ret = write_temp(st, name, j, pp);
	json_decref(j);
	return ret;
}

int state_publish(struct state *st, struct state_prepared *pp, unsigned keep)
{
	bool is_gen = !strncmp(pp->name, "gen-", 4);
	int ret = publish(st, pp);

	if (!ret && is_gen)
		prune(st, keep);
	return ret;
}

int state_record(struct state *st, struct state_gen *g, unsigned keep)
{
	struct state_prepared pp;
	int ret = state_prepare(st, g, &pp);

	return ret ? ret : state_publish(st, &pp, keep);
}

static char *dup_opt(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* An NW502 error about the file name of st's directory, if d. */
static int load_fail(struct diags *d, const struct state *st, const char *name, int ret,
		     const char *why)
{
	if (d)
		diag_add(d, NULL, DIAG_ERROR, NW502_STATE, "%s/%s: %s", st->dir, name,
			 why ? why : strerror(-ret));
	return ret;
}

/* The generation's ruleset; ir_json's message is given the file name. */
static int load_ruleset(struct diags *d, const struct state *st, const char *name,
			const json_t *rs, struct ir_ruleset **out)
{
	struct diags why;
	int ret;

	diag_init(&why, 0);
	ret = ir_json_load(rs, out, &why);
	if (ret)
		load_fail(d, st, name, ret, why.n ? why.v[0].msg : NULL);
	diag_free(&why);
	return ret;
}

int state_load(struct state *st, unsigned long n, struct state_gen **out, struct diags *d)
{
	char name[40];	/* "gen-" + 20 digits + ".json" */
	const char *action, *created, *backend, *ver, *path, *hash;
	json_t *j, *rs = NULL, *resolved = NULL, *pol = NULL, *daemon = NULL;
	json_int_t num, source = 0;
	struct state_gen *g;
	int version, ret;

	*out = NULL;
	snprintf(name, sizeof(name), GEN_FMT, n);
	j = read_json(st, name, &ret);
	if (!j)
		return ret == -ENOENT ? ret
				      : load_fail(d, st, name, ret, ret == -EINVAL ? "not valid JSON" : NULL);
	if (json_unpack(j, "{s:i, s:I, s:s, s:s, s:s, s:s, s:o, s?:I, s?:o, s:o, s?:o}",
			"version", &version, "generation", &num, "action", &action,
			"created", &created, "backend", &backend, "ntpwall_version", &ver,
			"policy", &pol, "source", &source, "resolved", &resolved, "ruleset", &rs,
			"daemon", &daemon) ||
	    version != STATE_GEN_VERSION || (unsigned long)num != n) {
		json_decref(j);
		return load_fail(d, st, name, -EINVAL, "not an ntpwall generation");
	}
	/* Path and hash may be null (a removal, a snapshot). */
	path = json_string_value(json_object_get(pol, "path"));
	hash = json_string_value(json_object_get(pol, "hash"));
	g = state_gen_new(action, backend);
	g->number = n;
	g->created = xstrdup(created);
	g->version = xstrdup(ver);
	g->policy_path = dup_opt(path);
	g->policy_hash = dup_opt(hash);
	g->source = (unsigned long)source;
	if (resolved && !json_is_null(resolved))
		g->resolved = json_incref(resolved);
	if (daemon && !json_is_null(daemon))
		g->daemon = json_incref(daemon);
	ret = 0;
	if (!json_is_null(rs))
		ret = load_ruleset(d, st, name, rs, &g->rs);
	json_decref(j);
	if (ret) {
		state_gen_free(g);
		return ret;
	}
	*out = g;
	return 0;
}

static json_t *pending_json(const struct state_pending *p)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I}", "generation", (json_int_t)p->generation,
			 "previous", (json_int_t)p->previous, "deadline", (json_int_t)p->deadline,
			 "watchdog", (json_int_t)p->watchdog, "watchdog_start",
			 (json_int_t)p->watchdog_start);
}

int state_pending_prepare(struct state *st, const struct state_pending *p,
			  struct state_prepared *pp)
{
	json_t *j = pending_json(p);
	int ret = write_temp(st, PENDING, j, pp);

	json_decref(j);
	return ret;
}

int state_pending_write(struct state *st, const struct state_pending *p)
{
	json_t *j = pending_json(p);
	int ret = write_atomic(st, PENDING, j);

	json_decref(j);
	return ret;
}

int state_pending_read(struct state *st, struct state_pending *p)
{
	json_int_t g, prev, dl, pid, start = 0;
	int ret;
	json_t *j = read_json(st, PENDING, &ret);

	if (!j)
		return ret;
	if (json_unpack(j, "{s:I, s:I, s:I, s:I, s?:I}", "generation", &g, "previous", &prev,
			"deadline", &dl, "watchdog", &pid, "watchdog_start", &start))
		ret = -EINVAL;
	json_decref(j);
	if (ret)
		return ret;
	p->generation = (unsigned long)g;
	p->previous = (unsigned long)prev;
	p->deadline = dl;
	p->watchdog = (pid_t)pid;
	p->watchdog_start = (uint64_t)start;
	return 0;
}

int state_pending_clear(struct state *st)
{
	if (unlinkat(st->dir_fd, PENDING, 0) < 0)
		return errno == ENOENT ? 0 : -errno;
	return fsync(st->dir_fd) < 0 ? -errno : 0;
}

int state_json_write(struct state *st, const char *name, json_t *j)
{
	return write_atomic(st, name, j);
}

int state_json_read(struct state *st, const char *name, json_t **out)
{
	int ret;

	*out = read_json(st, name, &ret);
	return *out ? 0 : ret;
}

int state_json_remove(struct state *st, const char *name)
{
	if (unlinkat(st->dir_fd, name, 0) < 0)
		return errno == ENOENT ? 0 : -errno;
	return fsync(st->dir_fd) < 0 ? -errno : 0;
}
