/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Test helper: render a policy for one target with the deterministic fake
 * resolution of fake_resolved.c, so golden files need no DNS.
 * Usage: golden_render POLICY nft|nft-listing|nft-payload|iptables|ip6tables|chrony|ntpd
 * Exit 0 on success, 2 on a policy or compile error (diagnostics on stderr). */
#include "fake_resolved.h"
#include "golden_payload.h"
#include "ntpwall/compile.h"
#include "ntpwall/render.h"

#include <string.h>
#include <sys/socket.h>

static int render(const char *target, const struct ir_ruleset *rs, struct render_opts *o)
{
	if (!strcmp(target, "nft"))
		return render_nft(rs, o, stdout);
	if (!strcmp(target, "nft-listing")) {
		o->listing = true;
		o->kernel_layout = true;
		return render_nft(rs, o, stdout);
	}
	if (!strcmp(target, "nft-payload"))
		return golden_payload(rs, stdout);
	if (!strcmp(target, "iptables"))
		return render_iptables(rs, AF_INET, o, stdout);
	if (!strcmp(target, "ip6tables"))
		return render_iptables(rs, AF_INET6, o, stdout);
	if (!strcmp(target, "chrony"))
		return render_chrony(rs, o, stdout);
	if (!strcmp(target, "ntpd"))
		return render_ntpd(rs, o, stdout);
	fprintf(stderr, "golden_render: unknown target %s\n", target);
	return -1;
}

int main(int argc, char **argv)
{
	struct policy *p = NULL;
	struct resolved *r = NULL;
	struct ir_ruleset *rs = NULL;
	struct diags d;
	int rc = 2;

	if (argc != 3) {
		fprintf(stderr, "usage: golden_render POLICY TARGET\n");
		return 2;
	}
	diag_init(&d, 0);
	if (policy_load(argv[1], &d, &p))
		goto out;
	r = fake_resolved(p);
	if (compile_policy(p, r, &d, &rs))
		goto out;
	{
		/* The golden files must not depend on where the tree lives. */
		const char *base = strrchr(p->path, '/');
		char *saved = p->path;
		struct render_opts o = { .policy = p, .resolved = r };

		p->path = (char *)(base ? base + 1 : saved);
		rc = render(argv[2], rs, &o) ? 2 : 0;
		p->path = saved;
	}
out:
	for (size_t i = 0; i < d.n; i++)
		fprintf(stderr, "%s:%u:%u: %s\n", d.v[i].loc.file ? d.v[i].loc.file : "",
			d.v[i].loc.line, d.v[i].loc.column, d.v[i].msg);
	diag_free(&d);
	ir_ruleset_free(rs);
	resolve_free(r);
	policy_free(p);
	return rc;
}
