#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A hardened host (issue 10 item 12), against a real kernel in a private
# network namespace: another table's input/output base chains with policy
# drop and no NTP accept kill NTP whatever ntpwall's own table says. apply,
# status and probe name the chain and the rule to add; apply --probe probes
# even when nothing changed, and exits 1 when no upstream answers; the rules
# as printed, once added, make the warnings go and the probe pass; a chain
# that accepts established traffic first, all UDP, or everything, is not
# named; an explicit udp dport 123 drop is; an ip-family (iptables-nft)
# table gets the iptables rule too; rules with sets of other tables are
# read without harm. The upstreams are fake_ntpd in a nested namespace
# behind a veth pair, so the replies really come in through the input hook.
# Needs $NTPWALL and $SRCDIR, and fake_ntpd as $1; exit 77 without
# namespaces.
set -u

if [ -z "${HARDENED_IN_NETNS:-}" ]; then
	if ! unshare -n true 2>/dev/null || ! command -v nft >/dev/null ||
		! command -v nsenter >/dev/null || ! command -v setpriv >/dev/null; then
		echo "hardened.sh: cannot create a network namespace (or no nft, nsenter, setpriv)"
		[ "${NTPWALL_REQUIRE_NETNS:-0}" = 1 ] && exit 1
		exit 77
	fi
	HARDENED_IN_NETNS=1 exec unshare -n bash "$0" "$@"
fi

