/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The rule model as iptables-restore input for one family (legacy
 * iptables/ip6tables, --noflush). ntpwall's chains are <TABLE>-IN and
 * <TABLE>-OUT in the filter table (and <TABLE>-PRE, <TABLE>-OUT in raw for
 * serve.notrack), reached by a jump for UDP/123 (and TCP/4460) from the
 * built-in chains. iptables has no sets here: a rule over a set becomes one
 * rule per element, and a rule over "not in set" jumps to a small chain
 * that RETURNs for the members. NTP header fields are read with u32. */
#include "ntpwall/render.h"
#include "ntpwall/util.h"

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

/* xt_hashlimit names are at most 15 characters (struct xt_hashlimit_mtinfo*). */
#define IPT_HASHLIMIT_NAME_MAX 15
/* xt_LOG prefixes are at most 29 characters (struct xt_log_info). */
#define IPT_LOG_PREFIX_MAX 29
/* Longest chain name iptables-restore takes (XT_EXTENSION_MAXNAMELEN - 1). */
#define IPT_CHAIN_MAX 28
/* xt_comment holds 256 bytes with the NUL. */
#define IPT_COMMENT_MAX 255

struct ipt_ctx {
	const struct ir_ruleset *rs;
	int family;
	uint32_t nfproto;
	FILE *f;
	unsigned sub;		/* sub-chains made so far in this table */
};

/* Where an IR chain lives: table, own chain, built-in parent. */
struct ipt_chain {
	const char *table;
	const char *suffix;	/* own chain = <TABLE><suffix> */
	char sub;		/* letter of its sub-chains */
	const char *parent;
};

static bool chain_map(const struct ir_chain *c, struct ipt_chain *m)
{
	bool raw = c->priority == -300;

	switch (c->hook) {
	case IR_HOOK_INPUT:
		*m = (struct ipt_chain){ "filter", "-IN", 'I', "INPUT" };
		return true;
	case IR_HOOK_OUTPUT:
		*m = (struct ipt_chain){ raw ? "raw" : "filter", "-OUT", 'O', "OUTPUT" };
		return true;
	case IR_HOOK_PREROUTING:
		*m = (struct ipt_chain){ raw ? "raw" : "mangle", "-PRE", 'P', "PREROUTING" };
		return true;
	default:
		return false;
	}
}

static bool rule_for_family(const struct ipt_ctx *x, const struct ir_rule *r)
{
	for (size_t i = 0; i < r->n_matches; i++) {
		const struct ir_match *m = &r->matches[i];

		if (m->type == IR_MATCH_NFPROTO && (m->u.num == x->nfproto) == m->negate)
			return false;
	}
	return true;
}

/* Bits of a field [0, max] as u32 value ranges "0:2,5:7"; negate takes the
 * complement. */
static void put_ranges(FILE *f, uint32_t b, unsigned max, bool negate)
{
	const char *sep = "";

	if (negate)
		b = ~b & (max == 31 ? UINT32_MAX : (1u << (max + 1)) - 1);
	for (unsigned i = 0; i <= max; i++) {
		unsigned j = i;

		if (!(b & (1u << i)))
			continue;
		while (j < max && (b & (1u << (j + 1))))
			j++;
		fprintf(f, j > i ? "%s%u:%u" : "%s%u", sep, i, j);
		sep = ",";
		i = j;
	}
}

/* u32 location of the first 4 NTP bytes: behind the IPv4 header (IHL
 * words) and the 8-byte UDP header; IPv6 at the fixed offset 40 + 8, right
 * only without extension headers (NTP packets carry none in practice). */
static void put_u32(const struct ipt_ctx *x, const struct ir_rule *r)
{
	const char *base = x->family == AF_INET ? "0>>22&0x3C@8" : "48";
	const char *sep = "";

	for (size_t i = 0; i < r->n_matches; i++) {
		const struct ir_match *m = &r->matches[i];
		const char *field;
		unsigned max = 7;

		if (m->type == IR_MATCH_NTP_MODE)
			field = ">>24&0x7=";
		else if (m->type == IR_MATCH_NTP_VERSION)
			field = ">>27&0x7=";
		else if (m->type == IR_MATCH_NTP_OPCODE)
			field = ">>16&0x1F=", max = 31;
		else
			continue;
		fprintf(x->f, "%s%s%s%s", *sep ? "" : " -m u32 --u32 \"", sep, base, field);
		put_ranges(x->f, m->u.bits, max, m->negate);
		sep = "&&";
	}
	if (*sep)
		fputc('"', x->f);
}

