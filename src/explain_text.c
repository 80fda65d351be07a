/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The evaluator's words: each match as "what the rule asks (what the packet
 * has)", what each compiled rule is for (by the compiler's stable rule
 * ids), the near misses, and what could not be understood. */
#include "explain_int.h"
#include "ntpwall/render.h"
#include "ntpwall/util.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *explain_verdict_name(enum explain_verdict v)
{
	static const char *const names[] = { "accept", "drop", "reject", "continue", "unknown" };

	return v < ARRAY_SIZE(names) ? names[v] : "?";
}

const char *explain_dir_name(enum explain_dir d)
{
	return d == EXPLAIN_DIR_IN ? "in" : d == EXPLAIN_DIR_OUT ? "out" : "";
}

const char *explain_mode_name(unsigned mode)
{
	static const char *const names[] = {
		"reserved", "symmetric active", "symmetric passive", "client", "server",
		"broadcast", "control", "private",
	};

	return mode < ARRAY_SIZE(names) ? names[mode] : "?";
}

/* By the ids compile_rules.c gives; a longer id before its prefix. */
static const struct {
	const char *id, *why;
} whys[] = {
	{ "loopback", "loopback traffic is not filtered" },
	{ "restrict-ignore", "the source is in restrict.ignore" },
	{ "restrict-version", "this NTP version is not in restrict.version" },
	{ "restrict-noquery-mode7", "mode 7 (private) is not served (restrict.noquery)" },
	{ "restrict-noquery", "mode 6 (control) and 7 (private) queries are not served "
	  "(restrict.noquery)" },
	{ "restrict-nomodify-mode7", "mode 7 (private) is refused (restrict.nomodify)" },
	{ "restrict-nomodify", "mode-6 write requests are refused (restrict.nomodify)" },
	{ "restrict-nopeer", "symmetric active (mode 1) from a host that is not a peer "
	  "(restrict.nopeer)" },
	{ "restrict-noserve", "time is not served (restrict.noserve)" },
	{ "ingress-upstreams", "a server's reply from a trusted upstream" },
	{ "ingress-peers", "symmetric mode with a peer" },
	{ "ingress-nts", "NTS-KE from an NTS upstream" },
	{ "egress-upstreams", "a request to a trusted upstream" },
	{ "egress-peers", "symmetric mode with a peer" },
	{ "egress-nts", "NTS-KE to an NTS upstream" },
	{ "serve-clients-other", "a mode the restrict flags leave open to clients" },
	{ "serve-clients", "a request from a served client, within its rate" },
	{ "serve-ratelimit", "a served client over its rate limit, or one the full meter "
	  "cannot track" },
	{ "serve-reply-other", "an answer to a served client in a mode the restrict flags "
	  "leave open" },
	{ "serve-reply", "a reply to a served client" },
	{ "query-from", "a mode 6 query from restrict.query_from" },
	{ "query-reply", "a mode 6 answer to restrict.query_from" },
	{ "notrack-clients", "client requests bypass conntrack (serve.notrack)" },
	{ "notrack-reply", "replies to clients bypass conntrack (serve.notrack)" },
	{ "otherwise-nts", "no rule above allows this NTS-KE traffic (otherwise)" },
	{ "otherwise", "no rule above allows it: the rest of UDP port 123 (otherwise)" },
};

const char *explain_rule_why(const char *comment)
{
	if (!comment)
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(whys); i++) {
		size_t n = strlen(whys[i].id);
		const char *rest = comment + n;

		if (strncmp(comment, whys[i].id, n))
			continue;
		/* What may follow an id: -dport/-sport, the family, @ifname. */
		if (!strncmp(rest, "-dport", 6) || !strncmp(rest, "-sport", 6))
			rest += 6;
		if (*rest == '4' || *rest == '6')
			rest++;
		if (!*rest || *rest == '@')
			return whys[i].why;
	}
	return NULL;
}

/* Bits as "3, 4" (shift: value of bit 0). */
static void bits_text(char *buf, size_t size, uint32_t bits)
{
	size_t len = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < 32 && len < size; i++)
		if (bits & (1u << i))
			len += (size_t)snprintf(buf + len, size - len, "%s%u", len ? ", " : "", i);
}

