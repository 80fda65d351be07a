/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Kernel-free tests of the nft backend's match table: every IR match type is
 * lowered to expressions, put into a netlink message, parsed back (as the
 * kernel's dump would be) and raised again, and must equal the original; the
 * shorter forms nft emits for hand-made rules raise to the same IR; what no
 * row understands ends up in ir_rule.unknown. (libnftnl's nft-expr_*-test.c
 * do the same build/parse round trip.) */
#include "backend_nft_batch.h"
#include "backend_nft_int.h"
#include "ntpwall/util.h"

#include <check.h>
#include <errno.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_log.h>
#include <linux/netfilter/nf_tables.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

static struct ir_ruleset *rs;

static void setup(void)
{
	rs = ir_ruleset_new("t");
	ir_set_add(rs, "up4", IR_KEY_IPV4, IR_SET_TIMEOUT);
	ir_set_add(rs, "up6", IR_KEY_IPV6, IR_SET_TIMEOUT);
	ir_set_add(rs, "rl4", IR_KEY_IPV4, IR_SET_DYNAMIC | IR_SET_TIMEOUT);
	ir_ruleset_sort(rs);
}

static void teardown(void)
{
	ir_ruleset_free(rs);
}

/* nftnl rule -> NEWRULE message -> a fresh nftnl rule, as a dump gives it. */
static struct nftnl_rule *through_netlink(struct nftnl_rule *r)
{
	char *buf = xcalloc(1, 65536);
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_NEWRULE, NFPROTO_INET, 0, 1);
	struct nftnl_rule *back = nftnl_rule_alloc();

	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, "t");
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, "c");
	nftnl_rule_nlmsg_build_payload(nlh, r);
	ck_assert_int_eq(nftnl_rule_nlmsg_parse(nlh, back), 0);
	free(buf);
	return back;
}

/* Lower, send through netlink, raise; the anonymous set (at most one per
 * rule here) is given back under the name the lookup carries. */
static struct ir_rule *round_trip(const struct ir_rule *in, struct ir_chain *out)
{
	struct bnft_lower_ctx lc = { .rs = rs, .next_id = 100 };
	struct bnft_anon_read anon = { .name = "__set%d" };
	struct bnft_raise_ctx rc = { .rs = rs, .anon = &anon, .n_anon = 1 };
	struct nftnl_rule *r = nftnl_rule_alloc(), *back;
	struct ir_rule *res;

	ck_assert_int_eq(bnft_rule_lower(&lc, in, r), 0);
	ck_assert_uint_le(lc.n_anon, 1);
	if (lc.n_anon) {
		memcpy(anon.vals, lc.anon[0].vals, lc.anon[0].n);
		anon.n = lc.anon[0].n;
	}
	back = through_netlink(r);
	res = ir_rule_add(out, NULL, NULL);
	res->counter = false;
	ck_assert_int_eq(bnft_rule_raise(&rc, back, res), 0);
	nftnl_rule_free(r);
	nftnl_rule_free(back);
	return res;
}

static struct addr addr(const char *s)
{
	struct addr a = { 0 };

	ck_assert_ptr_null(addr_parse(s, &a));
	return a;
}

