/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Internal to the iptables backend (backend_ipt*.c) and its renderer
 * (render_ipt.c): the rule model laid out as legacy iptables chains. Layers,
 * none calling up:
 *   - a rule as data (struct bipt_rule), printed as iptables-restore text
 *     (backend_ipt_text.c);
 *   - xtables entries: a rule encoded into the bytes libiptc appends,
 *     decoded from the bytes it dumps, compared and hashed robustly
 *     (backend_ipt_entry.c, backend_ipt_match.c);
 *   - the layout: a ruleset as chains of rules per table and family
 *     (backend_ipt_layout.c), and chains read from the kernel raised back
 *     into a ruleset (backend_ipt_raise.c);
 *   - the kernel: libiptc, the xtables lock, commits (backend_ipt_kernel.c,
 *     backend_ipt_detect.c), under the backend_ops of backend_ipt.c.
 * doc/iptables-notes.md has the recipes. Prefix bipt_ (backend_ipt_). Not a
 * module interface. */
#ifndef NTPWALL_BACKEND_IPT_INT_H
#define NTPWALL_BACKEND_IPT_INT_H

#include "ntpwall/diag.h"
#include "ntpwall/ir.h"
#include "ntpwall/xt_limit.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* xt_chainlabel: 32 bytes with the NUL. */
#define BIPT_NAME_LEN 32
/* Longest chain name iptables-legacy accepts; libiptc keeps only 29 of
 * longer ones (doc/iptables-notes.md §7.4). */
#define BIPT_CHAIN_MAX 28
/* xt_comment holds 256 bytes with the NUL. */
#define BIPT_COMMENT_MAX 255
/* xt_LOG keeps 29 bytes of prefix. */
#define BIPT_LOG_PREFIX_MAX 29
/* hashlimit revision 3 names: NAME_MAX. */
#define BIPT_HL_NAME_LEN 255
/* u32 matches in one rule (one per NTP header field). */
#define BIPT_U32_MAX 4
/* multiport --ports holds 15. */
#define BIPT_PORTS_MAX 15
/* u32 value ranges per test. */
#define BIPT_RANGES_MAX 10

enum bipt_family { BIPT_V4, BIPT_V6, BIPT_NFAM };
enum bipt_table { BIPT_FILTER, BIPT_RAW, BIPT_NTAB };

/* What an address family's entries look like. */
struct bipt_fam {
	int af;			/* AF_INET, AF_INET6 */
	uint32_t nfproto;	/* IR_NFPROTO_* */
	const char *tool;	/* "iptables", "ip6tables" */
	const char *proc;	/* /proc/net/ip_tables_names or ip6_tables_names */
	size_t entry_size;	/* sizeof(struct ipt_entry) / ip6t_entry */
	size_t off_target;	/* offsetof target_offset */
	size_t off_next;	/* offsetof next_offset */
	size_t off_counters;
	size_t off_comefrom;	/* the kernel's; zeroed in the append form */
	size_t ip_size;		/* the match part compared byte for byte */
};
extern const struct bipt_fam bipt_fams[BIPT_NFAM];
extern const char *const bipt_table_names[BIPT_NTAB];

enum bipt_target {
	BIPT_T_NONE,		/* no target: count and go on */
	BIPT_T_RETURN,
	BIPT_T_DROP,
	BIPT_T_ACCEPT,
	BIPT_T_JUMP,		/* to chain */
	BIPT_T_GOTO,		/* to chain, returning to our caller's caller */
	BIPT_T_REJECT,		/* ICMP(v6) port unreachable */
	BIPT_T_LOG,		/* level 4, log_prefix */
	BIPT_T_NOTRACK,		/* CT --notrack */
};

struct bipt_prefix {
	bool set, neg;
	struct addr addr;	/* network part */
	unsigned len;
};

/* One NTP header field read by u32 behind the UDP header. */
struct bipt_u32 {
	enum ir_match_type field;	/* IR_MATCH_NTP_MODE, _VERSION, _OPCODE */
	uint32_t bits;
	bool neg;			/* ! --u32 */
};

/* hashlimit above (or, upto, within) rate/unit, per source address (or
 * per source prefix of srcmask bits). */
struct bipt_limit {
	char name[BIPT_HL_NAME_LEN + 1];
	bool upto;
	uint8_t srcmask;	/* 0: the whole address */
	uint32_t rate, unit_s, burst;
	uint32_t max;		/* --hashlimit-htable-max */
	uint32_t expire_ms;	/* --hashlimit-htable-expire */
	uint64_t avg;		/* read back: the kernel's form of rate/unit */
};

/* -m limit, revision 0: one bucket for the whole rule, as xt_rateinfo
 * holds it. */
struct bipt_rate {
	uint32_t avg;		/* XT_LIMIT_SCALE * unit_s / rate */
	uint32_t burst;
};

