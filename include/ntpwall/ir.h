/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The rule model (IR): what the compiler produces, the renderers print, the
 * backends apply and read back, and diff compares. Backend-neutral: no
 * libnftnl, libmnl or libiptc types here. A ruleset is one table with its
 * sets (sorted by name) and chains (in creation order), each chain an ordered
 * list of rules; a rule is a list of typed matches (all must hold), optional
 * statements (counter, log, notrack) and a verdict. */
#ifndef NTPWALL_IR_H
#define NTPWALL_IR_H

#include "ntpwall/addr.h"
#include "ntpwall/diag.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ir_set_key {
	IR_KEY_IPV4,		/* 4-byte address (nft type ipv4_addr) */
	IR_KEY_IPV6,		/* 16-byte address (nft type ipv6_addr) */
};

/* Set flags, with the kernel's meaning. */
#define IR_SET_TIMEOUT 0x1u	/* elements may expire */
#define IR_SET_INTERVAL 0x2u	/* elements are prefixes */
#define IR_SET_DYNAMIC 0x4u	/* filled from the packet path (rate limits) */
/* Read back only: the kernel's set has properties the IR cannot express
 * (e.g. made by hand), so it never equals a wanted set. */
#define IR_SET_FOREIGN 0x80000000u

struct ir_elem {
	struct addr addr;		/* network part for prefixes */
	unsigned prefix_len;		/* full length unless the set is an interval set */
	uint64_t timeout_ms;		/* 0: the set's default (or none) */
	uint64_t expires_ms;		/* read back only; never compared */
	char *comment;			/* origin (the policy name that gave it); may be NULL */
};

struct ir_set {
	char *name;
	enum ir_set_key key;
	uint32_t flags;			/* IR_SET_* */
	uint64_t timeout_ms;		/* default element timeout; 0 none */
	uint32_t size;			/* max elements (dynamic sets); 0 unbounded */
	/* Read back only, false/0 for every compiled set; compared. */
	bool policy_memory;		/* nft `policy memory`: the kernel may pick
					 * another set type (ntpwall: performance) */
	uint32_t gc_interval_ms;	/* expired entries reaped every; 0 the kernel's
					 * default (a full meter adds no source
					 * until then) */
	struct ir_elem *elems;		/* sorted by address then prefix length, unique */
	size_t n_elems, cap_elems;
	struct loc loc;			/* policy node it comes from; may be empty */
};

/* NFPROTO values, as in the kernel. */
#define IR_NFPROTO_IPV4 2
#define IR_NFPROTO_IPV6 10

/* Conntrack states, as the kernel's ct state bits. */
#define IR_CT_INVALID 0x01u
#define IR_CT_ESTABLISHED 0x02u
#define IR_CT_RELATED 0x04u
#define IR_CT_NEW 0x08u
#define IR_CT_UNTRACKED 0x40u

enum ir_match_type {
	IR_MATCH_IIFNAME,	/* u.ifname */
	IR_MATCH_OIFNAME,	/* u.ifname */
	IR_MATCH_NFPROTO,	/* u.num: IR_NFPROTO_* */
	IR_MATCH_L4PROTO,	/* u.num: IPPROTO_UDP, IPPROTO_TCP */
	IR_MATCH_SPORT,		/* u.num, host order; needs an L4PROTO match before */
	IR_MATCH_DPORT,
	IR_MATCH_SADDR,		/* u.prefix; needs NFPROTO before */
	IR_MATCH_DADDR,
	IR_MATCH_SADDR_SET,	/* u.set: name of an address set of the rule's family */
	IR_MATCH_DADDR_SET,
	IR_MATCH_CT_STATE,	/* u.bits: any of IR_CT_* */
	IR_MATCH_NTP_MODE,	/* u.bits: bit n = mode n (0..7); first NTP byte & 7 */
	IR_MATCH_NTP_VERSION,	/* u.bits: bit n = version n (0..7); (byte >> 3) & 7 */
	IR_MATCH_NTP_OPCODE,	/* u.bits: bit n = mode-6 opcode n (0..31); second byte & 0x1f */
	IR_MATCH_RATE_OVER,	/* u.limit: per-source rate over the limit (dynamic set);
				 * negate: within the limit, and the source tracked */
	IR_MATCH_LIMIT,		/* u.rate: within one rate shared by every packet the
				 * rule sees (no key, nft `limit rate`, iptables
				 * -m limit); negate: over it. Gates the log rules. */
};

