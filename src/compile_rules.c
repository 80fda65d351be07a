/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Compile stage, part two: the chains (doc/design.md "Rules"). Every rule
 * matches UDP/123 (or TCP/4460 for NTS) first, so the NTP payload matches
 * behind it read the NTP header (the transport header is 8 bytes), and so
 * nothing else is ever touched. In each chain: the loopback exemption, the
 * restrict drops, the accepts, and `otherwise` for the rest of UDP/123. */
#include "compile_int.h"
#include "ntpwall/util.h"

#include <netinet/in.h>
#include <string.h>

#define PORT_NTP 123
#define PORT_NTS_KE 4460	/* RFC 8915 s4 */

#define MODE(n) (1u << (n))
#define M_SYM_ACTIVE MODE(1)
#define M_SYM_PASSIVE MODE(2)
#define M_CLIENT MODE(3)
#define M_SERVER MODE(4)
#define M_CONTROL MODE(6)	/* ntpq */
#define M_PRIVATE MODE(7)	/* ntpdc, monlist */
/* ntpd checks the version of everything but modes 6 and 7, which
 * "intentionally use an early version" (ntp_proto.c receive()): ntpq and
 * check_ntp_peer send VN 2. */
#define M_VERSIONED (MODE(0) | MODE(1) | MODE(2) | MODE(3) | MODE(4) | MODE(5))

static const uint32_t cf_nfproto[CF_N] = { IR_NFPROTO_IPV4, IR_NFPROTO_IPV6 };

/* A new rule in c, with the interface match of the pass being built. id
 * names what the rule is for; with several interfaces it gets "@ifname". */
static struct ir_rule *rule(struct compile_ctx *cx, struct ir_chain *c, const char *id,
			    const struct loc *loc)
{
	struct ir_rule *r;

	if (cx->if_suffix) {
		char *s = xasprintf("%s@%s", id, cx->ifname);

		r = ir_rule_add(c, s, loc);
		free(s);
	} else {
		r = ir_rule_add(c, id, loc);
	}
	if (cx->ifname)
		ir_rule_match_ifname(r, c->hook == IR_HOOK_OUTPUT ? IR_MATCH_OIFNAME : IR_MATCH_IIFNAME,
				     cx->ifname);
	return r;
}

/* "<id>4" or "<id>6" into buf (ids are short literals). */
static const char *fam_id(char buf[48], const char *id, int f)
{
	snprintf(buf, 48, "%s%c", id, f == CF_V4 ? '4' : '6');
	return buf;
}

static void ports(struct ir_rule *r, uint32_t proto, uint32_t sport, uint32_t dport)
{
	ir_rule_match_num(r, IR_MATCH_L4PROTO, proto);
	if (sport)
		ir_rule_match_num(r, IR_MATCH_SPORT, sport);
	if (dport)
		ir_rule_match_num(r, IR_MATCH_DPORT, dport);
}

/* A rule for every family the policy filters: it needs a family match only
 * when the policy filters just one of the two. */
static void any_family(const struct compile_ctx *cx, struct ir_rule *r)
{
	if (cx->fam[CF_V4] != cx->fam[CF_V6])
		ir_rule_match_num(r, IR_MATCH_NFPROTO, cf_nfproto[cx->fam[CF_V4] ? CF_V4 : CF_V6]);
}

static void addr_set(struct ir_rule *r, int f, enum ir_match_type type, const char *set,
		     bool negate)
{
	ir_rule_match_num(r, IR_MATCH_NFPROTO, cf_nfproto[f]);
	ir_rule_match_set(r, type, set)->negate = negate;
}

static void bits(struct ir_rule *r, enum ir_match_type type, uint32_t b, bool negate)
{
	ir_rule_match_num(r, type, b)->negate = negate;
}

static void verdict(struct ir_rule *r, enum ir_verdict v)
{
	r->verdict = v;
}

