/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The host's other firewalls: the list a backend fills with other tables'
 * base chains, and the check of whether NTP to the upstreams and their
 * replies survive them, with the rule to add when they do not. Pure: no
 * kernel, unit-tested in tests/test_hostfw.c. */
#include "ntpwall/hostfw.h"
#include "ntpwall/util.h"

#include <netinet/in.h>
#include <string.h>

/* Kernel hook priority of the conntrack lookup (NF_IP_PRI_CONNTRACK): an
 * output chain before it sees no connection state yet. */
#define PRI_CONNTRACK (-200)
#define PORT_NTP 123

void hostfw_free(struct hostfw *h)
{
	for (size_t i = 0; i < h->n; i++)
		ir_ruleset_free(h->v[i].rs);
	free(h->v);
	memset(h, 0, sizeof(*h));
}

struct hostfw_table *hostfw_table_get(struct hostfw *h, uint8_t family, const char *name)
{
	struct hostfw_table *t;

	for (size_t i = 0; i < h->n; i++)
		if (h->v[i].family == family && !strcmp(h->v[i].rs->table, name))
			return &h->v[i];
	xgrow((void **)&h->v, &h->cap, h->n, sizeof(*h->v));
	t = &h->v[h->n++];
	memset(t, 0, sizeof(*t));
	t->family = family;
	t->rs = ir_ruleset_new(name);
	return t;
}

const char *hostfw_family_name(uint8_t family)
{
	static char buf[16];	/* "family 255" */

	switch (family) {
	case HOSTFW_INET: return "inet";
	case HOSTFW_IP: return "ip";
	case HOSTFW_IP6: return "ip6";
	}
	snprintf(buf, sizeof(buf), "family %u", family);
	return buf;
}

size_t hostfw_n_chains(const struct hostfw *h)
{
	size_t n = 0;

	for (size_t i = 0; i < h->n; i++)
		n += h->v[i].rs->n_chains;
	return n;
}

void hostfw_findings_free(struct hostfw_findings *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->v[i].table);
		free(f->v[i].chain);
		free(f->v[i].msg);
	}
	free(f->v);
	memset(f, 0, sizeof(*f));
}

/* Whether a match holds for every NTP packet of one kind (YES), for none
 * (NO), or cannot be told (MAYBE). */
enum tri { NO, MAYBE, YES };

/* One kind of NTP packet: a query out or a reply in, of one family, in
 * one connection state. */
struct pkt {
	enum ir_hook hook;
	uint32_t nfproto;	/* IR_NFPROTO_* */
	uint32_t ct;		/* one IR_CT_* bit */
};

static enum tri negated(enum tri t, bool neg)
{
	if (!neg || t == MAYBE)
		return t;
	return t == YES ? NO : YES;
}

static enum tri ifname_holds(const struct ir_match *m, const struct pkt *p)
{
	bool in = m->type == IR_MATCH_IIFNAME;

	/* The interface of the other direction is unset, and its name reads
	 * as "" (the kernel's nft_meta_store_ifname). */
	if (in != (p->hook == IR_HOOK_INPUT))
		return m->u.ifname[0] ? NO : YES;
	/* NTP with the upstreams never goes over loopback. */
	if (!strcmp(m->u.ifname, "lo"))
		return NO;
	return MAYBE;
}

static enum tri port_holds(const struct ir_match *m, const struct pkt *p)
{
	/* Our side's port: the daemon's own choice (ntpd 123, chrony and the
	 * prober any). */
	bool remote = (m->type == IR_MATCH_DPORT) == (p->hook == IR_HOOK_OUTPUT);

	if (!remote)
		return MAYBE;
	return m->u.num == PORT_NTP ? YES : NO;
}

static enum tri match_holds(const struct ir_match *m, const struct pkt *p)
{
	enum tri t;

	switch (m->type) {
	case IR_MATCH_IIFNAME:
	case IR_MATCH_OIFNAME:
		t = ifname_holds(m, p);
		break;
	case IR_MATCH_NFPROTO:
		t = m->u.num == p->nfproto ? YES : NO;
		break;
	case IR_MATCH_L4PROTO:
		t = m->u.num == IPPROTO_UDP ? YES : NO;
		break;
	case IR_MATCH_SPORT:
	case IR_MATCH_DPORT:
		t = port_holds(m, p);
		break;
	case IR_MATCH_CT_STATE:
		t = m->u.bits & p->ct ? YES : NO;
		break;
	default:
		/* Addresses, sets, NTP header fields, rates: it depends. */
		t = MAYBE;
		break;
	}
	return negated(t, m->negate);
}

