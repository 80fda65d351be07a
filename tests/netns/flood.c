/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Test helper: a flood of NTP client requests (48 bytes, VN 4, mode 3) from
 * spoofed source addresses, written whole (Ethernet, IPv4 or IPv6, UDP with
 * its checksum) to an AF_PACKET socket, so no source needs to be local.
 * Usage: flood -i IFACE -m DSTMAC -d DSTADDR -s SRC[/LEN] [-o OFFSET]
 *              [-N SOURCES] [-c COUNT] [-r PPS] [-p SPORT]
 * With /LEN the sources are SOURCES addresses of the prefix, from its
 * OFFSET-th address on (the prefix must hold them); packet i comes from
 * source i mod SOURCES. Without /LEN, every packet comes from SRC. COUNT
 * packets (default 1) go out at PPS packets a second (0, the default: as
 * fast as the socket takes them), in batches of about a millisecond's worth
 * on an absolute clock_nanosleep schedule, at most PPS: a sender that falls
 * behind does not catch up in a burst.
 * Prints "flood: sent K of COUNT packets from N sources in S s (R/s)".
 * Exit 0 when every packet was sent, 1 when some were not, 2 on error. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/udp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NTP_LEN 48
#define FRAME_MAX \
	(sizeof(struct ether_header) + sizeof(struct ip6_hdr) + sizeof(struct udphdr) + NTP_LEN)
#define BATCH_MAX 64

struct flood {
	int af;
	unsigned char src[16], dst[16];	/* the first source's prefix; network order */
	uint16_t sport;
	unsigned char frame[FRAME_MAX];	/* the template */
	size_t len;
};

static int usage(void)
{
	fprintf(stderr, "usage: flood -i IFACE -m DSTMAC -d DSTADDR -s SRC[/LEN] [-o OFFSET]\n"
			"             [-N SOURCES] [-c COUNT] [-r PPS] [-p SPORT]\n");
	return 2;
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

static uint32_t sum16(const void *p, size_t len, uint32_t sum)
{
	const unsigned char *b = p;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)b[i] << 8 | b[i + 1];
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* src = base + k, in the low 64 bits of an IPv6 address or all 32 of IPv4. */
static void source_add(const struct flood *f, uint64_t k, unsigned char *out)
{
	size_t alen = f->af == AF_INET ? 4 : 16, low = alen == 4 ? 4 : 8;
	uint64_t v = 0;

	memcpy(out, f->src, alen);
	for (size_t i = alen - low; i < alen; i++)
		v = v << 8 | out[i];
	v += k;
	for (size_t i = alen; i-- > alen - low; v >>= 8)
		out[i] = (unsigned char)v;
}

/* Write packet k's source and checksums into frame (a copy of the template). */
static void packet_fill(const struct flood *f, uint64_t k, unsigned char *frame)
{
	unsigned char *l3 = frame + sizeof(struct ether_header);
	struct udphdr *udp;
	uint32_t sum;

	if (f->af == AF_INET) {
		struct iphdr *ip = (struct iphdr *)l3;

		source_add(f, k, (unsigned char *)&ip->saddr);
		ip->check = 0;
		ip->check = htons(fold(sum16(ip, sizeof(*ip), 0)));
		udp = (struct udphdr *)(ip + 1);
		sum = sum16(&ip->saddr, 8, 0);	/* saddr, daddr */
		sum += IPPROTO_UDP + sizeof(*udp) + NTP_LEN;
	} else {
		struct ip6_hdr *ip6 = (struct ip6_hdr *)l3;

		source_add(f, k, (unsigned char *)&ip6->ip6_src);
		udp = (struct udphdr *)(ip6 + 1);
		sum = sum16(&ip6->ip6_src, 32, 0);	/* src, dst */
		sum += IPPROTO_UDP + sizeof(*udp) + NTP_LEN;
	}
	udp->check = 0;
	sum = sum16(udp, sizeof(*udp) + NTP_LEN, sum);
	udp->check = htons(fold(sum) ? fold(sum) : 0xffff);
}

static void template_build(struct flood *f, const unsigned char *dmac, const unsigned char *smac)
{
	struct ether_header *eth = (struct ether_header *)f->frame;
	unsigned char *l3 = f->frame + sizeof(*eth);
	struct udphdr *udp;

	memset(f->frame, 0, sizeof(f->frame));
	memcpy(eth->ether_dhost, dmac, ETH_ALEN);
	memcpy(eth->ether_shost, smac, ETH_ALEN);
	if (f->af == AF_INET) {
		struct iphdr *ip = (struct iphdr *)l3;

		eth->ether_type = htons(ETHERTYPE_IP);
		ip->version = 4;
		ip->ihl = 5;
		ip->tot_len = htons(sizeof(*ip) + sizeof(*udp) + NTP_LEN);
		ip->ttl = 64;
		ip->protocol = IPPROTO_UDP;
		memcpy(&ip->daddr, f->dst, 4);
		udp = (struct udphdr *)(ip + 1);
	} else {
		struct ip6_hdr *ip6 = (struct ip6_hdr *)l3;

		eth->ether_type = htons(ETHERTYPE_IPV6);
		ip6->ip6_flow = htonl(6u << 28);
		ip6->ip6_plen = htons(sizeof(*udp) + NTP_LEN);
		ip6->ip6_nxt = IPPROTO_UDP;
		ip6->ip6_hlim = 64;
		memcpy(&ip6->ip6_dst, f->dst, 16);
		udp = (struct udphdr *)(ip6 + 1);
	}
	udp->source = htons(f->sport);
	udp->dest = htons(123);
	udp->len = htons(sizeof(*udp) + NTP_LEN);
	((unsigned char *)(udp + 1))[0] = 0x23;	/* LI 0, VN 4, mode 3 */
	f->len = (size_t)((unsigned char *)(udp + 1) + NTP_LEN - f->frame);
}

static int mac_parse(const char *s, unsigned char *mac)
{
	unsigned v[ETH_ALEN];
	char tail;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &tail) != 6)
		return -1;
	for (int i = 0; i < ETH_ALEN; i++)
		mac[i] = (unsigned char)v[i];
	return 0;
}

