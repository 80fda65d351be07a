/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The resolver's DNS half: every A and AAAA query of a policy in flight at
 * once on one c-ares channel, answers parsed by c-ares (ares_parse_a_reply,
 * ares_parse_aaaa_reply) with their TTLs, failures kept per name. */
#include "resolve_int.h"
#include "ntpwall/util.h"

#include <ares.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>

/* What the queries of one family of one name came to. */
struct family_state {
	unsigned answered;	/* NOERROR, with or without addresses */
	unsigned nxdomain;
	int failure;		/* last other c-ares status, 0 if none */
};

struct engine {
	ares_channel ch;
	struct pollfd *fds;
	size_t n_fds, cap_fds;
	struct resolved *r;
	struct resolve_acc *acc;
	struct family_state (*fam)[2];	/* [name][0 = IPv4, 1 = IPv6] */
	size_t pending;
	unsigned attempts;
};

#define RESOLVE_DEADLINE_MARGIN_MS 100

struct query {
	struct engine *e;
	size_t name;
	int family;
	unsigned sends;		/* times ntpwall asked c-ares for it */
};

/* c-ares tells which sockets to watch; poll() then has no FD_SETSIZE limit
 * and no ARES_GETSOCK_MAXNUM cap on the number of resolvers. */
static void sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct engine *e = data;
	size_t i;

	for (i = 0; i < e->n_fds && e->fds[i].fd != fd; i++)
		;
	if (!readable && !writable) {
		if (i < e->n_fds)
			e->fds[i] = e->fds[--e->n_fds];
		return;
	}
	if (i == e->n_fds) {
		xgrow((void **)&e->fds, &e->cap_fds, e->n_fds, sizeof(*e->fds));
		e->n_fds++;
	}
	e->fds[i] = (struct pollfd){ .fd = fd,
				     .events = (readable ? POLLIN : 0) | (writable ? POLLOUT : 0) };
}

/* Upper bound on the records of one answer: a DNS message is at most 64 KiB
 * and an A record takes at least 16 bytes (compressed name, header, data). */
static int max_records(int alen)
{
	return alen / 16 + 1;
}

/* A name that gives 127.0.0.1 (a lying or misconfigured DNS) must not
 * open the wall to the host itself, or let the host's own daemon pass a
 * probe for a missing upstream. */
static void take(struct resolve_acc *acc, const struct addr *a, int ttl)
{
	if (addr_special(a)) {
		if (!acc->n_special++)
			acc->special = *a;
		return;
	}
	resolve_acc_add(acc, a, ttl < 0 ? 0 : (uint32_t)ttl);
}

static void take_a(struct engine *e, size_t name, const unsigned char *abuf, int alen)
{
	int n = max_records(alen);
	struct ares_addrttl *v = xcalloc(n, sizeof(*v));

	if (ares_parse_a_reply(abuf, alen, NULL, v, &n) == ARES_SUCCESS) {
		for (int i = 0; i < n; i++) {
			struct addr a = { .family = AF_INET, .v4 = v[i].ipaddr };

			take(&e->acc[name], &a, v[i].ttl);
		}
	}
	free(v);
}

static void take_aaaa(struct engine *e, size_t name, const unsigned char *abuf, int alen)
{
	int n = max_records(alen);
	struct ares_addr6ttl *v = xcalloc(n, sizeof(*v));

	if (ares_parse_aaaa_reply(abuf, alen, NULL, v, &n) == ARES_SUCCESS) {
		for (int i = 0; i < n; i++) {
			struct addr a = { .family = AF_INET6 };

			memcpy(a.v6.s6_addr, &v[i].ip6addr, sizeof(a.v6.s6_addr));
			take(&e->acc[name], &a, v[i].ttl);
		}
	}
	free(v);
}

static void send_query(struct engine *e, struct query *q);

/* A timeout, SERVFAIL or REFUSED is asked again, up to `attempts` times;
 * with ARES_OPT_ROTATE the new try goes to the next resolver. */
