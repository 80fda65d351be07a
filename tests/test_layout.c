/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The kernel's layout (src/ir_layout.c): for every policy in policies/ and
 * tests/golden/, the laid-out chains decide every packet of a grid exactly
 * as the flat rules do (the same verdict by the same rule, by the
 * explain evaluator, which follows jumps and gotos), flatten back to the
 * compiled rules, and a layout changed by hand never flattens. */
#include "fake_resolved.h"
#include "ntpwall/compile.h"
#include "ntpwall/explain.h"
#include "ntpwall/ir.h"
#include "ntpwall/util.h"

#include <check.h>
#include <glob.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct ir_ruleset *compile_file(const char *path)
{
	struct ir_ruleset *rs = fake_compile(path, -1);

	ck_assert_msg(rs, "%s does not compile", path);
	return rs;
}

/* rs with its chains replaced by the kernel's layout. */
static struct ir_ruleset *laid_out(const struct ir_ruleset *rs)
{
	struct ir_ruleset *out = ir_ruleset_clone(rs), *ch = ir_layout(rs);

	ir_ruleset_swap_chains(out, ch);
	ir_ruleset_free(ch);
	return out;
}

static bool str_eq(const char *a, const char *b)
{
	return a && b ? !strcmp(a, b) : a == b;
}

static struct addr mk(const char *s)
{
	struct addr a;

	ck_assert_ptr_null(addr_parse(s, &a));
	return a;
}

/* Addresses worth trying for family fam: the first element of every set
 * of that family, and one in no set. */
static size_t candidates(const struct ir_ruleset *rs, int fam, struct addr *out, size_t max)
{
	size_t n = 0;

	out[n++] = mk(fam == 4 ? "198.51.100.250" : "2001:db8:dead::1");
	for (size_t i = 0; i < rs->n_sets && n < max; i++) {
		const struct ir_set *s = &rs->sets[i];

		if (s->n_elems && (s->key == IR_KEY_IPV4) == (fam == 4))
			out[n++] = s->elems[0].addr;
	}
	return n;
}

struct grid {
	const struct ir_ruleset *flat, *laid;
	size_t packets;
};

static void same_decision(struct grid *g, const struct explain_packet *p)
{
	struct explain_result a = { 0 }, b = { 0 };

	explain_packet(g->flat, p, &a);
	explain_packet(g->laid, p, &b);
	ck_assert_msg(a.out.verdict == b.out.verdict && str_eq(a.out.comment, b.out.comment),
		      "%s: mode %u %u->%u dir %d ct %u if '%s': flat %s by %s, laid out %s by %s",
		      g->flat->table, p->mode, p->sport, p->dport, p->dir, p->ct, p->ifname,
		      explain_verdict_name(a.out.verdict), a.out.comment ? a.out.comment : "-",
		      explain_verdict_name(b.out.verdict), b.out.comment ? b.out.comment : "-");
	ck_assert_int_eq(a.rate_limited, b.rate_limited);
	if (a.rate_limited)
		ck_assert(a.over.verdict == b.over.verdict &&
			  str_eq(a.over.comment, b.over.comment));
	/* Each rule that matched, in the same order: counters move alike. */
	ck_assert_uint_eq(a.out.n_steps, b.out.n_steps);
	for (size_t i = 0; i < a.out.n_steps; i++)
		ck_assert(str_eq(a.out.steps[i].comment, b.out.steps[i].comment));
	explain_result_free(&a);
	explain_result_free(&b);
	g->packets++;
}

static const uint16_t ports[][2] = { { 40000, 123 }, { 123, 40000 }, { 123, 123 },
				     { 40000, 9000 }, { 4460, 40000 } };
static const uint32_t states[] = { IR_CT_NEW, IR_CT_ESTABLISHED, IR_CT_UNTRACKED };
static const char *const ifnames[] = { "eth0", "lo", "eth9" };

static void grid_family(struct grid *g, int fam, int dir)
{
	struct addr a[16];
	size_t n = candidates(g->flat, fam, a, 16);
	struct explain_packet p = { .dir = dir, .version = 4, .opcode_set = true, .ifname_set = true };

	for (size_t s = 0; s < n; s++)
		for (size_t pt = 0; pt < sizeof(ports) / sizeof(ports[0]); pt++)
			for (unsigned mode = 0; mode < 8; mode++)
				for (size_t c = 0; c < 3; c++)
					for (size_t i = 0; i < 3; i++) {
						/* The remote end: source on input. */
						p.src = dir == EXPLAIN_DIR_IN ? a[s] : a[0];
						p.dst = dir == EXPLAIN_DIR_IN ? a[0] : a[s];
						p.sport = ports[pt][0];
						p.dport = ports[pt][1];
						p.mode = mode;
						p.opcode = mode == 6 ? 8 : 2;
						p.ct = states[c];
						strcpy(p.ifname, ifnames[i]);
						same_decision(g, &p);
						/* An old version, a read query. */
						p.version = 1;
						p.opcode = 2;
						same_decision(g, &p);
						p.version = 4;
					}
}

