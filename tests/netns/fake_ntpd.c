/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A scripted NTP server for the prober's namespace tests: each ADDR:MODE
 * argument binds ADDR port 123 (or $FAKE_NTPD_PORT) and answers every mode-3
 * request the way MODE says, so misbehaving servers can be tested for real.
 * Runs until killed; prints "ready" once every socket is bound. */
#include "ntpwall/ntp_packet.h"
#include "ntpwall/addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SOCKS 32

/* Modes: ok, rate, deny, rstr, kiss-xxxx (other code), origin (wrong origin),
 * li3, stratum16, mode3 (wrong mode), v3 (wrong version), short (47 bytes),
 * reftime (reference after T3), slow (T3 - T2 = 5 s), negdelay (T3 - T2 =
 * 100 ms, more than the round trip: negative delay), distance (root
 * dispersion 2 s), silent (no reply), offSECONDS[@MS] (a good server whose
 * clock is SECONDS ahead, e.g. off+2.5 or off-0.01, with a root dispersion
 * of MS milliseconds, default 3.9), echo (any datagram, whatever its mode,
 * is sent back, a client request as a server reply (mode 4), and "from
 * ADDR" printed: a stand-in for a server that takes everything, so that
 * only a firewall keeps a packet from it). */
struct sock {
	int fd;
	const char *mode;
};

static void put32(uint8_t *b, uint32_t v)
{
	b[0] = v >> 24;
	b[1] = v >> 16;
	b[2] = v >> 8;
	b[3] = v;
}

static void put64(uint8_t *b, uint64_t v)
{
	put32(b, (uint32_t)(v >> 32));
	put32(b + 4, (uint32_t)v);
}

static uint64_t now_ts(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ntp_ts_from_timespec(&ts);
}

/* offSECONDS[@MS]: the clock's offset in NTP units (2^-32 s) and the root
 * dispersion in NTP short format (2^-16 s). */
static void parse_offset(const char *mode, int64_t *shift, uint32_t *disp)
{
	char *end;
	double off, ms = 1000.0 / 256;

	*shift = 0;
	*disp = 0x00000100;
	if (strncmp(mode, "off", 3))
		return;
	off = strtod(mode + 3, &end);
	if (*end == '@')
		ms = strtod(end + 1, NULL);
	*shift = (int64_t)(off * 4294967296.0);
	*disp = (uint32_t)(ms / 1000 * 65536);
}

/* Build the reply to req, received at rx (the kernel's time), in out;
 * returns its length, 0 for none. The receive timestamp is rx, so a busy
 * machine's scheduling delay is not taken for an offset. */
static size_t build_reply(const char *mode, const uint8_t *req, uint64_t rx, uint8_t *out)
{
	uint64_t t = now_ts(), t2;
	uint8_t stratum = 2, li = 0, vn = 4, md = 4;
	const char *kiss = NULL;
	uint32_t disp;
	int64_t shift;

	parse_offset(mode, &shift, &disp);
	t += (uint64_t)shift;
	t2 = (rx ? rx : now_ts()) + (uint64_t)shift;

	if (!strcmp(mode, "silent"))
		return 0;
	if (!strcmp(mode, "rate") || !strcmp(mode, "deny") || !strcmp(mode, "rstr"))
		kiss = !strcmp(mode, "rate") ? "RATE" : !strcmp(mode, "deny") ? "DENY" : "RSTR";
	else if (!strncmp(mode, "kiss-", 5))
		kiss = mode + 5;
	li = !strcmp(mode, "li3") ? 3 : 0;
	stratum = !strcmp(mode, "stratum16") ? 16 : kiss ? 0 : 2;
	md = !strcmp(mode, "mode3") ? 3 : 4;
	vn = !strcmp(mode, "v3") ? 3 : 4;
	memset(out, 0, NTP_HEADER_LEN);
	out[0] = (uint8_t)(li << 6 | vn << 3 | md);
	out[1] = stratum;
	out[2] = 6;
	out[3] = (uint8_t)-20;
	put32(out + 4, 0x00000100);
	put32(out + 8, !strcmp(mode, "distance") ? 0x00020000 : disp);
	if (kiss)
		memcpy(out + 12, kiss, strlen(kiss) < 4 ? strlen(kiss) : 4);
	else
		put32(out + 12, 0xc0000201);
	put64(out + 16, !strcmp(mode, "reftime") ? t + ((uint64_t)100 << 32) : t - ((uint64_t)10 << 32));
	memcpy(out + 24, req + 40, 8);
	if (!strcmp(mode, "origin"))
		out[31] ^= 0x5a;
	put64(out + 32, t2);
	put64(out + 40, !strcmp(mode, "slow") ? t2 + ((uint64_t)5 << 32) :
			!strcmp(mode, "negdelay") ? t2 + ((uint64_t)1 << 32) / 10 : t);
	return !strcmp(mode, "short") ? NTP_HEADER_LEN - 1 : NTP_HEADER_LEN;
}

