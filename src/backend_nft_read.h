/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reading ntpwall's table back from the kernel into the IR
 * (backend_nft_read.c), consistent with one ruleset generation. Sits on the
 * transport (backend_nft_sock.h) and backend_nft_int.h's raising; never
 * calls batch building. */
#ifndef NTPWALL_BACKEND_NFT_READ_H
#define NTPWALL_BACKEND_NFT_READ_H

#include "backend_nft_sock.h"
#include "ntpwall/backend.h"
#include "ntpwall/ir.h"

/* backend_ops.read for nft, over s: table into a new sorted *out (caller
 * frees) consistent with *gen; -ENOENT when there is no such table,
 * -EAGAIN when it kept changing, else -errno. */
int bnft_read(struct bnft_sock *s, const char *table, struct ir_ruleset **out,
	      struct backend_gen *gen);

#endif
