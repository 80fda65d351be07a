/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The matches and targets ntpwall's iptables rules use, each encoded the
 * way iptables-legacy 1.8.9 encodes it (revisions and sizes of
 * doc/iptables-notes.md §3, checked byte for byte against
 * iptables-legacy-restore by tests/netns/ipt.sh) and decoded back: udp/tcp,
 * multiport, ipv6header, u32 (one per NTP header field), conntrack,
 * hashlimit, limit, comment; RETURN/DROP/ACCEPT/jumps, REJECT, LOG, CT --notrack. */
#include "backend_ipt_int.h"
#include "ntpwall/util.h"

#include <errno.h>
#include <libiptc/libip6tc.h>
#include <libiptc/libiptc.h>
#include <linux/netfilter/xt_CT.h>
#include <linux/netfilter/xt_LOG.h>
#include <linux/netfilter/xt_comment.h>
#include <linux/netfilter/xt_conntrack.h>
#include <linux/netfilter/xt_hashlimit.h>
#include <linux/netfilter/xt_limit.h>
#include <linux/netfilter/xt_multiport.h>
#include <linux/netfilter/xt_tcpudp.h>
#include <linux/netfilter/xt_u32.h>
#include <linux/netfilter_ipv4/ipt_REJECT.h>
#include <linux/netfilter_ipv6/ip6t_REJECT.h>
#include <linux/netfilter_ipv6/ip6t_ipv6header.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

/* xt_LOG's default level: warning. */
#define LOG_LEVEL_WARNING 4
/* iptables' default hashlimit garbage collection interval, ms. */
#define HL_GC_INTERVAL 1000

/* An NTP header field behind the UDP header: shift and mask of the first
 * 32-bit word, and the highest value. */
static const struct {
	enum ir_match_type field;
	uint8_t shift, mask;
} ntp_fields[] = {
	{ IR_MATCH_NTP_MODE, 24, 0x7 },
	{ IR_MATCH_NTP_VERSION, 27, 0x7 },
	{ IR_MATCH_NTP_OPCODE, 16, 0x1f },
};

static void ports_encode(const struct bipt_rule *r, uint16_t spts[2], uint16_t dpts[2])
{
	spts[0] = r->sport_set ? r->sport : 0;
	spts[1] = r->sport_set ? r->sport : 0xffff;
	dpts[0] = r->dport_set ? r->dport : 0;
	dpts[1] = r->dport_set ? r->dport : 0xffff;
}

static int l4_encode(const struct bipt_fam *f, struct bipt_rule *r)
{
	uint8_t inv = (r->sport_neg ? XT_UDP_INV_SRCPT : 0) | (r->dport_neg ? XT_UDP_INV_DSTPT : 0);

	if (!r->sport_set && !r->dport_set)
		return 0;
	if (r->proto == IPPROTO_UDP) {
		struct xt_udp *u = bipt_entry_add_match(f, r, "udp", 0, sizeof(*u));

		ports_encode(r, u->spts, u->dpts);
		u->invflags = inv;
	} else if (r->proto == IPPROTO_TCP) {
		struct xt_tcp *t = bipt_entry_add_match(f, r, "tcp", 0, sizeof(*t));

		ports_encode(r, t->spts, t->dpts);
		t->invflags = inv;
	} else {
		return -EINVAL;
	}
	return r->proto_neg ? -EINVAL : 0;
}

static int multiport_encode(const struct bipt_fam *f, struct bipt_rule *r)
{
	struct xt_multiport_v1 *m;

	if (!r->n_ports)
		return 0;
	if (r->n_ports > XT_MULTI_PORTS || (r->proto != IPPROTO_UDP && r->proto != IPPROTO_TCP))
		return -EINVAL;
	m = bipt_entry_add_match(f, r, "multiport", 1, sizeof(*m));
	m->flags = r->ports_dir == BIPT_PORTS_SRC ? XT_MULTIPORT_SOURCE :
		   r->ports_dir == BIPT_PORTS_DST ? XT_MULTIPORT_DESTINATION : XT_MULTIPORT_EITHER;
	m->count = (uint8_t)r->n_ports;
	for (size_t i = 0; i < r->n_ports; i++)
		m->ports[i] = r->ports[i];
	return 0;
}

