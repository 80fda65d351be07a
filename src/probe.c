/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The SNTP client of the prober: one connected UDP socket per outstanding
 * request (ephemeral source port, RFC 9109), a random cookie in the transmit
 * timestamp, T1 kept here, T4 from the kernel, every server in flight at once
 * under one epoll, several samples per server with the best one kept. */
#include "ntpwall/probe.h"
#include "ntpwall/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* How bad a failed sample is; the worst one names a server that never gave
 * a valid sample. A reply that echoes our cookie outranks noise that does
 * not, and a kiss outranks everything. */
enum fail_rank {
	RANK_NONE,
	RANK_TIMEOUT,
	RANK_NETWORK,		/* ICMP error on the connected socket */
	RANK_UNAUTHENTIC,	/* malformed or wrong origin: maybe not the server */
	RANK_REPLY,		/* the server's own reply, refused */
	RANK_KISS_RATE,
	RANK_KISS_FINAL,	/* DENY, RSTR: overrides good samples too */
};

/* Descriptors kept free for the caller when sizing the in-flight cap. */
#define PROBE_FD_RESERVE 32
/* Requests in flight by default. A burst of 300 requests to one chronyd
 * already overflows its socket's default receive buffer (212 KiB of
 * rmem_default) and loses replies; 128 keeps well under that, and a freed
 * slot is refilled at once, so 1,000 servers 50 ms away still take only
 * ~8 round trips, not 8 timeouts. Silent servers hold their slot for the
 * whole timeout: 1,000 of them take ~8 timeouts (--max-inflight raises it). */
#define PROBE_DEFAULT_INFLIGHT 128
#define PROBE_EVENTS 64
#define NS_PER_MS 1000000LL

struct server {
	const struct probe_target *t;
	struct probe_result *res;
	struct sockaddr_storage sa;
	socklen_t salen;
	int fd;			/* -1: no request outstanding */
	uint64_t cookie;
	struct timespec t1;
	int64_t deadline;	/* monotonic ns of the outstanding request */
	int64_t first_send;	/* monotonic ns; samples are spaced from it */
	int64_t next_send;	/* monotonic ns */
	bool done;
	enum fail_rank rank;
	enum probe_status fail;
	char *fail_reason;
};

struct probe_ctx {
	struct server *s;
	size_t n, remaining;
	int epfd;
	size_t inflight, max_inflight;
	const struct policy_probe *lim;
	const sigset_t *sigmask;	/* while waiting; NULL: the caller's */
	bool interrupted;		/* a signal came while waiting */
};

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

const char *probe_status_str(enum probe_status s)
{
	static const char *const names[] = {
		[PROBE_OK] = "OK", [PROBE_TIMEOUT] = "TIMEOUT",
		[PROBE_UNREACHABLE] = "UNREACHABLE", [PROBE_KOD_RATE] = "KOD_RATE",
		[PROBE_KOD_DENY] = "KOD_DENY", [PROBE_KOD_RSTR] = "KOD_RSTR",
		[PROBE_KOD_OTHER] = "KOD", [PROBE_UNSYNC] = "UNSYNC", [PROBE_BOGUS] = "BOGUS",
		[PROBE_DISTANCE] = "DISTANCE", [PROBE_DELAY] = "DELAY",
		[PROBE_OFFSET] = "OFFSET", [PROBE_FALSETICKER] = "FALSETICKER",
	};

	return (size_t)s < ARRAY_SIZE(names) && names[s] ? names[s] : "UNKNOWN";
}

/* Remember a failed sample if it is at least as bad as the worst so far. */
static void note_fail(struct server *s, enum fail_rank rank, enum probe_status st,
		      char *reason)
{
	if (rank < s->rank) {
		free(reason);
		return;
	}
	free(s->fail_reason);
	s->rank = rank;
	s->fail = st;
	s->fail_reason = reason;
}