static const char *ct_name(uint32_t bit)
{
	switch (bit) {
	case IR_CT_INVALID:
		return "invalid";
	case IR_CT_ESTABLISHED:
		return "established";
	case IR_CT_RELATED:
		return "related";
	case IR_CT_NEW:
		return "new";
	case IR_CT_UNTRACKED:
		return "untracked";
	}
	return "?";
}

static void ct_text(char *buf, size_t size, uint32_t bits)
{
	size_t len = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < 32 && len < size; i++)
		if (bits & (1u << i))
			len += (size_t)snprintf(buf + len, size - len, "%s%s", len ? "," : "",
						ct_name(1u << i));
}

static const char *unit_name(uint32_t s)
{
	return s == 60 ? "minute" : s == 3600 ? "hour" : s == 86400 ? "day" : "second";
}

static char *duration(uint64_t ms)
{
	if (ms % 3600000 == 0)
		return xasprintf("%" PRIu64 "h", ms / 3600000);
	if (ms % 60000 == 0)
		return xasprintf("%" PRIu64 "m", ms / 60000);
	return xasprintf("%" PRIu64 "s", ms / 1000);
}

/* ", in it as ELEMENT (from ORIGIN; expires ...)" or ", not in it". */
static char *set_text(const struct explain_walk *w, const char *set, const struct addr *a)
{
	const struct ir_set *s = ir_set_find(w->rs, set);
	const struct ir_elem *e = s ? explain_set_lookup(s, a) : NULL;
	char buf[INET6_ADDRSTRLEN], as[INET6_ADDRSTRLEN + 8] = "";
	uint64_t timeout;
	char *t, *out;

	if (!s)
		return xstrdup(", but the ruleset has no such set");
	if (!e)
		return xstrdup(", not in it");
	if ((s->flags & IR_SET_INTERVAL) && e->prefix_len != (a->family == AF_INET ? 32u : 128u))
		snprintf(as, sizeof(as), " as %s/%u", addr_str(&e->addr, buf, sizeof(buf)),
			 e->prefix_len);
	timeout = e->timeout_ms ? e->timeout_ms : s->timeout_ms;
	t = timeout ? duration(timeout) : NULL;
	if (e->comment && t)
		out = xasprintf(", in it%s (from %s; expires %s after the last apply or refresh "
				"unless renewed)", as, e->comment, t);
	else if (e->comment)
		out = xasprintf(", in it%s (from %s)", as, e->comment);
	else if (t)
		out = xasprintf(", in it%s (expires %s after the last apply or refresh unless "
				"renewed)", as, t);
	else
		out = xasprintf(", in it%s", as);
	free(t);
	return out;
}

static char *addr_text(const struct explain_walk *w, const struct ir_match *m, const char *neg)
{
	bool src = m->type == IR_MATCH_SADDR || m->type == IR_MATCH_SADDR_SET;
	const struct addr *a = src ? &w->pkt->src : &w->pkt->dst;
	char buf[INET6_ADDRSTRLEN], pbuf[INET6_ADDRSTRLEN];
	char *extra, *out;

	addr_str(a, buf, sizeof(buf));
	if (m->type == IR_MATCH_SADDR || m->type == IR_MATCH_DADDR)
		return xasprintf("%s %sin %s/%u (the packet's: %s)", src ? "source" : "destination",
				 neg, addr_str(&m->u.prefix.addr, pbuf, sizeof(pbuf)),
				 m->u.prefix.len, buf);
	extra = set_text(w, m->u.set, a);
	out = xasprintf("%s %sin @%s (the packet's: %s%s)", src ? "source" : "destination", neg,
			m->u.set, buf, extra);
	free(extra);
	return out;
}

static char *iface_text(const struct explain_walk *w, const struct ir_match *m, const char *neg)
{
	bool in = m->type == IR_MATCH_IIFNAME;
	const char *has = (in ? w->pkt->dir == EXPLAIN_DIR_IN : w->pkt->dir == EXPLAIN_DIR_OUT) ?
			  w->pkt->ifname : NULL;

	return xasprintf("%s interface %s\"%s\" (the packet's: %s)", in ? "input" : "output", neg,
			 m->u.ifname, !has ? "none in this direction" :
			 has[0] ? has : "one no rule names");
}