START_TEST(same_decisions_for_every_policy)
{
	static const char *const pats[] = { "/policies/*.yaml", "/tests/golden/*.yaml" };
	const char *src = getenv("SRCDIR");
	size_t policies = 0, packets = 0;

	ck_assert_ptr_nonnull(src);
	for (size_t k = 0; k < 2; k++) {
		char *pat = xasprintf("%s%s", src, pats[k]);
		glob_t gl;

		ck_assert_int_eq(glob(pat, 0, NULL, &gl), 0);
		for (size_t i = 0; i < gl.gl_pathc; i++) {
			struct ir_ruleset *flat = compile_file(gl.gl_pathv[i]);
			struct ir_ruleset *laid = laid_out(flat);
			struct ir_ruleset *back = ir_ruleset_clone(laid);
			struct grid g = { flat, laid, 0 };

			/* Flattening gives back exactly the compiled rules. */
			ir_flatten(back);
			ck_assert_msg(ir_ruleset_equal(back, flat), "%s does not flatten back",
				      gl.gl_pathv[i]);
			for (int fam = 4; fam <= 6; fam += 2)
				for (int dir = EXPLAIN_DIR_IN; dir <= EXPLAIN_DIR_OUT; dir++)
					grid_family(&g, fam, dir);
			packets += g.packets;
			policies++;
			ir_ruleset_free(back);
			ir_ruleset_free(laid);
			ir_ruleset_free(flat);
		}
		globfree(&gl);
		free(pat);
	}
	ck_assert_uint_ge(policies, 7);
	ck_assert_msg(packets >= 50000, "%zu packets", packets);
}
END_TEST

static struct ir_ruleset *lan_server(void)
{
	char *path = xasprintf("%s/policies/lan-server.yaml", getenv("SRCDIR"));
	struct ir_ruleset *rs = compile_file(path);

	free(path);
	return rs;
}

/* The base chains hold only the dispatch: one goto per port class, no
 * counter; a server's most frequent packets find their class first, and
 * their rules before any mode jump. */
START_TEST(base_chains_dispatch_only)
{
	struct ir_ruleset *flat = lan_server(), *laid = laid_out(flat);
	const struct ir_chain *in = ir_chain_find(laid, "input");
	const struct ir_chain *out = ir_chain_find(laid, "output");
	const struct ir_chain *ntp = ir_chain_find(laid, "input-ntp");

	ck_assert_uint_eq(in->n_rules, 2);
	ck_assert_uint_eq(out->n_rules, 2);
	for (size_t i = 0; i < 2; i++) {
		ck_assert_int_eq(in->rules[i].verdict, IR_VERDICT_GOTO);
		ck_assert_str_eq(in->rules[i].target, "input-ntp");
		ck_assert(!in->rules[i].counter && !out->rules[i].counter);
	}
	ck_assert_int_eq(in->rules[0].matches[1].type, IR_MATCH_DPORT);
	ck_assert_int_eq(out->rules[0].matches[1].type, IR_MATCH_SPORT);
	ck_assert_ptr_nonnull(ntp);
	/* The first mode's rules (3 on input, 4 on output) stay inline, the
	 * next mode is the first jump. */
	ck_assert_ptr_null(ir_chain_find(laid, "input-mode3"));
	ck_assert_ptr_null(ir_chain_find(laid, "output-mode4"));
	for (size_t i = 0; i < ntp->n_rules; i++)
		if (ntp->rules[i].verdict == IR_VERDICT_JUMP) {
			ck_assert_str_eq(ntp->rules[i].target, "input-mode4");
			break;
		}
	out = ir_chain_find(laid, "output-ntp");
	ck_assert_str_eq(out->rules[0].comment, "serve-reply4");
	ck_assert_str_eq(out->rules[2].target, "output-mode3");
	ir_ruleset_free(laid);
	ir_ruleset_free(flat);
}
END_TEST

