/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the unprivileged child sends back, as JSON: a resolve result with
 * every field (answers, TTLs, origins, statuses), diagnostics, probe
 * results. The loaders check every type and bound: the child parsed
 * network input and is the side not to trust. */
#include "privsep_int.h"
#include "ntpwall/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <string.h>

static json_t *addr_j(const struct addr *a)
{
	char buf[INET6_ADDRSTRLEN];

	return json_string(addr_str(a, buf, sizeof(buf)));
}

static int addr_load(const json_t *j, struct addr *a)
{
	return json_is_string(j) && !addr_parse(json_string_value(j), a) ? 0 : -EINVAL;
}

static json_t *name_j(const struct resolve_name *n)
{
	json_t *found = json_array(), *kept = json_array();

	for (size_t i = 0; n->found && i < n->n_found; i++)
		json_array_append_new(found, json_pack("[o, I]", addr_j(&n->found[i].addr),
						       (json_int_t)n->found[i].ttl));
	for (size_t i = 0; i < n->n_kept; i++)
		json_array_append_new(kept, addr_j(&n->addrs[i]));
	return json_pack("{s:s, s:i, s:I, s:i, s:s*, s:I, s:o, s:o, s:b, s:i, s:i}", "name",
			 n->name, "role", (int)n->role, "index", (json_int_t)n->index, "status",
			 (int)n->status, "message", n->message, "n_found", (json_int_t)n->n_found,
			 "found", found, "kept", kept, "kept_previous", n->kept_previous, "line",
			 (int)n->loc.line, "column", (int)n->loc.column);
}

static json_t *addrs_j(const struct resolve_addr *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++) {
		json_t *origins = json_array();

		for (size_t k = 0; k < v[i].n_origins; k++)
			json_array_append_new(origins, json_integer((json_int_t)v[i].origins[k]));
		json_array_append_new(a, json_pack("{s:o, s:I, s:b, s:o}", "addr",
						   addr_j(&v[i].addr), "ttl", (json_int_t)v[i].ttl,
						   "nts", v[i].nts, "origins", origins));
	}
	return a;
}

json_t *privsep_resolved_json(const struct resolved *r)
{
	json_t *names = json_array();

	if (!r)
		return json_null();
	for (size_t i = 0; i < r->n_names; i++)
		json_array_append_new(names, name_j(&r->names[i]));
	return json_pack("{s:o, s:o, s:o, s:I, s:I}", "names", names, "upstreams",
			 addrs_j(r->upstreams, r->n_upstreams), "peers",
			 addrs_j(r->peers, r->n_peers), "queries", (json_int_t)r->queries_sent,
			 "retries", (json_int_t)r->retries);
}

/* The origins of an address: indices into the policy's list of that role. */
static int origins_load(const json_t *j, size_t limit, struct resolve_addr *a)
{
	size_t i;
	json_t *v;

	if (!json_is_array(j))
		return -EINVAL;
	a->origins = xcalloc(json_array_size(j) + 1, sizeof(*a->origins));
	json_array_foreach(j, i, v) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    (size_t)json_integer_value(v) >= limit)
			return -EINVAL;
		a->origins[a->n_origins++] = (size_t)json_integer_value(v);
	}
	return 0;
}

static int addrs_load(const json_t *j, size_t limit, struct resolve_addr **out, size_t *n)
{
	size_t i;
	json_t *v;

	if (!json_is_array(j))
		return -EINVAL;
	*out = xcalloc(json_array_size(j) + 1, sizeof(**out));
	json_array_foreach(j, i, v) {
		struct resolve_addr *a = &(*out)[(*n)++];
		json_int_t ttl;
		int nts;

		if (json_unpack(v, "{s:I, s:b}", "ttl", &ttl, "nts", &nts) || ttl < 0 ||
		    ttl > UINT32_MAX || addr_load(json_object_get(v, "addr"), &a->addr) ||
		    origins_load(json_object_get(v, "origins"), limit, a))
			return -EINVAL;
		a->ttl = (uint32_t)ttl;
		a->nts = nts;
	}
	return 0;
}

static int found_load(const json_t *j, struct resolve_name *nm)
{
	size_t i;
	json_t *v;

	if (!json_is_array(j))
		return -EINVAL;
	nm->found = xcalloc(json_array_size(j) + 1, sizeof(*nm->found));
	json_array_foreach(j, i, v) {
		json_int_t ttl = json_integer_value(json_array_get(v, 1));

		if (json_array_size(v) != 2 || addr_load(json_array_get(v, 0), &nm->found[i].addr) ||
		    ttl < 0 || ttl > UINT32_MAX)
			return -EINVAL;
		nm->found[i].ttl = (uint32_t)ttl;
	}
	nm->n_found = json_array_size(j);
	return 0;
}

