/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Printing diagnostics: text with the source line and a caret (gcc style),
 * JSON, GitHub workflow annotations, SARIF 2.1.0 and GitLab Code Quality
 * (Code Climate issues), all JSON through jansson. */
#include "cli.h"
#include "ntpwall/util.h"

#include <jansson.h>
#include <string.h>

static const char *const format_names[] = { "text", "json", "github", "sarif", "codeclimate" };

int report_format_parse(const char *s, enum report_format max)
{
	for (int i = 0; i <= (int)max; i++)
		if (!strcmp(s, format_names[i]))
			return i;
	return -1;
}

static const char *sev_name(enum diag_severity s)
{
	return s == DIAG_ERROR ? "error" : s == DIAG_WARNING ? "warning" : "note";
}

/* The text of the current file and where each of its lines starts, kept
 * while consecutive diags use it: one pass over the file, not one per diag. */
struct source {
	char *path;
	char *text;
	size_t len;
	size_t *starts;		/* starts[i]: offset of line i + 1 */
	size_t n_lines;
};

static void source_free(struct source *s)
{
	free(s->path);
	free(s->text);
	free(s->starts);
	memset(s, 0, sizeof(*s));
}

static void source_index(struct source *s)
{
	size_t cap = 0;
	/* The loader skips a UTF-8 byte order mark: columns start after it. */
	size_t start = s->len >= 3 && !memcmp(s->text, "\xef\xbb\xbf", 3) ? 3 : 0;

	for (const char *p = s->text + start; p; ) {
		xgrow((void **)&s->starts, &cap, s->n_lines, sizeof(*s->starts));
		s->starts[s->n_lines++] = p - s->text;
		p = memchr(p, '\n', s->text + s->len - p);
		if (p)
			p++;
	}
}

static void source_open(struct source *s, const char *path)
{
	source_free(s);
	s->path = xstrdup(path);
	if (util_read_file(path, 64u << 20, &s->text, &s->len)) {
		s->text = NULL;
		return;
	}
	source_index(s);
}

static const char *source_line(struct source *s, const char *path, unsigned line, size_t *len)
{
	const char *p;

	if (!s->path || strcmp(s->path, path))
		source_open(s, path);
	if (!s->text || line == 0 || line > s->n_lines || s->starts[line - 1] >= s->len)
		return NULL;
	p = s->text + s->starts[line - 1];
	*len = strcspn(p, "\r\n");
	return p;
}

static void print_caret(FILE *f, const char *text, size_t len, unsigned column)
{
	unsigned col = 1;

	fputs("      | ", f);
	/* Columns count characters; keep tabs so the caret lines up. */
	for (size_t i = 0; i < len && col < column; i++) {
		if (((unsigned char)text[i] & 0xc0) == 0x80)
			continue;
		fputc(text[i] == '\t' ? '\t' : ' ', f);
		col++;
	}
	fputs("^\n", f);
}

static void report_text(FILE *f, const struct diags *d)
{
	struct source src = { 0 };

	for (size_t i = 0; i < d->n; i++) {
		const struct diag *g = &d->v[i];
		const char *line;
		size_t len;

		/* What went wrong at run time, not in a policy: said as the
		 * command's own message. */
		if (DIAG_IS_RUNTIME(g->code) && !g->loc.file) {
			fprintf(f, "ntpwall: %s%s\n", g->severity == DIAG_WARNING ? "warning: " : "",
				g->msg);
			if (g->hint)
				fprintf(f, "      = hint: %s\n", g->hint);
			continue;
		}
		if (g->loc.file && g->loc.line)
			fprintf(f, "%s:%u:%u: ", g->loc.file, g->loc.line, g->loc.column);
		else if (g->loc.file)
			fprintf(f, "%s: ", g->loc.file);
		if (g->severity == DIAG_NOTE) {
			fprintf(f, "note: %s\n", g->msg);
			continue;
		}
		fprintf(f, "%s: %s [%s]\n", sev_name(g->severity), g->msg, diag_code_name(g->code));
		/* An NW102 line is not text: printing it would pass the bad bytes on. */
		if (g->loc.file && g->loc.line && g->code != NW102_ENCODING &&
		    (line = source_line(&src, g->loc.file, g->loc.line, &len))) {
			fprintf(f, "%5u | %.*s\n", g->loc.line, (int)len, line);
			print_caret(f, line, len, g->loc.column);
		}
		if (g->hint)
			fprintf(f, "      = hint: %s\n", g->hint);
	}
	source_free(&src);
}

