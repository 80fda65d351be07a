/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ntpwall lint POLICY|DIR...: load and check policies, as a CI job or a
 * pre-commit hook runs it. Opens no netlink socket and needs no root. */
#include "cli.h"
#include "ntpwall/lint.h"
#include "ntpwall/policy.h"
#include "ntpwall/util.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

enum { OPT_FORMAT = 'f', OPT_STRICT = 256, OPT_RESOLVE, OPT_LIST_CODES, OPT_DAEMON_CONFIG };

static const struct cli_option lint_opts[] = {
	{ "format", OPT_FORMAT, "FMT", "text (default), json, github, sarif or codeclimate" },
	{ "strict", OPT_STRICT, NULL, "fail on warnings too" },
	{ "resolve", OPT_RESOLVE, NULL,
	  "also resolve names and check them (exit 2 if no DNS server answers)" },
	{ "daemon-config", OPT_DAEMON_CONFIG, "FILE",
	  "also check chrony.conf FILE for servers the policy does not trust (NW209)" },
	{ "list-codes", OPT_LIST_CODES, NULL, "list every finding code and exit" },
	{ "help", 'h', NULL, "show this help" },
	{ 0 }
};

struct lint_args {
	enum report_format format;
	bool strict;
	bool resolve;
	bool list_codes;
	const char *daemon_config;
	char *no_dns;		/* --resolve found no DNS server answering: the
				 * resolvers asked; later files are not resolved */
};

static int lint_opt(int key, const char *arg, void *data)
{
	struct lint_args *a = data;
	int f;

	switch (key) {
	case OPT_FORMAT:
		f = report_format_parse(arg, REPORT_CODECLIMATE);
		if (f < 0) {
			cli_error("--format %s: expected text, json, github, sarif or codeclimate", arg);
			return -1;
		}
		a->format = f;
		break;
	case OPT_STRICT:
		a->strict = true;
		break;
	case OPT_RESOLVE:
		a->resolve = true;
		break;
	case OPT_LIST_CODES:
		a->list_codes = true;
		break;
	case OPT_DAEMON_CONFIG:
		a->daemon_config = arg;
		break;
	}
	return 0;
}

/* Errors per file are capped, as nftables does: later ones are mostly
 * consequences of the first. */
#define LINT_MAX_ERRORS 10

static int lint_one(const char *path, struct lint_args *a, struct diags *all)
{
	struct diags d;
	struct policy *p = NULL;
	bool resolved = false;
	int ret;

	diag_init(&d, LINT_MAX_ERRORS);
	ret = policy_load(path, &d, &p);
	/* Before lint_policy_resolved(), so that waivers of NW210/NW211 count as
	 * used. Failed names are NW140 errors in d. Without DNS, each further
	 * file would wait out the resolvers again for nothing. */
	if (!ret && a->resolve && !a->no_dns)
		resolved = lint_resolve(p, &d, NULL, &a->no_dns) != -EHOSTUNREACH;
	if (!ret && a->daemon_config)
		lint_daemon_config(p, a->daemon_config, &d);
	if (!ret && resolved)
		lint_policy_resolved(p, &d);
	else if (!ret)
		lint_policy(p, &d);
	diag_sort(&d);
	/* After the sort: the note closes the file's findings. Not an error. */
	if (d.suppressed) {
		struct loc l = { path, 0, 0 };

		diag_add(&d, &l, DIAG_NOTE, DIAG_NO_CODE,
			 "%zu more error%s not shown; only the first %d of a file are listed",
			 d.suppressed, d.suppressed == 1 ? "" : "s", LINT_MAX_ERRORS);
	}
	diag_move(all, &d);
	policy_free(p);
	return ret;
}

/* The policies of a directory are its *.yaml and *.yml files, as a shell
 * glob gives them: no hidden files, no subdirectories, not recursive. */
static int policy_entry(const struct dirent *e)
{
	size_t len = strlen(e->d_name);

	if (e->d_name[0] == '.')
		return 0;
	return (len > 5 && !strcmp(e->d_name + len - 5, ".yaml")) ||
	       (len > 4 && !strcmp(e->d_name + len - 4, ".yml"));
}

