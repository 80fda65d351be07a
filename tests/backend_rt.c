/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Test and benchmark driver for the nft backend, run inside a throw-away
 * network namespace by tests/netns/backend*.sh and tests/bench/:
 *   backend_rt roundtrip         apply a hand-built IR using every match type,
 *                                read it back, exit 0 iff ir_ruleset_equal
 *   backend_rt apply TABLE N     apply a table with N upstream addresses
 *   backend_rt read TABLE        read it back, print "sets N elems M rules R"
 *   backend_rt stale TABLE       apply with a stale genid: must be -ERESTART
 *   backend_rt check-state DIR   every generation in DIR loads (exit 0)
 *   backend_rt overlap TABLE     overlapping interval elements: must fail,
 *                                the error naming the element (stderr)
 *   backend_rt same POLICY       compile POLICY (fake resolver), read its table
 *                                back, exit 0 iff ir_ruleset_equal; else print
 *                                the diff (live vs compiled) and exit 1
 *   backend_rt load POLICY       compile POLICY (fake resolver) and apply it
 *                                through the backend: the netlink path of
 *                                `ntpwall apply`, without DNS */
#include "fake_resolved.h"
#include "ntpwall/backend.h"
#include "ntpwall/compile.h"
#include "ntpwall/diff.h"
#include "ntpwall/ir.h"
#include "ntpwall/state.h"
#include "ntpwall/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct addr addr(const char *s)
{
	struct addr a = { 0 };

	if (inet_pton(AF_INET, s, &a.v4) == 1)
		a.family = AF_INET;
	else if (inet_pton(AF_INET6, s, &a.v6) == 1)
		a.family = AF_INET6;
	else
		abort();
	return a;
}

static void add_upstreams(struct ir_set *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct addr a = { .family = AF_INET };
		/* 198.18.0.0/15 holds 131072 addresses. */
		uint32_t v = (198u << 24) | (18u << 16) | (uint32_t)(i & 0x1ffff);
		struct ir_elem *e;

		a.v4.s_addr = htonl(v);
		e = ir_set_add_elem(s, &a, 32, i % 2 ? "pool.example" : NULL);
		e->timeout_ms = i % 3 ? 0 : 3600000;
	}
}

/* Every IR match type, statement and verdict, as the compiler could use them. */
static struct ir_ruleset *full_ruleset(const char *table, size_t n_up)
{
	struct ir_ruleset *rs = ir_ruleset_new(table);
	struct ir_set *s;
	struct ir_chain *in, *out, *raw;
	struct ir_rule *r;
	struct addr a;
	struct ir_match *m;

	s = ir_set_add(rs, "upstreams4", IR_KEY_IPV4, IR_SET_TIMEOUT);
	add_upstreams(s, n_up);
	s = ir_set_add(rs, "upstreams6", IR_KEY_IPV6, IR_SET_TIMEOUT);
	a = addr("2001:db8::1");
	ir_set_add_elem(s, &a, 128, "2001:db8::1");
	s = ir_set_add(rs, "clients4", IR_KEY_IPV4, IR_SET_INTERVAL);
	a = addr("192.0.2.0");
	ir_set_add_elem(s, &a, 24, NULL);
	a = addr("198.51.100.0");
	ir_set_add_elem(s, &a, 25, "lan");
	a = addr("198.51.100.128");
	ir_set_add_elem(s, &a, 25, NULL);
	a = addr("255.255.255.0");
	ir_set_add_elem(s, &a, 24, NULL);
	s = ir_set_add(rs, "clients6", IR_KEY_IPV6, IR_SET_INTERVAL);
	a = addr("2001:db8:1::");
	ir_set_add_elem(s, &a, 48, NULL);
	s = ir_set_add(rs, "rl4", IR_KEY_IPV4, IR_SET_DYNAMIC | IR_SET_TIMEOUT);
	s->timeout_ms = 60000;
	s->size = 65535;

