/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Test helper: reads the JSON of `ntpwall resolve --format json` on stdin,
 * checks its documented shape and prints it flat for sh and awk:
 *   queries N
 *   retries N
 *   addr ADDRESS FAMILY TTL|- ROLE NTS ORIGIN,ORIGIN...
 *   name NAME ROLE STATUS FOUND KEPT ADDRESS,ADDRESS...|-
 * Exits 1 (with a message) when the shape is wrong. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

static int bad(const char *what)
{
	fprintf(stderr, "resolve_json_flat: bad shape: %s\n", what);
	return 1;
}

static void print_list(json_t *list)
{
	size_t i;
	json_t *v;

	if (!json_array_size(list))
		fputs("-", stdout);
	json_array_foreach(list, i, v)
		printf("%s%s", i ? "," : "", json_string_value(v));
}

static int print_addr(json_t *a)
{
	const char *addr, *family, *role;
	json_t *ttl, *origins;
	int nts;

	if (json_unpack(a, "{s:s, s:s, s:o, s:s, s:o, s:b}", "address", &addr, "family", &family,
			"ttl", &ttl, "role", &role, "origins", &origins, "nts", &nts) ||
	    !(json_is_null(ttl) || json_is_integer(ttl)) || !json_is_array(origins))
		return bad("address entry");
	printf("addr %s %s ", addr, family);
	if (json_is_null(ttl))
		fputs("-", stdout);
	else
		printf("%lld", (long long)json_integer_value(ttl));
	printf(" %s %s ", role, nts ? "nts" : "-");
	print_list(origins);
	putchar('\n');
	return 0;
}

static int print_name(json_t *n)
{
	const char *name, *role, *status;
	json_int_t found, kept;
	json_t *message, *addrs;

	if (json_unpack(n, "{s:s, s:s, s:s, s:o, s:I, s:I, s:o}", "name", &name, "role", &role,
			"status", &status, "message", &message, "found", &found, "kept", &kept,
			"addresses", &addrs) ||
	    !(json_is_null(message) || json_is_string(message)) || !json_is_array(addrs) ||
	    (json_is_null(message) != !strcmp(status, "ok")))
		return bad("name entry");
	printf("name %s %s %s %lld %lld ", name, role, status, (long long)found, (long long)kept);
	print_list(addrs);
	putchar('\n');
	return 0;
}

int main(void)
{
	json_error_t err;
	json_t *root = json_loadf(stdin, 0, &err), *addrs, *names, *v;
	json_int_t queries, retries;
	size_t i;

	if (!root) {
		fprintf(stderr, "resolve_json_flat: %s (line %d)\n", err.text, err.line);
		return 1;
	}
	if (json_unpack(root, "{s:o, s:o, s:I, s:I}", "addresses", &addrs, "names", &names,
			"queries", &queries, "retries", &retries) ||
	    !json_is_array(addrs) || !json_is_array(names))
		return bad("top level");
	printf("queries %lld\nretries %lld\n", (long long)queries, (long long)retries);
	json_array_foreach(addrs, i, v)
		if (print_addr(v))
			return 1;
	json_array_foreach(names, i, v)
		if (print_name(v))
			return 1;
	json_decref(root);
	return 0;
}