static char *rate_text(const struct ir_match *m)
{
	const struct ir_limit *l = &m->u.limit;

	return xasprintf("%s the per-source rate limit of @%s (%" PRIu32 "/%s, burst %" PRIu32
			 " packets): subject to the rate limit, assumed %s", m->negate ? "within" :
			 "over", l->set, l->rate, unit_name(l->unit_s), l->burst,
			 m->negate ? "within it (a new source is)" : "not over it");
}

static char *limit_text(const struct ir_match *m)
{
	return xasprintf("%s %" PRIu32 "/%s, burst %" PRIu32 " packets, one bucket for every "
			 "packet of the rule: assumed %s", m->negate ? "over" : "within",
			 m->u.rate.rate, unit_name(m->u.rate.unit_s), m->u.rate.burst,
			 m->negate ? "not over it" : "within it");
}

char *explain_match_text(const struct explain_walk *w, const struct ir_match *m)
{
	const struct explain_packet *p = w->pkt;
	const char *neg = m->negate ? "not " : "";
	char b[160], c[32];

	switch (m->type) {
	case IR_MATCH_IIFNAME:
	case IR_MATCH_OIFNAME:
		return iface_text(w, m, neg);
	case IR_MATCH_NFPROTO:
		return xasprintf("%s%s (the packet: %s)", neg,
				 m->u.num == IR_NFPROTO_IPV6 ? "IPv6" : "IPv4",
				 p->src.family == AF_INET6 ? "IPv6" : "IPv4");
	case IR_MATCH_L4PROTO:
		return xasprintf("%s%s (the packet: UDP)", neg, m->u.num == IPPROTO_UDP ? "UDP" :
				 m->u.num == IPPROTO_TCP ? "TCP" : "another protocol");
	case IR_MATCH_SPORT:
	case IR_MATCH_DPORT:
		return xasprintf("%s port %s%" PRIu32 " (the packet's: %u)",
				 m->type == IR_MATCH_SPORT ? "source" : "destination", neg, m->u.num,
				 m->type == IR_MATCH_SPORT ? p->sport : p->dport);
	case IR_MATCH_SADDR:
	case IR_MATCH_DADDR:
	case IR_MATCH_SADDR_SET:
	case IR_MATCH_DADDR_SET:
		return addr_text(w, m, neg);
	case IR_MATCH_CT_STATE:
		ct_text(b, sizeof(b), m->u.bits);
		return xasprintf("ct state %s%s (the packet's: %s%s)", neg, b, ct_name(w->ct),
				 w->ct != p->ct ? ", by notrack" : "");
	case IR_MATCH_NTP_MODE:
		bits_text(b, sizeof(b), m->u.bits);
		return xasprintf("NTP mode %s%s (the packet's: %u, %s)", neg, b, p->mode,
				 explain_mode_name(p->mode));
	case IR_MATCH_NTP_VERSION:
		bits_text(b, sizeof(b), m->u.bits);
		return xasprintf("NTP version %s%s (the packet's: %u)", neg, b, p->version);
	case IR_MATCH_NTP_OPCODE:
		bits_text(b, sizeof(b), m->u.bits);
		snprintf(c, sizeof(c), "%u", p->mode == 6 ? p->opcode : 0);
		return xasprintf("second byte & 0x1f (mode-6 opcode) %s%s (the packet's: %s%s)", neg,
				 b, c, p->mode == 6 ? "" : ", the stratum of a request");
	case IR_MATCH_RATE_OVER:
		return rate_text(m);
	case IR_MATCH_LIMIT:
		return limit_text(m);
	default:
		return xasprintf("a match of type %d, which explain does not understand",
				 (int)m->type);
	}
}

static void add_reason(struct explain_result *r, char *text, bool held, bool assumed)
{
	xgrow((void **)&r->reasons, &r->cap_reasons, r->n_reasons, sizeof(*r->reasons));
	r->reasons[r->n_reasons++] = (struct explain_reason){ text, held, assumed };
}