static void refid_text(struct probe_result *r, const struct ntp_packet *p)
{
	size_t k = 0;

	/* Stratum 1: a source name of up to four ASCII letters, NUL padded. */
	for (int i = 0; p->stratum <= 1 && i < 4; i++) {
		uint8_t c = (uint8_t)(p->refid >> (24 - 8 * i));

		if (!c)
			break;
		if (c < 0x20 || c >= 0x7f) {
			k = 0;
			break;
		}
		r->refid_str[k++] = (char)c;
	}
	r->refid_str[k] = '\0';
	if (k)
		return;
	/* Stratum 2+ (or a binary stratum-1 id such as chrony's local clock
	 * 127.127.1.1): the upstream's IPv4 address, or for IPv6 the first four
	 * bytes of its MD5, shown the same way as ntpq does. */
	snprintf(r->refid_str, sizeof(r->refid_str), "%u.%u.%u.%u", p->refid >> 24,
		 (p->refid >> 16) & 0xff, (p->refid >> 8) & 0xff, p->refid & 0xff);
}

/* Close the outstanding request and plan the next sample, if any. */
static void end_request(struct probe_ctx *c, struct server *s, bool stop)
{
	if (s->fd >= 0) {
		close(s->fd);	/* also drops it from the epoll set */
		s->fd = -1;
		c->inflight--;
	}
	if (stop || s->res->samples_sent >= c->lim->samples) {
		s->done = true;
		c->remaining--;
		return;
	}
	s->next_send = s->first_send + (int64_t)s->res->samples_sent *
		       (int64_t)c->lim->interval_ms * NS_PER_MS;
}

static void keep_sample(struct probe_ctx *c, struct server *s, const struct ntp_packet *p,
			ntp_fp offset, ntp_fp delay, ntp_fp dist)
{
	struct probe_result *r = s->res;

	r->samples_ok++;
	if (r->has_sample && delay >= r->delay)
		return;
	r->has_sample = true;
	r->leap = p->leap;
	r->version = p->version;
	r->stratum = p->stratum;
	r->precision = p->precision;
	r->refid = p->refid;
	refid_text(r, p);
	r->offset = offset;
	r->delay = delay;
	r->root_distance = dist;
}

static void handle_kiss(struct probe_ctx *c, struct server *s, const struct ntp_packet *p)
{
	char code[5];

	ntp_kiss_code(p, code);
	if (!strcmp(code, "DENY") || !strcmp(code, "RSTR")) {
		/* RFC 5905 s7.4: stop talking to it, whatever it said before. */
		note_fail(s, RANK_KISS_FINAL, code[0] == 'D' ? PROBE_KOD_DENY : PROBE_KOD_RSTR,
			  xasprintf("kiss-o'-death %s: server refuses us", code));
		end_request(c, s, true);
	} else if (!strcmp(code, "RATE")) {
		/* Back off: a run lasts seconds, so the only way to lower our
		 * rate is to send this server nothing more (RFC 8633 s5.4). */
		note_fail(s, RANK_KISS_RATE, PROBE_KOD_RATE,
			  xasprintf("kiss-o'-death RATE after %u sample%s: stopped sampling",
				    s->res->samples_sent, s->res->samples_sent == 1 ? "" : "s"));
		end_request(c, s, true);
	} else {
		note_fail(s, RANK_REPLY, PROBE_KOD_OTHER, xasprintf("kiss-o'-death %s", code));
		end_request(c, s, false);
	}
}

static enum probe_status check_status(enum ntp_check k)
{
	switch (k) {
	case NTP_UNSYNC:
		return PROBE_UNSYNC;
	case NTP_BAD_STRATUM:
		return PROBE_DISTANCE;
	default:
		return PROBE_BOGUS;
	}
}

/* A reply that carries our cookie: the server's answer to this request. */
static void handle_reply(struct probe_ctx *c, struct server *s, const struct ntp_packet *p,
			 enum ntp_check k, const struct timespec *t4)
{
	uint64_t t1 = ntp_ts_from_timespec(&s->t1), t4n = ntp_ts_from_timespec(t4);
	ntp_fp offset, delay, dist, slack;

