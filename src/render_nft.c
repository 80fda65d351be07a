/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The rule model as nft text: an `nft -f` script that replaces ntpwall's
 * table atomically, or (listing) the table as `nft list table` prints it,
 * one set element per line so that a line diff of two listings is readable.
 * Rules are printed the way nft 1.0.6 lists them back (raw payload bit
 * fields as `@th,64,8 & 0x7 == 0x6`, ct states in bit order), so a listing
 * of the wanted IR and `nft list table` agree rule for rule. */
#include "ntpwall/render.h"
#include "ntpwall/util.h"

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

/* nft's duration format: 1d2h3m4s5ms, largest unit first, zero parts left out. */
static void fmt_duration(uint64_t ms, char *buf, size_t size)
{
	static const struct { uint64_t ms; const char *unit; } units[] = {
		{ 86400000, "d" }, { 3600000, "h" }, { 60000, "m" }, { 1000, "s" }, { 1, "ms" },
	};
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(units) && len < size; i++) {
		uint64_t n = ms / units[i].ms;

		ms %= units[i].ms;
		if (n)
			len += snprintf(buf + len, size - len, "%" PRIu64 "%s", n, units[i].unit);
	}
	if (!buf[0])
		snprintf(buf, size, "0s");
}

/* nft strings cannot escape a double quote: keep the text printable. */
static void put_quoted(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++)
		fputc(*s == '"' || (unsigned char)*s < 0x20 || *s == 0x7f ? '_' : *s, f);
	fputc('"', f);
}

static void put_prefix(FILE *f, const struct addr *a, unsigned len)
{
	char buf[INET6_ADDRSTRLEN];

	fputs(addr_str(a, buf, sizeof(buf)), f);
	if (len != (a->family == AF_INET ? 32u : 128u))
		fprintf(f, "/%u", len);
}

static void put_elem(FILE *f, const struct ir_set *s, const struct ir_elem *e,
		     const struct render_opts *o)
{
	char d[64];

	put_prefix(f, &e->addr, e->prefix_len);
	if (e->timeout_ms && e->timeout_ms != s->timeout_ms) {
		fmt_duration(e->timeout_ms, d, sizeof(d));
		fprintf(f, " timeout %s", d);
	}
	if (o->listing && o->with_counters && e->expires_ms) {
		fmt_duration(e->expires_ms, d, sizeof(d));
		fprintf(f, " expires %s", d);
	}
	if (e->comment) {
		fputs(" comment ", f);
		put_quoted(f, e->comment);
	}
}

static void put_set(FILE *f, const struct ir_set *s, const struct render_opts *o)
{
	static const struct { uint32_t flag; const char *name; } flags[] = {
		{ IR_SET_DYNAMIC, "dynamic" }, { IR_SET_INTERVAL, "interval" },
		{ IR_SET_TIMEOUT, "timeout" },
	};
	const char *sep = "";

	fprintf(f, "\tset %s {\n\t\ttype %s\n", s->name, ir_set_key_name(s->key));
	/* Read back only: say so, the listing cannot show what it is. */
	if (s->flags & IR_SET_FOREIGN)
		fputs("\t\t# foreign: more than ntpwall makes (nft list set shows it)\n", f);
	if (s->size)
		fprintf(f, "\t\tsize %" PRIu32 "\n", s->size);
	if (s->policy_memory)
		fputs("\t\tpolicy memory\n", f);
	if (s->flags) {
		fputs("\t\tflags ", f);
		for (size_t i = 0; i < ARRAY_SIZE(flags); i++) {
			if (s->flags & flags[i].flag) {
				fprintf(f, "%s%s", sep, flags[i].name);
				sep = ",";
			}
		}
		fputc('\n', f);
	}
	if (s->timeout_ms) {
		char d[64];

		fmt_duration(s->timeout_ms, d, sizeof(d));
		fprintf(f, "\t\ttimeout %s\n", d);
	}
	if (s->gc_interval_ms) {
		char d[64];

		fmt_duration(s->gc_interval_ms, d, sizeof(d));
		fprintf(f, "\t\tgc-interval %s\n", d);
	}
	for (size_t i = 0; i < s->n_elems; i++) {
		fputs(i ? ",\n\t\t\t     " : "\t\telements = { ", f);
		put_elem(f, s, &s->elems[i], o);
	}
	if (s->n_elems)
		fputs(" }\n", f);
	fputs("\t}\n", f);
}

static const char *proto_name(uint32_t p)
{
	return p == IPPROTO_UDP ? "udp" : p == IPPROTO_TCP ? "tcp" : "th";
}