static json_t *finding_json(const struct diag *g)
{
	json_t *o = json_object();

	json_object_set_new(o, "file", g->loc.file ? json_string(g->loc.file) : json_null());
	json_object_set_new(o, "line", json_integer(g->loc.line));
	json_object_set_new(o, "column", json_integer(g->loc.column));
	json_object_set_new(o, "severity", json_string(sev_name(g->severity)));
	json_object_set_new(o, "code", json_string(diag_code_name(g->code)));
	json_object_set_new(o, "message", json_string(g->msg));
	if (g->hint)
		json_object_set_new(o, "hint", json_string(g->hint));
	return o;
}

static json_t *report_json(const struct diags *d)
{
	json_t *root = json_object(), *list = json_array();

	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].severity != DIAG_NOTE)
			json_array_append_new(list, finding_json(&d->v[i]));
	json_object_set_new(root, "findings", list);
	json_object_set_new(root, "errors", json_integer(d->errors));
	json_object_set_new(root, "warnings", json_integer(d->warnings));
	/* Errors past the per-file cap: not in "findings", not in "errors". */
	json_object_set_new(root, "suppressed", json_integer(d->suppressed));
	return root;
}

/* Workflow command escaping: data escapes %, CR, LF; properties also : and ,. */
static void gh_escape(FILE *f, const char *s, bool property)
{
	for (; *s; s++) {
		switch (*s) {
		case '%': fputs("%25", f); break;
		case '\r': fputs("%0D", f); break;
		case '\n': fputs("%0A", f); break;
		case ':': fputs(property ? "%3A" : ":", f); break;
		case ',': fputs(property ? "%2C" : ",", f); break;
		default: fputc(*s, f);
		}
	}
}

static void report_github(FILE *f, const struct diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct diag *g = &d->v[i];

		fprintf(f, "::%s ", g->severity == DIAG_NOTE ? "notice" : sev_name(g->severity));
		if (g->loc.file) {
			fputs("file=", f);
			gh_escape(f, g->loc.file, true);
			if (g->loc.line)
				fprintf(f, ",line=%u,col=%u", g->loc.line, g->loc.column);
			fputc(',', f);
		}
		fprintf(f, "title=%s::", g->severity == DIAG_NOTE ? "ntpwall" : diag_code_name(g->code));
		gh_escape(f, g->msg, false);
		if (g->hint) {
			fputs(" (", f);
			gh_escape(f, g->hint, false);
			fputc(')', f);
		}
		fputc('\n', f);
	}
}

static json_t *sarif_rules(void)
{
	const enum diag_code *codes;
	size_t n = diag_codes(&codes);
	json_t *rules = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(rules, json_pack("{s:s, s:{s:s}, s:{s:s}, s:s}",
			"id", diag_code_name(codes[i]),
			"shortDescription", "text", diag_code_summary(codes[i]),
			"defaultConfiguration", "level", codes[i] >= NW201_FEW_UPSTREAMS ? "warning" : "error",
			"helpUri", "https://ntpwall.invalid/README.md#finding-codes"));
	return rules;
}

static size_t rule_index(enum diag_code code)
{
	const enum diag_code *codes;
	size_t n = diag_codes(&codes);

	for (size_t i = 0; i < n; i++)
		if (codes[i] == code)
			return i;
	return 0;
}