	raw = ir_chain_add(rs, "raw_prerouting", IR_HOOK_PREROUTING, -300);
	out = ir_chain_add(rs, "output", IR_HOOK_OUTPUT, 0);
	in = ir_chain_add(rs, "input", IR_HOOK_INPUT, 0);

	r = ir_rule_add(raw, "notrack-clients4", NULL);
	ir_rule_match_num(r, IR_MATCH_L4PROTO, IPPROTO_UDP);
	ir_rule_match_num(r, IR_MATCH_DPORT, 123);
	ir_rule_match_num(r, IR_MATCH_NFPROTO, 2);
	ir_rule_match_set(r, IR_MATCH_SADDR_SET, "clients4");
	r->notrack = true;
	r->counter = false;

	r = ir_rule_add(out, "egress-upstreams4", NULL);
	ir_rule_match_ifname(r, IR_MATCH_OIFNAME, "eth0");
	ir_rule_match_num(r, IR_MATCH_L4PROTO, IPPROTO_UDP);
	ir_rule_match_num(r, IR_MATCH_DPORT, 123);
	ir_rule_match_num(r, IR_MATCH_NFPROTO, 2);
	ir_rule_match_set(r, IR_MATCH_DADDR_SET, "upstreams4");
	ir_rule_match_num(r, IR_MATCH_NTP_MODE, 1u << 3);
	ir_rule_match_num(r, IR_MATCH_CT_STATE, IR_CT_NEW | IR_CT_ESTABLISHED);
	r->verdict = IR_VERDICT_ACCEPT;

	r = ir_rule_add(out, "egress-upstreams6", NULL);
	ir_rule_match_num(r, IR_MATCH_L4PROTO, IPPROTO_UDP);
	ir_rule_match_num(r, IR_MATCH_DPORT, 123);
	ir_rule_match_num(r, IR_MATCH_NFPROTO, 10);
	m = ir_rule_match_set(r, IR_MATCH_DADDR_SET, "upstreams6");
	ir_rule_match_num(r, IR_MATCH_NTP_VERSION, (1u << 3) | (1u << 4));
	r->verdict = IR_VERDICT_ACCEPT;

	r = ir_rule_add(in, "drop-modes", NULL);
	ir_rule_match_ifname(r, IR_MATCH_IIFNAME, "veth-x");
	ir_rule_match_num(r, IR_MATCH_L4PROTO, IPPROTO_UDP);
	ir_rule_match_num(r, IR_MATCH_SPORT, 123);
	ir_rule_match_num(r, IR_MATCH_NTP_MODE, (1u << 6) | (1u << 7));
	r->verdict = IR_VERDICT_DROP;

	r = ir_rule_add(in, "write-opcodes", NULL);
	ir_rule_match_num(r, IR_MATCH_L4PROTO, IPPROTO_UDP);
	ir_rule_match_num(r, IR_MATCH_DPORT, 123);
	ir_rule_match_num(r, IR_MATCH_NTP_MODE, 1u << 6);
	ir_rule_match_num(r, IR_MATCH_NTP_OPCODE,
			  (1u << 3) | (1u << 5) | (1u << 6) | (1u << 8) | (1u << 9) | (1u << 31));
	r->verdict = IR_VERDICT_DROP;

	r = ir_rule_add(in, "not-v4", NULL);
	ir_rule_match_num(r, IR_MATCH_L4PROTO, IPPROTO_UDP);
	ir_rule_match_num(r, IR_MATCH_DPORT, 123);
	m = ir_rule_match_num(r, IR_MATCH_NTP_VERSION, 1u << 4);
	m->negate = true;
	m = ir_rule_match_num(r, IR_MATCH_NTP_MODE, (1u << 1) | (1u << 3) | (1u << 5));
	m->negate = true;
	r->verdict = IR_VERDICT_DROP;