char *explain_chain_label(const struct ir_ruleset *rs, const struct explain_result *r,
			  const char *chain, size_t rule)
{
	char in[32], main[32];	/* xt_chainlabel */

	if (!r->iptables || render_iptables_chain(rs, r->pkt.src.family, chain, rule, in,
						     sizeof(in), main, sizeof(main)) < 0)
		return xasprintf("chain %s", chain);
	if (!strcmp(in, main))
		return xasprintf("iptables chain %s", in);
	return xasprintf("iptables chain %s, reached from %s", in, main);
}

/* "rule 3 \"id\" of chain input"; an iptables wall's rules are named by
 * their id alone (the number is the model's, not the iptables chain's). */
static char *rule_ref(const struct ir_ruleset *rs, const struct explain_result *r,
		      const struct ir_chain *c, size_t rule, bool with_comment)
{
	const char *comment = c->rules[rule].comment ? c->rules[rule].comment : "";
	char *where = explain_chain_label(rs, r, c->name, rule);
	char *s;

	if (r->iptables)
		s = xasprintf("rule \"%s\" of %s", comment, where);
	else if (with_comment)
		s = xasprintf("rule %zu \"%s\" of %s", rule + 1, comment, where);
	else
		s = xasprintf("rule %zu of %s", rule + 1, where);
	free(where);
	return s;
}

static void say_rule(struct explain_result *r, const struct explain_walk *w)
{
	const struct ir_chain *c = ir_chain_find(w->rs, r->out.chain);
	const struct ir_rule *rule;

	if (!c || r->out.rule >= c->n_rules)
		return;
	rule = &c->rules[r->out.rule];
	for (size_t k = 0; k < rule->n_matches; k++)
		add_reason(r, explain_match_text(w, &rule->matches[k]), true,
			   rule->matches[k].type == IR_MATCH_RATE_OVER ||
			   rule->matches[k].type == IR_MATCH_LIMIT);
}

static void say_near(struct explain_result *r, const struct explain_walk *w,
		     const struct explain_near *n)
{
	const struct ir_rule *rule = &n->chain->rules[n->rule];
	char *m = explain_match_text(w, &rule->matches[n->match]);

	char *ref = rule_ref(w->rs, r, n->chain, n->rule, true);

	add_reason(r, xasprintf("%s would %s, but fails: %s", ref, ir_verdict_name(rule->verdict),
				m), false, false);
	free(ref);
	free(m);
}

void explain_say_reasons(struct explain_result *r, const struct explain_walk *w)
{
	if (r->out.chain && r->out.chain_policy) {
		char *where = explain_chain_label(w->rs, r, r->out.chain, SIZE_MAX);

		add_reason(r, xasprintf("no rule of %s matched; its policy is drop", where), true,
			   false);
		free(where);
	} else if (r->out.chain) {
		say_rule(r, w);
	}
	for (size_t i = 0, shown = 0; i < w->n_near && shown < EXPLAIN_NEAR_SHOWN; i++) {
		const struct explain_near *n = &w->near[i];

		/* Only rules that would have sent the packet elsewhere. */
		if ((n->chain->rules[n->rule].verdict == IR_VERDICT_ACCEPT) !=
		    (r->out.verdict == EXPLAIN_ACCEPT)) {
			say_near(r, w, n);
			shown++;
		}
	}
}

void explain_say_unknown(struct explain_result *r, const struct explain_walk *w)
{
	const struct ir_rule *u = w->unknown_rule;
	const struct ir_chain *c;
	char *ref;

	if (w->unknown_chain) {
		r->unknown = xasprintf("chain %s is of type %s: explain models filter chains only",
				       w->unknown_chain->name, w->unknown_chain->type);
		return;
	}
	if (!u)
		return;
	c = ir_chain_find(w->rs, r->out.chain);
	if (!c || r->out.rule >= c->n_rules)
		return;
	ref = rule_ref(w->rs, r, c, r->out.rule, false);
	if (u->unknown) {
		r->unknown = xasprintf("%s holds what explain does not understand: %s", ref,
				       u->unknown);
		free(ref);
		return;
	}
	for (size_t k = 0; k < u->n_matches; k++) {
		if (explain_match(w, &u->matches[k]) == EXPLAIN_M_UNKNOWN) {
			char *t = explain_match_text(w, &u->matches[k]);

			r->unknown = xasprintf("%s: %s", ref, t);
			free(t);
			break;
		}
	}
	free(ref);
}
