/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Check suite for src/compile*.c: the rules a policy gives (doc/design.md
 * "Rules"), with the deterministic fake resolution of fake_resolved.c. */
#include "fake_resolved.h"
#include "ntpwall/compile.h"
#include "ntpwall/util.h"

#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

struct built {
	struct policy *p;
	struct resolved *r;
	struct ir_ruleset *rs;
	struct diags d;
	int ret;
};

static void build(struct built *b, const char *yaml)
{
	memset(b, 0, sizeof(*b));
	diag_init(&b->d, 0);
	ck_assert_int_eq(policy_load_buffer("t.yaml", yaml, strlen(yaml), &b->d, &b->p), 0);
	b->r = fake_resolved(b->p);
	b->ret = compile_policy(b->p, b->r, &b->d, &b->rs);
}

static void unbuild(struct built *b)
{
	ir_ruleset_free(b->rs);
	resolve_free(b->r);
	policy_free(b->p);
	diag_free(&b->d);
}

static const struct ir_rule *find_rule(const struct ir_ruleset *rs, const char *chain,
				       const char *comment, size_t *index)
{
	const struct ir_chain *c = ir_chain_find(rs, chain);

	ck_assert_ptr_nonnull(c);
	for (size_t i = 0; i < c->n_rules; i++) {
		if (!strcmp(c->rules[i].comment, comment)) {
			if (index)
				*index = i;
			return &c->rules[i];
		}
	}
	return NULL;
}

static const struct ir_match *find_match(const struct ir_rule *r, enum ir_match_type t)
{
	for (size_t i = 0; i < r->n_matches; i++)
		if (r->matches[i].type == t)
			return &r->matches[i];
	return NULL;
}

static const char *const LAN =
	"version: 1\n"
	"upstreams:\n"
	"  - pool: uk.pool.ntp.org\n    max: 4\n"
	"  - server: 192.0.2.10\n"
	"serve:\n"
	"  clients: [192.0.2.0/24, \"2001:db8:1::/48\"]\n"
	"  rate_limit: {per_source: 16/second, burst: 32}\n"
	"restrict:\n"
	"  version: [3, 4]\n"
	"  ignore: [203.0.113.0/24]\n"
	"  query_from: [192.0.2.99]\n";

START_TEST(sets_only_as_needed)
{
	static const char *const present[] = { "clients4", "clients6", "ignore4", "query4",
					       "rl4", "rl6", "upstreams4", "upstreams6" };
	static const char *const absent[] = { "peers4", "peers6", "nts4", "nts6", "ignore6",
					      "query6" };
	struct built b;

	build(&b, LAN);
	ck_assert_int_eq(b.ret, 0);
	for (size_t i = 0; i < ARRAY_SIZE(present); i++)
		ck_assert_msg(ir_set_find(b.rs, present[i]), "%s missing", present[i]);
	for (size_t i = 0; i < ARRAY_SIZE(absent); i++)
		ck_assert_msg(!ir_set_find(b.rs, absent[i]), "%s present", absent[i]);
	ck_assert_uint_eq(ir_set_find(b.rs, "rl4")->flags, IR_SET_DYNAMIC | IR_SET_TIMEOUT);
	/* Longer than chrony's longest poll; as large as the served /24. */
	ck_assert_uint_eq(ir_set_find(b.rs, "rl4")->timeout_ms, 1200000);
	ck_assert_uint_eq(ir_set_find(b.rs, "rl4")->size, 256);
	/* 2001:db8:1::/48 in /64s: 65536 sources. */
	ck_assert_uint_eq(ir_set_find(b.rs, "rl6")->size, 65536);
	ck_assert_uint_eq(ir_set_find(b.rs, "clients4")->flags, IR_SET_INTERVAL);
	ck_assert_uint_eq(ir_set_find(b.rs, "upstreams4")->flags, IR_SET_TIMEOUT);
	/* Sets are sorted by name. */
	for (size_t i = 1; i < b.rs->n_sets; i++)
		ck_assert_int_lt(strcmp(b.rs->sets[i - 1].name, b.rs->sets[i].name), 0);
	unbuild(&b);
}
END_TEST

