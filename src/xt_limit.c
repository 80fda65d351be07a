/* SPDX-License-Identifier: GPL-2.0-or-later */
/* iptables' limit match's form of a rate (include/ntpwall/xt_limit.h). */
#include "ntpwall/xt_limit.h"

#include <linux/netfilter/xt_limit.h>
#include <stddef.h>

uint32_t xt_limit_avg(uint32_t rate, uint32_t unit_s)
{
	uint64_t avg = rate ? (uint64_t)XT_LIMIT_SCALE * unit_s / rate : 0;

	return avg > UINT32_MAX ? 0 : (uint32_t)avg;
}

bool xt_limit_rate(uint32_t avg, uint32_t *rate, uint32_t *unit_s)
{
	static const uint32_t units[] = { 1, 60, 3600, 86400 };

	for (size_t i = 0; avg && i < sizeof(units) / sizeof(units[0]); i++) {
		/* Rounded down, as libxt_limit prints it: avg is itself
		 * rounded down, so the rate it came from is never below. */
		uint64_t r = (uint64_t)XT_LIMIT_SCALE * units[i] / avg;

		if (r && r <= UINT32_MAX && xt_limit_avg((uint32_t)r, units[i]) == avg) {
			*rate = (uint32_t)r;
			*unit_s = units[i];
			return true;
		}
	}
	return false;
}

bool xt_limit_holds(uint32_t rate, uint32_t unit_s, uint32_t *held, uint32_t *held_unit_s)
{
	*held = *held_unit_s = 0;
	return xt_limit_rate(xt_limit_avg(rate, unit_s), held, held_unit_s) && *held == rate &&
	       *held_unit_s == unit_s;
}
