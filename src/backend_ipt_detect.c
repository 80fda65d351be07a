/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Which iptables the host filters with, found without side effects
 * (doc/iptables-notes.md §1): legacy tables from /proc/net/ip*_tables_names
 * (never iptc_init, which would instantiate a table), nft base chains from
 * a netlink dump (iptables-nft leaves INPUT, OUTPUT, ... in tables filter,
 * raw, mangle, nat, security of family ip or ip6; anything else is a
 * native ruleset), and the alternatives link of /usr/sbin/iptables. */
#include "backend_ipt_kern.h"
#include "backend_nft_sock.h"
#include "ntpwall/util.h"

#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <stdlib.h>
#include <string.h>

static bool one_of(const char *s, const char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(s, v[i]))
			return true;
	return false;
}

static int chain_cb(const struct nlmsghdr *nlh, void *data)
{
	static const char *const tables[] = { "filter", "raw", "mangle", "nat", "security" };
	static const char *const chains[] = { "INPUT", "OUTPUT", "FORWARD", "PREROUTING",
					      "POSTROUTING" };
	struct bipt_host *h = data;
	struct nftnl_chain *c = nftnl_chain_alloc();
	const char *table, *name;
	uint32_t family;
	bool ipt;

	if (!c || nftnl_chain_nlmsg_parse(nlh, c) < 0 ||
	    !nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM)) {
		nftnl_chain_free(c);
		return MNL_CB_OK;
	}
	table = nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE);
	name = nftnl_chain_get_str(c, NFTNL_CHAIN_NAME);
	family = nftnl_chain_get_u32(c, NFTNL_CHAIN_FAMILY);
	ipt = (family == NFPROTO_IPV4 || family == NFPROTO_IPV6) &&
	      one_of(table, tables, ARRAY_SIZE(tables)) && one_of(name, chains, ARRAY_SIZE(chains));
	if (!h->nft_example[0] || (!ipt && !h->nft_native))
		snprintf(h->nft_example, sizeof(h->nft_example), "table %s %s chain %s",
			 family == NFPROTO_IPV4 ? "ip" : family == NFPROTO_IPV6 ? "ip6" :
			 family == NFPROTO_INET ? "inet" : family == NFPROTO_BRIDGE ? "bridge" :
			 family == NFPROTO_NETDEV ? "netdev" : "arp", table, name);
	h->nft_iptables |= ipt;
	h->nft_native |= !ipt;
	nftnl_chain_free(c);
	return MNL_CB_OK;
}

static void nft_chains(struct bipt_host *h)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct bnft_sock s;
	struct nlmsghdr *nlh;

	/* No nf_tables (or no permission): no nft chains to pass. */
	if (bnft_sock_open(&s) < 0)
		return;
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETCHAIN, NFPROTO_UNSPEC, NLM_F_DUMP,
				    bnft_sock_next_seq(&s));
	(void)bnft_sock_talk(&s, nlh, chain_cb, h);
	bnft_sock_close(&s);
}

static void legacy_tables(struct bipt_host *h)
{
	for (int f = 0; f < BIPT_NFAM; f++) {
		char *buf = NULL;
		size_t len;

		if (util_read_file(bipt_fams[f].proc, 1u << 16, &buf, &len) < 0)
			continue;
		for (char *save, *t = strtok_r(buf, "\n", &save); t; t = strtok_r(NULL, "\n", &save)) {
			size_t n = strlen(h->legacy_tables);

			h->legacy = true;
			snprintf(h->legacy_tables + n, sizeof(h->legacy_tables) - n, "%s%s:%s",
				 n ? " " : "", f == BIPT_V4 ? "ip" : "ip6", t);
		}
		free(buf);
	}
}

void bipt_host_detect(struct bipt_host *h)
{
	char *real = realpath("/usr/sbin/iptables", NULL);

	memset(h, 0, sizeof(*h));
	legacy_tables(h);
	nft_chains(h);
	if (real && strstr(real, "legacy"))
		snprintf(h->alternative, sizeof(h->alternative), "legacy");
	else if (real && strstr(real, "nft"))
		snprintf(h->alternative, sizeof(h->alternative), "nft");
	free(real);
}

const char *bipt_host_flavour(const struct bipt_host *h)
{
	bool nft = h->nft_iptables || h->nft_native;

	return h->legacy ? (nft ? "mixed" : "legacy") : nft ? "nft" : "empty";
}

char *bipt_host_describe(const struct bipt_host *h)
{
	const char *f = bipt_host_flavour(h);
	const char *alt = h->alternative[0] ? h->alternative : "none";

	if (!strcmp(f, "legacy"))
		return xasprintf("legacy iptables (tables %s; no nft base chains; iptables -> %s)",
				 h->legacy_tables, alt);
	if (!strcmp(f, "mixed"))
		return xasprintf("mixed: legacy iptables (tables %s) and nftables (%s%s): packets "
				 "pass both, a drop in either wins; iptables -> %s",
				 h->legacy_tables, h->nft_example,
				 h->nft_native ? "" : ", made by iptables-nft", alt);
	if (!strcmp(f, "nft"))
		return xasprintf("nftables (%s%s), no legacy tables; iptables -> %s",
				 h->nft_example, h->nft_native ? "" : ", made by iptables-nft", alt);
	return xasprintf("no firewall yet (no legacy tables, no nft base chains); iptables -> %s",
			 alt);
}
