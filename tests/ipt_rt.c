/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Test and benchmark driver for the iptables backend, run inside a
 * throw-away network namespace by tests/netns/ipt*.sh and tests/bench/:
 *   ipt_rt same POLICY       compile POLICY (fake resolver, backend
 *                            iptables), read its table back, exit 0 iff
 *                            ir_ruleset_equal; else print the diff and why
 *   ipt_rt load POLICY       compile POLICY (fake resolver) and apply it
 *                            through the backend, without DNS
 *   ipt_rt entries POLICY    every entry of the kernel's ntpwall chains
 *                            against the one the backend encodes: print the
 *                            first that differs (byte offsets); exit 0 iff
 *                            all are the same
 *   ipt_rt apply TABLE N     apply a table with N upstream addresses
 *   ipt_rt read TABLE        read it back, print "sets N elems M rules R"
 *   ipt_rt add TABLE N       the table of `apply TABLE N` with one more
 *                            address, in place (update)
 *   ipt_rt stale TABLE       apply with a stale generation: -ERESTART
 *   ipt_rt raced-add TABLE N read `apply TABLE N`, then a rule is put by
 *                            hand at the top of its egress set chain
 *                            (iptables-legacy), then `add` without a
 *                            generation to check: the update must read the
 *                            changed chain afresh and refuse it (-ENOENT),
 *                            not place the new address by the read's
 *                            positions; exit 0 iff it did
 *   ipt_rt remove TABLE      remove the table's chains and jumps
 *   ipt_rt chains            the legacy built-in chains (policy, rules)
 *   ipt_rt dump POLICY FILE  write the entries the backend would append for
 *                            POLICY (fake resolver) to FILE, for
 *                            tests/bench/ipt_floor (its format there) */
#include "backend_ipt_kern.h"
#include "fake_resolved.h"
#include "ntpwall/backend.h"
#include "ntpwall/compile.h"
#include "ntpwall/delta.h"
#include "ntpwall/diff.h"
#include "ntpwall/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct ir_ruleset *compile_file(const char *path)
{
	struct ir_ruleset *rs = fake_compile(path, POLICY_BACKEND_IPTABLES);

	if (!rs)
		exit(2);
	return rs;
}

static void print_diags(struct diags *d)
{
	for (size_t i = 0; i < d->n; i++)
		fprintf(stderr, "ipt_rt: %s\n", d->v[i].msg);
}

/* Upstreams 198.18.0.0/15 plus the usual chains: the benchmark's table. */
static struct ir_ruleset *upstream_ruleset(const char *table, size_t n)
{
	struct ir_ruleset *rs = ir_ruleset_new(table);
	struct ir_set *s = ir_set_add(rs, COMPILE_SET_UPSTREAMS4, IR_KEY_IPV4, IR_SET_TIMEOUT);
	struct ir_chain *in = ir_chain_add(rs, COMPILE_CHAIN_INPUT, IR_HOOK_INPUT, 0);
	struct ir_chain *out = ir_chain_add(rs, COMPILE_CHAIN_OUTPUT, IR_HOOK_OUTPUT, 0);
	struct ir_rule *r;

