/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reads one node of a YAML file, so that the CI tests can run what
 * action.yml and contrib/ci/gitlab-lint.yml say, as written, without python:
 *   yaml_get FILE [KEY|INDEX]...
 * walks mappings by key and sequences by index (from 0), then prints a
 * scalar's value, a mapping's keys or a sequence's indices, one per line.
 * Exits 1 with a message on stderr when the path is not there, 2 on a bad
 * file or usage. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

static const char *scalar(yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static yaml_node_t *child(yaml_document_t *doc, yaml_node_t *n, const char *key)
{
	if (n->type == YAML_MAPPING_NODE) {
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
			const char *k = scalar(yaml_document_get_node(doc, p->key));

			if (k && !strcmp(k, key))
				return yaml_document_get_node(doc, p->value);
		}
		return NULL;
	}
	if (n->type == YAML_SEQUENCE_NODE) {
		char *end;
		long i;

		errno = 0;
		i = strtol(key, &end, 10);
		if (errno || *end || !*key || i < 0 ||
		    i >= n->data.sequence.items.top - n->data.sequence.items.start)
			return NULL;
		return yaml_document_get_node(doc, n->data.sequence.items.start[i]);
	}
	return NULL;
}

static void print_node(yaml_document_t *doc, yaml_node_t *n)
{
	if (n->type == YAML_SCALAR_NODE) {
		fwrite(n->data.scalar.value, 1, n->data.scalar.length, stdout);
		putchar('\n');
	} else if (n->type == YAML_MAPPING_NODE) {
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++)
			printf("%s\n", scalar(yaml_document_get_node(doc, p->key)) ?
			       scalar(yaml_document_get_node(doc, p->key)) : "?");
	} else {
		for (long i = 0; i < n->data.sequence.items.top - n->data.sequence.items.start; i++)
			printf("%ld\n", i);
	}
}

int main(int argc, char **argv)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *n;
	FILE *f;
	int ret = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: yaml_get FILE [KEY|INDEX]...\n");
		return 2;
	}
	f = fopen(argv[1], "rb");
	if (!f) {
		fprintf(stderr, "yaml_get: %s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		fprintf(stderr, "yaml_get: %s: %s at line %zu\n", argv[1],
			parser.problem ? parser.problem : "not YAML", parser.problem_mark.line + 1);
		yaml_parser_delete(&parser);
		fclose(f);
		return 2;
	}
	n = yaml_document_get_root_node(&doc);
	for (int i = 2; n && i < argc; i++)
		n = child(&doc, n, argv[i]);
	if (n) {
		print_node(&doc, n);
	} else {
		fprintf(stderr, "yaml_get: %s: no such node:", argv[1]);
		for (int i = 2; i < argc; i++)
			fprintf(stderr, " %s", argv[i]);
		fputc('\n', stderr);
		ret = 1;
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	fclose(f);
	return ret;
}
