/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The rule model to JSON and back (ir_json.h has the shape). Loading is
 * strict: an unknown match type, hook or verdict is an error, so a
 * generation written by a newer ntpwall is refused rather than misread. */
#include "ntpwall/ir_json.h"
#include "ntpwall/diag.h"
#include "ntpwall/policy.h"
#include "ntpwall/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <string.h>

static const char *const flag_names[] = { "timeout", "interval", "dynamic" };

/* A plain element is a string, "ADDR" or "ADDR/LEN": generations of
 * 100,000 elements stay small and fast to write. */
static json_t *elem_json(const struct ir_elem *e, bool live)
{
	char buf[INET6_ADDRSTRLEN + 4];	/* "/128" */
	unsigned full = e->addr.family == AF_INET ? 32 : 128;
	json_t *o;

	addr_str(&e->addr, buf, INET6_ADDRSTRLEN);
	if (!e->timeout_ms && !e->comment && !(live && e->expires_ms)) {
		if (e->prefix_len != full)
			snprintf(buf + strlen(buf), 5, "/%u", e->prefix_len);
		return json_string(buf);
	}
	o = json_pack("{s:s, s:i}", "addr", buf, "prefix", (json_int_t)e->prefix_len);

	if (e->timeout_ms)
		json_object_set_new(o, "timeout_ms", json_integer((json_int_t)e->timeout_ms));
	if (live && e->expires_ms)
		json_object_set_new(o, "expires_ms", json_integer((json_int_t)e->expires_ms));
	if (e->comment)
		json_object_set_new(o, "comment", json_string(e->comment));
	return o;
}

static json_t *set_json(const struct ir_set *s, bool live)
{
	json_t *flags = json_array(), *elems = json_array(), *o;

	for (size_t i = 0; i < ARRAY_SIZE(flag_names); i++)
		if (s->flags & (1u << i))
			json_array_append_new(flags, json_string(flag_names[i]));
	if (s->flags & IR_SET_FOREIGN)
		json_array_append_new(flags, json_string("foreign"));
	for (size_t i = 0; i < s->n_elems; i++)
		json_array_append_new(elems, elem_json(&s->elems[i], live));
	o = json_pack("{s:s, s:s, s:o, s:I, s:I, s:o}", "name", s->name,
		      "key", ir_set_key_name(s->key), "flags", flags,
		      "timeout_ms", (json_int_t)s->timeout_ms, "size", (json_int_t)s->size,
		      "elements", elems);
	if (s->policy_memory)
		json_object_set_new(o, "policy", json_string("memory"));
	if (s->gc_interval_ms)
		json_object_set_new(o, "gc_interval_ms", json_integer(s->gc_interval_ms));
	return o;
}

static json_t *match_json(const struct ir_match *m)
{
	char buf[INET6_ADDRSTRLEN];
	json_t *o = json_pack("{s:s}", "type", ir_match_type_name(m->type));

	if (m->negate)
		json_object_set_new(o, "negate", json_true());
	switch (m->type) {
	case IR_MATCH_IIFNAME:
	case IR_MATCH_OIFNAME:
		json_object_set_new(o, "ifname", json_stringn(m->u.ifname,
							      strnlen(m->u.ifname, sizeof(m->u.ifname))));
		break;
	case IR_MATCH_SADDR:
	case IR_MATCH_DADDR:
		json_object_set_new(o, "addr", json_string(addr_str(&m->u.prefix.addr, buf,
								    sizeof(buf))));
		json_object_set_new(o, "prefix", json_integer(m->u.prefix.len));
		break;
	case IR_MATCH_SADDR_SET:
	case IR_MATCH_DADDR_SET:
		json_object_set_new(o, "set", json_string(m->u.set));
		break;
	case IR_MATCH_CT_STATE:
	case IR_MATCH_NTP_MODE:
	case IR_MATCH_NTP_VERSION:
	case IR_MATCH_NTP_OPCODE:
		json_object_set_new(o, "bits", json_integer(m->u.bits));
		break;
	case IR_MATCH_RATE_OVER:
		json_object_set_new(o, "limit", json_pack("{s:s, s:I, s:I, s:I}",
				    "set", m->u.limit.set, "rate", (json_int_t)m->u.limit.rate,
				    "unit_s", (json_int_t)m->u.limit.unit_s,
				    "burst", (json_int_t)m->u.limit.burst));
		if (m->u.limit.prefix_len)
			json_object_set_new(json_object_get(o, "limit"), "prefix",
					    json_integer(m->u.limit.prefix_len));
		break;
	case IR_MATCH_LIMIT:
		json_object_set_new(o, "rate", json_pack("{s:I, s:I, s:I}",
				    "rate", (json_int_t)m->u.rate.rate,
				    "unit_s", (json_int_t)m->u.rate.unit_s,
				    "burst", (json_int_t)m->u.rate.burst));
		break;
	default:
		json_object_set_new(o, "value", json_integer(m->u.num));
	}
	return o;
}