/* Notes are about the run, not the code: SARIF's tool execution
 * notifications, in the run's one invocation. */
static json_t *sarif_invocations(const struct diags *d)
{
	json_t *notes = json_array();

	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].severity == DIAG_NOTE)
			json_array_append_new(notes, json_pack("{s:s, s:{s:s}}", "level", "note",
							       "message", "text", d->v[i].msg));
	return json_pack("[{s:b, s:o}]", "executionSuccessful", 1,
			 "toolExecutionNotifications", notes);
}

static json_t *report_sarif(const struct diags *d)
{
	json_t *results = json_array();

	for (size_t i = 0; i < d->n; i++) {
		const struct diag *g = &d->v[i];
		json_t *phys, *r;

		if (g->severity == DIAG_NOTE)
			continue;
		phys = json_object();
		json_object_set_new(phys, "artifactLocation",
				    json_pack("{s:s}", "uri", g->loc.file ? g->loc.file : ""));
		if (g->loc.line)
			json_object_set_new(phys, "region", json_pack("{s:i, s:i}",
					    "startLine", (int)g->loc.line,
					    "startColumn", (int)(g->loc.column ? g->loc.column : 1)));
		r = json_pack("{s:s, s:i, s:s, s:{s:s}, s:[{s:o}]}",
			      "ruleId", diag_code_name(g->code), "ruleIndex", (int)rule_index(g->code),
			      "level", sev_name(g->severity), "message", "text", g->msg,
			      "locations", "physicalLocation", phys);
		json_array_append_new(results, r);
	}
	return json_pack("{s:s, s:s, s:[{s:{s:{s:s, s:s, s:s, s:o}}, s:o, s:o}]}",
			 "$schema", "https://json.schemastore.org/sarif-2.1.0.json",
			 "version", "2.1.0",
			 "runs", "tool", "driver", "name", "ntpwall", "version", NTPWALL_VERSION,
			 "informationUri", "https://ntpwall.invalid/", "rules", sarif_rules(),
			 "results", results, "invocations", sarif_invocations(d));
}

/* Code Climate categories; a code not listed here is a "Bug Risk". */
static const struct {
	enum diag_code code;
	const char *category;
} cc_categories[] = {
	{ NW202_POOL_NO_MAX, "Security" },
	{ NW203_NOQUERY_OFF, "Security" },
	{ NW204_NO_RATE_LIMIT, "Security" },
	{ NW206_OLD_VERSION, "Security" },
	{ NW207_NTS_LITERAL, "Security" },
	{ NW210_NAME_IS_POOL, "Security" },
	{ NW208_WAIVE_UNUSED, "Clarity" },
};

static const char *cc_category(enum diag_code code)
{
	for (size_t i = 0; i < ARRAY_SIZE(cc_categories); i++)
		if (cc_categories[i].code == code)
			return cc_categories[i].category;
	return "Bug Risk";
}

/* GitLab links paths from the repository root: "./policies/x.yaml" is
 * "policies/x.yaml". */
static const char *cc_path(const char *file)
{
	if (!file)
		return "";
	while (file[0] == '.' && file[1] == '/')
		for (file++; *file == '/'; file++)
			;
	return file;
}

/* The message with every number that follows "line " or "column " left
 * out: those move when lines are added above. NUL-terminated, as each part. */
static uint64_t cc_hash_message(uint64_t h, const char *msg)
{
	for (const char *p = msg; *p; ) {
		size_t digits = 0;

		if ((p - msg >= 5 && !strncmp(p - 5, "line ", 5)) ||
		    (p - msg >= 7 && !strncmp(p - 7, "column ", 7)))
			digits = strspn(p, "0123456789");
		if (digits) {
			h = util_hash(h, "#", 1);
			p += digits;
		} else {
			h = util_hash(h, p++, 1);
		}
	}
	return util_hash(h, "", 1);
}

