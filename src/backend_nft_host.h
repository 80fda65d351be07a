/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reading the base chains of the host's other tables for the host check
 * (backend_nft_host.c): read only, one dump each of tables, chains and
 * rules of every family. Sits on the transport (backend_nft_sock.h) and
 * backend_nft_int.h's raising, as read-back does, and never calls it or
 * batch building. */
#ifndef NTPWALL_BACKEND_NFT_HOST_H
#define NTPWALL_BACKEND_NFT_HOST_H

#include "backend_nft_sock.h"
#include "ntpwall/hostfw.h"

/* backend_ops.host_chains for nft, over s: the base chains on the input
 * and output hooks of every inet, ip and ip6 table but table inet
 * own_table, dormant ones left out, into out (zeroed first), consistent
 * with one ruleset generation. -EAGAIN when it kept changing, else
 * -errno (-EPERM without CAP_NET_ADMIN). */
int bnft_read_host(struct bnft_sock *s, const char *own_table, struct hostfw *out);

#endif