static bool is_dir(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISDIR(st.st_mode);
}

/* Byte order, not the locale's: CI runners and laptops list alike. */
static int name_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* Lint every policy of dir, in name order. Returns 0, -EINVAL when one has
 * errors, another -errno when one or the directory cannot be read, or
 * -ENOENT (with an NW100 error) when the directory holds no policy. */
static int lint_dir(const char *dir, struct lint_args *a, struct diags *all)
{
	const char *sep = dir[0] && dir[strlen(dir) - 1] == '/' ? "" : "/";
	struct loc l = { dir, 0, 0 };
	struct dirent **v = NULL;
	size_t linted = 0;
	int n, ret = 0;

	n = scandir(dir, &v, policy_entry, name_cmp);
	if (n < 0) {
		ret = -errno;
		diag_add(all, &l, DIAG_ERROR, NW100_IO, "cannot read: %s", strerror(-ret));
		return ret;
	}
	for (int i = 0; i < n; i++) {
		char *path = xasprintf("%s%s%s", dir, sep, v[i]->d_name);
		int r;

		/* A dangling link is linted: its NW100 says why it cannot be read. */
		if (is_dir(path)) {
			free(path);
			continue;
		}
		r = lint_one(path, a, all);
		if (r && (!ret || ret == -EINVAL))
			ret = r;
		linted++;
		free(path);
	}
	for (int i = 0; i < n; i++)
		free(v[i]);
	free(v);
	if (!linted) {
		diag_add(all, &l, DIAG_ERROR, NW100_IO,
			 "no policy in this directory: it has no *.yaml or *.yml file");
		return -ENOENT;
	}
	return ret;
}

static int list_codes(void)
{
	const enum diag_code *codes;
	size_t n = diag_codes(&codes);

	for (size_t i = 0; i < n; i++)
		printf("%s  %-7s  %s\n", diag_code_name(codes[i]),
		       codes[i] >= NW201_FEW_UPSTREAMS ? "warning" : "error",
		       diag_code_summary(codes[i]));
	return LINT_CLEAN;
}

static void print_summary(const struct diags *all)
{
	fprintf(stderr, "ntpwall: lint: %zu error%s", all->errors, all->errors == 1 ? "" : "s");
	if (all->suppressed)
		fprintf(stderr, " (and %zu not shown)", all->suppressed);
	fprintf(stderr, ", %zu warning%s\n", all->warnings, all->warnings == 1 ? "" : "s");
}

int cmd_lint_main(int argc, char **argv)
{
	struct lint_args a = { REPORT_TEXT, false, false, false, NULL };
	struct diags all;
	bool io_error = false;
	int first, rc;

	first = cli_parse(argc, argv, "ntpwall lint POLICY|DIR... [--format text|json|github|sarif|codeclimate] [--strict] [--resolve] [--daemon-config FILE]",
			  lint_opts, lint_opt, &a);
	if (first == -2)
		return LINT_CLEAN;
	if (first < 0)
		return LINT_ERROR;
	if (a.list_codes)
		return list_codes();
	if (first >= argc) {
		cli_error("lint: no policy given (usage: ntpwall lint POLICY|DIR...)");
		return LINT_ERROR;
	}
	diag_init(&all, 0);
	for (int i = first; i < argc; i++) {
		int ret = is_dir(argv[i]) ? lint_dir(argv[i], &a, &all) : lint_one(argv[i], &a, &all);

		if (ret && ret != -EINVAL)
			io_error = true;
	}
	report_diags(stdout, &all, a.format);
	fflush(stdout);
	if (a.format == REPORT_TEXT && all.n)
		print_summary(&all);
	if (a.no_dns)
		cli_error("lint --resolve: no DNS server answered (resolvers: %s): cannot check names",
			  a.no_dns);
	if (io_error || a.no_dns)
		rc = LINT_ERROR;
	else if (all.errors || (a.strict && all.warnings))
		rc = LINT_FINDINGS;
	else
		rc = LINT_CLEAN;
	diag_free(&all);
	free(a.no_dns);
	return rc;
}