static void put_ct(FILE *f, const struct ir_match *m)
{
	static const struct { uint32_t bit; const char *name; } st[] = {
		{ IR_CT_INVALID, "INVALID" }, { IR_CT_NEW, "NEW" }, { IR_CT_RELATED, "RELATED" },
		{ IR_CT_ESTABLISHED, "ESTABLISHED" }, { IR_CT_UNTRACKED, "UNTRACKED" },
	};
	const char *sep = "";

	fprintf(f, " -m conntrack %s--ctstate ", m->negate ? "! " : "");
	for (size_t i = 0; i < ARRAY_SIZE(st); i++) {
		if (m->u.bits & st[i].bit) {
			fprintf(f, "%s%s", sep, st[i].name);
			sep = ",";
		}
	}
}

static void put_hashlimit(const struct ipt_ctx *x, const struct ir_limit *l, bool negate)
{
	const struct ir_set *s = ir_set_find(x->rs, l->set);
	const char *unit = l->unit_s == 60 ? "min" : l->unit_s == 3600 ? "hour" : "sec";
	int room = IPT_HASHLIMIT_NAME_MAX - 1 - (int)strlen(l->set);

	/* upto: within the rate (the accept fails closed: a full table drops,
	 * xt_hashlimit's hotdrop); above: over it. */
	fprintf(x->f, " -m hashlimit --hashlimit-%s %" PRIu32 "/%s --hashlimit-burst %" PRIu32
		      " --hashlimit-mode srcip", negate ? "upto" : "above", l->rate, unit, l->burst);
	if (l->prefix_len)
		fprintf(x->f, " --hashlimit-srcmask %u", l->prefix_len);
	fprintf(x->f, " --hashlimit-name %.*s-%s", room > 0 ? room : 0, x->rs->table, l->set);
	if (s && s->size)
		fprintf(x->f, " --hashlimit-htable-max %" PRIu32, s->size);
	if (s && s->timeout_ms)
		fprintf(x->f, " --hashlimit-htable-expire %" PRIu64, s->timeout_ms);
}

static void put_prefix(FILE *f, const char *opt, bool negate, const struct addr *a,
		       unsigned len)
{
	char buf[INET6_ADDRSTRLEN];

	fprintf(f, " %s%s %s/%u", negate ? "! " : "", opt, addr_str(a, buf, sizeof(buf)),
		len);
}

static const char *proto_name(uint32_t p)
{
	return p == IPPROTO_UDP ? "udp" : p == IPPROTO_TCP ? "tcp" : "all";
}

/* The matches of r, in iptables-save order, with elem standing in for the
 * rule's (positive) set match. */
static void put_matches(const struct ipt_ctx *x, const struct ir_rule *r,
			const struct ir_elem *elem)
{
	const struct ir_match *l4 = NULL;
	bool ports = false;

	for (size_t i = 0; i < r->n_matches; i++) {
		const struct ir_match *m = &r->matches[i];

		if ((m->type == IR_MATCH_SADDR || m->type == IR_MATCH_DADDR))
			put_prefix(x->f, m->type == IR_MATCH_SADDR ? "-s" : "-d", m->negate,
				   &m->u.prefix.addr, m->u.prefix.len);
		else if ((m->type == IR_MATCH_SADDR_SET || m->type == IR_MATCH_DADDR_SET) &&
			 !m->negate && elem)
			put_prefix(x->f, m->type == IR_MATCH_SADDR_SET ? "-s" : "-d", false,
				   &elem->addr, elem->prefix_len);
	}
	for (size_t i = 0; i < r->n_matches; i++) {
		const struct ir_match *m = &r->matches[i];

		if (m->type == IR_MATCH_IIFNAME || m->type == IR_MATCH_OIFNAME)
			fprintf(x->f, " %s%s %s", m->negate ? "! " : "",
				m->type == IR_MATCH_IIFNAME ? "-i" : "-o", m->u.ifname);
		else if (m->type == IR_MATCH_L4PROTO)
			l4 = m;
		else if (m->type == IR_MATCH_SPORT || m->type == IR_MATCH_DPORT)
			ports = true;
	}
	if (l4)
		fprintf(x->f, " %s-p %s", l4->negate ? "! " : "", proto_name(l4->u.num));
	if (l4 && ports) {
		fprintf(x->f, " -m %s", proto_name(l4->u.num));
		for (size_t i = 0; i < r->n_matches; i++) {
			const struct ir_match *m = &r->matches[i];

			if (m->type == IR_MATCH_SPORT || m->type == IR_MATCH_DPORT)
				fprintf(x->f, " %s--%s %" PRIu32, m->negate ? "! " : "",
					m->type == IR_MATCH_SPORT ? "sport" : "dport", m->u.num);
		}
	}
	put_u32(x, r);
	for (size_t i = 0; i < r->n_matches; i++) {
		if (r->matches[i].type == IR_MATCH_CT_STATE)
			put_ct(x->f, &r->matches[i]);
		else if (r->matches[i].type == IR_MATCH_RATE_OVER)
			put_hashlimit(x, &r->matches[i].u.limit, r->matches[i].negate);
	}
}