static enum tri rule_holds(const struct ir_rule *r, const struct pkt *p)
{
	/* The raised matches come first in the rule (raising stops at the
	 * first expression it does not know), so one that cannot hold means
	 * the rule never matches, whatever follows. */
	enum tri all = r->unknown ? MAYBE : YES;

	for (size_t i = 0; i < r->n_matches; i++) {
		enum tri t = match_holds(&r->matches[i], p);

		if (t == NO)
			return NO;
		if (t == MAYBE)
			all = MAYBE;
	}
	return all;
}

enum outcome { PASSES, DROPPED, UNDECIDED };

struct walk {
	enum outcome o;
	size_t rule;		/* 1-based; 0: the policy */
	uint64_t handle;
	size_t unsure;
};

static struct walk walk_chain(const struct ir_chain *c, bool truncated, const struct pkt *p)
{
	struct walk w = { PASSES, 0, 0, 0 };

	for (size_t i = 0; i < c->n_rules; i++) {
		const struct ir_rule *r = &c->rules[i];
		enum tri t = rule_holds(r, p);

		if (t == NO)
			continue;
		/* A jump or goto into another chain is not followed: what it
		 * decides there is unknown here. */
		if (r->verdict == IR_VERDICT_JUMP || r->verdict == IR_VERDICT_GOTO) {
			w.unsure++;
			continue;
		}
		if (t == MAYBE) {
			/* An accept, or a verdict it cannot read (a map). */
			if (r->verdict == IR_VERDICT_ACCEPT ||
			    (r->verdict == IR_VERDICT_NONE && r->unknown))
				w.unsure++;
			continue;
		}
		if (r->verdict == IR_VERDICT_ACCEPT)
			return w;
		if (r->verdict == IR_VERDICT_DROP || r->verdict == IR_VERDICT_REJECT) {
			w.o = DROPPED;
			w.rule = i + 1;
			w.handle = r->handle;
			return w;
		}
	}
	if (truncated)
		w.o = UNDECIDED;
	else if (c->policy_drop)
		w.o = DROPPED;
	return w;
}

/* The connection states the packets a chain sees can have; 0 when it
 * sees none of them. */
static size_t chain_states(const struct ir_chain *c, uint32_t ct[2])
{
	bool nat = c->type && !strcmp(c->type, "nat");

	if (c->hook == IR_HOOK_INPUT || c->hook == IR_HOOK_PREROUTING) {
		/* A reply is never a connection's first packet. */
		if (nat)
			return 0;
		/* Before conntrack (iptables' raw PREROUTING) a packet has no
		 * state yet, which conntrack matches read as invalid. */
		ct[0] = c->hook == IR_HOOK_PREROUTING && c->priority < PRI_CONNTRACK ?
			IR_CT_INVALID : IR_CT_ESTABLISHED;
		return 1;
	}
	if (c->hook != IR_HOOK_OUTPUT)
		return 0;
	if (c->priority < PRI_CONNTRACK) {
		ct[0] = IR_CT_INVALID;	/* no conntrack entry yet */
		return 1;
	}
	ct[0] = IR_CT_NEW;
	if (nat)
		return 1;
	/* ntpd polls from port 123 to 123, within the UDP stream timeout. */
	ct[1] = IR_CT_ESTABLISHED;
	return 2;
}

static unsigned table_families(uint8_t family)
{
	switch (family) {
	case HOSTFW_INET: return HOSTFW_V4 | HOSTFW_V6;
	case HOSTFW_IP: return HOSTFW_V4;
	case HOSTFW_IP6: return HOSTFW_V6;
	}
	return 0;
}

/* An nft name as it goes on a command line. */
static char *nft_name(const char *s)
{
	bool plain = (s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_';

	for (const char *c = s; plain && *c; c++)
		plain = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./-",
			       *c) != NULL;
	return plain ? xstrdup(s) : xasprintf("\"%s\"", s);
}

static const char *proto_name(uint32_t p, char buf[12])
{
	switch (p) {
	case IPPROTO_TCP: return "tcp";
	case IPPROTO_UDP: return "udp";
	case IPPROTO_ICMP: return "icmp";
	case IPPROTO_ICMPV6: return "ipv6-icmp";
	case IPPROTO_SCTP: return "sctp";
	}
	snprintf(buf, 12, "%u", p);
	return buf;
}

