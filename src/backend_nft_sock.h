/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The nft backend's transport (backend_nft_sock.c): the netfilter netlink
 * socket, sequence numbers, one request and its replies, one batch in one
 * sendmsg() and its replies, the ruleset generation. The lowest layer of
 * the backend: it knows no IR and calls nothing above it. Prefix bnft_sock_
 * (backend_nft_int.h says why bnft_). */
#ifndef NTPWALL_BACKEND_NFT_SOCK_H
#define NTPWALL_BACKEND_NFT_SOCK_H

#include <libmnl/libmnl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nftnl_batch;

struct bnft_sock {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;		/* next sequence number; batches built for this
				 * socket draw from it too */
	char *buf;		/* receive buffer */
	size_t buf_len;
};

/* Receive buffer: a dump datagram is at most 32 KiB (kernel netlink_dump);
 * a truncated read is ENOSPC in libmnl, so keep well above that. */
#define BNFT_RECV_BUF (64u * 1024 + 4096)

/* Open and bind s, with extended ACKs. -errno (EPERM without
 * CAP_NET_ADMIN, EPROTONOSUPPORT without nf_tables); s is then untouched
 * but for zeroes. */
int bnft_sock_open(struct bnft_sock *s);
/* Close what bnft_sock_open opened; a zeroed s is fine. */
void bnft_sock_close(struct bnft_sock *s);
/* Next sequence number. */
uint32_t bnft_sock_next_seq(struct bnft_sock *s);
/* Send one request and run every reply through cb until the end of the
 * dump or the ACK. Returns 0 or -errno (-EINTR for NLM_F_DUMP_INTR). */
int bnft_sock_talk(struct bnft_sock *s, struct nlmsghdr *nlh, mnl_cb_t cb, void *data);
/* The ruleset generation (NFT_MSG_GETGEN) into *genid. 0 or -errno. */
int bnft_sock_generation(struct bnft_sock *s, uint32_t *genid);
/* Send batch (n_msgs messages that ask for an ACK) in one sendmsg() and
 * run every NLMSG_ERROR reply, ACK or error, through err_cb with data.
 * *lost is set when the receive queue overflowed (ENOBUFS) and replies
 * are missing. 0 once sent and drained, else -errno. */
int bnft_sock_send_batch(struct bnft_sock *s, struct nftnl_batch *batch, size_t n_msgs,
			 mnl_cb_t err_cb, void *data, bool *lost);

#endif