/* A double-quoted argument of at most max bytes: iptables-restore has no
 * escape for a quote inside one, so quotes and control bytes become '_'. */
static void put_text(FILE *f, const char *s, size_t max)
{
	fputc('"', f);
	for (size_t i = 0; s[i] && i < max; i++)
		fputc(s[i] == '"' || s[i] == '\\' || (unsigned char)s[i] < 0x20 ? '_' : s[i], f);
	fputc('"', f);
}

static void put_comment(FILE *f, const char *c)
{
	if (!c)
		return;
	fputs(" -m comment --comment ", f);
	put_text(f, c, IPT_COMMENT_MAX);
}

/* Writes "-A chain <matches> <comment>" and returns; the caller adds -j. */
static void put_head(const struct ipt_ctx *x, const char *chain, const struct ir_rule *r,
		     const struct ir_elem *elem)
{
	fprintf(x->f, "-A %s", chain);
	put_matches(x, r, elem);
	put_comment(x->f, r->comment);
}

static void put_target(const struct ipt_ctx *x, const char *chain, const struct ir_rule *r,
		       const struct ir_elem *elem)
{
	if (r->log_prefix) {
		put_head(x, chain, r, elem);
		fputs(" -j LOG --log-prefix ", x->f);
		put_text(x->f, r->log_prefix, IPT_LOG_PREFIX_MAX);
		fputc('\n', x->f);
	}
	put_head(x, chain, r, elem);
	if (r->notrack)
		fputs(" -j CT --notrack", x->f);
	else if (r->verdict == IR_VERDICT_ACCEPT)
		fputs(" -j ACCEPT", x->f);
	else if (r->verdict == IR_VERDICT_DROP)
		fputs(" -j DROP", x->f);
	else if (r->verdict == IR_VERDICT_REJECT)
		fprintf(x->f, " -j REJECT --reject-with %s",
			x->family == AF_INET ? "icmp-port-unreachable" : "icmp6-port-unreachable");
	fputc('\n', x->f);
}

static const struct ir_match *set_match(const struct ir_rule *r, bool negate)
{
	for (size_t i = 0; i < r->n_matches; i++) {
		const struct ir_match *m = &r->matches[i];

		if ((m->type == IR_MATCH_SADDR_SET || m->type == IR_MATCH_DADDR_SET) &&
		    m->negate == negate)
			return m;
	}
	return NULL;
}

static const struct ir_set *family_set(const struct ipt_ctx *x, const struct ir_match *m)
{
	const struct ir_set *s = m ? ir_set_find(x->rs, m->u.set) : NULL;

	if (s && (s->key == IR_KEY_IPV4) != (x->family == AF_INET))
		return NULL;
	return s;
}

/* "not in set": jump to a chain that RETURNs for every member and applies
 * the rule's verdict to the rest. */
static void put_negated(struct ipt_ctx *x, const char *chain, const struct ipt_chain *m,
			const struct ir_rule *r, const struct ir_match *neg,
			const struct ir_elem *elem)
{
	const struct ir_set *s = family_set(x, neg);
	struct ir_rule jump = *r, tail = { .counter = true };
	char sub[40];

	if (!s)
		return;
	snprintf(sub, sizeof(sub), "%s-%c%u", x->rs->table, m->sub, ++x->sub);
	fprintf(x->f, ":%s - [0:0]\n", sub);
	jump.log_prefix = NULL;
	put_head(x, chain, &jump, elem);
	fprintf(x->f, " -j %s\n", sub);
	for (size_t i = 0; i < s->n_elems; i++) {
		char buf[INET6_ADDRSTRLEN];

		fprintf(x->f, "-A %s %s %s/%u", sub, neg->type == IR_MATCH_SADDR_SET ? "-s" : "-d",
			addr_str(&s->elems[i].addr, buf, sizeof(buf)), s->elems[i].prefix_len);
		put_comment(x->f, r->comment);
		fputs(" -j RETURN\n", x->f);
	}
	tail.comment = r->comment;
	tail.log_prefix = r->log_prefix;
	tail.verdict = r->verdict;
	tail.notrack = r->notrack;
	put_target(x, sub, &tail, NULL);
}

