/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The policy: a YAML file (doc/design.md "Policy (version 1)") loaded with
 * libyaml into typed structures, every node with its source position. */
#ifndef NTPWALL_POLICY_H
#define NTPWALL_POLICY_H

#include "ntpwall/addr.h"
#include "ntpwall/diag.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest policy file accepted; a 1 MiB policy holds ~30,000 upstreams. */
#define POLICY_MAX_FILE_SIZE (16u << 20)
#define POLICY_MAX_DEPTH 32
#define POLICY_MAX_NODES 2000000u
/* iptables chain names hold at most 28 characters (iptables-restore says
 * "28 chars max") and ntpwall names its chains <TABLE>-OUT and <TABLE>-PRE. */
#define POLICY_TABLE_NAME_MAX 24
/* log_prefix: what nft takes (NF_LOG_PREFIXLEN - 1); each log rule's prefix
 * is cut to iptables' 29 bytes (compile_log_prefix). */
#define POLICY_LOG_PREFIX_MAX 127
/* Log rules: at most this many packets per unit and at once, per rule,
 * unless the policy says otherwise (log_rate, log_burst). */
#define POLICY_LOG_RATE_DEFAULT 5
#define POLICY_LOG_UNIT_DEFAULT POLICY_RATE_MINUTE
#define POLICY_LOG_BURST_DEFAULT 5

enum policy_backend {
	POLICY_BACKEND_NFT,
	POLICY_BACKEND_IPTABLES,
};

enum policy_otherwise {
	POLICY_OTHERWISE_DROP,
	POLICY_OTHERWISE_REJECT,
	POLICY_OTHERWISE_LOG,
};

/* Bit mask of address families a policy filters. */
#define POLICY_FAMILY_IPV4 0x1u
#define POLICY_FAMILY_IPV6 0x2u

struct policy_prefix {
	struct addr addr;
	unsigned len;		/* 0..32 or 0..128 */
	struct loc loc;
};

struct policy_prefixes {
	struct policy_prefix *v;
	size_t n;
};

/* A host given as a name or a literal address (`server:`, a peer). */
struct policy_host {
	char *name;		/* as written (lower-cased for names) */
	bool literal;		/* name is an address; addr holds it */
	struct addr addr;
	struct loc loc;
};

enum policy_upstream_kind {
	POLICY_UPSTREAM_SERVER,	/* every address the name resolves to */
	POLICY_UPSTREAM_POOL,	/* at most max of the pool's addresses */
};

struct policy_upstream {
	enum policy_upstream_kind kind;
	struct policy_host host;
	unsigned max;		/* pool: 0 = no max given */
	bool nts;		/* also allow NTS-KE, TCP/4460 */
	struct loc loc;		/* the list item */
};

/* A resolver address with its port (default 53). */
struct policy_resolver {
	struct addr addr;
	uint16_t port;
	struct loc loc;
};

enum policy_rate_unit {
	POLICY_RATE_SECOND = 1,
	POLICY_RATE_MINUTE = 60,
	POLICY_RATE_HOUR = 3600,
};

struct policy_rate {
	uint32_t count;		/* packets per unit */
	enum policy_rate_unit unit;
};

struct policy_serve {
	bool present;
	struct policy_prefixes clients;
	bool has_rate_limit;
	struct policy_rate per_source;
	uint32_t burst;		/* packets; default per_source.count * 2 */
	uint32_t meter_size;	/* sources tracked at once; 0: sized from clients */
	unsigned ipv6_prefix;	/* an IPv6 source counts as its /N (default 64) */
	bool notrack;
	struct loc loc;
};

/* Bit n set: NTP version n allowed (1..4). */
#define POLICY_VERSIONS_ALL 0x1eu

struct policy_restrict {
	bool noquery, nomodify, nopeer, noserve;
	bool log;		/* each restrict drop logs (rate-limited) */
	uint8_t versions;
	struct policy_prefixes ignore;
	struct policy_prefixes query_from;
	struct loc loc;
	struct loc noquery_loc, version_loc;
	struct loc noserve_loc;	/* the `noserve` key; line 0 if not given */
};

/* Durations are kept in milliseconds. */
struct policy_refresh {
	uint64_t expire_ms;	/* set element timeout for resolved upstreams */
	bool probe;
};

struct policy_probe {
	uint64_t timeout_ms;
	unsigned samples;
	uint64_t interval_ms;	/* between samples of one server */
	uint64_t warn_offset_ms, crit_offset_ms;
	unsigned max_stratum;
	uint64_t max_root_distance_ms;
};

struct policy_resolve {
	uint64_t timeout_ms;	/* per try */
	unsigned attempts;
	unsigned pool_queries;	/* times a pool name is asked; answers rotate */
};