START_TEST(dns_elements_expire_literals_do_not)
{
	struct built b;
	const struct ir_set *s;
	struct addr lit = { .family = AF_INET };
	size_t dns = 0;

	build(&b, LAN);
	s = ir_set_find(b.rs, "upstreams4");
	ck_assert_uint_eq(s->n_elems, 5);
	ck_assert_int_eq(addr_parse("192.0.2.10", &lit) == NULL, 1);
	for (size_t i = 0; i < s->n_elems; i++) {
		if (!addr_cmp(&s->elems[i].addr, &lit)) {
			ck_assert_uint_eq(s->elems[i].timeout_ms, 0);
			ck_assert_ptr_null(s->elems[i].comment);
		} else {
			ck_assert_uint_eq(s->elems[i].timeout_ms, 3600000);
			ck_assert_str_eq(s->elems[i].comment, "uk.pool.ntp.org");
			dns++;
		}
		ck_assert_uint_eq(s->elems[i].prefix_len, 32);
	}
	ck_assert_uint_eq(dns, 4);
	unbuild(&b);
}
END_TEST

static bool is_restrict(const struct ir_rule *r)
{
	return !strncmp(r->comment, "restrict-", 9);
}

/* The NTP modes a rule can match (all without a mode match). */
static uint32_t rule_modes(const struct ir_rule *r)
{
	for (size_t i = 0; i < r->n_matches; i++)
		if (r->matches[i].type == IR_MATCH_NTP_MODE && !r->matches[i].negate)
			return r->matches[i].u.bits;
	return 0xff;
}

/* Every restrict drop comes before every accept of a packet it could
 * drop: rules are grouped by mode (a packet has one), so a restrict of
 * mode 6 may follow the accepts of mode 3, never one of mode 6. */
START_TEST(restrict_drops_before_accepts)
{
	struct built b;
	const struct ir_chain *in;
	size_t n_restrict = 0;

	build(&b, LAN);
	in = ir_chain_find(b.rs, "input");
	for (size_t i = 0; i < in->n_rules; i++) {
		const struct ir_rule *r = &in->rules[i];

		if (!is_restrict(r))
			continue;
		n_restrict++;
		ck_assert_int_eq(r->verdict, IR_VERDICT_DROP);
		for (size_t j = 0; j < i; j++) {
			const struct ir_rule *a = &in->rules[j];

			if (a->verdict == IR_VERDICT_ACCEPT && strncmp(a->comment, "loopback-", 9))
				ck_assert_msg(!(rule_modes(a) & rule_modes(r)), "%s before %s",
					      a->comment, r->comment);
		}
	}
	ck_assert_uint_ge(n_restrict, 8);
	/* The rate limit is part of the serve accept (a full meter fails
	 * closed), and what it leaves is dropped right after, counted. */
	{
		size_t rl, acc;
		const struct ir_rule *r = find_rule(b.rs, "input", "serve-clients4", &acc);
		const struct ir_rule *r6 = find_rule(b.rs, "input", "serve-clients6", NULL);
		const struct ir_match *m = find_match(r, IR_MATCH_RATE_OVER);

		ck_assert_ptr_nonnull(find_rule(b.rs, "input", "serve-ratelimit4", &rl));
		ck_assert_uint_lt(acc, rl);
		ck_assert_ptr_nonnull(m);
		ck_assert(m->negate);
		ck_assert_uint_eq(m->u.limit.prefix_len, 0);
		ck_assert_uint_eq(find_match(r6, IR_MATCH_RATE_OVER)->u.limit.prefix_len, 64);
		ck_assert_int_eq(find_rule(b.rs, "input", "serve-ratelimit4", NULL)->verdict,
				 IR_VERDICT_DROP);
	}
	/* otherwise ends both chains. */
	for (int c = 0; c < 2; c++) {
		const struct ir_chain *ch = ir_chain_find(b.rs, c ? "output" : "input");

		ck_assert_str_eq(ch->rules[ch->n_rules - 2].comment, "otherwise-dport");
		ck_assert_str_eq(ch->rules[ch->n_rules - 1].comment, "otherwise-sport");
		ck_assert_int_eq(ch->hook, c ? IR_HOOK_OUTPUT : IR_HOOK_INPUT);
		ck_assert(!ch->policy_drop);
	}
	unbuild(&b);
}
END_TEST

