/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Typed scalar values of the policy schema: booleans, numbers, durations,
 * rates, names and words, each with a message naming what was expected. */
#include "policy_parse.h"
#include "ntpwall/util.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <string.h>

const char *policy_type_name(const struct ynode *n)
{
	if (n->type == Y_MAP)
		return "a mapping";
	if (n->type == Y_SEQ)
		return "a list";
	if (n->plain && (!*n->value || !strcmp(n->value, "~") || !strcmp(n->value, "null")))
		return "nothing";
	return "a scalar";
}

int policy_want(struct policy_ctx *c, const struct ynode *n, enum ynode_type t, const char *what)
{
	if (n->type == t)
		return 0;
	return policy_err(c, n, NW111_TYPE, "expected %s, got %s", what, policy_type_name(n));
}

/* A string value: any scalar, but not an empty/null one. */
int policy_want_str(struct policy_ctx *c, const struct ynode *n, const char *what)
{
	if (n->type != Y_SCALAR || !*n->value || !strcmp(policy_type_name(n), "nothing"))
		return policy_err(c, n, NW111_TYPE, "expected %s, got %s", what, policy_type_name(n));
	return 0;
}

int policy_parse_map(struct policy_ctx *c, const struct ynode *n, void *base, const struct key_spec *keys)
{
	bool seen[32] = { 0 };
	int ret = 0;

	if (policy_want(c, n, Y_MAP, "a mapping"))
		return -EINVAL;
	for (size_t i = 0; i + 1 < n->n; i += 2) {
		const struct ynode *key = n->kids[i], *val = n->kids[i + 1];
		const struct key_spec *k = NULL, *best = NULL;
		unsigned best_d = 3;
		size_t ki;

		if (key->type != Y_SCALAR) {
			ret = policy_err(c, key, NW111_TYPE, "expected a key, got %s", policy_type_name(key));
			continue;
		}
		for (ki = 0; keys[ki].name; ki++) {
			unsigned dist = str_edit_distance(key->value, keys[ki].name);

			if (!strcmp(key->value, keys[ki].name)) {
				k = &keys[ki];
				break;
			}
			if (dist < best_d) {
				best_d = dist;
				best = &keys[ki];
			}
		}
		if (!k) {
			ret = policy_err(c, key, NW110_UNKNOWN_KEY, "unknown key '%s'", key->value);
			if (best)
				diag_hint(c->d, "did you mean '%s'?", best->name);
			continue;
		}
		if (seen[ki]) {
			ret = policy_err(c, key, NW113_DUPLICATE_KEY, "key '%s' given twice", key->value);
			continue;
		}
		seen[ki] = true;
		c->key = key;
		if (k->parse(c, val, (char *)base + k->off, k) < 0)
			ret = -EINVAL;
	}
	return ret;
}

int policy_p_section(struct policy_ctx *c, const struct ynode *v, void *dst, const struct key_spec *k)
{
	return policy_parse_map(c, v, dst, k->sub);
}

int policy_p_bool(struct policy_ctx *c, const struct ynode *v, void *dst, const struct key_spec *k)
{
	static const char *const yes[] = { "true", "True", "TRUE" };
	static const char *const no[] = { "false", "False", "FALSE" };
	static const char *const yaml11[] = { "yes", "no", "on", "off", "y", "n", "Yes", "No",
					      "On", "Off", "YES", "NO", "ON", "OFF" };

	if (v->type == Y_SCALAR && v->plain) {
		for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
			if (!strcmp(v->value, yes[i]) || !strcmp(v->value, no[i])) {
				*(bool *)dst = !strcmp(v->value, yes[i]);
				return 0;
			}
		}
		for (size_t i = 0; i < ARRAY_SIZE(yaml11); i++)
			if (!strcmp(v->value, yaml11[i]))
				return policy_err(c, v, NW126_BOOL,
					   "'%s' is a YAML 1.1 boolean; write true or false", v->value);
	}
	return policy_err(c, v, NW126_BOOL, "expected true or false for '%s', got %s%s%s", k->name,
		   v->type == Y_SCALAR ? "'" : policy_type_name(v), v->type == Y_SCALAR ? v->value : "",
		   v->type == Y_SCALAR ? "'" : "");
}

int policy_scalar_uint(struct policy_ctx *c, const struct ynode *v, const struct key_spec *k,
		       unsigned long *out)
{
	const char *e;

	if (v->type != Y_SCALAR || !v->plain)
		return policy_err(c, v, NW111_TYPE, "expected a number for '%s', got %s", k->name,
			   v->type == Y_SCALAR ? "a quoted string" : policy_type_name(v));
	e = policy_parse_uint(v->value, k->min, k->max, out);
	if (e)
		return policy_err(c, v, NW125_RANGE, "%s: '%s' (%s must be %lu to %lu)", e, v->value,
			   k->name, k->min, k->max);
	return 0;
}

int policy_p_uint(struct policy_ctx *c, const struct ynode *v, void *dst, const struct key_spec *k)
{
	unsigned long n;

	if (policy_scalar_uint(c, v, k, &n))
		return -EINVAL;
	*(unsigned *)dst = n;
	return 0;
}

int policy_p_duration(struct policy_ctx *c, const struct ynode *v, void *dst, const struct key_spec *k)
{
	uint64_t ms;
	const char *e;

	if (policy_want_str(c, v, "a duration such as 1s"))
		return -EINVAL;
	e = policy_parse_duration(v->value, &ms);
	if (e)
		return policy_err(c, v, NW123_DURATION, "%s: '%s'", e, v->value);
	if (ms < k->min || ms > k->max)
		return policy_err(c, v, NW125_RANGE, "'%s' out of range for '%s' (%lums to %lums)",
			   v->value, k->name, k->min, k->max);
	*(uint64_t *)dst = ms;
	return 0;
}

