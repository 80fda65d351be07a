/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Rulesets to diff: both sides rendered by render_nft() in listing mode
 * (what `nft list table` shows, one element per line, no counters), then
 * diff_text(). Kept apart from diff.c so the text diff links without the
 * renderers. */
#include "ntpwall/diff.h"
#include "ntpwall/render.h"

#include <errno.h>
#include <stdlib.h>

static int render(const struct ir_ruleset *rs, char **buf, size_t *len)
{
	struct render_opts o = { .listing = true };
	FILE *f;
	int ret = 0;

	*buf = NULL;
	*len = 0;
	f = open_memstream(buf, len);
	if (!f)
		return -errno;
	if (rs)
		ret = render_nft(rs, &o, f);
	if (fclose(f) && !ret)
		ret = -EIO;
	return ret;
}

int diff_rulesets(const struct ir_ruleset *live, const struct ir_ruleset *wanted,
		  const char *label_live, const char *label_wanted, FILE *out, bool *differs)
{
	char *a = NULL, *b = NULL;
	size_t alen, blen;
	int ret;

	*differs = false;
	if ((!live && !wanted) || (live && wanted && ir_ruleset_equal(live, wanted)))
		return 0;
	ret = render(live, &a, &alen);
	if (!ret)
		ret = render(wanted, &b, &blen);
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