static int field_index(enum ir_match_type t)
{
	for (size_t i = 0; i < ARRAY_SIZE(ntp_fields); i++)
		if (ntp_fields[i].field == t)
			return (int)i;
	return -1;
}

/* The value ranges of a bit set ("0:5", "3,5:6"), at most max of them. */
static int bits_to_ranges(uint32_t bits, unsigned top, struct xt_u32_value_element *v,
			  size_t max)
{
	size_t n = 0;

	for (unsigned i = 0; i <= top; i++) {
		unsigned j = i;

		if (!(bits & (1u << i)))
			continue;
		while (j < top && (bits & (1u << (j + 1))))
			j++;
		if (n == max)
			return -EINVAL;
		v[n].min = i;
		v[n].max = j;
		n++;
		i = j;
	}
	return n ? (int)n : -EINVAL;
}

/* IPv4: "0>>22&0x3C@8>>S&M" (the IHL, then 8 bytes of UDP header); IPv6:
 * "48>>S&M" (no extension header: the rule also matches ipv6header). */
static int u32_encode(const struct bipt_fam *f, struct bipt_rule *r, const struct bipt_u32 *u)
{
	int k = field_index(u->field), n;
	struct xt_u32 *m;
	struct xt_u32_test *t;
	size_t i = 0;

	if (k < 0 || ((uint64_t)u->bits >> (ntp_fields[k].mask + 1u)) != 0)
		return -EINVAL;
	m = bipt_entry_add_match(f, r, "u32", 0, sizeof(*m));
	t = &m->tests[0];
	if (f->af == AF_INET) {
		t->location[i++] = (struct xt_u32_location_element){ 0, XT_U32_AND };
		t->location[i++] = (struct xt_u32_location_element){ 22, XT_U32_RIGHTSH };
		t->location[i++] = (struct xt_u32_location_element){ 0x3c, XT_U32_AND };
		t->location[i++] = (struct xt_u32_location_element){ 8, XT_U32_AT };
	} else {
		t->location[i++] = (struct xt_u32_location_element){ 48, XT_U32_AND };
	}
	/* Assigned field by field: a compound literal's padding is not zero. */
	t->location[i].number = ntp_fields[k].shift;
	t->location[i++].nextop = XT_U32_RIGHTSH;
	t->location[i].number = ntp_fields[k].mask;
	t->location[i++].nextop = XT_U32_AND;
	t->nnums = (uint8_t)i;
	n = bits_to_ranges(u->bits, ntp_fields[k].mask, t->value, BIPT_RANGES_MAX);
	if (n < 0)
		return n;
	t->nvalues = (uint8_t)n;
	m->ntests = 1;
	m->invert = u->neg;
	return 0;
}

static uint16_t ct_to_xt(uint32_t ir)
{
	return (uint16_t)((ir & IR_CT_INVALID ? XT_CONNTRACK_STATE_INVALID : 0) |
			  (ir & IR_CT_ESTABLISHED ? XT_CONNTRACK_STATE_BIT(IP_CT_ESTABLISHED) : 0) |
			  (ir & IR_CT_RELATED ? XT_CONNTRACK_STATE_BIT(IP_CT_RELATED) : 0) |
			  (ir & IR_CT_NEW ? XT_CONNTRACK_STATE_BIT(IP_CT_NEW) : 0) |
			  (ir & IR_CT_UNTRACKED ? XT_CONNTRACK_STATE_UNTRACKED : 0));
}

