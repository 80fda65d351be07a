/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Benchmark helper: a UDP relay in front of the test dnsmasq that holds
 * every query for DELAY ms, so that a round trip costs what it costs on a
 * real network (the kernel here has no netem). It rewrites the 16-bit DNS
 * ID of each query to its own counter, to send the answer back to the
 * right client, and touches nothing else in the message.
 * Usage: dns_delay LISTEN-IPV4 LISTEN-PORT SERVER-IPV4 SERVER-PORT DELAY-MS */
#include <arpa/inet.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define QUEUE 4096	/* queries held at once; more are dropped */
#define MSG 4096	/* EDNS answers of the test zone are far smaller */

struct held {
	double due;
	size_t len;
	unsigned char buf[MSG];
};

struct client {
	struct sockaddr_in addr;
	uint16_t id;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int udp_socket(const char *addr, int port, int do_bind)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
		return -1;
	if (do_bind ? bind(fd, (struct sockaddr *)&sa, sizeof(sa))
		    : connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		return -1;
	return fd;
}

static struct held q[QUEUE];
static struct client clients[65536];

int main(int argc, char **argv)
{
	size_t head = 0, tail = 0;
	uint16_t next_id = 0;
	double delay;
	int lfd, ufd;

	if (argc != 6) {
		fprintf(stderr, "usage: dns_delay LISTEN-IPV4 PORT SERVER-IPV4 PORT DELAY-MS\n");
		return 2;
	}
	lfd = udp_socket(argv[1], atoi(argv[2]), 1);
	ufd = udp_socket(argv[3], atoi(argv[4]), 0);
	delay = atof(argv[5]);
	if (lfd < 0 || ufd < 0) {
		perror("dns_delay");
		return 1;
	}
	for (;;) {
		struct pollfd p[2] = { { lfd, POLLIN, 0 }, { ufd, POLLIN, 0 } };
		int timeout = -1;
		unsigned char buf[MSG];
		ssize_t n;

		/* The delay is constant, so the queue is in order of due time. */
		while (head != tail && q[head].due <= now_ms()) {
			(void)send(ufd, q[head].buf, q[head].len, 0);
			head = (head + 1) % QUEUE;
		}
		if (head != tail)
			timeout = (int)(q[head].due - now_ms()) + 1;
		if (poll(p, 2, timeout) < 0)
			continue;
		if (p[0].revents & POLLIN) {
			struct client c;
			socklen_t len = sizeof(c.addr);

			n = recvfrom(lfd, buf, sizeof(buf), 0, (struct sockaddr *)&c.addr, &len);
			if (n >= 12 && (tail + 1) % QUEUE != head) {
				memcpy(&c.id, buf, 2);
				clients[next_id] = c;
				memcpy(buf, &next_id, 2);
				next_id++;
				q[tail].due = now_ms() + delay;
				q[tail].len = (size_t)n;
				memcpy(q[tail].buf, buf, (size_t)n);
				tail = (tail + 1) % QUEUE;
			}
		}
		if (p[1].revents & POLLIN) {
			n = recv(ufd, buf, sizeof(buf), 0);
			if (n >= 12) {
				uint16_t id;

				memcpy(&id, buf, 2);
				memcpy(buf, &clients[id].id, 2);
				(void)sendto(lfd, buf, (size_t)n, 0, (struct sockaddr *)&clients[id].addr,
					     sizeof(clients[id].addr));
			}
		}
	}
}
