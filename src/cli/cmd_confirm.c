/* ntpwall confirm: keep the rules of a pending `apply --confirm`, so the
 * watchdog finds nothing to revert when its deadline comes. */
#include "backend_cli.h"
#include "cli.h"

#include <errno.h>
#include <string.h>

static const struct cli_option confirm_opts[] = {
	{ "help", 'h', NULL, "show this help" },
	{ 0 }
};

static int no_opt(int key, const char *arg, void *data)
{
	return 0;
}

/* Keep pending generation p only if it is what the kernel runs: after a
 * revert that could not be recorded, it is not. Returns an exit code. */
static int confirm_live(struct state *st, const struct state_pending *p)
{
	bool live;
	int rc = bcli_gen_live(st, p->generation, &live), ret;

	if (rc)
		return rc;
	if (!live) {
		cli_error("confirm: generation %lu is not what the kernel holds (reverted or "
			  "changed since); nothing confirmed: see 'ntpwall status'", p->generation);
		return EXIT_USAGE;
	}
	ret = state_pending_clear(st);
	if (ret < 0) {
		cli_error("confirm: %s", strerror(-ret));
		return EXIT_USAGE;
	}
	bcli_stop_watchdog(p->watchdog);
	if (arg_verbose >= 0)
		printf("confirmed generation %lu\n", p->generation);
	return EXIT_OK;
}

int cmd_confirm_main(int argc, char **argv)
{
	struct state_pending p;
	struct state *st;
	int first, ret, rc;

	first = cli_parse(argc, argv, "ntpwall confirm", confirm_opts, no_opt, NULL);
	if (first < 0)
		return first == -2 ? EXIT_OK : EXIT_USAGE;
	if (first != argc) {
		cli_error("confirm: takes no arguments");
		return EXIT_USAGE;
	}
	st = bcli_state(false, true);
	if (!st)
		return EXIT_USAGE;
	ret = state_pending_read(st, &p);
	if (ret == -ENOENT) {
		cli_error("confirm: no apply is waiting for confirmation");
		rc = EXIT_FINDINGS;
	} else if (ret < 0) {
		cli_error("confirm: the pending-confirm record: %s", strerror(-ret));
		rc = EXIT_USAGE;
	} else {
		rc = confirm_live(st, &p);
	}
	state_close(st);
	return rc;
}