START_TEST(egress_and_ingress)
{
	struct built b;
	const struct ir_rule *r;

	build(&b, LAN);
	r = find_rule(b.rs, "output", "egress-upstreams4", NULL);
	ck_assert_ptr_nonnull(r);
	/* RFC 9109: the client's source port is never matched. */
	ck_assert_ptr_null(find_match(r, IR_MATCH_SPORT));
	ck_assert_uint_eq(find_match(r, IR_MATCH_DPORT)->u.num, 123);
	ck_assert_uint_eq(find_match(r, IR_MATCH_NTP_MODE)->u.bits, 1u << 3);
	ck_assert_uint_eq(find_match(r, IR_MATCH_CT_STATE)->u.bits, IR_CT_NEW | IR_CT_ESTABLISHED);
	ck_assert_str_eq(find_match(r, IR_MATCH_DADDR_SET)->u.set, "upstreams4");
	r = find_rule(b.rs, "input", "ingress-upstreams6", NULL);
	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_null(find_match(r, IR_MATCH_DPORT));
	ck_assert_uint_eq(find_match(r, IR_MATCH_SPORT)->u.num, 123);
	ck_assert_uint_eq(find_match(r, IR_MATCH_NTP_MODE)->u.bits, 1u << 4);
	ck_assert_uint_eq(find_match(r, IR_MATCH_CT_STATE)->u.bits, IR_CT_ESTABLISHED);
	ck_assert_uint_eq(find_match(r, IR_MATCH_NFPROTO)->u.num, IR_NFPROTO_IPV6);
	unbuild(&b);
}
END_TEST

START_TEST(noquery_spares_query_from)
{
	struct built b;
	const struct ir_rule *r;
	const struct ir_match *m;

	build(&b, LAN);
	r = find_rule(b.rs, "input", "restrict-noquery4", NULL);
	ck_assert_ptr_nonnull(r);
	m = find_match(r, IR_MATCH_SADDR_SET);
	ck_assert_str_eq(m->u.set, "query4");
	ck_assert(m->negate);
	ck_assert_uint_eq(find_match(r, IR_MATCH_NTP_MODE)->u.bits, 1u << 6);
	/* No IPv6 query_from: all IPv6 mode 6 goes. */
	r = find_rule(b.rs, "input", "restrict-noquery6", NULL);
	ck_assert_ptr_null(find_match(r, IR_MATCH_SADDR_SET));
	ck_assert_uint_eq(find_match(r, IR_MATCH_NFPROTO)->u.num, IR_NFPROTO_IPV6);
	r = find_rule(b.rs, "input", "restrict-noquery-mode7", NULL);
	ck_assert_uint_eq(find_match(r, IR_MATCH_NTP_MODE)->u.bits, 1u << 7);
	/* The monitoring host is let in, and its answers out. */
	ck_assert_ptr_nonnull(find_rule(b.rs, "input", "query-from4", NULL));
	ck_assert_ptr_nonnull(find_rule(b.rs, "output", "query-reply4", NULL));
	/* nomodify: the write opcodes of mode 6. */
	r = find_rule(b.rs, "input", "restrict-nomodify", NULL);
	ck_assert_uint_eq(find_match(r, IR_MATCH_NTP_OPCODE)->u.bits, COMPILE_NTP_WRITE_OPCODES);
	unbuild(&b);
}
END_TEST

