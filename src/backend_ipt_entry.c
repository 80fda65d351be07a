/* SPDX-License-Identifier: GPL-2.0-or-later */
/* xtables entries of the iptables backend: a rule encoded into the bytes
 * libiptc appends (struct ipt_entry / ip6t_entry, then each match, then one
 * target, all 8-byte aligned; doc/iptables-notes.md §3), decoded from the
 * bytes it dumps, and compared and hashed the robust way of §4 (the match
 * part byte for byte, matches and targets up to the part the kernel owns,
 * counters aside). The per-match code is backend_ipt_match.c. */
#include "backend_ipt_int.h"
#include "ntpwall/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libiptc/libip6tc.h>
#include <libiptc/libiptc.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

const struct bipt_fam bipt_fams[BIPT_NFAM] = {
	{ AF_INET, IR_NFPROTO_IPV4, "iptables", "/proc/net/ip_tables_names",
	  sizeof(struct ipt_entry), offsetof(struct ipt_entry, target_offset),
	  offsetof(struct ipt_entry, next_offset), offsetof(struct ipt_entry, counters),
	  offsetof(struct ipt_entry, comefrom), sizeof(struct ipt_ip) },
	{ AF_INET6, IR_NFPROTO_IPV6, "ip6tables", "/proc/net/ip6_tables_names",
	  sizeof(struct ip6t_entry), offsetof(struct ip6t_entry, target_offset),
	  offsetof(struct ip6t_entry, next_offset), offsetof(struct ip6t_entry, counters),
	  offsetof(struct ip6t_entry, comefrom), sizeof(struct ip6t_ip6) },
};

const char *const bipt_table_names[BIPT_NTAB] = { "filter", "raw" };

struct bipt_rule *bipt_chain_add(struct bipt_chain *c)
{
	xgrow((void **)&c->rules, &c->cap, c->n, sizeof(*c->rules));
	memset(&c->rules[c->n], 0, sizeof(c->rules[c->n]));
	return &c->rules[c->n++];
}

void bipt_chain_reserve(struct bipt_chain *c, size_t more)
{
	if (c->cap - c->n >= more)
		return;
	c->rules = xreallocarray(c->rules, c->n + more, sizeof(*c->rules));
	c->cap = c->n + more;
}

static struct bipt_chain *chain_in(struct bipt_chain **v, size_t *n, size_t *cap,
				   const char *name)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*v)[i].name, name))
			return &(*v)[i];
	xgrow((void **)v, cap, *n, sizeof(**v));
	memset(&(*v)[*n], 0, sizeof(**v));
	snprintf((*v)[*n].name, sizeof((*v)[*n].name), "%s", name);
	return &(*v)[(*n)++];
}

struct bipt_chain *bipt_layout_chain(struct bipt_layout *l, const char *name)
{
	return chain_in(&l->chains, &l->n, &l->cap, name);
}

struct bipt_chain *bipt_layout_jumps(struct bipt_layout *l, const char *builtin)
{
	return chain_in(&l->jumps, &l->n_jumps, &l->cap_jumps, builtin);
}

const struct bipt_chain *bipt_layout_find(const struct bipt_layout *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->chains[i].name, name))
			return &l->chains[i];
	return NULL;
}

void bipt_rule_free(struct bipt_rule *r)
{
	free(r->unknown);
	free(r->entry);
	r->unknown = NULL;
	r->entry = NULL;
}

void bipt_chain_free(struct bipt_chain *c)
{
	for (size_t i = 0; i < c->n; i++)
		bipt_rule_free(&c->rules[i]);
	free(c->rules);
	c->rules = NULL;
	c->n = c->cap = 0;
}

void bipt_layout_free(struct bipt_layout *l)
{
	for (size_t i = 0; i < l->n; i++)
		bipt_chain_free(&l->chains[i]);
	for (size_t i = 0; i < l->n_jumps; i++)
		bipt_chain_free(&l->jumps[i]);
	free(l->chains);
	free(l->jumps);
	l->chains = l->jumps = NULL;
	l->n = l->cap = l->n_jumps = l->cap_jumps = 0;
}

