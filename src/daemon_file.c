/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The daemon's file written crash-safely, and the command that tells the
 * daemon, run without a shell and with a time limit. */
#include "daemon_int.h"
#include "ntpwall/util.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The longest a reload or restart may take. */
#define DAEMON_CMD_TIMEOUT_MS 15000
/* Output kept of a command: chronyc sources of 1000 servers is ~100 KiB. */
#define DAEMON_CMD_OUT_MAX (1u << 20)

static int fail(struct diags *d, int ret, const char *what, const char *path)
{
	diag_add(d, NULL, DIAG_ERROR, NW505_DAEMON, "%s %s: %s", what, path, strerror(-ret));
	return ret;
}

static int dir_of(const char *path, char **dir)
{
	char *copy = xstrdup(path);

	*dir = xstrdup(dirname(copy));
	free(copy);
	return 0;
}

static int write_all(int fd, const char *s, size_t len)
{
	while (len) {
		ssize_t n = write(fd, s, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

int daemon_write_file(const char *path, const char *content, struct diags *d)
{
	char *dir, *tmp = NULL;
	int fd = -1, ret;

	dir_of(path, &dir);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		ret = fail(d, -errno, "creating", dir);
		goto out;
	}
	/* ".ntpwall.XXXXXX": no .sources or .conf suffix, so neither chrony's
	 * sourcedir nor a systemd drop-in directory reads it half-written. */
	tmp = xasprintf("%s/.ntpwall.XXXXXX", dir);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		ret = fail(d, -errno, "writing", tmp);
		free(tmp);
		tmp = NULL;
		goto out;
	}
	ret = fchmod(fd, 0644) < 0 ? -errno : 0;
	if (!ret)
		ret = write_all(fd, content, strlen(content));
	if (!ret && fsync(fd) < 0)
		ret = -errno;
	if (close(fd) < 0 && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path) < 0)
		ret = -errno;
	if (!ret)
		ret = sync_dir(dir);
	if (ret)
		fail(d, ret, "writing", path);
out:
	if (tmp && ret)
		(void)unlink(tmp);
	free(tmp);
	free(dir);
	return ret;
}

int daemon_remove_file(const char *path, struct diags *d)
{
	char *dir;

	if (unlink(path) < 0 && errno != ENOENT)
		return fail(d, -errno, "removing", path);
	dir_of(path, &dir);
	(void)sync_dir(dir);
	free(dir);
	return 0;
}

/* argv from a command line split at spaces; free the array and words. */
static char **split(const char *line)
{
	char *copy = xstrdup(line), *save = NULL, **argv;
	size_t n = 0;

	argv = xcalloc(strlen(line) / 2 + 2, sizeof(*argv));
	for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save))
		argv[n++] = xstrdup(w);
	free(copy);
	return argv;
}

static void free_argv(char **argv)
{
	for (size_t i = 0; argv[i]; i++)
		free(argv[i]);
	free(argv);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read the child's output (stdout and stderr together) until it closes or
 * the deadline passes. Returns false on timeout. */
static bool collect(int fd, char **buf, size_t *len, int64_t deadline)
{
	size_t cap = 0;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int64_t left = deadline - now_ms();
		char chunk[4096];
		ssize_t n;

		if (left <= 0 || poll(&p, 1, (int)left) == 0)
			return false;
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return true;
		if (*len + (size_t)n + 1 > DAEMON_CMD_OUT_MAX)
			continue;	/* keep the first MiB; drain the rest */
		while (*len + (size_t)n + 1 > cap)
			xgrow((void **)buf, &cap, *len + (size_t)n, 1);
		memcpy(*buf + *len, chunk, (size_t)n);
		*len += (size_t)n;
		(*buf)[*len] = '\0';
	}
}

static pid_t spawn(char **argv, int out_fd)
{
	pid_t pid = fork();
	sigset_t none;

	if (pid != 0)
		return pid;
	dup2(out_fd, STDOUT_FILENO);
	dup2(out_fd, STDERR_FILENO);
	close_range(3, ~0u, 0);
	signal(SIGPIPE, SIG_DFL);
	/* The caller may hold SIGINT/SIGTERM; the command must not. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execvp(argv[0], argv);
	_exit(127);
}

/* The first line of what the command said, for the message. */
static const char *first_line(char *text)
{
	if (!text)
		return "";
	text[strcspn(text, "\n")] = '\0';
	return text;
}

int daemon_run(const char *cmdline, char **out, struct diags *d)
{
	char **argv = split(cmdline), *buf = NULL;
	int pfd[2], status = 0, ret = 0;
	size_t len = 0;
	bool done;
	pid_t pid;

	if (!argv[0] || pipe2(pfd, O_CLOEXEC) < 0) {
		free_argv(argv);
		diag_add(d, NULL, DIAG_ERROR, NW505_DAEMON, "'%s': cannot run it", cmdline);
		return -ESRCH;
	}
	pid = spawn(argv, pfd[1]);
	close(pfd[1]);
	done = pid > 0 && collect(pfd[0], &buf, &len, now_ms() + DAEMON_CMD_TIMEOUT_MS);
	close(pfd[0]);
	if (pid > 0 && !done)
		kill(pid, SIGKILL);
	if (pid > 0)
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	if (pid < 0 || !done || !WIFEXITED(status) || WEXITSTATUS(status)) {
		diag_add(d, NULL, DIAG_ERROR, NW505_DAEMON, "'%s' %s%s%s", cmdline,
			 pid < 0 ? "could not start" : !done ? "did not finish in time" :
			 WIFEXITED(status) && WEXITSTATUS(status) == 127 ? "was not found" : "failed",
			 buf && *buf ? ": " : "", first_line(buf));
		ret = -ESRCH;
	}
	if (out && !ret)
		*out = buf ? buf : xstrdup("");
	else
		free(buf);
	free_argv(argv);
	return ret;
}