START_TEST(version_rule_spares_modes_6_and_7)
{
	struct built b;
	const struct ir_rule *r;

	build(&b, LAN);
	r = find_rule(b.rs, "input", "restrict-version-dport", NULL);
	ck_assert_uint_eq(find_match(r, IR_MATCH_NTP_MODE)->u.bits, 0x3f);
	ck_assert_uint_eq(find_match(r, IR_MATCH_NTP_VERSION)->u.bits, (1u << 3) | (1u << 4));
	ck_assert(find_match(r, IR_MATCH_NTP_VERSION)->negate);
	unbuild(&b);
}
END_TEST

/* Every rule: counter, a comment unique in its chain, UDP/123 or TCP/4460
 * matched before any payload match. */
START_TEST(every_rule_well_formed)
{
	static const char *const policies[] = {
		"version: 1\nupstreams: [{server: 192.0.2.1}]\n",
		"version: 1\ninterfaces: [eth0, eth1]\nupstreams: [{server: a.example, nts: true}]\n"
		"peers: [198.51.100.7, b.example]\nserve: {clients: [198.51.100.0/24], notrack: true}\n"
		"restrict: {noquery: false, nopeer: false}\notherwise: log\n",
	};

	for (size_t k = 0; k < ARRAY_SIZE(policies); k++) {
		struct built b;

		build(&b, policies[k]);
		ck_assert_int_eq(b.ret, 0);
		for (size_t c = 0; c < b.rs->n_chains; c++) {
			const struct ir_chain *ch = &b.rs->chains[c];

			for (size_t i = 0; i < ch->n_rules; i++) {
				const struct ir_rule *r = &ch->rules[i];
				bool l4 = false, port = false;

				ck_assert(r->counter);
				ck_assert_ptr_nonnull(r->comment);
				for (size_t j = 0; j < i; j++)
					ck_assert_str_ne(ch->rules[j].comment, r->comment);
				for (size_t j = 0; j < r->n_matches; j++) {
					enum ir_match_type t = r->matches[j].type;

					l4 |= t == IR_MATCH_L4PROTO;
					port |= t == IR_MATCH_SPORT || t == IR_MATCH_DPORT;
					if (t == IR_MATCH_NTP_MODE || t == IR_MATCH_NTP_VERSION ||
					    t == IR_MATCH_NTP_OPCODE)
						ck_assert(l4 && port);
				}
				ck_assert(l4 && port);
			}
		}
		unbuild(&b);
	}
}
END_TEST

START_TEST(interfaces_and_notrack)
{
	struct built b;
	const struct ir_rule *r;

	build(&b, "version: 1\ninterfaces: [eth0, eth1]\nfamilies: [ipv4]\n"
		  "upstreams: [{server: 192.0.2.1}]\n"
		  "serve: {clients: [198.51.100.0/24], notrack: true}\n");
	ck_assert_int_eq(b.ret, 0);
	ck_assert_ptr_nonnull(ir_chain_find(b.rs, "raw_prerouting"));
	ck_assert_int_eq(ir_chain_find(b.rs, "raw_prerouting")->priority, -300);
	r = find_rule(b.rs, "raw_prerouting", "notrack-clients4@eth1", NULL);
	ck_assert_ptr_nonnull(r);
	ck_assert(r->notrack);
	ck_assert_str_eq(find_match(r, IR_MATCH_IIFNAME)->u.ifname, "eth1");
	r = find_rule(b.rs, "input", "serve-clients4@eth0", NULL);
	ck_assert_uint_eq(find_match(r, IR_MATCH_CT_STATE)->u.bits, IR_CT_UNTRACKED);
	r = find_rule(b.rs, "output", "otherwise-dport@eth1", NULL);
	ck_assert_str_eq(find_match(r, IR_MATCH_OIFNAME)->u.ifname, "eth1");
	/* IPv4 only: no IPv6 set, family-wide rules carry nfproto ipv4. */
	ck_assert_ptr_null(ir_set_find(b.rs, "upstreams6"));
	ck_assert_uint_eq(find_match(r, IR_MATCH_NFPROTO)->u.num, IR_NFPROTO_IPV4);
	/* No loopback exemption when interfaces are named. */
	ck_assert_ptr_null(find_rule(b.rs, "input", "loopback-dport@eth0", NULL));
	unbuild(&b);
}
END_TEST