static json_t *rule_json(const struct ir_rule *r, bool live)
{
	json_t *o = json_object(), *ms = json_array();

	if (r->comment)
		json_object_set_new(o, "comment", json_string(r->comment));
	for (size_t i = 0; i < r->n_matches; i++)
		json_array_append_new(ms, match_json(&r->matches[i]));
	json_object_set_new(o, "matches", ms);
	json_object_set_new(o, "counter", json_boolean(r->counter));
	if (r->notrack)
		json_object_set_new(o, "notrack", json_true());
	if (r->log_prefix)
		json_object_set_new(o, "log_prefix", json_string(r->log_prefix));
	json_object_set_new(o, "verdict", json_string(ir_verdict_name(r->verdict)));
	if (r->target)
		json_object_set_new(o, "target", json_string(r->target));
	if (r->unknown)
		json_object_set_new(o, "unknown", json_string(r->unknown));
	if (live) {
		json_object_set_new(o, "packets", json_integer((json_int_t)r->packets));
		json_object_set_new(o, "bytes", json_integer((json_int_t)r->bytes));
		json_object_set_new(o, "handle", json_integer((json_int_t)r->handle));
	}
	return o;
}

static json_t *chain_json(const struct ir_chain *c, bool live)
{
	json_t *rules = json_array(), *o;

	for (size_t i = 0; i < c->n_rules; i++)
		json_array_append_new(rules, rule_json(&c->rules[i], live));
	o = json_pack("{s:s, s:s, s:i, s:s, s:o}", "name", c->name, "hook",
		      ir_hook_name(c->hook), "priority", c->priority, "policy",
		      c->policy_drop ? "drop" : "accept", "rules", rules);
	if (c->type)
		json_object_set_new(o, "type", json_string(c->type));
	if (c->device)
		json_object_set_new(o, "device", json_string(c->device));
	return o;
}

json_t *ir_json_dump(const struct ir_ruleset *rs, bool live)
{
	json_t *sets = json_array(), *chains = json_array(), *o;

	for (size_t i = 0; i < rs->n_sets; i++)
		json_array_append_new(sets, set_json(&rs->sets[i], live));
	for (size_t i = 0; i < rs->n_chains; i++)
		json_array_append_new(chains, chain_json(&rs->chains[i], live));
	o = json_pack("{s:s, s:i, s:s, s:o, s:o}", "format", "ntpwall-ir",
		      "version", IR_JSON_VERSION, "table", rs->table, "sets", sets,
		      "chains", chains);
	/* Read-back only (a snapshot of a tampered table): absent otherwise,
	 * so compiled generations are unchanged. */
	if (rs->flags)
		json_object_set_new(o, "table_flags", json_integer(rs->flags));
	return o;
}

/* Loading. Each helper returns 0 or -EINVAL with an error in d (if not
 * NULL): a stored ruleset is the state directory's (NW502). */

