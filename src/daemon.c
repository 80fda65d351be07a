/* The daemon registry's simplest member: no daemon to keep in step. */
#include "ntpwall/daemon.h"

static int none_sync(const struct daemon_ops *ops, const struct ir_ruleset *rs, struct diags *d)
{
	return 0;
}

const struct daemon_ops daemon_none = {
	.name = "none",
	.sync = none_sync,
};
