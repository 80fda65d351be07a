/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Render stage: the rule model as text — an nft script, iptables-restore
 * input, chrony sources, ntpd configuration. Deterministic: the same input
 * gives the same bytes. */
#ifndef NTPWALL_RENDER_H
#define NTPWALL_RENDER_H

#include "ntpwall/ir.h"
#include "ntpwall/policy.h"
#include "ntpwall/resolve.h"

#include <stdio.h>

struct render_opts {
	/* For the comment header (policy path and hash) and for the daemon
	 * renderers; NULL: no header. */
	const struct policy *policy;
	const struct resolved *resolved;
	/* nft: print the table as `nft list table` would, without the
	 * create/delete preamble and header, one set element per line and no
	 * counter values, for diff and status. */
	bool listing;
	/* nft listing: include counter values and element expiry (status). */
	bool with_counters;
	/* nft listing: the chains as the kernel holds them (ir_layout), not as
	 * compiled; the script always is. */
	bool kernel_layout;
	/* chrony: appended to every server line (daemon.chrony_options). */
	const char *chrony_options;
	/* iptables: why a ruleset cannot be rendered (-EINVAL); NULL: nowhere. */
	struct diags *diags;
};

/* Write an `nft -f` script that atomically replaces table inet <table>:
 * it creates the table, deletes it, then declares it afresh, so loading
 * works whether or not the table exists, and touches nothing else.
 * Returns 0 or -errno on a write error. */
int render_nft(const struct ir_ruleset *rs, const struct render_opts *o, FILE *f);
/* Write iptables-restore input (--noflush semantics) for one family
 * (AF_INET: iptables, AF_INET6: ip6tables): the chains the iptables
 * backend makes, and the jumps to them first in INPUT and OUTPUT (raw:
 * PREROUTING, OUTPUT); what the model accepts is RETURN. -ENAMETOOLONG
 * when "<table>-OUT" exceeds iptables' 28-character chain names; -EINVAL
 * (reasons in o->diags) for a ruleset iptables cannot hold. */
int render_iptables(const struct ir_ruleset *rs, int family, const struct render_opts *o, FILE *f);
/* The iptables chain that holds rule `rule` (from 0) of rs's chain `chain`
 * as the iptables backend lays it out for family (AF_INET or AF_INET6;
 * 0: IPv4 first, then IPv6; the families' sub-chains differ): its main
 * chain ("<table>-IN") or the sub-chain the rules continue in after an
 * accept ("<table>-I3"); rule SIZE_MAX: the main chain. Into out (at
 * least 32 bytes); *main gets the main chain (may be NULL). -ENOENT when
 * the rule is in neither family's layout; -EINVAL when rs cannot be laid
 * out. */
int render_iptables_chain(const struct ir_ruleset *rs, int family, const char *chain, size_t rule,
			  char *out, size_t len, char *main, size_t main_len);
/* chrony sourcedir file: server/peer lines, plus allow/deny/ratelimit lines
 * for serving (needs o->policy and o->resolved). */
int render_chrony(const struct ir_ruleset *rs, const struct render_opts *o, FILE *f);
/* ntpd configuration: server/peer lines and restrict lines mirroring the
 * policy's restrict section (needs o->policy and o->resolved). */
int render_ntpd(const struct ir_ruleset *rs, const struct render_opts *o, FILE *f);
/* systemd-timesyncd drop-in: [Time] with NTP= the upstream addresses and an
 * empty FallbackNTP= (needs o->policy and o->resolved). timesyncd has no
 * NTS and no peers: NTS upstreams are listed by address. */
int render_timesyncd(const struct ir_ruleset *rs, const struct render_opts *o, FILE *f);

#endif