static int name_load(const json_t *j, const struct policy *p, struct resolve_name *nm)
{
	const char *name, *msg = NULL;
	json_int_t index;
	int role, status, kp, line, col;
	json_t *kept, *v;
	size_t i;

	if (json_unpack((json_t *)j, "{s:s, s:i, s:I, s:i, s?s, s:o, s:b, s:i, s:i}", "name",
			&name, "role", &role, "index", &index, "status", &status, "message", &msg,
			"kept", &kept, "kept_previous", &kp, "line", &line, "column", &col) ||
	    (role != RESOLVE_ROLE_UPSTREAM && role != RESOLVE_ROLE_PEER) || index < 0 ||
	    (size_t)index >= (role == RESOLVE_ROLE_PEER ? p->n_peers : p->n_upstreams) ||
	    status < RESOLVE_OK || status > RESOLVE_ERROR || !json_is_array(kept))
		return -EINVAL;
	nm->name = xstrdup(name);
	nm->role = (enum resolve_role)role;
	nm->index = (size_t)index;
	nm->status = (enum resolve_status)status;
	nm->message = msg ? xstrdup(msg) : NULL;
	nm->kept_previous = kp;
	nm->loc = (struct loc){ p->path, (unsigned)line, (unsigned)col };
	nm->addrs = xcalloc(json_array_size(kept) + 1, sizeof(*nm->addrs));
	json_array_foreach(kept, i, v)
		if (addr_load(v, &nm->addrs[nm->n_kept++]))
			return -EINVAL;
	return found_load(json_object_get(j, "found"), nm);
}

int privsep_resolved_load(const json_t *j, const struct policy *p, struct resolved **out)
{
	json_t *names = json_object_get(j, "names"), *v;
	struct resolved *r = xcalloc(1, sizeof(*r));
	json_int_t q = 0, rt = 0;
	size_t i;

	*out = r;
	if (!json_is_array(names) || json_unpack((json_t *)j, "{s:I, s:I}", "queries", &q,
						 "retries", &rt) || q < 0 || rt < 0)
		return -EINVAL;
	r->queries_sent = (size_t)q;
	r->retries = (size_t)rt;
	r->names = xcalloc(json_array_size(names) + 1, sizeof(*r->names));
	json_array_foreach(names, i, v)
		if (name_load(v, p, &r->names[r->n_names++]))
			return -EINVAL;
	if (addrs_load(json_object_get(j, "upstreams"), p->n_upstreams, &r->upstreams,
		       &r->n_upstreams) ||
	    addrs_load(json_object_get(j, "peers"), p->n_peers, &r->peers, &r->n_peers))
		return -EINVAL;
	return 0;
}

json_t *privsep_diags_json(const struct diags *d)
{
	json_t *a = json_array();

	for (size_t i = 0; i < d->n; i++) {
		const struct diag *g = &d->v[i];

		json_array_append_new(a, json_pack("{s:i, s:i, s:i, s:i, s:s, s:s*}", "line",
						   (int)g->loc.line, "column", (int)g->loc.column,
						   "severity", (int)g->severity, "code", (int)g->code,
						   "msg", g->msg, "hint", g->hint));
	}
	return a;
}

int privsep_diags_load(const json_t *j, const char *file, struct diags *d)
{
	size_t i;
	json_t *v;

	if (!json_is_array(j))
		return -EINVAL;
	json_array_foreach(j, i, v) {
		int line, col, sev, code;
		const char *msg, *hint = NULL;
		struct loc l;

		if (json_unpack(v, "{s:i, s:i, s:i, s:i, s:s, s?s}", "line", &line, "column", &col,
				"severity", &sev, "code", &code, "msg", &msg, "hint", &hint) ||
		    sev < DIAG_ERROR || sev > DIAG_NOTE || line < 0 || col < 0)
			return -EINVAL;
		l = (struct loc){ line ? file : NULL, (unsigned)line, (unsigned)col };
		diag_add(d, line ? &l : NULL, (enum diag_severity)sev, (enum diag_code)code, "%s",
			 msg);
		if (hint)
			diag_hint(d, "%s", hint);
	}
	return 0;
}