static int bind_one(const char *spec, uint16_t port, struct sock *s)
{
	char host[64];
	const char *colon = strrchr(spec, ':');
	struct addr a;
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	int one = 1;

	if (!colon || (size_t)(colon - spec) >= sizeof(host))
		return -1;
	memcpy(host, spec, (size_t)(colon - spec));
	host[colon - spec] = '\0';
	if (addr_parse(host, &a))
		return -1;
	if (a.family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		in->sin_addr = a.v4;
		len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		in6->sin6_addr = a.v6;
		len = sizeof(*in6);
	}
	s->fd = socket(a.family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		return -1;
	(void)setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	(void)setsockopt(s->fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
	if (bind(s->fd, (struct sockaddr *)&ss, len) < 0)
		return -1;
	s->mode = colon + 1;
	return 0;
}

static void echo(int fd, uint8_t *req, size_t len, const struct sockaddr_storage *from,
		 socklen_t flen)
{
	char a[INET6_ADDRSTRLEN] = "?";
	const void *p = from->ss_family == AF_INET ?
		(const void *)&((const struct sockaddr_in *)from)->sin_addr :
		(const void *)&((const struct sockaddr_in6 *)from)->sin6_addr;

	inet_ntop(from->ss_family, p, a, sizeof(a));
	printf("from %s\n", a);
	fflush(stdout);
	if ((req[0] & 7) == NTP_MODE_CLIENT)
		req[0] = (uint8_t)((req[0] & ~7u) | 4u);
	(void)sendto(fd, req, len, 0, (const struct sockaddr *)from, flen);
}

/* recvfrom() with the kernel's receive time (SO_TIMESTAMPNS), 0 if none. */
static ssize_t recv_stamped(int fd, uint8_t *buf, size_t size, struct sockaddr_storage *from,
			    socklen_t *flen, uint64_t *rx)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct timespec))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { buf, size };
	struct msghdr m = { .msg_name = from, .msg_namelen = *flen, .msg_iov = &iov,
			    .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof(ctl) };
	ssize_t len = recvmsg(fd, &m, 0);

	*rx = 0;
	*flen = m.msg_namelen;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); len >= 0 && c; c = CMSG_NXTHDR(&m, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMPNS) {
			struct timespec ts;

			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			*rx = ntp_ts_from_timespec(&ts);
		}
	}
	return len;
}

static void serve(struct sock *s, struct pollfd *pfd, int n)
{
	for (;;) {
		if (poll(pfd, (nfds_t)n, -1) < 0 && errno != EINTR)
			return;
		for (int i = 0; i < n; i++) {
			uint8_t req[NTP_PACKET_MAX], out[NTP_HEADER_LEN];
			struct sockaddr_storage from;
			socklen_t flen = sizeof(from);
			ssize_t len;
			size_t olen;
			uint64_t rx;

			if (!(pfd[i].revents & POLLIN))
				continue;
			len = recv_stamped(s[i].fd, req, sizeof(req), &from, &flen, &rx);
			if (len > 0 && !strcmp(s[i].mode, "echo")) {
				echo(s[i].fd, req, (size_t)len, &from, flen);
				continue;
			}
			if (len < NTP_HEADER_LEN || (req[0] & 7) != NTP_MODE_CLIENT)
				continue;
			olen = build_reply(s[i].mode, req, rx, out);
			if (olen)
				(void)sendto(s[i].fd, out, olen, 0, (struct sockaddr *)&from, flen);
		}
	}
}

int main(int argc, char **argv)
{
	struct sock s[MAX_SOCKS];
	struct pollfd pfd[MAX_SOCKS];
	const char *p = getenv("FAKE_NTPD_PORT");
	uint16_t port = p ? (uint16_t)atoi(p) : NTP_PORT;
	int n = 0;

	if (argc < 2 || argc - 1 > MAX_SOCKS) {
		fprintf(stderr, "usage: fake_ntpd ADDR:MODE...\n");
		return 2;
	}
	for (int i = 1; i < argc; i++, n++) {
		if (bind_one(argv[i], port, &s[n]) < 0) {
			fprintf(stderr, "fake_ntpd: %s: %s\n", argv[i], strerror(errno));
			return 1;
		}
		pfd[n] = (struct pollfd){ .fd = s[n].fd, .events = POLLIN };
	}
	printf("ready\n");
	fflush(stdout);
	serve(s, pfd, n);
	return 1;
}
