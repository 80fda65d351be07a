/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Privilege separation: DNS answers and NTP replies, the network input,
 * are parsed by a child process that has dropped to an unprivileged user
 * (_ntpwall, else nobody) and every capability before it asks anything;
 * the parent, which keeps CAP_NET_ADMIN for netlink and writes the state,
 * only reads the child's results back as JSON over a pipe. Run with
 * CAP_NET_ADMIN alone (no CAP_SETUID), the child keeps the caller's uid
 * and drops every capability. */
#ifndef NTPWALL_PRIVSEP_H
#define NTPWALL_PRIVSEP_H

#include "ntpwall/engine.h"

/* The engine's network seam through the unprivileged child. */
extern const struct engine_net privsep_net;

/* Drop to the unprivileged user (when this process may change its uid)
 * and clear every capability; no new privileges afterwards. 0 or -errno.
 * Called in the child; exported for tests. */
int privsep_drop(void);

#endif
