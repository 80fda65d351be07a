/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What iptables' limit match (xt_limit, revision 0) holds of a rate: it
 * keeps the interval between packets, avg = 10000 x unit seconds / rate
 * as a whole number, so not every rate comes back as itself. lint checks
 * a policy's log_rate with it, the iptables backend writes and reads the
 * match with it. Pure arithmetic: no iptables needed. */
#ifndef NTPWALL_XT_LIMIT_H
#define NTPWALL_XT_LIMIT_H

#include <stdbool.h>
#include <stdint.h>

/* avg for rate packets per unit_s seconds; 0 when it cannot hold it (over
 * 10000 a second, its scale). */
uint32_t xt_limit_avg(uint32_t rate, uint32_t unit_s);
/* The rate and unit (1, 60, 3600 or 86400 s) avg reads back as, as
 * iptables prints it (10000 x unit / avg, rounded down), in the smallest
 * unit whose rate gives avg again; false when none does. */
bool xt_limit_rate(uint32_t avg, uint32_t *rate, uint32_t *unit_s);
/* Whether rate per unit_s reads back as itself. *held and *held_unit_s:
 * what it reads back as (0 and 0 when it cannot be held at all). */
bool xt_limit_holds(uint32_t rate, uint32_t unit_s, uint32_t *held, uint32_t *held_unit_s);

#endif
