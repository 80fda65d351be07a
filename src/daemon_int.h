/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Internal to the daemon module (daemon*.c): files and commands. */
#ifndef NTPWALL_DAEMON_INT_H
#define NTPWALL_DAEMON_INT_H

#include "ntpwall/daemon.h"

/* Write content to path atomically: a temporary in the same directory
 * whose name ends in neither .sources nor .conf (chrony and systemd would
 * read it), fsync, rename, mode 0644, then the directory fsynced. A
 * missing last directory (a drop-in directory) is created 0755. */
int daemon_write_file(const char *path, const char *content, struct diags *d);
/* Remove path (0 also when absent), then fsync the directory. */
int daemon_remove_file(const char *path, struct diags *d);
/* Run a command line (split at spaces, no shell) with a time limit;
 * stdout into *out (NULL: discarded; caller frees). -ESRCH with a message
 * naming the command when it cannot run or exits non-zero. */
int daemon_run(const char *cmdline, char **out, struct diags *d);
/* daemon_ops.sources for chrony: `<client> -c -n sources`. */
int daemon_chrony_sources(const struct daemon_state *s, struct daemon_source **out, size_t *n,
			  struct diags *d);

#endif