/* The time daemon kept in lockstep with the wall: at most one of the
 * three files; NULL: not written. Commands are split at spaces and run
 * without a shell. */
struct policy_daemon {
	char *chrony_sources;	/* chrony sourcedir file */
	char *chronyc;		/* reaches chronyd; NULL: "chronyc" */
	char *chrony_options;	/* appended to every server line; NULL none */
	char *chrony_conf;	/* checked for other sources; NULL: /etc/chrony/chrony.conf */
	char *timesyncd_conf;	/* systemd-timesyncd drop-in */
	char *timesyncd_restart;	/* NULL: "systemctl try-restart systemd-timesyncd" */
	char *ntpd_conf;	/* ntpd/ntpsec include */
	char *ntpd_restart;	/* NULL: none */
	unsigned replace_after;	/* refreshes in a row the daemon reports a pool
				 * member unusable before it is replaced */
	struct loc loc;		/* the `daemon` key */
};

/* A `waive: {NW201: "why"}` entry: a warning the operator accepts. */
struct policy_waiver {
	enum diag_code code;
	char *reason;
	bool used;
	struct loc loc;
};

struct policy {
	char *path;		/* file name used in every loc */
	char hash[17];		/* of the file's bytes (FNV-1a 64, hex) */
	unsigned version;
	char *table;
	enum policy_backend backend;
	char **interfaces;
	size_t n_interfaces;
	unsigned families;	/* POLICY_FAMILY_* */
	struct policy_resolver *resolvers;
	size_t n_resolvers;
	struct policy_resolve resolve;
	struct policy_upstream *upstreams;
	size_t n_upstreams;
	struct policy_host *peers;
	size_t n_peers;
	struct policy_serve serve;
	struct policy_restrict restrict_;
	enum policy_otherwise otherwise;
	char *log_prefix;	/* of every log rule; NULL: the table name */
	struct loc log_prefix_loc;	/* the `log_prefix` key */
	struct policy_rate log_rate;	/* per log rule */
	uint32_t log_burst;
	struct loc log_limit_loc;	/* the `log_rate` or `log_burst` key; line 0: neither */
	struct policy_refresh refresh;
	struct policy_probe probe;
	struct policy_daemon daemon;
	struct policy_waiver *waivers;
	size_t n_waivers;
	bool daemon_config_checked;	/* lint --daemon-config ran (NW209 waivers count) */
	struct loc loc;		/* the document */
};

/* Load and validate a policy file. On success *out is a new policy the
 * caller frees with policy_free() and warnings may have been recorded.
 * Returns -EINVAL with at least one error diagnostic for a bad policy, or
 * another -errno (with an NW100 diagnostic) when the file cannot be read. */
int policy_load(const char *path, struct diags *d, struct policy **out);
/* Same, from a buffer; name is used as the file in locations. */
int policy_load_buffer(const char *name, const char *buf, size_t len,
		       struct diags *d, struct policy **out);
/* Free a policy; NULL is fine. */
void policy_free(struct policy *p);

/* Scalar parsers, shared with the command line. Each returns NULL on
 * success or a static message saying what was expected. */

/* "ADDR/LEN" or a bare address (full length). When host bits are set,
 * returns the NW122 message and still fills *p with the masked prefix. */
const char *policy_parse_prefix(const char *s, struct policy_prefix *p, bool *host_bits);
/* "250ms", "1s", "1.5s", "5m", "1h"; at most max_ms. */
const char *policy_parse_duration(const char *s, uint64_t *ms);
/* "16/second", "600/minute", "10/hour". */
const char *policy_parse_rate(const char *s, struct policy_rate *r);
/* Decimal integer within [min, max]. */
const char *policy_parse_uint(const char *s, unsigned long min, unsigned long max,
			      unsigned long *v);
/* RFC 1123 host name: labels of 1-63 letters, digits, hyphens; <= 253. */
const char *policy_check_hostname(const char *s);
/* Interface name as the kernel takes it (IFNAMSIZ, no '/', no space). */
const char *policy_check_ifname(const char *s);
/* Names of nft tables and iptables chain prefixes: [A-Za-z][A-Za-z0-9_-]*,
 * at most POLICY_TABLE_NAME_MAX so that "<TABLE>-OUT" fits an iptables chain. */
const char *policy_check_table(const char *s);
/* A log prefix as it goes between double quotes in nft and iptables rules:
 * no '"', no backslash, no control characters. Lengths are the caller's. */
const char *policy_check_log_prefix(const char *s);
/* true when addr lies inside prefix. */
bool policy_prefix_contains(const struct policy_prefix *p, const struct addr *a);
/* Returns the waiver for code, or NULL. */
const struct policy_waiver *policy_waiver(const struct policy *p, enum diag_code code);

#endif
