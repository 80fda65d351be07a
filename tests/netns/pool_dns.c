/* A DNS responder that behaves like pool.ntp.org, for the lockstep test:
 * each A or AAAA query for a pool name gets up to 4 of that name's addresses
 * of the family, chosen at random per query, TTL 130; other names get
 * NXDOMAIN. SIGUSR1 toggles "down" (every query dropped, as a dead resolver),
 * SIGUSR2 toggles SERVFAIL for everything. One line on stdout per query and
 * per toggle; "ready" once the socket is bound.
 * Usage: pool_dns ADDR:PORT|[V6]:PORT NAME=ADDR[,ADDR...]... */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_NAMES 8
#define MAX_ADDRS 64	/* per family and name */
#define PICK 4		/* answers per query, as pool.ntp.org gives */
#define TTL 130
#define NAME_MAX_TEXT 253	/* RFC 1035 s2.3.4: 255 octets on the wire */
#define QUERY_MAX 1500	/* larger datagrams are truncated and refused */
/* 12 header + 255 name + 4 + PICK x (2 pointer + 10 fixed + 16 AAAA) = 383 */
#define ANSWER_MAX 512

enum { T_A = 1, T_AAAA = 28, C_IN = 1 };
enum { RC_OK = 0, RC_FORMERR = 1, RC_SERVFAIL = 2, RC_NXDOMAIN = 3, RC_NOTIMP = 4, RC_REFUSED = 5 };

struct pool {
	char name[NAME_MAX_TEXT + 1];
	struct in_addr v4[MAX_ADDRS];
	struct in6_addr v6[MAX_ADDRS];
	int n4, n6;
};

static volatile sig_atomic_t toggle_down, toggle_servfail;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		toggle_down = 1;
	else
		toggle_servfail = 1;
}

/* NAME=ADDR,ADDR,... into p; -1 on a bad name, address or count. */
static int pool_parse(char *arg, struct pool *p)
{
	char *eq = strchr(arg, '='), *tok, *save;

	if (!eq || eq == arg || (size_t)(eq - arg) > NAME_MAX_TEXT)
		return -1;
	for (size_t i = 0; i < (size_t)(eq - arg); i++) {
		char c = arg[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		else if (!(c >= 'a' && c <= 'z') && !(c >= '0' && c <= '9') && c != '-' && c != '.')
			return -1;
		p->name[i] = c;
	}
	p->name[eq - arg] = '\0';
	for (tok = strtok_r(eq + 1, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (p->n4 < MAX_ADDRS && inet_pton(AF_INET, tok, &p->v4[p->n4]) == 1)
			p->n4++;
		else if (p->n6 < MAX_ADDRS && inet_pton(AF_INET6, tok, &p->v6[p->n6]) == 1)
			p->n6++;
		else
			return -1;
	}
	return p->n4 + p->n6 ? 0 : -1;
}

static int bind_spec(const char *spec)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon = strrchr(spec, ':');
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	size_t hlen;
	long port;
	char *end;
	int fd;

	if (!colon || (hlen = (size_t)(colon - spec)) == 0 || hlen >= sizeof(host))
		return -1;
	port = strtol(colon + 1, &end, 10);
	if (*end || port < 1 || port > 65535)
		return -1;
	memcpy(host, spec, hlen);
	host[hlen] = '\0';
	if (host[0] == '[' && host[hlen - 1] == ']') {
		host[hlen - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &in6->sin6_addr) != 1)
			return -1;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
	} else if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
	} else {
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&ss, ss.ss_family == AF_INET ? sizeof(*in) : sizeof(*in6))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The question's name at q[12..] as lower-case text in out (at least
 * NAME_MAX_TEXT + 1 bytes; a byte no host name holds becomes '?', so it
 * matches no pool); returns the offset just past it, or -1 when it is
 * malformed or runs past len. */
static int read_qname(const uint8_t *q, size_t len, char *out)
{
	size_t off = 12, o = 0, wire = 0;

	for (;;) {
		uint8_t l;

		if (off >= len)
			return -1;
		l = q[off++];
		wire += 1u + l;
		if (l == 0)
			break;
		/* No compression pointer belongs in a lone question (RFC 1035 s4.1.4). */
		if (l > 63 || wire + 1 > 255 || off + l > len)
			return -1;
		if (o)
			out[o++] = '.';
		for (uint8_t i = 0; i < l; i++) {
			char c = (char)q[off + i];

			if (c >= 'A' && c <= 'Z')
				c = (char)(c - 'A' + 'a');
			else if (!(c >= 'a' && c <= 'z') && !(c >= '0' && c <= '9') && c != '-')
				c = '?';
			out[o++] = c;
		}
		off += l;
	}
	out[o] = '\0';
	return (int)off;
}