START_TEST(overlapping_prefixes_merge)
{
	struct built b;
	const struct ir_set *s;

	build(&b, "version: 1\nupstreams: [{server: 192.0.2.1}]\n"
		  "serve: {clients: [198.51.100.0/24, 198.51.100.128/25, 198.51.100.7, 203.0.113.0/25, "
		  "203.0.113.128/25]}\n");
	s = ir_set_find(b.rs, "clients4");
	ck_assert_uint_eq(s->n_elems, 3);
	ck_assert_uint_eq(s->elems[0].prefix_len, 24);
	ck_assert_uint_eq(s->elems[1].prefix_len, 25);
	ck_assert_uint_eq(s->elems[2].prefix_len, 25);
	unbuild(&b);
}
END_TEST

START_TEST(nothing_to_allow_is_an_error)
{
	struct built b;

	build(&b, "version: 1\nfamilies: [ipv6]\nupstreams: [{server: 192.0.2.1}]\n");
	ck_assert_int_eq(b.ret, -EINVAL);
	ck_assert_ptr_null(b.rs);
	ck_assert_uint_eq(b.d.errors, 1);
	ck_assert_int_eq(b.d.v[b.d.n - 1].code, NW131_EMPTY);
	unbuild(&b);
}
END_TEST

START_TEST(otherwise_variants)
{
	struct built b;
	const struct ir_rule *r, *log;
	size_t i;

	/* log: the drop stays unconditional; a rate-limited log rule with the
	 * same matches goes right before it. */
	build(&b, "version: 1\ntable: tt\nupstreams: [{server: 192.0.2.1}]\notherwise: log\n");
	r = find_rule(b.rs, "input", "otherwise-dport", &i);
	ck_assert_ptr_null(r->log_prefix);
	ck_assert_int_eq(r->verdict, IR_VERDICT_DROP);
	log = find_rule(b.rs, "input", "otherwise-dport-log", NULL);
	ck_assert_ptr_eq(log, r - 1);
	ck_assert_str_eq(log->log_prefix, "tt oth-d: ");
	ck_assert_int_eq(log->verdict, IR_VERDICT_NONE);
	ck_assert(log->counter);
	ck_assert_uint_eq(log->n_matches, r->n_matches + 1);
	for (size_t k = 0; k < r->n_matches; k++)
		ck_assert(ir_match_equal(&log->matches[k], &r->matches[k]));
	ck_assert_int_eq(log->matches[r->n_matches].type, IR_MATCH_LIMIT);
	ck_assert_uint_eq(log->matches[r->n_matches].u.rate.rate, 5);
	ck_assert_uint_eq(log->matches[r->n_matches].u.rate.unit_s, 60);
	ck_assert_uint_eq(log->matches[r->n_matches].u.rate.burst, 5);
	ck_assert_str_eq(find_rule(b.rs, "output", "otherwise-sport-log", NULL)->log_prefix,
			 "tt out-s: ");
	unbuild(&b);
	build(&b, "version: 1\nupstreams: [{server: 192.0.2.1}]\notherwise: reject\n");
	r = find_rule(b.rs, "output", "otherwise-sport", NULL);
	ck_assert_int_eq(r->verdict, IR_VERDICT_REJECT);
	ck_assert_ptr_null(r->log_prefix);
	ck_assert_ptr_null(find_rule(b.rs, "output", "otherwise-sport-log", NULL));
	unbuild(&b);
}
END_TEST