/* A bit set as nft lists `@th,OFF,8 & MASK == ...`: one value in hex, several
 * as an anonymous set in decimal. Values are the bits shifted into place. */
static void put_bits(FILE *f, unsigned off, uint32_t mask, unsigned shift, uint32_t b, bool neg)
{
	unsigned n = 0;

	for (unsigned i = 0; i < 32; i++)
		n += (b >> i) & 1;
	fprintf(f, "@th,%u,8 & 0x%" PRIx32 " %s ", off, mask, neg ? "!=" : "==");
	if (n == 1) {
		fprintf(f, "0x%x", (unsigned)(__builtin_ctz(b) << shift));
		return;
	}
	fputs("{ ", f);
	for (unsigned i = 0, k = 0; i < 32; i++)
		if (b & (1u << i))
			fprintf(f, "%s%u", k++ ? ", " : "", i << shift);
	fputs(" }", f);
}

static void put_ct(FILE *f, uint32_t b, bool neg)
{
	static const struct { uint32_t bit; const char *name; } st[] = {
		{ IR_CT_INVALID, "invalid" }, { IR_CT_ESTABLISHED, "established" },
		{ IR_CT_RELATED, "related" }, { IR_CT_NEW, "new" }, { IR_CT_UNTRACKED, "untracked" },
	};
	const char *sep = "";

	fprintf(f, "ct state %s", neg ? "!= " : "");
	for (size_t i = 0; i < ARRAY_SIZE(st); i++) {
		if (b & st[i].bit) {
			fprintf(f, "%s%s", sep, st[i].name);
			sep = ",";
		}
	}
}

static const char *rate_unit(uint32_t s)
{
	return s == 60 ? "minute" : s == 3600 ? "hour" : s == 86400 ? "day" : "second";
}


/* nft adds `meta nfproto` itself in front of ip/ip6 fields and lists it
 * only when nothing depends on it. */
static bool nfproto_implied(const struct ir_rule *r, size_t i)
{
	for (size_t j = i + 1; j < r->n_matches; j++) {
		enum ir_match_type t = r->matches[j].type;

		if (t == IR_MATCH_SADDR || t == IR_MATCH_DADDR || t == IR_MATCH_SADDR_SET ||
		    t == IR_MATCH_DADDR_SET || t == IR_MATCH_RATE_OVER)
			return true;
		if (t == IR_MATCH_NFPROTO)
			return false;
	}
	return false;
}

static bool l4proto_implied(const struct ir_rule *r, size_t i)
{
	for (size_t j = i + 1; j < r->n_matches; j++) {
		enum ir_match_type t = r->matches[j].type;

		if (t == IR_MATCH_SPORT || t == IR_MATCH_DPORT)
			return true;
		if (t == IR_MATCH_L4PROTO)
			return false;
	}
	return false;
}

struct rule_state {
	uint32_t l4;		/* last L4PROTO */
	uint32_t nfproto;	/* last NFPROTO */
	bool any;		/* something printed: the next word needs a space */
	bool listing;		/* as `nft list` prints it */
};

static void sp(FILE *f, struct rule_state *st)
{
	if (st->any)
		fputc(' ', f);
	st->any = true;
}

static const char *ipname(const struct rule_state *st)
{
	return st->nfproto == IR_NFPROTO_IPV6 ? "ip6" : "ip";
}