/* A plain token bucket: rate packets per unit_s, up to burst at once. */
struct ir_rate {
	uint32_t rate;		/* packets per unit */
	uint32_t unit_s;	/* 1, 60 or 3600 */
	uint32_t burst;		/* packets */
};

struct ir_limit {
	char *set;		/* dynamic set keyed by source address */
	uint32_t rate;		/* packets per unit */
	uint32_t unit_s;	/* 1, 60 or 3600 */
	uint32_t burst;		/* packets */
	unsigned prefix_len;	/* the key is the source's /prefix_len; 0: the
				 * whole address */
};

/* One condition; negate inverts it (!= / not in set / ct state not). */
struct ir_match {
	enum ir_match_type type;
	bool negate;
	union {
		char ifname[16];
		uint32_t num;
		uint32_t bits;
		struct {
			struct addr addr;
			unsigned len;
		} prefix;
		char *set;
		struct ir_limit limit;
		struct ir_rate rate;
	} u;
};

enum ir_verdict {
	IR_VERDICT_NONE,	/* statements only, continue with the next rule */
	IR_VERDICT_ACCEPT,
	IR_VERDICT_DROP,
	IR_VERDICT_REJECT,	/* ICMP(v6) port unreachable */
	/* Only in the kernel's layout of a ruleset (ir_layout) and what is read
	 * back before ir_flatten: ir_rule.target names the chain. */
	IR_VERDICT_JUMP,	/* walk target, then go on with the next rule */
	IR_VERDICT_GOTO,	/* walk target instead of the rest of this chain */
};

struct ir_rule {
	struct ir_match *matches;
	size_t n_matches, cap_matches;
	bool counter;
	bool notrack;		/* raw chains: bypass conntrack */
	char *log_prefix;	/* non-NULL: log with this prefix */
	enum ir_verdict verdict;
	char *comment;		/* stable id of what the rule is for, e.g. "egress-upstreams4" */
	char *target;		/* IR_VERDICT_JUMP/GOTO: the chain; else NULL */
	uint64_t packets, bytes;	/* read back only; never compared */
	uint64_t handle;	/* read back only; never compared */
	struct loc loc;		/* policy node that asked for it; may be empty */
	/* Read back only: what a backend found in the kernel but could not map
	 * to matches (e.g. a rule added by hand), as text; NULL for every
	 * compiled rule. Compared, so such a rule never equals a wanted one. */
	char *unknown;
};

enum ir_hook {
	IR_HOOK_NONE,		/* regular chain */
	IR_HOOK_PREROUTING,
	IR_HOOK_INPUT,
	IR_HOOK_OUTPUT,
	/* Read back only (the compiler uses none of them), so that any inet
	 * base chain is named and kept in a generation. */
	IR_HOOK_FORWARD,
	IR_HOOK_POSTROUTING,
	IR_HOOK_INGRESS,	/* per device, before everything else */
};
#define IR_HOOK_COUNT (IR_HOOK_INGRESS + 1)

struct ir_chain {
	char *name;
	enum ir_hook hook;
	int priority;		/* 0 filter, -300 raw */
	bool policy_drop;	/* base chains; ntpwall uses accept (doc/netlink-notes.md §8.4) */
	/* Read back only: a base chain's type when it is not "filter" (a nat
	 * chain sees only the first packet of a connection, a route chain
	 * reroutes); NULL for every compiled chain. Compared. */
	char *type;
	/* Read back only: the devices an ingress chain is bound to, separated
	 * by spaces (which no interface name has); NULL for every compiled
	 * chain. Compared. The kernel refuses a device on every other inet
	 * hook (EOPNOTSUPP). */
	char *device;
	struct ir_rule *rules;
	size_t n_rules, cap_rules;
};

