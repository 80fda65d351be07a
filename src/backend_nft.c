/* The nft backend through libnftnl + libmnl: the netlink socket, the
 * ruleset generation, and sending a transaction in one sendmsg() then
 * draining every reply, mapping each kernel error (with its extended ACK
 * message and offset) back to the set, element, chain or rule it is about. */
#include "backend_nft_int.h"
#include "ntpwall/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libnftnl/batch.h>
#include <libnftnl/common.h>
#include <libnftnl/gen.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

uint32_t bnft_next_seq(struct backend *b)
{
	return b->seq++;
}

static int bnft_open(struct backend **out)
{
	struct backend *b = xcalloc(1, sizeof(*b));
	int one = 1, ret;

	*out = NULL;
	b->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!b->nl) {
		ret = -errno;
		free(b);
		return ret;
	}
	if (mnl_socket_bind(b->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		mnl_socket_close(b->nl);
		free(b);
		return ret;
	}
	/* Extended ACK for the kernel's messages; CAP_ACK so an error does
	 * not echo the whole (up to 64 KiB) offending message. */
	(void)mnl_socket_setsockopt(b->nl, NETLINK_EXT_ACK, &one, sizeof(one));
	(void)mnl_socket_setsockopt(b->nl, NETLINK_CAP_ACK, &one, sizeof(one));
	b->portid = mnl_socket_get_portid(b->nl);
	b->seq = (uint32_t)time(NULL);
	b->buf_len = BNFT_RECV_BUF;
	b->buf = xmalloc(b->buf_len);
	*out = b;
	return 0;
}

static void bnft_close(struct backend *b)
{
	if (!b)
		return;
	mnl_socket_close(b->nl);
	free(b->buf);
	free(b);
}

int bnft_talk(struct backend *b, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	uint32_t seq = nlh->nlmsg_seq;
	ssize_t n;
	int ret;

	if (mnl_socket_sendto(b->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		n = mnl_socket_recvfrom(b->nl, b->buf, b->buf_len);
		if (n < 0)
			return -errno;
		ret = mnl_cb_run(b->buf, (size_t)n, seq, b->portid, cb, data);
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

int bnft_generation(struct backend *b, struct backend_gen *gen)
{
	char buf[256];	/* nlmsghdr + nfgenmsg */
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETGEN, AF_UNSPEC, NLM_F_ACK,
						     bnft_next_seq(b));

	gen->genid = 0;
	return bnft_talk(b, nlh, gen_cb, &gen->genid);
}

static struct bnft_msg *msg_by_seq(struct bnft_tx *tx, uint32_t seq)
{
	for (size_t i = 0; i < tx->n; i++)
		if (tx->msgs[i].seq == seq)
			return &tx->msgs[i];
	return NULL;
}

static int extack_cb(const struct nlattr *attr, void *data)
{
	struct bnft_msg *m = data;

	switch (mnl_attr_get_type(attr)) {
	case NLMSGERR_ATTR_MSG:
		if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0 && !m->extack)
			m->extack = xstrdup(mnl_attr_get_str(attr));
		break;
	case NLMSGERR_ATTR_OFFS:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
			m->offs = mnl_attr_get_u32(attr);
		break;
	}
	return MNL_CB_OK;
}

/* NLMSG_ERROR: an ACK (error 0) or an error for one message of the batch. */
static int ack_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
	struct bnft_msg *m;
	size_t hlen = sizeof(*err);

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*err)))
		return MNL_CB_OK;
	m = msg_by_seq(data, nlh->nlmsg_seq);
	if (!m)
		return MNL_CB_OK;
	m->acked = true;
	if (!err->error)
		return MNL_CB_OK;
	m->err = err->error;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		hlen += mnl_nlmsg_get_payload_len(&err->msg);
	if ((nlh->nlmsg_flags & NLM_F_ACK_TLVS) && mnl_nlmsg_size(hlen) <= nlh->nlmsg_len)
		mnl_attr_parse(nlh, (unsigned)hlen, extack_cb, m);
	return MNL_CB_OK;
}

/* Socket buffers for a batch of len bytes and n replies; root can force
 * them past the sysctl limits (nft mnl_set_sndbuffer). */
static void size_buffers(struct backend *b, size_t len, size_t n)
{
	int fd = mnl_socket_get_fd(b->nl);
	int snd = (int)(len + 65536), rcv = (int)(n * 1024 + 262144);

	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &snd, sizeof(snd)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &snd, sizeof(snd));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
}

