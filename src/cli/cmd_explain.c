/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ntpwall explain [POLICY] --from ADDR[:PORT] --to ADDR[:PORT] --mode N ...:
 * which rule decides a described NTP packet, and why, over a policy's
 * rules or (without POLICY) the live generation's as recorded. Sends
 * nothing, opens no netlink socket, needs no root. Exit 0 accepted (or
 * passed on), 1 dropped or rejected, 2 usage, error or not understood. */
#include "cli.h"
#include "engine_cli.h"
#include "ntpwall/compile.h"
#include "ntpwall/explain.h"
#include "ntpwall/privsep.h"
#include "ntpwall/util.h"

#include <errno.h>
#include <jansson.h>
#include <string.h>

enum {
	OPT_FROM = 256, OPT_TO, OPT_MODE, OPT_VERSION, OPT_OPCODE, OPT_DIRECTION, OPT_STATE,
	OPT_INTERFACE, OPT_FORMAT,
};

static const struct cli_option explain_opts[] = {
	{ "from", OPT_FROM, "ADDR[:PORT]", "source address and port (default port 123; [V6]:PORT)" },
	{ "to", OPT_TO, "ADDR[:PORT]", "destination address and port (default port 123)" },
	{ "mode", OPT_MODE, "N", "NTP mode, 0 to 7 (3 client, 4 server, 6 control, ...)" },
	{ "version", OPT_VERSION, "N", "NTP version, 0 to 7 (default 4)" },
	{ "opcode", OPT_OPCODE, "N", "mode-6 opcode, 0 to 31 (default 2, read variables)" },
	{ "direction", OPT_DIRECTION, "in|out", "default: from the sets the addresses are in" },
	{ "state", OPT_STATE, "new|established", "default: established for a reply, else new" },
	{ "interface", OPT_INTERFACE, "NAME", "default: lo for loopback addresses, else the "
	  "first the rules name" },
	{ "format", OPT_FORMAT, "FMT", "text (default) or json" },
	{ "help", 'h', NULL, "show this help" },
	{ 0 }
};

#define USAGE "ntpwall explain [POLICY] --from ADDR[:PORT] --to ADDR[:PORT] --mode N " \
	      "[--version N] [--opcode N] [--direction in|out] [--state new|established] " \
	      "[--interface NAME] [--format text|json]"

struct explain_args {
	struct explain_packet pkt;
	bool from, to, mode;
	enum report_format format;
};

/* "192.0.2.1", "192.0.2.1:123", "2001:db8::1", "[2001:db8::1]:123". */
static int parse_endpoint(const char *opt, const char *arg, struct addr *a,
			  uint16_t *port)
{
	const char *s = arg;
	char buf[INET6_ADDRSTRLEN + 8];
	const char *end = s + strlen(s), *p = NULL, *colon = strchr(s, ':');
	unsigned long v = 123;
	bool ok;

	if (s[0] == '[') {
		s++;
		end = strchr(s, ']');
		ok = end && (!end[1] || end[1] == ':');
		p = ok && end[1] ? end + 2 : NULL;
	} else {
		/* One colon: IPv4 and a port; more: an IPv6 address alone. */
		if (colon && colon == strrchr(s, ':')) {
			end = colon;
			p = colon + 1;
		}
		ok = true;
	}
	ok = ok && (size_t)(end - s) < sizeof(buf);
	if (ok) {
		memcpy(buf, s, (size_t)(end - s));
		buf[end - s] = '\0';
		ok = !addr_parse(buf, a) && (!p || !policy_parse_uint(p, 1, 65535, &v));
	}
	if (!ok) {
		cli_error("--%s '%s': expected ADDR, ADDR:PORT or [IPV6]:PORT", opt, arg);
		return -1;
	}
	*port = (uint16_t)v;
	return 0;
}