static uint32_t ct_from_xt(uint16_t xt, bool *ok)
{
	uint16_t known = ct_to_xt(IR_CT_INVALID | IR_CT_ESTABLISHED | IR_CT_RELATED | IR_CT_NEW |
				  IR_CT_UNTRACKED);

	*ok = !(xt & ~known);
	return (xt & XT_CONNTRACK_STATE_INVALID ? IR_CT_INVALID : 0) |
	       (xt & XT_CONNTRACK_STATE_BIT(IP_CT_ESTABLISHED) ? IR_CT_ESTABLISHED : 0) |
	       (xt & XT_CONNTRACK_STATE_BIT(IP_CT_RELATED) ? IR_CT_RELATED : 0) |
	       (xt & XT_CONNTRACK_STATE_BIT(IP_CT_NEW) ? IR_CT_NEW : 0) |
	       (xt & XT_CONNTRACK_STATE_UNTRACKED ? IR_CT_UNTRACKED : 0);
}

static void ct_encode(const struct bipt_fam *f, struct bipt_rule *r)
{
	struct xt_conntrack_mtinfo3 *c = bipt_entry_add_match(f, r, "conntrack", 3, sizeof(*c));

	c->match_flags = XT_CONNTRACK_STATE | (r->ct_alias ? XT_CONNTRACK_STATE_ALIAS : 0);
	c->invert_flags = r->ct_neg ? XT_CONNTRACK_STATE : 0;
	c->state_mask = ct_to_xt(r->ct_bits);
}

/* libxt_hashlimit: above rate/unit per source address, revision 3. */
static int hashlimit_encode(const struct bipt_fam *f, struct bipt_rule *r)
{
	struct xt_hashlimit_mtinfo3 *h;
	const struct bipt_limit *l = &r->hl;

	if (!l->rate || !l->unit_s || !l->burst || strlen(l->name) >= sizeof(h->name) ||
	    l->srcmask > (f->af == AF_INET ? 32 : 128))
		return -EINVAL;
	h = bipt_entry_add_match(f, r, "hashlimit", 3, sizeof(*h));
	memcpy(h->name, l->name, strlen(l->name));
	h->cfg.avg = XT_HASHLIMIT_SCALE_v2 * l->unit_s / l->rate;
	h->cfg.burst = l->burst;
	h->cfg.mode = XT_HASHLIMIT_HASH_SIP | (l->upto ? 0 : XT_HASHLIMIT_INVERT);
	h->cfg.max = l->max;
	h->cfg.gc_interval = HL_GC_INTERVAL;
	h->cfg.expire = l->expire_ms;
	h->cfg.srcmask = h->cfg.dstmask = f->af == AF_INET ? 32 : 128;
	if (l->srcmask)
		h->cfg.srcmask = l->srcmask;
	return 0;
}

/* libxt_limit: revision 0; the kernel keeps its state from prev on. */
static int limit_encode(const struct bipt_fam *f, struct bipt_rule *r)
{
	struct xt_rateinfo *l;

	if (!r->rt.avg || !r->rt.burst)
		return -EINVAL;
	l = bipt_entry_add_match(f, r, "limit", 0, sizeof(*l));
	l->avg = r->rt.avg;
	l->burst = r->rt.burst;
	return 0;
}

int bipt_match_encode(const struct bipt_fam *f, struct bipt_rule *r)
{
	int ret = l4_encode(f, r);

	if (!ret)
		ret = multiport_encode(f, r);
	if (!ret && r->v6_plain) {
		struct ip6t_ipv6header_info *h;

		if (f->af != AF_INET6)
			return -EINVAL;
		h = bipt_entry_add_match(f, r, "ipv6header", 0, sizeof(*h));
		h->matchflags = MASK_PROTO;
	}
	for (size_t i = 0; !ret && i < r->n_u32; i++)
		ret = u32_encode(f, r, &r->u32[i]);
	if (!ret && r->ct)
		ct_encode(f, r);
	if (!ret && r->limit)
		ret = hashlimit_encode(f, r);
	if (!ret && r->rate)
		ret = limit_encode(f, r);
	if (!ret && r->has_comment) {
		struct xt_comment_info *c = bipt_entry_add_match(f, r, "comment", 0, sizeof(*c));

		memcpy(c->comment, r->comment, strnlen(r->comment, sizeof(c->comment) - 1));
	}
	return ret;
}