static char *ct_names(uint32_t bits)
{
	static const struct { uint32_t bit; const char *name; } names[] = {
		{ IR_CT_INVALID, "invalid" }, { IR_CT_ESTABLISHED, "established" },
		{ IR_CT_RELATED, "related" }, { IR_CT_NEW, "new" },
		{ IR_CT_UNTRACKED, "untracked" },
	};
	char *s = xstrdup(""), *t;

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if (!(bits & names[i].bit))
			continue;
		t = xasprintf("%s%s%s", s, *s ? "," : "", names[i].name);
		free(s);
		s = t;
	}
	return s;
}

/* One match as nft lists it; l4 is the protocol a port follows ("th"
 * when none). */
static char *match_text(const struct ir_match *m, const char *l4)
{
	const char *ne = m->negate ? "!= " : "";
	char buf[12];
	char *s, *ct;

	switch (m->type) {
	case IR_MATCH_IIFNAME:
	case IR_MATCH_OIFNAME:
		return xasprintf("%s %s\"%s\"", m->type == IR_MATCH_IIFNAME ? "iifname" : "oifname",
				 ne, m->u.ifname);
	case IR_MATCH_NFPROTO:
		return xasprintf("meta nfproto %s%s", ne,
				 m->u.num == IR_NFPROTO_IPV4 ? "ipv4" : "ipv6");
	case IR_MATCH_L4PROTO:
		return xasprintf("meta l4proto %s%s", ne, proto_name(m->u.num, buf));
	case IR_MATCH_SPORT:
	case IR_MATCH_DPORT:
		return xasprintf("%s %s %s%u", l4, m->type == IR_MATCH_SPORT ? "sport" : "dport", ne,
				 m->u.num);
	case IR_MATCH_CT_STATE:
		ct = ct_names(m->u.bits);
		s = xasprintf("ct state %s%s", ne, ct);
		free(ct);
		return s;
	default:
		return xstrdup(ir_match_type_name(m->type));
	}
}

/* A rule the check was sure of, as nft lists it: `udp dport 123 drop`. */
static char *rule_text(const struct ir_rule *r)
{
	char *s = xstrdup(""), *t, *m;
	const char *l4 = "th";
	char buf[12];

	for (size_t i = 0; i < r->n_matches; i++) {
		const struct ir_match *x = &r->matches[i];
		const struct ir_match *next = i + 1 < r->n_matches ? &r->matches[i + 1] : NULL;

		/* nft folds `meta l4proto udp` into the port match after it. */
		if (x->type == IR_MATCH_L4PROTO && !x->negate && next &&
		    (next->type == IR_MATCH_SPORT || next->type == IR_MATCH_DPORT)) {
			l4 = proto_name(x->u.num, buf);
			continue;
		}
		m = match_text(x, l4);
		t = xasprintf("%s%s ", s, m);
		free(m);
		free(s);
		s = t;
	}
	t = xasprintf("%s%s", s, ir_verdict_name(r->verdict));
	free(s);
	return t;
}

static const char *const ipt_tables[] = { "filter", "nat", "mangle", "raw", "security" };

/* The same rule for iptables, when the chain is one iptables-nft made
 * (an ip or ip6 table of iptables' names, a built-in chain). */
static char *ipt_alternative(uint8_t family, const char *table, const char *chain, bool out)
{
	bool ipt = false;

	for (size_t i = 0; i < ARRAY_SIZE(ipt_tables); i++)
		ipt |= !strcmp(table, ipt_tables[i]);
	if (!ipt || (family != HOSTFW_IP && family != HOSTFW_IP6) ||
	    strcmp(chain, out ? "OUTPUT" : "INPUT"))
		return NULL;
	return xasprintf("%s%s%s -I %s %s", family == HOSTFW_IP ? "iptables" : "ip6tables",
			 strcmp(table, "filter") ? " -t " : "", strcmp(table, "filter") ? table : "",
			 chain, out ? "-p udp --dport 123 -j ACCEPT" :
			 "-m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT");
}