/* Send the whole batch in one sendmsg() and drain the replies. The batch
 * runs synchronously inside sendmsg, so every reply is queued by then and
 * the drain never blocks. */
static int tx_send(struct backend *b, struct bnft_tx *tx)
{
	mnl_cb_t ctl[NLMSG_MIN_TYPE] = { [NLMSG_ERROR] = ack_cb };
	struct sockaddr_nl snl = { .nl_family = AF_NETLINK };
	int n_iov = nftnl_batch_iovec_len(tx->batch);
	struct iovec *iov = xcalloc((size_t)n_iov, sizeof(*iov));
	struct msghdr msg = { .msg_name = &snl, .msg_namelen = sizeof(snl), .msg_iov = iov,
			      .msg_iovlen = (size_t)n_iov };
	size_t len = 0;
	ssize_t r;

	nftnl_batch_iovec(tx->batch, iov, (uint32_t)n_iov);
	for (int i = 0; i < n_iov; i++)
		len += iov[i].iov_len;
	size_buffers(b, len, tx->n);
	r = sendmsg(mnl_socket_get_fd(b->nl), &msg, 0);
	free(iov);
	if (r < 0)
		return -errno;
	for (;;) {
		r = recv(mnl_socket_get_fd(b->nl), b->buf, b->buf_len, MSG_DONTWAIT);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (r < 0 && errno == ENOBUFS) {
			tx->enobufs = true;
			continue;
		}
		if (r < 0)
			return -errno;
		if (mnl_cb_run2(b->buf, (size_t)r, 0, b->portid, NULL, tx, ctl, NLMSG_MIN_TYPE) < 0 &&
		    errno != EINTR)
			return -errno;
	}
	return 0;
}

/* The key of the set element at byte offs of an element message. */
static bool elem_at(const struct nlmsghdr *nlh, uint32_t offs, char *out, size_t len)
{
	const struct nlattr *list, *el, *a, *v;

	mnl_attr_for_each(list, nlh, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(list) != NFTA_SET_ELEM_LIST_ELEMENTS)
			continue;
		mnl_attr_for_each_nested(el, list) {
			uint32_t start = (uint32_t)((const char *)el - (const char *)nlh);

			if (offs < start || offs >= start + mnl_attr_get_len(el))
				continue;
			mnl_attr_for_each_nested(a, el) {
				if (mnl_attr_get_type(a) != NFTA_SET_ELEM_KEY)
					continue;
				v = mnl_attr_get_payload(a);
				if (mnl_attr_get_payload_len(v) == 4)
					return inet_ntop(AF_INET, mnl_attr_get_payload(v), out, (socklen_t)len);
				if (mnl_attr_get_payload_len(v) == 16)
					return inet_ntop(AF_INET6, mnl_attr_get_payload(v), out, (socklen_t)len);
			}
		}
	}
	return false;
}

/* "what: why (kernel message)" for one failed message, at the rule's or
 * set's policy location when there is one. */
static void report(const struct bnft_tx *tx, const struct bnft_msg *m, struct diags *d)
{
	const struct ir_ruleset *rs = tx->rs;
	char addr[64] = "";
	const char *why = strerror(-m->err);
	const char *ext = m->extack ? m->extack : "";
	const char *sep = m->extack ? ": " : "";
	const struct ir_rule *r;

	switch (m->kind) {
	case BNFT_OBJ_BEGIN:
		diag_add(d, NULL, DIAG_ERROR, NW501_KERNEL, "transaction: %s%s%s", why, sep, ext);
		break;
	case BNFT_OBJ_TABLE:
		diag_add(d, NULL, DIAG_ERROR, NW501_KERNEL, "table inet %s: %s%s%s", tx->table, why,
			 sep, ext);
		break;
	case BNFT_OBJ_SET:
	case BNFT_OBJ_ELEMS:
		if (m->kind == BNFT_OBJ_ELEMS && m->nlh && m->offs &&
		    elem_at(m->nlh, m->offs, addr, sizeof(addr)))
			diag_add(d, &rs->sets[m->set].loc, DIAG_ERROR, NW501_KERNEL,
				 "set %s element %s: %s%s%s", rs->sets[m->set].name, addr, why, sep,
				 ext);
		else
			diag_add(d, &rs->sets[m->set].loc, DIAG_ERROR, NW501_KERNEL, "set %s%s: %s%s%s",
				 rs->sets[m->set].name, m->kind == BNFT_OBJ_ELEMS ? " elements" : "",
				 why, sep, ext);
		break;
	case BNFT_OBJ_CHAIN:
		diag_add(d, NULL, DIAG_ERROR, NW501_KERNEL, "chain %s: %s%s%s",
			 rs->chains[m->chain].name, why, sep, ext);
		break;
	case BNFT_OBJ_RULE:
	case BNFT_OBJ_ANON:
		r = &rs->chains[m->chain].rules[m->rule];
		diag_add(d, &r->loc, DIAG_ERROR, NW501_KERNEL, "chain %s rule %zu%s%s%s%s: %s%s%s",
			 rs->chains[m->chain].name, m->rule + 1, r->comment ? " (" : "",
			 r->comment ? r->comment : "", r->comment ? ")" : "",
			 m->kind == BNFT_OBJ_ANON ? " anonymous set" : "", why, sep, ext);
		break;
	}
}