static bool try_again(struct query *q, int status)
{
	if (status != ARES_ETIMEOUT && status != ARES_ESERVFAIL && status != ARES_EREFUSED)
		return false;
	if (q->sends >= q->e->attempts)
		return false;
	q->e->r->retries++;
	send_query(q->e, q);
	return true;
}

/* Statuses that only a DNS server's reply gives: the others (timeout,
 * connection refused, cancelled) mean that no resolver answered. */
static bool is_reply(int status)
{
	switch (status) {
	case ARES_SUCCESS:
	case ARES_ENODATA:
	case ARES_ENOTFOUND:
	case ARES_ESERVFAIL:
	case ARES_EREFUSED:
	case ARES_EFORMERR:
	case ARES_ENOTIMP:
	case ARES_EBADRESP:
		return true;
	default:
		return false;
	}
}

static void on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct query *q = arg;
	struct engine *e = q->e;
	struct family_state *f = &e->fam[q->name][q->family == AF_INET6];

	if (is_reply(status))
		e->r->replies++;

	/* c-ares moved on to the next resolver after each timeout but the
	 * last, when the query ended with one. */
	if (timeouts > 0) {
		size_t resent = (size_t)timeouts - (status == ARES_ETIMEOUT);

		e->r->retries += resent;
		e->r->queries_sent += resent;
	}
	e->pending--;
	if (try_again(q, status))
		return;
	if (status == ARES_SUCCESS || status == ARES_ENODATA) {
		f->answered++;
		if (status == ARES_SUCCESS && q->family == AF_INET)
			take_a(e, q->name, abuf, alen);
		else if (status == ARES_SUCCESS)
			take_aaaa(e, q->name, abuf, alen);
	} else if (status == ARES_ENOTFOUND) {
		f->nxdomain++;
	} else {
		f->failure = status;
	}
	free(q);
}

static void send_query(struct engine *e, struct query *q)
{
	q->sends++;
	e->pending++;
	e->r->queries_sent++;
	/* ares_query, not ares_search: policy names are absolute. */
	ares_query(e->ch, e->r->names[q->name].name, ns_c_in,
		   q->family == AF_INET ? ns_t_a : ns_t_aaaa, on_answer, q);
}

static void send_new(struct engine *e, size_t name, int family)
{
	struct query *q = xmalloc(sizeof(*q));

	*q = (struct query){ e, name, family, 0 };
	send_query(e, q);
}

/* A pool's queries of one type go out back to back: with ARES_OPT_ROTATE
 * they then reach successive resolvers, whose answers differ most. */
static void send_all(struct engine *e, const struct policy *p)
{
	for (size_t i = 0; i < e->r->n_names; i++) {
		const struct resolve_name *nm = &e->r->names[i];
		unsigned reps = 1;

		if (nm->role == RESOLVE_ROLE_UPSTREAM &&
		    p->upstreams[nm->index].kind == POLICY_UPSTREAM_POOL)
			reps = p->resolve.pool_queries ? p->resolve.pool_queries : 1;
		for (unsigned k = 0; k < reps && (p->families & POLICY_FAMILY_IPV4); k++)
			send_new(e, i, AF_INET);
		for (unsigned k = 0; k < reps && (p->families & POLICY_FAMILY_IPV6); k++)
			send_new(e, i, AF_INET6);
	}
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void process_ready(struct engine *e, const struct pollfd *ready, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		short ev = ready[i].revents;

		if (!ev)
			continue;
		ares_process_fd(e->ch,
				ev & (POLLIN | POLLERR | POLLHUP) ? ready[i].fd : ARES_SOCKET_BAD,
				ev & POLLOUT ? ready[i].fd : ARES_SOCKET_BAD);
	}
}

/* Every query gets one try per resolver per attempt, so c-ares's own
 * timeouts end the run within timeout x attempts x resolvers. The deadline
 * (that budget plus a margin for the lag of re-sends) is the backstop: what
 * is still unanswered then counts as a timeout. */