/* Which side multiport's ports are on: --ports, --sports or --dports
 * (a host's rules; ntpwall writes --ports). */
enum bipt_ports_dir { BIPT_PORTS_EITHER, BIPT_PORTS_SRC, BIPT_PORTS_DST };

/* One iptables rule as data: what ntpwall writes, and what it reads back
 * (decoded). Matches appear in the entry in the order of the fields. */
struct bipt_rule {
	struct bipt_prefix src, dst;
	char iif[16], oif[16];
	bool iif_neg, oif_neg;
	uint8_t proto;		/* 0: any */
	bool proto_neg;
	/* -m udp / -m tcp (by proto) when a port is set */
	bool sport_set, dport_set, sport_neg, dport_neg;
	uint16_t sport, dport;
	uint16_t ports[BIPT_PORTS_MAX];	/* -m multiport --ports */
	size_t n_ports;
	enum bipt_ports_dir ports_dir;	/* ntpwall writes --ports (EITHER) */
	bool v6_plain;		/* -m ipv6header --header prot */
	struct bipt_u32 u32[BIPT_U32_MAX];
	size_t n_u32;
	bool ct, ct_neg;	/* -m conntrack --ctstate */
	bool ct_alias;		/* written as -m state (a host's rules) */
	uint32_t ct_bits;	/* IR_CT_* */
	bool limit;		/* -m hashlimit */
	struct bipt_limit hl;
	bool rate;		/* -m limit */
	struct bipt_rate rt;
	bool has_comment;
	char comment[BIPT_COMMENT_MAX + 1];
	enum bipt_target target;
	char chain[BIPT_NAME_LEN];	/* JUMP, GOTO */
	char log_prefix[BIPT_LOG_PREFIX_MAX + 1];
	/* Decoded only: what the entry holds that the fields above cannot
	 * say (a hand-made match, a byte not as ntpwall writes it); NULL. */
	char *unknown;
	/* The entry in libiptc's append form (standard targets by name),
	 * when encoded or read; NULL otherwise. */
	unsigned char *entry;
	size_t entry_len;
	uint64_t packets, bytes;
};

struct bipt_chain {
	char name[BIPT_NAME_LEN];
	struct bipt_rule *rules;
	size_t n, cap;
};

/* One table of one family as ntpwall has it (or wants it): its own chains,
 * main chains first, and the jumps from the built-in chains to them. */
struct bipt_layout {
	enum bipt_family fam;
	enum bipt_table table;
	struct bipt_chain *chains;
	size_t n, cap;
	struct bipt_chain *jumps;	/* per built-in chain: name and its jumps */
	size_t n_jumps, cap_jumps;
};

/* A ruleset laid out in every table of every family. */
struct bipt_all {
	struct bipt_layout t[BIPT_NFAM][BIPT_NTAB];
};

/* Rules and chains (backend_ipt_entry.c). */
struct bipt_rule *bipt_chain_add(struct bipt_chain *c);
/* Room for more rules in one allocation: a chain of 10,000 grown by
 * doubling copies its 880-byte records again and again. */
void bipt_chain_reserve(struct bipt_chain *c, size_t more);
struct bipt_chain *bipt_layout_chain(struct bipt_layout *l, const char *name);
struct bipt_chain *bipt_layout_jumps(struct bipt_layout *l, const char *builtin);
const struct bipt_chain *bipt_layout_find(const struct bipt_layout *l, const char *name);
void bipt_rule_free(struct bipt_rule *r);
void bipt_chain_free(struct bipt_chain *c);
void bipt_layout_free(struct bipt_layout *l);
void bipt_all_free(struct bipt_all *a);
bool bipt_layout_empty(const struct bipt_layout *l);

/* Encode r into r->entry (append form: standard targets and jumps by
 * name, counters from r). -EINVAL for a field out of range. */
int bipt_rule_encode(const struct bipt_fam *f, struct bipt_rule *r);
/* Decode r->entry (append form) into r's fields; what does not fit goes
 * into r->unknown. Always succeeds. */
void bipt_rule_decode(const struct bipt_fam *f, struct bipt_rule *r);
/* The robust compare of doc/iptables-notes.md §4: the match part byte for
 * byte, each match and target by name, revision, size and its data up to
 * the part the kernel owns; counters aside. */
bool bipt_entry_equal(const struct bipt_fam *f, const unsigned char *a, const unsigned char *b);
/* Feed the compared bytes of e into an FNV-1a hash. */
uint64_t bipt_entry_hash(const struct bipt_fam *f, uint64_t h, const unsigned char *e);
/* Encode every rule of l; -EINVAL with a diagnostic when one does not fit. */
int bipt_layout_encode(struct bipt_layout *l, struct diags *d);
/* Equal chains (names, entries in order) and jumps. */
bool bipt_chain_equal(const struct bipt_fam *f, const struct bipt_chain *a,
		      const struct bipt_chain *b);