int bipt_target_encode(const struct bipt_fam *f, struct bipt_rule *r)
{
	static const char *const labels[] = {
		[BIPT_T_NONE] = "", [BIPT_T_RETURN] = IPTC_LABEL_RETURN,
		[BIPT_T_DROP] = IPTC_LABEL_DROP, [BIPT_T_ACCEPT] = IPTC_LABEL_ACCEPT,
	};
	struct xt_log_info *log;
	struct xt_ct_target_info_v1 *ct;

	switch (r->target) {
	case BIPT_T_NONE:
	case BIPT_T_RETURN:
	case BIPT_T_DROP:
	case BIPT_T_ACCEPT:
		bipt_entry_add_target(f, r, labels[r->target], 0, sizeof(int));
		return 0;
	case BIPT_T_JUMP:
	case BIPT_T_GOTO:
		if (!r->chain[0] || strlen(r->chain) > BIPT_CHAIN_MAX)
			return -EINVAL;
		bipt_entry_add_target(f, r, r->chain, 0, sizeof(int));
		return 0;
	case BIPT_T_REJECT:
		if (f->af == AF_INET)
			((struct ipt_reject_info *)bipt_entry_add_target(f, r, "REJECT", 0,
				sizeof(struct ipt_reject_info)))->with = IPT_ICMP_PORT_UNREACHABLE;
		else
			((struct ip6t_reject_info *)bipt_entry_add_target(f, r, "REJECT", 0,
				sizeof(struct ip6t_reject_info)))->with = IP6T_ICMP6_PORT_UNREACH;
		return 0;
	case BIPT_T_LOG:
		log = bipt_entry_add_target(f, r, "LOG", 0, sizeof(*log));
		log->level = LOG_LEVEL_WARNING;
		memcpy(log->prefix, r->log_prefix, strnlen(r->log_prefix, sizeof(log->prefix) - 1));
		return 0;
	case BIPT_T_NOTRACK:
		ct = bipt_entry_add_target(f, r, "CT", 2, sizeof(*ct));
		ct->flags = XT_CT_NOTRACK;
		return 0;
	}
	return -EINVAL;
}

size_t bipt_usersize(const char *name, uint8_t rev, bool target, size_t size)
{
	if (!target && !strcmp(name, "hashlimit") && rev == 3 &&
	    size == XT_ALIGN(sizeof(struct xt_hashlimit_mtinfo3)))
		return offsetof(struct xt_hashlimit_mtinfo3, hinfo);
	if (!target && !strcmp(name, "limit") && !rev && size == XT_ALIGN(sizeof(struct xt_rateinfo)))
		return offsetof(struct xt_rateinfo, prev);
	if (target && !strcmp(name, "CT") && rev == 2 &&
	    size == XT_ALIGN(sizeof(struct xt_ct_target_info_v1)))
		return offsetof(struct xt_ct_target_info_v1, ct);
	return size;
}

static bool l4_decode(const struct bipt_fam *f, const uint16_t spts[2], const uint16_t dpts[2],
		      uint8_t inv, uint8_t proto, struct bipt_rule *r)
{
	(void)f;
	if (r->proto != proto || r->sport_set || r->dport_set || (inv & ~0x03))
		return false;
	r->sport_set = !(spts[0] == 0 && spts[1] == 0xffff);
	r->dport_set = !(dpts[0] == 0 && dpts[1] == 0xffff);
	r->sport = spts[0];
	r->dport = dpts[0];
	r->sport_neg = inv & XT_UDP_INV_SRCPT;
	r->dport_neg = inv & XT_UDP_INV_DSTPT;
	return (!r->sport_set || spts[0] == spts[1]) && (!r->dport_set || dpts[0] == dpts[1]) &&
	       (r->sport_set || !r->sport_neg) && (r->dport_set || !r->dport_neg);
}