static void loopback(struct compile_ctx *cx, struct ir_chain *c)
{
	static const char *const ids[2] = { "loopback-dport", "loopback-sport" };
	enum ir_match_type t = c->hook == IR_HOOK_OUTPUT ? IR_MATCH_OIFNAME : IR_MATCH_IIFNAME;

	/* Like ntpd's stock "restrict 127.0.0.1 / ::1": local tools (ntpq,
	 * monitoring plugins) talking to the local daemon are not filtered. */
	if (cx->ifname)
		return;
	for (int i = 0; i < 2; i++) {
		struct ir_rule *r = rule(cx, c, ids[i], NULL);

		ir_rule_match_ifname(r, t, "lo");
		ports(r, IPPROTO_UDP, i ? PORT_NTP : 0, i ? 0 : PORT_NTP);
		any_family(cx, r);
		verdict(r, IR_VERDICT_ACCEPT);
	}
}

static void restrict_ignore(struct compile_ctx *cx, const struct loc *loc)
{
	char id[48];

	for (int f = 0; f < CF_N; f++) {
		if (!cx->ignore[f])
			continue;
		for (int i = 0; i < 2; i++) {
			struct ir_rule *r = rule(cx, cx->in, fam_id(id, i ? "restrict-ignore-sport"
								    : "restrict-ignore-dport", f), loc);

			ports(r, IPPROTO_UDP, i ? PORT_NTP : 0, i ? 0 : PORT_NTP);
			addr_set(r, f, IR_MATCH_SADDR_SET, cx->ignore[f], false);
			verdict(r, IR_VERDICT_DROP);
		}
	}
}

/* Versions outside the list, in both directions (server replies too, as
 * ntpd's "restrict version" does); VN 0 and 5-7 are never allowed. */
static void restrict_version(struct compile_ctx *cx, const struct loc *loc)
{
	for (int i = 0; i < 2; i++) {
		struct ir_rule *r = rule(cx, cx->in, i ? "restrict-version-sport"
						       : "restrict-version-dport", loc);

		ports(r, IPPROTO_UDP, i ? PORT_NTP : 0, i ? 0 : PORT_NTP);
		any_family(cx, r);
		bits(r, IR_MATCH_NTP_MODE, M_VERSIONED, false);
		bits(r, IR_MATCH_NTP_VERSION, cx->p->restrict_.versions, true);
		verdict(r, IR_VERDICT_DROP);
	}
}

static bool has_any(const char *const sets[CF_N])
{
	return sets[CF_V4] || sets[CF_V6];
}

/* Drop `modes` sent to port 123 by everyone but the members of sets[f];
 * one rule for all families when no family has such a set. */
static void drop_except(struct compile_ctx *cx, const char *id, const char *const sets[CF_N],
			uint32_t modes, const struct loc *loc)
{
	char fid[48];

	if (!has_any(sets)) {
		struct ir_rule *r = rule(cx, cx->in, id, loc);

		ports(r, IPPROTO_UDP, 0, PORT_NTP);
		any_family(cx, r);
		bits(r, IR_MATCH_NTP_MODE, modes, false);
		verdict(r, IR_VERDICT_DROP);
		return;
	}
	for (int f = 0; f < CF_N; f++) {
		struct ir_rule *r;

		if (!cx->fam[f])
			continue;
		r = rule(cx, cx->in, fam_id(fid, id, f), loc);
		ports(r, IPPROTO_UDP, 0, PORT_NTP);
		if (sets[f])
			addr_set(r, f, IR_MATCH_SADDR_SET, sets[f], true);
		else
			ir_rule_match_num(r, IR_MATCH_NFPROTO, cf_nfproto[f]);
		bits(r, IR_MATCH_NTP_MODE, modes, false);
		verdict(r, IR_VERDICT_DROP);
	}
}

static void drop_modes(struct compile_ctx *cx, const char *id, uint32_t modes, uint32_t opcodes,
		       const struct loc *loc)
{
	struct ir_rule *r = rule(cx, cx->in, id, loc);

	ports(r, IPPROTO_UDP, 0, PORT_NTP);
	any_family(cx, r);
	bits(r, IR_MATCH_NTP_MODE, modes, false);
	if (opcodes)
		bits(r, IR_MATCH_NTP_OPCODE, opcodes, false);
	verdict(r, IR_VERDICT_DROP);
}

/* The restrict flags, each its own rule so its counter tells what it
 * stopped; they come before every accept. */