/* Entry builders and field access (backend_ipt_entry.c, for the matches). */
uint16_t bipt_entry_target_offset(const struct bipt_fam *f, const unsigned char *e);
uint16_t bipt_entry_next_offset(const struct bipt_fam *f, const unsigned char *e);
/* Append a zeroed match or target of data size len to r->entry; returns
 * its data. The match/target name is set, revision rev. */
void *bipt_entry_add_match(const struct bipt_fam *f, struct bipt_rule *r, const char *name,
			   uint8_t rev, size_t len);
void *bipt_entry_add_target(const struct bipt_fam *f, struct bipt_rule *r, const char *name,
			    uint8_t rev, size_t len);

/* Per match and target (backend_ipt_match.c). */
int bipt_match_encode(const struct bipt_fam *f, struct bipt_rule *r);
int bipt_target_encode(const struct bipt_fam *f, struct bipt_rule *r);
/* Decode one match / the target; false when it is not one of ntpwall's. */
bool bipt_match_decode(const struct bipt_fam *f, const void *m, struct bipt_rule *r);
bool bipt_target_decode(const struct bipt_fam *f, const void *t, struct bipt_rule *r);
/* How many data bytes of a match or target user space owns (hashlimit and
 * CT end in a kernel pointer). */
size_t bipt_usersize(const char *name, uint8_t rev, bool target, size_t size);

/* The hashlimit table name for a rate limit: <table>-<set>-<hash of its
 * settings>, so a changed rate gets a new kernel table (the kernel keeps
 * an old table's rate under an unchanged name, doc/iptables-notes.md
 * §7.8). */
void bipt_limit_name(const char *table, const char *set, const struct bipt_limit *l,
		     char out[BIPT_HL_NAME_LEN + 1]);
/* Fill rate and unit_s from l->avg and the hash in l->name; false when
 * no unit gives the name. */
bool bipt_limit_rate(const char *table, const char *set, struct bipt_limit *l);


/* iptables-restore text of one rule after head ("-A CHAIN", "-I CHAIN 1";
 * backend_ipt_text.c), with the trailing newline. */
void bipt_rule_print(FILE *f, const struct bipt_fam *fam, const char *head,
		     const struct bipt_rule *r);

/* One table of one family as iptables-restore text (render_ipt.c): its
 * chains, the jumps first in the built-in chains (-I), COMMIT; with
 * counters, each rule after iptables-save -c's "[packets:bytes]". Nothing
 * for an empty layout. */
void bipt_layout_print(FILE *f, const struct bipt_layout *l, bool counters);

/* The layout (backend_ipt_layout.c). */
/* Lay rs out into every table of every family; -EINVAL (with a diagnostic
 * at the rule) for what iptables cannot hold, -ENAMETOOLONG for a chain
 * name over 28 characters. Rules are not encoded. */
int bipt_layout_all(const struct ir_ruleset *rs, struct bipt_all *out, struct diags *d);
/* The IR chain a main chain stands for: "<table>-IN" -> input; NULL when
 * name is not a main chain of table. */
const char *bipt_main_chain_ir(const char *table, enum bipt_table t, const char *name,
			       enum ir_hook *hook, int *priority);
/* true when name is one of table's chains: "<table>-IN", "<table>-OUT",
 * "<table>-PRE" or a sub-chain "<table>-<letter><digits>". */
bool bipt_chain_ours(const char *table, const char *name);

/* Raise (backend_ipt_raise.c): ntpwall's chains read from the kernel
 * (decoded, entries kept) back into a sorted ruleset (*out NULL when no
 * chain of table exists). A layout the ruleset would not lay out again
 * byte for byte (edited by hand) gets a rule with `unknown` saying where,
 * so it never equals a wanted ruleset. */
int bipt_raise(const char *table, const struct bipt_all *live, struct ir_ruleset **out);
/* One family's table of it (backend_ipt_raise.c): each main chain's rules
 * into the chain of rules with its model name (made when missing),
 * without family matches; sets (with elements) into sets. *why gets the
 * first reason the layout is not ntpwall's (caller frees), if still NULL. */
void bipt_raise_layout(const char *table, const struct bipt_layout *l, struct ir_ruleset *rules,
		       struct ir_ruleset *sets, char **why);
/* The same check apply makes first: rs laid out and raised back equals
 * rs. -EINVAL with a diagnostic when it would not (a shape iptables cannot
 * hold faithfully). out (may be NULL): the layout it checked, encoded, for
 * the caller to apply (bipt_all_free; untouched on an error). */
int bipt_check_roundtrip(const struct ir_ruleset *rs, struct bipt_all *out, struct diags *d);

#endif