static int parse_num(const char *opt, const char *s, unsigned long max, unsigned *out)
{
	unsigned long v;

	if (policy_parse_uint(s, 0, max, &v)) {
		cli_error("--%s '%s': expected a number from 0 to %lu", opt, s, max);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

static int parse_word(const char *opt, const char *s, const char *a, const char *b, int *out)
{
	if (strcmp(s, a) && strcmp(s, b)) {
		cli_error("--%s '%s': expected %s or %s", opt, s, a, b);
		return -1;
	}
	*out = !strcmp(s, b);
	return 0;
}

static int explain_opt(int key, const char *arg, void *data)
{
	struct explain_args *a = data;
	struct explain_packet *p = &a->pkt;
	int w, f;

	switch (key) {
	case OPT_FROM:
		a->from = true;
		return parse_endpoint("from", arg, &p->src, &p->sport);
	case OPT_TO:
		a->to = true;
		return parse_endpoint("to", arg, &p->dst, &p->dport);
	case OPT_MODE:
		a->mode = true;
		return parse_num("mode", arg, 7, &p->mode);
	case OPT_VERSION:
		return parse_num("version", arg, 7, &p->version);
	case OPT_OPCODE:
		p->opcode_set = true;
		return parse_num("opcode", arg, 31, &p->opcode);
	case OPT_DIRECTION:
		if (parse_word("direction", arg, "in", "out", &w))
			return -1;
		p->dir = w ? EXPLAIN_DIR_OUT : EXPLAIN_DIR_IN;
		return 0;
	case OPT_STATE:
		if (parse_word("state", arg, "new", "established", &w))
			return -1;
		p->ct = w ? IR_CT_ESTABLISHED : IR_CT_NEW;
		return 0;
	case OPT_INTERFACE:
		if (policy_check_ifname(arg)) {
			cli_error("--interface '%s': %s", arg, policy_check_ifname(arg));
			return -1;
		}
		snprintf(p->ifname, sizeof(p->ifname), "%s", arg);
		p->ifname_set = true;
		return 0;
	case OPT_FORMAT:
		f = report_format_parse(arg, REPORT_JSON);
		if (f < 0) {
			cli_error("--format '%s': expected text or json", arg);
			return -1;
		}
		a->format = (enum report_format)f;
		return 0;
	}
	return 0;
}

/* Where the rules came from, for the "rules:" line and JSON. */
struct rules_origin {
	const char *kind;		/* "state", "published", "policy" */
	const char *policy;
	unsigned long generation;
	const char *created;
	int state_error;
	bool addrs_published;		/* policy: addresses from the published choice */
};

/* The rules of the policy at path, its names resolved as compile resolves
 * them: the published choice when a wall runs this policy, else DNS; and
 * whether its backend is iptables (chains and verdicts are then named as
 * iptables has them). */
static int policy_rules(const char *path, struct diags *d, struct ir_ruleset **rs,
			bool *published, bool *iptables)
{
	struct resolve_options opt = { 0 };
	struct policy *p = NULL;
	struct resolved *r = NULL;
	char *seed = NULL;
	int ret = policy_load(path, d, &p);

	*published = false;
	*iptables = !ret && p->backend == POLICY_BACKEND_IPTABLES;
	if (!ret && cli_current_choice(p, &r) == 0) {
		*published = true;
	} else if (!ret) {
		opt.seed = seed = cli_machine_seed();
		ret = privsep_net.resolve(&privsep_net, p, &opt, d, &r);
		if (ret && ret != -EINVAL)
			cli_error("explain: resolving %s: %s", path, strerror(-ret));
	}
	if (!ret)
		ret = compile_policy(p, r, d, rs);
	free(seed);
	resolve_free(r);
	policy_free(p);
	return ret;
}

static void print_outcome_line(const struct ir_ruleset *rs, const struct explain_result *r,
			       const struct explain_outcome *o, const char *why)
{
	char *where = o->chain ? explain_chain_label(rs, r, o->chain,
						     o->chain_policy ? SIZE_MAX : o->rule) : NULL;

	printf("%s: ", explain_verdict_name(o->verdict));
	if (o->verdict == EXPLAIN_CONTINUE && r->iptables)
		printf("no rule of iptables chains %s-* decides; they return it to the host's own "
		       "rules", rs->table);
	else if (o->verdict == EXPLAIN_CONTINUE)
		printf("no rule of table inet %s decides; its chain policies (accept) and the "
		       "host's other tables do", rs->table);
	else if (o->chain_policy)
		printf("%s, by its policy", where);
	else if (r->iptables)
		printf("%s, rule \"%s\"%s%s%s", where, o->comment ? o->comment : "",
		       why ? ": " : "", why ? why : "", o->verdict == EXPLAIN_ACCEPT ?
		       " (iptables: RETURN, the host's own rules judge it next)" : "");
	else
		printf("%s, rule %zu \"%s\"%s%s", where, o->rule + 1,
		       o->comment ? o->comment : "", why ? ": " : "", why ? why : "");
	putchar('\n');
	free(where);
}

static void print_packet(const struct explain_packet *p)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	bool v6 = p->src.family == AF_INET6;

	addr_str(&p->src, s, sizeof(s));
	addr_str(&p->dst, d, sizeof(d));
	printf("packet: %s %s%s%s:%u -> %s%s%s:%u, UDP, NTP version %u mode %u (%s)",
	       explain_dir_name(p->dir), v6 ? "[" : "", s, v6 ? "]" : "", p->sport, v6 ? "[" : "",
	       d, v6 ? "]" : "", p->dport, p->version, p->mode, explain_mode_name(p->mode));
	if (p->mode == 6)
		printf(" opcode %u", p->opcode);
	printf(", ct state %s, interface %s\n", p->ct == IR_CT_ESTABLISHED ? "established" : "new",
	       p->ifname[0] ? p->ifname : "(none the rules name)");
}

static void print_origin(const struct rules_origin *o)
{
	if (!strcmp(o->kind, "state"))
		printf("rules: generation %lu (%s) of %s%s%s\n", o->generation,
		       o->created ? o->created : "?", arg_state_dir, o->policy ? ", from " : "",
		       o->policy ? o->policy : "");
	else if (!strcmp(o->kind, "published"))
		printf("rules: %s as it is now, with the addresses %s/upstreams.json publishes for "
		       "generation %lu (%s: %s)\n", o->policy, cli_run_dir(), o->generation,
		       arg_state_dir, strerror(-o->state_error));
	else
		printf("rules: %s, names %s\n", o->policy, o->addrs_published ?
		       "as the wall publishes them" : "resolved now");
}

/* What a rule on the way did: a log rule logs, within its own rate limit,
 * and the packet goes on. */
static const char *step_action(const struct explain_step *s, bool json)
{
	if (s->notrack)
		return "notrack";
	if (s->verdict == IR_VERDICT_NONE && s->log)
		return json ? "log" : "logged (rate-limited)";
	return s->verdict == IR_VERDICT_NONE ? "continue" : ir_verdict_name(s->verdict);
}

static void print_text(const struct explain_result *r, const struct rules_origin *o,
		       const struct ir_ruleset *rs)
{
	print_outcome_line(rs, r, &r->out, r->why);
	if (r->unknown)
		printf("not understood: %s\n", r->unknown);
	print_packet(&r->pkt);
	for (size_t i = 0; i < r->n_assumed; i++)
		printf("assumed: %s\n", r->assumed[i]);
	print_origin(o);
	for (size_t i = 0; i < r->n_reasons; i++)
		printf("%s: %s\n", r->reasons[i].held ? "yes" : "no", r->reasons[i].text);
	for (size_t i = 0; i < r->out.n_steps; i++) {
		const struct explain_step *s = &r->out.steps[i];
		char *where;

		if (s->chain == r->out.chain && s->rule == r->out.rule)
			continue;
		where = explain_chain_label(rs, r, s->chain, s->rule);
		if (r->iptables)
			printf("also: %s, rule \"%s\"", where, s->comment ? s->comment : "");
		else
			printf("also: %s, rule %zu \"%s\"", where, s->rule + 1,
			       s->comment ? s->comment : "");
		printf(" (%s)\n", step_action(s, false));
		free(where);
	}
	if (r->rate_limited) {
		fputs("over the rate limit, ", stdout);
		print_outcome_line(rs, r, &r->over, explain_rule_why(r->over.comment));
	}
}

static json_t *outcome_json(const struct explain_outcome *o)
{
	json_t *trace = json_array();

	for (size_t i = 0; i < o->n_steps; i++) {
		const struct explain_step *s = &o->steps[i];

		json_array_append_new(trace, json_pack("{s:s, s:I, s:s?, s:s}", "chain", s->chain,
						       "rule", (json_int_t)s->rule + 1, "comment",
						       s->comment, "action", step_action(s, true)));
	}
	return json_pack("{s:s, s:s?, s:o, s:s?, s:b, s:o}", "verdict",
			 explain_verdict_name(o->verdict), "chain", o->chain, "rule",
			 o->chain && !o->chain_policy ? json_integer((json_int_t)o->rule + 1) :
			 json_null(), "comment", o->comment, "chain_policy", o->chain_policy,
			 "trace", trace);
}

static json_t *packet_json(const struct explain_packet *p)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];

	return json_pack("{s:s, s:s, s:i, s:s, s:i, s:i, s:i, s:o, s:s, s:s}", "direction",
			 explain_dir_name(p->dir), "from", addr_str(&p->src, s, sizeof(s)),
			 "sport", p->sport, "to", addr_str(&p->dst, d, sizeof(d)), "dport",
			 p->dport, "version", p->version, "mode", p->mode, "opcode",
			 p->mode == 6 ? json_integer(p->opcode) : json_null(), "state",
			 p->ct == IR_CT_ESTABLISHED ? "established" : "new", "interface", p->ifname);
}

