/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The iptables backend without a kernel: every example policy laid out as
 * iptables chains, encoded into xtables entries, decoded and raised back
 * equals its ruleset; the entries have the sizes and revisions of
 * doc/iptables-notes.md §3; a table edited by hand never reads back equal;
 * chain names stay within 28 characters; hashlimit names carry their
 * settings; what iptables cannot hold is refused with a message. */
#include "backend_ipt_int.h"
#include "fake_resolved.h"
#include "ntpwall/compile.h"
#include "ntpwall/util.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <glob.h>
#include <libiptc/libiptc.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

static struct ir_ruleset *compile_file(const char *path)
{
	struct ir_ruleset *rs = fake_compile(path, POLICY_BACKEND_IPTABLES);

	ck_assert_msg(rs, "%s does not compile", path);
	return rs;
}

static size_t n_policies(glob_t *g)
{
	const char *src = getenv("SRCDIR");
	char *pat1, *pat2;

	ck_assert_ptr_nonnull(src);
	pat1 = xasprintf("%s/policies/*.yaml", src);
	pat2 = xasprintf("%s/tests/golden/*.yaml", src);
	ck_assert_int_eq(glob(pat1, 0, NULL, g), 0);
	ck_assert_int_eq(glob(pat2, GLOB_APPEND, NULL, g), 0);
	free(pat1);
	free(pat2);
	return g->gl_pathc;
}

/* A copy of l as the kernel would give it back: entries only, decoded. */
static void as_read(const struct bipt_layout *l, struct bipt_layout *out)
{
	const struct bipt_fam *f = &bipt_fams[l->fam];

	memset(out, 0, sizeof(*out));
	out->fam = l->fam;
	out->table = l->table;
	for (int pass = 0; pass < 2; pass++) {
		size_t n = pass ? l->n_jumps : l->n;

		for (size_t i = 0; i < n; i++) {
			const struct bipt_chain *c = pass ? &l->jumps[i] : &l->chains[i];
			struct bipt_chain *o = pass ? bipt_layout_jumps(out, c->name) :
						      bipt_layout_chain(out, c->name);

			for (size_t j = 0; j < c->n; j++) {
				struct bipt_rule *r = bipt_chain_add(o);

				r->entry = xmalloc(c->rules[j].entry_len);
				memcpy(r->entry, c->rules[j].entry, c->rules[j].entry_len);
				r->entry_len = c->rules[j].entry_len;
				bipt_rule_decode(f, r);
			}
		}
	}
}

static void lay_and_read(const struct ir_ruleset *rs, struct bipt_all *want, struct bipt_all *got)
{
	struct diags d;

	diag_init(&d, 0);
	ck_assert_int_eq(bipt_layout_all(rs, want, &d), 0);
	for (int f = 0; f < BIPT_NFAM; f++) {
		for (int t = 0; t < BIPT_NTAB; t++) {
			ck_assert_int_eq(bipt_layout_encode(&want->t[f][t], &d), 0);
			as_read(&want->t[f][t], &got->t[f][t]);
		}
	}
	diag_free(&d);
}

START_TEST(every_policy_round_trips)
{
	glob_t g;
	size_t n = n_policies(&g);

	ck_assert_uint_ge(n, 7);
	for (size_t i = 0; i < n; i++) {
		struct ir_ruleset *rs = compile_file(g.gl_pathv[i]), *back = NULL;
		struct bipt_all want, got;
		struct diags d;

		diag_init(&d, 0);
		ck_assert_msg(bipt_check_roundtrip(rs, NULL, &d) == 0, "%s: %s", g.gl_pathv[i],
			      d.n ? d.v[0].msg : "?");
		lay_and_read(rs, &want, &got);
		ck_assert_int_eq(bipt_raise(rs->table, &got, &back), 0);
		ck_assert_msg(ir_ruleset_equal(rs, back), "%s", g.gl_pathv[i]);
		ir_ruleset_free(back);
		bipt_all_free(&want);
		bipt_all_free(&got);
		ir_ruleset_free(rs);
		diag_free(&d);
	}
	globfree(&g);
}
END_TEST