	r = ir_rule_add(in, "prefixes", NULL);
	ir_rule_match_num(r, IR_MATCH_L4PROTO, IPPROTO_UDP);
	ir_rule_match_num(r, IR_MATCH_NFPROTO, 2);
	a = addr("203.0.113.0");
	ir_rule_match_prefix(r, IR_MATCH_SADDR, &a, 24);
	a = addr("192.0.2.99");
	m = ir_rule_match_prefix(r, IR_MATCH_DADDR, &a, 32);
	m->negate = true;
	ir_rule_set_log(r, "ntpwall ignore: ");
	r->verdict = IR_VERDICT_DROP;

	r = ir_rule_add(in, "prefixes6", NULL);
	ir_rule_match_num(r, IR_MATCH_L4PROTO, IPPROTO_UDP);
	ir_rule_match_num(r, IR_MATCH_NFPROTO, 10);
	a = addr("2001:db8:f000::");
	ir_rule_match_prefix(r, IR_MATCH_SADDR, &a, 36);
	m = ir_rule_match_set(r, IR_MATCH_SADDR_SET, "clients6");
	m->negate = true;
	r->verdict = IR_VERDICT_REJECT;

	r = ir_rule_add(in, "serve-rate", NULL);
	ir_rule_match_num(r, IR_MATCH_L4PROTO, IPPROTO_UDP);
	ir_rule_match_num(r, IR_MATCH_DPORT, 123);
	ir_rule_match_num(r, IR_MATCH_NFPROTO, 2);
	ir_rule_match_set(r, IR_MATCH_SADDR_SET, "clients4");
	m = ir_rule_add_match(r, IR_MATCH_RATE_OVER);
	m->u.limit.set = xstrdup("rl4");
	m->u.limit.rate = 16;
	m->u.limit.unit_s = 1;
	m->u.limit.burst = 32;
	r->verdict = IR_VERDICT_DROP;

	r = ir_rule_add(in, "established", NULL);
	ir_rule_match_num(r, IR_MATCH_L4PROTO, IPPROTO_UDP);
	ir_rule_match_num(r, IR_MATCH_SPORT, 123);
	m = ir_rule_match_num(r, IR_MATCH_CT_STATE, IR_CT_ESTABLISHED);
	m->negate = true;
	ir_rule_set_log(r, "");
	r->counter = false;

	r = ir_rule_add(in, NULL, NULL);
	ir_rule_match_num(r, IR_MATCH_L4PROTO, IPPROTO_UDP);
	ir_rule_match_num(r, IR_MATCH_DPORT, 123);
	r->verdict = IR_VERDICT_DROP;
	ir_ruleset_sort(rs);
	return rs;
}

static void print_rule(const struct ir_rule *r)
{
	printf("    rule %s:", r->comment ? r->comment : "-");
	for (size_t i = 0; i < r->n_matches; i++) {
		const struct ir_match *m = &r->matches[i];

		printf(" %s%s", m->negate ? "!" : "", ir_match_type_name(m->type));
		if (m->type == IR_MATCH_SADDR_SET || m->type == IR_MATCH_DADDR_SET)
			printf("=%s", m->u.set);
		else if (m->type == IR_MATCH_IIFNAME || m->type == IR_MATCH_OIFNAME)
			printf("=%s", m->u.ifname);
		else if (m->type == IR_MATCH_SADDR || m->type == IR_MATCH_DADDR)
			printf("=/%u", m->u.prefix.len);
		else if (m->type != IR_MATCH_RATE_OVER)
			printf("=%#x", m->u.num);
	}
	printf(" counter=%d notrack=%d log=%s verdict=%s unknown=%s\n", r->counter, r->notrack,
	       r->log_prefix ? r->log_prefix : "-", ir_verdict_name(r->verdict),
	       r->unknown ? r->unknown : "-");
}