static void print_json(const struct explain_result *r, const struct rules_origin *o)
{
	json_t *reasons = json_array(), *assumed = json_array(), *j;

	for (size_t i = 0; i < r->n_reasons; i++)
		json_array_append_new(reasons, json_pack("{s:s, s:b, s:b}", "text",
							 r->reasons[i].text, "held", r->reasons[i].held,
							 "assumed", r->reasons[i].assumed));
	for (size_t i = 0; i < r->n_assumed; i++)
		json_array_append_new(assumed, json_string(r->assumed[i]));
	j = json_pack("{s:s, s:i}", "format", "ntpwall-explain", "version", 1);
	json_object_update_new(j, outcome_json(&r->out));
	json_object_set_new(j, "why", r->why ? json_string(r->why) : json_null());
	json_object_set_new(j, "unknown", r->unknown ? json_string(r->unknown) : json_null());
	json_object_set_new(j, "over_rate_limit", r->rate_limited ? outcome_json(&r->over) :
			    json_null());
	json_object_set_new(j, "packet", packet_json(&r->pkt));
	json_object_set_new(j, "assumed", assumed);
	json_object_set_new(j, "reasons", reasons);
	json_object_set_new(j, "rules", json_pack("{s:s, s:s?, s:o}", "source", o->kind, "policy",
						  o->policy, "generation", o->generation ?
						  json_integer((json_int_t)o->generation) :
						  json_null()));
	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(j);
}