static bool multiport_decode(const struct xt_multiport_v1 *m, struct bipt_rule *r)
{
	if (!m->count || m->count > XT_MULTI_PORTS || m->invert || r->n_ports)
		return false;
	if (m->flags == XT_MULTIPORT_SOURCE)
		r->ports_dir = BIPT_PORTS_SRC;
	else if (m->flags == XT_MULTIPORT_DESTINATION)
		r->ports_dir = BIPT_PORTS_DST;
	else if (m->flags != XT_MULTIPORT_EITHER)
		return false;
	for (size_t i = 0; i < m->count; i++) {
		if (m->pflags[i])
			return false;
		r->ports[i] = m->ports[i];
	}
	r->n_ports = m->count;
	return true;
}

static bool u32_decode(const struct bipt_fam *f, const struct xt_u32 *m, struct bipt_rule *r)
{
	const struct xt_u32_test *t = &m->tests[0];
	size_t base = f->af == AF_INET ? 4 : 1, i;
	struct bipt_u32 *u;
	int k = -1;

	if (m->ntests != 1 || m->invert > 1 || t->nnums != base + 2 || !t->nvalues ||
	    t->nvalues > BIPT_RANGES_MAX || r->n_u32 == BIPT_U32_MAX)
		return false;
	if (f->af == AF_INET ? t->location[0].number != 0 || t->location[0].nextop != XT_U32_AND ||
	    t->location[1].number != 22 || t->location[1].nextop != XT_U32_RIGHTSH ||
	    t->location[2].number != 0x3c || t->location[2].nextop != XT_U32_AND ||
	    t->location[3].number != 8 || t->location[3].nextop != XT_U32_AT :
	    t->location[0].number != 48 || t->location[0].nextop != XT_U32_AND)
		return false;
	for (i = 0; i < ARRAY_SIZE(ntp_fields); i++)
		if (t->location[base].number == ntp_fields[i].shift &&
		    t->location[base + 1].number == ntp_fields[i].mask)
			k = (int)i;
	if (k < 0 || t->location[base].nextop != XT_U32_RIGHTSH ||
	    t->location[base + 1].nextop != XT_U32_AND)
		return false;
	u = &r->u32[r->n_u32++];
	u->field = ntp_fields[k].field;
	u->neg = m->invert;
	u->bits = 0;
	for (i = 0; i < t->nvalues; i++) {
		if (t->value[i].min > t->value[i].max || t->value[i].max > ntp_fields[k].mask)
			return false;
		for (uint32_t v = t->value[i].min; v <= t->value[i].max; v++)
			u->bits |= 1u << v;
	}
	return true;
}

static bool ct_decode(const struct xt_conntrack_mtinfo3 *c, struct bipt_rule *r)
{
	struct xt_conntrack_mtinfo3 want = { 0 };
	bool ok;

	if (r->ct)
		return false;
	r->ct = true;
	r->ct_neg = c->invert_flags == XT_CONNTRACK_STATE;
	r->ct_bits = ct_from_xt(c->state_mask, &ok);
	/* `-m state` is this match too, with XT_CONNTRACK_STATE_ALIAS. */
	want.match_flags = XT_CONNTRACK_STATE | (c->match_flags & XT_CONNTRACK_STATE_ALIAS);
	r->ct_alias = c->match_flags & XT_CONNTRACK_STATE_ALIAS;
	want.invert_flags = c->invert_flags;
	want.state_mask = c->state_mask;
	return ok && (!c->invert_flags || r->ct_neg) && !memcmp(c, &want, sizeof(want));
}

static bool hashlimit_decode(const struct bipt_fam *f, const struct xt_hashlimit_mtinfo3 *h,
			     struct bipt_rule *r)
{
	uint8_t mask = f->af == AF_INET ? 32 : 128;

