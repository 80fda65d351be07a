/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Compile stage, part three: the log rules. Before each drop the policy
 * logs (otherwise: log; restrict.log) goes a copy of it that logs instead of
 * dropping, behind a rate limit of its own, so a scan cannot flood the
 * kernel log and the drop itself stays unconditional. Each log rule gets a
 * prefix of its own: the policy's log_prefix and a short tag of the rule,
 * fitted into the 29 bytes iptables' LOG target keeps. */
#include "compile_int.h"
#include "ntpwall/util.h"

#include <assert.h>
#include <string.h>

/* A drop the compiler makes, by the id its comment starts with. */
struct log_tag {
	const char *id;
	const char *tag;
	bool per_family;	/* the id may end in 4 or 6 */
	bool restrict_;		/* logged under restrict.log, else otherwise: log */
};

static const struct log_tag tags[] = {
	{ "otherwise-dport", "oth-d", false, false },
	{ "otherwise-sport", "oth-s", false, false },
	{ "otherwise-nts", "oth-nts", false, false },
	{ "restrict-ignore-dport", "ign-d", true, true },
	{ "restrict-ignore-sport", "ign-s", true, true },
	{ "restrict-version-dport", "ver-d", false, true },
	{ "restrict-version-sport", "ver-s", false, true },
	{ "restrict-noquery", "nq", true, true },
	{ "restrict-noquery-mode7", "nq7", false, true },
	{ "restrict-nomodify", "nm", false, true },
	{ "restrict-nomodify-mode7", "nm7", false, true },
	{ "restrict-nopeer", "np", true, true },
	{ "restrict-noserve", "ns", false, true },
	{ "serve-ratelimit", "rl", true, true },
};

/* The row for a rule comment "<id>[4|6][@ifname]"; *fam the family digit
 * or 0. NULL for a rule that is not such a drop. */
static const struct log_tag *tag_of(const char *comment, char *fam)
{
	size_t len;

	if (!comment)
		return NULL;
	len = strcspn(comment, "@");
	for (size_t i = 0; i < ARRAY_SIZE(tags); i++) {
		size_t n = strlen(tags[i].id);

		if (strncmp(comment, tags[i].id, n))
			continue;
		if (n == len) {
			*fam = 0;
			return &tags[i];
		}
		if (tags[i].per_family && n + 1 == len && (comment[n] == '4' || comment[n] == '6')) {
			*fam = comment[n];
			return &tags[i];
		}
	}
	return NULL;
}

static bool logged(const struct policy *p, const struct log_tag *t)
{
	return t->restrict_ ? p->restrict_.log : p->otherwise == POLICY_OTHERWISE_LOG;
}

/* The policy's part: log_prefix (default the table name) without the
 * ": " or spaces it may end in, as the tag comes after it. */
static size_t policy_part(const struct policy *p, const char **s)
{
	size_t n;

	*s = p->log_prefix ? p->log_prefix : p->table;
	n = strlen(*s);
	while (n && ((*s)[n - 1] == ' ' || (*s)[n - 1] == ':'))
		n--;
	return n;
}