START_TEST(every_match_type)
{
	struct ir_chain *c = ir_chain_add(rs, "in", IR_HOOK_INPUT, 0);
	struct ir_chain *out = ir_chain_add(rs, "out", IR_HOOK_NONE, 0);
	struct addr a;
	struct ir_rule *r;
	struct ir_match *m;
	size_t n;

	r = ir_rule_add(c, "ifnames", NULL);
	ir_rule_match_ifname(r, IR_MATCH_IIFNAME, "eth0");
	m = ir_rule_match_ifname(r, IR_MATCH_OIFNAME, "very-long-name1");
	m->negate = true;
	r->verdict = IR_VERDICT_ACCEPT;
	r = ir_rule_add(c, "protos-ports", NULL);
	ir_rule_match_num(r, IR_MATCH_NFPROTO, 10);
	ir_rule_match_num(r, IR_MATCH_L4PROTO, IPPROTO_UDP);
	ir_rule_match_num(r, IR_MATCH_SPORT, 123);
	m = ir_rule_match_num(r, IR_MATCH_DPORT, 4460);
	m->negate = true;
	r->verdict = IR_VERDICT_DROP;
	r = ir_rule_add(c, "prefixes", NULL);
	a = addr("203.0.113.128");
	ir_rule_match_prefix(r, IR_MATCH_SADDR, &a, 25);
	a = addr("2001:db8::");
	m = ir_rule_match_prefix(r, IR_MATCH_DADDR, &a, 127);
	m->negate = true;
	a = addr("0.0.0.0");
	ir_rule_match_prefix(r, IR_MATCH_DADDR, &a, 0);
	ir_rule_set_log(r, "p: ");
	r->verdict = IR_VERDICT_REJECT;
	r = ir_rule_add(c, "sets", NULL);
	ir_rule_match_set(r, IR_MATCH_SADDR_SET, "up6");
	m = ir_rule_match_set(r, IR_MATCH_DADDR_SET, "up4");
	m->negate = true;
	ir_rule_match_num(r, IR_MATCH_CT_STATE, IR_CT_NEW | IR_CT_ESTABLISHED | IR_CT_UNTRACKED);
	m = ir_rule_match_num(r, IR_MATCH_CT_STATE, IR_CT_INVALID);
	m->negate = true;
	r->notrack = true;
	r = ir_rule_add(c, "ntp", NULL);
	ir_rule_match_num(r, IR_MATCH_NTP_MODE, 1u << 3);
	m = ir_rule_match_num(r, IR_MATCH_NTP_VERSION, 1u << 4);
	m->negate = true;
	ir_rule_match_num(r, IR_MATCH_NTP_OPCODE, (1u << 3) | (1u << 31));
	r = ir_rule_add(c, "rate", NULL);
	m = ir_rule_add_match(r, IR_MATCH_RATE_OVER);
	m->u.limit.set = xstrdup("rl4");
	m->u.limit.rate = 600;
	m->u.limit.unit_s = 60;
	m->u.limit.burst = 20;
	r->verdict = IR_VERDICT_DROP;
	r = ir_rule_add(c, "log", NULL);
	ir_rule_match_num(r, IR_MATCH_DPORT, 123);
	m = ir_rule_add_match(r, IR_MATCH_LIMIT);
	m->u.rate = (struct ir_rate){ 5, 60, 5 };
	ir_rule_set_log(r, "t oth-d: ");
	r = ir_rule_add(c, "limit-over", NULL);
	m = ir_rule_add_match(r, IR_MATCH_LIMIT);
	m->u.rate = (struct ir_rate){ 100, 1, 7 };
	m->negate = true;
	r->verdict = IR_VERDICT_DROP;
	n = c->n_rules;
	for (size_t i = 0; i < n; i++) {
		const struct ir_rule *back = round_trip(&c->rules[i], out);

		ck_assert_msg(ir_rule_equal(&c->rules[i], back), "rule %s", c->rules[i].comment);
		ck_assert_ptr_null(back->unknown);
	}
}
END_TEST

static struct nftnl_expr *payload(uint32_t base, uint32_t off, uint32_t len)
{
	return bnft_x_payload(base, off, len);
}