/* Table flags, with the kernel's values (NFT_TABLE_F_*). */
#define IR_TABLE_DORMANT 0x1u	/* hooks unregistered: the table filters nothing */
#define IR_TABLE_OWNER 0x2u	/* owned by (and dies with) one netlink socket */
#define IR_TABLE_PERSIST 0x4u	/* owned, but outlives its owner */

struct ir_ruleset {
	char *table;		/* nft table (family inet) / iptables chain prefix */
	/* Read back only: IR_TABLE_* (and any flag a newer kernel has); 0 for
	 * every compiled ruleset, and apply never sets one. Compared. */
	uint32_t flags;
	struct ir_set *sets;	/* sorted by name once ir_ruleset_sort() ran */
	size_t n_sets, cap_sets;
	struct ir_chain *chains;
	size_t n_chains, cap_chains;
};

/* A new empty ruleset for table; free with ir_ruleset_free(). */
struct ir_ruleset *ir_ruleset_new(const char *table);
/* Free a ruleset and everything in it; NULL is fine. */
void ir_ruleset_free(struct ir_ruleset *rs);
/* Deep copy. */
struct ir_ruleset *ir_ruleset_clone(const struct ir_ruleset *rs);
/* Exchange the chains of a and b (sets and table stay). */
void ir_ruleset_swap_chains(struct ir_ruleset *a, struct ir_ruleset *b);

/* Add a set (name copied) and return it, owned by rs. */
struct ir_set *ir_set_add(struct ir_ruleset *rs, const char *name, enum ir_set_key key,
			  uint32_t flags);
/* Find a set by name; NULL if none. */
struct ir_set *ir_set_find(const struct ir_ruleset *rs, const char *name);
/* Append an element (comment copied, may be NULL); the set is re-sorted and
 * de-duplicated by ir_ruleset_sort(). Returns the element, owned by the set. */
struct ir_elem *ir_set_add_elem(struct ir_set *s, const struct addr *addr,
				unsigned prefix_len, const char *comment);
/* Find an element with exactly this address/prefix in a sorted set; NULL if none. */
const struct ir_elem *ir_set_find_elem(const struct ir_set *s, const struct addr *addr,
				       unsigned prefix_len);

/* Add a chain (name copied) and return it, owned by rs. */
struct ir_chain *ir_chain_add(struct ir_ruleset *rs, const char *name, enum ir_hook hook,
			      int priority);
/* Add a chain like src (name, hook, priority, policy, type, device)
 * without its rules, and return it, owned by rs. */
struct ir_chain *ir_chain_add_like(struct ir_ruleset *rs, const struct ir_chain *src);
/* Add a deep copy of src, rules and all, and return it, owned by rs. */
struct ir_chain *ir_chain_add_copy(struct ir_ruleset *rs, const struct ir_chain *src);
/* Find a chain by name; NULL if none. */
struct ir_chain *ir_chain_find(const struct ir_ruleset *rs, const char *name);

/* Append a new empty rule (comment copied, may be NULL) with a counter. */
struct ir_rule *ir_rule_add(struct ir_chain *c, const char *comment, const struct loc *loc);
/* Append a deep copy of src (counters and all) and return it. */
struct ir_rule *ir_rule_add_copy(struct ir_chain *c, const struct ir_rule *src);
/* Append a match to a rule and return it (zeroed but for type); owned by r. */
struct ir_match *ir_rule_add_match(struct ir_rule *r, enum ir_match_type type);
/* Convenience appenders; each returns the match. */
struct ir_match *ir_rule_match_num(struct ir_rule *r, enum ir_match_type type, uint32_t num);
struct ir_match *ir_rule_match_set(struct ir_rule *r, enum ir_match_type type, const char *set);
struct ir_match *ir_rule_match_prefix(struct ir_rule *r, enum ir_match_type type,
				      const struct addr *addr, unsigned len);
struct ir_match *ir_rule_match_ifname(struct ir_rule *r, enum ir_match_type type,
				      const char *ifname);
/* Set the log prefix (copied). */
void ir_rule_set_log(struct ir_rule *r, const char *prefix);
/* Insert a deep copy of rule i of c right before it and return the copy
 * (now rule i; rule i itself moves to i + 1). Pointers into c->rules are
 * stale afterwards. */
