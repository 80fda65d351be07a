/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A resolve result as JSON (jansson), in the shape ntpwall(8) documents for
 * `ntpwall resolve --format json`, and back: the names with their kept
 * addresses are what the next run needs for a stable pool choice. */
#include "ntpwall/policy.h"
#include "ntpwall/resolve.h"
#include "ntpwall/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <string.h>

static const char *role_str(enum resolve_role r)
{
	return r == RESOLVE_ROLE_PEER ? "peer" : "upstream";
}

static json_t *addr_json(const struct addr *a)
{
	char buf[INET6_ADDRSTRLEN];

	return json_string(addr_str(a, buf, sizeof(buf)));
}

static const char *origin_name(const struct policy *p, enum resolve_role role, size_t i)
{
	return role == RESOLVE_ROLE_PEER ? p->peers[i].name : p->upstreams[i].host.name;
}

static void add_addrs(json_t *list, const struct resolve_addr *v, size_t n,
		      enum resolve_role role, const struct policy *p)
{
	for (size_t i = 0; i < n; i++) {
		const struct resolve_addr *a = &v[i];
		json_t *o = json_object(), *origins = json_array();

		for (size_t j = 0; j < a->n_origins; j++)
			json_array_append_new(origins,
					      json_string(origin_name(p, role, a->origins[j])));
		json_object_set_new(o, "address", addr_json(&a->addr));
		json_object_set_new(o, "family",
				    json_string(a->addr.family == AF_INET ? "ipv4" : "ipv6"));
		json_object_set_new(o, "ttl", a->ttl == RESOLVE_TTL_LITERAL ? json_null()
								: json_integer(a->ttl));
		json_object_set_new(o, "role", json_string(role_str(role)));
		json_object_set_new(o, "origins", origins);
		json_object_set_new(o, "nts", json_boolean(a->nts));
		json_array_append_new(list, o);
	}
}

static json_t *name_json(const struct resolve_name *n)
{
	json_t *o = json_object(), *addrs = json_array();

	for (size_t j = 0; j < n->n_kept; j++)
		json_array_append_new(addrs, addr_json(&n->addrs[j]));
	json_object_set_new(o, "name", json_string(n->name));
	json_object_set_new(o, "role", json_string(role_str(n->role)));
	json_object_set_new(o, "status", json_string(resolve_status_str(n->status)));
	json_object_set_new(o, "message", n->message ? json_string(n->message) : json_null());
	json_object_set_new(o, "found", json_integer((json_int_t)n->n_found));
	json_object_set_new(o, "kept", json_integer((json_int_t)n->n_kept));
	json_object_set_new(o, "addresses", addrs);
	/* refresh: the name failed and these are its last known addresses. */
	if (n->kept_previous)
		json_object_set_new(o, "kept_previous", json_true());
	return o;
}

json_t *resolve_to_json(const struct resolved *r, const struct policy *p)
{
	json_t *root = json_object(), *addrs = json_array(), *names = json_array();

	add_addrs(addrs, r->upstreams, r->n_upstreams, RESOLVE_ROLE_UPSTREAM, p);
	add_addrs(addrs, r->peers, r->n_peers, RESOLVE_ROLE_PEER, p);
	for (size_t i = 0; i < r->n_names; i++)
		json_array_append_new(names, name_json(&r->names[i]));
	json_object_set_new(root, "addresses", addrs);
	json_object_set_new(root, "names", names);
	json_object_set_new(root, "queries", json_integer((json_int_t)r->queries_sent));
	json_object_set_new(root, "retries", json_integer((json_int_t)r->retries));
	return root;
}

static enum resolve_status status_parse(const char *s)
{
	for (int i = RESOLVE_OK; i <= RESOLVE_ERROR; i++)
		if (!strcmp(s, resolve_status_str(i)))
			return i;
	return RESOLVE_ERROR;
}

static int name_from_json(const json_t *o, struct resolve_name *n)
{
	const char *name = NULL, *role = NULL, *status = "ok";
	json_t *addrs = NULL;
	size_t i;
	json_t *v;

	if (json_unpack((json_t *)o, "{s:s, s:s, s?s, s:o}", "name", &name, "role", &role,
			"status", &status, "addresses", &addrs) || !json_is_array(addrs))
		return -EINVAL;
	if (strcmp(role, "upstream") && strcmp(role, "peer"))
		return -EINVAL;
	n->name = xstrdup(name);
	n->role = strcmp(role, "peer") ? RESOLVE_ROLE_UPSTREAM : RESOLVE_ROLE_PEER;
	n->status = status_parse(status);
	n->addrs = xcalloc(json_array_size(addrs) + 1, sizeof(*n->addrs));
	json_array_foreach(addrs, i, v) {
		if (!json_is_string(v) || addr_parse(json_string_value(v), &n->addrs[i]))
			return -EINVAL;
		n->n_kept++;
	}
	n->n_found = n->n_kept;
	return 0;
}

int resolve_from_json(const json_t *j, struct resolved **out)
{
	json_t *names = json_object_get(j, "names"), *v;
	struct resolved *r;
	size_t i;

	*out = NULL;
	if (!json_is_array(names))
		return -EINVAL;
	r = xcalloc(1, sizeof(*r));
	r->names = xcalloc(json_array_size(names) + 1, sizeof(*r->names));
	json_array_foreach(names, i, v) {
		/* Counted before the check: a half-read name is freed too. */
		if (name_from_json(v, &r->names[r->n_names++])) {
			resolve_free(r);
			return -EINVAL;
		}
	}
	*out = r;
	return 0;
}
