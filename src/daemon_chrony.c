/* SPDX-License-Identifier: GPL-2.0-or-later */
/* chrony's view of its sources, for pool health and the agreement check:
 * `chronyc -c -n sources` is one CSV line per source: mode, state, address,
 * stratum, poll, reach (octal), last sample age, offsets. */
#include "daemon_int.h"
#include "ntpwall/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The comma-separated field i of line (copied into buf), or NULL. */
static const char *field(const char *line, size_t i, char *buf, size_t len)
{
	for (; i > 0; i--) {
		line = strchr(line, ',');
		if (!line)
			return NULL;
		line++;
	}
	size_t n = strcspn(line, ",\n");

	if (n >= len)
		return NULL;
	memcpy(buf, line, n);
	buf[n] = '\0';
	return buf;
}

static bool parse_line(const char *line, struct daemon_source *s)
{
	char mode[4], state[4], addr[64], reach[8], rx[24];	/* an address is at most 45 */
	char *end;

	if (!field(line, 0, mode, sizeof(mode)) || !field(line, 1, state, sizeof(state)) ||
	    !field(line, 2, addr, sizeof(addr)) || !field(line, 5, reach, sizeof(reach)) ||
	    !field(line, 6, rx, sizeof(rx)))
		return false;
	/* Servers and peers; reference clocks (#) have no address. */
	if ((strcmp(mode, "^") && strcmp(mode, "=")) || strlen(state) != 1)
		return false;
	memset(s, 0, sizeof(*s));
	if (addr_parse(addr, &s->addr))
		return false;
	s->state = state[0];
	s->reach = (unsigned)strtoul(reach, &end, 8) & 0xff;
	if (*end)
		return false;
	/* LastRx: the age of the last sample; 4294967295 when there was none. */
	s->heard = strcmp(rx, "4294967295") != 0;
	/* Unusable: a falseticker, or nothing heard in the last 8 polls. A
	 * '?' that answers is a new source not selected yet (chrony 4.3
	 * shows that for a second or two after a reload). */
	s->usable = s->state != 'x' && s->reach;
	return true;
}

int daemon_chrony_parse_sources(const char *text, struct daemon_source **out, size_t *n)
{
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	for (const char *line = text; line && *line; ) {
		struct daemon_source s;

		if (parse_line(line, &s)) {
			xgrow((void **)out, &cap, *n, sizeof(**out));
			(*out)[(*n)++] = s;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return 0;
}

int daemon_chrony_sources(const struct daemon_state *s, struct daemon_source **out, size_t *n,
			  struct diags *d)
{
	char *cmd, *text = NULL;
	int ret;

	*out = NULL;
	*n = 0;
	if (s->kind != DAEMON_CHRONY || !s->client)
		return 0;
	cmd = xasprintf("%s -c -n sources", s->client);
	ret = daemon_run(cmd, &text, d);
	free(cmd);
	if (!ret)
		ret = daemon_chrony_parse_sources(text, out, n);
	free(text);
	return ret;
}