static int run(struct engine *e, int64_t budget_ms)
{
	int64_t deadline = now_ms() + budget_ms + RESOLVE_DEADLINE_MARGIN_MS;
	struct pollfd *snap = NULL;
	size_t cap = 0;
	int ret = 0;

	while (e->pending) {
		int64_t left = deadline - now_ms();
		struct timeval max = { 0 }, tv, *tvp;
		int n, ms;

		if (left <= 0)
			break;
		max.tv_sec = left / 1000;
		max.tv_usec = (left % 1000) * 1000;
		tvp = ares_timeout(e->ch, &max, &tv);
		ms = (int)(tvp->tv_sec * 1000 + (tvp->tv_usec + 999) / 1000);
		/* Sockets may open and close while c-ares processes one. */
		xgrow((void **)&snap, &cap, e->n_fds, sizeof(*snap));
		memcpy(snap, e->fds, e->n_fds * sizeof(*snap));
		n = poll(snap, e->n_fds, ms);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			break;
		}
		if (n == 0)
			ares_process_fd(e->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
		else
			process_ready(e, snap, e->n_fds);
	}
	free(snap);
	if (e->pending)
		ares_cancel(e->ch);	/* each callback then sees ARES_ECANCELLED */
	return ret;
}

static int64_t budget_ms(const struct policy *p, size_t servers)
{
	int64_t tries = p->resolve.attempts ? p->resolve.attempts : 1;

	return (int64_t)p->resolve.timeout_ms * tries * (int64_t)servers;
}

static int set_policy_servers(ares_channel ch, const struct policy *p)
{
	struct ares_addr_port_node *v = xcalloc(p->n_resolvers, sizeof(*v));
	int st;

	for (size_t i = 0; i < p->n_resolvers; i++) {
		const struct policy_resolver *s = &p->resolvers[i];

		v[i].next = i + 1 < p->n_resolvers ? &v[i + 1] : NULL;
		v[i].family = s->addr.family;
		memcpy(&v[i].addr, s->addr.bytes, s->addr.family == AF_INET ? 4 : 16);
		v[i].udp_port = s->port;
		v[i].tcp_port = s->port;
	}
	st = ares_set_servers_ports(ch, v);
	free(v);
	return st;
}

/* Counts the channel's resolvers (at least 1: c-ares falls back to
 * 127.0.0.1) and lists them into *desc as "ADDR:PORT,...". */
static size_t list_servers(ares_channel ch, char **desc)
{
	struct ares_addr_port_node *list = NULL;
	char *s = xstrdup("");
	size_t n = 0;

	if (ares_get_servers_ports(ch, &list) != ARES_SUCCESS) {
		*desc = s;
		return 1;
	}
	for (struct ares_addr_port_node *v = list; v; v = v->next, n++) {
		char addr[INET6_ADDRSTRLEN] = "?";
		char *more;

		inet_ntop(v->family, &v->addr, addr, sizeof(addr));
		/* Port 0: the channel's default, 53. */
		more = xasprintf(v->family == AF_INET6 ? "%s%s[%s]:%d" : "%s%s%s:%d", s,
				 n ? "," : "", addr, v->udp_port ? v->udp_port : NAMESERVER_PORT);
		free(s);
		s = more;
	}
	ares_free_data(list);
	*desc = s;
	return n ? n : 1;
}

static int engine_init(struct engine *e, const struct policy *p, const struct resolve_options *o,
		       struct diags *d)
{
	struct ares_options ao = { 0 };
	int st;