static void print_rs(const char *what, const struct ir_ruleset *rs)
{
	printf("%s: table %s\n", what, rs->table);
	for (size_t i = 0; i < rs->n_sets; i++) {
		const struct ir_set *s = &rs->sets[i];

		printf("  set %s key %d flags %#x timeout %llu size %u elems %zu\n", s->name, s->key,
		       s->flags, (unsigned long long)s->timeout_ms, s->size, s->n_elems);
		for (size_t j = 0; j < s->n_elems && j < 8; j++) {
			char buf[64];

			printf("    %s/%u t=%llu c=%s\n",
			       addr_str(&s->elems[j].addr, buf, sizeof(buf)),
			       s->elems[j].prefix_len, (unsigned long long)s->elems[j].timeout_ms,
			       s->elems[j].comment ? s->elems[j].comment : "-");
		}
	}
	for (size_t i = 0; i < rs->n_chains; i++) {
		const struct ir_chain *c = &rs->chains[i];

		printf("  chain %s hook %d prio %d\n", c->name, c->hook, c->priority);
		for (size_t j = 0; j < c->n_rules; j++)
			print_rule(&c->rules[j]);
	}
}

static void print_diags(const struct diags *d)
{
	for (size_t i = 0; i < d->n; i++)
		fprintf(stderr, "error: %s\n", d->v[i].msg);
}

static int apply(struct backend *b, const struct ir_ruleset *rs, const struct backend_gen *g)
{
	struct diags d;
	int ret;

	diag_init(&d, 0);
	ret = backend_nft_ops.apply(b, rs, NULL, g, &d);
	print_diags(&d);
	diag_free(&d);
	return ret;
}

static int roundtrip(struct backend *b)
{
	struct ir_ruleset *rs = full_ruleset("ntpwall_rt", 100), *live = NULL;
	struct backend_gen g;
	int ret = apply(b, rs, NULL);

	if (ret < 0) {
		fprintf(stderr, "apply: %s\n", strerror(-ret));
		return 1;
	}
	ret = backend_nft_ops.read(b, "ntpwall_rt", &live, &g);
	if (ret < 0) {
		fprintf(stderr, "read: %s\n", strerror(-ret));
		return 1;
	}
	if (!ir_ruleset_equal(rs, live)) {
		print_rs("wanted", rs);
		print_rs("live", live);
		return 1;
	}
	/* Applying the same again over the existing table works too. */
	ret = apply(b, rs, &g);
	ir_ruleset_free(rs);
	ir_ruleset_free(live);
	return ret < 0;
}

/* POLICY compiled with the fake resolver: 0 and *out, else diagnostics
 * printed and 2. */
static int compile_fake(const char *path, struct policy **p, struct resolved **r,
			struct ir_ruleset **out)
{
	struct diags d;

	*p = NULL;
	*r = NULL;
	*out = NULL;
	diag_init(&d, 0);
	if (policy_load(path, &d, p) == 0) {
		*r = fake_resolved(*p);
		(void)compile_policy(*p, *r, &d, out);
	}
	if (!*out)
		print_diags(&d);
	diag_free(&d);
	return *out ? 0 : 2;
}

/* The table POLICY compiles to, as the kernel has it now (loaded by
 * someone else, e.g. `nft -f` of the rendered script): equal or a diff. */
static int same(struct backend *b, const char *path)
{
	struct ir_ruleset *rs, *live = NULL;
	struct resolved *r;
	struct policy *p;
	struct backend_gen g;
	bool differs = true;
	int ret = compile_fake(path, &p, &r, &rs);

	if (ret)
		goto out;
	ret = 2;
	if (backend_nft_ops.read(b, rs->table, &live, &g) < 0) {
		fprintf(stderr, "read: table %s: cannot read\n", rs->table);
		goto out;
	}
	if (diff_rulesets(live, rs, false, "kernel", path, stdout, &differs) < 0)
		goto out;
	ret = differs;
out:
	ir_ruleset_free(live);
	ir_ruleset_free(rs);
	resolve_free(r);
	policy_free(p);
	return ret;
}