/* Every match and target with the revision and size of §3 of the notes. */
START_TEST(entry_sizes)
{
	static const struct { const char *name; uint8_t rev; size_t size; } want[] = {
		{ "udp", 0, 48 }, { "u32", 0, 2016 }, { "conntrack", 3, 200 },
		{ "hashlimit", 3, 344 }, { "comment", 0, 288 }, { "LOG", 0, 64 },
	};
	const struct bipt_fam *f = &bipt_fams[BIPT_V4];
	struct bipt_rule r = { 0 };
	size_t off, i = 0;

	r.proto = IPPROTO_UDP;
	r.dport_set = true;
	r.dport = 123;
	r.u32[r.n_u32++] = (struct bipt_u32){ IR_MATCH_NTP_MODE, 1u << 3, false };
	r.ct = true;
	r.ct_bits = IR_CT_NEW | IR_CT_ESTABLISHED;
	r.limit = true;
	r.hl = (struct bipt_limit){ .name = "t-rl4-00000000", .rate = 16, .unit_s = 1, .burst = 32,
				    .max = 65536, .expire_ms = 60000 };
	r.has_comment = true;
	strcpy(r.comment, "c");
	r.target = BIPT_T_LOG;
	strcpy(r.log_prefix, "p: ");
	ck_assert_int_eq(bipt_rule_encode(f, &r), 0);
	for (off = f->entry_size; i < ARRAY_SIZE(want); i++) {
		const struct xt_entry_match *m = (const void *)(r.entry + off);

		ck_assert_str_eq(m->u.user.name, want[i].name);
		ck_assert_uint_eq(m->u.user.revision, want[i].rev);
		ck_assert_uint_eq(m->u.match_size, want[i].size);
		off += m->u.match_size;
	}
	ck_assert_uint_eq(bipt_entry_target_offset(f, r.entry), off - 64);
	ck_assert_uint_eq(r.entry_len, f->entry_size + 48 + 2016 + 200 + 344 + 288 + 64);
	/* Decoded back to the same fields. */
	{
		struct bipt_rule d = { .entry = r.entry, .entry_len = r.entry_len };

		bipt_rule_decode(f, &d);
		ck_assert_ptr_null(d.unknown);
		ck_assert(d.dport_set && d.dport == 123 && d.n_u32 == 1 && d.u32[0].bits == 8);
		ck_assert(d.ct && d.ct_bits == (IR_CT_NEW | IR_CT_ESTABLISHED));
		ck_assert(d.limit && d.hl.avg == 62500 && d.hl.burst == 32 && !d.hl.upto);
		ck_assert_str_eq(d.log_prefix, "p: ");
		d.entry = NULL;
		bipt_rule_free(&d);
	}
	bipt_rule_free(&r);
	r = (struct bipt_rule){ .target = BIPT_T_NOTRACK };
	ck_assert_int_eq(bipt_rule_encode(f, &r), 0);
	ck_assert_uint_eq(r.entry_len, f->entry_size + 104);
	bipt_rule_free(&r);
	r = (struct bipt_rule){ .proto = IPPROTO_UDP, .n_ports = 1, .ports = { 123 },
				.target = BIPT_T_REJECT };
	ck_assert_int_eq(bipt_rule_encode(&bipt_fams[BIPT_V6], &r), 0);
	ck_assert_uint_eq(r.entry_len, bipt_fams[BIPT_V6].entry_size + 80 + 40);
	bipt_rule_free(&r);
}
END_TEST

/* The kernel keeps a hashlimit table's rate under an unchanged name: the
 * name says the settings, and reading it back tells 600/min from 10/s. */
START_TEST(hashlimit_names)
{
	struct bipt_limit a = { .rate = 600, .unit_s = 60, .burst = 20, .max = 16, .expire_ms = 1 };
	struct bipt_limit b = a, c;

	bipt_limit_name("t", "rl4", &a, a.name);
	b.rate = 10;
	b.unit_s = 1;
	bipt_limit_name("t", "rl4", &b, b.name);
	ck_assert_str_ne(a.name, b.name);
	ck_assert_int_eq(strncmp(a.name, "t-rl4-", 6), 0);
	ck_assert_uint_eq(strlen(a.name), 14);
	c = a;
	c.avg = 100000;
	c.rate = c.unit_s = 0;
	ck_assert(bipt_limit_rate("t", "rl4", &c));
	ck_assert_uint_eq(c.rate, 600);
	ck_assert_uint_eq(c.unit_s, 60);
	c = b;
	c.avg = 100000;
	ck_assert(bipt_limit_rate("t", "rl4", &c));
	ck_assert_uint_eq(c.rate, 10);
	ck_assert_uint_eq(c.unit_s, 1);
	c.burst = 21;
	ck_assert(!bipt_limit_rate("t", "rl4", &c));
}
END_TEST