	for (size_t i = 0; i < n; i++) {
		struct addr a = { .family = AF_INET };

		a.v4.s_addr = htonl((198u << 24) | (18u << 16) | (uint32_t)(i & 0x1ffff));
		ir_set_add_elem(s, &a, 32, "pool.example")->timeout_ms = 3600000;
	}
	for (int k = 0; k < 2; k++) {
		struct ir_chain *c = k ? out : in;

		r = ir_rule_add(c, k ? "egress-upstreams4" : "ingress-upstreams4", NULL);
		ir_rule_match_num(r, IR_MATCH_L4PROTO, 17);
		ir_rule_match_num(r, k ? IR_MATCH_DPORT : IR_MATCH_SPORT, 123);
		ir_rule_match_num(r, IR_MATCH_NFPROTO, IR_NFPROTO_IPV4);
		ir_rule_match_set(r, k ? IR_MATCH_DADDR_SET : IR_MATCH_SADDR_SET,
				  COMPILE_SET_UPSTREAMS4);
		ir_rule_match_num(r, IR_MATCH_NTP_MODE, k ? 1u << 3 : 1u << 4);
		ir_rule_match_num(r, IR_MATCH_CT_STATE, k ? IR_CT_NEW | IR_CT_ESTABLISHED :
						     IR_CT_ESTABLISHED);
		r->verdict = IR_VERDICT_ACCEPT;
		r = ir_rule_add(c, "otherwise-dport", NULL);
		ir_rule_match_num(r, IR_MATCH_L4PROTO, 17);
		ir_rule_match_num(r, IR_MATCH_DPORT, 123);
		ir_rule_match_num(r, IR_MATCH_NFPROTO, IR_NFPROTO_IPV4);
		r->verdict = IR_VERDICT_DROP;
	}
	ir_ruleset_sort(rs);
	return rs;
}

static int do_apply(struct backend *b, const struct ir_ruleset *rs)
{
	struct diags d;
	int ret;

	diag_init(&d, 0);
	ret = backend_ipt_ops.apply(b, rs, NULL, NULL, &d);
	if (ret)
		print_diags(&d);
	diag_free(&d);
	return ret;
}

static int same(struct backend *b, const char *path)
{
	struct ir_ruleset *rs = compile_file(path), *live = NULL;
	struct backend_gen g;
	bool differs = false;
	int ret = backend_ipt_ops.read(b, rs->table, &live, &g);

	if (ret < 0) {
		fprintf(stderr, "ipt_rt: read %s: %s\n", rs->table, strerror(-ret));
		ir_ruleset_free(rs);
		return 1;
	}
	if (!ir_ruleset_equal(live, rs)) {
		diff_rulesets(live, rs, true, "live", path, stdout, &differs);
		ret = 1;
	}
	ir_ruleset_free(live);
	ir_ruleset_free(rs);
	return ret ? 1 : 0;
}

static void hexdiff(const struct bipt_fam *f, const struct bipt_rule *a, const struct bipt_rule *b)
{
	size_t n = a->entry_len < b->entry_len ? a->entry_len : b->entry_len, shown = 0;

	printf("  kernel %zu bytes, backend %zu bytes\n", a->entry_len, b->entry_len);
	for (size_t i = 0; i < n && shown < 16; i++) {
		if (i >= f->off_counters && i < f->off_counters + 16)
			continue;
		if (a->entry[i] != b->entry[i]) {
			printf("  byte %zu: kernel %02x backend %02x\n", i, a->entry[i], b->entry[i]);
			shown++;
		}
	}
}

/* Every ntpwall entry the kernel has against the backend's encoding. */
static int entries(const char *path)
{
	struct ir_ruleset *rs = compile_file(path);
	struct bipt_all want;
	struct diags d;
	int bad = 0;

	diag_init(&d, 0);
	if (bipt_layout_all(rs, &want, &d) < 0) {
		print_diags(&d);
		return 2;
	}
	for (int f = 0; f < BIPT_NFAM; f++) {
		for (int t = 0; t < BIPT_NTAB; t++) {
			struct bipt_layout *w = &want.t[f][t];
			struct bipt_snap s;

			bipt_layout_encode(w, &d);
			if (bipt_snap_open(&s, f, t, rs->table, NULL, false, &d) < 0)
				continue;
			for (int pass = 0; pass < 2; pass++) {
				size_t n = pass ? w->n_jumps : w->n;

				for (size_t i = 0; i < n; i++) {
					const struct bipt_chain *c = pass ? &w->jumps[i] : &w->chains[i];
					const struct bipt_chain *l = NULL;

					for (size_t k = 0; k < (pass ? s.live.n_jumps : s.live.n); k++)
						if (!strcmp((pass ? s.live.jumps : s.live.chains)[k].name,
							    c->name))
							l = &(pass ? s.live.jumps : s.live.chains)[k];
					for (size_t j = 0; j < c->n; j++) {
						if (l && j < l->n && bipt_entry_equal(&bipt_fams[f],
							l->rules[j].entry, c->rules[j].entry))
							continue;
						printf("%s %s chain %s entry %zu differs%s\n",
						       bipt_fams[f].tool, bipt_table_names[t], c->name,
						       j + 1, l && j < l->n ? "" : " (missing)");
						if (l && j < l->n)
							hexdiff(&bipt_fams[f], &l->rules[j], &c->rules[j]);
						bad = 1;
					}
				}
			}
			bipt_snap_close(&s);
		}
	}
	bipt_all_free(&want);
	diag_free(&d);
	ir_ruleset_free(rs);
	return bad;
}