	/* NOCHECKRESP: c-ares 1.18 would turn a SERVFAIL or REFUSED from every
	 * resolver into "could not contact"; with it the real rcode arrives
	 * and try_again() asks the next resolver itself. One c-ares try per
	 * resolver (tries 1) so that the per-try timeout does not double. */
	ao.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_EDNS | ARES_FLAG_NOCHECKRESP;
	ao.ednspsz = 1232;	/* the DNS flag day 2020 size: no fragments */
	ao.timeout = (int)p->resolve.timeout_ms;
	ao.tries = 1;
	e->attempts = p->resolve.attempts ? p->resolve.attempts : 1;
	ao.sock_state_cb = sock_state;
	ao.sock_state_cb_data = e;
	st = ares_init_options(&e->ch, &ao, ARES_OPT_FLAGS | ARES_OPT_EDNSPSZ | ARES_OPT_TIMEOUTMS |
			       ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB | ARES_OPT_ROTATE);
	if (st != ARES_SUCCESS) {
		e->ch = NULL;
		diag_add(d, &p->loc, DIAG_ERROR, NW140_RESOLVE, "cannot start the resolver: %s",
			 ares_strerror(st));
		return st == ARES_ENOMEM ? -ENOMEM : -EIO;
	}
	if (o && o->servers)
		st = ares_set_servers_ports_csv(e->ch, o->servers);
	else if (p->n_resolvers)
		st = set_policy_servers(e->ch, p);
	if (st != ARES_SUCCESS)
		return diag_add(d, NULL, DIAG_ERROR, NW140_RESOLVE, "bad resolver list '%s': %s",
				o && o->servers ? o->servers : "resolvers", ares_strerror(st));
	return 0;
}

static void add_name(struct resolved *r, const struct policy_host *h, enum resolve_role role,
		     size_t index)
{
	struct resolve_name *n = &r->names[r->n_names++];

	n->name = xstrdup(h->name);
	n->role = role;
	n->index = index;
	n->loc = h->loc;
}

bool resolve_needs_dns(const struct policy *p)
{
	for (size_t i = 0; i < p->n_upstreams; i++)
		if (!p->upstreams[i].host.literal)
			return true;
	for (size_t i = 0; i < p->n_peers; i++)
		if (!p->peers[i].literal)
			return true;
	return false;
}

static struct resolved *new_result(const struct policy *p)
{
	struct resolved *r = xcalloc(1, sizeof(*r));

	r->names = xcalloc(p->n_upstreams + p->n_peers + 1, sizeof(*r->names));
	for (size_t i = 0; i < p->n_upstreams; i++)
		if (!p->upstreams[i].host.literal)
			add_name(r, &p->upstreams[i].host, RESOLVE_ROLE_UPSTREAM, i);
	for (size_t i = 0; i < p->n_peers; i++)
		if (!p->peers[i].literal)
			add_name(r, &p->peers[i], RESOLVE_ROLE_PEER, i);
	return r;
}

int resolve_from_choice(const struct policy *p, const struct resolved *choice,
			struct resolved **out)
{
	struct resolved *r = new_result(p);

	*out = NULL;
	for (size_t i = 0; i < r->n_names; i++) {
		struct resolve_name *nm = &r->names[i];
		const struct resolve_name *c = NULL;

		for (size_t j = 0; j < choice->n_names && !c; j++)
			if (choice->names[j].role == nm->role && !strcmp(choice->names[j].name, nm->name))
				c = &choice->names[j];
		if (!c) {
			resolve_free(r);
			return -ENOENT;
		}
		nm->addrs = xcalloc(c->n_kept + 1, sizeof(*nm->addrs));
		if (c->n_kept)
			memcpy(nm->addrs, c->addrs, c->n_kept * sizeof(*nm->addrs));
		nm->n_kept = nm->n_found = c->n_kept;
	}
	resolve_build_sets(r, p);
	*out = r;
	return 0;
}

static enum resolve_status status_of(int ares_status)
{
	switch (ares_status) {
	case ARES_ENOTFOUND:
		return RESOLVE_NXDOMAIN;
	case ARES_ENODATA:
		return RESOLVE_NODATA;
	case ARES_ESERVFAIL:
		return RESOLVE_SERVFAIL;
	case ARES_EREFUSED:
		return RESOLVE_REFUSED;
	case ARES_ETIMEOUT:
	case ARES_ECANCELLED:	/* our deadline */
	case ARES_EDESTRUCTION:
		return RESOLVE_TIMEOUT;
	default:
		return RESOLVE_ERROR;
	}
}

static const char *family_words(unsigned families)
{
	switch (families) {
	case POLICY_FAMILY_IPV4:
		return "IPv4";
	case POLICY_FAMILY_IPV6:
		return "IPv6";
	default:
		return "IPv4 or IPv6";
	}
}

