/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Benchmark helper: 48-byte UDP datagrams over IPv4, batched with
 * sendmmsg/recvmmsg, for tests/bench/bench_path.sh.
 * Usage: udp_blast send [-s SRC] [-r PPS] [-n] -t SECONDS DST PORT
 *        udp_blast sink [-w IDLE_MS] PORT
 * send writes datagrams for SECONDS (as fast as the socket takes them, or at
 * most PPS a second) and prints "sent N". With -n they are NTP client
 * requests (VN 4, mode 3) and it also counts the datagrams answered to its
 * socket, for 0.2 s more after the last request: "sent N replies M".
 * sink binds 0.0.0.0:PORT, counts datagrams until none came for IDLE_MS
 * (default 500) after the first, and prints "received N span S" (S: seconds
 * from the first datagram to the last).
 * Exit 0 on success, 2 on error. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DGRAM_LEN 48
#define BATCH 64
#define DRAIN_NS 200000000LL	/* replies still in flight after the last request */

struct blast {
	int fd;
	long long pps;		/* 0: as fast as the socket takes them */
	long long sent, replies;
	int ntp;
};

static int usage(void)
{
	fprintf(stderr, "usage: udp_blast send [-s SRC] [-r PPS] [-n] -t SECONDS DST PORT\n"
			"       udp_blast sink [-w IDLE_MS] PORT\n");
	return 2;
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* A decimal number in [0, max], or -1. */
static long long number(const char *s, long long max)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > max)
		return -1;
	return v;
}

static int sockaddr4(const char *s, unsigned port, struct sockaddr_in *a)
{
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_port = htons(port);
	return inet_pton(AF_INET, s, &a->sin_addr) == 1 ? 0 : -1;
}

/* Take whatever answers are queued, without waiting. */
static void take_replies(struct blast *b)
{
	static unsigned char buf[BATCH][DGRAM_LEN + 16];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	int n;

	memset(msgs, 0, sizeof(msgs));
	for (int i = 0; i < BATCH; i++) {
		iov[i].iov_base = buf[i];
		iov[i].iov_len = sizeof(buf[i]);
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	while ((n = recvmmsg(b->fd, msgs, BATCH, MSG_DONTWAIT, NULL)) > 0)
		b->replies += n;
}

/* Send one batch of at most want datagrams; a full socket buffer is not an
 * error (the next batch tries again). */
static int send_batch(struct blast *b, int want)
{
	static unsigned char payload[DGRAM_LEN];
	struct mmsghdr msgs[BATCH];
	struct iovec iov = { payload, DGRAM_LEN };
	int n;

	if (b->ntp)
		payload[0] = 0x23;	/* LI 0, VN 4, mode 3 */
	memset(msgs, 0, sizeof(msgs));
	for (int i = 0; i < want; i++) {
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	n = sendmmsg(b->fd, msgs, want, MSG_DONTWAIT);
	if (n < 0 && errno != EAGAIN && errno != ENOBUFS && errno != ECONNREFUSED) {
		perror("udp_blast: sendmmsg");
		return -1;
	}
	if (n > 0)
		b->sent += n;
	return 0;
}

/* How many datagrams a rate-limited sender may send now: the schedule is
 * absolute, so a sender that fell behind does not catch up in a burst. */
static int allowed(const struct blast *b, long long start, long long t)
{
	long long due;

	if (!b->pps)
		return BATCH;
	due = (t - start) * b->pps / 1000000000LL;
	if (due <= b->sent)
		return 0;
	return due - b->sent < BATCH ? (int)(due - b->sent) : BATCH;
}

static int run_send(struct blast *b, long long seconds)
{
	long long start = now_ns(), end = start + seconds * 1000000000LL, t;
	int want;

	while ((t = now_ns()) < end) {
		want = allowed(b, start, t);
		if (want && send_batch(b, want) < 0)
			return 2;
		if (b->ntp)
			take_replies(b);
		if (!want)
			usleep(50);
	}
	while (b->ntp && now_ns() < end + DRAIN_NS) {
		take_replies(b);
		usleep(1000);
	}
	if (b->ntp)
		printf("sent %lld replies %lld\n", b->sent, b->replies);
	else
		printf("sent %lld\n", b->sent);
	return 0;
}

static int cmd_send(int argc, char **argv)
{
	struct blast b = { .fd = -1 };
	struct sockaddr_in src, dst;
	const char *srcaddr = NULL;
	long long seconds = -1, port;
	int c, one = 1, big = 4 << 20;

	while ((c = getopt(argc, argv, "s:r:nt:")) != -1) {
		switch (c) {
		case 's': srcaddr = optarg; break;
		case 'r': if ((b.pps = number(optarg, 100000000)) < 0) return usage(); break;
		case 'n': b.ntp = 1; break;
		case 't': if ((seconds = number(optarg, 3600)) < 1) return usage(); break;
		default: return usage();
		}
	}
	if (seconds < 1 || argc - optind != 2 || (port = number(argv[optind + 1], 65535)) < 1 ||
	    sockaddr4(argv[optind], port, &dst) < 0 || (srcaddr && sockaddr4(srcaddr, 0, &src) < 0))
		return usage();
	b.fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (b.fd < 0)
		return perror("udp_blast: socket"), 2;
	setsockopt(b.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* A large receive buffer: replies must not be lost while we send. */
	setsockopt(b.fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	if ((srcaddr && bind(b.fd, (struct sockaddr *)&src, sizeof(src)) < 0) ||
	    connect(b.fd, (struct sockaddr *)&dst, sizeof(dst)) < 0)
		return perror("udp_blast: bind/connect"), 2;
	c = run_send(&b, seconds);
	close(b.fd);
	return c;
}

/* Count datagrams until IDLE_MS pass without one (after the first). */
static int run_sink(int fd, int idle_ms)
{
	static unsigned char buf[BATCH][DGRAM_LEN + 16];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct pollfd pfd = { fd, POLLIN, 0 };
	long long count = 0, first = 0, last = 0;
	int n;

	memset(msgs, 0, sizeof(msgs));
	for (int i = 0; i < BATCH; i++) {
		iov[i].iov_base = buf[i];
		iov[i].iov_len = sizeof(buf[i]);
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	for (;;) {
		n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
		if (n > 0) {
			last = now_ns();
			if (!count)
				first = last;
			count += n;
			continue;
		}
		/* Before the first datagram, wait as long as it takes. */
		if (poll(&pfd, 1, count ? idle_ms : -1) == 0)
			break;
	}
	printf("received %lld span %.6f\n", count, (last - first) / 1e9);
	return 0;
}

static int cmd_sink(int argc, char **argv)
{
	struct sockaddr_in a;
	long long idle = 500, port;
	int c, fd, big = 4 << 20;

	while ((c = getopt(argc, argv, "w:")) != -1) {
		if (c != 'w' || (idle = number(optarg, 60000)) < 1)
			return usage();
	}
	if (argc - optind != 1 || (port = number(argv[optind], 65535)) < 1)
		return usage();
	sockaddr4("0.0.0.0", port, &a);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return perror("udp_blast: socket"), 2;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		return perror("udp_blast: bind"), 2;
	/* Tell a script waiting for us that the socket is bound. */
	printf("ready\n");
	fflush(stdout);
	c = run_sink(fd, (int)idle);
	close(fd);
	return c;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	if (!strcmp(argv[1], "send"))
		return cmd_send(argc - 1, argv + 1);
	if (!strcmp(argv[1], "sink"))
		return cmd_sink(argc - 1, argv + 1);
	return usage();
}