: "${NTPWALL:?}" "${SRCDIR:?}"
FAKE_NTPD=${1:?usage: hardened.sh FAKE_NTPD}
T=$(mktemp -d /tmp/ntpwall-hardened.XXXXXX)
chmod 755 "$T"
S=$T/state
srv_pid='' ntpd_pid=''
cleanup() {
	[ -n "$ntpd_pid" ] && kill "$ntpd_pid" 2>/dev/null
	[ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
nw() { "$NTPWALL" --state-dir "$S" --run-dir "$T/run" "$@"; }
gens() { ls "$S" 2>/dev/null | grep -c '^gen-'; }
nft_genid() { "$NTPWALL" --state-dir "$T/none" status --format json 2>/dev/null | sed -n 's/^  "genid": \([0-9]*\).*/\1/p'; }
# The rules to add, as a warning in $1 prints them: `nft insert rule ...`.
suggested() { grep -o '`nft insert rule [^`]*`' "$1" | tr -d '`' | sort -u; }

# The upstreams: 192.0.2.1-3 in a namespace of their own, behind a veth
# pair; this namespace is the host (192.0.2.254).
ip link set lo up
unshare -n sleep 1000 &
srv_pid=$!
for _ in $(seq 50); do
	[ "$(readlink "/proc/$srv_pid/ns/net")" != "$(readlink /proc/self/ns/net)" ] && break
	sleep 0.1
done
srv() { nsenter -t "$srv_pid" -n "$@"; }
ip link add hd0 type veth peer name hd1 && ip link set hd1 netns "$srv_pid" ||
	{ echo "hardened.sh: no veth pair"; [ "${NTPWALL_REQUIRE_NETNS:-0}" = 1 ] && exit 1; exit 77; }
ip addr add 192.0.2.254/24 dev hd0 && ip link set hd0 up
srv ip link set lo up
srv ip addr add 192.0.2.1/24 dev hd1
srv ip addr add 192.0.2.2/32 dev hd1
srv ip addr add 192.0.2.3/32 dev hd1
srv ip link set hd1 up
# nsenter directly, not through srv: a function in the background is a
# subshell, and $! would be its pid, not the daemon's.
nsenter -t "$srv_pid" -n "$FAKE_NTPD" 192.0.2.1:ok 192.0.2.2:ok 192.0.2.3:ok >"$T/ntpd.out" 2>&1 &
ntpd_pid=$!
for _ in $(seq 50); do grep -q ready "$T/ntpd.out" && break; sleep 0.1; done
"$NTPWALL" probe 192.0.2.1 --samples 1 --timeout 500ms >"$T/out" 2>&1 ||
	fail "the fake upstream does not answer without a firewall: $(cat "$T/out")"

sed 's/^table: .*/table: ntpwall_hd/' "$SRCDIR/policies/demo-literal.yaml" >"$T/p.yaml"
printf 'probe: {timeout: 300ms, samples: 1, interval: 0s}\n' >>"$T/p.yaml"
P=$T/p.yaml

# 1. Debian's hardened example: input and output drop, no NTP accept.
hardened() {
	nft delete table inet filter 2>/dev/null
	nft -f - <<'EOF'
table inet filter {
	chain input {
		type filter hook input priority 0; policy drop;
		iif lo accept
		tcp dport 22 accept
	}
	chain output {
		type filter hook output priority 0; policy drop;
	}
}
EOF
}
hardened || fail "load the hardened table"
nw apply "$P" >"$T/out" 2>&1; rc=$?
[ $rc = 0 ] && grep -q '^generation 1 (apply)$' "$T/out" || fail "apply on a hardened host: exit $rc: $(cat "$T/out")"
grep -q 'warning: table inet filter chain output (policy drop) drops NTP to the upstreams: add `nft insert rule inet filter output udp dport 123 accept`' "$T/out" ||
	fail "apply does not name the output chain and the rule to add: $(cat "$T/out")"
grep -q 'warning: table inet filter chain input (policy drop) drops the upstreams'"'"' NTP replies: add `nft insert rule inet filter input ct state established,related accept`' "$T/out" ||
	fail "apply does not name the input chain and the rule to add: $(cat "$T/out")"
grep -q 'ntpwall_hd' "$T/out" && fail "apply names ntpwall's own table: $(cat "$T/out")"
cp "$T/out" "$T/apply.out"
ok "apply warns about the hardened chains with the rules to add"

nw status >"$T/out" 2>&1; rc=$?
[ $rc = 1 ] || fail "status on a hardened host: exit $rc (want 1): $(head -5 "$T/out")"
grep -q '^table inet ntpwall_hd: in-sync$' "$T/out" || fail "status: not in sync: $(head -3 "$T/out")"
grep -q '^host firewall: table inet filter chain output (policy drop) drops NTP to the upstreams' "$T/out" ||
	fail "status does not name the output chain: $(head -8 "$T/out")"
grep -q '^host firewall: table inet filter chain input (policy drop)' "$T/out" ||
	fail "status does not name the input chain: $(head -8 "$T/out")"
nw status --format json >"$T/json" 2>&1
grep -q '"host_firewall": \[' "$T/json" && grep -q '"attention": true' "$T/json" ||
	fail "status --format json: no host_firewall list or no attention: $(head -12 "$T/json")"
ok "status exits 1 and names the chains"

# 2. apply --probe with the table already in place: probes, exits 1.
g0=$(nft_genid) n0=$(gens)
nw apply --probe "$P" >"$T/out" 2>&1; rc=$?
[ $rc = 1 ] || fail "apply --probe, unchanged, NTP blocked: exit $rc (want 1): $(cat "$T/out")"
grep -q '^probe 192.0.2.1: ' "$T/out" || fail "apply --probe did not probe when nothing changed: $(cat "$T/out")"
grep -q 'nothing changed; no upstream answered: is NTP blocked elsewhere? (see the warnings above)' "$T/out" ||
	fail "apply --probe does not say nothing changed and why: $(cat "$T/out")"
grep -q 'warning: table inet filter chain output' "$T/out" || fail "apply --probe: no warning: $(cat "$T/out")"
[ "$(nft_genid)" = "$g0" ] && [ "$(gens)" = "$n0" ] || fail "apply --probe, unchanged, changed something"
ok "apply --probe probes when nothing changed, and exits 1 when NTP is blocked"

# 3. probe: warns before probing as root; unprivileged, silently skipped.
"$NTPWALL" --state-dir "$S" probe "$P" >"$T/out" 2>"$T/err"; rc=$?
[ $rc = 2 ] || fail "probe through the hardened host: exit $rc (want 2, CRITICAL): $(cat "$T/out" "$T/err")"
grep -q 'warning: table inet filter chain output (policy drop)' "$T/err" || fail "probe as root: no warning: $(cat "$T/err")"
setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all \
	"$NTPWALL" --state-dir "$S" probe "$P" >"$T/out" 2>"$T/err"; rc=$?
[ $rc = 2 ] || fail "unprivileged probe: exit $rc (want 2): $(cat "$T/out" "$T/err")"
[ -s "$T/err" ] && fail "unprivileged probe printed on stderr: $(cat "$T/err")"
grep -q '192\.0\.2\.1' "$T/out" || fail "unprivileged probe did not probe: $(cat "$T/out")"
ok "probe warns as root, and is quiet and still works unprivileged"

# 4. The rules as printed: the warnings go, status exits 0, the probe passes.
suggested "$T/apply.out" >"$T/rules"
[ "$(wc -l <"$T/rules")" = 2 ] || fail "expected two rules to add: $(cat "$T/rules")"
grep 'output' "$T/rules" | sh -e || fail "the output rule as printed does not load: $(cat "$T/rules")"
nw apply "$P" >"$T/out" 2>&1 || fail "apply after the output rule: $(cat "$T/out")"
grep -q 'chain output' "$T/out" && fail "output still warned after its rule was added: $(cat "$T/out")"
grep -q 'chain input (policy drop)' "$T/out" || fail "input not warned any more before its rule: $(cat "$T/out")"
grep 'input' "$T/rules" | sh -e || fail "the input rule as printed does not load: $(cat "$T/rules")"
nw apply "$P" >"$T/out" 2>&1; rc=$?
[ $rc = 0 ] && [ "$(cat "$T/out")" = unchanged ] || fail "apply after both rules: exit $rc: $(cat "$T/out")"
nw status >"$T/out" 2>&1; rc=$?
[ $rc = 0 ] || fail "status after both rules: exit $rc: $(head -5 "$T/out")"
grep -q 'host firewall' "$T/out" && fail "status still names the host firewall: $(head -5 "$T/out")"
nw apply --probe "$P" >"$T/out" 2>&1; rc=$?
[ $rc = 0 ] && grep -q '^probe 192.0.2.1: OK' "$T/out" || fail "apply --probe after the rules: exit $rc: $(cat "$T/out")"
grep -q 'warning' "$T/out" && fail "apply --probe after the rules warns: $(cat "$T/out")"
ok "the rules as printed make the warnings go and NTP work"

# 5. Conservative: established accepted first (input), all UDP or
# everything accepted (output), policy accept: nothing to say. A dormant
# table filters nothing.
expect_quiet() {
	nw apply "$P" >"$T/out" 2>&1; rc=$?
	[ $rc = 0 ] && [ "$(cat "$T/out")" = unchanged ] || fail "$1: exit $rc: $(cat "$T/out")"
	nw status >/dev/null 2>&1 || fail "$1: status exits $?"
}
nft delete table inet filter
nft -f - <<'EOF'
table inet filter {
	chain input {
		type filter hook input priority 0; policy drop;
		ct state established,related accept
		iif lo accept
		tcp dport 22 accept
	}
	chain output {
		type filter hook output priority 0; policy drop;
		meta l4proto udp accept
		tcp dport { 22, 443 } accept
	}
}
table ip everything {
	chain OUTPUT { type filter hook output priority 10; policy drop; counter accept; }
	chain INPUT { type filter hook input priority 10; policy accept; tcp dport 23 drop; }
}
table inet asleep {
	flags dormant;
	chain output { type filter hook output priority 0; policy drop; }
}
EOF
expect_quiet "established first, all UDP, everything, policy accept, dormant"
ok "no warning for established first, all UDP, everything, policy accept, a dormant table"

# 6. An explicit udp dport 123 drop before any accept is named, in an
# iptables-nft (ip family) table, with the iptables rule too; so is an
# input chain that accepts established only after udp sport 123 drop.
nft -f - <<'EOF'
table ip filter {
	chain OUTPUT {
		type filter hook output priority 0; policy accept;
		udp dport 123 counter drop
		udp dport 123 accept
	}
	chain INPUT {
		type filter hook input priority 0; policy accept;
		udp sport 123 drop
		ct state established accept
	}
}
EOF
nw apply "$P" >"$T/out" 2>&1 || fail "apply with an explicit drop: $(cat "$T/out")"
grep -q 'warning: table ip filter chain OUTPUT: rule `udp dport 123 drop` (handle [0-9]*) drops NTP over IPv4 to the upstreams: add `nft insert rule ip filter OUTPUT udp dport 123 accept` (or `iptables -I OUTPUT -p udp --dport 123 -j ACCEPT` if you manage it with iptables)' "$T/out" ||
	fail "explicit udp dport 123 drop not named: $(cat "$T/out")"
grep -q 'warning: table ip filter chain INPUT: rule `udp sport 123 drop` (handle [0-9]*) drops the upstreams'"'"' NTP replies over IPv4: add `nft insert rule ip filter INPUT ct state established,related accept` (or `iptables -I INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT`' "$T/out" ||
	fail "explicit udp sport 123 drop in input not named: $(cat "$T/out")"
grep -q 'table inet filter\|table ip everything\|asleep' "$T/out" && fail "a quiet table named: $(cat "$T/out")"
nft delete table ip filter
ok "an explicit drop is named, with the iptables rule for an ip table"

# 7. Rules ntpwall cannot read (sets of other tables, named and anonymous,
# a verdict map, a jump) are read without harm and only hedge the warning.
nft -f - <<'EOF'
table inet hedge {
	set ports { type inet_service; elements = { 53, 123 } }
	chain out_extra { udp dport 123 accept; }
	chain output {
		type filter hook output priority 5; policy drop;
		udp dport @ports accept
		udp dport { 123, 4460 } accept
		ct state vmap { established : accept, invalid : drop }
		jump out_extra
		ip daddr 192.0.2.1 udp dport 123 accept
	}
}
EOF
nw apply "$P" >"$T/out" 2>&1 || fail "apply with unreadable rules: $(cat "$T/out")"
grep -q 'warning: table inet hedge chain output (policy drop) drops NTP to the upstreams (unless one of 5 earlier rules ntpwall cannot judge accepts it): add `nft insert rule inet hedge output udp dport 123 accept`' "$T/out" ||
	fail "unreadable rules do not hedge the warning: $(cat "$T/out")"
nw status >"$T/out" 2>&1; rc=$?
[ $rc = 1 ] || fail "status with the hedged chain: exit $rc"
nft delete table inet hedge
expect_quiet "after the hedged table is gone"
ok "sets, maps and jumps of other tables are read without harm and hedge the warning"

nw remove >/dev/null 2>&1 || fail "remove"

# 8. backend: iptables on a legacy iptables host. ntpwall's jump comes
# first in INPUT/OUTPUT and RETURNs what it accepts, so the host's own
# DROP policy (or a drop in a user chain it jumps to) still drops NTP:
# apply, status and probe name the chain and the iptables rule to add
# after ntpwall's jumps; as printed, they make the warnings go and the
# probe pass; a host that lets NTP through gets no warning; and the
# host's own chains, rules and policies are byte-identical throughout.
if ! command -v iptables-legacy >/dev/null; then
	echo "hardened.sh: no iptables-legacy"
	[ "${NTPWALL_REQUIRE_NETNS:-0}" = 1 ] && exit 1
	exit 77
fi
export XTABLES_LOCKFILE=$T/xtables.lock
nft flush ruleset
S=$T/state-ipt
sed 's/^table: .*/table: ntpwall_hi/' "$P" >"$T/pi.yaml"
printf 'backend: iptables\n' >>"$T/pi.yaml"
P=$T/pi.yaml
# Both families' legacy tables, without counters (traffic moves them) and
# without ntpwall's chains and jumps: the host's own part.
host_save() {
	{ iptables-legacy-save; ip6tables-legacy-save; } | grep -v '^#' | grep -v ntpwall_hi |
		sed 's/ \[[0-9]*:[0-9]*\]$//'
}
for t in iptables ip6tables; do
	"$t-legacy" -N other && "$t-legacy" -A other -p tcp --dport 22 -j ACCEPT &&
		"$t-legacy" -A INPUT -j other && "$t-legacy" -A OUTPUT -p udp --dport 53 -j ACCEPT ||
		fail "load the host's $t rules"
done
host_save >"$T/host0"
nw apply "$P" >"$T/out" 2>&1; rc=$?
[ $rc = 0 ] && grep -q '^generation 1 (apply)$' "$T/out" || fail "ipt apply, quiet host: exit $rc: $(cat "$T/out")"
grep -q 'warning' "$T/out" && fail "ipt apply warns on a host that lets NTP through: $(cat "$T/out")"
nw status >"$T/out" 2>&1 || fail "ipt status, quiet host: exit $?: $(head -5 "$T/out")"
grep -q 'host firewall' "$T/out" && fail "ipt status names a host firewall that lets NTP through"
host_save | cmp -s - "$T/host0" || fail "ipt apply changed the host's own rules: $(host_save | diff "$T/host0" -)"
ok "backend iptables, a host that lets NTP through: no warning, host rules untouched"

# Harden it: INPUT DROP in both families (IPv6 too: the policy has an IPv6
# upstream), and OUTPUT through a user chain that drops NTP.
for t in iptables ip6tables; do
	"$t-legacy" -A INPUT -i lo -j ACCEPT && "$t-legacy" -P INPUT DROP || fail "harden $t"
done
iptables-legacy -N harden && iptables-legacy -A harden -p udp --dport 123 -j DROP &&
	iptables-legacy -A OUTPUT -j harden || fail "harden iptables OUTPUT"
host_save >"$T/host1"
nw apply "$P" >"$T/out" 2>&1; rc=$?
[ $rc = 0 ] && [ "$(grep -v '^ntpwall: warning' "$T/out")" = unchanged ] || fail "ipt apply, hardened: exit $rc: $(cat "$T/out")"
grep -q 'warning: legacy iptables table filter chain INPUT (policy DROP) drops the upstreams'"'"' NTP replies over IPv4: add `iptables -I INPUT 2 -p udp --sport 123 -m conntrack --ctstate ESTABLISHED -j ACCEPT`' "$T/out" ||
	fail "ipt apply does not name INPUT and the rule to add after ntpwall's jump: $(cat "$T/out")"
grep -q 'warning: legacy ip6tables table filter chain INPUT (policy DROP) drops the upstreams'"'"' NTP replies over IPv6: add `ip6tables -I INPUT 2 -p udp --sport 123 -m conntrack --ctstate ESTABLISHED -j ACCEPT`' "$T/out" ||
	fail "ipt apply does not name ip6tables INPUT: $(cat "$T/out")"
grep -q 'warning: legacy iptables table filter chain OUTPUT rule 3 (jump to harden, its rule 1) `-p udp --dport 123 -j DROP` drops NTP over IPv4 to the upstreams: add `iptables -I OUTPUT 2 -p udp --dport 123 -j ACCEPT`' "$T/out" ||
	fail "ipt apply does not name the drop in the user chain: $(cat "$T/out")"
[ "$(grep -c 'warning' "$T/out")" = 3 ] || fail "ipt apply: not three warnings: $(cat "$T/out")"
cp "$T/out" "$T/apply.out"
nw status >"$T/out" 2>&1; rc=$?
[ $rc = 1 ] || fail "ipt status on a hardened host: exit $rc (want 1): $(head -5 "$T/out")"
grep -q '^host firewall: legacy iptables table filter chain INPUT (policy DROP)' "$T/out" ||
	fail "ipt status does not name INPUT: $(head -8 "$T/out")"
"$NTPWALL" --state-dir "$S" probe "$P" >"$T/out" 2>"$T/err"; rc=$?
[ $rc = 2 ] || fail "probe through the hardened legacy host: exit $rc (want 2): $(cat "$T/out" "$T/err")"
grep -q 'warning: legacy iptables table filter chain INPUT (policy DROP)' "$T/err" || fail "ipt probe: no warning: $(cat "$T/err")"
save0=$(iptables-legacy-save | grep -v '^#' | sed 's/ \[[0-9]*:[0-9]*\]$//')
nw apply --probe "$P" >"$T/out" 2>&1; rc=$?
[ $rc = 1 ] && grep -q 'nothing changed; no upstream answered: is NTP blocked elsewhere? (see the warnings above)' "$T/out" ||
	fail "ipt apply --probe, unchanged, NTP blocked: exit $rc (want 1): $(cat "$T/out")"
[ "$(iptables-legacy-save | grep -v '^#' | sed 's/ \[[0-9]*:[0-9]*\]$//')" = "$save0" ] ||
	fail "ipt apply --probe, unchanged, changed the tables"
host_save | cmp -s - "$T/host1" || fail "ipt apply changed the hardened host's rules: $(host_save | diff "$T/host1" -)"
ok "backend iptables, hardened legacy host: apply, status and probe name the chains and the iptables rules to add"

# The rules as printed, after ntpwall's jumps: warnings gone, NTP through.
grep -o '`ip6*tables -I [^`]*`' "$T/apply.out" | tr -d '`' | sort -u >"$T/rules"
[ "$(wc -l <"$T/rules")" = 3 ] || fail "expected three iptables rules to add: $(cat "$T/rules")"
sed 's/^\(ip6*tables\)/\1-legacy/' "$T/rules" | sh -e || fail "the iptables rules as printed do not load: $(cat "$T/rules")"
nw apply "$P" >"$T/out" 2>&1; rc=$?
[ $rc = 0 ] && [ "$(cat "$T/out")" = unchanged ] || fail "ipt apply after the rules: exit $rc: $(cat "$T/out")"
nw status >"$T/out" 2>&1 || fail "ipt status after the rules: exit $?: $(head -5 "$T/out")"
nw apply --probe "$P" >"$T/out" 2>&1; rc=$?
[ $rc = 0 ] && grep -q '^probe 192.0.2.1: OK' "$T/out" || fail "ipt apply --probe after the rules: exit $rc: $(cat "$T/out")"
[ "$(iptables-legacy -S INPUT 1)" = "-A INPUT -p udp -m multiport --ports 123 -m comment --comment ntpwall_hi -j ntpwall_hi-IN" ] ||
	fail "ntpwall's jump is no longer first in INPUT: $(iptables-legacy -S INPUT)"
nw remove >/dev/null 2>&1 || fail "ipt remove"
[ "$(host_save | grep -c -- '--sport 123 -m conntrack\|--dport 123 -j ACCEPT')" = 3 ] ||
	fail "ipt remove took the operator's rules: $(host_save)"
ok "backend iptables: the rules as printed make the warnings go and NTP work"

# The classic legacy host of older guides: policy DROP, replies let in by
# `-m state` (iptables stores it as conntrack with the alias flag) and the
# server's port by `-m multiport --dports`. The check reads both: no
# warning, and NTP works; with only NEW let in, the replies are named.
for t in iptables ip6tables; do
	"$t-legacy" -F INPUT && "$t-legacy" -F OUTPUT && "$t-legacy" -P INPUT DROP &&
		"$t-legacy" -A INPUT -i lo -j ACCEPT &&
		"$t-legacy" -A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT &&
		"$t-legacy" -A INPUT -p udp -m multiport --dports 53,123 -j ACCEPT ||
		fail "load the classic $t host"
done
nw apply "$P" >"$T/out" 2>&1; rc=$?
[ $rc = 0 ] && ! grep -q 'warning' "$T/out" || fail "ipt apply, -m state host: exit $rc: $(cat "$T/out")"
nw apply --probe "$P" >"$T/out" 2>&1; rc=$?
[ $rc = 0 ] && grep -q '^probe 192.0.2.1: OK' "$T/out" || fail "ipt apply --probe, -m state host: exit $rc: $(cat "$T/out")"
iptables-legacy -R INPUT 3 -m state --state NEW -j ACCEPT || fail "state NEW only"
nw apply "$P" >"$T/out" 2>&1
grep -q 'warning: legacy iptables table filter chain INPUT (policy DROP) drops the upstreams'"'"' NTP replies over IPv4' "$T/out" ||
	fail "ipt apply, -m state NEW only: replies not named: $(cat "$T/out")"
iptables-legacy -R INPUT 3 -m state --state RELATED,ESTABLISHED -j ACCEPT || fail "state back"
# The queries: OUTPUT DROP, NTP let out by --dports with 123 among the
# ports (no warning); then dropped by one (named, the ports as listed).
iptables-legacy -P OUTPUT DROP && iptables-legacy -A OUTPUT -o lo -j ACCEPT &&
	iptables-legacy -A OUTPUT -p udp -m multiport --dports 53,123 -j ACCEPT || fail "OUTPUT --dports"
nw apply "$P" >"$T/out" 2>&1; rc=$?
[ $rc = 0 ] && ! grep -q 'warning' "$T/out" || fail "ipt apply, OUTPUT --dports 53,123: exit $rc: $(cat "$T/out")"
iptables-legacy -I OUTPUT 3 -p udp -m multiport --dports 124,123 -j DROP || fail "OUTPUT --dports DROP"
nw apply "$P" >"$T/out" 2>&1
grep -q 'chain OUTPUT rule 3 (-m multiport --dports 124,123 read as --dport 123) `-p udp --dport 123 -j DROP` drops NTP over IPv4 to the upstreams' "$T/out" ||
	fail "ipt apply, OUTPUT --dports 124,123 DROP: not named as listed: $(cat "$T/out")"
nw remove >/dev/null 2>&1 || fail "ipt remove"
iptables-legacy -P OUTPUT ACCEPT && iptables-legacy -F OUTPUT || fail "OUTPUT back"
ok "backend iptables, a host of -m state and -m multiport --dports: read, no false warning, NTP through, a drop named"

[ $fails = 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all hardened-host tests passed"