/* The table of `apply TABLE N` with one more address, in place. between
 * (may be NULL): a command run between the read and the update, which
 * then checks no generation. */
static int add_one(struct backend *b, const char *table, size_t n, const char *between)
{
	struct ir_ruleset *live = NULL, *rs = upstream_ruleset(table, n + 1);
	struct ruleset_delta delta;
	struct backend_gen g, none = { 0 };
	struct diags d;
	int ret = backend_ipt_ops.read(b, table, &live, &g);

	diag_init(&d, 0);
	if (!ret && between && system(between))
		ret = -EIO;
	if (!ret && !ruleset_delta(live, rs, 0, &delta))
		ret = -EPROTO;
	else if (!ret) {
		ret = backend_ipt_ops.update(b, rs, &delta, between ? &none : &g, &d);
		ruleset_delta_free(&delta);
	}
	print_diags(&d);
	diag_free(&d);
	ir_ruleset_free(live);
	ir_ruleset_free(rs);
	return ret;
}

/* A record of tests/bench/ipt_floor.c: 8 bytes of head, the bytes,
 * zeros up to a multiple of 8 (entries stay aligned in its mapping). */
static void put_record(FILE *f, char kind, const void *p, uint32_t len)
{
	static const char zeros[8];
	char head[8] = { kind };

	memcpy(head + 4, &len, sizeof(len));
	fwrite(head, 1, sizeof(head), f);
	fwrite(p, 1, len, f);
	fwrite(zeros, 1, (8 - len % 8) % 8, f);
}

static void dump_chain(FILE *f, char kind, const struct bipt_chain *c)
{
	put_record(f, kind, c->name, sizeof(c->name));
	for (size_t i = 0; i < c->n; i++)
		put_record(f, 'E', c->rules[i].entry, (uint32_t)c->rules[i].entry_len);
}

/* The layout of POLICY as records of tests/bench/ipt_floor.c. */
static int dump(const char *policy, const char *path)
{
	struct ir_ruleset *rs = compile_file(policy);
	struct bipt_all want;
	struct diags d;
	FILE *f;
	int ret;

	diag_init(&d, 0);
	ret = bipt_check_roundtrip(rs, &want, &d);
	print_diags(&d);
	diag_free(&d);
	ir_ruleset_free(rs);
	if (ret || !(f = fopen(path, "wb")))
		return 1;
	for (int fam = 0; fam < BIPT_NFAM; fam++) {
		for (int t = 0; t < BIPT_NTAB; t++) {
			const struct bipt_layout *l = &want.t[fam][t];
			char head[BIPT_NAME_LEN] = { 0 };

			if (!l->n)
				continue;
			snprintf(head, sizeof(head), "%d %s", fam == BIPT_V4 ? 4 : 6,
				 bipt_table_names[t]);
			put_record(f, 'T', head, sizeof(head));
			for (size_t i = 0; i < l->n; i++)
				dump_chain(f, 'C', &l->chains[i]);
			for (size_t i = 0; i < l->n_jumps; i++)
				dump_chain(f, 'J', &l->jumps[i]);
		}
	}
	bipt_all_free(&want);
	return fclose(f) ? 1 : 0;
}