void bipt_all_free(struct bipt_all *a)
{
	for (int f = 0; f < BIPT_NFAM; f++)
		for (int t = 0; t < BIPT_NTAB; t++)
			bipt_layout_free(&a->t[f][t]);
}

bool bipt_layout_empty(const struct bipt_layout *l)
{
	for (size_t i = 0; i < l->n_jumps; i++)
		if (l->jumps[i].n)
			return false;
	return l->n == 0;
}

static uint16_t *u16_at(const struct bipt_fam *f, const unsigned char *e, size_t off)
{
	(void)f;
	return (uint16_t *)(e + off);
}

uint16_t bipt_entry_target_offset(const struct bipt_fam *f, const unsigned char *e)
{
	return *u16_at(f, e, f->off_target);
}

uint16_t bipt_entry_next_offset(const struct bipt_fam *f, const unsigned char *e)
{
	return *u16_at(f, e, f->off_next);
}

/* A zeroed tail of size bytes at the end of r->entry (which may move). */
static unsigned char *grow(const struct bipt_fam *f, struct bipt_rule *r, size_t size)
{
	size_t off = r->entry_len;

	r->entry = xreallocarray(r->entry, 1, off + size);
	memset(r->entry + off, 0, size);
	r->entry_len = off + size;
	*u16_at(f, r->entry, f->off_next) = (uint16_t)r->entry_len;
	return r->entry + off;
}

void *bipt_entry_add_match(const struct bipt_fam *f, struct bipt_rule *r, const char *name,
			   uint8_t rev, size_t len)
{
	size_t size = XT_ALIGN(sizeof(struct xt_entry_match)) + XT_ALIGN(len);
	struct xt_entry_match *m = (struct xt_entry_match *)grow(f, r, size);

	m->u.user.match_size = (uint16_t)size;
	snprintf(m->u.user.name, sizeof(m->u.user.name), "%s", name);
	m->u.user.revision = rev;
	*u16_at(f, r->entry, f->off_target) = (uint16_t)r->entry_len;
	return m->data;
}

void *bipt_entry_add_target(const struct bipt_fam *f, struct bipt_rule *r, const char *name,
			    uint8_t rev, size_t len)
{
	size_t size = XT_ALIGN(sizeof(struct xt_entry_target)) + XT_ALIGN(len);
	struct xt_entry_target *t = (struct xt_entry_target *)grow(f, r, size);

	t->u.user.target_size = (uint16_t)size;
	snprintf(t->u.user.name, sizeof(t->u.user.name), "%s", name);
	t->u.user.revision = rev;
	return t->data;
}

static void mask_of(unsigned len, unsigned bytes, uint8_t *out)
{
	memset(out, 0, bytes);
	for (unsigned i = 0; i < len / 8; i++)
		out[i] = 0xff;
	if (len % 8)
		out[len / 8] = (uint8_t)(0xff << (8 - len % 8));
}

/* iptables stores the network part and the mask (xtables_ipparse_any). */
static void put_prefix(const struct bipt_prefix *p, unsigned bytes, uint8_t *addr, uint8_t *mask)
{
	if (!p->set)
		return;
	mask_of(p->len, bytes, mask);
	for (unsigned i = 0; i < bytes; i++)
		addr[i] = p->addr.bytes[i] & mask[i];
}

/* xtables_parse_interface: the name, and a mask over it and its NUL. */
static void put_iface(const char *name, char *via, unsigned char *mask)
{
	size_t len = strnlen(name, IFNAMSIZ - 1);

	if (!len)
		return;
	memcpy(via, name, len);
	memset(mask, 0xff, len + 1);
}

