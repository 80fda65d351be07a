/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Rulesets to diff: both sides rendered by render_nft() in listing mode
 * (what `nft list table` shows, one element per line, no counters), or for
 * the iptables backend by render_iptables() (what iptables-save shows), then
 * diff_text(). Kept apart from diff.c so the text diff links without the
 * renderers. */
#include "ntpwall/diff.h"
#include "ntpwall/render.h"

#include <errno.h>
#include <sys/socket.h>
#include <stdlib.h>

/* Into a new buffer: rs as the nft listing, or with iptables as the
 * iptables-restore text of both families. */
static int render(const struct ir_ruleset *rs, bool iptables, char **buf, size_t *len)
{
	struct render_opts o = { .listing = true };
	FILE *f;
	int ret = 0;

	*buf = NULL;
	*len = 0;
	f = open_memstream(buf, len);
	if (!f)
		return -errno;
	if (rs && iptables) {
		ret = render_iptables(rs, AF_INET, &o, f);
		if (!ret)
			ret = render_iptables(rs, AF_INET6, &o, f);
	} else if (rs) {
		ret = render_nft(rs, &o, f);
	}
	if (fclose(f) && !ret)
		ret = -EIO;
	if (ret) {
		free(*buf);
		*buf = NULL;
	}
	return ret;
}

/* Both sides in one notation: iptables' when both render so. */
static int render_both(const struct ir_ruleset *live, const struct ir_ruleset *wanted,
		       bool iptables, char **a, size_t *alen, char **b, size_t *blen)
{
	int ret;

	if (iptables && !render(live, true, a, alen)) {
		if (!render(wanted, true, b, blen))
			return 0;
		free(*a);
	}
	ret = render(live, false, a, alen);
	if (!ret)
		ret = render(wanted, false, b, blen);
	return ret;
}

int diff_rulesets(const struct ir_ruleset *live, const struct ir_ruleset *wanted, bool iptables,
		  const char *label_live, const char *label_wanted, FILE *out, bool *differs)
{
	char *a = NULL, *b = NULL;
	size_t alen, blen;
	int ret;

	*differs = false;
	if ((!live && !wanted) || (live && wanted && ir_ruleset_equal(live, wanted)))
		return 0;
	ret = render_both(live, wanted, iptables, &a, &alen, &b, &blen);
	if (!ret)
		ret = diff_text(a, alen, b, blen, label_live, label_wanted, out, differs);
	/* Unequal but rendered alike (e.g. an element comment or timeout the
	 * listing leaves out): still a difference, say so. */
	if (!ret && !*differs) {
		*differs = true;
		fprintf(out, "--- %s\n+++ %s\n@@ differences not visible in the listing "
			"(element comments, timeouts or unknown expressions) @@\n",
			label_live, label_wanted);
	}
	free(a);
	free(b);
	return ret;
}
