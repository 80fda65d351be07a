/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The ruleset the IR's JSON and the state directory tests share. */
#ifndef NTPWALL_TEST_SAMPLE_IR_H
#define NTPWALL_TEST_SAMPLE_IR_H

#include "ntpwall/ir.h"

/* A new sorted ruleset (ir_ruleset_free) with sets of each kind, a rule with
 * most kinds of match and an unknown rule; asserts (Check) on failure. */
struct ir_ruleset *sample_ruleset(void);

#endif