static void ip_encode(const struct bipt_fam *f, struct bipt_rule *r)
{
	uint8_t inv = (r->iif_neg ? IPT_INV_VIA_IN : 0) | (r->oif_neg ? IPT_INV_VIA_OUT : 0) |
		      (r->src.set && r->src.neg ? IPT_INV_SRCIP : 0) |
		      (r->dst.set && r->dst.neg ? IPT_INV_DSTIP : 0) |
		      (r->proto && r->proto_neg ? IPT_INV_PROTO : 0);

	if (f->af == AF_INET) {
		struct ipt_ip *ip = &((struct ipt_entry *)r->entry)->ip;

		put_prefix(&r->src, 4, (uint8_t *)&ip->src, (uint8_t *)&ip->smsk);
		put_prefix(&r->dst, 4, (uint8_t *)&ip->dst, (uint8_t *)&ip->dmsk);
		put_iface(r->iif, ip->iniface, ip->iniface_mask);
		put_iface(r->oif, ip->outiface, ip->outiface_mask);
		ip->proto = r->proto;
		ip->flags = r->target == BIPT_T_GOTO ? IPT_F_GOTO : 0;
		ip->invflags = inv;
	} else {
		struct ip6t_ip6 *ip = &((struct ip6t_entry *)r->entry)->ipv6;

		put_prefix(&r->src, 16, ip->src.s6_addr, ip->smsk.s6_addr);
		put_prefix(&r->dst, 16, ip->dst.s6_addr, ip->dmsk.s6_addr);
		put_iface(r->iif, ip->iniface, ip->iniface_mask);
		put_iface(r->oif, ip->outiface, ip->outiface_mask);
		ip->proto = r->proto;
		ip->flags = (r->proto ? IP6T_F_PROTO : 0) | (r->target == BIPT_T_GOTO ? IP6T_F_GOTO : 0);
		ip->invflags = inv;
	}
}

int bipt_rule_encode(const struct bipt_fam *f, struct bipt_rule *r)
{
	struct xt_counters *c;
	int ret;

	free(r->entry);
	r->entry = xcalloc(1, f->entry_size);
	r->entry_len = f->entry_size;
	*u16_at(f, r->entry, f->off_target) = (uint16_t)f->entry_size;
	*u16_at(f, r->entry, f->off_next) = (uint16_t)f->entry_size;
	ip_encode(f, r);
	ret = bipt_match_encode(f, r);
	if (!ret)
		ret = bipt_target_encode(f, r);
	if (ret < 0) {
		free(r->entry);
		r->entry = NULL;
		r->entry_len = 0;
		return ret;
	}
	c = (struct xt_counters *)(r->entry + f->off_counters);
	c->pcnt = r->packets;
	c->bcnt = r->bytes;
	return 0;
}

static void unknown(struct bipt_rule *r, const char *what)
{
	char *s = r->unknown ? xasprintf("%s; %s", r->unknown, what) : xstrdup(what);

	free(r->unknown);
	r->unknown = s;
}

/* A contiguous mask of bytes bytes: its length, or -1. */
static int mask_len(const uint8_t *m, unsigned bytes)
{
	unsigned len = 0;

	while (len < bytes * 8 && (m[len / 8] & (0x80 >> (len % 8))))
		len++;
	for (unsigned i = len; i < bytes * 8; i++)
		if (m[i / 8] & (0x80 >> (i % 8)))
			return -1;
	return (int)len;
}

static bool get_prefix(const uint8_t *addr, const uint8_t *mask, unsigned bytes, int af,
		       struct bipt_prefix *p)
{
	int len = mask_len(mask, bytes);

	memset(p, 0, sizeof(*p));
	if (len < 0)
		return false;
	for (unsigned i = 0; i < bytes; i++)
		if (addr[i] & ~mask[i])
			return false;
	p->addr.family = af;
	memcpy(p->addr.bytes, addr, bytes);
	p->len = (unsigned)len;
	p->set = len > 0;
	return true;
}

static bool get_iface(const char *via, const unsigned char *mask, char out[16])
{
	size_t len = strnlen(via, IFNAMSIZ);
	char want[IFNAMSIZ] = { 0 };
	unsigned char wmask[IFNAMSIZ] = { 0 };

	if (len >= IFNAMSIZ)
		return false;
	put_iface(via, want, wmask);
	memcpy(out, via, len);
	out[len] = '\0';
	return !memcmp(want, via, IFNAMSIZ) && !memcmp(wmask, mask, IFNAMSIZ);
}