/* nft's own encodings of hand-made rules raise to the same IR. */
START_TEST(nft_forms)
{
	struct bnft_raise_ctx rc = { .rs = rs };
	struct ir_chain *out = ir_chain_add(rs, "out", IR_HOOK_NONE, 0);
	struct nftnl_rule *r = nftnl_rule_alloc(), *back;
	struct nftnl_expr *e;
	uint8_t ten = 10, v = 0x20, lo = 6, hi = 7;
	struct ir_rule *res;

	/* ip saddr 10.0.0.0/8: nft loads one byte. */
	nftnl_rule_add_expr(r, payload(NFT_PAYLOAD_NETWORK_HEADER, 12, 1));
	nftnl_rule_add_expr(r, bnft_x_cmp(NFT_CMP_EQ, &ten, 1));
	/* @th,66,3 < 4: versions 0..3. */
	nftnl_rule_add_expr(r, payload(NFT_PAYLOAD_TRANSPORT_HEADER, 8, 1));
	v = 0x38;
	nftnl_rule_add_expr(r, bnft_x_bitwise(&v, 1));
	v = 0x20;
	nftnl_rule_add_expr(r, bnft_x_cmp(NFT_CMP_LT, &v, 1));
	/* @th,64,8 & 7 6-7: a range. */
	nftnl_rule_add_expr(r, payload(NFT_PAYLOAD_TRANSPORT_HEADER, 8, 1));
	v = 7;
	nftnl_rule_add_expr(r, bnft_x_bitwise(&v, 1));
	e = nftnl_expr_alloc("range");
	nftnl_expr_set_u32(e, NFTNL_EXPR_RANGE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_RANGE_OP, NFT_RANGE_EQ);
	nftnl_expr_set(e, NFTNL_EXPR_RANGE_FROM_DATA, &lo, 1);
	nftnl_expr_set(e, NFTNL_EXPR_RANGE_TO_DATA, &hi, 1);
	nftnl_rule_add_expr(r, e);
	back = through_netlink(r);
	res = ir_rule_add(out, NULL, NULL);
	res->counter = false;
	bnft_rule_raise(&rc, back, res);
	ck_assert_ptr_null(res->unknown);
	ck_assert_uint_eq(res->n_matches, 3);
	ck_assert_int_eq(res->matches[0].type, IR_MATCH_SADDR);
	ck_assert_uint_eq(res->matches[0].u.prefix.len, 8);
	ck_assert_int_eq(res->matches[1].type, IR_MATCH_NTP_VERSION);
	ck_assert_uint_eq(res->matches[1].u.bits, 0x0f);
	ck_assert_int_eq(res->matches[2].type, IR_MATCH_NTP_MODE);
	ck_assert_uint_eq(res->matches[2].u.bits, 0xc0);
	nftnl_rule_free(r);
	nftnl_rule_free(back);
}
END_TEST

/* Raise a rule built by hand (as nft would load it) into a new IR rule. */
static struct ir_rule *raise_built(struct nftnl_rule *r, struct ir_chain *out)
{
	struct bnft_raise_ctx rc = { .rs = rs };
	struct nftnl_rule *back = through_netlink(r);
	struct ir_rule *res = ir_rule_add(out, NULL, NULL);

	res->counter = false;
	ck_assert_int_eq(bnft_rule_raise(&rc, back, res), 0);
	nftnl_rule_free(r);
	nftnl_rule_free(back);
	return res;
}

/* `udp sport 123 udp dport 123` as nft loads it: one 4-byte compare at
 * transport offset 0 (payload merging). It is the two port matches, as
 * ntpwall lowers them; a 4-byte != is not "both differ" and stays unknown. */
START_TEST(merged_ports)
{
	struct ir_chain *c = ir_chain_add(rs, "in", IR_HOOK_INPUT, 0);
	struct ir_chain *out = ir_chain_add(rs, "out", IR_HOOK_NONE, 0);
	static const uint8_t both[4] = { 0x00, 0x7b, 0x11, 0x6c };	/* 123, 4460 */
	uint8_t udp = IPPROTO_UDP;
	struct nftnl_rule *r;
	struct ir_rule *want, *got;

	want = ir_rule_add(c, NULL, NULL);
	want->counter = false;
	ir_rule_match_num(want, IR_MATCH_L4PROTO, IPPROTO_UDP);
	ir_rule_match_num(want, IR_MATCH_SPORT, 123);
	ir_rule_match_num(want, IR_MATCH_DPORT, 4460);
	want->verdict = IR_VERDICT_ACCEPT;
	for (int neq = 0; neq < 2; neq++) {
		r = nftnl_rule_alloc();
		nftnl_rule_add_expr(r, bnft_x_meta(NFT_META_L4PROTO));
		nftnl_rule_add_expr(r, bnft_x_cmp(NFT_CMP_EQ, &udp, 1));
		nftnl_rule_add_expr(r, payload(NFT_PAYLOAD_TRANSPORT_HEADER, 0, 4));
		nftnl_rule_add_expr(r, bnft_x_cmp(neq ? NFT_CMP_NEQ : NFT_CMP_EQ, both, 4));
		{
			struct nftnl_expr *e = nftnl_expr_alloc("immediate");

			nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
			nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, NF_ACCEPT);
			nftnl_rule_add_expr(r, e);
		}
		got = raise_built(r, out);
		if (neq) {
			ck_assert_ptr_nonnull(got->unknown);
		} else {
			ck_assert_ptr_null(got->unknown);
			ck_assert(ir_rule_equal(want, got));
		}
	}
}
END_TEST