bool compile_log_prefix(const struct policy *p, const char *tag,
			char out[COMPILE_LOG_PREFIX_MAX + 1])
{
	size_t tl = strlen(tag), room, n;
	const char *s;
	bool cut;

	assert(tl + 2 <= COMPILE_LOG_PREFIX_MAX);
	n = policy_part(p, &s);
	/* "<part> <tag>: ": the space after the part only with a part. */
	room = COMPILE_LOG_PREFIX_MAX - tl - 2;
	room = room ? room - 1 : 0;
	cut = n > room;
	if (cut) {
		n = room;
		/* Never half a UTF-8 character. */
		while (n && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
		while (n && s[n - 1] == ' ')
			n--;
	}
	if (n)
		snprintf(out, COMPILE_LOG_PREFIX_MAX + 1, "%.*s %s: ", (int)n, s, tag);
	else
		snprintf(out, COMPILE_LOG_PREFIX_MAX + 1, "%s: ", tag);
	return cut;
}

static bool has_nts(const struct policy *p)
{
	for (size_t i = 0; i < p->n_upstreams; i++)
		if (p->upstreams[i].nts)
			return true;
	return false;
}

/* Whether p can have the rule of row t at all (the longest tags only). */
static bool may_have(const struct policy *p, const struct log_tag *t)
{
	if (!strcmp(t->id, "otherwise-nts"))
		return has_nts(p);
	if (!strncmp(t->id, "restrict-ignore-", 16))
		return p->restrict_.ignore.n;
	return true;
}

size_t compile_log_tag_max(const struct policy *p)
{
	size_t max = 0, ifmax = 0;

	for (size_t i = 0; p->n_interfaces > 1 && i < p->n_interfaces; i++)
		if (strlen(p->interfaces[i]) > ifmax)
			ifmax = strlen(p->interfaces[i]);
	for (size_t i = 0; i < ARRAY_SIZE(tags); i++) {
		size_t n = strlen(tags[i].tag) + tags[i].per_family + (ifmax ? 1 + ifmax : 0);

		if (logged(p, &tags[i]) && may_have(p, &tags[i]) && n > max)
			max = n;
	}
	return max;
}

/* The tag of rule r of chain c: the row's, "out-" for the output chain's
 * otherwise, the family digit and the interface. */
static void rule_tag(const struct ir_chain *c, const struct ir_rule *r, const struct log_tag *t,
		     char fam, char out[COMPILE_LOG_PREFIX_MAX + 1])
{
	const char *at = strchr(r->comment, '@');
	const char *tag = t->tag;

	if (c->hook == IR_HOOK_OUTPUT && !strncmp(tag, "oth-", 4)) {
		snprintf(out, COMPILE_LOG_PREFIX_MAX + 1, "out-%s%s", tag + 4, at ? at : "");
		return;
	}
	snprintf(out, COMPILE_LOG_PREFIX_MAX + 1, "%s%.1s%s", tag, fam ? &fam : "", at ? at : "");
}

/* The smallest unit is the form iptables' limit match reads back in. */
struct ir_rate compile_log_rate(const struct policy *p)
{
	struct ir_rate r = { p->log_rate.count, p->log_rate.unit, p->log_burst };

	while (r.unit_s > 1 && r.rate % 60 == 0) {
		r.rate /= 60;
		r.unit_s /= 60;
	}
	return r;
}

/* Rule i of c, a drop to log: a copy of it before it, with the limit. */
static void log_before(const struct compile_ctx *cx, struct ir_chain *c, size_t i,
		       const char *tag)
{
	const struct policy *p = cx->p;
	struct ir_rule *r = ir_rule_insert_copy(c, i);
	size_t at = strcspn(r->comment, "@");
	char prefix[COMPILE_LOG_PREFIX_MAX + 1];
	struct ir_match *m;
	char *comment;

	comment = xasprintf("%.*s-log%s", (int)at, r->comment, r->comment + at);
	free(r->comment);
	r->comment = comment;
	m = ir_rule_add_match(r, IR_MATCH_LIMIT);
	m->u.rate = compile_log_rate(p);
	(void)compile_log_prefix(p, tag, prefix);
	ir_rule_set_log(r, prefix);
	r->verdict = IR_VERDICT_NONE;
}

void compile_log_rules(struct compile_ctx *cx)
{
	for (size_t k = 0; k < cx->rs->n_chains; k++) {
		struct ir_chain *c = &cx->rs->chains[k];

		for (size_t i = 0; i < c->n_rules; i++) {
			const struct ir_rule *r = &c->rules[i];
			char tag[COMPILE_LOG_PREFIX_MAX + 1], fam;
			const struct log_tag *t = tag_of(r->comment, &fam);

			if (!t || r->verdict != IR_VERDICT_DROP || !logged(cx->p, t))
				continue;
			rule_tag(c, r, t, fam, tag);
			log_before(cx, c, i, tag);
			i++;
		}
	}
}