static void ip_decode(const struct bipt_fam *f, struct bipt_rule *r)
{
	uint8_t flags, inv, known_flags, goto_flag;
	bool ok;

	if (f->af == AF_INET) {
		const struct ipt_ip *ip = &((const struct ipt_entry *)r->entry)->ip;

		ok = get_prefix((const uint8_t *)&ip->src, (const uint8_t *)&ip->smsk, 4, AF_INET, &r->src) &&
		     get_prefix((const uint8_t *)&ip->dst, (const uint8_t *)&ip->dmsk, 4, AF_INET, &r->dst) &&
		     get_iface(ip->iniface, ip->iniface_mask, r->iif) &&
		     get_iface(ip->outiface, ip->outiface_mask, r->oif);
		r->proto = (uint8_t)ip->proto;
		ok &= ip->proto < 256;
		flags = ip->flags, inv = ip->invflags;
		known_flags = IPT_F_GOTO, goto_flag = IPT_F_GOTO;
	} else {
		const struct ip6t_ip6 *ip = &((const struct ip6t_entry *)r->entry)->ipv6;

		ok = get_prefix(ip->src.s6_addr, ip->smsk.s6_addr, 16, AF_INET6, &r->src) &&
		     get_prefix(ip->dst.s6_addr, ip->dmsk.s6_addr, 16, AF_INET6, &r->dst) &&
		     get_iface(ip->iniface, ip->iniface_mask, r->iif) &&
		     get_iface(ip->outiface, ip->outiface_mask, r->oif);
		r->proto = (uint8_t)ip->proto;
		ok &= ip->proto < 256 && ip->tos == 0 && !(ip->flags & IP6T_F_PROTO) == !ip->proto;
		flags = ip->flags & ~IP6T_F_PROTO, inv = ip->invflags;
		known_flags = IP6T_F_GOTO, goto_flag = IP6T_F_GOTO;
	}
	r->iif_neg = inv & IPT_INV_VIA_IN;
	r->oif_neg = inv & IPT_INV_VIA_OUT;
	r->src.neg = inv & IPT_INV_SRCIP;
	r->dst.neg = inv & IPT_INV_DSTIP;
	r->proto_neg = inv & IPT_INV_PROTO;
	if (flags & goto_flag)
		r->target = BIPT_T_GOTO;
	if (!ok || (flags & ~known_flags) || (inv & (IPT_INV_TOS | IPT_INV_FRAG)))
		unknown(r, "address, interface or flags not as ntpwall writes them");
}

void bipt_rule_decode(const struct bipt_fam *f, struct bipt_rule *r)
{
	size_t toff = bipt_entry_target_offset(f, r->entry);
	size_t next = bipt_entry_next_offset(f, r->entry);
	const struct xt_counters *c = (const void *)(r->entry + f->off_counters);
	bool is_goto;

	ip_decode(f, r);
	is_goto = r->target == BIPT_T_GOTO;
	r->packets = c->pcnt;
	r->bytes = c->bcnt;
	for (size_t off = f->entry_size; off < toff;) {
		const struct xt_entry_match *m = (const void *)(r->entry + off);

		if (m->u.match_size < sizeof(*m) || off + m->u.match_size > toff) {
			unknown(r, "a malformed match");
			return;
		}
		if (!bipt_match_decode(f, m, r)) {
			char what[80];

			snprintf(what, sizeof(what), "match %.29s revision %u", m->u.user.name,
				 m->u.user.revision);
			unknown(r, what);
		}
		off += m->u.match_size;
	}
	if (toff + sizeof(struct xt_entry_target) > next || next > r->entry_len) {
		unknown(r, "a malformed target");
		return;
	}
	if (!bipt_target_decode(f, r->entry + toff, r)) {
		char what[80];

		snprintf(what, sizeof(what), "target %.29s",
			 ((const struct xt_entry_target *)(r->entry + toff))->u.user.name);
		unknown(r, what);
	}
	if (is_goto != (r->target == BIPT_T_GOTO))
		unknown(r, "a goto that is no jump to a chain");
}

/* Matches and the target as a list of (header, data up to usersize). */
struct part {
	const char *name;
	uint8_t rev;
	uint16_t size;
	const unsigned char *data;
	size_t cmp;
};

