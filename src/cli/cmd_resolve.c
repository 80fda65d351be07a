/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ntpwall resolve POLICY: the addresses the policy's names give, with TTLs
 * and the names behind each, as a table or JSON. Needs no root; sends DNS
 * queries only for names (a policy of literal addresses sends none). */
#include "cli.h"
#include "ntpwall/privsep.h"
#include "ntpwall/policy.h"
#include "ntpwall/resolve.h"
#include "ntpwall/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <string.h>

enum { OPT_FORMAT = 'f', OPT_SERVER = 256, OPT_PREVIOUS, OPT_SEED };

static const struct cli_option resolve_opts[] = {
	{ "format", OPT_FORMAT, "FMT", "text (default) or json" },
	{ "server", OPT_SERVER, "ADDR[:PORT]", "ask this resolver (repeatable; [V6]:PORT for IPv6)" },
	{ "previous", OPT_PREVIOUS, "FILE", "JSON of an earlier run: keep its pool choice" },
	{ "seed", OPT_SEED, "STRING", "pool choice seed (default /etc/machine-id)" },
	{ "help", 'h', NULL, "show this help" },
	{ 0 }
};

struct resolve_args {
	enum report_format format;
	char *servers;		/* comma-separated, c-ares CSV form */
	const char *previous;
	const char *seed;
};

/* One "ADDR", "IPV4:PORT", "IPV6" or "[IPV6]:PORT" (c-ares's CSV items);
 * c-ares 1.18 skips what it cannot parse, so check here. */