/* meta iifname and a compare of data (len bytes). */
static struct ir_rule *raise_ifname_cmp(struct ir_chain *out, const char *data, uint32_t len)
{
	struct nftnl_rule *r = nftnl_rule_alloc();

	nftnl_rule_add_expr(r, bnft_x_meta(NFT_META_IIFNAME));
	nftnl_rule_add_expr(r, bnft_x_cmp(NFT_CMP_EQ, data, len));
	return raise_built(r, out);
}

/* Only the zero-padded 16 bytes are the exact name: nft loads the wildcard
 * `iifname "lo*"` as a compare of 2 bytes, which must not read as "lo". */
START_TEST(ifname_exact_only)
{
	struct ir_chain *out = ir_chain_add(rs, "out", IR_HOOK_NONE, 0);
	char name[16] = "lo";
	struct ir_rule *x;

	x = raise_ifname_cmp(out, name, 16);
	ck_assert_ptr_null(x->unknown);
	ck_assert_uint_eq(x->n_matches, 1);
	ck_assert_int_eq(x->matches[0].type, IR_MATCH_IIFNAME);
	ck_assert_str_eq(x->matches[0].u.ifname, "lo");
	ck_assert_ptr_nonnull(raise_ifname_cmp(out, "lo", 2)->unknown);
	ck_assert_ptr_nonnull(raise_ifname_cmp(out, "lo", 3)->unknown);
	name[9] = 'x';	/* bytes after the name's end */
	ck_assert_ptr_nonnull(raise_ifname_cmp(out, name, 16)->unknown);
	memset(name, 'a', sizeof(name));	/* no terminating zero */
	ck_assert_ptr_nonnull(raise_ifname_cmp(out, name, 16)->unknown);
}
END_TEST

/* `update @rl4 { ip saddr limit rate over 8/second burst 16 packets }` as
 * nft loads it, with one dynset attribute more (attr 0: none). */
static struct ir_rule *raise_update(struct ir_chain *out, uint16_t attr, uint64_t v)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nftnl_expr *dyn = nftnl_expr_alloc("dynset");
	struct nftnl_expr *lim = nftnl_expr_alloc("limit");

	nftnl_rule_add_expr(r, payload(NFT_PAYLOAD_NETWORK_HEADER, 12, 4));
	nftnl_expr_set_u64(lim, NFTNL_EXPR_LIMIT_RATE, 8);
	nftnl_expr_set_u64(lim, NFTNL_EXPR_LIMIT_UNIT, 1);
	nftnl_expr_set_u32(lim, NFTNL_EXPR_LIMIT_BURST, 16);
	nftnl_expr_set_u32(lim, NFTNL_EXPR_LIMIT_TYPE, NFT_LIMIT_PKTS);
	nftnl_expr_set_u32(lim, NFTNL_EXPR_LIMIT_FLAGS, NFT_LIMIT_F_INV);
	nftnl_expr_set_u32(dyn, NFTNL_EXPR_DYNSET_SREG_KEY, NFT_REG_1);
	nftnl_expr_set_u32(dyn, NFTNL_EXPR_DYNSET_OP, NFT_DYNSET_OP_UPDATE);
	nftnl_expr_set_str(dyn, NFTNL_EXPR_DYNSET_SET_NAME, "rl4");
	/* As the kernel dumps them: a timeout and flags, both 0. */
	nftnl_expr_set_u64(dyn, NFTNL_EXPR_DYNSET_TIMEOUT, 0);
	nftnl_expr_set_u32(dyn, NFTNL_EXPR_DYNSET_FLAGS, 0);
	if (attr == NFTNL_EXPR_DYNSET_TIMEOUT)
		nftnl_expr_set_u64(dyn, attr, v);
	else if (attr)
		nftnl_expr_set_u32(dyn, attr, (uint32_t)v);
	nftnl_expr_set(dyn, NFTNL_EXPR_DYNSET_EXPR, lim, 0);
	nftnl_rule_add_expr(r, dyn);
	return raise_built(r, out);
}

