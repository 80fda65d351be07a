/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Test helper: send one UDP datagram of hex bytes from a chosen source
 * address and port, optionally wait for an answer.
 * Usage: ntp_send [-s SRCADDR] [-p SRCPORT] [-w MS] [-n COUNT] [-x] DSTADDR DSTPORT HEX
 * -n sends COUNT copies back to back from one socket (a flood that does not
 * depend on how fast processes start). -x (IPv6) puts a Destination Options
 * extension header (one PadN option) between the IPv6 and the UDP header.
 * HEX is the payload ("1b" then zeros up to 48 bytes with -z). Exit 0 when
 * sent (and, with -w, answered), 1 on no answer, 2 on error. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int addr(const char *s, unsigned port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
		*len = sizeof(*a4);
		return AF_INET;
	}
	if (inet_pton(AF_INET6, s, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		*len = sizeof(*a6);
		return AF_INET6;
	}
	return -1;
}

int main(int argc, char **argv)
{
	const char *src = NULL;
	unsigned sport = 0, pad = 0, count = 1;
	bool dstopts = false;
	int wait_ms = -1, c, fd, af;
	unsigned char buf[1024];
	size_t n = 0;
	struct sockaddr_storage ss;
	socklen_t len;

	while ((c = getopt(argc, argv, "s:p:w:n:zx")) != -1) {
		if (c == 's')
			src = optarg;
		else if (c == 'p')
			sport = (unsigned)atoi(optarg);
		else if (c == 'w')
			wait_ms = atoi(optarg);
		else if (c == 'n')
			count = (unsigned)atoi(optarg);
		else if (c == 'z')
			pad = 48;
		else if (c == 'x')
			dstopts = true;
		else
			return 2;
	}
	if (argc - optind != 3)
		return fprintf(stderr, "usage: ntp_send [-s SRC] [-p SPORT] [-w MS] [-n COUNT] [-z] [-x] DST PORT HEX\n"), 2;
	for (const char *h = argv[optind + 2]; h[0] && h[1] && n < sizeof(buf); h += 2) {
		unsigned v;

		if (sscanf(h, "%2x", &v) != 1)
			return 2;
		buf[n++] = (unsigned char)v;
	}
	while (n < pad)
		buf[n++] = 0;
	af = addr(argv[optind], (unsigned)atoi(argv[optind + 1]), &ss, &len);
	if (af < 0)
		return 2;
	fd = socket(af, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return perror("socket"), 2;
	if (dstopts) {
		/* Next header (the kernel fills it), length 0 (8 bytes), PadN of 4. */
		static const unsigned char opt[8] = { 0, 0, 1, 4, 0, 0, 0, 0 };

		if (af != AF_INET6 || setsockopt(fd, IPPROTO_IPV6, IPV6_DSTOPTS, opt, sizeof(opt)))
			return perror("IPV6_DSTOPTS"), 2;
	}
	if (src || sport) {
		struct sockaddr_storage bs;
		socklen_t blen;
		int one = 1;

		if (addr(src ? src : (af == AF_INET ? "0.0.0.0" : "::"), sport, &bs, &blen) != af)
			return 2;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&bs, blen))
			return perror("bind"), 2;
	}
	for (unsigned i = 0; i < count; i++)
		if (sendto(fd, buf, n, 0, (struct sockaddr *)&ss, len) != (ssize_t)n)
			return perror("sendto"), 2;
	if (wait_ms >= 0) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, wait_ms) != 1)
			return 1;
		if (recv(fd, buf, sizeof(buf), 0) < 0)
			return 1;
		printf("answer mode %u\n", buf[0] & 7);
	}
	close(fd);
	return 0;
}