static char *failure_message(const struct policy *p, const char *name, enum resolve_status s,
			     int ares_status)
{
	switch (s) {
	case RESOLVE_NXDOMAIN:
		return xasprintf("'%s' does not exist (NXDOMAIN)", name);
	case RESOLVE_NODATA:
		return xasprintf("'%s' has no %s address (NODATA)", name,
				 family_words(p->families));
	case RESOLVE_SERVFAIL:
		return xasprintf("the resolver could not resolve '%s' (SERVFAIL)", name);
	case RESOLVE_REFUSED:
		return xasprintf("the resolver refused to resolve '%s' (REFUSED)", name);
	case RESOLVE_TIMEOUT:
		return xasprintf("no answer for '%s' in time (timeout %llums, %u attempt%s)", name,
				 (unsigned long long)p->resolve.timeout_ms, p->resolve.attempts,
				 p->resolve.attempts == 1 ? "" : "s");
	default:
		return xasprintf("cannot resolve '%s': %s", name, ares_strerror(ares_status));
	}
}

/* A family failed when none of its queries got an answer. A name with some
 * address is resolved (a failed family is a warning); one without is
 * failed with the first hard failure, else NXDOMAIN, else NODATA. */
static enum resolve_status name_status(const struct policy *p, const struct resolve_acc *acc,
				       const struct family_state fam[2], int *ares_status)
{
	bool nx = false;

	for (int f = 0; f < 2; f++) {
		if (!(p->families & (f ? POLICY_FAMILY_IPV6 : POLICY_FAMILY_IPV4)))
			continue;
		if (!fam[f].answered && fam[f].failure && !acc->n) {
			*ares_status = fam[f].failure;
			return status_of(fam[f].failure);
		}
		if (!fam[f].answered && fam[f].nxdomain)
			nx = true;
	}
	if (acc->n)
		return RESOLVE_OK;
	*ares_status = nx ? ARES_ENOTFOUND : ARES_ENODATA;
	return nx ? RESOLVE_NXDOMAIN : RESOLVE_NODATA;
}

static void warn_failed_families(const struct policy *p, const struct resolve_name *nm,
				 const struct family_state fam[2], struct diags *d)
{
	for (int f = 0; f < 2; f++) {
		unsigned bit = f ? POLICY_FAMILY_IPV6 : POLICY_FAMILY_IPV4;

		if ((p->families & bit) && !fam[f].answered && fam[f].failure)
			diag_add(d, &nm->loc, DIAG_WARNING, NW140_RESOLVE,
				 "'%s': the %s query failed (%s); only its %s addresses are used",
				 nm->name, f ? "AAAA" : "A", ares_strerror(fam[f].failure),
				 f ? "IPv4" : "IPv6");
	}
}

/* The name's answers, kept, then its members chosen from them. */
static void keep_addresses(const struct policy *p, const struct resolve_options *o,
			   struct resolve_name *nm, const struct resolve_acc *acc)
{
	nm->n_found = acc->n;
	nm->found = xcalloc(acc->n + 1, sizeof(*nm->found));
	if (acc->n)
		memcpy(nm->found, acc->v, acc->n * sizeof(*nm->found));
	resolve_choose_name(p, o, nm);
}

/* A failed name takes the addresses it had last time, when the caller
 * allows it (refresh) and there were any. */
static bool keep_previous(const struct resolve_options *o, struct resolve_name *nm)
{
	const struct resolve_name *prev = NULL;

	for (size_t i = 0; o && o->previous && i < o->previous->n_names && !prev; i++)
		if (o->previous->names[i].role == nm->role &&
		    !strcmp(o->previous->names[i].name, nm->name))
			prev = &o->previous->names[i];

	if (!o || !o->keep_failed || !prev || !prev->n_kept)
		return false;
	free(nm->addrs);
	nm->addrs = xcalloc(prev->n_kept, sizeof(*nm->addrs));
	memcpy(nm->addrs, prev->addrs, prev->n_kept * sizeof(*nm->addrs));
	nm->n_kept = prev->n_kept;
	nm->kept_previous = true;
	return true;
}