	if (r->limit || !memchr(h->name, '\0', sizeof(h->name)))
		return false;
	r->limit = true;
	snprintf(r->hl.name, sizeof(r->hl.name), "%s", h->name);
	r->hl.avg = h->cfg.avg;
	r->hl.burst = (uint32_t)h->cfg.burst;
	r->hl.max = h->cfg.max;
	r->hl.expire_ms = h->cfg.expire;
	r->hl.upto = !(h->cfg.mode & XT_HASHLIMIT_INVERT);
	r->hl.srcmask = h->cfg.srcmask == mask ? 0 : h->cfg.srcmask;
	return h->cfg.avg && h->cfg.burst <= UINT32_MAX &&
	       (h->cfg.mode & ~XT_HASHLIMIT_INVERT) == XT_HASHLIMIT_HASH_SIP && !h->cfg.size &&
	       h->cfg.gc_interval == HL_GC_INTERVAL && !h->cfg.interval &&
	       h->cfg.srcmask && h->cfg.srcmask <= mask && h->cfg.dstmask == mask;
}

bool bipt_match_decode(const struct bipt_fam *f, const void *mv, struct bipt_rule *r)
{
	const struct xt_entry_match *m = mv;
	const char *name = m->u.user.name;
	size_t len = m->u.match_size - sizeof(*m);
	uint8_t rev = m->u.user.revision;
	const void *d = m->data;

#define IS(n, rv, type) (!strcmp(name, n) && rev == (rv) && len == XT_ALIGN(sizeof(type)))
	if (IS("udp", 0, struct xt_udp)) {
		const struct xt_udp *u = d;

		return l4_decode(f, u->spts, u->dpts, u->invflags, IPPROTO_UDP, r);
	}
	if (IS("tcp", 0, struct xt_tcp)) {
		const struct xt_tcp *t = d;

		return !t->option && !t->flg_mask && !t->flg_cmp &&
		       l4_decode(f, t->spts, t->dpts, t->invflags, IPPROTO_TCP, r);
	}
	if (IS("multiport", 1, struct xt_multiport_v1))
		return multiport_decode(d, r);
	if (IS("ipv6header", 0, struct ip6t_ipv6header_info) && f->af == AF_INET6) {
		const struct ip6t_ipv6header_info *h = d;

		r->v6_plain = !r->v6_plain;
		return r->v6_plain && h->matchflags == MASK_PROTO && !h->invflags && !h->modeflag;
	}
	if (IS("u32", 0, struct xt_u32))
		return u32_decode(f, d, r);
	if (IS("conntrack", 3, struct xt_conntrack_mtinfo3))
		return ct_decode(d, r);
	if (IS("hashlimit", 3, struct xt_hashlimit_mtinfo3))
		return hashlimit_decode(f, d, r);
	if (IS("limit", 0, struct xt_rateinfo)) {
		const struct xt_rateinfo *l = d;

		if (r->rate)
			return false;
		r->rate = true;
		r->rt = (struct bipt_rate){ l->avg, l->burst };
		return l->avg && l->burst;
	}
	if (IS("comment", 0, struct xt_comment_info)) {
		const struct xt_comment_info *c = d;

		if (r->has_comment || !memchr(c->comment, '\0', sizeof(c->comment)))
			return false;
		r->has_comment = true;
		snprintf(r->comment, sizeof(r->comment), "%s", c->comment);
		return true;
	}
#undef IS
	return false;
}

/* A standard target in append form: a label, "" or a chain name, no data. */
static bool standard_decode(const struct xt_entry_target *t, struct bipt_rule *r)
{
	static const struct { const char *label; enum bipt_target t; } labels[] = {
		{ "", BIPT_T_NONE }, { IPTC_LABEL_RETURN, BIPT_T_RETURN },
		{ IPTC_LABEL_DROP, BIPT_T_DROP }, { IPTC_LABEL_ACCEPT, BIPT_T_ACCEPT },
	};
	const char *name = t->u.user.name;

	if (*(const int *)t->data != 0)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(labels); i++) {
		if (!strcmp(name, labels[i].label)) {
			if (r->target == BIPT_T_GOTO)
				return false;
			r->target = labels[i].t;
			return true;
		}
	}
	if (strlen(name) > BIPT_CHAIN_MAX)
		return false;
	if (r->target != BIPT_T_GOTO)
		r->target = BIPT_T_JUMP;
	snprintf(r->chain, sizeof(r->chain), "%s", name);
	return true;
}

