/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One iptables rule as an iptables-restore line, in iptables-save's order
 * and spelling where restore takes it, so that iptables-legacy-restore
 * builds from the line the very entry the backend encodes
 * (tests/netns/ipt.sh compares them byte for byte). */
#include "backend_ipt_int.h"
#include "ntpwall/util.h"

#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>

/* A double-quoted argument: iptables-restore has no escape for a quote
 * inside one, so quotes, backslashes and control bytes become '_'. */
static void put_text(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++)
		fputc(*s == '"' || *s == '\\' || (unsigned char)*s < 0x20 ? '_' : *s, f);
	fputc('"', f);
}

static void put_prefix(FILE *f, const char *opt, const struct bipt_prefix *p)
{
	char buf[INET6_ADDRSTRLEN];

	if (p->set)
		fprintf(f, " %s%s %s/%u", p->neg ? "! " : "", opt,
			addr_str(&p->addr, buf, sizeof(buf)), p->len);
}

static const char *proto_name(uint8_t p)
{
	return p == IPPROTO_UDP ? "udp" : p == IPPROTO_TCP ? "tcp" : p == IPPROTO_ICMP ? "icmp" : NULL;
}

static void put_u32(FILE *f, const struct bipt_fam *fam, const struct bipt_u32 *u)
{
	const char *field = u->field == IR_MATCH_NTP_MODE ? ">>24&0x7=" :
			    u->field == IR_MATCH_NTP_VERSION ? ">>27&0x7=" : ">>16&0x1F=";
	unsigned top = u->field == IR_MATCH_NTP_OPCODE ? 31 : 7;
	const char *sep = "";

	fprintf(f, " -m u32 %s--u32 \"%s%s", u->neg ? "! " : "",
		fam->af == AF_INET ? "0>>22&0x3C@8" : "48", field);
	for (unsigned i = 0; i <= top; i++) {
		unsigned j = i;

		if (!(u->bits & (1u << i)))
			continue;
		while (j < top && (u->bits & (1u << (j + 1))))
			j++;
		fprintf(f, j > i ? "%s%u:%u" : "%s%u", sep, i, j);
		sep = ",";
		i = j;
	}
	fputc('"', f);
}

static void put_ct(FILE *f, const struct bipt_rule *r)
{
	static const struct { uint32_t bit; const char *name; } st[] = {
		{ IR_CT_INVALID, "INVALID" }, { IR_CT_NEW, "NEW" }, { IR_CT_RELATED, "RELATED" },
		{ IR_CT_ESTABLISHED, "ESTABLISHED" }, { IR_CT_UNTRACKED, "UNTRACKED" },
	};
	const char *sep = "";

	fprintf(f, r->ct_alias ? " -m state %s--state " : " -m conntrack %s--ctstate ",
		r->ct_neg ? "! " : "");
	for (size_t i = 0; i < ARRAY_SIZE(st); i++) {
		if (r->ct_bits & st[i].bit) {
			fprintf(f, "%s%s", sep, st[i].name);
			sep = ",";
		}
	}
}

static void put_limit(FILE *f, const struct bipt_limit *l)
{
	const char *unit = l->unit_s == 3600 ? "hour" : l->unit_s == 60 ? "min" : "sec";

	/* upto: within the rate (a full table drops: xt_hashlimit's hotdrop,
	 * so an accept with it fails closed); above: over it. */
	fprintf(f, " -m hashlimit --hashlimit-%s %" PRIu32 "/%s --hashlimit-burst %" PRIu32
		   " --hashlimit-mode srcip", l->upto ? "upto" : "above", l->rate, unit, l->burst);
	if (l->srcmask)
		fprintf(f, " --hashlimit-srcmask %u", l->srcmask);
	fprintf(f, " --hashlimit-name %s", l->name);
	if (l->max)
		fprintf(f, " --hashlimit-htable-max %" PRIu32, l->max);
	fprintf(f, " --hashlimit-htable-expire %" PRIu32, l->expire_ms);
}

/* -m limit; iptables-save spells the same avg in its own unit, so compare
 * saves with saves. */
static void put_rate(FILE *f, const struct bipt_rate *rt)
{
	uint32_t rate, unit;

	if (!xt_limit_rate(rt->avg, &rate, &unit)) {
		fprintf(f, " -m limit --limit ?avg=%" PRIu32, rt->avg);
		return;
	}
	fprintf(f, " -m limit --limit %" PRIu32 "/%s --limit-burst %" PRIu32, rate,
		unit == 86400 ? "day" : unit == 3600 ? "hour" : unit == 60 ? "min" : "sec",
		rt->burst);
}

static void put_l4(FILE *f, const struct bipt_rule *r)
{
	const char *p = proto_name(r->proto);

	if (r->proto)
		fprintf(f, " %s-p %s", r->proto_neg ? "! " : "", p ? p : "all");
	if (p && (r->sport_set || r->dport_set)) {
		fprintf(f, " -m %s", p);
		if (r->sport_set)
			fprintf(f, " %s--sport %u", r->sport_neg ? "! " : "", r->sport);
		if (r->dport_set)
			fprintf(f, " %s--dport %u", r->dport_neg ? "! " : "", r->dport);
	}
	for (size_t i = 0; i < r->n_ports; i++)
		fprintf(f, "%s%u", i ? "," : r->ports_dir == BIPT_PORTS_SRC ? " -m multiport --sports " :
			r->ports_dir == BIPT_PORTS_DST ? " -m multiport --dports " :
			" -m multiport --ports ", r->ports[i]);
}

static void put_target(FILE *f, const struct bipt_fam *fam, const struct bipt_rule *r)
{
	switch (r->target) {
	case BIPT_T_NONE:
		break;
	case BIPT_T_RETURN:
		fputs(" -j RETURN", f);
		break;
	case BIPT_T_DROP:
		fputs(" -j DROP", f);
		break;
	case BIPT_T_ACCEPT:
		fputs(" -j ACCEPT", f);
		break;
	case BIPT_T_JUMP:
		fprintf(f, " -j %s", r->chain);
		break;
	case BIPT_T_GOTO:
		fprintf(f, " -g %s", r->chain);
		break;
	case BIPT_T_REJECT:
		fprintf(f, " -j REJECT --reject-with %s",
			fam->af == AF_INET ? "icmp-port-unreachable" : "icmp6-port-unreachable");
		break;
	case BIPT_T_LOG:
		fputs(" -j LOG --log-prefix ", f);
		put_text(f, r->log_prefix);
		break;
	case BIPT_T_NOTRACK:
		fputs(" -j CT --notrack", f);
		break;
	}
}

void bipt_rule_print(FILE *f, const struct bipt_fam *fam, const char *head,
		     const struct bipt_rule *r)
{
	fputs(head, f);
	put_prefix(f, "-s", &r->src);
	put_prefix(f, "-d", &r->dst);
	if (r->iif[0])
		fprintf(f, " %s-i %s", r->iif_neg ? "! " : "", r->iif);
	if (r->oif[0])
		fprintf(f, " %s-o %s", r->oif_neg ? "! " : "", r->oif);
	put_l4(f, r);
	if (r->v6_plain)
		fputs(" -m ipv6header --header prot", f);
	for (size_t i = 0; i < r->n_u32; i++)
		put_u32(f, fam, &r->u32[i]);
	if (r->ct)
		put_ct(f, r);
	if (r->limit)
		put_limit(f, &r->hl);
	if (r->rate)
		put_rate(f, &r->rt);
	if (r->has_comment) {
		fputs(" -m comment --comment ", f);
		put_text(f, r->comment);
	}
	put_target(f, fam, r);
	fputc('\n', f);
}