/* One match as iptables lists it. */
static char *ipt_match_text(const struct ir_match *m)
{
	const char *ne = m->negate ? "! " : "";
	char buf[12];
	char *s, *ct;

	switch (m->type) {
	case IR_MATCH_IIFNAME:
	case IR_MATCH_OIFNAME:
		return xasprintf("%s%s %s", ne, m->type == IR_MATCH_IIFNAME ? "-i" : "-o",
				 m->u.ifname);
	case IR_MATCH_L4PROTO:
		return xasprintf("%s-p %s", ne, proto_name(m->u.num, buf));
	case IR_MATCH_SPORT:
	case IR_MATCH_DPORT:
		return xasprintf("%s--%s %u", ne, m->type == IR_MATCH_SPORT ? "sport" : "dport",
				 m->u.num);
	case IR_MATCH_CT_STATE:
		ct = ct_names(m->u.bits);
		for (char *c = ct; *c; c++)
			*c = (char)(*c >= 'a' && *c <= 'z' ? *c - 'a' + 'A' : *c);
		s = xasprintf("-m conntrack %s--ctstate %s", ne, ct);
		free(ct);
		return s;
	default:
		return xstrdup(ir_match_type_name(m->type));
	}
}

/* A rule of a legacy table the check was sure of, as iptables lists it:
 * `-p udp --dport 123 -j DROP`. */
static char *ipt_rule_text(const struct ir_rule *r)
{
	static const char *const verdicts[] = {
		[IR_VERDICT_NONE] = "", [IR_VERDICT_ACCEPT] = "ACCEPT",
		[IR_VERDICT_DROP] = "DROP", [IR_VERDICT_REJECT] = "REJECT",
	};
	char *s = xstrdup(""), *t, *m;

	for (size_t i = 0; i < r->n_matches; i++) {
		m = ipt_match_text(&r->matches[i]);
		t = xasprintf("%s%s ", s, m);
		free(m);
		free(s);
		s = t;
	}
	t = xasprintf("%s-j %s", s, verdicts[r->verdict]);
	free(s);
	return t;
}

static bool own_jump(const struct ir_rule *r)
{
	return r->comment && !strcmp(r->comment, HOSTFW_OWN_JUMP);
}

/* Where in a legacy chain the accept goes: right after ntpwall's jumps
 * (an accept before them would end the table before ntpwall's chains see
 * the packet), and before the rule that drops. *early: the rule that
 * drops comes before ntpwall's jumps, and so must the accept. */
static uint64_t ipt_position(const struct ir_chain *c, const struct walk *w, bool *early)
{
	uint64_t pos = 1;

	for (size_t i = 0; i < c->n_rules; i++)
		if (own_jump(&c->rules[i]) && c->rules[i].handle >= pos)
			pos = c->rules[i].handle + 1;
	*early = w->rule && w->handle < pos;
	return *early ? w->handle : pos;
}

/* The accept for NTP in a legacy chain. A reply is matched by its state
 * only where conntrack has run. */
static const char *ipt_accept(const struct ir_chain *c)
{
	if (c->hook == IR_HOOK_OUTPUT)
		return "-p udp --dport 123 -j ACCEPT";
	if (c->priority < PRI_CONNTRACK)
		return "-p udp --sport 123 -j ACCEPT";
	return "-p udp --sport 123 -m conntrack --ctstate ESTABLISHED -j ACCEPT";
}

static char *what_text(const struct ir_chain *c, const struct walk *w, unsigned fams,
		       unsigned wanted)
{
	bool out = c->hook == IR_HOOK_OUTPUT;
	const char *over = fams == wanted ? "" : fams == HOSTFW_V4 ? " over IPv4" : " over IPv6";
	char *unsure;
	char *s;

	if (!w->unsure)
		unsure = xstrdup("");
	else if (w->unsure == 1)
		unsure = xstrdup(" (unless an earlier rule ntpwall cannot judge accepts it)");
	else
		unsure = xasprintf(" (unless one of %zu earlier rules ntpwall cannot judge accepts it)",
				   w->unsure);
	s = out ? xasprintf("drops NTP%s to the upstreams%s", over, unsure)
		: xasprintf("drops the upstreams' NTP replies%s%s", over, unsure);
	free(unsure);
	return s;
}

/* The finding in a legacy table, with the iptables command to add. */
static char *legacy_msg(uint8_t family, const char *table, const struct ir_chain *c,
			const struct walk *w, unsigned fams, unsigned wanted)
{
	const char *tool = family == HOSTFW_IP6 ? "ip6tables" : "iptables";
	bool filter = !strcmp(table, "filter"), early;
	uint64_t pos = ipt_position(c, w, &early);
	char *what = what_text(c, w, fams, wanted);
	char *where, *msg;

	if (w->rule) {
		const struct ir_rule *r = &c->rules[w->rule - 1];
		char *rt = ipt_rule_text(r);

		where = xasprintf(" rule %llu%s%s%s `%s`", (unsigned long long)w->handle,
				  r->comment ? " (" : "", r->comment ? r->comment : "",
				  r->comment ? ")" : "", rt);
		free(rt);
	} else {
		where = xstrdup(" (policy DROP)");
	}
	msg = xasprintf("legacy %s table %s chain %s%s %s: add `%s%s%s -I %s %llu %s`%s", tool,
			table, c->name, where, what, tool, filter ? "" : " -t ", filter ? "" : table,
			c->name, (unsigned long long)pos, ipt_accept(c),
			early ? " (before that rule, which comes before ntpwall's jumps: NTP it "
				"accepts skips ntpwall's chains)" : "");
	free(where);
	free(what);
	return msg;
}