/* Sleep until *next + step_ns. A sender more than 5 ms behind (descheduled
 * on a busy machine) starts its schedule again from now rather than
 * catching up at full speed: that burst would overflow the receiver's
 * socket (some 250 requests) and measure the pause, not the rate. */
static void pace(struct timespec *next, long long step_ns)
{
	struct timespec t;
	long long ns = next->tv_nsec + step_ns;

	next->tv_sec += (time_t)(ns / 1000000000LL);
	next->tv_nsec = (long)(ns % 1000000000LL);
	clock_gettime(CLOCK_MONOTONIC, &t);
	if ((t.tv_sec - next->tv_sec) * 1000000000LL + (t.tv_nsec - next->tv_nsec) > 5000000) {
		*next = t;
		return;
	}
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, next, NULL) == EINTR)
		;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct opts {
	const char *ifname, *dmac, *dst, *src;
	long long offset, nsrc, count, pps, sport;
};

/* 0, or 2 after a usage message. */
static int opts_parse(int argc, char **argv, struct opts *o)
{
	int c;

	*o = (struct opts){ .nsrc = 1, .count = 1, .sport = 40123 };
	while ((c = getopt(argc, argv, "i:m:d:s:o:N:c:r:p:")) != -1) {
		switch (c) {
		case 'i':
			o->ifname = optarg;
			break;
		case 'm':
			o->dmac = optarg;
			break;
		case 'd':
			o->dst = optarg;
			break;
		case 's':
			o->src = optarg;
			break;
		case 'o':
			o->offset = number(optarg, UINT32_MAX);
			break;
		case 'N':
			o->nsrc = number(optarg, UINT32_MAX);
			break;
		case 'c':
			o->count = number(optarg, 100000000);
			break;
		case 'r':
			o->pps = number(optarg, 10000000);
			break;
		case 'p':
			o->sport = number(optarg, 65535);
			break;
		default:
			return usage();
		}
	}
	if (optind != argc || !o->ifname || !o->dmac || !o->dst || !o->src)
		return usage();
	if (o->offset < 0 || o->nsrc < 1 || o->count < 0 || o->pps < 0 || o->sport < 1)
		return fprintf(stderr, "flood: -o, -N, -c, -r or -p out of range\n"), 2;
	return 0;
}

/* The addresses into f, SRC's prefix masked; 0 or 2 after a message. The
 * sources must fit in the prefix: offset + nsrc <= 2^host_bits (offset and
 * nsrc are below 2^32; IPv6 steps in its low 64 bits). One source is SRC
 * itself. */
static int addrs_parse(const struct opts *o, struct flood *f)
{
	char src[INET6_ADDRSTRLEN + 8], *slash;
	long long len, host_bits, bits;

	if (strlen(o->src) >= sizeof(src))
		return fprintf(stderr, "flood: bad source '%s'\n", o->src), 2;
	strcpy(src, o->src);
	slash = strchr(src, '/');
	if (slash)
		*slash++ = '\0';
	f->af = strchr(o->dst, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(f->af, o->dst, f->dst) != 1 || inet_pton(f->af, src, f->src) != 1)
		return fprintf(stderr, "flood: '%s' and '%s' must be addresses of one family\n",
			       o->dst, src), 2;
	if (!slash) {
		if (o->offset != 0 || o->nsrc != 1)
			return fprintf(stderr, "flood: -o and -N need SRC/LEN\n"), 2;
		return 0;
	}
	bits = f->af == AF_INET ? 32 : 128;
	len = number(slash, bits);
	if (len < 0)
		return fprintf(stderr, "flood: bad prefix length '/%s'\n", slash), 2;
	host_bits = bits - len > 64 ? 64 : bits - len;
	for (long long b = len; b < bits; b++)
		f->src[b / 8] &= (unsigned char)~(0x80 >> (b % 8));
	if (host_bits < 34 && o->offset + o->nsrc > 1LL << host_bits)
		return fprintf(stderr, "flood: /%lld holds %lld addresses, not %lld from offset %lld\n",
			       len, 1LL << host_bits, o->nsrc, o->offset), 2;
	return 0;
}

