/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Checks the machine output of `ntpwall lint` against its documented shape,
 * so the CLI test needs neither jq nor python:
 *   lint_json_check json  FILE         --format json  (ntpwall(8), lint)
 *   lint_json_check sarif FILE         --format sarif (SARIF 2.1.0 subset)
 *   lint_json_check codeclimate FILE   --format codeclimate (GitLab Code
 *                                      Quality, a Code Climate subset)
 * On success prints one "file:line:column:severity:code" line per finding
 * ("path:begin:severity:check_name:fingerprint" for codeclimate) for the
 * shell test to grep, and exits 0; otherwise says what is wrong on stderr
 * and exits 1. FILE "-" is standard input. */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static int fail(const char *what, size_t i)
{
	fprintf(stderr, "lint_json_check: %s (entry %zu)\n", what, i);
	return 1;
}

/* A JSON string's text, or "" for anything else. */
static const char *str(json_t *j)
{
	return json_is_string(j) ? json_string_value(j) : "";
}

static bool is_code(const char *s)
{
	return strlen(s) == 5 && s[0] == 'N' && s[1] == 'W' && s[2] >= '1' && s[2] <= '2' &&
	       s[3] >= '0' && s[3] <= '9' && s[4] >= '0' && s[4] <= '9';
}

static bool is_level(const char *s)
{
	return !strcmp(s, "error") || !strcmp(s, "warning");
}

/* One finding of --format json: exactly the documented keys. */
static int check_finding(json_t *f, size_t i, size_t *errors, size_t *warnings)
{
	json_t *file, *line, *col, *sev, *code, *msg, *hint;
	const char *key;
	json_t *v;

	if (!json_is_object(f))
		return fail("finding is not an object", i);
	json_object_foreach(f, key, v) {
		static const char *const keys[] = { "file", "line", "column", "severity", "code",
						    "message", "hint" };
		bool known = false;

		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			known |= !strcmp(key, keys[k]);
		if (!known)
			return fail("finding has an undocumented key", i);
	}
	file = json_object_get(f, "file");
	line = json_object_get(f, "line");
	col = json_object_get(f, "column");
	sev = json_object_get(f, "severity");
	code = json_object_get(f, "code");
	msg = json_object_get(f, "message");
	hint = json_object_get(f, "hint");
	if (!json_is_string(file) || !json_is_integer(line) || !json_is_integer(col) ||
	    json_integer_value(line) < 0 || json_integer_value(col) < 0)
		return fail("file must be a string, line and column integers >= 0", i);
	if (!json_is_string(sev) || !is_level(json_string_value(sev)))
		return fail("severity must be error or warning", i);
	if (!json_is_string(code) || !is_code(json_string_value(code)))
		return fail("code must look like NW123", i);
	if (!json_is_string(msg) || !*json_string_value(msg))
		return fail("message must be a non-empty string", i);
	if (hint && (!json_is_string(hint) || !*json_string_value(hint)))
		return fail("hint, when present, must be a non-empty string", i);
	if (!strcmp(json_string_value(sev), "error"))
		(*errors)++;
	else
		(*warnings)++;
	printf("%s:%lld:%lld:%s:%s\n", json_string_value(file), json_integer_value(line),
	       json_integer_value(col), json_string_value(sev), json_string_value(code));
	return 0;
}

static int check_json(json_t *root)
{
	json_t *list = json_object_get(root, "findings");
	json_t *ne = json_object_get(root, "errors"), *nw = json_object_get(root, "warnings");
	json_t *ns = json_object_get(root, "suppressed");
	size_t errors = 0, warnings = 0, i;
	json_t *f;

	if (!json_is_object(root) || !json_is_array(list) || !json_is_integer(ne) ||
	    !json_is_integer(nw) || !json_is_integer(ns) || json_integer_value(ns) < 0 ||
	    json_object_size(root) != 4)
		return fail("top level must be {findings: [...], errors: N, warnings: N, suppressed: N}", 0);
	json_array_foreach(list, i, f)
		if (check_finding(f, i, &errors, &warnings))
			return 1;
	if ((size_t)json_integer_value(ne) != errors || (size_t)json_integer_value(nw) != warnings)
		return fail("errors/warnings do not count the findings", 0);
	return 0;
}