/* Every rule that logs: before a drop with the same comment and matches,
 * with a prefix of at most 29 bytes, unique in the ruleset. */
static size_t check_logs(const struct ir_ruleset *rs)
{
	size_t n = 0;

	for (size_t c = 0; c < rs->n_chains; c++) {
		const struct ir_chain *ch = &rs->chains[c];

		for (size_t i = 0; i < ch->n_rules; i++) {
			const struct ir_rule *r = &ch->rules[i], *drop = r + 1;

			if (!r->log_prefix)
				continue;
			n++;
			ck_assert_uint_le(strlen(r->log_prefix), COMPILE_LOG_PREFIX_MAX);
			ck_assert_int_eq(r->verdict, IR_VERDICT_NONE);
			ck_assert_uint_lt(i + 1, ch->n_rules);
			ck_assert_int_eq(drop->verdict, IR_VERDICT_DROP);
			ck_assert_ptr_null(drop->log_prefix);
			ck_assert_int_eq(r->matches[r->n_matches - 1].type, IR_MATCH_LIMIT);
			ck_assert_uint_eq(r->n_matches, drop->n_matches + 1);
			for (size_t k = 0; k < drop->n_matches; k++)
				ck_assert(ir_match_equal(&r->matches[k], &drop->matches[k]));
			for (size_t d = 0; d < rs->n_chains; d++)
				for (size_t j = 0; j < rs->chains[d].n_rules; j++) {
					const struct ir_rule *o = &rs->chains[d].rules[j];

					ck_assert_msg(o == r || !o->log_prefix ||
						      strcmp(o->log_prefix, r->log_prefix),
						      "prefix \"%s\" twice", r->log_prefix);
				}
		}
	}
	return n;
}

START_TEST(restrict_log)
{
	static const char *const want[] = {
		"restrict-ignore-dport4-log@eth0", "x ign-d4@eth0: ",
		"restrict-version-sport-log@eth1", "x ver-s@eth1: ",
		"restrict-noquery4-log@eth0", "x nq4@eth0: ",
		"restrict-noquery-mode7-log@eth0", "x nq7@eth0: ",
		"restrict-nomodify-log@eth1", "x nm@eth1: ",
		"restrict-nopeer-log@eth0", "x np@eth0: ",
		"serve-ratelimit6-log@eth1", "x rl6@eth1: ",
		"otherwise-dport-log@eth1", "x oth-d@eth1: ",
	};
	struct built b;

	build(&b, "version: 1\ntable: x\ninterfaces: [eth0, eth1]\n"
		  "upstreams: [{server: 192.0.2.1}]\n"
		  "serve: {clients: [192.0.2.0/24, \"2001:db8::/32\"], rate_limit: {per_source: 4/second}}\n"
		  "restrict: {ignore: [203.0.113.0/24], query_from: [192.0.2.9], log: true}\n"
		  "otherwise: log\nlog_rate: 120/hour\nlog_burst: 3\n");
	ck_assert_int_eq(b.ret, 0);
	for (size_t i = 0; i < ARRAY_SIZE(want); i += 2) {
		const struct ir_rule *r = find_rule(b.rs, "input", want[i], NULL);

		ck_assert_msg(r, "%s missing", want[i]);
		ck_assert_str_eq(r->log_prefix, want[i + 1]);
		/* 120/hour is 2/minute: the unit iptables reads back. */
		ck_assert_uint_eq(r->matches[r->n_matches - 1].u.rate.rate, 2);
		ck_assert_uint_eq(r->matches[r->n_matches - 1].u.rate.unit_s, 60);
		ck_assert_uint_eq(r->matches[r->n_matches - 1].u.rate.burst, 3);
	}
	/* 2 interfaces x (ignore 2, version 2, noquery 2 + mode 7, nomodify 2,
	 * nopeer, ratelimit 2) = 24 restrict logs, and 2 x 4 otherwise logs. */
	ck_assert_uint_eq(check_logs(b.rs), 32);
	unbuild(&b);
	/* Off by default: restrict drops do not log. */
	build(&b, "version: 1\nupstreams: [{server: 192.0.2.1}]\n"
		  "restrict: {ignore: [203.0.113.0/24]}\n");
	ck_assert_uint_eq(check_logs(b.rs), 0);
	unbuild(&b);
}
END_TEST

