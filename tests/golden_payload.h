/* SPDX-License-Identifier: GPL-2.0-or-later */
/* golden_render's nft-payload target (golden_payload.c). */
#ifndef NTPWALL_TESTS_GOLDEN_PAYLOAD_H
#define NTPWALL_TESTS_GOLDEN_PAYLOAD_H

#include "ntpwall/ir.h"

#include <stdio.h>

/* Print to out every message of the batch that applying rs would send
 * (after BEGIN, before END): its type and flags, then the object as
 * libnftnl prints it. 0, or -1 when the batch cannot be built. */
int golden_payload(const struct ir_ruleset *rs, FILE *out);

#endif