static bool part_at(const struct bipt_fam *f, const unsigned char *e, size_t *off, struct part *p)
{
	size_t toff = bipt_entry_target_offset(f, e), next = bipt_entry_next_offset(f, e);
	bool target = *off >= toff;
	const struct xt_entry_match *m = (const void *)(e + *off);
	size_t hdr = sizeof(struct xt_entry_match);

	if (*off >= next || m->u.match_size < hdr || *off + m->u.match_size > next)
		return false;
	p->name = m->u.user.name;
	p->rev = m->u.user.revision;
	p->size = m->u.match_size;
	p->data = e + *off + hdr;
	p->cmp = bipt_usersize(p->name, p->rev, target, p->size - hdr);
	*off += m->u.match_size;
	return true;
}

static bool part_equal(const struct part *a, const struct part *b)
{
	return !strncmp(a->name, b->name, XT_EXTENSION_MAXNAMELEN) && a->rev == b->rev &&
	       a->size == b->size && a->cmp == b->cmp && !memcmp(a->data, b->data, a->cmp);
}

bool bipt_entry_equal(const struct bipt_fam *f, const unsigned char *a, const unsigned char *b)
{
	size_t oa = f->entry_size, ob = f->entry_size;
	struct part pa, pb;

	if (memcmp(a, b, f->ip_size) ||
	    bipt_entry_target_offset(f, a) != bipt_entry_target_offset(f, b) ||
	    bipt_entry_next_offset(f, a) != bipt_entry_next_offset(f, b))
		return false;
	while (part_at(f, a, &oa, &pa)) {
		if (!part_at(f, b, &ob, &pb) || !part_equal(&pa, &pb))
			return false;
	}
	return !part_at(f, b, &ob, &pb);
}

/* len bytes of p into h eight at a time: an entry of 10,000 is about
 * 900 bytes (a comment holds 256), hashed on every read and commit, and a
 * byte-wise FNV-1a spent 5% of adding one address. Each step is a
 * bijection of h for a given word, so inputs that differ in one word
 * always hash differently. In-process only (generations, counters). */
static uint64_t hash_words(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t w;

	for (; len >= sizeof(w); p += sizeof(w), len -= sizeof(w)) {
		memcpy(&w, p, sizeof(w));
		h = (h ^ w) * 0x100000001b3ULL;
		h ^= h >> 32;
	}
	return util_hash(h, p, len);
}

uint64_t bipt_entry_hash(const struct bipt_fam *f, uint64_t h, const unsigned char *e)
{
	size_t off = f->entry_size;
	uint16_t toff = bipt_entry_target_offset(f, e);
	struct part p;

	h = hash_words(h, e, f->ip_size);
	h = util_hash(h, &toff, sizeof(toff));
	while (part_at(f, e, &off, &p)) {
		h = util_hash(h, p.name, strnlen(p.name, XT_EXTENSION_MAXNAMELEN));
		h = util_hash(h, &p.rev, 1);
		h = util_hash(h, &p.size, sizeof(p.size));
		h = hash_words(h, p.data, p.cmp);
	}
	return h;
}

bool bipt_chain_equal(const struct bipt_fam *f, const struct bipt_chain *a,
		      const struct bipt_chain *b)
{
	if (strcmp(a->name, b->name) || a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (!a->rules[i].entry || !b->rules[i].entry ||
		    !bipt_entry_equal(f, a->rules[i].entry, b->rules[i].entry))
			return false;
	return true;
}

static int encode_chain(const struct bipt_fam *f, struct bipt_chain *c, struct diags *d)
{
	for (size_t i = 0; i < c->n; i++) {
		int ret = bipt_rule_encode(f, &c->rules[i]);

		if (ret < 0)
			return diag_add(d, NULL, DIAG_ERROR, NW501_KERNEL,
					"%s chain %s rule %zu%s%s%s: cannot be encoded",
					f->tool, c->name, i + 1, c->rules[i].has_comment ? " (" : "",
					c->rules[i].has_comment ? c->rules[i].comment : "",
					c->rules[i].has_comment ? ")" : "");
	}
	return 0;
}

int bipt_layout_encode(struct bipt_layout *l, struct diags *d)
{
	const struct bipt_fam *f = &bipt_fams[l->fam];
	int ret = 0;

	for (size_t i = 0; i < l->n && !ret; i++)
		ret = encode_chain(f, &l->chains[i], d);
	for (size_t i = 0; i < l->n_jumps && !ret; i++)
		ret = encode_chain(f, &l->jumps[i], d);
	return ret;
}
