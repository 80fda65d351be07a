/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The host's other firewalls, as apply, status and probe check them: the
 * base chains both backends list (backend_ops.host_chains: nft tables and
 * legacy iptables tables, whichever the wall is made of) judged by
 * hostfw_check() for the upstreams' address families. A chain that would
 * drop NTP is a warning (NW508) with the rule to add, or a status line;
 * the probe is the proof. */
#include "engine_int.h"
#include "ntpwall/compile.h"
#include "ntpwall/hostfw.h"
#include "ntpwall/util.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

unsigned eng_upstream_families(const struct resolved *r)
{
	unsigned f = 0;

	for (size_t i = 0; r && i < r->n_upstreams; i++)
		f |= r->upstreams[i].addr.family == AF_INET6 ? HOSTFW_V6 : HOSTFW_V4;
	return f;
}

unsigned eng_wall_families(const struct ir_ruleset *wall)
{
	const struct ir_set *s4, *s6;

	if (!wall)
		return HOSTFW_V4 | HOSTFW_V6;
	s4 = ir_set_find(wall, COMPILE_SET_UPSTREAMS4);
	s6 = ir_set_find(wall, COMPILE_SET_UPSTREAMS6);
	return (s4 && s4->n_elems ? HOSTFW_V4 : 0) | (s6 && s6->n_elems ? HOSTFW_V6 : 0);
}

/* The backend, opened without a word when none is: probe runs unprivileged
 * too, and then says nothing about what it cannot read. */
static int open_quietly(struct engine *e)
{
	const struct backend_ops *ops;
	struct backend *b;
	int ret;

	if (e->b)
		return 0;
	ops = e->cfg.backend ? e->cfg.backend : backend_find("nft");
	if (!ops)
		return -EOPNOTSUPP;
	ret = ops->open(&b);
	if (ret < 0)
		return ret;
	e->ops = ops;
	e->b = b;
	return 0;
}

/* The other kind of firewall into h too: a legacy iptables chain drops NTP
 * under an nft wall as surely as an nft chain does under an iptables one.
 * What cannot be read there (no nf_tables, no permission) is passed over:
 * the wall's own kind of firewall is the one the operator chose. */
static int read_other(struct engine *e, const char *own_table, struct hostfw *h)
{
	const struct backend_ops *ops = e->ops == &backend_nft_ops ? &backend_ipt_ops :
					e->ops == &backend_ipt_ops ? &backend_nft_ops : NULL;
	struct hostfw other = { 0 };
	struct backend *b;
	int ret;

	/* A backend of the tests' own stands alone. */
	if (!ops || !ops->host_chains)
		return 0;
	ret = ops->open(&b);
	if (ret < 0)
		return engine_host_firewall_quiet(ret) ? 0 : ret;
	ret = ops->host_chains(b, own_table, &other);
	ops->close(b);
	if (ret < 0)
		return engine_host_firewall_quiet(ret) ? 0 : ret;
	/* Moved, not merged: a legacy table filter is not iptables-nft's
	 * table ip filter. */
	for (size_t i = 0; i < other.n; i++) {
		xgrow((void **)&h->v, &h->cap, h->n, sizeof(*h->v));
		h->v[h->n++] = other.v[i];
	}
	h->truncated |= other.truncated;
	free(other.v);
	return 0;
}

int engine_host_firewall(struct engine *e, const char *own_table, unsigned families,
			 struct hostfw_findings *out)
{
	struct hostfw h = { 0 };
	int ret;

	memset(out, 0, sizeof(*out));
	if (!families)
		return 0;
	ret = open_quietly(e);
	if (ret < 0)
		return ret;
	if (!e->ops->host_chains)
		return -EOPNOTSUPP;
	ret = e->ops->host_chains(e->b, own_table, &h);
	if (!ret)
		ret = read_other(e, own_table, &h);
	if (!ret)
		hostfw_check(&h, families, out);
	hostfw_free(&h);
	return ret;
}

bool engine_host_firewall_quiet(int err)
{
	return err == -EPERM || err == -EACCES || err == -EPROTONOSUPPORT ||
	       err == -EAFNOSUPPORT || err == -EOPNOTSUPP;
}

char *engine_host_firewall_trouble(int err, const struct hostfw_findings *f)
{
	if (err == -EOPNOTSUPP)
		return NULL;
	if (err < 0)
		return xasprintf("cannot read the other tables' chains to see whether they let NTP "
				 "through: %s", strerror(-err));
	if (f->truncated)
		return xasprintf("the other tables hold more than %u rules (or %u chains on the "
				 "input and output hooks): those past it were not checked for NTP",
				 HOSTFW_MAX_RULES, HOSTFW_MAX_CHAINS);
	return NULL;
}

size_t eng_warn_host_firewall(struct engine *e, const char *own_table, unsigned families)
{
	struct hostfw_findings f;
	int ret = engine_host_firewall(e, own_table, families, &f);
	char *trouble = engine_host_firewall_trouble(ret, &f);
	size_t n = f.n;

	for (size_t i = 0; i < f.n; i++)
		eng_warn(e, NW508_HOST_FIREWALL, "%s", f.v[i].msg);
	if (trouble)
		eng_warn(e, NW508_HOST_FIREWALL, "%s", trouble);
	free(trouble);
	hostfw_findings_free(&f);
	return n;
}

void eng_status_host_firewall(struct engine *e, struct engine_status *s)
{
	const struct ir_ruleset *wall = e->live ? e->live : s->latest ? s->latest->rs : NULL;
	struct hostfw_findings f;
	char *trouble;
	int ret;

	/* No wall to keep NTP to: nothing to check it against. */
	if (!wall)
		return;
	ret = engine_host_firewall(e, s->table, eng_wall_families(wall), &f);
	trouble = engine_host_firewall_trouble(ret, &f);
	s->host_firewall = xcalloc(f.n + 1, sizeof(*s->host_firewall));
	for (size_t i = 0; i < f.n; i++)
		s->host_firewall[s->n_host_firewall++] = xstrdup(f.v[i].msg);
	if (trouble)
		eng_warn(e, NW508_HOST_FIREWALL, "%s", trouble);
	free(trouble);
	hostfw_findings_free(&f);
}