static int fail(struct diags *d, const char *fmt, const char *what)
{
	if (d)
		diag_add(d, NULL, DIAG_ERROR, NW502_STATE, fmt, what);
	return -EINVAL;
}

static int name_index(const char *s, const char *(*name)(int), int n)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(s, name(i)))
			return i;
	return -1;
}

static const char *key_name(int i) { return ir_set_key_name((enum ir_set_key)i); }
static const char *hook_name(int i) { return ir_hook_name((enum ir_hook)i); }
static const char *verdict_name(int i) { return ir_verdict_name((enum ir_verdict)i); }
static const char *match_name(int i) { return ir_match_type_name((enum ir_match_type)i); }

static int load_elem(struct ir_set *s, json_t *j, struct diags *d)
{
	const char *addr, *comment = NULL;
	json_int_t prefix, timeout = 0, expires = 0;
	struct addr a;
	struct ir_elem *e;

	if (json_is_string(j)) {
		struct policy_prefix p;
		bool host_bits = false;

		if (policy_parse_prefix(json_string_value(j), &p, &host_bits) || host_bits)
			return fail(d, "set %s: bad element", s->name);
		ir_set_add_elem(s, &p.addr, p.len, NULL);
		return 0;
	}
	if (json_unpack(j, "{s:s, s:I, s?:I, s?:s, s?:I}", "addr", &addr, "prefix", &prefix,
			"timeout_ms", &timeout, "comment", &comment, "expires_ms", &expires) ||
	    addr_parse(addr, &a) || prefix < 0 ||
	    prefix > (a.family == AF_INET ? 32 : 128))
		return fail(d, "set %s: bad element", s->name);
	e = ir_set_add_elem(s, &a, (unsigned)prefix, comment);
	e->timeout_ms = (uint64_t)timeout;
	e->expires_ms = (uint64_t)expires;
	return 0;
}

static int load_set(struct ir_ruleset *rs, json_t *j, struct diags *d)
{
	const char *name, *key, *policy = NULL;
	json_t *flags, *elems, *v;
	json_int_t timeout, size, gc = 0;
	struct ir_set *s;
	uint32_t f = 0;
	size_t i;
	int k;

	if (json_unpack(j, "{s:s, s:s, s:o, s:I, s:I, s:o, s?:s, s?:I}", "name", &name,
			"key", &key, "flags", &flags, "timeout_ms", &timeout, "size", &size,
			"elements", &elems, "policy", &policy, "gc_interval_ms", &gc) ||
	    !json_is_array(flags) || !json_is_array(elems) || gc < 0 || gc > UINT32_MAX ||
	    (policy && strcmp(policy, "memory")))
		return fail(d, "%s", "bad set");
	k = name_index(key, key_name, 2);
	if (k < 0)
		return fail(d, "unknown set key '%s'", key);
	json_array_foreach(flags, i, v) {
		size_t b;

		/* set_json() writes it for a read-back set ntpwall did not make
		 * (a snapshot generation), so it must load. */
		if (json_is_string(v) && !strcmp(json_string_value(v), "foreign")) {
			f |= IR_SET_FOREIGN;
			continue;
		}
		for (b = 0; b < ARRAY_SIZE(flag_names); b++)
			if (json_is_string(v) && !strcmp(json_string_value(v), flag_names[b]))
				break;
		if (b == ARRAY_SIZE(flag_names))
			return fail(d, "set %s: unknown flag", name);
		f |= 1u << b;
	}
	s = ir_set_add(rs, name, (enum ir_set_key)k, f);
	s->timeout_ms = (uint64_t)timeout;
	s->size = (uint32_t)size;
	s->policy_memory = policy != NULL;
	s->gc_interval_ms = (uint32_t)gc;
	json_array_foreach(elems, i, v)
		if (load_elem(s, v, d))
			return -EINVAL;
	return 0;
}

