/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The rule model as JSON (through jansson), for the state directory's
 * generations and `status --format json`. The shape is versioned and
 * documented here (ntpwall(8) FILES shows the generation around it):
 *   {"format": "ntpwall-ir", "version": 1, "table": T, "table_flags"?,
 *    "sets": [{"name", "key": "ipv4_addr"|"ipv6_addr", "flags": ["timeout",
 *              "interval", "dynamic", "foreign"], "timeout_ms", "size",
 *              "policy"?: "memory",
 *              "gc_interval_ms"?,
 *              "elements": ["ADDR" | "ADDR/LEN" | {"addr", "prefix",
 *                            "timeout_ms"?, "expires_ms"?, "comment"?}]}],
 *    "chains": [{"name", "hook", "type"?, "device"?, "priority",
 *                "policy": "accept"|"drop",
 *                "rules": [{"comment"?, "matches": [{"type", "negate"?, value}],
 *                           "counter", "notrack"?, "log_prefix"?, "verdict",
 *                           "packets"?, "bytes"?, "handle"?, "unknown"?}]}]}
 * An element is a string when it has no timeout, comment or expiry.
 * Read-back-only fields (what a tampered table has and ntpwall never makes,
 * e.g. "table_flags", the kernel's NFT_TABLE_F_* bits, or a chain "type"
 * other than filter) appear only when set,
 * so a compiled generation never has them.
 * A match's value is one of "value" (number), "bits" (number), "set",
 * "ifname", "addr"+"prefix", "limit": {"set", "rate", "unit_s", "burst",
 * "prefix"?} (rate_over, per source), or "rate": {"rate", "unit_s", "burst"}
 * (limit, one bucket for the rule). */
#ifndef NTPWALL_IR_JSON_H
#define NTPWALL_IR_JSON_H

#include "ntpwall/ir.h"

#include <stdbool.h>

struct diags;
struct json_t;

#define IR_JSON_VERSION 1

/* A new JSON value for rs (caller decrefs). With live, also counters,
 * handles and element expiry (read-back only fields). */
struct json_t *ir_json_dump(const struct ir_ruleset *rs, bool live);
/* Parse ir_json_dump()'s shape into a new sorted ruleset *out. -EINVAL
 * on a bad shape or an unknown version, with an NW502 error in d (may be
 * NULL). */
int ir_json_load(const struct json_t *j, struct ir_ruleset **out, struct diags *d);

#endif