/* The id of rules[index], or NULL. */
static const char *rule_id(json_t *rules, json_t *index)
{
	json_t *r;

	if (!json_is_integer(index))
		return NULL;
	r = json_array_get(rules, json_integer_value(index));
	return json_string_value(json_object_get(r, "id"));
}

static int check_result(json_t *rules, json_t *res, size_t i)
{
	const char *id = json_string_value(json_object_get(res, "ruleId"));
	const char *level = json_string_value(json_object_get(res, "level"));
	json_t *msg = json_object_get(json_object_get(res, "message"), "text");
	json_t *locs = json_object_get(res, "locations");
	json_t *phys = json_object_get(json_array_get(locs, 0), "physicalLocation");
	json_t *uri = json_object_get(json_object_get(phys, "artifactLocation"), "uri");
	json_t *region = json_object_get(phys, "region");
	json_int_t line = 0, col = 0;

	if (!id || !is_code(id))
		return fail("result.ruleId must be a code", i);
	if (!rule_id(rules, json_object_get(res, "ruleIndex")) ||
	    strcmp(rule_id(rules, json_object_get(res, "ruleIndex")), id))
		return fail("result.ruleIndex must point at the rule with its ruleId", i);
	if (!level || !is_level(level))
		return fail("result.level must be error or warning", i);
	if (!json_is_string(msg) || !*json_string_value(msg))
		return fail("result.message.text must be a non-empty string", i);
	if (json_array_size(locs) != 1 || !json_is_string(uri))
		return fail("result.locations[0].physicalLocation.artifactLocation.uri missing", i);
	if (region) {
		json_t *sl = json_object_get(region, "startLine");
		json_t *sc = json_object_get(region, "startColumn");

		/* SARIF lines and columns count from 1. */
		if (!json_is_integer(sl) || json_integer_value(sl) < 1 ||
		    !json_is_integer(sc) || json_integer_value(sc) < 1)
			return fail("region.startLine/startColumn must be integers >= 1", i);
		line = json_integer_value(sl);
		col = json_integer_value(sc);
	}
	printf("%s:%lld:%lld:%s:%s\n", json_string_value(uri), line, col, level, id);
	return 0;
}

/* runs[0].invocations: one, whose notifications (notes about the run, such
 * as errors left out) each have level "note" and a message. */
static int check_invocations(json_t *invs)
{
	json_t *inv = json_array_get(invs, 0);
	json_t *notes = json_object_get(inv, "toolExecutionNotifications");
	json_t *x;
	size_t i;

	if (json_array_size(invs) != 1 || !json_is_boolean(json_object_get(inv, "executionSuccessful")))
		return fail("runs[0].invocations must hold one invocation with executionSuccessful", 0);
	if (!json_is_array(notes))
		return fail("invocations[0].toolExecutionNotifications must be a list", 0);
	json_array_foreach(notes, i, x)
		if (strcmp(str(json_object_get(x, "level")), "note") ||
		    !*str(json_object_get(json_object_get(x, "message"), "text")))
			return fail("a notification needs level note and message.text", i);
	return 0;
}

static int check_sarif(json_t *root)
{
	json_t *runs = json_object_get(root, "runs");
	json_t *run = json_array_get(runs, 0);
	json_t *driver = json_object_get(json_object_get(run, "tool"), "driver");
	json_t *rules = json_object_get(driver, "rules");
	json_t *results = json_object_get(run, "results");
	json_t *x;
	size_t i;

	if (!json_is_object(root) ||
	    strcmp(str(json_object_get(root, "version")), "2.1.0"))
		return fail("version must be \"2.1.0\"", 0);
	if (!json_is_string(json_object_get(root, "$schema")))
		return fail("$schema must be a string", 0);
	if (json_array_size(runs) != 1)
		return fail("runs must hold exactly one run", 0);
	if (strcmp(str(json_object_get(driver, "name")), "ntpwall"))
		return fail("runs[0].tool.driver.name must be ntpwall", 0);
	if (!json_is_array(rules) || !json_array_size(rules))
		return fail("runs[0].tool.driver.rules must be a non-empty list", 0);
	json_array_foreach(rules, i, x) {
		const char *id = json_string_value(json_object_get(x, "id"));
		json_t *text = json_object_get(json_object_get(x, "shortDescription"), "text");

		if (!id || !is_code(id) || !json_is_string(text))
			return fail("rule needs id and shortDescription.text", i);
	}
	if (!json_is_array(results))
		return fail("runs[0].results must be a list", 0);
	json_array_foreach(results, i, x)
		if (check_result(rules, x, i))
			return 1;
	return check_invocations(json_object_get(run, "invocations"));
}

