/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The host's other firewalls: the base chains of tables other than
 * ntpwall's on the input and output hooks, as a backend reads them, and a
 * pure check of whether NTP to the upstreams and the upstreams' replies
 * get through them. A heuristic that errs on the quiet side: the proof is
 * the probe. No netlink or libiptc types here. */
#ifndef NTPWALL_HOSTFW_H
#define NTPWALL_HOSTFW_H

#include "ntpwall/ir.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Table families, as the kernel's NFPROTO values. */
#define HOSTFW_INET 1
#define HOSTFW_IP IR_NFPROTO_IPV4
#define HOSTFW_IP6 IR_NFPROTO_IPV6

/* What a read keeps at most: past these the rest is not read (and
 * hostfw.truncated, or the table's truncated, says so). */
#define HOSTFW_MAX_CHAINS 256
#define HOSTFW_MAX_RULES 16384		/* in every chain together */
#define HOSTFW_UNKNOWN_MAX 160		/* bytes of a rule's unknown text kept */

/* A legacy table's rule that jumps into ntpwall's own chains: kept (as a
 * rule with no verdict, this comment) so that the rule to add can go
 * after it. */
#define HOSTFW_OWN_JUMP "ntpwall's jump"

/* One other table and its base chains on the input and output hooks. */
struct hostfw_table {
	uint8_t family;		/* HOSTFW_INET, HOSTFW_IP or HOSTFW_IP6 */
	/* rs->table is its name; rs->chains its base chains with hook,
	 * priority, policy, type (NULL: filter) and rules, raised as far as
	 * the backend understands them (the rest in a rule's unknown). It has
	 * no sets: a rule looking one up is unknown. */
	struct ir_ruleset *rs;
	bool truncated;		/* rules of its chains past HOSTFW_MAX_RULES were not read */
	/* A legacy iptables table (family ip or ip6): its chains are the
	 * built-in INPUT and OUTPUT (hook input, output) and PREROUTING (hook
	 * prerouting) with the user chains they jump to inlined; a rule's
	 * handle is its number in the built-in chain (of the jump, for an
	 * inlined rule, whose comment then says where it is: "HOST rule 2"),
	 * ntpwall's own jumps are rules with comment HOSTFW_OWN_JUMP, and the
	 * rule to add is an iptables command that goes after them. */
	bool legacy;
};

struct hostfw {
	struct hostfw_table *v;
	size_t n, cap;
	bool truncated;		/* chains past HOSTFW_MAX_CHAINS were not read */
};

/* Free every table; h is left empty and can be reused. */
void hostfw_free(struct hostfw *h);
/* The table of that family and name, added (empty) if missing; owned by h. */
struct hostfw_table *hostfw_table_get(struct hostfw *h, uint8_t family, const char *name);
/* "inet", "ip", "ip6" (or "family N"); into a static string. */
const char *hostfw_family_name(uint8_t family);
/* The number of chains in h. */
size_t hostfw_n_chains(const struct hostfw *h);

/* Upstream address families to check. */
#define HOSTFW_V4 0x1u
#define HOSTFW_V6 0x2u

/* A chain that would drop NTP to the upstreams (hook output) or their
 * replies (hook input). */
struct hostfw_finding {
	uint8_t family;
	char *table, *chain;
	enum ir_hook hook;		/* IR_HOOK_INPUT, IR_HOOK_OUTPUT or (legacy
					 * tables) IR_HOOK_PREROUTING */
	unsigned families;		/* HOSTFW_V4 | HOSTFW_V6 it drops */
	size_t rule;			/* 1-based rule that drops; 0: the policy */
	uint64_t handle;		/* of that rule (legacy: its number in the chain) */
	size_t unsure;			/* earlier rules it cannot judge that may accept */
	char *msg;			/* the sentence for the operator, with the rule to add */
};

struct hostfw_findings {
	struct hostfw_finding *v;
	size_t n, cap;
	bool truncated;			/* chains not read (to their end) were left undecided */
};

/* Check every chain of h for NTP of the upstream families (HOSTFW_V4 |
 * HOSTFW_V6) into out (zeroed first; free with hostfw_findings_free), in
 * h's order. Output: UDP to port 123, the first packet of an exchange or
 * a later one; input: UDP from port 123 in an established connection
 * (prerouting: the same, or not yet tracked in a chain before conntrack).
 * Each chain that sees the packet at all (a nat chain sees only a
 * connection's first packet, so never a reply) is walked in order: an
 * accept whose matches surely all hold lets it through; a drop or reject
 * whose matches surely all hold kills it; a rule with a match that cannot
 * hold is passed over; one it cannot judge (unknown expressions, address
 * or set matches, jumps) is passed over and counted, since it may accept;
 * at the end the policy decides. Findings come only from what it is sure
 * of; a chain not read to its end is left undecided. */
void hostfw_check(const struct hostfw *h, unsigned families, struct hostfw_findings *out);
void hostfw_findings_free(struct hostfw_findings *f);

#endif
