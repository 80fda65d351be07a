/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What a described packet leaves open, filled in from the ruleset and
 * the packet itself, each choice said in words (ntpwall(8), explain):
 * direction, conntrack state, interface, the mode-6 opcode. */
#include "explain_int.h"
#include "ntpwall/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* ntpq's "readvar", the query most sent. */
#define DEFAULT_OPCODE 2

uint32_t explain_nfproto(const struct explain_packet *p)
{
	return p->src.family == AF_INET6 ? IR_NFPROTO_IPV6 : IR_NFPROTO_IPV4;
}

bool explain_on_device(const struct ir_chain *c, const struct explain_packet *p)
{
	size_t n = strlen(p->ifname);
	const char *d = c->device;

	/* c->device: names separated by single spaces. */
	while (n && d && *d) {
		size_t len = strcspn(d, " ");

		if (len == n && !strncmp(d, p->ifname, n))
			return true;
		d += len + (d[len] == ' ');
	}
	return false;
}

static void assume(struct explain_result *r, char *text)
{
	xgrow((void **)&r->assumed, &r->cap_assumed, r->n_assumed, sizeof(*r->assumed));
	r->assumed[r->n_assumed++] = text;
}

/* The set (or "a prefix of the rules") by which m, a positive match on
 * addresses of kind t_set/t_pre, holds a; NULL when it does not. */
static const char *holds(const struct ir_ruleset *rs, const struct ir_match *m,
			 enum ir_match_type t_set, enum ir_match_type t_pre,
			 const struct addr *a)
{
	const struct ir_set *s;

	if (m->negate)
		return NULL;
	if (m->type == t_set)
		return (s = ir_set_find(rs, m->u.set)) && explain_set_lookup(s, a) ? m->u.set : NULL;
	if (m->type == t_pre) {
		struct policy_prefix pre = { .addr = m->u.prefix.addr, .len = m->u.prefix.len };

		if (pre.addr.family == a->family && policy_prefix_contains(&pre, a))
			return "a prefix of the rules";
	}
	return NULL;
}

/* The first set or prefix of the path's rules in direction dir that
 * holds a as a source (in) or destination (out). */
static const char *held_by(const struct ir_ruleset *rs, enum explain_dir dir,
			   const struct addr *a)
{
	struct explain_packet p = { .src = *a, .dir = dir };
	const struct ir_chain **path = xcalloc(rs->n_chains + 1, sizeof(*path));
	size_t n = explain_path(rs, &p, path);
	enum ir_match_type t_set = dir == EXPLAIN_DIR_IN ? IR_MATCH_SADDR_SET : IR_MATCH_DADDR_SET;
	enum ir_match_type t_pre = dir == EXPLAIN_DIR_IN ? IR_MATCH_SADDR : IR_MATCH_DADDR;
	const char *found = NULL;

	for (size_t i = 0; i < n && !found; i++)
		for (size_t j = 0; j < path[i]->n_rules && !found; j++)
			for (size_t k = 0; k < path[i]->rules[j].n_matches && !found; k++)
				found = holds(rs, &path[i]->rules[j].matches[k], t_set, t_pre, a);
	free(path);
	return found;
}

static int complete_dir(const struct ir_ruleset *rs, struct explain_packet *p,
			struct explain_result *r, char **err)
{
	const char *in = held_by(rs, EXPLAIN_DIR_IN, &p->src);
	const char *out = held_by(rs, EXPLAIN_DIR_OUT, &p->dst);
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];

	addr_str(&p->src, s, sizeof(s));
	addr_str(&p->dst, d, sizeof(d));
	if (!in == !out) {
		*err = in ? xasprintf("cannot tell the direction: %s is in %s (inbound) and %s "
				      "in %s (outbound); give --direction in|out", s, in, d, out) :
			    xasprintf("cannot tell the direction: neither %s nor %s is in a set "
				      "of the rules; give --direction in|out", s, d);
		return -EINVAL;
	}
	p->dir = in ? EXPLAIN_DIR_IN : EXPLAIN_DIR_OUT;
	assume(r, in ? xasprintf("direction in: the source %s is in %s", s, in) :
		       xasprintf("direction out: the destination %s is in %s", d, out));
	return 0;
}

static void complete_state(struct explain_packet *p, struct explain_result *r)
{
	bool reply = p->mode == 2 || p->mode == 4 || (p->sport == 123 && p->dport != 123);

	p->ct = reply ? IR_CT_ESTABLISHED : IR_CT_NEW;
	assume(r, reply ? xasprintf("state established: a reply (%s)", p->mode == 2 || p->mode == 4 ?
				    explain_mode_name(p->mode) : "from port 123 to another port") :
			  xstrdup("state new: not a reply"));
}

/* The first interface other than lo the path's rules name. */
static const char *named_iface(const struct ir_ruleset *rs, const struct explain_packet *p)
{
	enum ir_match_type t = p->dir == EXPLAIN_DIR_IN ? IR_MATCH_IIFNAME : IR_MATCH_OIFNAME;
	const struct ir_chain **path = xcalloc(rs->n_chains + 1, sizeof(*path));
	size_t n = explain_path(rs, p, path);
	const char *found = NULL;

	for (size_t i = 0; i < n && !found; i++)
		for (size_t j = 0; j < path[i]->n_rules && !found; j++)
			for (size_t k = 0; k < path[i]->rules[j].n_matches && !found; k++) {
				const struct ir_match *m = &path[i]->rules[j].matches[k];

				if (m->type == t && strcmp(m->u.ifname, "lo"))
					found = m->u.ifname;
			}
	free(path);
	return found;
}

static void complete_iface(const struct ir_ruleset *rs, struct explain_packet *p,
			   struct explain_result *r)
{
	const char *s = addr_special(&p->src), *d = addr_special(&p->dst);
	const char *named;

	p->ifname_set = true;
	if ((s && !strcmp(s, "loopback")) || (d && !strcmp(d, "loopback"))) {
		snprintf(p->ifname, sizeof(p->ifname), "lo");
		assume(r, xstrdup("interface lo: a loopback address"));
		return;
	}
	named = named_iface(rs, p);
	p->ifname[0] = '\0';
	if (!named)
		return;
	snprintf(p->ifname, sizeof(p->ifname), "%s", named);
	assume(r, xasprintf("interface %s: the first the rules name", named));
}

int explain_complete(const struct ir_ruleset *rs, struct explain_packet *pkt,
		     struct explain_result *r, char **err)
{
	int ret;

	*err = NULL;
	if (pkt->src.family != pkt->dst.family) {
		*err = xstrdup("the source and destination are of different families");
		return -EINVAL;
	}
	if (pkt->dir == EXPLAIN_DIR_UNSET && (ret = complete_dir(rs, pkt, r, err)) < 0)
		return ret;
	if (!pkt->ct)
		complete_state(pkt, r);
	if (!pkt->ifname_set)
		complete_iface(rs, pkt, r);
	if (pkt->mode == 6 && !pkt->opcode_set) {
		pkt->opcode = DEFAULT_OPCODE;
		pkt->opcode_set = true;
		assume(r, xstrdup("opcode 2 (read variables), as ntpq sends"));
	}
	return 0;
}