START_TEST(log_prefix_fits)
{
	char out[COMPILE_LOG_PREFIX_MAX + 1];
	struct built b;

	build(&b, "version: 1\ntable: mytable\nupstreams: [{server: 192.0.2.1}]\n");
	/* The table name by default. */
	ck_assert(!compile_log_prefix(b.p, "oth-d", out));
	ck_assert_str_eq(out, "mytable oth-d: ");
	/* A trailing ": " of the policy's is not doubled. */
	b.p->log_prefix = xstrdup("fw: ");
	ck_assert(!compile_log_prefix(b.p, "nq4", out));
	ck_assert_str_eq(out, "fw nq4: ");
	free(b.p->log_prefix);
	/* 26 bytes + " oth-d: ": cut to 29, the tag kept whole. */
	b.p->log_prefix = xstrdup("abcdefghijklmnopqrstuvwxyz");
	ck_assert(compile_log_prefix(b.p, "oth-d", out));
	ck_assert_str_eq(out, "abcdefghijklmnopqrstu oth-d: ");
	ck_assert_uint_eq(strlen(out), 29);
	ck_assert(compile_log_prefix(b.p, "ign-d4@enp0s31f6", out));
	ck_assert_str_eq(out, "abcdefghij ign-d4@enp0s31f6: ");
	ck_assert_uint_eq(strlen(out), 29);
	free(b.p->log_prefix);
	/* Exactly fitting: not cut. */
	b.p->log_prefix = xstrdup("abcdefghijklmnopqrstu");
	ck_assert(!compile_log_prefix(b.p, "oth-d", out));
	ck_assert_uint_eq(strlen(out), 29);
	free(b.p->log_prefix);
	/* Never half a UTF-8 character (e-acute is 2 bytes). */
	b.p->log_prefix = xstrdup("abcdefghijklmnopqrst\xc3\xa9xyz");
	ck_assert(compile_log_prefix(b.p, "oth-d", out));
	ck_assert_str_eq(out, "abcdefghijklmnopqrst oth-d: ");
	free(b.p->log_prefix);
	/* Empty: the tag alone. */
	b.p->log_prefix = xstrdup("");
	ck_assert(!compile_log_prefix(b.p, "np", out));
	ck_assert_str_eq(out, "np: ");
	unbuild(&b);
}
END_TEST

START_TEST(peers_and_nts)
{
	struct built b;
	const struct ir_rule *r;

	build(&b, "version: 1\nupstreams: [{server: time.example, nts: true}]\n"
		  "peers: [198.51.100.8]\n");
	ck_assert_ptr_nonnull(ir_set_find(b.rs, "nts4"));
	ck_assert_ptr_nonnull(ir_set_find(b.rs, "nts6"));
	ck_assert_uint_eq(ir_set_find(b.rs, "nts4")->n_elems, 1);
	ck_assert_ptr_null(ir_set_find(b.rs, "peers6"));
	r = find_rule(b.rs, "output", "egress-nts4", NULL);
	ck_assert_uint_eq(find_match(r, IR_MATCH_L4PROTO)->u.num, IPPROTO_TCP);
	ck_assert_uint_eq(find_match(r, IR_MATCH_DPORT)->u.num, 4460);
	r = find_rule(b.rs, "input", "ingress-peers4", NULL);
	ck_assert_uint_eq(find_match(r, IR_MATCH_SPORT)->u.num, 123);
	ck_assert_uint_eq(find_match(r, IR_MATCH_DPORT)->u.num, 123);
	ck_assert_uint_eq(find_match(r, IR_MATCH_NTP_MODE)->u.bits, (1u << 1) | (1u << 2));
	/* nopeer spares the peers4 members, and drops all IPv6 mode 1. */
	r = find_rule(b.rs, "input", "restrict-nopeer4", NULL);
	ck_assert(find_match(r, IR_MATCH_SADDR_SET)->negate);
	ck_assert_ptr_nonnull(find_rule(b.rs, "input", "restrict-nopeer6", NULL));
	unbuild(&b);
}
END_TEST

