/* Printing diagnostics: text with the source line and a caret (gcc style),
 * JSON, GitHub workflow annotations and SARIF 2.1.0, all JSON through
 * jansson. */
#include "cli.h"
#include "ntpwall/util.h"

#include <jansson.h>
#include <string.h>

static const char *const format_names[] = { "text", "json", "github", "sarif" };

int report_format_parse(const char *s, enum report_format max)
{
	for (int i = 0; i <= (int)max; i++)
		if (!strcmp(s, format_names[i]))
			return i;
	return -1;
}

static const char *sev_name(enum diag_severity s)
{
	return s == DIAG_ERROR ? "error" : "warning";
}

/* The text of the current file, kept while consecutive diags use it. */
struct source {
	char *path;
	char *text;
	size_t len;
};

static const char *source_line(struct source *s, const char *path, unsigned line, size_t *len)
{
	const char *p, *end;

	if (!s->path || strcmp(s->path, path)) {
		free(s->path);
		free(s->text);
		s->path = xstrdup(path);
		s->text = NULL;
		if (util_read_file(path, 64u << 20, &s->text, &s->len))
			s->text = NULL;
	}
	if (!s->text)
		return NULL;
	p = s->text;
	end = s->text + s->len;
	for (unsigned i = 1; i < line && p < end; i++) {
		p = memchr(p, '\n', end - p);
		if (!p)
			return NULL;
		p++;
	}
	if (p >= end)
		return NULL;
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

		if (g->loc.file && g->loc.line)
			fprintf(f, "%s:%u:%u: ", g->loc.file, g->loc.line, g->loc.column);
		else if (g->loc.file)
			fprintf(f, "%s: ", g->loc.file);
		fprintf(f, "%s: %s [%s]\n", sev_name(g->severity), g->msg, diag_code_name(g->code));
		if (g->loc.file && g->loc.line &&
		    (line = source_line(&src, g->loc.file, g->loc.line, &len))) {
			fprintf(f, "%5u | %.*s\n", g->loc.line, (int)len, line);
			print_caret(f, line, len, g->loc.column);
		}
		if (g->hint)
			fprintf(f, "      = hint: %s\n", g->hint);
	}
	free(src.path);
	free(src.text);
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
		json_array_append_new(list, finding_json(&d->v[i]));
	json_object_set_new(root, "findings", list);
	json_object_set_new(root, "errors", json_integer(d->errors));
	json_object_set_new(root, "warnings", json_integer(d->warnings));
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

		fprintf(f, "::%s ", sev_name(g->severity));
		if (g->loc.file) {
			fputs("file=", f);
			gh_escape(f, g->loc.file, true);
			if (g->loc.line)
				fprintf(f, ",line=%u,col=%u", g->loc.line, g->loc.column);
			fputc(',', f);
		}
		fprintf(f, "title=%s::", diag_code_name(g->code));
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

static json_t *report_sarif(const struct diags *d)
{
	json_t *results = json_array();

	for (size_t i = 0; i < d->n; i++) {
		const struct diag *g = &d->v[i];
		json_t *phys = json_object(), *r;

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
	return json_pack("{s:s, s:s, s:[{s:{s:{s:s, s:s, s:s, s:o}}, s:o}]}",
			 "$schema", "https://json.schemastore.org/sarif-2.1.0.json",
			 "version", "2.1.0",
			 "runs", "tool", "driver", "name", "ntpwall", "version", NTPWALL_VERSION,
			 "informationUri", "https://ntpwall.invalid/", "rules", sarif_rules(),
			 "results", results);
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
	}
	json_dumpf(j, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', f);
	json_decref(j);
}