static void warn_special(const struct resolve_name *nm, const struct resolve_acc *acc,
			 struct diags *d)
{
	char buf[INET6_ADDRSTRLEN];

	if (!acc->n_special)
		return;
	diag_add(d, &nm->loc, DIAG_WARNING, NW140_RESOLVE,
		 "'%s' gave %zu address%s no NTP server can have (%s, %s): not trusted", nm->name,
		 acc->n_special, acc->n_special == 1 ? "" : "es",
		 addr_str(&acc->special, buf, sizeof(buf)), addr_special(&acc->special));
}

static bool finish_names(struct engine *e, const struct policy *p,
			 const struct resolve_options *o, struct diags *d)
{
	bool all_ok = true;

	for (size_t i = 0; i < e->r->n_names; i++) {
		struct resolve_name *nm = &e->r->names[i];
		int ares_status = ARES_SUCCESS;

		nm->status = name_status(p, &e->acc[i], e->fam[i], &ares_status);
		keep_addresses(p, o, nm, &e->acc[i]);
		warn_special(nm, &e->acc[i], d);
		if (nm->status == RESOLVE_OK) {
			warn_failed_families(p, nm, e->fam[i], d);
			continue;
		}
		nm->message = failure_message(p, nm->name, nm->status, ares_status);
		if (keep_previous(o, nm)) {
			diag_add(d, &nm->loc, DIAG_WARNING, NW140_RESOLVE,
				 "%s; keeping its %zu last known address%s", nm->message, nm->n_kept,
				 nm->n_kept == 1 ? "" : "es");
			continue;
		}
		all_ok = false;
		diag_add(d, &nm->loc, DIAG_ERROR, NW140_RESOLVE, "%s", nm->message);
	}
	return all_ok;
}

/* The resolver could not run at all: no name has an answer. */
static void fail_all(struct resolved *r, int err)
{
	for (size_t i = 0; i < r->n_names; i++) {
		r->names[i].status = RESOLVE_ERROR;
		r->names[i].message = xasprintf("'%s' not resolved: %s", r->names[i].name,
						strerror(-err));
	}
}

static void engine_free(struct engine *e)
{
	if (e->ch)
		ares_destroy(e->ch);
	if (e->acc)
		for (size_t i = 0; i < e->r->n_names; i++)
			free(e->acc[i].v);
	free(e->acc);
	free(e->fam);
	free(e->fds);
}

int resolve_policy(const struct policy *p, const struct resolve_options *opt,
		   struct diags *d, struct resolved **out)
{
	struct engine e = { 0 };
	int ret;

	e.r = new_result(p);
	*out = e.r;
	/* Literals only: no channel, no resolver needed, nothing on the wire. */
	if (!e.r->n_names) {
		resolve_build_sets(e.r, p);
		return 0;
	}
	if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS) {
		fail_all(e.r, -ENOMEM);
		diag_add(d, &p->loc, DIAG_ERROR, NW140_RESOLVE, "cannot start the resolver: %s",
			 strerror(ENOMEM));
		return -ENOMEM;
	}
	e.acc = xcalloc(e.r->n_names, sizeof(*e.acc));
	e.fam = xcalloc(e.r->n_names, sizeof(*e.fam));
	ret = engine_init(&e, p, opt, d);
	if (!ret) {
		send_all(&e, p);
		ret = run(&e, budget_ms(p, list_servers(e.ch, &e.r->resolvers)));
		if (ret)
			diag_add(d, &p->loc, DIAG_ERROR, NW140_RESOLVE, "the resolver failed: %s",
				 strerror(-ret));
	}
	if (!ret && !finish_names(&e, p, opt, d))
		ret = -EINVAL;
	else if (ret)
		fail_all(e.r, ret);
	resolve_build_sets(e.r, p);
	engine_free(&e);
	ares_library_cleanup();
	return ret;
}