	if (k == NTP_KISS) {
		handle_kiss(c, s, p);
		return;
	}
	if (k != NTP_VALID) {
		char *why = k == NTP_BAD_STRATUM ?
			    xasprintf("stratum %u above the limit %u", p->stratum, c->lim->max_stratum) :
			    k == NTP_UNSYNC && p->leap == NTP_LEAP_ALARM ?
			    xasprintf("leap indicator 3: server unsynchronised") :
			    k == NTP_UNSYNC ? xasprintf("stratum %u: server unsynchronised", p->stratum) :
			    xasprintf("%s", ntp_check_str(k));

		note_fail(s, RANK_REPLY, check_status(k), why);
		end_request(c, s, false);
		return;
	}
	offset = ntp_offset(t1, p->receive, p->transmit, t4n);
	delay = ntp_delay(t1, p->receive, p->transmit, t4n);
	dist = ntp_root_distance(delay, p);
	/* C10: a delay below minus the clocks' resolution means one of the four
	 * timestamps is wrong; allow the server's precision plus 1 us of ours. */
	slack = ntp_precision_fp(p->precision) + ntp_fp_from_ns(1000);
	if (delay < -slack) {
		note_fail(s, RANK_REPLY, PROBE_DELAY,
			  xasprintf("negative delay %.6f s", ntp_fp_to_double(delay)));
	} else if (dist > ntp_fp_from_ns((int64_t)c->lim->max_root_distance_ms * NS_PER_MS)) {
		note_fail(s, RANK_REPLY, PROBE_DISTANCE,
			  xasprintf("root distance %.3f s above the limit %.3f s",
				    ntp_fp_to_double(dist), c->lim->max_root_distance_ms / 1e3));
	} else {
		keep_sample(c, s, p, offset, delay, dist);
	}
	end_request(c, s, false);
}

static void network_error(struct probe_ctx *c, struct server *s, int err)
{
	const char *why = err == ECONNREFUSED ? "connection refused (ICMP port unreachable)"
					      : strerror(err);

	note_fail(s, RANK_NETWORK, PROBE_UNREACHABLE, xstrdup(why));
	end_request(c, s, false);
}

/* T4: the kernel's receive time (SO_TIMESTAMPNS), else the clock now. */
static void rx_time(struct msghdr *m, struct timespec *t4)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(m); cm; cm = CMSG_NXTHDR(m, cm)) {
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(*t4))) {
			memcpy(t4, CMSG_DATA(cm), sizeof(*t4));
			return;
		}
	}
	clock_gettime(CLOCK_REALTIME, t4);
}

/* Read every datagram queued on the socket; the first one that echoes our
 * cookie ends the request, anything else is noted and dropped. */
static void handle_readable(struct probe_ctx *c, struct server *s)
{
	uint8_t buf[NTP_PACKET_MAX];
	union {
		char b[CMSG_SPACE(sizeof(struct timespec))];
		struct cmsghdr align;
	} ctl;

	while (s->fd >= 0) {
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
				    .msg_control = ctl.b, .msg_controllen = sizeof(ctl.b) };
		struct ntp_packet p;
		struct timespec t4;
		enum ntp_check k;
		ssize_t len = recvmsg(s->fd, &m, MSG_TRUNC);

		if (len < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				network_error(c, s, errno);
			return;
		}
		rx_time(&m, &t4);
		k = (m.msg_flags & MSG_TRUNC) ? NTP_BAD_LENGTH
					      : ntp_packet_parse(buf, (size_t)len, &p);
		if (k == NTP_VALID)
			k = ntp_reply_check(&p, s->cookie, NTP_VERSION, c->lim->max_stratum);
		if (k == NTP_BAD_LENGTH || k == NTP_BAD_ORIGIN) {
			note_fail(s, RANK_UNAUTHENTIC, PROBE_BOGUS,
				  k == NTP_BAD_LENGTH ?
				  xasprintf("malformed reply of %zd bytes", len) :
				  xstrdup(ntp_check_str(k)));
			continue;
		}
		handle_reply(c, s, &p, k, &t4);
	}
}

static void fill_sockaddr(struct server *s)
{
	uint16_t port = htons(s->t->port ? s->t->port : NTP_PORT);

	memset(&s->sa, 0, sizeof(s->sa));
	if (s->t->addr.family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&s->sa;

		a->sin6_family = AF_INET6;
		a->sin6_port = port;
		a->sin6_addr = s->t->addr.v6;
		s->salen = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&s->sa;

		a->sin_family = AF_INET;
		a->sin_port = port;
		a->sin_addr = s->t->addr.v4;
		s->salen = sizeof(*a);
	}
}

