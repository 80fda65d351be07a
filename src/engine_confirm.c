/* SPDX-License-Identifier: GPL-2.0-or-later */
/* apply --confirm: the pending record, the watchdog that reverts at the
 * deadline unless `confirm` ran, confirming (only what is live), and
 * settling a confirmation when the operator moves on. */
#include "engine_int.h"
#include "ntpwall/util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

/* A process's start time in clock ticks since boot (field 22 of
 * /proc/PID/stat), 0 when unknown: with the pid it names one process,
 * which a later process given the same pid cannot pass for. */
static uint64_t proc_start(pid_t pid)
{
	char path[32], buf[1024];	/* "/proc/" + pid + "/stat"; a stat line */
	unsigned long long start = 0;
	const char *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* The command name may hold spaces and ')': fields start after the last ')'. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d "
			 "%*d %*d %*d %*d %llu", &start) != 1)
		return 0;
	return start;
}

void engine_stop_watchdog(pid_t pid, uint64_t start)
{
	if (pid > 0 && start && proc_start(pid) == start)
		(void)kill(pid, SIGTERM);
}

void eng_settle_pending(struct engine *e)
{
	struct state_pending p;

	if (!e->st || state_pending_read(e->st, &p) < 0)
		return;
	if (state_pending_clear(e->st) == 0)
		engine_stop_watchdog(p.watchdog, p.watchdog_start);
}

static void sleep_until(int64_t deadline)
{
	for (;;) {
		int64_t now = time(NULL);

		if (now >= deadline)
			return;
		sleep((unsigned)(deadline - now));
	}
}

/* In the detached watchdog: wait, then revert with an engine of its own
 * (the parent's descriptors are closed). */
static void watchdog_main(const struct engine_config *cfg, const struct state_pending *p)
{
	struct engine_result r = { 0 };
	struct engine e;
	struct diags d;
	int ret;

	sleep_until(p->deadline);
	diag_init(&d, 0);
	engine_init(&e, cfg, &d);
	ret = eng_revert_pending(&e, p, &r);
	engine_result_free(&r);
	engine_fini(&e);
	diag_free(&d);
	_exit(ret ? 2 : 0);
}

/* Double fork and setsid: the watchdog has no terminal, survives the
 * session's hangup and is reparented to init. Returns its pid or -errno. */
static pid_t spawn_watchdog(const struct engine_config *cfg, const struct state_pending *p)
{
	int pfd[2];
	pid_t child, wd = -1;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	fflush(NULL);
	child = fork();
	if (child < 0)
		return -errno;
	if (child == 0) {
		sigset_t none;
		int fd;

		setsid();
		wd = fork();
		if (wd != 0) {
			(void)!write(pfd[1], &wd, sizeof(wd));
			_exit(0);
		}
		fd = open("/dev/null", O_RDWR | O_CLOEXEC);
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		/* Above all the state lock: the watchdog must not hold it. */
		close_range(3, ~0u, 0);
		signal(SIGHUP, SIG_IGN);
		/* Not the caller's handlers or mask: `confirm` ends it with
		 * SIGTERM. */
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		watchdog_main(cfg, p);
	}
	close(pfd[1]);
	if (read(pfd[0], &wd, sizeof(wd)) != sizeof(wd))
		wd = -EIO;
	close(pfd[0]);
	waitpid(child, NULL, 0);
	return wd;
}

int eng_start_confirm(struct engine *e, struct engine_result *r)
{
	struct state_pending p;
	pid_t wd;
	int ret;

	ret = state_pending_read(e->st, &p);
	if (ret < 0 || p.generation != r->generation) {
		eng_fail(e, ret < 0 ? ret : -EIO, NW502_STATE,
			 "cannot read the pending-confirm record back; reverting now");
		wd = -EIO;
	} else {
		wd = spawn_watchdog(&e->cfg, &p);
		if (wd < 0)
			eng_fail(e, wd, NW500_RUNTIME, "cannot start the watchdog: %s; reverting now",
				 strerror(-wd));
	}
	if (wd < 0) {
		struct engine_result rr = { 0 };

		(void)state_pending_clear(e->st);
		ret = engine_restore(e, r->previous, "revert", true, &rr);
		r->outcome = ENGINE_REVERTED;
		r->generation = rr.generation;
		r->unrecorded = rr.unrecorded;
		engine_result_free(&rr);
		return ret;
	}
	p.watchdog = wd;
	p.watchdog_start = proc_start(wd);
	/* Without the pid the deadline still holds: the next command reverts. */
	(void)state_pending_write(e->st, &p);
	engine_state_unlock(e);
	r->outcome = ENGINE_PENDING;
	r->watchdog = wd;
	r->deadline = p.deadline;
	return 0;
}

/* *live: the kernel holds exactly generation gen's rules (a removal: its
 * table is absent). */
