/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Compile stage: a policy plus its resolved addresses to the rule model,
 * following doc/design.md "Rules". */
#ifndef NTPWALL_COMPILE_H
#define NTPWALL_COMPILE_H

#include "ntpwall/diag.h"
#include "ntpwall/ir.h"
#include "ntpwall/policy.h"
#include "ntpwall/resolve.h"

/* Set names, shared with renderers, backends and status. */
#define COMPILE_SET_UPSTREAMS4 "upstreams4"
#define COMPILE_SET_UPSTREAMS6 "upstreams6"
#define COMPILE_SET_PEERS4 "peers4"
#define COMPILE_SET_PEERS6 "peers6"
#define COMPILE_SET_CLIENTS4 "clients4"
#define COMPILE_SET_CLIENTS6 "clients6"
/* compile: the sets below exist only when the policy needs them. */
#define COMPILE_SET_NTS4 "nts4"		/* NTS-KE (TCP/4460) servers */
#define COMPILE_SET_NTS6 "nts6"
#define COMPILE_SET_IGNORE4 "ignore4"	/* restrict.ignore prefixes */
#define COMPILE_SET_IGNORE6 "ignore6"
#define COMPILE_SET_QUERY4 "query4"	/* restrict.query_from prefixes */
#define COMPILE_SET_QUERY6 "query6"
#define COMPILE_SET_RL4 "rl4"		/* per-source rate limit (dynamic) */
#define COMPILE_SET_RL6 "rl6"

/* Chain names in the IR (nft names; the iptables renderer maps them). */
#define COMPILE_CHAIN_INPUT "input"
#define COMPILE_CHAIN_OUTPUT "output"
#define COMPILE_CHAIN_RAW_PREROUTING "raw_prerouting"
#define COMPILE_CHAIN_RAW_OUTPUT "raw_output"

/* Dynamic rate-limit sets (meters): an entry lives this long after a
 * source's last packet, longer than chrony's longest poll (maxpoll 10,
 * 1024 s), so a client that polls keeps its entry and is never locked out
 * by a flood that fills the meter. The size is the number of sources the
 * served prefixes hold (IPv6 counted per ipv6_prefix), at most
 * COMPILE_RL_SIZE_MAX unless serve.rate_limit.meter_size says. */
#define COMPILE_RL_TIMEOUT_MS 1200000u
#define COMPILE_RL_SIZE_MIN 16u
#define COMPILE_RL_SIZE_MAX 262144u
/* Longest element comment nft accepts (NFTNL_UDATA_COMMENT_MAXLEN - 1). */
#define COMPILE_COMMENT_MAX 127u
/* Mode-6 opcodes that change ntpd's state (ntpd ntp_control.h / control_codes[]
 * entries flagged AUTH, minus the read-only 11): write variables 3, write
 * clock 5, set trap 6, configure 8, save config 9, unset trap 31. */
#define COMPILE_NTP_WRITE_OPCODES \
	((1u << 3) | (1u << 5) | (1u << 6) | (1u << 8) | (1u << 9) | (1u << 31))

/* A log rule's prefix, with its trailing space: what iptables' LOG target
 * keeps (xt_log_info's 30 bytes with the NUL), for both backends alike. */
#define COMPILE_LOG_PREFIX_MAX 29

/* The prefix of the log rule tagged tag ("oth-d", "nq4@eth0"): "<part>
 * <tag>: ", part being p's log_prefix (default the table name) without a
 * trailing ": ", cut so the whole fits COMPILE_LOG_PREFIX_MAX; the tag is
 * never cut. Returns true when part was cut. */
bool compile_log_prefix(const struct policy *p, const char *tag,
			char out[COMPILE_LOG_PREFIX_MAX + 1]);
/* The longest tag a log rule of p may get (0: p logs nothing). */
size_t compile_log_tag_max(const struct policy *p);
/* The log rules' limit: log_rate in the smallest unit that keeps it whole
 * (60/minute is 1/second), log_burst. */
struct ir_rate compile_log_rate(const struct policy *p);

/* Build the ruleset for p with the addresses in r. The result is sorted
 * (ir_ruleset_sort) and owned by the caller. Addresses from DNS names get
 * the element timeout p->refresh.expire_ms; literal addresses never expire.
 * Returns 0, or -EINVAL with diagnostics (e.g. nothing to allow). */
int compile_policy(const struct policy *p, const struct resolved *r, struct diags *d,
		   struct ir_ruleset **out);

#endif