/* Element comments stay within nft's 127 bytes and say when they were cut. */
START_TEST(long_comment_truncated)
{
	char yaml[512], name[200];
	struct built b;
	const struct ir_set *s;

	memset(name, 'a', sizeof(name));
	for (size_t i = 60; i < sizeof(name) - 1; i += 61)
		name[i] = '.';
	name[sizeof(name) - 1] = '\0';
	snprintf(yaml, sizeof(yaml), "version: 1\nupstreams: [{server: %s}]\n", name);
	build(&b, yaml);
	ck_assert_int_eq(b.ret, 0);
	s = ir_set_find(b.rs, "upstreams4");
	ck_assert_uint_eq(s->n_elems, 1);
	ck_assert_uint_eq(strlen(s->elems[0].comment), COMPILE_COMMENT_MAX);
	ck_assert_str_eq(s->elems[0].comment + COMPILE_COMMENT_MAX - 3, "...");
	unbuild(&b);
}
END_TEST

/* Many addresses compile; the result is independent of their order. */
START_TEST(many_upstreams)
{
	struct built b;
	struct resolved *r = xcalloc(1, sizeof(*r));
	struct ir_ruleset *rs = NULL;
	struct diags d;

	build(&b, "version: 1\nupstreams: [{pool: big.example}]\n");
	diag_init(&d, 0);
	for (unsigned i = 0; i < 20000; i++) {
		struct addr a = { .family = AF_INET };

		a.v4.s_addr = htonl(0xc6120000u + (i * 7919u) % 65536u);
		fake_add(r, RESOLVE_ROLE_UPSTREAM, &a, 0, 300, false);
	}
	fake_finish(r);
	ck_assert_int_eq(compile_policy(b.p, r, &d, &rs), 0);
	ck_assert_uint_eq(ir_set_find(rs, "upstreams4")->n_elems, 20000);
	ck_assert_ptr_nonnull(ir_set_find_elem(ir_set_find(rs, "upstreams4"),
					       &r->upstreams[123].addr, 32));
	ir_ruleset_free(rs);
	resolve_free(r);
	diag_free(&d);
	unbuild(&b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("compile");
	TCase *tc = tcase_create("rules");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, sets_only_as_needed);
	tcase_add_test(tc, dns_elements_expire_literals_do_not);
	tcase_add_test(tc, restrict_drops_before_accepts);
	tcase_add_test(tc, egress_and_ingress);
	tcase_add_test(tc, noquery_spares_query_from);
	tcase_add_test(tc, version_rule_spares_modes_6_and_7);
	tcase_add_test(tc, every_rule_well_formed);
	tcase_add_test(tc, interfaces_and_notrack);
	tcase_add_test(tc, overlapping_prefixes_merge);
	tcase_add_test(tc, nothing_to_allow_is_an_error);
	tcase_add_test(tc, otherwise_variants);
	tcase_add_test(tc, restrict_log);
	tcase_add_test(tc, log_prefix_fits);
	tcase_add_test(tc, peers_and_nts);
	tcase_add_test(tc, long_comment_truncated);
	tcase_add_test(tc, many_upstreams);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
