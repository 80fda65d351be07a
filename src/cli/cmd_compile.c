/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ntpwall compile POLICY: resolve the policy's names, compile the rules and
 * print what apply would load (an nft script by default), iptables-restore
 * input or the daemon configuration. Opens no netlink socket, needs no root
 * (like `pfctl -n`); sends DNS queries only for names, none with
 * --literal-only. */
#include "cli.h"
#include "ntpwall/privsep.h"
#include "engine_cli.h"
#include "ntpwall/compile.h"
#include "ntpwall/policy.h"
#include "ntpwall/render.h"
#include "ntpwall/resolve.h"
#include "ntpwall/util.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

enum { OPT_TARGET = 't', OPT_LITERAL = 256, OPT_SERVER, OPT_SEED, OPT_LISTING };

static const struct cli_option compile_opts[] = {
	{ "target", OPT_TARGET, "TARGET", "nft (default), iptables, ip6tables, chrony or ntpd" },
	{ "literal-only", OPT_LITERAL, NULL, "no DNS: names add no address (their sets stay empty)" },
	{ "server", OPT_SERVER, "ADDR[:PORT]", "ask this resolver instead of the policy's "
	  "(only when no wall is published)" },
	{ "seed", OPT_SEED, "STRING", "pool choice seed (default /etc/machine-id; only when "
	  "no wall is published)" },
	{ "listing", OPT_LISTING, NULL, "nft: print the table as 'nft list' does, for review" },
	{ "help", 'h', NULL, "show this help" },
	{ 0 }
};

enum compile_target { T_NFT, T_IPTABLES, T_IP6TABLES, T_CHRONY, T_NTPD };

static const char *const target_names[] = { "nft", "iptables", "ip6tables", "chrony", "ntpd" };

struct compile_args {
	enum compile_target target;
	bool literal_only, listing;
	const char *server, *seed;
};

static int compile_opt(int key, const char *arg, void *data)
{
	struct compile_args *a = data;

	switch (key) {
	case OPT_TARGET:
		for (size_t i = 0; i < ARRAY_SIZE(target_names); i++) {
			if (!strcmp(arg, target_names[i])) {
				a->target = i;
				return 0;
			}
		}
		cli_error("--target %s: expected nft, iptables, ip6tables, chrony or ntpd", arg);
		return -1;
	case OPT_LITERAL:
		a->literal_only = true;
		break;
	case OPT_SERVER:
		a->server = arg;
		break;
	case OPT_SEED:
		a->seed = arg;
		break;
	case OPT_LISTING:
		a->listing = true;
		break;
	}
	return 0;
}

/* Every name must resolve: compile shows what apply would load, and a
 * half-resolved policy would silently trust fewer servers. */
static int resolve(const struct policy *p, const struct compile_args *a, struct diags *d,
		   struct resolved **r)
{
	struct resolve_options opt = { .servers = a->server, .seed = a->seed };
	char *seed = NULL;
	int ret;

	if (a->literal_only) {
		*r = resolve_literals(p);
		return 0;
	}
	/* What the wall trusts now, when a wall runs this policy: then the
	 * daemon configuration lists exactly the wall's servers. */
	if (cli_current_choice(p, r) == 0)
		return 0;
	if (!opt.seed)
		opt.seed = seed = cli_machine_seed();
	ret = privsep_net.resolve(&privsep_net, p, &opt, d, r);
	free(seed);
	if (ret && ret != -EINVAL)
		cli_error("compile: resolving %s: %s", p->path, strerror(-ret));
	return ret;
}

static int render(const struct compile_args *a, const struct ir_ruleset *rs,
		  struct render_opts *o)
{
	switch (a->target) {
	case T_IPTABLES:
		return render_iptables(rs, AF_INET, o, stdout);
	case T_IP6TABLES:
		return render_iptables(rs, AF_INET6, o, stdout);
	case T_CHRONY:
		return render_chrony(rs, o, stdout);
	case T_NTPD:
		return render_ntpd(rs, o, stdout);
	default:
		o->listing = a->listing;
		/* What `nft list table` shows after apply: the kernel layout. */
		o->kernel_layout = a->listing;
		return render_nft(rs, o, stdout);
	}
}

static int compile_one(const char *path, const struct compile_args *a, struct diags *d)
{
	struct policy *p = NULL;
	struct resolved *r = NULL;
	struct ir_ruleset *rs = NULL;
	int rc = COMPILE_ERROR;

	if (policy_load(path, d, &p))
		goto out;
	if (resolve(p, a, d, &r))
		goto out;
	if (compile_policy(p, r, d, &rs))
		goto out;
	{
		struct render_opts o = { .policy = p, .resolved = r, .diags = d };
		int ret = render(a, rs, &o);

		if (!ret && fflush(stdout))
			ret = -errno;
		if (ret == -ENAMETOOLONG)
			cli_error("compile: table name '%s' is too long for iptables chains (24 characters at most)",
				  p->table);
		else if (ret == -EINVAL && d->errors)
			;	/* the reasons are in d */
		else if (ret)
			cli_error("compile: writing output: %s", strerror(-ret));
		else
			rc = COMPILE_OK;
	}
out:
	ir_ruleset_free(rs);
	resolve_free(r);
	policy_free(p);
	return rc;
}

int cmd_compile_main(int argc, char **argv)
{
	struct compile_args a = { .target = T_NFT };
	struct diags d;
	int first, rc;

	first = cli_parse(argc, argv,
			  "ntpwall compile POLICY [--target nft|iptables|ip6tables|chrony|ntpd] [--literal-only]",
			  compile_opts, compile_opt, &a);
	if (first == -2)
		return COMPILE_OK;
	if (first < 0)
		return COMPILE_ERROR;
	if (argc - first != 1) {
		cli_error("compile: expected one policy (usage: ntpwall compile POLICY)");
		return COMPILE_ERROR;
	}
	diag_init(&d, 0);
	rc = compile_one(argv[first], &a, &d);
	diag_sort(&d);
	/* Warnings are lint's business; show them only when something failed. */
	if (rc != COMPILE_OK || d.errors)
		report_diags(stderr, &d, REPORT_TEXT);
	diag_free(&d);
	return rc;
}