/* A ruleset of n accept rules over a set each, for family-tagged table. */
static struct ir_ruleset *many_rules(const char *table, size_t n)
{
	struct ir_ruleset *rs = ir_ruleset_new(table);
	struct ir_set *s = ir_set_add(rs, "upstreams4", IR_KEY_IPV4, IR_SET_TIMEOUT);
	struct ir_chain *c = ir_chain_add(rs, COMPILE_CHAIN_INPUT, IR_HOOK_INPUT, 0);
	struct addr a;

	ck_assert_ptr_null(addr_parse("192.0.2.1", &a));
	ir_set_add_elem(s, &a, 32, NULL);
	for (size_t i = 0; i < n; i++) {
		struct ir_rule *r = ir_rule_add(c, "r", NULL);

		ir_rule_match_num(r, IR_MATCH_L4PROTO, IPPROTO_UDP);
		ir_rule_match_num(r, IR_MATCH_SPORT, 123);
		ir_rule_match_num(r, IR_MATCH_NFPROTO, IR_NFPROTO_IPV4);
		ir_rule_match_set(r, IR_MATCH_SADDR_SET, "upstreams4");
		r->verdict = i + 1 < n ? IR_VERDICT_ACCEPT : IR_VERDICT_DROP;
	}
	ir_ruleset_sort(rs);
	return rs;
}

START_TEST(chain_names)
{
	const char *table = "abcdefghijklmnopqrstuvwx";	/* 24, the longest */
	struct ir_ruleset *rs = many_rules(table, 200);
	struct bipt_all all;
	struct diags d;

	diag_init(&d, 0);
	ck_assert_int_eq(bipt_layout_all(rs, &all, &d), 0);
	ck_assert_uint_ge(all.t[BIPT_V4][BIPT_FILTER].n, 600);
	for (size_t i = 0; i < all.t[BIPT_V4][BIPT_FILTER].n; i++) {
		const char *name = all.t[BIPT_V4][BIPT_FILTER].chains[i].name;

		ck_assert_uint_le(strlen(name), BIPT_CHAIN_MAX);
		ck_assert(bipt_chain_ours(table, name));
	}
	/* One jump per protocol, first in INPUT. */
	ck_assert_uint_eq(all.t[BIPT_V4][BIPT_FILTER].n_jumps, 1);
	ck_assert_uint_eq(all.t[BIPT_V4][BIPT_FILTER].jumps[0].n, 1);
	ck_assert_int_eq(bipt_check_roundtrip(rs, NULL, &d), 0);
	bipt_all_free(&all);
	ir_ruleset_free(rs);
	/* Past 36 * 36 sub-chains a name would not fit: refused. */
	rs = many_rules(table, 700);
	ck_assert_int_eq(bipt_layout_all(rs, &all, &d), -ENAMETOOLONG);
	ck_assert_ptr_nonnull(strstr(d.v[d.n - 1].msg, "28 characters"));
	ir_ruleset_free(rs);
	diag_free(&d);
}
END_TEST

static struct ir_ruleset *compile_golden(const char *name)
{
	char *path = xasprintf("%s/%s", getenv("SRCDIR"), name);
	struct ir_ruleset *rs = compile_file(path);

	free(path);
	return rs;
}

static bool has_unknown(const struct ir_ruleset *rs)
{
	for (size_t i = 0; i < rs->n_chains; i++)
		for (size_t j = 0; j < rs->chains[i].n_rules; j++)
			if (rs->chains[i].rules[j].unknown)
				return true;
	return false;
}

static struct bipt_chain *chain_named(struct bipt_layout *l, const char *suffix)
{
	for (size_t i = 0; i < l->n; i++) {
		size_t n = strlen(l->chains[i].name), k = strlen(suffix);

		if (n >= k && !strcmp(l->chains[i].name + n - k, suffix))
			return &l->chains[i];
	}
	ck_abort_msg("no chain %s", suffix);
	return NULL;
}