static int raced_add(struct backend *b, const char *table, size_t n)
{
	char cmd[256];
	int ret;

	snprintf(cmd, sizeof(cmd), "iptables-legacy -w -I %s-O1 1 -m comment --comment hand "
		 "-j RETURN", table);
	ret = add_one(b, table, n, cmd);
	if (ret != -ENOENT)
		fprintf(stderr, "ipt_rt: raced-add: %s, not ENOENT\n", strerror(-ret));
	return ret == -ENOENT ? 0 : 1;
}

static void chains(void)
{
	struct backend_ipt_chain *v;
	size_t n;
	int ret = backend_ipt_legacy_chains(&v, &n);

	if (ret < 0) {
		fprintf(stderr, "ipt_rt: %s\n", strerror(-ret));
		exit(1);
	}
	for (size_t i = 0; i < n; i++)
		printf("%s %s %s %s %llu\n", v[i].family == AF_INET ? "ip" : "ip6", v[i].table,
		       v[i].chain, v[i].policy, (unsigned long long)v[i].rules);
	free(v);
}

int main(int argc, char **argv)
{
	struct backend *b;
	int ret = 0;

	if (argc < 2)
		goto usage;
	if (!strcmp(argv[1], "chains")) {
		chains();
		return 0;
	}
	if (argc < 3)
		goto usage;
	if (!strcmp(argv[1], "entries"))
		return entries(argv[2]);
	if (!strcmp(argv[1], "dump") && argc == 4)
		return dump(argv[2], argv[3]);
	backend_ipt_ops.open(&b);
	if (!strcmp(argv[1], "same")) {
		ret = same(b, argv[2]);
	} else if (!strcmp(argv[1], "load")) {
		struct ir_ruleset *rs = compile_file(argv[2]);

		ret = do_apply(b, rs) ? 1 : 0;
		ir_ruleset_free(rs);
	} else if (!strcmp(argv[1], "apply") && argc == 4) {
		struct ir_ruleset *rs = upstream_ruleset(argv[2], strtoul(argv[3], NULL, 10));

		ret = do_apply(b, rs) ? 1 : 0;
		ir_ruleset_free(rs);
	} else if (!strcmp(argv[1], "add") && argc == 4) {
		ret = add_one(b, argv[2], strtoul(argv[3], NULL, 10), NULL) ? 1 : 0;
	} else if (!strcmp(argv[1], "raced-add") && argc == 4) {
		ret = raced_add(b, argv[2], strtoul(argv[3], NULL, 10));
	} else if (!strcmp(argv[1], "read")) {
		struct ir_ruleset *rs = NULL;
		struct backend_gen g;
		size_t elems = 0, rules = 0;

		ret = backend_ipt_ops.read(b, argv[2], &rs, &g);
		for (size_t i = 0; !ret && i < rs->n_sets; i++)
			elems += rs->sets[i].n_elems;
		for (size_t i = 0; !ret && i < rs->n_chains; i++)
			rules += rs->chains[i].n_rules;
		if (!ret)
			printf("sets %zu elems %zu rules %zu genid %u\n", rs->n_sets, elems, rules,
			       g.genid);
		ret = ret ? 1 : 0;
		ir_ruleset_free(rs);
	} else if (!strcmp(argv[1], "remove")) {
		struct diags d;

		diag_init(&d, 0);
		ret = backend_ipt_ops.remove(b, argv[2], NULL, &d) ? 1 : 0;
		print_diags(&d);
		diag_free(&d);
	} else if (!strcmp(argv[1], "stale")) {
		struct ir_ruleset *rs = upstream_ruleset(argv[2], 2);
		struct backend_gen g = { .genid = 12345 };
		struct diags d;

		diag_init(&d, 0);
		ret = backend_ipt_ops.apply(b, rs, NULL, &g, &d) == -ERESTART ? 0 : 1;
		diag_free(&d);
		ir_ruleset_free(rs);
	} else {
		backend_ipt_ops.close(b);
		goto usage;
	}
	backend_ipt_ops.close(b);
	return ret;
usage:
	fprintf(stderr, "usage: ipt_rt same|load|entries POLICY | apply|add|raced-add TABLE N | "
			"read|stale|remove TABLE | chains | dump POLICY FILE\n");
	return 2;
}