/* An IPv6 source counted as its prefix: " & ffff:ffff:ffff:ffff::". */
static void put_key_mask(FILE *f, const struct rule_state *st, unsigned len)
{
	struct addr mask = { .family = AF_INET6 };
	char buf[INET6_ADDRSTRLEN];

	if (!len || len >= 128 || strcmp(ipname(st), "ip6"))
		return;
	for (unsigned i = 0; i < len; i++)
		mask.bytes[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	fprintf(f, " & %s", addr_str(&mask, buf, sizeof(buf)));
}

/* "limit rate [over ]R/UNIT burst B packets"; nft lists a burst only when
 * it is not its default, 5, in a limit statement as in a meter's. */
static void put_limit(FILE *f, const struct rule_state *st, bool over, uint32_t rate,
		      uint32_t unit_s, uint32_t burst)
{
	fprintf(f, "limit rate %s%" PRIu32 "/%s", over ? "over " : "", rate, rate_unit(unit_s));
	if (!st->listing || burst != 5)
		fprintf(f, " burst %" PRIu32 " packets", burst);
}

static void put_match(FILE *f, const struct ir_rule *r, size_t i, struct rule_state *st)
{
	const struct ir_match *m = &r->matches[i];
	const char *ne = m->negate ? "!= " : "";

	switch (m->type) {
	case IR_MATCH_IIFNAME:
	case IR_MATCH_OIFNAME:
		sp(f, st);
		fprintf(f, "%s %s", m->type == IR_MATCH_IIFNAME ? "iifname" : "oifname", ne);
		put_quoted(f, m->u.ifname);
		break;
	case IR_MATCH_NFPROTO:
		st->nfproto = m->u.num;
		if (nfproto_implied(r, i) && !m->negate)
			break;
		sp(f, st);
		fprintf(f, "meta nfproto %s%s", ne,
				m->u.num == IR_NFPROTO_IPV6 ? "ipv6" : "ipv4");
		break;
	case IR_MATCH_L4PROTO:
		st->l4 = m->u.num;
		if (l4proto_implied(r, i) && !m->negate)
			break;
		sp(f, st);
		fprintf(f, "meta l4proto %s%s", ne, proto_name(m->u.num));
		break;
	case IR_MATCH_SPORT:
	case IR_MATCH_DPORT:
		sp(f, st);
		fprintf(f, "%s %s %s%" PRIu32, proto_name(st->l4),
			m->type == IR_MATCH_SPORT ? "sport" : "dport", ne, m->u.num);
		break;
	case IR_MATCH_SADDR:
	case IR_MATCH_DADDR:
		sp(f, st);
		fprintf(f, "%s %s %s", ipname(st), m->type == IR_MATCH_SADDR ? "saddr" : "daddr", ne);
		put_prefix(f, &m->u.prefix.addr, m->u.prefix.len);
		break;
	case IR_MATCH_SADDR_SET:
	case IR_MATCH_DADDR_SET:
		sp(f, st);
		fprintf(f, "%s %s %s@%s", ipname(st),
			m->type == IR_MATCH_SADDR_SET ? "saddr" : "daddr", ne, m->u.set);
		break;
	case IR_MATCH_CT_STATE:
		sp(f, st);
		put_ct(f, m->u.bits, m->negate);
		break;
	case IR_MATCH_NTP_MODE:
		sp(f, st);
		put_bits(f, 64, 0x7, 0, m->u.bits, m->negate);
		break;
	case IR_MATCH_NTP_VERSION:
		sp(f, st);
		put_bits(f, 64, 0x38, 3, m->u.bits, m->negate);
		break;
	case IR_MATCH_NTP_OPCODE:
		sp(f, st);
		put_bits(f, 72, 0x1f, 0, m->u.bits, m->negate);
		break;
	case IR_MATCH_RATE_OVER:
		sp(f, st);
		fprintf(f, "update @%s { %s saddr", m->u.limit.set, ipname(st));
		put_key_mask(f, st, m->u.limit.prefix_len);
		fputc(' ', f);
		put_limit(f, st, !m->negate, m->u.limit.rate, m->u.limit.unit_s, m->u.limit.burst);
		fputs(" }", f);
		break;
	case IR_MATCH_LIMIT:
		sp(f, st);
		put_limit(f, st, m->negate, m->u.rate.rate, m->u.rate.unit_s, m->u.rate.burst);
		break;
	}
}

static void put_rule(FILE *f, const struct ir_rule *r, const struct render_opts *o)
{
	struct rule_state st = { .listing = o->listing };

	fputs("\t\t", f);
	for (size_t i = 0; i < r->n_matches; i++)
		put_match(f, r, i, &st);
	if (r->unknown) {
		sp(f, &st);
		fputs(r->unknown, f);
	}
	if (r->counter) {
		sp(f, &st);
		fputs("counter", f);
		if (o->listing && o->with_counters)
			fprintf(f, " packets %" PRIu64 " bytes %" PRIu64, r->packets, r->bytes);
	}
	if (r->log_prefix) {
		sp(f, &st);
		fputs("log prefix ", f);
		put_quoted(f, r->log_prefix);
	}
	if (r->notrack) {
		sp(f, &st);
		fputs("notrack", f);
	}
	if (r->verdict != IR_VERDICT_NONE) {
		sp(f, &st);
		fputs(ir_verdict_name(r->verdict), f);
		if (r->target)
			fprintf(f, " %s", r->target);
		/* nft's default in inet is icmpx; with a family known it uses
		 * that family's ICMP and lists it. */
		if (r->verdict == IR_VERDICT_REJECT && st.nfproto)
			fputs(st.nfproto == IR_NFPROTO_IPV6 ? " with icmpv6 port-unreachable"
							    : " with icmp port-unreachable", f);
	}
	if (r->comment) {
		sp(f, &st);
		fputs("comment ", f);
		put_quoted(f, r->comment);
	}
	fputc('\n', f);
}

/* device "lo", or devices = { "a", "b" } as nft lists several. */
static void put_devices(FILE *f, const char *devs)
{
	const char *sp = strchr(devs, ' ');

	if (!sp) {
		fputs("device ", f);
		put_quoted(f, devs);
		fputc(' ', f);
		return;
	}
	fputs("devices = { ", f);
	while (devs) {
		char *name;

		sp = strchr(devs, ' ');
		name = sp ? xstrndup(devs, (size_t)(sp - devs)) : xstrdup(devs);
		put_quoted(f, name);
		free(name);
		fputs(sp ? ", " : " } ", f);
		devs = sp ? sp + 1 : NULL;
	}
}

static void put_chain(FILE *f, const struct ir_chain *c, const struct render_opts *o)
{
	fprintf(f, "\tchain %s {\n", c->name);
	if (c->hook != IR_HOOK_NONE) {
		fprintf(f, "\t\ttype %s hook %s ", c->type ? c->type : "filter",
			ir_hook_name(c->hook));
		if (c->device)
			put_devices(f, c->device);
		fputs("priority ", f);
		if (c->priority == 0)
			fputs("filter", f);
		else if (c->priority == -300)
			fputs("raw", f);
		else
			fprintf(f, "%d", c->priority);
		fprintf(f, "; policy %s;\n", c->policy_drop ? "drop" : "accept");
	}
	for (size_t i = 0; i < c->n_rules; i++)
		put_rule(f, &c->rules[i], o);
	fputs("\t}\n", f);
}

/* The policy path in a comment line: a newline in it must not start a
 * line of configuration. */
static void put_path_comment(FILE *f, const char *path)
{
	for (; *path; path++)
		fputc((unsigned char)*path < 0x20 || *path == 0x7f ? '?' : *path, f);
}

static void put_header(FILE *f, const struct ir_ruleset *rs, const struct render_opts *o)
{
	fputs("#!/usr/sbin/nft -f\n", f);
	if (o->policy) {
		fprintf(f, "# ntpwall: table inet %s from policy ", rs->table);
		put_path_comment(f, o->policy->path);
		fprintf(f, " (hash %s)\n", o->policy->hash);
	}
	fprintf(f, "# Declare, delete and declare again: one transaction that works whether\n"
		   "# or not the table exists, and touches nothing but table inet %s.\n"
		   "table inet %s\ndelete table inet %s\n", rs->table, rs->table, rs->table);
}

/* Table flags as nft lists them; one it has no name for in hex. */
static void put_table_flags(FILE *f, uint32_t flags)
{
	static const struct { uint32_t flag; const char *name; } names[] = {
		{ IR_TABLE_DORMANT, "dormant" }, { IR_TABLE_OWNER, "owner" },
		{ IR_TABLE_PERSIST, "persist" },
	};
	const char *sep = "";

	fputs("\tflags ", f);
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if (flags & names[i].flag) {
			fprintf(f, "%s%s", sep, names[i].name);
			sep = ",";
			flags &= ~names[i].flag;
		}
	}
	if (flags)
		fprintf(f, "%s0x%" PRIx32, sep, flags);
	fputc('\n', f);
}