bool bipt_target_decode(const struct bipt_fam *f, const void *tv, struct bipt_rule *r)
{
	const struct xt_entry_target *t = tv;
	const char *name = t->u.user.name;
	size_t len = t->u.target_size - sizeof(*t);
	uint8_t rev = t->u.user.revision;

	if (len == XT_ALIGN(sizeof(int)) && !rev && strcmp(name, "REJECT") && strcmp(name, "LOG") &&
	    strcmp(name, "CT"))
		return standard_decode(t, r);
	if (r->target == BIPT_T_GOTO)
		return false;
	if (!strcmp(name, "REJECT") && !rev && f->af == AF_INET &&
	    len == XT_ALIGN(sizeof(struct ipt_reject_info))) {
		r->target = BIPT_T_REJECT;
		return ((const struct ipt_reject_info *)t->data)->with == IPT_ICMP_PORT_UNREACHABLE;
	}
	if (!strcmp(name, "REJECT") && !rev && f->af == AF_INET6 &&
	    len == XT_ALIGN(sizeof(struct ip6t_reject_info))) {
		r->target = BIPT_T_REJECT;
		return ((const struct ip6t_reject_info *)t->data)->with == IP6T_ICMP6_PORT_UNREACH;
	}
	if (!strcmp(name, "LOG") && !rev && len == XT_ALIGN(sizeof(struct xt_log_info))) {
		const struct xt_log_info *l = (const void *)t->data;

		r->target = BIPT_T_LOG;
		if (!memchr(l->prefix, '\0', sizeof(l->prefix)))
			return false;
		snprintf(r->log_prefix, sizeof(r->log_prefix), "%s", l->prefix);
		return l->level == LOG_LEVEL_WARNING && !l->logflags;
	}
	if (!strcmp(name, "CT") && rev == 2 && len == XT_ALIGN(sizeof(struct xt_ct_target_info_v1))) {
		const struct xt_ct_target_info_v1 *c = (const void *)t->data;
		struct xt_ct_target_info_v1 want = { .flags = XT_CT_NOTRACK };

		r->target = BIPT_T_NOTRACK;
		return !memcmp(c, &want, offsetof(struct xt_ct_target_info_v1, ct));
	}
	return false;
}

static uint32_t limit_hash(const char *table, const char *set, const struct bipt_limit *l)
{
	char buf[BIPT_HL_NAME_LEN + 128];
	int n = snprintf(buf, sizeof(buf), "%s %s %s %u/%u burst %u max %u expire %u srcmask %u",
			 table, set, l->upto ? "upto" : "above", l->rate, l->unit_s, l->burst, l->max,
			 l->expire_ms, l->srcmask);

	return (uint32_t)util_hash(UTIL_HASH_INIT, buf, n > 0 ? (size_t)n : 0);
}

void bipt_limit_name(const char *table, const char *set, const struct bipt_limit *l,
		     char out[BIPT_HL_NAME_LEN + 1])
{
	snprintf(out, BIPT_HL_NAME_LEN + 1, "%s-%s-%08x", table, set, limit_hash(table, set, l));
}

bool bipt_limit_rate(const char *table, const char *set, struct bipt_limit *l)
{
	static const uint32_t units[] = { 1, 60, 3600 };
	char want[BIPT_HL_NAME_LEN + 1];

	if (!l->avg)
		return false;
	for (size_t u = 0; u < ARRAY_SIZE(units); u++) {
		uint64_t top = XT_HASHLIMIT_SCALE_v2 * units[u];
		/* Every rate whose avg (top / rate, rounded down) is l->avg. */
		uint64_t hi = top / l->avg, lo = top / (l->avg + 1) + 1;

		for (uint64_t rate = lo; rate <= hi && rate <= UINT32_MAX && rate - lo < 4096; rate++) {
			l->rate = (uint32_t)rate;
			l->unit_s = units[u];
			bipt_limit_name(table, set, l, want);
			if (!strcmp(want, l->name))
				return true;
		}
	}
	l->rate = l->unit_s = 0;
	return false;
}