struct ir_rule *ir_rule_insert_copy(struct ir_chain *c, size_t i);

/* The kernel's layout (src/ir_layout.c, doc/design.md "Packet path"): the
 * same rules, counters and comments, in chains that a packet reaches only
 * when it can match them. In each base chain, one goto per port class (udp
 * dport 123, udp sport 123, tcp 4460) leads to "<chain>-ntp", which holds
 * the chain's rules in their order; there, each run of rules for one NTP
 * mode moves into "<chain>-mode<N>", reached by a jump on the mode. Returns
 * a new ruleset of rs's table holding only the chains (the sets are rs's);
 * rs is left alone. A chain it cannot lay out exactly (a rule that matches
 * no port) stays as it is. */
struct ir_ruleset *ir_layout(const struct ir_ruleset *rs);
/* The inverse, in place, for what a backend read: rs's chains become the
 * flat ones when they are laid out exactly as ir_layout lays out that flat
 * form; otherwise rs is left as it is (its jumps never equal a compiled
 * ruleset: drift). */
void ir_flatten(struct ir_ruleset *rs);
/* Within each run of rules that each match UDP and one NTP mode, put the
 * rules of the mode the chain sees most first (3 on input, 4 on output),
 * then the other modes, each mode's rules in their order: the same meaning
 * (a packet has one mode), and runs that ir_layout can move as a whole. */
void ir_ruleset_group_modes(struct ir_ruleset *rs);

/* Sort sets by name and their elements by address, dropping duplicate
 * elements. Chains and rules keep their order: it is meaning. */
void ir_ruleset_sort(struct ir_ruleset *rs);
/* Sort one set's elements and drop duplicates (ir_ruleset_sort does it for
 * every set). */
void ir_set_sort(struct ir_set *s);

/* Structural equality, ignoring counters, handles, expiry and locations.
 * Both sides must be sorted. */
bool ir_match_equal(const struct ir_match *a, const struct ir_match *b);
bool ir_rule_equal(const struct ir_rule *a, const struct ir_rule *b);
bool ir_elem_equal(const struct ir_elem *a, const struct ir_elem *b);
/* Sets equal in definition (name, key, flags, timeout, size, policy, gc
 * interval), elements aside. */
bool ir_set_def_equal(const struct ir_set *a, const struct ir_set *b);
bool ir_set_equal(const struct ir_set *a, const struct ir_set *b);
bool ir_chain_equal(const struct ir_chain *a, const struct ir_chain *b);
bool ir_ruleset_equal(const struct ir_ruleset *a, const struct ir_ruleset *b);
/* Equal but for set elements: table, set definitions, chains and rules. */
bool ir_ruleset_same_shape(const struct ir_ruleset *a, const struct ir_ruleset *b);
/* true when a read-back ruleset holds something the IR cannot express (a
 * hand-made rule or set): making rs live again would not restore it. */
bool ir_ruleset_foreign(const struct ir_ruleset *rs);
/* Between two rules for both families, put the rules for IPv4 only before
 * those for IPv6 only, each keeping its order: the same meaning (no packet
 * is of both families), in the order iptables, which keeps the families in
 * two tables, reads back. */
void ir_ruleset_group_families(struct ir_ruleset *rs);
/* What both do: within each run of rules between two whose key is < 0,
 * the rules of key 0, then of key 1, ... up to n_keys - 1, each keeping
 * its order. key never changes a rule's meaning only when no packet
 * matches rules of two keys. */
void ir_ruleset_group(struct ir_ruleset *rs,
		      int (*key)(const struct ir_chain *c, const struct ir_rule *r),
		      unsigned n_keys);
/* Total order on elements (address family, bytes, prefix length). */
int ir_elem_cmp(const struct ir_elem *a, const struct ir_elem *b);

/* Names for printing and JSON: "ipv4"/"ipv6", "input"/"output"/..., "accept"/... */
const char *ir_set_key_name(enum ir_set_key k);
const char *ir_hook_name(enum ir_hook h);
const char *ir_verdict_name(enum ir_verdict v);
const char *ir_match_type_name(enum ir_match_type t);

#endif