static struct ir_rule *raise_limit(struct ir_chain *out, uint32_t type, uint32_t flags)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nftnl_expr *lim = nftnl_expr_alloc("limit");

	nftnl_expr_set_u64(lim, NFTNL_EXPR_LIMIT_RATE, 5);
	nftnl_expr_set_u64(lim, NFTNL_EXPR_LIMIT_UNIT, 60);
	nftnl_expr_set_u32(lim, NFTNL_EXPR_LIMIT_BURST, 5);
	nftnl_expr_set_u32(lim, NFTNL_EXPR_LIMIT_TYPE, type);
	nftnl_expr_set_u32(lim, NFTNL_EXPR_LIMIT_FLAGS, flags);
	nftnl_rule_add_expr(r, lim);
	return raise_built(r, out);
}

/* `limit rate 5/minute` is the plain limit match; a byte limit (`limit
 * rate 5 kbytes/minute`) or an unknown flag stays unknown. */
START_TEST(limit_packets_only)
{
	struct ir_chain *out = ir_chain_add(rs, "out", IR_HOOK_NONE, 0);
	struct ir_rule *x = raise_limit(out, NFT_LIMIT_PKTS, 0);

	ck_assert_ptr_null(x->unknown);
	ck_assert_uint_eq(x->n_matches, 1);
	ck_assert_int_eq(x->matches[0].type, IR_MATCH_LIMIT);
	ck_assert(!x->matches[0].negate);
	ck_assert_uint_eq(x->matches[0].u.rate.rate, 5);
	ck_assert_uint_eq(x->matches[0].u.rate.unit_s, 60);
	ck_assert_uint_eq(x->matches[0].u.rate.burst, 5);
	ck_assert(raise_limit(out, NFT_LIMIT_PKTS, NFT_LIMIT_F_INV)->matches[0].negate);
	ck_assert_ptr_nonnull(raise_limit(out, NFT_LIMIT_PKT_BYTES, 0)->unknown);
	ck_assert_ptr_nonnull(raise_limit(out, NFT_LIMIT_PKTS, 0x2)->unknown);
}
END_TEST

/* The meter's update is the rate match only as ntpwall makes it: with a
 * timeout (`update @rl4 { ip saddr timeout 10s limit ... }`), inverted,
 * or writing data, it is another filter. */
START_TEST(update_exact_only)
{
	struct ir_chain *out = ir_chain_add(rs, "out", IR_HOOK_NONE, 0);
	struct ir_rule *x = raise_update(out, 0, 0);

	ck_assert_ptr_null(x->unknown);
	ck_assert_uint_eq(x->n_matches, 1);
	ck_assert_int_eq(x->matches[0].type, IR_MATCH_RATE_OVER);
	ck_assert_uint_eq(x->matches[0].u.limit.burst, 16);
	ck_assert_ptr_nonnull(raise_update(out, NFTNL_EXPR_DYNSET_TIMEOUT, 10000)->unknown);
	ck_assert_ptr_nonnull(raise_update(out, NFTNL_EXPR_DYNSET_FLAGS, NFT_DYNSET_F_INV)->unknown);
	ck_assert_ptr_nonnull(raise_update(out, NFTNL_EXPR_DYNSET_SREG_DATA, NFT_REG_2)->unknown);
}
END_TEST

/* `udp dport 123 log prefix "x: " drop` with one attribute of one of its
 * expressions changed (k: which expression, attr 0: none). */
static struct ir_rule *raise_changed(struct ir_chain *out, size_t k, uint16_t attr, uint32_t v)
{
	static const uint8_t udp = IPPROTO_UDP, port[2] = { 0, 123 };
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nftnl_expr *e[6], *log = nftnl_expr_alloc("log");
	struct nftnl_expr *drop = nftnl_expr_alloc("immediate");

