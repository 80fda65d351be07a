/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target for the policy loader: any byte string must load or be
 * refused with diagnostics, never crash, leak or hang. The lint pass runs on
 * every policy that loads, so its checks see fuzzed but valid input too. */
#include "ntpwall/diag.h"
#include "ntpwall/lint.h"
#include "ntpwall/policy.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy *p = NULL;
	struct diags d;
	int ret;

	/* Capped like `ntpwall lint` does, so the cap's path is fuzzed too. */
	diag_init(&d, 10);
	ret = policy_load_buffer("fuzz.yaml", (const char *)data, size, &d, &p);
	if (!ret) {
		lint_policy(p, &d);
		diag_sort(&d);
	} else if (!d.errors) {
		/* A refused policy always says why. */
		__builtin_trap();
	}
	policy_free(p);
	diag_free(&d);
	return 0;
}