/* One of the Code Climate spec's categories. */
static bool is_category(const char *s)
{
	static const char *const cats[] = { "Bug Risk", "Clarity", "Compatibility", "Complexity",
					    "Duplication", "Performance", "Security", "Style" };

	for (size_t i = 0; i < sizeof(cats) / sizeof(cats[0]); i++)
		if (!strcmp(s, cats[i]))
			return true;
	return false;
}

static bool is_fingerprint(const char *s)
{
	if (strlen(s) != 16)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

/* One issue: exactly the keys ntpwall(8) documents. The severity follows the
 * code: NW1xx are errors ("critical"), NW2xx warnings ("minor"). */
static int check_issue(json_t *x, size_t i)
{
	const char *code = str(json_object_get(x, "check_name"));
	const char *sev = str(json_object_get(x, "severity"));
	json_t *cats = json_object_get(x, "categories");
	json_t *loc = json_object_get(x, "location");
	json_t *lines = json_object_get(loc, "lines");
	json_t *begin = json_object_get(lines, "begin");
	json_t *c;
	size_t k;

	if (!json_is_object(x) || json_object_size(x) != 7)
		return fail("issue must have exactly type, check_name, description, categories, severity, fingerprint, location", i);
	if (strcmp(str(json_object_get(x, "type")), "issue"))
		return fail("type must be \"issue\"", i);
	if (!is_code(code))
		return fail("check_name must be a code", i);
	if (!*str(json_object_get(x, "description")))
		return fail("description must be a non-empty string", i);
	if (!json_is_array(cats) || !json_array_size(cats))
		return fail("categories must be a non-empty list", i);
	json_array_foreach(cats, k, c)
		if (!is_category(str(c)))
			return fail("a category is not one of the Code Climate spec's", i);
	if (strcmp(sev, code[2] == '1' ? "critical" : "minor"))
		return fail("severity must be critical for an error (NW1xx), minor for a warning (NW2xx)", i);
	if (!is_fingerprint(str(json_object_get(x, "fingerprint"))))
		return fail("fingerprint must be 16 lowercase hex digits", i);
	if (json_object_size(loc) != 2 || !*str(json_object_get(loc, "path")) ||
	    json_object_size(lines) != 1 || !json_is_integer(begin) || json_integer_value(begin) < 1)
		return fail("location must be {path, lines: {begin >= 1}}", i);
	printf("%s:%lld:%s:%s:%s\n", str(json_object_get(loc, "path")), json_integer_value(begin),
	       sev, code, str(json_object_get(x, "fingerprint")));
	return 0;
}

/* GitLab tells findings apart by fingerprint: two issues must never share one. */
static int check_codeclimate(json_t *root)
{
	json_t *x, *y;
	size_t i, j;

	if (!json_is_array(root))
		return fail("top level must be a list of issues", 0);
	json_array_foreach(root, i, x) {
		if (check_issue(x, i))
			return 1;
		json_array_foreach(root, j, y)
			if (j < i && !strcmp(str(json_object_get(x, "fingerprint")),
					     str(json_object_get(y, "fingerprint"))))
				return fail("two issues share a fingerprint", i);
	}
	return 0;
}

int main(int argc, char **argv)
{
	json_error_t err;
	json_t *root;
	int ret;

	if (argc != 3 || (strcmp(argv[1], "json") && strcmp(argv[1], "sarif") &&
			  strcmp(argv[1], "codeclimate"))) {
		fprintf(stderr, "usage: lint_json_check json|sarif|codeclimate FILE\n");
		return 2;
	}
	if (!strcmp(argv[2], "-"))
		root = json_loadf(stdin, JSON_REJECT_DUPLICATES, &err);
	else
		root = json_load_file(argv[2], JSON_REJECT_DUPLICATES, &err);
	if (!root) {
		fprintf(stderr, "lint_json_check: not valid JSON: %s at line %d column %d\n",
			err.text, err.line, err.column);
		return 1;
	}
	if (!strcmp(argv[1], "json"))
		ret = check_json(root);
	else if (!strcmp(argv[1], "sarif"))
		ret = check_sarif(root);
	else
		ret = check_codeclimate(root);
	json_decref(root);
	return ret;
}
