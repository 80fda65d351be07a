/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Backend registry: the backends compiled in, looked up by the policy's
 * backend name at run time. */
#include "ntpwall/backend.h"
#include "ntpwall/util.h"

#include <string.h>

static const struct backend_ops *const backends[] = {
	&backend_nft_ops,
	&backend_ipt_ops,
};

const struct backend_ops *backend_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(backends); i++)
		if (!strcmp(backends[i]->name, name))
			return backends[i];
	return NULL;
}