/* A packet socket on ifname with ll aimed at dmac, and f's template built
 * from the interface's own MAC; the socket, or -1 after a message. */
static int socket_open(const char *ifname, const unsigned char *dmac, struct sockaddr_ll *ll,
		       struct flood *f)
{
	struct ifreq ifr = { 0 };
	int fd;

	if (strlen(ifname) >= sizeof(ifr.ifr_name))
		return fprintf(stderr, "flood: bad interface '%s'\n", ifname), -1;
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);	/* protocol 0: sends only */
	if (fd < 0)
		return perror("flood: socket"), -1;
	strcpy(ifr.ifr_name, ifname);
	ll->sll_ifindex = (int)if_nametoindex(ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0 || ll->sll_ifindex == 0) {
		perror("flood: SIOCGIFHWADDR");
		close(fd);
		return -1;
	}
	memcpy(ll->sll_addr, dmac, ETH_ALEN);
	template_build(f, dmac, (unsigned char *)ifr.ifr_hwaddr.sa_data);
	return fd;
}

/* Send n frames whole, retrying while the device is busy; how many went,
 * or -1 on an error other than a full queue. */
static int batch_send(int fd, struct mmsghdr *msgs, int n)
{
	int done = 0, tries = 0;

	while (done < n) {
		int r = sendmmsg(fd, msgs + done, (unsigned)(n - done), 0);

		if (r > 0) {
			done += r;
			continue;
		}
		if (r < 0 && errno != ENOBUFS && errno != EAGAIN && errno != EINTR)
			return perror("flood: sendmmsg"), -1;
		if (++tries > 100)	/* the device keeps refusing: give up on the rest */
			break;
		usleep(100);
	}
	return done;
}

/* The whole flood; how many packets went, or -1. */
static long long flood_run(int fd, const struct opts *o, const struct flood *f, struct sockaddr_ll *ll)
{
	static unsigned char frames[BATCH_MAX][FRAME_MAX];
	struct mmsghdr msgs[BATCH_MAX];
	struct iovec iov[BATCH_MAX];
	long long sent = 0, batch = BATCH_MAX;
	struct timespec next;

	/* About a millisecond's worth of packets a batch. */
	if (o->pps > 0)
		batch = o->pps / 1000 < 1 ? 1 : o->pps / 1000 > BATCH_MAX ? BATCH_MAX : o->pps / 1000;
	for (int i = 0; i < BATCH_MAX; i++) {
		iov[i] = (struct iovec){ .iov_base = frames[i], .iov_len = f->len };
		msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = ll, .msg_namelen = sizeof(*ll),
							 .msg_iov = &iov[i], .msg_iovlen = 1 } };
	}
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (long long k = 0; k < o->count;) {
		int n = (int)(o->count - k < batch ? o->count - k : batch), done;

		for (int i = 0; i < n; i++) {
			memcpy(frames[i], f->frame, f->len);
			packet_fill(f, (uint64_t)(o->offset + (k + i) % o->nsrc), frames[i]);
		}
		done = batch_send(fd, msgs, n);
		if (done < 0)
			return -1;
		sent += done;
		k += n;
		if (o->pps > 0)
			pace(&next, n * 1000000000LL / o->pps);
	}
	return sent;
}

int main(int argc, char **argv)
{
	struct sockaddr_ll ll = { .sll_family = AF_PACKET, .sll_halen = ETH_ALEN };
	unsigned char dmac[ETH_ALEN];
	struct flood f = { 0 };
	struct opts o;
	long long sent;
	double t0, t;
	int r, fd;

	r = opts_parse(argc, argv, &o);
	if (r)
		return r;
	if (mac_parse(o.dmac, dmac))
		return fprintf(stderr, "flood: bad MAC address '%s'\n", o.dmac), 2;
	r = addrs_parse(&o, &f);
	if (r)
		return r;
	f.sport = (uint16_t)o.sport;
	fd = socket_open(o.ifname, dmac, &ll, &f);
	if (fd < 0)
		return 2;
	t0 = now();
	sent = flood_run(fd, &o, &f, &ll);
	t = now() - t0;
	close(fd);
	if (sent < 0)
		return 2;
	printf("flood: sent %lld of %lld packets from %lld sources in %.3f s (%.0f/s)\n",
	       sent, o.count, o.nsrc < o.count ? o.nsrc : o.count, t, t > 0 ? (double)sent / t : 0.0);
	return sent < o.count ? 1 : 0;
}