/* Edited by hand: never read back equal, and apply would repair it. */
START_TEST(drift_is_found)
{
	struct ir_ruleset *rs = compile_golden("policies/stratum2-peers.yaml"), *back;
	struct bipt_all want, got;
	struct bipt_chain *c;
	struct bipt_rule tmp;

	/* An element entry deleted from one of upstreams4's two chains. */
	lay_and_read(rs, &want, &got);
	c = chain_named(&got.t[BIPT_V4][BIPT_FILTER], "-I8");
	ck_assert_uint_ge(c->n, 3);
	bipt_rule_free(&c->rules[1]);
	memmove(&c->rules[1], &c->rules[2], (c->n - 2) * sizeof(c->rules[0]));
	c->n--;
	ck_assert_int_eq(bipt_raise(rs->table, &got, &back), 0);
	ck_assert(!ir_ruleset_equal(rs, back));
	ck_assert(ir_ruleset_foreign(back));
	ir_ruleset_free(back);
	bipt_all_free(&got);
	bipt_all_free(&want);

	/* Two entries swapped: the same elements, another order. */
	lay_and_read(rs, &want, &got);
	c = chain_named(&got.t[BIPT_V4][BIPT_FILTER], "-I8");
	tmp = c->rules[1];
	c->rules[1] = c->rules[2];
	c->rules[2] = tmp;
	ck_assert_int_eq(bipt_raise(rs->table, &got, &back), 0);
	ck_assert(!ir_ruleset_equal(rs, back));
	ck_assert(has_unknown(back));
	ir_ruleset_free(back);
	bipt_all_free(&got);
	bipt_all_free(&want);

	/* One byte of a u32 match changed, and a jump duplicated. */
	for (int k = 0; k < 2; k++) {
		struct bipt_layout *l;

		lay_and_read(rs, &want, &got);
		l = &got.t[BIPT_V6][BIPT_FILTER];
		if (!k) {
			/* restrict-version-dport: udp, ipv6header, then u32 whose
			 * first value range starts 88 bytes into its data. */
			struct bipt_rule *e;
			unsigned char *buf;
			size_t len;

			c = chain_named(l, "-IN");
			e = &c->rules[2];
			ck_assert_str_eq(e->comment, "restrict-version-dport");
			buf = e->entry;
			len = e->entry_len;
			e->entry = NULL;
			bipt_rule_free(e);
			memset(e, 0, sizeof(*e));
			buf[bipt_fams[BIPT_V6].entry_size + 48 + 40 + 32 + 88]++;
			e->entry = buf;
			e->entry_len = len;
			bipt_rule_decode(&bipt_fams[BIPT_V6], e);
			ck_assert_ptr_null(e->unknown);
			ck_assert_uint_eq(e->u32[0].bits, 0x3e);
		} else {
			struct bipt_rule *r = bipt_chain_add(&l->jumps[0]);

			r->entry = xmalloc(l->jumps[0].rules[0].entry_len);
			memcpy(r->entry, l->jumps[0].rules[0].entry, l->jumps[0].rules[0].entry_len);
			r->entry_len = l->jumps[0].rules[0].entry_len;
			bipt_rule_decode(&bipt_fams[BIPT_V6], r);
		}
		ck_assert_int_eq(bipt_raise(rs->table, &got, &back), 0);
		ck_assert(!ir_ruleset_equal(rs, back));
		ir_ruleset_free(back);
		bipt_all_free(&got);
		bipt_all_free(&want);
	}
	ir_ruleset_free(rs);
}
END_TEST

/* IPv6: u32 reads the NTP header at a fixed offset, so every u32 rule
 * also needs "no extension header" (a mode-6 query behind a Destination
 * Options header must not slip past a restrict drop). */
START_TEST(ipv6_u32_guarded)
{
	struct ir_ruleset *rs = compile_golden("policies/lan-server.yaml");
	struct bipt_all all;
	struct diags d;
	size_t n = 0;

	diag_init(&d, 0);
	ck_assert_int_eq(bipt_layout_all(rs, &all, &d), 0);
	for (int t = 0; t < BIPT_NTAB; t++) {
		for (size_t i = 0; i < all.t[BIPT_V6][t].n; i++) {
			const struct bipt_chain *c = &all.t[BIPT_V6][t].chains[i];

			for (size_t j = 0; j < c->n; j++) {
				ck_assert(c->rules[j].v6_plain == (c->rules[j].n_u32 > 0));
				n += c->rules[j].n_u32 > 0;
			}
		}
	}
	for (size_t i = 0; i < all.t[BIPT_V4][BIPT_FILTER].n; i++)
		for (size_t j = 0; j < all.t[BIPT_V4][BIPT_FILTER].chains[i].n; j++)
			ck_assert(!all.t[BIPT_V4][BIPT_FILTER].chains[i].rules[j].v6_plain);
	ck_assert_uint_ge(n, 8);
	bipt_all_free(&all);
	ir_ruleset_free(rs);
	diag_free(&d);
}
END_TEST

