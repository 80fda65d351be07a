/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Which rule of a ruleset decides a described NTP packet, and why: the base
 * chains a packet meets in one direction walked as the kernel walks them,
 * over the rule model only (no kernel, no root, nothing sent). Matches the
 * evaluator does not understand make the answer "unknown", never accept. */
#ifndef NTPWALL_EXPLAIN_H
#define NTPWALL_EXPLAIN_H

#include "ntpwall/ir.h"
#include "ntpwall/policy.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum explain_dir {
	EXPLAIN_DIR_UNSET,	/* infer it from the sets (explain_complete) */
	EXPLAIN_DIR_IN,		/* to this host: prerouting, input */
	EXPLAIN_DIR_OUT,	/* from this host: output, postrouting */
};

/* A UDP datagram carrying an NTP header of at least 48 bytes. */
struct explain_packet {
	struct addr src, dst;	/* same family */
	uint16_t sport, dport;		/* host order */
	unsigned mode, version;		/* 0..7 */
	unsigned opcode;		/* mode 6: 0..31 (second byte & 0x1f) */
	bool opcode_set;		/* false: explain_complete() picks one */
	enum explain_dir dir;
	uint32_t ct;			/* one IR_CT_* bit; 0: explain_complete() picks */
	char ifname[16];		/* "" and !ifname_set: explain_complete() picks;
					 * "" and ifname_set: an interface no rule names */
	bool ifname_set;
};

enum explain_verdict {
	EXPLAIN_ACCEPT,		/* a rule accepted it (later tables still see it) */
	EXPLAIN_DROP,
	EXPLAIN_REJECT,		/* dropped with an ICMP error */
	EXPLAIN_CONTINUE,	/* no rule decided: the chain policies (accept) and the
				 * host's other tables do */
	EXPLAIN_UNKNOWN,	/* a rule on the way holds something not understood */
};

/* One condition of a rule, as the evaluator saw it for the packet. */
struct explain_reason {
	char *text;		/* what the rule asks and what the packet has */
	bool held;
	bool assumed;		/* not decidable from the packet (a rate limit):
				 * held is the assumption made */
};

/* A rule whose matches all held, in the order the packet met them. */
struct explain_step {
	const char *chain;	/* borrowed from the ruleset */
	size_t rule;		/* index in the chain, from 0 */
	const char *comment;	/* borrowed; may be NULL */
	enum ir_verdict verdict;
	bool notrack;		/* the packet is untracked from here on */
	bool log;		/* the rule logs (a log rule: behind its own rate limit) */
};

/* The outcome of one walk. */
struct explain_outcome {
	enum explain_verdict verdict;
	const char *chain;	/* deciding rule's chain (borrowed); NULL: none decided */
	size_t rule;
	const char *comment;	/* borrowed; may be NULL */
	bool chain_policy;	/* decided by the policy of chain, not a rule */
	struct explain_step *steps;
	size_t n_steps, cap_steps;
};

struct explain_result {
	/* Set by the caller before explain_packet(): the rules are an
	 * iptables wall's, and the sentences name the iptables chains that
	 * hold them (explain_chain_label). */
	bool iptables;
	struct explain_packet pkt;	/* completed by explain_complete() */
	struct explain_outcome out;
	const char *why;		/* static: what the deciding rule is for; may be NULL */
	struct explain_reason *reasons;	/* the deciding rule's conditions, then
					 * near misses (rules one condition short) */
	size_t n_reasons, cap_reasons;
	char **assumed;			/* defaults explain_complete() chose, as text */
	size_t n_assumed, cap_assumed;
	char *unknown;			/* EXPLAIN_UNKNOWN: what was not understood */
	/* The verdict rests on a per-source rate limit: out is the packet
	 * within it (a new source always is); over is the packet over it, or
	 * from a source the full meter cannot take. */
	bool rate_limited;
	struct explain_outcome over;
};

/* Fill in what pkt leaves unset, noting each choice in r->assumed:
 * direction (in when the source is in a set the inbound chains match
 * sources against, out when the destination is in a set the outbound
 * chains match destinations against; neither or both is an error), state
 * (established for a reply: mode 2 or 4, or from port 123 to another
 * port; else new), interface (lo for a loopback address, else the first
 * interface the rules on the path name, else none they name) and the
 * mode-6 opcode (2, read variables). Returns 0, or -EINVAL with the
 * reason in *err (caller frees). */
int explain_complete(const struct ir_ruleset *rs, struct explain_packet *pkt,
		     struct explain_result *r, char **err);

/* Walk pkt (complete: explain_complete()) through rs into r (zeroed by
 * the caller; explain_result_free() frees it). Pure: no I/O. */
void explain_packet(const struct ir_ruleset *rs, const struct explain_packet *pkt,
		    struct explain_result *r);

void explain_result_free(struct explain_result *r);

/* Where rule `rule` (from 0; SIZE_MAX: the chain itself) of rs's chain
 * is, as a new string: "chain input", or with r->iptables the chain the
 * iptables backend puts it in for the family of r's packet, "iptables
 * chain ntpwall-IN" (or "iptables chain ntpwall-I3, reached from
 * ntpwall-IN" for rules that continue in a chain of their own). */
char *explain_chain_label(const struct ir_ruleset *rs, const struct explain_result *r,
			  const char *chain, size_t rule);

/* "accept", "drop", "reject", "continue", "unknown". */
const char *explain_verdict_name(enum explain_verdict v);
/* "in" or "out" ("" when unset). */
const char *explain_dir_name(enum explain_dir d);
/* The NTP mode's name: "client", "server", "control", ... */
const char *explain_mode_name(unsigned mode);
/* Static sentence saying what a rule with this compiler id is for
 * ("restrict-noquery4@eth0" counts as "restrict-noquery"); NULL when the
 * id is not one the compiler gives. */
const char *explain_rule_why(const char *comment);

#endif
