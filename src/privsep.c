/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The unprivileged child that resolves and probes (see privsep.h): fork,
 * drop, do the work, write the result as JSON to a pipe, exit. The parent
 * reads it back (bounded) and rebuilds the result; it never sees a DNS or
 * NTP packet. The JSON codec of the results is privsep_codec.c. */
#include "ntpwall/privsep.h"
#include "ntpwall/util.h"
#include "privsep_int.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <jansson.h>
#include <linux/capability.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* The most a child may answer: 100,000 resolved addresses are ~20 MiB. */
#define PRIVSEP_MAX_REPLY (64u << 20)

/* The unprivileged user: the package's _ntpwall, else nobody. */
static void unprivileged(uid_t *uid, gid_t *gid)
{
	const char *const names[] = { "_ntpwall", "nobody" };

	*uid = 65534;
	*gid = 65534;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		struct passwd *pw = getpwnam(names[i]);

		if (pw) {
			*uid = pw->pw_uid;
			*gid = pw->pw_gid;
			return;
		}
	}
}

static int clear_caps(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	return syscall(SYS_capset, &hdr, data) < 0 ? -errno : 0;
}

int privsep_drop(void)
{
	uid_t uid;
	gid_t gid;

	unprivileged(&uid, &gid);
	/* Without CAP_SETUID/CAP_SETGID (CAP_NET_ADMIN alone) the uid stays;
	 * the capabilities go either way. */
	if (setgroups(0, NULL) == 0 && setresgid(gid, gid, gid) == 0)
		(void)setresuid(uid, uid, uid);
	if (clear_caps() < 0)
		return -errno;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	return 0;
}

/* In the child: drop, work, write, exit. Never returns. */
static void child(int fd, json_t *(*work)(void *ctx), void *ctx)
{
	json_t *j = NULL;
	char *text;

	if (privsep_drop() == 0)
		j = work(ctx);
	if (!j)
		_exit(1);
	text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!text)
		_exit(1);
	for (size_t off = 0, len = strlen(text); off < len; ) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(1);
		off += (size_t)n;
	}
	_exit(0);
}

/* Read the child's answer; a signal the mask lets through (Ctrl-C while
 * probing) is passed on to the child, which stops and answers. */
static int read_reply(int fd, pid_t pid, const sigset_t *mask, char **buf, size_t *len)
{
	size_t cap = 0;

	*buf = NULL;
	*len = 0;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		char chunk[65536];
		ssize_t n;

		if (ppoll(&p, 1, NULL, mask) < 0) {
			if (errno != EINTR)
				return -errno;
			(void)kill(pid, SIGTERM);
			continue;
		}
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		if (*len + (size_t)n + 1 > PRIVSEP_MAX_REPLY)
			return -EMSGSIZE;
		while (*len + (size_t)n + 1 > cap)
			xgrow((void **)buf, &cap, *len + (size_t)n, 1);
		memcpy(*buf + *len, chunk, (size_t)n);
		*len += (size_t)n;
		(*buf)[*len] = '\0';
	}
}

int privsep_run(json_t *(*work)(void *ctx), void *ctx, const sigset_t *mask, json_t **out)
{
	int pfd[2], status = 0, ret;
	size_t len;
	char *buf;
	pid_t pid;

	*out = NULL;
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		close(pfd[0]);
		close(pfd[1]);
		return ret;
	}
	if (pid == 0) {
		close(pfd[0]);
		child(pfd[1], work, ctx);
	}
	close(pfd[1]);
	ret = read_reply(pfd[0], pid, mask, &buf, &len);
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!ret && (!WIFEXITED(status) || WEXITSTATUS(status)))
		ret = -ECHILD;
	if (!ret) {
		*out = json_loadb(buf, len, 0, NULL);
		if (!*out)
			ret = -EPROTO;
	}
	free(buf);
	return ret;
}

struct resolve_job {
	const struct policy *p;
	const struct resolve_options *o;
};

static json_t *resolve_work(void *ctx)
{
	const struct resolve_job *job = ctx;
	struct resolved *r = NULL;
	struct diags d;
	json_t *j;
	int ret;

	diag_init(&d, 0);
	ret = resolve_policy(job->p, job->o, &d, &r);
	j = json_pack("{s:i, s:o, s:o}", "ret", ret, "resolved", privsep_resolved_json(r),
		      "diags", privsep_diags_json(&d));
	resolve_free(r);
	diag_free(&d);
	return j;
}

static int ps_resolve(const struct engine_net *n, const struct policy *p,
		      const struct resolve_options *o, struct diags *d, struct resolved **out)
{
	struct resolve_job job = { p, o };
	json_t *j = NULL;
	int ret, rc;

	/* Addresses only: resolving reads nothing from the network, so no
	 * child (10,000 addresses paid a fork and two JSON copies for it). */
	if (!resolve_needs_dns(p))
		return resolve_policy(p, o, d, out);
	ret = privsep_run(resolve_work, &job, NULL, &j);
	*out = NULL;
	if (ret < 0) {
		diag_add(d, NULL, DIAG_ERROR, NW507_DNS,
			 "the unprivileged resolver failed (%s): nothing resolved", strerror(-ret));
		*out = resolve_literals(p);
		return ret;
	}
	if (json_unpack(j, "{s:i}", "ret", &rc) ||
	    privsep_resolved_load(json_object_get(j, "resolved"), p, out) ||
	    privsep_diags_load(json_object_get(j, "diags"), p->path, d)) {
		json_decref(j);
		resolve_free(*out);
		*out = resolve_literals(p);
		diag_add(d, NULL, DIAG_ERROR, NW507_DNS, "the unprivileged resolver answered "
			 "nonsense: nothing resolved");
		return -EPROTO;
	}
	json_decref(j);
	return rc;
}

struct probe_job {
	const struct probe_target *t;
	size_t n;
	const struct probe_options *o;
};

static json_t *probe_work(void *ctx)
{
	const struct probe_job *job = ctx;
	struct probe_results *r = NULL;
	int ret = probe_run(job->t, job->n, job->o, &r);
	json_t *j = json_pack("{s:i, s:o}", "ret", ret, "results", privsep_probe_json(r));

	probe_results_free(r);
	return j;
}

static int ps_probe(const struct engine_net *n, const struct probe_target *t, size_t count,
		    const struct probe_options *o, struct probe_results **out)
{
	struct probe_job job = { t, count, o };
	json_t *j = NULL;
	int ret = privsep_run(probe_work, &job, o->sigmask, &j), rc;

	*out = NULL;
	if (ret < 0)
		return ret;
	if (json_unpack(j, "{s:i}", "ret", &rc) ||
	    privsep_probe_load(json_object_get(j, "results"), count, out)) {
		probe_results_free(*out);
		*out = NULL;
		rc = -EPROTO;
	}
	json_decref(j);
	return rc;
}

const struct engine_net privsep_net = {
	.resolve = ps_resolve,
	.probe = ps_probe,
};
