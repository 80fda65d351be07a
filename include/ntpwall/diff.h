/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Wanted vs live: equal rulesets give no diff; otherwise a unified diff
 * (---/+++ headers, @@ hunks, three lines of context) of both rulesets
 * rendered as `nft list table` text, so the operator reads nft syntax. */
#ifndef NTPWALL_DIFF_H
#define NTPWALL_DIFF_H

#include "ntpwall/ir.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Unified diff of the lines of a (label_a) and b (label_b) to out; *differs
 * tells whether any line differs. Line-based Myers O(ND) after trimming the
 * common prefix and suffix and interning lines by hash; past a large edit
 * distance a region is shown as removed-then-added instead of minimally.
 * Returns 0 or -errno on a write error. */
int diff_text(const char *a, size_t alen, const char *b, size_t blen, const char *label_a,
	      const char *label_b, FILE *out, bool *differs);

/* Diff live (NULL: table absent) against wanted (NULL: table removed), as
 * render_nft(listing) text, or with iptables as render_iptables() text of
 * both families (iptables-save's notation; the nft listing when a side
 * cannot be rendered so, e.g. a rule added by hand). *differs is false
 * exactly when the rulesets are ir_ruleset_equal (or both NULL); then
 * nothing is written. */
int diff_rulesets(const struct ir_ruleset *live, const struct ir_ruleset *wanted, bool iptables,
		  const char *label_live, const char *label_wanted, FILE *out, bool *differs);

#endif