/* What a finding is, wherever it sits in the file: path, code, message and
 * the offending line's text without surrounding blanks; no line number. */
static uint64_t cc_key(struct source *src, const struct diag *g)
{
	const char *path = cc_path(g->loc.file), *text = NULL;
	uint64_t h = UTIL_HASH_INIT;
	size_t len = 0;

	h = util_hash(h, path, strlen(path) + 1);
	h = util_hash(h, diag_code_name(g->code), strlen(diag_code_name(g->code)) + 1);
	h = cc_hash_message(h, g->msg);
	if (g->loc.file && g->loc.line)
		text = source_line(src, g->loc.file, g->loc.line, &len);
	for (; text && len && (*text == ' ' || *text == '\t'); text++, len--)
		;
	while (text && len && (text[len - 1] == ' ' || text[len - 1] == '\t'))
		len--;
	return util_hash(h, text ? text : "", len);
}

struct cc_ref {
	uint64_t key;
	size_t i;	/* index into the diags */
};

static int cc_ref_cmp(const void *pa, const void *pb)
{
	const struct cc_ref *a = pa, *b = pb;

	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	return a->i < b->i ? -1 : a->i > b->i;
}

static json_t *cc_issue(const struct diag *g, uint64_t fingerprint)
{
	char fp[17], *desc;
	json_t *o;

	snprintf(fp, sizeof(fp), "%016llx", (unsigned long long)fingerprint);
	desc = g->hint ? xasprintf("%s (%s)", g->msg, g->hint) : xstrdup(g->msg);
	o = json_pack("{s:s, s:s, s:s, s:[s], s:s, s:s, s:{s:s, s:{s:i}}}",
		      "type", "issue", "check_name", diag_code_name(g->code), "description", desc,
		      "categories", cc_category(g->code),
		      "severity", g->severity == DIAG_ERROR ? "critical" : "minor",
		      "fingerprint", fp,
		      "location", "path", cc_path(g->loc.file),
		      "lines", "begin", (int)(g->loc.line ? g->loc.line : 1));
	free(desc);
	return o;
}

/* Identical findings of a file (same key) are told apart by their rank
 * among themselves, which inserting lines elsewhere does not change. */
static json_t *report_codeclimate(const struct diags *d)
{
	struct cc_ref *refs = xcalloc(d->n + 1, sizeof(*refs));
	uint64_t *fps = xcalloc(d->n + 1, sizeof(*fps));
	struct source src = { 0 };
	json_t *list = json_array();
	size_t n = 0, rank = 0;

	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].severity != DIAG_NOTE)
			refs[n++] = (struct cc_ref){ cc_key(&src, &d->v[i]), i };
	source_free(&src);
	xsort(refs, n, sizeof(*refs), cc_ref_cmp);
	for (size_t k = 0; k < n; k++) {
		char buf[24];

		rank = k && refs[k - 1].key == refs[k].key ? rank + 1 : 0;
		snprintf(buf, sizeof(buf), "%zu", rank);
		fps[refs[k].i] = util_hash(refs[k].key, buf, strlen(buf) + 1);
	}
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].severity != DIAG_NOTE)
			json_array_append_new(list, cc_issue(&d->v[i], fps[i]));
	free(refs);
	free(fps);
	return list;
}

void report_diags(FILE *f, const struct diags *d, enum report_format fmt)
{
	json_t *j = NULL;

	switch (fmt) {
	case REPORT_TEXT:
		report_text(f, d);
		return;
	case REPORT_GITHUB:
		report_github(f, d);
		return;
	case REPORT_JSON:
		j = report_json(d);
		break;
	case REPORT_SARIF:
		j = report_sarif(d);
		break;
	case REPORT_CODECLIMATE:
		j = report_codeclimate(d);
		break;
	}
	json_dumpf(j, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', f);
	json_decref(j);
}