static void restricts(struct compile_ctx *cx)
{
	const struct policy_restrict *rs = &cx->p->restrict_;
	const struct loc *loc = &rs->loc;

	restrict_ignore(cx, loc);
	restrict_version(cx, rs->version_loc.line ? &rs->version_loc : loc);
	if (rs->noquery) {
		if (has_any(cx->query)) {
			drop_except(cx, "restrict-noquery", cx->query, M_CONTROL, &rs->noquery_loc);
			drop_modes(cx, "restrict-noquery-mode7", M_PRIVATE, 0, &rs->noquery_loc);
		} else {
			drop_modes(cx, "restrict-noquery", M_CONTROL | M_PRIVATE, 0,
				   &rs->noquery_loc);
		}
	}
	if (rs->nomodify) {
		drop_modes(cx, "restrict-nomodify", M_CONTROL, COMPILE_NTP_WRITE_OPCODES, loc);
		drop_modes(cx, "restrict-nomodify-mode7", M_PRIVATE, 0, loc);
	}
	if (rs->nopeer)
		drop_except(cx, "restrict-nopeer", cx->peers, M_SYM_ACTIVE, loc);
	if (rs->noserve)
		drop_modes(cx, "restrict-noserve", M_CLIENT, 0, loc);
}

/* One accept per family that has the set: proto sport->dport, address set
 * (source on input, destination on output), modes, conntrack states. */
static void accept_set(struct compile_ctx *cx, struct ir_chain *c, const char *id,
		       const char *const sets[CF_N], uint32_t proto, uint32_t sport,
		       uint32_t dport, uint32_t modes, uint32_t ct, const struct loc *loc)
{
	enum ir_match_type t = c->hook == IR_HOOK_OUTPUT ? IR_MATCH_DADDR_SET : IR_MATCH_SADDR_SET;
	char fid[48];

	for (int f = 0; f < CF_N; f++) {
		struct ir_rule *r;

		if (!sets[f])
			continue;
		r = rule(cx, c, fam_id(fid, id, f), loc);
		ports(r, proto, sport, dport);
		addr_set(r, f, t, sets[f], false);
		if (modes)
			bits(r, IR_MATCH_NTP_MODE, modes, false);
		if (ct)
			bits(r, IR_MATCH_CT_STATE, ct, false);
		verdict(r, IR_VERDICT_ACCEPT);
	}
}

/* Within the per-source rate, and tracked: the limit is part of the
 * accept, so a source the meter cannot take (full: a flood of spoofed
 * sources) is not served. Fail closed, unlike a drop "over the rate",
 * which a full meter skips. */
static void rate_within(struct compile_ctx *cx, struct ir_rule *r, int f)
{
	const struct policy_serve *s = &cx->p->serve;
	struct ir_match *m;

	if (!cx->rl[f])
		return;
	m = ir_rule_add_match(r, IR_MATCH_RATE_OVER);
	m->negate = true;
	m->u.limit.set = xstrdup(cx->rl[f]);
	m->u.limit.rate = s->per_source.count;
	m->u.limit.unit_s = s->per_source.unit;
	m->u.limit.burst = s->burst;
	m->u.limit.prefix_len = f == CF_V6 && s->ipv6_prefix < 128 ? s->ipv6_prefix : 0;
}

/* Client requests of the given modes, within the rate. */
static void serve_accept(struct compile_ctx *cx, const char *id, uint32_t modes, uint32_t ct)
{
	const struct loc *loc = &cx->p->serve.loc;
	char fid[48];

	for (int f = 0; f < CF_N; f++) {
		struct ir_rule *r;

		if (!cx->clients[f])
			continue;
		r = rule(cx, cx->in, fam_id(fid, id, f), loc);
		ports(r, IPPROTO_UDP, 0, PORT_NTP);
		addr_set(r, f, IR_MATCH_SADDR_SET, cx->clients[f], false);
		bits(r, IR_MATCH_NTP_MODE, modes, false);
		bits(r, IR_MATCH_CT_STATE, ct, false);
		rate_within(cx, r, f);
		verdict(r, IR_VERDICT_ACCEPT);
	}
}

/* What the accepts above did not take of the clients' requests: over
 * the rate, or not tracked. Dropped here so the counter says so. */