static bool server_item_ok(const char *s, size_t len)
{
	char buf[INET6_ADDRSTRLEN + 16], *addr = buf, *port = NULL;
	struct addr a;
	unsigned long n;

	if (!len || len >= sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (buf[0] == '[') {
		char *end = strchr(buf, ']');

		if (!end || (end[1] && end[1] != ':'))
			return false;
		*end = '\0';
		addr = buf + 1;
		port = end[1] ? end + 2 : NULL;
	} else if ((port = strchr(buf, ':')) && !strchr(port + 1, ':')) {
		*port++ = '\0';
	} else {
		port = NULL;	/* none, or a bare IPv6 address */
	}
	if (port && policy_parse_uint(port, 1, 65535, &n))
		return false;
	return !addr_parse(addr, &a);
}

static bool server_ok(const char *s)
{
	do {
		size_t len = strcspn(s, ",");

		if (!server_item_ok(s, len))
			return false;
		s += len;
	} while (*s++);
	return true;
}

static int resolve_opt(int key, const char *arg, void *data)
{
	struct resolve_args *a = data;
	char *s;
	int f;

	switch (key) {
	case OPT_FORMAT:
		f = report_format_parse(arg, REPORT_JSON);
		if (f < 0) {
			cli_error("--format %s: expected text or json", arg);
			return -1;
		}
		a->format = f;
		break;
	case OPT_SERVER:
		if (!server_ok(arg)) {
			cli_error("--server %s: expected ADDR, ADDR:PORT or [IPV6]:PORT", arg);
			return -1;
		}
		s = a->servers ? xasprintf("%s,%s", a->servers, arg) : xstrdup(arg);
		free(a->servers);
		a->servers = s;
		break;
	case OPT_PREVIOUS:
		a->previous = arg;
		break;
	case OPT_SEED:
		a->seed = arg;
		break;
	}
	return 0;
}

static int load_previous(const char *path, struct resolved **out)
{
	json_error_t err;
	json_t *j = json_load_file(path, 0, &err);
	int ret;

	if (!j) {
		cli_error("resolve: --previous %s: %s (line %d)", path, err.text, err.line);
		return -EINVAL;
	}
	ret = resolve_from_json(j, out);
	json_decref(j);
	if (ret)
		cli_error("resolve: --previous %s: not the JSON of 'ntpwall resolve'", path);
	return ret;
}

static const char *origin_name(const struct policy *p, bool peer, size_t i)
{
	return peer ? p->peers[i].name : p->upstreams[i].host.name;
}

static char *origins_str(const struct policy *p, bool peer, const struct resolve_addr *a)
{
	char *s = xstrdup("");

	for (size_t j = 0; j < a->n_origins; j++) {
		size_t o = a->origins[j];
		bool literal = peer ? p->peers[o].literal : p->upstreams[o].host.literal;
		char *t = xasprintf("%s%s%s%s", s, j ? ", " : "", origin_name(p, peer, o),
				    literal ? " (literal)" : "");

		free(s);
		s = t;
	}
	return s;
}

static int addr_width(const struct resolve_addr *v, size_t n, int w)
{
	char buf[INET6_ADDRSTRLEN];

	for (size_t i = 0; i < n; i++) {
		int len = (int)strlen(addr_str(&v[i].addr, buf, sizeof(buf)));

		if (len > w)
			w = len;
	}
	return w;
}

static void print_addrs(const struct policy *p, const struct resolve_addr *v, size_t n, bool peer,
			int w)
{
	for (size_t i = 0; i < n; i++) {
		char addr[INET6_ADDRSTRLEN], ttl[16];
		char *origins = origins_str(p, peer, &v[i]);

		if (v[i].ttl == RESOLVE_TTL_LITERAL)
			strcpy(ttl, "-");
		else
			snprintf(ttl, sizeof(ttl), "%u", v[i].ttl);
		printf("%-*s %-6s %-10s %-8s %-3s %s\n", w, addr_str(&v[i].addr, addr, sizeof(addr)),
		       v[i].addr.family == AF_INET ? "ipv4" : "ipv6", ttl,
		       peer ? "peer" : "upstream", v[i].nts ? "yes" : "no", origins);
		free(origins);
	}
}

static void print_text(const struct policy *p, const struct resolved *r)
{
	int w = addr_width(r->peers, r->n_peers, addr_width(r->upstreams, r->n_upstreams, 7));

	printf("%-*s %-6s %-10s %-8s %-3s %s\n", w, "ADDRESS", "FAMILY", "TTL", "ROLE", "NTS",
	       "ORIGIN");
	print_addrs(p, r->upstreams, r->n_upstreams, false, w);
	print_addrs(p, r->peers, r->n_peers, true, w);
	w = 4;
	for (size_t i = 0; i < r->n_names; i++)
		if ((int)strlen(r->names[i].name) > w)
			w = (int)strlen(r->names[i].name);
	if (r->n_names)
		printf("\n%-*s %-8s %-8s %5s %5s %s\n", w, "NAME", "ROLE", "STATUS", "FOUND", "KEPT",
		       "MESSAGE");
	for (size_t i = 0; i < r->n_names; i++) {
		const struct resolve_name *n = &r->names[i];

		printf("%-*s %-8s %-8s %5zu %5zu %s\n", w, n->name,
		       n->role == RESOLVE_ROLE_PEER ? "peer" : "upstream",
		       resolve_status_str(n->status), n->n_found, n->n_kept,
		       n->message ? n->message : "");
	}
	printf("\n%zu quer%s sent, %zu retr%s\n", r->queries_sent,
	       r->queries_sent == 1 ? "y" : "ies", r->retries, r->retries == 1 ? "y" : "ies");
}

static void print_json(const struct policy *p, const struct resolved *r)
{
	json_t *j = resolve_to_json(r, p);

	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(j);
}

static bool some_name_failed(const struct resolved *r)
{
	for (size_t i = 0; i < r->n_names; i++)
		if (r->names[i].status != RESOLVE_OK)
			return true;
	return false;
}

static int resolve_one(const char *path, const struct resolve_args *a, struct diags *d)
{
	struct resolve_options opt = { .servers = a->servers, .seed = a->seed };
	struct resolved *prev = NULL, *r = NULL;
	struct policy *p = NULL;
	int ret, rc;

	if (policy_load(path, d, &p))
		return RESOLVE_EXIT_ERROR;
	if (a->previous && load_previous(a->previous, &prev)) {
		policy_free(p);
		return RESOLVE_EXIT_ERROR;
	}
	opt.previous = prev;
	ret = privsep_net.resolve(&privsep_net, p, &opt, d, &r);
	if (ret && ret != -EINVAL)
		cli_error("resolve: %s", strerror(-ret));
	if (ret == -EINVAL && !some_name_failed(r))
		rc = RESOLVE_EXIT_ERROR;	/* a bad --server, say */
	else if (ret && ret != -EINVAL)
		rc = RESOLVE_EXIT_ERROR;
	else
		rc = ret ? RESOLVE_EXIT_UNRESOLVED : RESOLVE_EXIT_OK;
	if (rc != RESOLVE_EXIT_ERROR || some_name_failed(r)) {
		if (a->format == REPORT_JSON)
			print_json(p, r);
		else
			print_text(p, r);
	}
	resolve_free(r);
	resolve_free(prev);
	policy_free(p);
	return rc;
}

int cmd_resolve_main(int argc, char **argv)
{
	struct resolve_args a = { REPORT_TEXT, NULL, NULL, NULL };
	char *seed = NULL;
	struct diags d;
	int first, rc;

	first = cli_parse(argc, argv,
			  "ntpwall resolve POLICY [--format text|json] [--server ADDR[:PORT]]...",
			  resolve_opts, resolve_opt, &a);
	if (first == -2 || first < 0) {
		free(a.servers);
		return first == -2 ? RESOLVE_EXIT_OK : RESOLVE_EXIT_ERROR;
	}
	if (argc - first != 1) {
		cli_error("resolve: expected one policy (usage: ntpwall resolve POLICY)");
		free(a.servers);
		return RESOLVE_EXIT_ERROR;
	}
	if (!a.seed)
		a.seed = seed = cli_machine_seed();
	diag_init(&d, 0);
	rc = resolve_one(argv[first], &a, &d);
	diag_sort(&d);
	/* Diagnostics on stderr: stdout stays the table or the JSON document. */
	report_diags(stderr, &d, REPORT_TEXT);
	diag_free(&d);
	free(seed);
	free(a.servers);
	return rc;
}