	nftnl_expr_set_str(log, NFTNL_EXPR_LOG_PREFIX, "x: ");
	nftnl_expr_set_u32(log, NFTNL_EXPR_LOG_LEVEL, NFT_LOGLEVEL_WARNING);
	nftnl_expr_set_u32(drop, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(drop, NFTNL_EXPR_IMM_VERDICT, NF_DROP);
	e[0] = bnft_x_meta(NFT_META_L4PROTO);
	e[1] = bnft_x_cmp(NFT_CMP_EQ, &udp, 1);
	e[2] = payload(NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
	e[3] = bnft_x_cmp(NFT_CMP_EQ, port, 2);
	e[4] = log;
	e[5] = drop;
	if (attr)
		nftnl_expr_set_u32(e[k], attr, v);
	for (size_t i = 0; i < ARRAY_SIZE(e); i++)
		nftnl_rule_add_expr(r, e[i]);
	return raise_built(r, out);
}

/* Every attribute of every expression is checked: another register (the
 * compare would read a stale one), a payload or meta write, a log to
 * nflog or at another level are not what ntpwall made. */
START_TEST(every_attribute)
{
	static const struct { size_t k; uint16_t attr; uint32_t v; } changed[] = {
		{ 0, NFTNL_EXPR_META_DREG, NFT_REG_2 },
		{ 0, NFTNL_EXPR_META_SREG, NFT_REG_1 },
		{ 1, NFTNL_EXPR_CMP_SREG, NFT_REG_2 },
		{ 2, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG32_01 },
		{ 2, NFTNL_EXPR_PAYLOAD_SREG, NFT_REG_1 },
		{ 2, NFTNL_EXPR_PAYLOAD_CSUM_TYPE, NFT_PAYLOAD_CSUM_INET },
		{ 3, NFTNL_EXPR_CMP_SREG, NFT_REG_3 },
		{ 4, NFTNL_EXPR_LOG_LEVEL, NFT_LOGLEVEL_EMERG },
		{ 4, NFTNL_EXPR_LOG_GROUP, 1 },
		{ 4, NFTNL_EXPR_LOG_FLAGS, NF_LOG_TCPSEQ },
	};
	struct ir_chain *out = ir_chain_add(rs, "out", IR_HOOK_NONE, 0);
	struct ir_rule *x = raise_changed(out, 0, 0, 0);

	ck_assert_ptr_null(x->unknown);
	ck_assert_uint_eq(x->n_matches, 2);
	ck_assert_str_eq(x->log_prefix, "x: ");
	ck_assert_int_eq(x->verdict, IR_VERDICT_DROP);
	for (size_t i = 0; i < ARRAY_SIZE(changed); i++) {
		x = raise_changed(out, changed[i].k, changed[i].attr, changed[i].v);
		ck_assert_msg(x->unknown != NULL, "change %zu read as ntpwall's", i);
	}
}
END_TEST

/* A rule of family nfproto (0: none) ending in reject type/code. */
static struct ir_rule *raise_reject(struct ir_chain *out, uint8_t nfproto, uint32_t type,
				   uint8_t code)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nftnl_expr *e = nftnl_expr_alloc("reject");

	if (nfproto) {
		nftnl_rule_add_expr(r, bnft_x_meta(NFT_META_NFPROTO));
		nftnl_rule_add_expr(r, bnft_x_cmp(NFT_CMP_EQ, &nfproto, 1));
	}
	nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE, type);
	nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE, code);
	nftnl_rule_add_expr(r, e);
	return raise_built(r, out);
}

/* `meta nfproto ipv4 reject with icmp port-unreachable` is what render_nft
 * writes and nft loads as ICMP type/code: the same as ntpwall's icmpx
 * port-unreachable only where the rule is of that one family. */