static uint64_t new_cookie(void)
{
	uint64_t v = 0;

	/* getrandom() of 8 bytes never returns short once the pool is ready
	 * (it blocks until then); loop anyway on EINTR. */
	while (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v))
		;
	return v ? v : 1;	/* a zero transmit timestamp would look unset */
}

/* Open, connect and send one request. Returns 0, or -EMFILE/-ENFILE when
 * out of descriptors (the request stays queued); other errors end the
 * sample as a network failure. */
static int send_request(struct probe_ctx *c, struct server *s, int64_t now)
{
	uint8_t req[NTP_HEADER_LEN];
	struct epoll_event ev = { .events = EPOLLIN };
	int one = 1, fd;

	fd = socket(s->sa.ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 && (errno == EMFILE || errno == ENFILE))
		return -errno;
	if (!s->res->samples_sent)
		s->first_send = now;
	s->res->samples_sent++;
	if (fd < 0) {
		network_error(c, s, errno);
		return 0;
	}
	s->fd = fd;
	c->inflight++;
	(void)setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
	s->cookie = new_cookie();
	ntp_request_encode(req, s->cookie);
	ev.data.u64 = (uint64_t)(s - c->s);
	if (connect(fd, (struct sockaddr *)&s->sa, s->salen) < 0 ||
	    epoll_ctl(c->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		network_error(c, s, errno);
		return 0;
	}
	clock_gettime(CLOCK_REALTIME, &s->t1);
	if (send(fd, req, sizeof(req), 0) != (ssize_t)sizeof(req)) {
		network_error(c, s, errno);
		return 0;
	}
	s->deadline = now + (int64_t)c->lim->timeout_ms * NS_PER_MS;
	return 0;
}

/* Send what is due while slots are free; expire what timed out. Returns the
 * monotonic time of the next thing to do. */
static int64_t service_timers(struct probe_ctx *c, int64_t now)
{
	int64_t next = INT64_MAX;

	for (size_t i = 0; i < c->n; i++) {
		struct server *s = &c->s[i];

		if (s->done)
			continue;
		if (s->fd >= 0 && s->deadline <= now) {
			note_fail(s, RANK_TIMEOUT, PROBE_TIMEOUT,
				  xasprintf("no reply within %llu ms",
					    (unsigned long long)c->lim->timeout_ms));
			end_request(c, s, false);
			if (s->done)
				continue;
		}
		if (s->fd < 0 && s->next_send <= now && c->inflight < c->max_inflight) {
			int ret = send_request(c, s, now);

			if (ret < 0) {
				/* Out of descriptors: shrink the cap to what
				 * works and retry when one is freed. */
				c->max_inflight = c->inflight ? c->inflight : 1;
				if (!c->inflight) {
					note_fail(s, RANK_NETWORK, PROBE_UNREACHABLE,
						  xasprintf("socket: %s", strerror(-ret)));
					end_request(c, s, true);
				}
			}
			if (s->done)
				continue;
		}
		if (s->fd >= 0)
			next = s->deadline < next ? s->deadline : next;
		else if (c->inflight < c->max_inflight)
			next = s->next_send < next ? s->next_send : next;
	}
	return next;
}

size_t probe_fds_wanted(size_t n, unsigned wanted)
{
	if (!wanted)
		wanted = PROBE_DEFAULT_INFLIGHT;
	return (n < wanted ? n : wanted) + PROBE_FD_RESERVE;
}

/* Requests allowed in flight: the wanted cap (default 128), within what the
 * soft descriptor limit allows (a process's limits are its caller's to
 * raise: see probe_fds_wanted()). */
static size_t inflight_cap(size_t n, unsigned wanted)
{
	struct rlimit rl;
	size_t cap = n;

	if (!wanted)
		wanted = PROBE_DEFAULT_INFLIGHT;
	if (!getrlimit(RLIMIT_NOFILE, &rl)) {
		if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < cap + PROBE_FD_RESERVE)
			cap = rl.rlim_cur > 2 * PROBE_FD_RESERVE ? rl.rlim_cur - PROBE_FD_RESERVE
								 : rl.rlim_cur / 2;
	}
	if (wanted < cap)
		cap = wanted;
	return cap ? cap : 1;
}