static int load_match_value(struct ir_match *m, json_t *j, struct diags *d)
{
	const char *s = NULL, *addr;
	json_int_t n, prefix, rate, unit, burst;

	switch (m->type) {
	case IR_MATCH_IIFNAME:
	case IR_MATCH_OIFNAME:
		if (json_unpack(j, "{s:s}", "ifname", &s) || strlen(s) >= sizeof(m->u.ifname))
			return fail(d, "%s", "bad ifname match");
		snprintf(m->u.ifname, sizeof(m->u.ifname), "%s", s);
		return 0;
	case IR_MATCH_SADDR:
	case IR_MATCH_DADDR:
		if (json_unpack(j, "{s:s, s:I}", "addr", &addr, "prefix", &prefix) ||
		    addr_parse(addr, &m->u.prefix.addr) || prefix < 0 || prefix > 128)
			return fail(d, "%s", "bad address match");
		m->u.prefix.len = (unsigned)prefix;
		return 0;
	case IR_MATCH_SADDR_SET:
	case IR_MATCH_DADDR_SET:
		if (json_unpack(j, "{s:s}", "set", &s))
			return fail(d, "%s", "bad set match");
		m->u.set = xstrdup(s);
		return 0;
	case IR_MATCH_RATE_OVER:
		prefix = 0;
		if (json_unpack(j, "{s:{s:s, s:I, s:I, s:I, s?:I}}", "limit", "set", &s, "rate",
				&rate, "unit_s", &unit, "burst", &burst, "prefix", &prefix) ||
		    prefix < 0 || prefix > 128)
			return fail(d, "%s", "bad rate match");
		m->u.limit.set = xstrdup(s);
		m->u.limit.rate = (uint32_t)rate;
		m->u.limit.unit_s = (uint32_t)unit;
		m->u.limit.burst = (uint32_t)burst;
		m->u.limit.prefix_len = (unsigned)prefix;
		return 0;
	case IR_MATCH_LIMIT:
		if (json_unpack(j, "{s:{s:I, s:I, s:I}}", "rate", "rate", &rate, "unit_s", &unit,
				"burst", &burst) || rate < 1 || rate > UINT32_MAX || unit < 1 ||
		    unit > UINT32_MAX || burst < 0 || burst > UINT32_MAX)
			return fail(d, "%s", "bad limit match");
		m->u.rate = (struct ir_rate){ (uint32_t)rate, (uint32_t)unit, (uint32_t)burst };
		return 0;
	case IR_MATCH_CT_STATE:
	case IR_MATCH_NTP_MODE:
	case IR_MATCH_NTP_VERSION:
	case IR_MATCH_NTP_OPCODE:
		if (json_unpack(j, "{s:I}", "bits", &n))
			return fail(d, "%s", "bad bits match");
		m->u.bits = (uint32_t)n;
		return 0;
	default:
		if (json_unpack(j, "{s:I}", "value", &n))
			return fail(d, "%s", "bad value match");
		m->u.num = (uint32_t)n;
		return 0;
	}
}