START_TEST(family_reject)
{
	struct ir_chain *out = ir_chain_add(rs, "out", IR_HOOK_NONE, 0);
	struct ir_rule *x;

	x = raise_reject(out, IR_NFPROTO_IPV4, NFT_REJECT_ICMP_UNREACH, 3);
	ck_assert_ptr_null(x->unknown);
	ck_assert_int_eq(x->verdict, IR_VERDICT_REJECT);
	x = raise_reject(out, IR_NFPROTO_IPV6, NFT_REJECT_ICMP_UNREACH, 4);
	ck_assert_ptr_null(x->unknown);
	ck_assert_int_eq(x->verdict, IR_VERDICT_REJECT);
	x = raise_reject(out, 0, NFT_REJECT_ICMPX_UNREACH, NFT_REJECT_ICMPX_PORT_UNREACH);
	ck_assert_int_eq(x->verdict, IR_VERDICT_REJECT);
	/* Another code, or an ICMP code in a rule of both families. */
	ck_assert_ptr_nonnull(raise_reject(out, IR_NFPROTO_IPV6, NFT_REJECT_ICMP_UNREACH, 3)->unknown);
	ck_assert_ptr_nonnull(raise_reject(out, 0, NFT_REJECT_ICMP_UNREACH, 3)->unknown);
	ck_assert_ptr_nonnull(raise_reject(out, IR_NFPROTO_IPV4, NFT_REJECT_ICMP_UNREACH, 1)->unknown);
	ck_assert_ptr_nonnull(raise_reject(out, IR_NFPROTO_IPV4, NFT_REJECT_TCP_RST, 0)->unknown);
}
END_TEST

/* reject is lowered as nft lowers it: that family's ICMP port unreachable
 * in a rule of one family, icmpx otherwise; each raises back to reject. */
START_TEST(reject_lowered_as_nft)
{
	static const struct { uint32_t nfproto, type; uint8_t code; } cases[] = {
		{ IR_NFPROTO_IPV4, NFT_REJECT_ICMP_UNREACH, 3 },
		{ IR_NFPROTO_IPV6, NFT_REJECT_ICMP_UNREACH, 4 },
		{ 0, NFT_REJECT_ICMPX_UNREACH, NFT_REJECT_ICMPX_PORT_UNREACH },
	};
	struct ir_chain *c = ir_chain_add(rs, "in", IR_HOOK_INPUT, 0);
	struct ir_chain *out = ir_chain_add(rs, "out", IR_HOOK_NONE, 0);

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct bnft_lower_ctx lc = { .rs = rs, .next_id = 100 };
		struct nftnl_rule *r = nftnl_rule_alloc();
		struct ir_rule *x = ir_rule_add(c, NULL, NULL);
		struct nftnl_expr_iter *it;
		struct nftnl_expr *e, *last = NULL;

		ir_rule_match_num(x, IR_MATCH_L4PROTO, IPPROTO_UDP);
		if (cases[i].nfproto)
			ir_rule_match_num(x, IR_MATCH_NFPROTO, cases[i].nfproto);
		x->verdict = IR_VERDICT_REJECT;
		ck_assert_int_eq(bnft_rule_lower(&lc, x, r), 0);
		it = nftnl_expr_iter_create(r);
		while ((e = nftnl_expr_iter_next(it)))
			last = e;
		nftnl_expr_iter_destroy(it);
		ck_assert_str_eq(nftnl_expr_get_str(last, NFTNL_EXPR_NAME), "reject");
		ck_assert_uint_eq(nftnl_expr_get_u32(last, NFTNL_EXPR_REJECT_TYPE), cases[i].type);
		ck_assert_uint_eq(nftnl_expr_get_u8(last, NFTNL_EXPR_REJECT_CODE), cases[i].code);
		nftnl_rule_free(r);
		ck_assert(ir_rule_equal(x, round_trip(x, out)));
	}
}
END_TEST

/* A shape no row knows (tcp flags) is kept as text, never dropped. */
START_TEST(unknown_kept)
{
	struct bnft_raise_ctx rc = { .rs = rs };
	struct ir_chain *out = ir_chain_add(rs, "out", IR_HOOK_NONE, 0);
	struct nftnl_rule *r = nftnl_rule_alloc(), *back;
	uint8_t syn = 0x02, zero = 0;
	struct ir_rule *res;

	nftnl_rule_add_expr(r, payload(NFT_PAYLOAD_TRANSPORT_HEADER, 13, 1));
	nftnl_rule_add_expr(r, bnft_x_bitwise(&syn, 1));
	nftnl_rule_add_expr(r, bnft_x_cmp(NFT_CMP_NEQ, &zero, 1));
	nftnl_rule_add_expr(r, nftnl_expr_alloc("counter"));
	back = through_netlink(r);
	res = ir_rule_add(out, NULL, NULL);
	res->counter = false;
	bnft_rule_raise(&rc, back, res);
	ck_assert_ptr_nonnull(res->unknown);
	ck_assert_ptr_nonnull(strstr(res->unknown, "payload"));
	nftnl_rule_free(r);
	nftnl_rule_free(back);
}
END_TEST