static void rate_drop(struct compile_ctx *cx, uint32_t modes)
{
	const struct loc *loc = &cx->p->serve.loc;
	char fid[48];

	for (int f = 0; f < CF_N; f++) {
		struct ir_rule *r;

		if (!cx->rl[f])
			continue;
		r = rule(cx, cx->in, fam_id(fid, "serve-ratelimit", f), loc);
		ports(r, IPPROTO_UDP, 0, PORT_NTP);
		addr_set(r, f, IR_MATCH_SADDR_SET, cx->clients[f], false);
		bits(r, IR_MATCH_NTP_MODE, modes, false);
		verdict(r, IR_VERDICT_DROP);
	}
}

/* Modes a client may send besides 3, by the restrict flags (ntpd
 * semantics), and the modes of our answers to them. */
static uint32_t client_extra_modes(const struct policy_restrict *rs, bool reply)
{
	uint32_t m = 0;

	if (!rs->noquery)
		m |= M_CONTROL | (rs->nomodify ? 0 : M_PRIVATE);
	if (!rs->nopeer)
		m |= reply ? M_SYM_PASSIVE : M_SYM_ACTIVE;
	return m;
}

static void serve_in(struct compile_ctx *cx)
{
	const struct policy *p = cx->p;
	uint32_t extra = client_extra_modes(&p->restrict_, false);
	uint32_t ct = p->serve.notrack ? IR_CT_UNTRACKED : IR_CT_NEW | IR_CT_ESTABLISHED;

	if (!p->restrict_.noserve)
		serve_accept(cx, "serve-clients", M_CLIENT, ct);
	if (extra)
		serve_accept(cx, "serve-clients-other", extra, IR_CT_NEW | IR_CT_ESTABLISHED);
	accept_set(cx, cx->in, "query-from", cx->query, IPPROTO_UDP, 0, PORT_NTP, M_CONTROL,
		   IR_CT_NEW | IR_CT_ESTABLISHED, &p->restrict_.loc);
	rate_drop(cx, (p->restrict_.noserve ? 0 : M_CLIENT) | extra);
}

static void serve_out(struct compile_ctx *cx)
{
	const struct policy *p = cx->p;
	const struct loc *loc = &p->serve.loc;
	uint32_t extra = client_extra_modes(&p->restrict_, true);
	uint32_t ct = p->serve.notrack ? IR_CT_UNTRACKED : IR_CT_ESTABLISHED;

	if (!p->restrict_.noserve)
		accept_set(cx, cx->out, "serve-reply", cx->clients, IPPROTO_UDP, PORT_NTP, 0,
			   M_SERVER, ct, loc);
	if (extra)
		accept_set(cx, cx->out, "serve-reply-other", cx->clients, IPPROTO_UDP, PORT_NTP, 0,
			   extra, IR_CT_ESTABLISHED, loc);
	/* ntpq's answers go back out to the monitoring host. */
	accept_set(cx, cx->out, "query-reply", cx->query, IPPROTO_UDP, PORT_NTP, 0, M_CONTROL,
		   IR_CT_ESTABLISHED, &p->restrict_.loc);
}

/* otherwise: log drops too; its log rules come from compile_log.c. */
static void otherwise_verdict(const struct policy *p, struct ir_rule *r)
{
	verdict(r, p->otherwise == POLICY_OTHERWISE_REJECT ? IR_VERDICT_REJECT : IR_VERDICT_DROP);
}

static bool has_nts(const struct compile_ctx *cx)
{
	for (int f = 0; f < CF_N; f++)
		if (cx->nts[f])
			return true;
	return false;
}

/* Everything else to or from port 123; and, when the policy names NTS
 * upstreams, NTS-KE (TCP/4460) to anyone else, else the accepts above
 * would open nothing and trust no one in particular. Only the client side
 * of NTS-KE: a host that serves it is none of ntpwall's business. */
static void otherwise(struct compile_ctx *cx, struct ir_chain *c, bool out)
{
	for (int i = 0; i < 2; i++) {
		struct ir_rule *r = rule(cx, c, i ? "otherwise-sport" : "otherwise-dport", NULL);

		ports(r, IPPROTO_UDP, i ? PORT_NTP : 0, i ? 0 : PORT_NTP);
		any_family(cx, r);
		otherwise_verdict(cx->p, r);
	}
	if (has_nts(cx)) {
		struct ir_rule *r = rule(cx, c, "otherwise-nts", NULL);

		ports(r, IPPROTO_TCP, out ? 0 : PORT_NTS_KE, out ? PORT_NTS_KE : 0);
		any_family(cx, r);
		otherwise_verdict(cx->p, r);
	}
}

