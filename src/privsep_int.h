/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Internal to privilege separation (privsep*.c): the child runner and the
 * JSON codec of what the child sends back. Every field round-trips; the
 * loaders check types and bounds, since the child is the less trusted
 * side. */
#ifndef NTPWALL_PRIVSEP_INT_H
#define NTPWALL_PRIVSEP_INT_H

#include "ntpwall/diag.h"
#include "ntpwall/probe.h"
#include "ntpwall/resolve.h"

#include <signal.h>

struct json_t;

/* Fork the child, run work(ctx) there after privsep_drop(), and read the
 * JSON it returns into *out (caller decrefs). mask: the signal mask while
 * waiting (a signal it lets through is passed on to the child); NULL:
 * the caller's. -errno; -ECHILD when the child failed. */
int privsep_run(struct json_t *(*work)(void *ctx), void *ctx, const sigset_t *mask,
		struct json_t **out);

struct json_t *privsep_resolved_json(const struct resolved *r);
/* A result for policy p (locations point into p's path). -EINVAL. */
int privsep_resolved_load(const struct json_t *j, const struct policy *p, struct resolved **out);
struct json_t *privsep_diags_json(const struct diags *d);
/* Append the diagnostics to d; a location's file is always file. */
int privsep_diags_load(const struct json_t *j, const char *file, struct diags *d);
struct json_t *privsep_probe_json(const struct probe_results *r);
/* Results of exactly n servers. -EINVAL. */
int privsep_probe_load(const struct json_t *j, size_t n, struct probe_results **out);

#endif