static int gen_live(struct engine *e, unsigned long gen, bool *live)
{
	struct state_gen *g = NULL;
	char *managed = NULL;
	int ret;

	*live = false;
	ret = state_load(e->st, gen, &g, e->d);
	if (ret == -ENOENT)
		eng_fail(e, ret, NW502_STATE, "generation %lu: %s", gen, strerror(-ret));
	if (ret < 0)
		return ret;
	if (!g->rs)
		managed = engine_managed_table(e, NULL);
	ret = engine_open(e, g->backend);
	if (!ret)
		ret = engine_read(e, g->rs ? g->rs->table : managed ? managed : "ntpwall");
	if (!ret)
		*live = g->rs ? e->live && ir_ruleset_equal(g->rs, e->live) : !e->live;
	free(managed);
	state_gen_free(g);
	return ret;
}

int engine_confirm(struct engine *e, unsigned long gen, struct engine_result *r)
{
	struct state_pending p;
	bool live;
	int ret;

	memset(r, 0, sizeof(*r));
	ret = engine_state_open(e, ENGINE_STATE_LOCK);
	if (ret)
		return ret;
	ret = e->st ? state_pending_read(e->st, &p) : -ENOENT;
	if (ret == -ENOENT || (!ret && gen && p.generation != gen))
		return eng_fail(e, -ENOENT, NW502_STATE,
				"confirm: no apply is waiting for confirmation");
	if (ret < 0)
		return eng_fail(e, ret, NW502_STATE, "confirm: the pending-confirm record: %s",
				strerror(-ret));
	ret = gen_live(e, p.generation, &live);
	if (ret)
		return ret;
	if (!live)
		return eng_fail(e, -ESTALE, NW502_STATE,
				"confirm: generation %lu is not what the kernel holds (reverted or "
				"changed since); nothing confirmed: see 'ntpwall status'",
				p.generation);
	ret = state_pending_clear(e->st);
	if (ret < 0)
		return eng_fail(e, ret, NW502_STATE, "confirm: %s", strerror(-ret));
	engine_stop_watchdog(p.watchdog, p.watchdog_start);
	r->generation = p.generation;
	return 0;
}

/* Revert pending generation want->generation to want->previous: the
 * record says so, or, when it cannot be read (damaged), the caller's copy
 * (the watchdog's, from when it started) stands in. */
int eng_revert_pending(struct engine *e, const struct state_pending *want,
		       struct engine_result *r)
{
	struct state_pending p;
	int ret, rd;

	memset(r, 0, sizeof(*r));
	ret = engine_state_open(e, ENGINE_STATE_LOCK);
	if (ret || !e->st)
		return ret;
	rd = state_pending_read(e->st, &p);
	if (rd == -ENOENT || (!rd && p.generation != want->generation))
		return 0;	/* confirmed, settled, or another one pending now */
	if (rd < 0)
		p = *want;
	ret = engine_restore(e, p.previous, "revert", true, r);
	r->outcome = ENGINE_REVERTED;
	/* Reverted even when the record could not be written: nothing is
	 * pending any more either way. */
	(void)state_pending_clear(e->st);
	/* The watchdog has no terminal: every revert is logged. */
	syslog(ret ? LOG_ERR : LOG_WARNING, "ntpwall: reverted generation %lu to %s %lu%s%s",
	       p.generation, p.previous ? "generation" : "no table, generation", p.previous,
	       rd < 0 ? " (the pending record was unreadable)" : "",
	       ret ? " (the revert could not be recorded, or failed)" : "");
	return ret;
}

int engine_revert_pending(struct engine *e, unsigned long gen, struct engine_result *r)
{
	struct state_pending p = { .generation = gen };
	int ret;

	memset(r, 0, sizeof(*r));
	ret = engine_state_open(e, ENGINE_STATE_LOCK);
	if (ret || !e->st)
		return ret;
	/* Without a readable record there is no previous generation to use. */
	if (state_pending_read(e->st, &p) < 0 || p.generation != gen)
		return 0;
	return eng_revert_pending(e, &p, r);
}

int engine_expire_pending(struct engine *e, struct engine_result *r)
{
	struct state_pending p;
	int rd;

	memset(r, 0, sizeof(*r));
	if (!e->st)
		return 0;
	rd = state_pending_read(e->st, &p);
	if (rd == -ENOENT)
		return 0;
	if (rd < 0) {
		eng_warn(e, NW502_STATE, "state directory %s: the pending-confirm record is "
			 "unreadable: its watchdog still reverts at the deadline; remove "
			 "pending-confirm.json to keep the rules", e->cfg.state_dir);
		return 0;
	}
	if (p.deadline > (int64_t)time(NULL))
		return 0;
	/* The watchdog did not (killed, out of memory): the deadline is a
	 * promise, so whoever changes state next keeps it. */
	eng_warn(e, NW502_STATE, "the confirmation of generation %lu expired unconfirmed and its "
		 "watchdog did not revert it: reverting now", p.generation);
	engine_stop_watchdog(p.watchdog, p.watchdog_start);
	return eng_revert_pending(e, &p, r);
}