/* The table POLICY compiles to, applied as `ntpwall apply` would. */
static int load(struct backend *b, const char *path)
{
	struct ir_ruleset *rs;
	struct resolved *r;
	struct policy *p;
	int ret = compile_fake(path, &p, &r, &rs);

	if (ret == 0 && apply(b, rs, NULL) < 0)
		ret = 1;
	ir_ruleset_free(rs);
	resolve_free(r);
	policy_free(p);
	return ret;
}

/* Every generation in dir loads (kill -9 test); no kernel needed. */
static int check_state(const char *dir)
{
	struct state *st;
	unsigned long *nums;
	size_t n;
	int bad = 0;

	if (state_open(dir, false, &st) < 0 || state_list(st, &nums, &n) < 0)
		return 1;
	for (size_t i = 0; i < n; i++) {
		struct state_gen *gen;
		struct diags d;

		diag_init(&d, 0);
		if (state_load(st, nums[i], &gen, &d) < 0) {
			fprintf(stderr, "generation %lu: %s\n", nums[i], d.n ? d.v[0].msg : "unreadable");
			bad = 1;
		}
		diag_free(&d);
		state_gen_free(gen);
	}
	free(nums);
	state_close(st);
	return bad;
}

int main(int argc, char **argv)
{
	struct backend *b;
	struct backend_gen g = { 0 };
	int ret;

	if (argc < 2)
		return 2;
	if (!strcmp(argv[1], "check-state") && argc == 3)
		return check_state(argv[2]);
	ret = backend_nft_ops.open(&b);
	if (ret < 0) {
		fprintf(stderr, "open: %s\n", strerror(-ret));
		return 2;
	}
	if (!strcmp(argv[1], "roundtrip")) {
		ret = roundtrip(b);
	} else if (!strcmp(argv[1], "apply") && argc == 4) {
		struct ir_ruleset *rs = full_ruleset(argv[2], strtoul(argv[3], NULL, 10));

		ret = apply(b, rs, NULL) < 0;
		ir_ruleset_free(rs);
	} else if (!strcmp(argv[1], "overlap") && argc == 3) {
		/* Overlapping prefixes: the kernel refuses one element, which
		 * must be named in the error. */
		struct ir_ruleset *rs = full_ruleset(argv[2], 4);
		struct ir_set *s = ir_set_find(rs, "clients4");
		struct addr a = addr("198.51.100.64");

		ir_set_add_elem(s, &a, 26, NULL);
		ir_ruleset_sort(rs);
		ret = apply(b, rs, NULL) < 0 ? 0 : 1;
		ir_ruleset_free(rs);
	} else if (!strcmp(argv[1], "stale") && argc == 3) {
		struct ir_ruleset *rs = full_ruleset(argv[2], 4);

		backend_nft_ops.generation(b, &g);
		g.genid--;
		ret = apply(b, rs, &g);
		printf("%s\n", ret == -ERESTART ? "ERESTART" : strerror(-ret));
		ret = ret != -ERESTART;
		ir_ruleset_free(rs);
	} else if (!strcmp(argv[1], "same") && argc == 3) {
		ret = same(b, argv[2]);
	} else if (!strcmp(argv[1], "load") && argc == 3) {
		ret = load(b, argv[2]);
	} else if (!strcmp(argv[1], "read") && argc == 3) {
		struct ir_ruleset *rs;
		size_t elems = 0, rules = 0;

		ret = backend_nft_ops.read(b, argv[2], &rs, &g);
		if (ret < 0) {
			fprintf(stderr, "read: %s\n", strerror(-ret));
			ret = 1;
		} else {
			for (size_t i = 0; i < rs->n_sets; i++)
				elems += rs->sets[i].n_elems;
			for (size_t i = 0; i < rs->n_chains; i++)
				rules += rs->chains[i].n_rules;
			printf("sets %zu elems %zu rules %zu\n", rs->n_sets, elems, rules);
			if (getenv("BACKEND_RT_PRINT"))
				print_rs("live", rs);
			ir_ruleset_free(rs);
			ret = 0;
		}
	} else {
		ret = 2;
	}
	backend_nft_ops.close(b);
	return ret;
}
