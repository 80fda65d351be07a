/* ntpwall lint POLICY...: load and check policies, as a CI job or a
 * pre-commit hook runs it. Opens no netlink socket and needs no root. */
#include "cli.h"
#include "ntpwall/lint.h"
#include "ntpwall/policy.h"
#include "ntpwall/util.h"

#include <errno.h>

enum { OPT_FORMAT = 'f', OPT_STRICT = 256, OPT_RESOLVE, OPT_LIST_CODES };

static const struct cli_option lint_opts[] = {
	{ "format", OPT_FORMAT, "FMT", "text (default), json, github or sarif" },
	{ "strict", OPT_STRICT, NULL, "fail on warnings too" },
	{ "resolve", OPT_RESOLVE, NULL, "also resolve names and check what they give" },
	{ "list-codes", OPT_LIST_CODES, NULL, "list every finding code and exit" },
	{ "help", 'h', NULL, "show this help" },
	{ 0 }
};

struct lint_args {
	enum report_format format;
	bool strict;
	bool resolve;
	bool list_codes;
};

static int lint_opt(int key, const char *arg, void *data)
{
	struct lint_args *a = data;
	int f;

	switch (key) {
	case OPT_FORMAT:
		f = report_format_parse(arg, REPORT_SARIF);
		if (f < 0) {
			cli_error("--format %s: expected text, json, github or sarif", arg);
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
	}
	return 0;
}

/* Errors per file are capped, as nftables does: later ones are mostly
 * consequences of the first. */
#define LINT_MAX_ERRORS 10

static int lint_one(const char *path, const struct lint_args *a, struct diags *all)
{
	struct diags d;
	struct policy *p = NULL;
	int ret;

	diag_init(&d, LINT_MAX_ERRORS);
	ret = policy_load(path, &d, &p);
	/* Before lint_policy_resolved(), so that waivers of NW210/NW211 count as used. */
	if (!ret && a->resolve) {
		(void)lint_resolve(p, &d, NULL);	/* failures are NW140 errors in d */
		lint_policy_resolved(p, &d);
	} else if (!ret) {
		lint_policy(p, &d);
	}
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

static int list_codes(void)
{
	const enum diag_code *codes;
	size_t n = diag_codes(&codes);

	for (size_t i = 0; i < n; i++)
		printf("%s  %-7s  %s\n", diag_code_name(codes[i]),
		       codes[i] >= NW201_FEW_UPSTREAMS ? "warning" : "error",
		       diag_code_summary(codes[i]));
	return EXIT_OK;
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
	struct lint_args a = { REPORT_TEXT, false, false, false };
	struct diags all;
	bool io_error = false;
	int first, rc;

	first = cli_parse(argc, argv, "ntpwall lint POLICY... [--format text|json|github|sarif] [--strict] [--resolve]",
			  lint_opts, lint_opt, &a);
	if (first == -2)
		return EXIT_OK;
	if (first < 0)
		return EXIT_USAGE;
	if (a.list_codes)
		return list_codes();
	if (first >= argc) {
		cli_error("lint: no policy given (usage: ntpwall lint POLICY...)");
		return EXIT_USAGE;
	}
	diag_init(&all, 0);
	for (int i = first; i < argc; i++) {
		int ret = lint_one(argv[i], &a, &all);

		if (ret && ret != -EINVAL)
			io_error = true;
	}
	report_diags(stdout, &all, a.format);
	fflush(stdout);
	if (a.format == REPORT_TEXT && all.n)
		print_summary(&all);
	if (io_error)
		rc = EXIT_USAGE;
	else if (all.errors || (a.strict && all.warnings))
		rc = EXIT_FINDINGS;
	else
		rc = EXIT_OK;
	diag_free(&all);
	return rc;
}
