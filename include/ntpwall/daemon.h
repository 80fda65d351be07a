/* Time daemons kept in lockstep with the wall: after the wall admits new
 * servers and before it drops old ones, the daemon is pointed at exactly
 * the servers the wall allows. Each daemon fills in a struct daemon_ops;
 * the engine calls it and never knows which daemon it is. */
#ifndef NTPWALL_DAEMON_H
#define NTPWALL_DAEMON_H

#include "ntpwall/diag.h"
#include "ntpwall/ir.h"

struct daemon_ops {
	const char *name;
	/* Point the daemon at the upstreams and peers of rs (NULL: none, the
	 * wall is being removed): its file written atomically, then the
	 * daemon told. 0, or -errno with a diagnostic. */
	int (*sync)(const struct daemon_ops *ops, const struct ir_ruleset *rs, struct diags *d);
	void *ctx;
};

/* No daemon to keep in step: sync does nothing. */
extern const struct daemon_ops daemon_none;

#endif