static void put16(uint8_t *b, unsigned v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

/* Up to PICK of the n indexes, in random order, into idx; returns the count. */
static int pick(int n, int *idx)
{
	int all[MAX_ADDRS], k = n < PICK ? n : PICK;

	for (int i = 0; i < n; i++)
		all[i] = i;
	for (int i = 0; i < k; i++) {
		int j = i + (int)arc4random_uniform((uint32_t)(n - i)), t = all[i];

		all[i] = all[j];
		all[j] = t;
		idx[i] = all[i];
	}
	return k;
}

/* Builds the answer to q in a; returns its length, 0 for no answer. */
static size_t answer(const uint8_t *q, size_t len, const struct pool *pools, int np,
		     bool servfail, uint8_t *a)
{
	char name[NAME_MAX_TEXT + 1], text[INET6_ADDRSTRLEN];
	const struct pool *p = NULL;
	unsigned qtype = 0, rcode = RC_OK;
	int end = -1, idx[PICK], n = 0;
	size_t alen;

	if (len < 12 || (q[2] & 0x80))
		return 0;	/* no header to answer, or a response */
	if ((q[2] >> 3 & 0xf) != 0) {
		rcode = RC_NOTIMP;
	} else if (q[4] != 0 || q[5] != 1 || (end = read_qname(q, len, name)) < 0 ||
		   (size_t)end + 4 > len) {
		rcode = RC_FORMERR;
		end = -1;	/* no question to echo */
	}
	if (rcode == RC_OK) {
		qtype = (unsigned)q[end] << 8 | q[end + 1];
		if (((unsigned)q[end + 2] << 8 | q[end + 3]) != C_IN)
			rcode = RC_REFUSED;
		else if (servfail)
			rcode = RC_SERVFAIL;
		for (int i = 0; i < np && !p; i++)
			if (!strcmp(pools[i].name, name))
				p = &pools[i];
		if (rcode == RC_OK && !p)
			rcode = RC_NXDOMAIN;
	}
	memcpy(a, q, 2);
	a[2] = (uint8_t)(0x80 | (q[2] & 0x79) | 0x04);	/* QR, opcode, AA, RD */
	a[3] = (uint8_t)rcode;
	memset(a + 4, 0, 8);
	alen = 12;
	if (end > 0) {	/* echo the question as it came, case included */
		memcpy(a + 12, q + 12, (size_t)end + 4 - 12);
		alen = (size_t)end + 4;
		put16(a + 4, 1);
	}
	if (rcode == RC_OK && qtype == T_A)
		n = pick(p->n4, idx);
	else if (rcode == RC_OK && qtype == T_AAAA)
		n = pick(p->n6, idx);
	printf("query %s %u rcode %u:", end > 0 ? name : "-", qtype, rcode);
	for (int i = 0; i < n; i++) {
		unsigned rdlen = qtype == T_A ? 4 : 16;
		uint8_t *r = a + alen;

		put16(r, 0xc00c);	/* the name of the question */
		put16(r + 2, qtype);
		put16(r + 4, C_IN);
		put16(r + 6, 0);
		put16(r + 8, TTL);
		put16(r + 10, rdlen);
		memcpy(r + 12, qtype == T_A ? (const void *)&p->v4[idx[i]] : (const void *)&p->v6[idx[i]],
		       rdlen);
		alen += 12 + rdlen;
		inet_ntop(qtype == T_A ? AF_INET : AF_INET6, r + 12, text, sizeof(text));
		printf(" %s", text);
	}
	printf("\n");
	put16(a + 6, (unsigned)n);
	return alen;
}

int main(int argc, char **argv)
{
	static struct pool pools[MAX_NAMES];
	struct sigaction sa = { .sa_handler = on_signal };
	bool down = false, servfail = false;
	sigset_t block, wait_mask;
	int fd, np = 0;

	if (argc < 3 || argc - 2 > MAX_NAMES) {
		fprintf(stderr, "usage: pool_dns ADDR:PORT NAME=ADDR[,ADDR...]... (at most %d names)\n",
			MAX_NAMES);
		return 2;
	}
	for (int i = 2; i < argc; i++, np++)
		if (pool_parse(argv[i], &pools[np]) < 0) {
			fprintf(stderr, "pool_dns: bad pool '%s' (NAME=ADDR,..., at most %d per family)\n",
				argv[i], MAX_ADDRS);
			return 2;
		}
	errno = 0;
	fd = bind_spec(argv[1]);
	if (fd < 0) {
		fprintf(stderr, "pool_dns: %s: %s\n", argv[1], errno ? strerror(errno) : "bad address");
		return 1;
	}
	/* The toggles are taken only inside ppoll, so none is left unreported
	 * while the loop waits. */
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGUSR2);
	sigprocmask(SIG_BLOCK, &block, &wait_mask);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready\n");
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		uint8_t q[QUERY_MAX], a[ANSWER_MAX];
		struct sockaddr_storage from;
		socklen_t flen = sizeof(from);
		ssize_t len;
		size_t alen;

		if (ppoll(&pfd, 1, NULL, &wait_mask) < 0 && errno != EINTR)
			return 1;
		if (toggle_down || toggle_servfail) {
			down ^= toggle_down;
			servfail ^= toggle_servfail;
			toggle_down = toggle_servfail = 0;
			printf("down %s servfail %s\n", down ? "on" : "off", servfail ? "on" : "off");
		}
		if (!(pfd.revents & POLLIN))
			continue;
		len = recvfrom(fd, q, sizeof(q), MSG_TRUNC | MSG_DONTWAIT, (struct sockaddr *)&from, &flen);
		if (len < 0)
			continue;
		if (down || (size_t)len > sizeof(q)) {
			printf("dropped %zd bytes\n", len);
			continue;
		}
		alen = answer(q, (size_t)len, pools, np, servfail, a);
		if (alen)
			(void)sendto(fd, a, alen, 0, (struct sockaddr *)&from, flen);
	}
}