int policy_p_rate(struct policy_ctx *c, const struct ynode *v, void *dst, const struct key_spec *k)
{
	const char *e;

	if (policy_want_str(c, v, "a rate such as 16/second"))
		return -EINVAL;
	e = policy_parse_rate(v->value, dst);
	if (e)
		return policy_err(c, v, NW124_RATE, "%s: '%s'", e, v->value);
	return 0;
}

int policy_p_string(struct policy_ctx *c, const struct ynode *v, void *dst, const struct key_spec *k)
{
	if (policy_want_str(c, v, "a string"))
		return -EINVAL;
	if (strlen(v->value) > k->max)
		return policy_err(c, v, NW125_RANGE, "'%s' longer than %lu characters", k->name, k->max);
	free(*(char **)dst);
	*(char **)dst = xstrdup(v->value);
	return 0;
}

int policy_p_path(struct policy_ctx *c, const struct ynode *v, void *dst, const struct key_spec *k)
{
	if (policy_want_str(c, v, "an absolute path"))
		return -EINVAL;
	if (v->value[0] != '/')
		return policy_err(c, v, NW128_NAME, "'%s' must be an absolute path", k->name);
	return policy_p_string(c, v, dst, k);
}

int policy_p_table(struct policy_ctx *c, const struct ynode *v, void *dst, const struct key_spec *k)
{
	const char *e;

	if (policy_want_str(c, v, "a table name"))
		return -EINVAL;
	e = policy_check_table(v->value);
	if (e)
		return policy_err(c, v, NW128_NAME, "%s: '%s'", e, v->value);
	return policy_p_string(c, v, dst, k);
}

struct word {
	const char *word;
	int value;
};

static int p_word(struct policy_ctx *c, const struct ynode *v, int *dst, const struct word *words)
{
	char list[128] = "";

	if (v->type == Y_SCALAR) {
		for (const struct word *w = words; w->word; w++) {
			if (!strcmp(v->value, w->word)) {
				*dst = w->value;
				return 0;
			}
		}
	}
	for (const struct word *w = words; w->word; w++) {
		strncat(list, w->word, sizeof(list) - strlen(list) - 1);
		strncat(list, w[1].word ? ", " : "", sizeof(list) - strlen(list) - 1);
	}
	if (v->type != Y_SCALAR)
		return policy_err(c, v, NW111_TYPE, "expected one of %s, got %s", list, policy_type_name(v));
	return policy_err(c, v, NW127_ENUM, "'%s' is not one of %s", v->value, list);
}

static const struct word backends[] = {
	{ "nft", POLICY_BACKEND_NFT }, { "iptables", POLICY_BACKEND_IPTABLES }, { NULL, 0 }
};
static const struct word otherwise_words[] = {
	{ "drop", POLICY_OTHERWISE_DROP }, { "reject", POLICY_OTHERWISE_REJECT },
	{ "log", POLICY_OTHERWISE_LOG }, { NULL, 0 }
};
static const struct word family_words[] = {
	{ "ipv4", POLICY_FAMILY_IPV4 }, { "ipv6", POLICY_FAMILY_IPV6 }, { NULL, 0 }
};

int policy_p_backend(struct policy_ctx *c, const struct ynode *v, void *dst, const struct key_spec *k)
{
	int x;

	if (p_word(c, v, &x, backends))
		return -EINVAL;
	*(enum policy_backend *)dst = x;
	return 0;
}

int policy_p_otherwise(struct policy_ctx *c, const struct ynode *v, void *dst, const struct key_spec *k)
{
	int x;

	if (p_word(c, v, &x, otherwise_words))
		return -EINVAL;
	*(enum policy_otherwise *)dst = x;
	return 0;
}

int policy_p_families(struct policy_ctx *c, const struct ynode *v, void *dst, const struct key_spec *k)
{
	unsigned mask = 0;
	int ret = 0;

	if (policy_want(c, v, Y_SEQ, "a list such as [ipv4, ipv6]"))
		return -EINVAL;
	if (!v->n)
		return policy_err(c, v, NW131_EMPTY, "'families' needs ipv4, ipv6 or both");
	for (size_t i = 0; i < v->n; i++) {
		int f;

		if (p_word(c, v->kids[i], &f, family_words)) {
			ret = -EINVAL;
			continue;
		}
		if (mask & f)
			ret = policy_err(c, v->kids[i], NW130_DUPLICATE, "family '%s' listed twice",
				  v->kids[i]->value);
		mask |= f;
	}
	*(unsigned *)dst = mask;
	return ret;
}

int policy_p_versions(struct policy_ctx *c, const struct ynode *v, void *dst, const struct key_spec *k)
{
	static const struct key_spec vk = { .name = "version", .min = 1, .max = 4 };
	uint8_t mask = 0;
	int ret = 0;

	if (policy_want(c, v, Y_SEQ, "a list of NTP versions such as [3, 4]"))
		return -EINVAL;
	if (!v->n)
		return policy_err(c, v, NW131_EMPTY, "'version' needs at least one NTP version");
	for (size_t i = 0; i < v->n; i++) {
		unsigned long n;

		if (policy_scalar_uint(c, v->kids[i], &vk, &n)) {
			ret = -EINVAL;
			continue;
		}
		if (mask & (1u << n))
			ret = policy_err(c, v->kids[i], NW130_DUPLICATE, "version %lu listed twice", n);
		mask |= 1u << n;
	}
	*(uint8_t *)dst = mask;
	c->p->restrict_.version_loc = policy_node_loc(c, v);
	return ret;
}