static json_t *result_j(const struct probe_result *r)
{
	return json_pack("{s:s, s:o, s:i, s:i, s:s, s:b, s:b, s:b, s:i, s:i, s:i, s:i, s:I, s:s, "
			 "s:I, s:I, s:I, s:i, s:i}", "name", r->name, "addr", addr_j(&r->addr),
			 "port", r->port, "status", (int)r->status, "reason", r->reason, "warn",
			 r->warn, "has_sample", r->has_sample, "truechimer", r->truechimer, "leap",
			 r->leap, "version", r->version, "stratum", r->stratum, "precision",
			 r->precision, "refid", (json_int_t)r->refid, "refid_str", r->refid_str,
			 "offset", (json_int_t)r->offset, "delay", (json_int_t)r->delay,
			 "root_distance", (json_int_t)r->root_distance, "samples_sent",
			 (int)r->samples_sent, "samples_ok", (int)r->samples_ok);
}

json_t *privsep_probe_json(const struct probe_results *r)
{
	json_t *v = json_array();

	if (!r)
		return json_null();
	for (size_t i = 0; i < r->n; i++)
		json_array_append_new(v, result_j(&r->v[i]));
	return json_pack("{s:o, s:I, s:I, s:b, s:b, s:I, s:I, s:I}", "v", v, "candidates",
			 (json_int_t)r->selection.candidates, "truechimers",
			 (json_int_t)r->selection.truechimers, "ran", r->selection.ran,
			 "majority", r->selection.majority, "low", (json_int_t)r->selection.low_ns,
			 "high", (json_int_t)r->selection.high_ns, "max_inflight",
			 (json_int_t)r->max_inflight);
}

static int result_load(const json_t *j, struct probe_result *r)
{
	const char *name, *reason, *refid_str;
	int port, status, warn, hs, tc, leap, ver, st, prec, sent, okc;
	json_int_t refid, off, delay, rd;

	if (json_unpack((json_t *)j, "{s:s, s:i, s:i, s:s, s:b, s:b, s:b, s:i, s:i, s:i, s:i, s:I, "
			"s:s, s:I, s:I, s:I, s:i, s:i}", "name", &name, "port", &port, "status",
			&status, "reason", &reason, "warn", &warn, "has_sample", &hs, "truechimer",
			&tc, "leap", &leap, "version", &ver, "stratum", &st, "precision", &prec,
			"refid", &refid, "refid_str", &refid_str, "offset", &off, "delay", &delay,
			"root_distance", &rd, "samples_sent", &sent, "samples_ok", &okc) ||
	    addr_load(json_object_get(j, "addr"), &r->addr) || port < 0 || port > 65535 ||
	    status < PROBE_OK || status >= PROBE_STATUS_COUNT || leap < 0 || leap > 3 ||
	    ver < 0 || ver > 7 || st < 0 || st > 255 || prec < -128 || prec > 127 ||
	    strlen(refid_str) >= sizeof(r->refid_str) || sent < 0 || okc < 0)
		return -EINVAL;
	r->name = xstrdup(name);
	r->reason = xstrdup(reason);
	r->port = (uint16_t)port;
	r->status = (enum probe_status)status;
	r->warn = warn;
	r->has_sample = hs;
	r->truechimer = tc;
	r->leap = (uint8_t)leap;
	r->version = (uint8_t)ver;
	r->stratum = (uint8_t)st;
	r->precision = (int8_t)prec;
	r->refid = (uint32_t)refid;
	snprintf(r->refid_str, sizeof(r->refid_str), "%s", refid_str);
	r->offset = off;
	r->delay = delay;
	r->root_distance = rd;
	r->samples_sent = (unsigned)sent;
	r->samples_ok = (unsigned)okc;
	return 0;
}

int privsep_probe_load(const json_t *j, size_t n, struct probe_results **out)
{
	json_t *v = json_object_get(j, "v"), *e;
	struct probe_results *r;
	json_int_t cand, tc, low, high, mi;
	int ran, maj;
	size_t i;

	*out = NULL;
	if (!json_is_array(v) || json_array_size(v) != n ||
	    json_unpack((json_t *)j, "{s:I, s:I, s:b, s:b, s:I, s:I, s:I}", "candidates", &cand,
			"truechimers", &tc, "ran", &ran, "majority", &maj, "low", &low, "high",
			&high, "max_inflight", &mi) || cand < 0 || tc < 0 || mi < 0)
		return -EINVAL;
	r = xcalloc(1, sizeof(*r));
	r->v = xcalloc(n + 1, sizeof(*r->v));
	*out = r;
	json_array_foreach(v, i, e) {
		r->n++;
		if (result_load(e, &r->v[i]))
			return -EINVAL;
	}
	r->selection = (struct probe_selection){ (size_t)cand, (size_t)tc, ran, maj, low, high };
	r->max_inflight = (size_t)mi;
	return 0;
}