static void input_chain(struct compile_ctx *cx)
{
	const struct policy *p = cx->p;
	const struct loc *up = p->n_upstreams ? &p->upstreams[0].loc : NULL;
	const struct loc *peer = p->n_peers ? &p->peers[0].loc : NULL;

	loopback(cx, cx->in);
	restricts(cx);
	/* RFC 8633 s5.1: of what comes from a server, only its replies. */
	accept_set(cx, cx->in, "ingress-upstreams", cx->upstreams, IPPROTO_UDP, PORT_NTP, 0,
		   M_SERVER, IR_CT_ESTABLISHED, up);
	accept_set(cx, cx->in, "ingress-peers", cx->peers, IPPROTO_UDP, PORT_NTP, PORT_NTP,
		   M_SYM_ACTIVE | M_SYM_PASSIVE, IR_CT_NEW | IR_CT_ESTABLISHED, peer);
	accept_set(cx, cx->in, "ingress-nts", cx->nts, IPPROTO_TCP, PORT_NTS_KE, 0, 0,
		   IR_CT_ESTABLISHED, up);
	serve_in(cx);
	otherwise(cx, cx->in, false);
}

/* The client's source port is not matched: chrony, SNTP clients and the
 * prober use ephemeral ports (RFC 9109); only ntpd sends from 123. */
static void output_chain(struct compile_ctx *cx)
{
	const struct policy *p = cx->p;
	const struct loc *up = p->n_upstreams ? &p->upstreams[0].loc : NULL;
	const struct loc *peer = p->n_peers ? &p->peers[0].loc : NULL;

	loopback(cx, cx->out);
	accept_set(cx, cx->out, "egress-upstreams", cx->upstreams, IPPROTO_UDP, 0, PORT_NTP,
		   M_CLIENT, IR_CT_NEW | IR_CT_ESTABLISHED, up);
	accept_set(cx, cx->out, "egress-peers", cx->peers, IPPROTO_UDP, PORT_NTP, PORT_NTP,
		   M_SYM_ACTIVE | M_SYM_PASSIVE, IR_CT_NEW | IR_CT_ESTABLISHED, peer);
	accept_set(cx, cx->out, "egress-nts", cx->nts, IPPROTO_TCP, 0, PORT_NTS_KE, 0,
		   IR_CT_NEW | IR_CT_ESTABLISHED, up);
	serve_out(cx);
	otherwise(cx, cx->out, true);
}

/* serve.notrack: client requests (mode 3 in) and our replies (mode 4 out)
 * skip conntrack. Matching the mode keeps upstream and peer traffic that
 * happens to come from a client prefix tracked, which the stateful
 * ingress/egress rules need (ntpd's own queries run 123->123). */
static void raw_chains(struct compile_ctx *cx)
{
	const struct loc *loc = &cx->p->serve.loc;
	char fid[48];

	for (int f = 0; f < CF_N; f++) {
		struct ir_rule *r;

		if (!cx->clients[f])
			continue;
		r = rule(cx, cx->raw_pre, fam_id(fid, "notrack-clients", f), loc);
		ports(r, IPPROTO_UDP, 0, PORT_NTP);
		addr_set(r, f, IR_MATCH_SADDR_SET, cx->clients[f], false);
		bits(r, IR_MATCH_NTP_MODE, M_CLIENT, false);
		r->notrack = true;
		r = rule(cx, cx->raw_out, fam_id(fid, "notrack-reply", f), loc);
		ports(r, IPPROTO_UDP, PORT_NTP, 0);
		addr_set(r, f, IR_MATCH_DADDR_SET, cx->clients[f], false);
		bits(r, IR_MATCH_NTP_MODE, M_SERVER, false);
		r->notrack = true;
	}
}

void compile_chains(struct compile_ctx *cx)
{
	if (cx->raw_pre)
		raw_chains(cx);
	input_chain(cx);
	output_chain(cx);
}