/* flatten(edit(layout)) must not equal the compiled rules. */
static void edited_is_drift(void (*edit)(struct ir_ruleset *), const char *what)
{
	struct ir_ruleset *flat = lan_server(), *laid = laid_out(flat);

	edit(laid);
	ir_flatten(laid);
	ck_assert_msg(!ir_ruleset_equal(laid, flat), "%s reads back as in sync", what);
	ir_ruleset_free(laid);
	ir_ruleset_free(flat);
}

static void dispatch_port(struct ir_ruleset *rs)
{
	ir_chain_find(rs, "input")->rules[0].matches[1].u.num = 124;
}

static void jump_gone(struct ir_ruleset *rs)
{
	struct ir_chain *c = ir_chain_find(rs, "input-ntp");

	for (size_t i = 0; i < c->n_rules; i++)
		if (c->rules[i].verdict == IR_VERDICT_JUMP) {
			c->rules[i].matches[0].u.bits = 1u << 5;
			return;
		}
}

static void rule_added(struct ir_ruleset *rs)
{
	struct ir_rule *r = ir_rule_add(ir_chain_find(rs, "input-mode4"), "by hand", NULL);

	r->verdict = IR_VERDICT_ACCEPT;
}

static void goto_elsewhere(struct ir_ruleset *rs)
{
	struct ir_chain *c = ir_chain_find(rs, "output");

	free(c->rules[1].target);
	c->rules[1].target = xstrdup("output-mode3");
}

static void chain_added(struct ir_ruleset *rs)
{
	ir_chain_add(rs, "extra", IR_HOOK_NONE, 0);
}

START_TEST(hand_edits_are_drift)
{
	edited_is_drift(dispatch_port, "a dispatch to port 124");
	edited_is_drift(jump_gone, "a mode jump on another mode");
	edited_is_drift(rule_added, "a rule added to input-mode4");
	edited_is_drift(goto_elsewhere, "a goto into a mode chain");
	edited_is_drift(chain_added, "an extra chain");
}
END_TEST

/* A flat table (made by hand, or by an ntpwall before the layout) reads
 * back as it is; a laid-out ruleset is not laid out again. */
START_TEST(flat_and_twice)
{
	struct ir_ruleset *flat = lan_server(), *copy = ir_ruleset_clone(flat);
	struct ir_ruleset *laid = laid_out(flat), *again = ir_layout(laid);

	ir_flatten(copy);
	ck_assert(ir_ruleset_equal(copy, flat));
	ck_assert_uint_eq(again->n_chains, laid->n_chains);
	for (size_t i = 0; i < laid->n_chains; i++)
		ck_assert(ir_chain_equal(&again->chains[i], &laid->chains[i]));
	ir_ruleset_free(again);
	ir_ruleset_free(laid);
	ir_ruleset_free(copy);
	ir_ruleset_free(flat);
}
END_TEST

/* A base chain too short to dispatch (one notrack rule: one family, one
 * interface) stays as it is beside the laid-out ones, and the whole reads
 * back in sync. Before, such a table always read back as drift. */
START_TEST(short_chain_beside_laid_out)
{
	static const char yaml[] =
		"version: 1\ninterfaces: [eth0]\nfamilies: [ipv4]\n"
		"upstreams:\n  - server: 192.0.2.1\n"
		"serve:\n  clients: [198.51.100.0/24]\n  notrack: true\n";
	char path[] = "/tmp/ntpwall-layout-XXXXXX";
	int fd = mkstemp(path);
	struct ir_ruleset *flat, *laid;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, yaml, sizeof(yaml) - 1), (ssize_t)(sizeof(yaml) - 1));
	close(fd);
	flat = fake_compile(path, -1);
	unlink(path);
	ck_assert_ptr_nonnull(flat);
	laid = laid_out(flat);
	ck_assert_uint_eq(ir_chain_find(laid, "raw_prerouting")->n_rules, 1);
	ck_assert_int_eq(ir_chain_find(laid, "raw_prerouting")->rules[0].verdict, IR_VERDICT_NONE);
	ck_assert_ptr_nonnull(ir_chain_find(laid, "input-ntp"));
	ir_flatten(laid);
	ck_assert(ir_ruleset_equal(laid, flat));
	ir_ruleset_free(laid);
	ir_ruleset_free(flat);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("layout");
	TCase *tc = tcase_create("layout");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, same_decisions_for_every_policy);
	tcase_add_test(tc, base_chains_dispatch_only);
	tcase_add_test(tc, hand_edits_are_drift);
	tcase_add_test(tc, flat_and_twice);
	tcase_add_test(tc, short_chain_beside_laid_out);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
