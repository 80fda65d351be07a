/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The SNTP prober (doc/design.md "Prober"): asks many servers at once, several
 * samples each, validates every reply, keeps the minimum-delay sample and
 * picks the truechimers among the servers that answered. Never prints. */
#ifndef NTPWALL_PROBE_H
#define NTPWALL_PROBE_H

#include "ntpwall/addr.h"
#include "ntpwall/ntp_packet.h"
#include "ntpwall/policy.h"

#include <stdbool.h>
#include <stddef.h>
#include <signal.h>
#include <stdint.h>

/* Verdict for one server. Order matters only for documentation. */
enum probe_status {
	PROBE_OK,
	PROBE_TIMEOUT,		/* no valid reply in time */
	PROBE_UNREACHABLE,	/* ICMP error: port/host/network unreachable */
	PROBE_KOD_RATE,		/* kiss RATE: we stopped sampling it */
	PROBE_KOD_DENY,		/* kiss DENY: do not use this server */
	PROBE_KOD_RSTR,		/* kiss RSTR: do not use this server */
	PROBE_KOD_OTHER,	/* another kiss code, given in the reason */
	PROBE_UNSYNC,		/* LI 3 or stratum 16 */
	PROBE_BOGUS,		/* malformed, spoofed or impossible reply */
	PROBE_DISTANCE,		/* root distance or stratum above the limit */
	PROBE_DELAY,		/* negative round-trip delay (T4 before T1...) */
	PROBE_OFFSET,		/* |offset| above the critical limit */
	PROBE_FALSETICKER,	/* valid, but outside the majority's interval */
	PROBE_STATUS_COUNT
};

/* One server to ask. */
struct probe_target {
	const char *name;	/* label shown (host name or address), borrowed */
	struct addr addr;
	uint16_t port;		/* 0 = 123 */
};

struct probe_options {
	struct policy_probe limits;	/* timeout, samples, interval, offsets... */
	/* Most requests in flight at once (one socket each); 0 = 128. More
	 * servers wait in a queue and are sent as slots free up. Capped by the
	 * descriptor limit, whose soft value is raised towards the hard one. */
	unsigned max_inflight;
	/* The signal mask while waiting for replies (epoll_pwait); NULL: the
	 * caller's. A caller that blocks SIGINT/SIGTERM and unblocks them
	 * here learns of them: probe_run then stops with -EINTR. */
	const sigset_t *sigmask;
};

/* What a server told us: the minimum-delay valid sample. */
struct probe_result {
	char *name;
	struct addr addr;
	uint16_t port;
	enum probe_status status;
	char *reason;		/* human-readable why; never NULL */
	bool warn;		/* OK but |offset| above warn_offset */
	bool has_sample;	/* offset, delay... below are meaningful */
	bool truechimer;	/* in the majority clique (selection ran) */
	uint8_t leap, version, stratum;
	int8_t precision;
	uint32_t refid;
	char refid_str[16];	/* "GPS", "LOCL" (stratum 1) or an IPv4 quad */
	ntp_fp offset, delay, root_distance;
	unsigned samples_sent, samples_ok;
};

/* Outcome of the falseticker selection (RFC 5905 s11.2.1). */
struct probe_selection {
	size_t candidates;	/* servers with a valid sample */
	size_t truechimers;	/* size of the largest intersecting group */
	bool ran;		/* at least 3 candidates */
	bool majority;		/* the group holds more than half */
	int64_t low_ns, high_ns;	/* the group's common interval */
};

struct probe_results {
	struct probe_result *v;
	size_t n;
	struct probe_selection selection;
	size_t max_inflight;	/* requests actually allowed in flight */
};

/* Descriptors a probe of n targets with max_inflight requests wanted in
 * flight (0: the default 128) would use. probe_run() keeps within the soft
 * RLIMIT_NOFILE it finds; a program that may raise it (towards the hard
 * limit; the default soft limit is often 1,024) does so first. */
size_t probe_fds_wanted(size_t n, unsigned max_inflight);

/* Probe n targets at once with the options given. *out is a new result the
 * caller frees with probe_results_free(), one entry per target in order.
 * Returns 0 (per-server failures are statuses, not errors), -EINVAL for bad
 * options, -errno when epoll cannot be set up, or -EINTR (results as far as
 * they got) when a signal o->sigmask lets through came. */
int probe_run(const struct probe_target *t, size_t n, const struct probe_options *o,
	      struct probe_results **out);
/* Free results; NULL is fine. */
void probe_results_free(struct probe_results *r);
/* "OK", "TIMEOUT", "KOD_RATE"... static, never NULL. */
const char *probe_status_str(enum probe_status s);

/* An interval offset +- root distance, in nanoseconds, for selection. */
struct probe_interval {
	int64_t offset_ns;
	int64_t distance_ns;	/* >= 0 */
};

/* Marzullo's algorithm as RFC 5905 s11.2.1 uses it: the largest group of
 * intervals that share a point. truechimer[i] tells whether interval i
 * contains the group's common interval. With fewer than 3 intervals, or no
 * group holding more than half, every entry is marked true and sel->ran or
 * sel->majority is false. Pure; never fails. */
void probe_select(const struct probe_interval *iv, size_t n, bool *truechimer,
		  struct probe_selection *sel);

/* Apply the selection to results: servers with a valid sample outside the
 * majority become PROBE_FALSETICKER. Called by probe_run(); exported for tests. */
void probe_results_select(struct probe_results *r);

/* Which server's offset a run reports for the local clock. */
enum probe_pick {
	PROBE_PICK_NONE,	/* no truechimer: no offset */
	PROBE_PICK_NEAREST,	/* one or two truechimers: the smallest root distance */
	PROBE_PICK_MEDIAN,	/* three or more: the median offset (of an even count,
				 * the middle one with the smaller root distance) */
};

/* What a run says about the local clock, from the truechimers: the servers
 * with a valid sample that are not falsetickers (status OK or OFFSET). The
 * offset is always one a server reported, never an average. */
struct probe_summary {
	size_t usable;		/* status OK */
	size_t truechimers;	/* valid sample, not a falseticker */
	size_t agree;		/* the largest group that agrees (intervals meet) */
	bool majority;		/* that group is more than half of the servers with
				 * a valid sample, and at least two */
	enum probe_pick pick;
	size_t server;		/* index of the server the offset comes from */
	int64_t offset_ns;	/* its offset */
	int64_t jitter_ns;	/* RMS of the other truechimers' offsets from it
				 * (RFC 5905's selection jitter); 0 for one */
	/* The majority agrees and the server picked is beyond the critical
	 * offset (status OFFSET): the local clock is off, not the servers. */
	bool clock_off;
};

/* Summarize r (after the selection) into *s. Pure; never fails. */
void probe_summarize(const struct probe_results *r, struct probe_summary *s);

#endif