static void put_rule(struct ipt_ctx *x, const char *chain, const struct ipt_chain *m,
		     const struct ir_rule *r)
{
	const struct ir_match *pos = set_match(r, false), *neg = set_match(r, true);
	const struct ir_set *s = family_set(x, pos);

	if (!rule_for_family(x, r) || (pos && !s) || r->unknown)
		return;
	if (!pos) {
		if (neg)
			put_negated(x, chain, m, r, neg, NULL);
		else
			put_target(x, chain, r, NULL);
		return;
	}
	for (size_t i = 0; i < s->n_elems; i++) {
		if (neg)
			put_negated(x, chain, m, r, neg, &s->elems[i]);
		else
			put_target(x, chain, r, &s->elems[i]);
	}
}

/* The built-in chain reaches ours once per protocol its rules match:
 * multiport --ports matches the port as source or destination. */
static void put_jumps(const struct ipt_ctx *x, const struct ir_chain *c, const char *own,
		      const char *parent)
{
	static const uint32_t protos[] = { IPPROTO_UDP, IPPROTO_TCP };

	for (size_t k = 0; k < ARRAY_SIZE(protos); k++) {
		uint32_t seen[8];
		size_t n = 0;

		for (size_t i = 0; i < c->n_rules; i++) {
			const struct ir_rule *r = &c->rules[i];
			bool proto = false;

			for (size_t j = 0; j < r->n_matches; j++) {
				const struct ir_match *m = &r->matches[j];
				bool dup = false;

				if (m->type == IR_MATCH_L4PROTO)
					proto = m->u.num == protos[k];
				if (!proto || (m->type != IR_MATCH_SPORT && m->type != IR_MATCH_DPORT))
					continue;
				for (size_t q = 0; q < n; q++)
					dup |= seen[q] == m->u.num;
				if (!dup && n < ARRAY_SIZE(seen))
					seen[n++] = m->u.num;
			}
		}
		if (!n)
			continue;
		fprintf(x->f, "-A %s -p %s -m multiport --ports ", parent, proto_name(protos[k]));
		for (size_t q = 0; q < n; q++)
			fprintf(x->f, "%s%" PRIu32, q ? "," : "", seen[q]);
		fprintf(x->f, " -m comment --comment \"%s\" -j %s\n", x->rs->table, own);
	}
}

static void put_table(struct ipt_ctx *x, const char *table)
{
	bool any = false;

	for (size_t i = 0; i < x->rs->n_chains; i++) {
		struct ipt_chain m;

		if (!chain_map(&x->rs->chains[i], &m) || strcmp(m.table, table))
			continue;
		if (!any)
			fprintf(x->f, "*%s\n", table);
		any = true;
		fprintf(x->f, ":%s%s - [0:0]\n", x->rs->table, m.suffix);
	}
	if (!any)
		return;
	x->sub = 0;
	for (size_t i = 0; i < x->rs->n_chains; i++) {
		const struct ir_chain *c = &x->rs->chains[i];
		struct ipt_chain m;
		char own[40];

		if (!chain_map(c, &m) || strcmp(m.table, table))
			continue;
		snprintf(own, sizeof(own), "%s%s", x->rs->table, m.suffix);
		put_jumps(x, c, own, m.parent);
		for (size_t j = 0; j < c->n_rules; j++)
			put_rule(x, own, &m, &c->rules[j]);
	}
	fputs("COMMIT\n", x->f);
}

/* The policy path in a comment line: a newline in it must not start a
 * line of configuration. */
static void put_path_comment(FILE *f, const char *path)
{
	for (; *path; path++)
		fputc((unsigned char)*path < 0x20 || *path == 0x7f ? '?' : *path, f);
}

int render_iptables(const struct ir_ruleset *rs, int family, const struct render_opts *o, FILE *f)
{
	struct ipt_ctx x = { .rs = rs, .family = family, .f = f,
			     .nfproto = family == AF_INET ? IR_NFPROTO_IPV4 : IR_NFPROTO_IPV6 };
	const char *tool = family == AF_INET ? "iptables" : "ip6tables";

	/* iptables chain names hold 28 characters: <TABLE>-OUT must fit. */
	if (strlen(rs->table) + 4 > IPT_CHAIN_MAX)
		return -ENAMETOOLONG;
	if (o->policy) {
		fprintf(f, "# ntpwall: %s rules for %s from policy ", tool, rs->table);
		put_path_comment(f, o->policy->path);
		fprintf(f, " (hash %s)\n", o->policy->hash);
	}
	fprintf(f, "# Load with %s-legacy-restore --noflush. A ':' line creates ntpwall's chain\n"
		   "# or, when it exists, flushes it. The -A jumps from the built-in chains are\n"
		   "# appended on every load (iptables-restore cannot add a rule only if it is\n"
		   "# missing): load this once, or delete the old jumps first; the iptables\n"
		   "# backend (libiptc) checks for them itself.\n", tool);
	put_table(&x, "raw");
	put_table(&x, "filter");
	return ferror(f) ? -EIO : 0;
}
