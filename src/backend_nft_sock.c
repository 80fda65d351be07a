/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The nft backend's transport: the NETLINK_NETFILTER socket with extended
 * ACKs, sequence numbers, one request and every reply to it (a dump or an
 * ACK), a whole batch in one sendmsg() with a non-blocking drain of its
 * replies, and the ruleset generation. No IR here: the layers above build
 * the messages and make sense of the replies. */
#include "backend_nft_sock.h"
#include "ntpwall/util.h"

#include <errno.h>
#include <libnftnl/batch.h>
#include <libnftnl/common.h>
#include <libnftnl/gen.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

int bnft_sock_open(struct bnft_sock *s)
{
	int one = 1, ret;

	memset(s, 0, sizeof(*s));
	s->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!s->nl)
		return -errno;
	if (mnl_socket_bind(s->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		mnl_socket_close(s->nl);
		s->nl = NULL;
		return ret;
	}
	/* Extended ACK for the kernel's messages; CAP_ACK so an error does
	 * not echo the whole (up to 64 KiB) offending message. */
	(void)mnl_socket_setsockopt(s->nl, NETLINK_EXT_ACK, &one, sizeof(one));
	(void)mnl_socket_setsockopt(s->nl, NETLINK_CAP_ACK, &one, sizeof(one));
	s->portid = mnl_socket_get_portid(s->nl);
	s->seq = (uint32_t)time(NULL);
	s->buf_len = BNFT_RECV_BUF;
	s->buf = xmalloc(s->buf_len);
	return 0;
}

void bnft_sock_close(struct bnft_sock *s)
{
	if (s->nl)
		mnl_socket_close(s->nl);
	free(s->buf);
	memset(s, 0, sizeof(*s));
}

uint32_t bnft_sock_next_seq(struct bnft_sock *s)
{
	return s->seq++;
}

int bnft_sock_talk(struct bnft_sock *s, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	uint32_t seq = nlh->nlmsg_seq;
	ssize_t n;
	int ret;

	if (mnl_socket_sendto(s->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		n = mnl_socket_recvfrom(s->nl, s->buf, s->buf_len);
		if (n < 0)
			return -errno;
		ret = mnl_cb_run(s->buf, (size_t)n, seq, s->portid, cb, data);
		if (ret < 0)
			return errno ? -errno : -EIO;
	} while (ret > 0);
	return 0;
}

static int gen_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_gen *g = nftnl_gen_alloc();

	if (nftnl_gen_nlmsg_parse(nlh, g) == 0)
		*(uint32_t *)data = nftnl_gen_get_u32(g, NFTNL_GEN_ID);
	nftnl_gen_free(g);
	return MNL_CB_OK;
}

int bnft_sock_generation(struct bnft_sock *s, uint32_t *genid)
{
	char buf[256];	/* nlmsghdr + nfgenmsg */
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETGEN, AF_UNSPEC, NLM_F_ACK,
						     bnft_sock_next_seq(s));

	*genid = 0;
	return bnft_sock_talk(s, nlh, gen_cb, genid);
}

/* Socket buffers for a batch of len bytes and n replies; root can force
 * them past the sysctl limits (nft mnl_set_sndbuffer). */
static void size_buffers(struct bnft_sock *s, size_t len, size_t n)
{
	int fd = mnl_socket_get_fd(s->nl);
	int snd = (int)(len + 65536), rcv = (int)(n * 1024 + 262144);

	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &snd, sizeof(snd)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &snd, sizeof(snd));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
}

/* Every batch page in one sendmsg(): one transaction. */
static int send_pages(struct bnft_sock *s, struct nftnl_batch *batch, size_t n_msgs)
{
	struct sockaddr_nl snl = { .nl_family = AF_NETLINK };
	int n_iov = nftnl_batch_iovec_len(batch);
	struct iovec *iov = xcalloc((size_t)n_iov, sizeof(*iov));
	struct msghdr msg = { .msg_name = &snl, .msg_namelen = sizeof(snl), .msg_iov = iov,
			      .msg_iovlen = (size_t)n_iov };
	size_t len = 0;
	ssize_t r;

	nftnl_batch_iovec(batch, iov, (uint32_t)n_iov);
	for (int i = 0; i < n_iov; i++)
		len += iov[i].iov_len;
	size_buffers(s, len, n_msgs);
	r = sendmsg(mnl_socket_get_fd(s->nl), &msg, 0);
	free(iov);
	return r < 0 ? -errno : 0;
}

/* The batch runs synchronously inside sendmsg, so every reply is queued by
 * then and the drain never blocks. */
int bnft_sock_send_batch(struct bnft_sock *s, struct nftnl_batch *batch, size_t n_msgs,
			 mnl_cb_t err_cb, void *data, bool *lost)
{
	mnl_cb_t ctl[NLMSG_MIN_TYPE] = { [NLMSG_ERROR] = err_cb };
	int ret = send_pages(s, batch, n_msgs);
	ssize_t r;

	if (ret < 0)
		return ret;
	for (;;) {
		r = recv(mnl_socket_get_fd(s->nl), s->buf, s->buf_len, MSG_DONTWAIT);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (r < 0 && errno == ENOBUFS) {
			*lost = true;
			continue;
		}
		if (r < 0)
			return -errno;
		if (mnl_cb_run2(s->buf, (size_t)r, 0, s->portid, NULL, data, ctl,
				NLMSG_MIN_TYPE) < 0 && errno != EINTR)
			return -errno;
	}
	return 0;
}