/* -m limit, revision 0: xt_rateinfo (72 bytes with its header), avg in
 * the kernel's scale, read back in the smallest unit that gives it; the
 * compare stops where the kernel's state begins. */
START_TEST(limit_match)
{
	const struct bipt_fam *f = &bipt_fams[BIPT_V4];
	struct bipt_rule r = { .proto = IPPROTO_UDP, .dport_set = true, .dport = 123,
			       .rate = true, .target = BIPT_T_LOG };
	struct bipt_rule d = { 0 };
	const struct xt_entry_match *m;
	uint32_t rate, unit;
	unsigned char *copy;

	r.rt = (struct bipt_rate){ xt_limit_avg(5, 60), 5 };
	ck_assert_uint_eq(r.rt.avg, 120000);
	strcpy(r.log_prefix, "t oth-d: ");
	ck_assert_int_eq(bipt_rule_encode(f, &r), 0);
	m = (const void *)(r.entry + f->entry_size + 48);
	ck_assert_str_eq(m->u.user.name, "limit");
	ck_assert_uint_eq(m->u.user.revision, 0);
	ck_assert_uint_eq(m->u.match_size, 72);
	ck_assert_uint_eq(r.entry_len, f->entry_size + 48 + 72 + 64);
	d.entry = r.entry;
	d.entry_len = r.entry_len;
	bipt_rule_decode(f, &d);
	ck_assert_ptr_null(d.unknown);
	ck_assert(d.rate && d.rt.avg == 120000 && d.rt.burst == 5);
	d.entry = NULL;
	bipt_rule_free(&d);
	/* What the kernel writes behind avg and burst (prev, credit, ...)
	 * is not a difference; the burst is. */
	copy = xmalloc(r.entry_len);
	memcpy(copy, r.entry, r.entry_len);
	memset(copy + f->entry_size + 48 + 32 + 8, 0x5a, 32);
	ck_assert(bipt_entry_equal(f, r.entry, copy));
	copy[f->entry_size + 48 + 32 + 4]++;
	ck_assert(!bipt_entry_equal(f, r.entry, copy));
	free(copy);
	bipt_rule_free(&r);
	ck_assert(xt_limit_rate(120000, &rate, &unit) && rate == 5 && unit == 60);
	ck_assert(xt_limit_rate(xt_limit_avg(7, 60), &rate, &unit) && rate == 7 && unit == 60);
	ck_assert(xt_limit_rate(xt_limit_avg(3, 3600), &rate, &unit) && rate == 3 && unit == 3600);
	/* 60/minute is 1/second to the kernel. */
	ck_assert(xt_limit_rate(xt_limit_avg(60, 60), &rate, &unit) && rate == 1 && unit == 1);
	ck_assert_uint_eq(xt_limit_avg(10001, 1), 0);
	/* Read back rounded down, as libxt_limit prints it: 73/second is
	 * avg 136, which iptables -S lists as 73/sec; rounding would make it
	 * 74 and refuse a rate iptables holds. 110/second is avg 90: 111. */
	ck_assert(xt_limit_holds(73, 1, &rate, &unit));
	ck_assert(!xt_limit_holds(110, 1, &rate, &unit) && rate == 111 && unit == 1);
	ck_assert(!xt_limit_holds(10001, 1, &rate, &unit) && rate == 0 && unit == 0);
	ck_assert(xt_limit_holds(10000, 1, &rate, &unit) && xt_limit_holds(1, 3600, &rate, &unit));
	/* 4651/minute is avg 129, as 77/second is: read back as that. */
	ck_assert(!xt_limit_holds(4651, 60, &rate, &unit) && rate == 77 && unit == 1);
}
END_TEST

/* A log rule over a set: the limit goes into the statements' chain V,
 * so only what the set let through counts against it. */