static void run_loop(struct probe_ctx *c)
{
	struct epoll_event ev[PROBE_EVENTS];

	while (c->remaining) {
		int64_t now = mono_ns(), next = service_timers(c, now);
		int wait_ms, k;

		if (!c->remaining)
			break;
		now = mono_ns();
		wait_ms = next == INT64_MAX ? 1000 : next <= now ? 0
			  : (int)((next - now + NS_PER_MS - 1) / NS_PER_MS);
		k = epoll_pwait(c->epfd, ev, PROBE_EVENTS, wait_ms, c->sigmask);
		/* Only a caller that unblocks signals for the wait sees EINTR
		 * here: it asked to be told (apply --probe reverts). */
		if (k < 0 && errno == EINTR && c->sigmask) {
			c->interrupted = true;
			break;
		}
		for (int i = 0; i < k; i++) {
			struct server *s = &c->s[ev[i].data.u64];

			if (s->fd >= 0)
				handle_readable(c, s);
		}
	}
}

/* The server's verdict from its best sample or its worst failure. */
static void finish_server(const struct policy_probe *lim, struct server *s)
{
	struct probe_result *r = s->res;
	double off = ntp_fp_to_double(r->offset);
	double aoff = off < 0 ? -off : off;

	if (s->rank == RANK_KISS_FINAL || !r->has_sample) {
		r->status = s->rank == RANK_NONE ? PROBE_TIMEOUT : s->fail;
		r->reason = s->fail_reason ? s->fail_reason : xstrdup("no request sent");
		s->fail_reason = NULL;
		return;
	}
	if (aoff * 1e3 > (double)lim->crit_offset_ms) {
		r->status = PROBE_OFFSET;
		r->reason = xasprintf("offset %+.6f s beyond the critical %.3f s", off,
				      lim->crit_offset_ms / 1e3);
	} else if (aoff * 1e3 > (double)lim->warn_offset_ms) {
		r->warn = true;
		r->reason = xasprintf("offset %+.6f s beyond the warning %.3f s", off,
				      lim->warn_offset_ms / 1e3);
	} else {
		r->reason = xasprintf("%u of %u samples valid", r->samples_ok, r->samples_sent);
	}
}

void probe_results_free(struct probe_results *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].name);
		free(r->v[i].reason);
	}
	free(r->v);
	free(r);
}

int probe_run(const struct probe_target *t, size_t n, const struct probe_options *o,
	      struct probe_results **out)
{
	struct probe_ctx c = { .n = n, .remaining = n, .lim = &o->limits, .sigmask = o->sigmask };
	struct probe_results *r;

	*out = NULL;
	if (!o->limits.samples || !o->limits.timeout_ms || !o->limits.max_stratum)
		return -EINVAL;
	c.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (c.epfd < 0)
		return -errno;
	r = xcalloc(1, sizeof(*r));
	r->v = xcalloc(n ? n : 1, sizeof(*r->v));
	r->n = n;
	c.s = xcalloc(n ? n : 1, sizeof(*c.s));
	c.max_inflight = r->max_inflight = inflight_cap(n, o->max_inflight);
	for (size_t i = 0; i < n; i++) {
		c.s[i] = (struct server){ .t = &t[i], .res = &r->v[i], .fd = -1 };
		r->v[i].name = xstrdup(t[i].name ? t[i].name : "");
		r->v[i].addr = t[i].addr;
		r->v[i].port = t[i].port ? t[i].port : NTP_PORT;
		fill_sockaddr(&c.s[i]);
	}
	run_loop(&c);
	for (size_t i = 0; i < n; i++) {
		finish_server(&o->limits, &c.s[i]);
		free(c.s[i].fail_reason);
	}
	free(c.s);
	close(c.epfd);
	probe_results_select(r);
	*out = r;
	return c.interrupted ? -EINTR : 0;
}