static int exit_for(enum explain_verdict v)
{
	switch (v) {
	case EXPLAIN_DROP:
	case EXPLAIN_REJECT:
		return EXPLAIN_EXIT_DROPPED;
	case EXPLAIN_UNKNOWN:
		return EXPLAIN_EXIT_ERROR;
	default:
		return EXPLAIN_EXIT_PASSES;
	}
}

/* Complete the packet, walk it, print: the exit code. */
static int explain_rules(const struct ir_ruleset *rs, struct explain_args *a,
			 const struct rules_origin *o, bool iptables)
{
	struct explain_result r = { .iptables = iptables };
	char *err = NULL;
	int rc;

	if (explain_complete(rs, &a->pkt, &r, &err) < 0) {
		cli_error("explain: %s", err);
		free(err);
		explain_result_free(&r);
		return EXPLAIN_EXIT_ERROR;
	}
	explain_packet(rs, &a->pkt, &r);
	if (a->format == REPORT_JSON)
		print_json(&r, o);
	else
		print_text(&r, o, rs);
	rc = exit_for(r.out.verdict);
	explain_result_free(&r);
	return rc;
}

static int explain_policy(const char *path, struct explain_args *a)
{
	struct rules_origin o = { .kind = "policy", .policy = path };
	struct ir_ruleset *rs = NULL;
	struct diags d;
	bool iptables;
	int rc = EXPLAIN_EXIT_ERROR;

	diag_init(&d, 0);
	if (!policy_rules(path, &d, &rs, &o.addrs_published, &iptables))
		rc = explain_rules(rs, a, &o, iptables);
	diag_sort(&d);
	if (d.errors)
		report_diags(stderr, &d, REPORT_TEXT);
	diag_free(&d);
	ir_ruleset_free(rs);
	return rc;
}

static int explain_live(struct explain_args *a)
{
	struct engine_current cur;
	struct rules_origin o = { 0 };
	struct cli_run c;
	int rc = EXPLAIN_EXIT_ERROR;

	cli_run_init(&c, 0);
	if (!engine_current_ruleset(&c.e, &cur)) {
		o = (struct rules_origin){ .kind = cur.published ? "published" : "state",
					   .policy = cur.policy_path, .generation = cur.generation,
					   .created = cur.created, .state_error = cur.state_error };
		cli_run_report(&c);
		rc = explain_rules(cur.rs, a, &o, cur.iptables);
	}
	engine_current_free(&cur);
	cli_run_fini(&c);
	return rc;
}

int cmd_explain_main(int argc, char **argv)
{
	struct explain_args a = { .pkt = { .version = 4 } };
	int first = cli_parse(argc, argv, USAGE, explain_opts, explain_opt, &a);

	if (first < 0)
		return first == -2 ? EXPLAIN_EXIT_PASSES : EXPLAIN_EXIT_ERROR;
	if (!a.from || !a.to || !a.mode) {
		cli_error("explain: --from, --to and --mode are required (usage: %s)", USAGE);
		return EXPLAIN_EXIT_ERROR;
	}
	if (argc - first > 1) {
		cli_error("explain: expected at most one policy, got '%s' too", argv[first + 1]);
		return EXPLAIN_EXIT_ERROR;
	}
	return first < argc ? explain_policy(argv[first], &a) : explain_live(&a);
}