static char *finding_msg(uint8_t family, const char *table, const struct ir_chain *c,
			 const struct walk *w, unsigned fams, unsigned wanted)
{
	bool out = c->hook == IR_HOOK_OUTPUT;
	char *tn = nft_name(table), *cn = nft_name(c->name);
	char *where, *what = what_text(c, w, fams, wanted);
	char *ipt = ipt_alternative(family, table, c->name, out);
	char *alt = ipt ? xasprintf(" (or `%s` if you manage it with iptables)", ipt) : xstrdup("");
	char *msg;

	if (w->rule) {
		char *rt = rule_text(&c->rules[w->rule - 1]);

		where = xasprintf(": rule `%s` (handle %llu)", rt, (unsigned long long)w->handle);
		free(rt);
	} else {
		where = xasprintf(" (%s%s%spolicy drop)", c->type ? "type " : "",
				  c->type ? c->type : "", c->type ? ", " : "");
	}
	msg = xasprintf("table %s %s chain %s%s %s: add `nft insert rule %s %s %s %s accept`%s",
			hostfw_family_name(family), table, c->name, where, what,
			hostfw_family_name(family), tn, cn,
			out ? "udp dport 123" : "ct state established,related", alt);
	free(tn);
	free(cn);
	free(where);
	free(what);
	free(ipt);
	free(alt);
	return msg;
}

/* Of two walks that drop, the one to report: an explicit rule before the
 * policy, the earlier rule before the later. */
static bool better(const struct walk *a, const struct walk *b)
{
	if (b->o != DROPPED)
		return true;
	if (!a->rule || !b->rule)
		return a->rule && !b->rule;
	return a->rule < b->rule;
}

static void check_chain(const struct hostfw_table *t, const struct ir_chain *c, unsigned wanted,
			struct hostfw_findings *out)
{
	static const struct { unsigned fam; uint32_t nfproto; } fams[] = {
		{ HOSTFW_V4, IR_NFPROTO_IPV4 }, { HOSTFW_V6, IR_NFPROTO_IPV6 },
	};
	uint32_t ct[2];
	size_t n_ct = chain_states(c, ct);
	unsigned check = wanted & table_families(t->family), dropped = 0;
	struct walk worst = { PASSES, 0, 0, 0 };
	struct hostfw_finding *f;

	for (size_t i = 0; i < ARRAY_SIZE(fams); i++) {
		if (!(check & fams[i].fam))
			continue;
		for (size_t j = 0; j < n_ct; j++) {
			struct pkt p = { c->hook, fams[i].nfproto, ct[j] };
			struct walk w = walk_chain(c, t->truncated, &p);

			if (w.o == UNDECIDED)
				out->truncated = true;
			if (w.o != DROPPED)
				continue;
			dropped |= fams[i].fam;
			if (better(&w, &worst))
				worst = w;
		}
	}
	if (!dropped)
		return;
	xgrow((void **)&out->v, &out->cap, out->n, sizeof(*out->v));
	f = &out->v[out->n++];
	memset(f, 0, sizeof(*f));
	f->family = t->family;
	f->table = xstrdup(t->rs->table);
	f->chain = xstrdup(c->name);
	f->hook = c->hook;
	f->families = dropped;
	f->rule = worst.rule;
	f->handle = worst.handle;
	f->unsure = worst.unsure;
	f->msg = (t->legacy ? legacy_msg : finding_msg)(t->family, t->rs->table, c, &worst,
							 dropped, wanted);
}

void hostfw_check(const struct hostfw *h, unsigned families, struct hostfw_findings *out)
{
	memset(out, 0, sizeof(*out));
	out->truncated = h->truncated;
	for (size_t i = 0; i < h->n; i++)
		for (size_t j = 0; j < h->v[i].rs->n_chains; j++)
			check_chain(&h->v[i], &h->v[i].rs->chains[j], families, out);
}