/* The outcome: 0 when committed; -ERESTART for a stale genid; else the
 * first error (-EINVAL when it was about our content), every error in d. */
static int tx_result(struct bnft_tx *tx, struct diags *d)
{
	int first = 0;

	for (size_t i = 0; i < tx->n; i++) {
		const struct bnft_msg *m = &tx->msgs[i];

		if (!m->err)
			continue;
		if (m->kind == BNFT_OBJ_BEGIN && m->err == -ERESTART)
			return -ERESTART;
		/* A generation change found at commit comes on the first message. */
		if (i == 1 && m->err == -ERESTART)
			return -ERESTART;
		report(tx, m, d);
		if (!first)
			first = m->err;
	}
	if (first)
		return first == -ENOENT || first == -EEXIST || first == -EOPNOTSUPP ||
		       first == -ERANGE || first == -E2BIG ? first : -EINVAL;
	if (tx->enobufs) {
		diag_add(d, NULL, DIAG_ERROR, NW501_KERNEL,
			 "transaction: replies lost (ENOBUFS); re-read the table to see its state");
		return -ENOBUFS;
	}
	return 0;
}

/* Send a built transaction and collect its outcome; frees tx. */
static int send_tx(struct backend *b, struct bnft_tx *tx, int built, struct diags *d)
{
	int ret = built;

	if (ret < 0) {
		/* A rule the backend cannot express; nothing was sent. */
		if (tx->n && tx->msgs[tx->n - 1].err)
			report(tx, &tx->msgs[tx->n - 1], d);
		else
			diag_add(d, NULL, DIAG_ERROR, NW501_KERNEL, "building the transaction: %s",
				 strerror(-ret));
		bnft_tx_free(tx);
		return ret;
	}
	ret = tx_send(b, tx);
	if (ret < 0)
		diag_add(d, NULL, DIAG_ERROR, NW501_KERNEL, "sending the transaction: %s",
			 strerror(-ret));
	else
		ret = tx_result(tx, d);
	bnft_tx_free(tx);
	return ret;
}

static int run_tx(struct backend *b, const struct ir_ruleset *rs, const char *table,
		  const char *old_table, const struct backend_gen *expect, struct diags *d)
{
	struct bnft_tx tx;
	int built = bnft_tx_build(&tx, &b->seq, rs, table, old_table, expect);

	return send_tx(b, &tx, built, d);
}

static int bnft_apply(struct backend *b, const struct ir_ruleset *rs, const char *old_table,
		      const struct backend_gen *expect, struct diags *d)
{
	return run_tx(b, rs, rs->table, old_table, expect, d);
}

static int bnft_update(struct backend *b, const struct ir_ruleset *rs,
		       const struct ruleset_delta *delta, const struct backend_gen *expect,
		       struct diags *d)
{
	struct bnft_tx tx;
	int built = bnft_tx_build_update(&tx, &b->seq, rs, delta, expect);

	return send_tx(b, &tx, built, d);
}

static int bnft_remove(struct backend *b, const char *table, const struct backend_gen *expect,
		       struct diags *d)
{
	return run_tx(b, NULL, table, NULL, expect, d);
}

const struct backend_ops backend_nft_ops = {
	.name = "nft",
	.open = bnft_open,
	.close = bnft_close,
	.generation = bnft_generation,
	.read = bnft_read,
	.apply = bnft_apply,
	.update = bnft_update,
	.remove = bnft_remove,
};