/* What the backend cannot express is refused before anything is sent. */
START_TEST(refusals)
{
	struct ir_chain *c = ir_chain_add(rs, "in", IR_HOOK_INPUT, 0);
	struct bnft_lower_ctx lc = { .rs = rs, .next_id = 100 };
	struct nftnl_rule *r;
	struct ir_rule *x;
	char long_comment[200];

	x = ir_rule_add(c, NULL, NULL);
	ir_rule_match_set(x, IR_MATCH_SADDR_SET, "nosuchset");
	r = nftnl_rule_alloc();
	ck_assert_int_eq(bnft_rule_lower(&lc, x, r), -ENOENT);
	nftnl_rule_free(r);
	x = ir_rule_add(c, NULL, NULL);
	ir_rule_match_num(x, IR_MATCH_NTP_MODE, 0);
	r = nftnl_rule_alloc();
	ck_assert_int_eq(bnft_rule_lower(&lc, x, r), -EINVAL);
	nftnl_rule_free(r);
	memset(long_comment, 'x', sizeof(long_comment) - 1);
	long_comment[sizeof(long_comment) - 1] = '\0';
	x = ir_rule_add(c, long_comment, NULL);
	r = nftnl_rule_alloc();
	ck_assert_int_eq(bnft_rule_lower(&lc, x, r), -ENAMETOOLONG);
	nftnl_rule_free(r);
}
END_TEST

/* A batch is built without a socket: its messages are numbered from the
 * caller's counter, each says what it is about, and the counter is left
 * past END. */
START_TEST(build_without_socket)
{
	static const enum bnft_msg_kind want[] = {
		BNFT_OBJ_BEGIN, BNFT_OBJ_TABLE, BNFT_OBJ_TABLE, BNFT_OBJ_TABLE,
		BNFT_OBJ_SET, BNFT_OBJ_SET, BNFT_OBJ_SET, BNFT_OBJ_CHAIN,
		BNFT_OBJ_ANON, BNFT_OBJ_ANON, BNFT_OBJ_RULE,
	};
	struct ir_chain *c = ir_chain_add(rs, "in", IR_HOOK_INPUT, 0);
	struct ir_rule *r = ir_rule_add(c, "modes", NULL);
	uint32_t seq = 1000;
	struct bnft_tx tx;

	ir_rule_match_set(r, IR_MATCH_SADDR_SET, "up4");
	ir_rule_match_num(r, IR_MATCH_NTP_MODE, (1u << 6) | (1u << 7));
	r->verdict = IR_VERDICT_DROP;
	ck_assert_int_eq(bnft_tx_build(&tx, &seq, rs, rs->table, NULL, NULL), 0);
	ck_assert_uint_eq(tx.n, ARRAY_SIZE(want));
	for (size_t i = 0; i < tx.n; i++) {
		ck_assert_int_eq(tx.msgs[i].kind, want[i]);
		ck_assert_uint_eq(tx.msgs[i].seq, 1000 + i);
		ck_assert_uint_eq(tx.msgs[i].nlh->nlmsg_seq, 1000 + i);
	}
	ck_assert_uint_eq(tx.msgs[10].rule, 0);
	ck_assert_uint_eq(seq, 1000 + tx.n + 1);
	bnft_tx_free(&tx);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("backend_nft");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, every_match_type);
	tcase_add_test(tc, nft_forms);
	tcase_add_test(tc, merged_ports);
	tcase_add_test(tc, limit_packets_only);
	tcase_add_test(tc, family_reject);
	tcase_add_test(tc, reject_lowered_as_nft);
	tcase_add_test(tc, ifname_exact_only);
	tcase_add_test(tc, update_exact_only);
	tcase_add_test(tc, every_attribute);
	tcase_add_test(tc, unknown_kept);
	tcase_add_test(tc, refusals);
	tcase_add_test(tc, build_without_socket);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