START_TEST(limit_behind_set)
{
	struct ir_ruleset *rs = ir_ruleset_new("t"), *back = NULL;
	struct ir_chain *c = ir_chain_add(rs, COMPILE_CHAIN_INPUT, IR_HOOK_INPUT, 0);
	struct ir_match *m = NULL;
	struct bipt_all want, got;
	struct diags d;
	struct addr a;
	bool seen = false;

	ck_assert_ptr_null(addr_parse("203.0.113.0", &a));
	ir_set_add_elem(ir_set_add(rs, "ig4", IR_KEY_IPV4, IR_SET_INTERVAL), &a, 24, NULL);
	for (int k = 0; k < 2; k++) {
		struct ir_rule *r = ir_rule_add(c, k ? "drop" : "drop-log", NULL);

		ir_rule_match_num(r, IR_MATCH_L4PROTO, IPPROTO_UDP);
		ir_rule_match_num(r, IR_MATCH_DPORT, 123);
		ir_rule_match_num(r, IR_MATCH_NFPROTO, IR_NFPROTO_IPV4);
		ir_rule_match_set(r, IR_MATCH_SADDR_SET, "ig4")->negate = true;
		r->verdict = IR_VERDICT_DROP;
		if (k)
			continue;
		m = ir_rule_add_match(r, IR_MATCH_LIMIT);
		m->u.rate = (struct ir_rate){ 2, 60, 3 };
		ir_rule_set_log(r, "t ign-d4: ");
		r->verdict = IR_VERDICT_NONE;
	}
	ir_ruleset_sort(rs);
	diag_init(&d, 0);
	ck_assert_msg(bipt_check_roundtrip(rs, NULL, &d) == 0, "%s", d.n ? d.v[0].msg : "?");
	lay_and_read(rs, &want, &got);
	for (size_t i = 0; i < got.t[BIPT_V4][BIPT_FILTER].n; i++) {
		const struct bipt_chain *bc = &got.t[BIPT_V4][BIPT_FILTER].chains[i];

		for (size_t j = 0; j < bc->n; j++) {
			if (!bc->rules[j].rate)
				continue;
			ck_assert(!seen);
			seen = true;
			ck_assert(!bc->rules[j].proto && !bc->rules[j].src.set);
			ck_assert_int_eq(bc->rules[j].target, BIPT_T_LOG);
		}
	}
	ck_assert(seen);
	ck_assert_int_eq(bipt_raise(rs->table, &got, &back), 0);
	ck_assert(ir_ruleset_equal(rs, back));
	ir_ruleset_free(back);
	bipt_all_free(&want);
	bipt_all_free(&got);
	/* No "over" in xt_limit, and no rate past its scale. */
	m->negate = true;
	ck_assert_int_eq(bipt_check_roundtrip(rs, NULL, &d), -EINVAL);
	ck_assert_ptr_nonnull(strstr(d.v[d.n - 1].msg, "limit match cannot hold"));
	m->negate = false;
	m->u.rate = (struct ir_rate){ 20000, 1, 5 };
	ck_assert_int_eq(bipt_check_roundtrip(rs, NULL, &d), -EINVAL);
	ir_ruleset_free(rs);
	diag_free(&d);
}
END_TEST

/* What iptables cannot hold is refused, with the rule named. */
START_TEST(refused_shapes)
{
	struct ir_ruleset *rs = many_rules("t", 2);
	struct ir_rule *r = &rs->chains[0].rules[0];
	struct diags d;

	diag_init(&d, 0);
	ir_rule_match_set(r, IR_MATCH_DADDR_SET, "upstreams4");
	ck_assert_int_eq(bipt_check_roundtrip(rs, NULL, &d), -EINVAL);
	ck_assert_ptr_nonnull(strstr(d.v[0].msg, "one address set"));
	ir_ruleset_free(rs);
	diag_free(&d);
	diag_init(&d, 0);
	rs = many_rules("t", 2);
	r = &rs->chains[0].rules[0];
	r->matches[1].negate = true;	/* sport != 123: the jump would not see it */
	ck_assert_int_eq(bipt_check_roundtrip(rs, NULL, &d), -EINVAL);
	ck_assert_ptr_nonnull(strstr(d.v[0].msg, "ports that its rules match"));
	ir_ruleset_free(rs);
	diag_free(&d);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("backend_ipt");
	TCase *tc = tcase_create("layout");

	tcase_add_test(tc, every_policy_round_trips);
	tcase_add_test(tc, entry_sizes);
	tcase_add_test(tc, hashlimit_names);
	tcase_add_test(tc, chain_names);
	tcase_add_test(tc, drift_is_found);
	tcase_add_test(tc, ipv6_u32_guarded);
	tcase_add_test(tc, refused_shapes);
	tcase_add_test(tc, limit_match);
	tcase_add_test(tc, limit_behind_set);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