static int load_rule(struct ir_chain *c, json_t *j, struct diags *d)
{
	const char *comment = NULL, *log = NULL, *verdict, *unknown = NULL, *target = NULL;
	int counter = 0, notrack = 0, v;
	json_int_t packets = 0, bytes = 0, handle = 0;
	json_t *ms, *mj;
	struct ir_rule *r;
	size_t i;

	/* The read-back fields too (status --format json shows them). */
	if (json_unpack(j, "{s?:s, s:o, s:b, s?:b, s?:s, s:s, s?:s, s?:s, s?:I, s?:I, s?:I}",
			"comment", &comment, "matches", &ms, "counter", &counter, "notrack",
			&notrack, "log_prefix", &log, "verdict", &verdict, "target", &target,
			"unknown", &unknown, "packets", &packets, "bytes", &bytes, "handle",
			&handle) ||
	    !json_is_array(ms))
		return fail(d, "chain %s: bad rule", c->name);
	v = name_index(verdict, verdict_name, IR_VERDICT_GOTO + 1);
	if (v < 0)
		return fail(d, "unknown verdict '%s'", verdict);
	/* A jump names its chain, nothing else does. */
	if ((v >= IR_VERDICT_JUMP) != (target != NULL))
		return fail(d, "a rule with verdict '%s' and a target only for jump/goto",
			    verdict);
	r = ir_rule_add(c, comment, NULL);
	r->counter = counter;
	r->notrack = notrack;
	r->packets = (uint64_t)packets;
	r->bytes = (uint64_t)bytes;
	r->handle = (uint64_t)handle;
	r->verdict = (enum ir_verdict)v;
	if (log)
		ir_rule_set_log(r, log);
	if (unknown)
		r->unknown = xstrdup(unknown);
	if (target)
		r->target = xstrdup(target);
	json_array_foreach(ms, i, mj) {
		const char *type = NULL;
		int negate = 0, t;
		struct ir_match *m;

		if (json_unpack(mj, "{s:s, s?:b}", "type", &type, "negate", &negate))
			return fail(d, "chain %s: bad match", c->name);
		t = name_index(type, match_name, IR_MATCH_LIMIT + 1);
		if (t < 0)
			return fail(d, "unknown match type '%s'", type);
		m = ir_rule_add_match(r, (enum ir_match_type)t);
		m->negate = negate;
		if (load_match_value(m, mj, d))
			return -EINVAL;
	}
	return 0;
}

static int load_chain(struct ir_ruleset *rs, json_t *j, struct diags *d)
{
	const char *name, *hook, *policy, *type = NULL, *device = NULL;
	json_t *rules, *r;
	struct ir_chain *c;
	int prio, h;
	size_t i;

	if (json_unpack(j, "{s:s, s:s, s:i, s:s, s:o, s?:s, s?:s}", "name", &name, "hook", &hook,
			"priority", &prio, "policy", &policy, "rules", &rules, "type", &type,
			"device", &device) ||
	    !json_is_array(rules))
		return fail(d, "%s", "bad chain");
	h = name_index(hook, hook_name, IR_HOOK_COUNT);
	if (h < 0)
		return fail(d, "unknown hook '%s'", hook);
	c = ir_chain_add(rs, name, (enum ir_hook)h, prio);
	c->policy_drop = !strcmp(policy, "drop");
	if (type)
		c->type = xstrdup(type);
	if (device)
		c->device = xstrdup(device);
	json_array_foreach(rules, i, r)
		if (load_rule(c, r, d))
			return -EINVAL;
	return 0;
}

int ir_json_load(const json_t *j, struct ir_ruleset **out, struct diags *d)
{
	const char *format, *table;
	json_t *sets, *chains, *v;
	struct ir_ruleset *rs;
	json_int_t flags = 0;
	int version;
	size_t i;

	*out = NULL;
	if (json_unpack((json_t *)j, "{s:s, s:i, s:s, s:o, s:o, s?:I}", "format", &format,
			"version", &version, "table", &table, "sets", &sets, "chains", &chains,
			"table_flags", &flags) || flags < 0 || flags > UINT32_MAX ||
	    strcmp(format, "ntpwall-ir") || !json_is_array(sets) || !json_is_array(chains))
		return fail(d, "%s", "not an ntpwall-ir document");
	if (version != IR_JSON_VERSION)
		return fail(d, "%s", "unsupported ntpwall-ir version");
	rs = ir_ruleset_new(table);
	rs->flags = (uint32_t)flags;
	json_array_foreach(sets, i, v) {
		if (load_set(rs, v, d))
			goto bad;
	}
	json_array_foreach(chains, i, v) {
		if (load_chain(rs, v, d))
			goto bad;
	}
	ir_ruleset_sort(rs);
	*out = rs;
	return 0;
bad:
	ir_ruleset_free(rs);
	return -EINVAL;
}