/* rs's table and sets, with the chains of ch (rs itself, or its layout). */
static int put_table(const struct ir_ruleset *rs, const struct ir_ruleset *ch,
		     const struct render_opts *o, FILE *f)
{
	bool first = true;

	fprintf(f, "table inet %s {\n", rs->table);
	if (rs->flags) {
		put_table_flags(f, rs->flags);
		first = false;
	}
	for (size_t i = 0; i < rs->n_sets; i++, first = false) {
		if (!first)
			fputc('\n', f);
		put_set(f, &rs->sets[i], o);
	}
	for (size_t i = 0; i < ch->n_chains; i++, first = false) {
		if (!first)
			fputc('\n', f);
		put_chain(f, &ch->chains[i], o);
	}
	fputs("}\n", f);
	return ferror(f) ? -EIO : 0;
}

int render_nft(const struct ir_ruleset *rs, const struct render_opts *o, FILE *f)
{
	struct ir_ruleset *laid;
	int ret;

	if (o->listing && !o->kernel_layout)
		return put_table(rs, rs, o, f);
	/* The script loads what apply makes: the kernel's layout. */
	if (!o->listing)
		put_header(f, rs, o);
	laid = ir_layout(rs);
	ret = put_table(rs, laid, o, f);
	ir_ruleset_free(laid);
	return ret;
}
