#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# `ntpwall explain` from the shell, over literal-only policies (no DNS, no
# root needed, nothing applied): the verdict line, the packet as completed,
# the assumptions, the JSON document and the exit codes (0 accepted, 1
# dropped or rejected, 2 usage or error); bad input names the argument,
# prints nothing on stdout and creates nothing. What real packets do is
# tests/netns/explain.sh's.
set -u
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
fail=0
demo=$SRCDIR/policies/demo-literal.yaml
notrack=$SRCDIR/tests/golden/notrack-server.yaml
st=$tmp/st

bad() {
	echo "FAIL: $*"
	echo "--- stdout:"; head -30 "$tmp/out"; echo "--- stderr:"; cat "$tmp/err"
	fail=1
}
# run WANT_RC ARGS...: ntpwall explain ARGS, on a state directory of its own
# (so that a wall on this host is never read).
run() {
	want=$1
	shift
	"$NTPWALL" --state-dir "$st" explain "$@" > "$tmp/out" 2> "$tmp/err"
	rc=$?
	[ $rc = "$want" ] || bad "explain $*: exit $rc, expected $want"
}
# has LINE: stdout holds exactly this line.
has() {
	grep -qxF -- "$1" "$tmp/out" || bad "no line '$1'"
}

# A request to an upstream: accepted by the egress rule, direction and
# state assumed and said.
run 0 "$demo" --from 198.18.0.1:40000 --to 192.0.2.1 --mode 3
has 'accept: chain output, rule 3 "egress-upstreams4": a request to a trusted upstream'
has 'packet: out 198.18.0.1:40000 -> 192.0.2.1:123, UDP, NTP version 4 mode 3 (client), ct state new, interface (none the rules name)'
has 'assumed: direction out: the destination 192.0.2.1 is in upstreams4'
has 'assumed: state new: not a reply'
has "rules: $demo, names resolved now"
has 'yes: destination in @upstreams4 (the packet'"'"'s: 192.0.2.1, in it)'
grep -qE '^ntpwall:|: (error|warning):' "$tmp/err" && bad "diagnostics on success"

# The same policy with backend: iptables: iptables' chain names, the rule
# by its id, and an accept that is a RETURN to the host's own rules.
sed 's/^table: .*/&\nbackend: iptables/' "$demo" >"$tmp/ipt.yaml"
run 0 "$tmp/ipt.yaml" --from 198.18.0.1:40000 --to 192.0.2.1 --mode 3
grep -q '^accept: iptables chain [a-z_]*-OUT, rule "egress-upstreams4": a request to a trusted upstream (iptables: RETURN, the host'"'"'s own rules judge it next)$' "$tmp/out" ||
	bad "explain of an iptables policy: $(cat "$tmp/out")"
grep -q 'chain output' "$tmp/out" && bad "explain of an iptables policy names nft chains: $(cat "$tmp/out")"

# A bigger iptables wall (lan-server, literal-only): past nine sub-chains
# their names go on in letters (ntpwall-Ia ...), and each family has its
# own. The chain named for each family's otherwise drop is the one that
# compile --target iptables|ip6tables puts that drop in.
sed -e 's/^table: .*/&\nbackend: iptables/' -e 's/- pool: .*/- server: 198.51.100.9/' \
	-e '/^    max: /d' "$SRCDIR/policies/lan-server.yaml" >"$tmp/lan.yaml"
for fam in "iptables 198.18.0.5:40000 192.0.2.1:123" \
	"ip6tables [2001:db8:9::5]:40000 [2001:db8:1::1]:123"; do
	set -- $fam
	run 1 "$tmp/lan.yaml" --direction in --from "$2" --to "$3" --mode 3
	chain=$(sed -n 's/^drop: iptables chain \([^,]*\), reached from [^,]*, rule "otherwise-dport": .*/\1/p' "$tmp/out")
	"$NTPWALL" compile --target "$1" "$tmp/lan.yaml" 2>/dev/null |
		grep -q -- "^-A $chain .*--comment \"otherwise-dport\" -j DROP\$" ||
		bad "explain names $1 chain '$chain' for the otherwise drop: $(head -1 "$tmp/out")"
done

# Its reply, IPv6 with ports: established is assumed for a server reply.
run 0 "$demo" --from '[2001:db8::1]:123' --to '[2001:db8::99]:40000' --mode 4
has 'accept: chain input, rule 7 "ingress-upstreams6": a server'"'"'s reply from a trusted upstream'
has 'assumed: state established: a reply (server)'

# The same reply as NTPv3: the version restriction drops it (exit 1).
run 1 "$demo" --from 192.0.2.1 --to 198.18.0.1:40000 --mode 4 --version 3
has 'drop: chain input, rule 4 "restrict-version-sport": this NTP version is not in restrict.version'
has 'yes: NTP version not 4 (the packet'"'"'s: 3)'

# An unsolicited reply (--state new) is not let in: otherwise drops it.
run 1 "$demo" --from 192.0.2.1 --to 198.18.0.1:40000 --mode 4 --state new
has 'drop: chain input, rule 12 "otherwise-sport": no rule above allows it: the rest of UDP port 123 (otherwise)'
grep -q '^no: rule 6 "ingress-upstreams4" of chain input would accept, but fails: ct state established' \
	"$tmp/out" || bad "unsolicited reply: the near miss is not said"

# A stranger's request: the otherwise rule drops it.
run 1 "$demo" --from 192.0.2.9 --to 198.18.0.1 --mode 3 --direction in
has 'drop: chain input, rule 11 "otherwise-dport": no rule above allows it: the rest of UDP port 123 (otherwise)'

# notrack: the raw rule is met on the way, the serve rule rests on the
# rate limit, and the interface is the first the policy names.
run 0 "$notrack" --from 192.0.2.7:40000 --to 198.18.0.1 --mode 3 --direction in
has 'accept: chain input, rule 4 "serve-clients4@eth0": a request from a served client, within its rate'
has 'assumed: interface eth0: the first the rules name'
has 'yes: ct state untracked (the packet'"'"'s: untracked, by notrack)'
has 'also: chain raw_prerouting, rule 1 "notrack-clients4@eth0" (notrack)'
has 'over the rate limit, drop: chain input, rule 5 "serve-ratelimit4@eth0": a served client over its rate limit, or one the full meter cannot track'
# An interface the policy does not name: no rule of its chains applies.
run 0 "$notrack" --from 192.0.2.7:40000 --to 198.18.0.1 --mode 3 --direction in \
	--interface eth9
grep -q '^continue: ' "$tmp/out" || bad "eth9: a rule decides"
# Mode 6 on the served interface: noquery (reject is only for otherwise).
run 1 "$notrack" --from 192.0.2.7:40000 --to 198.18.0.1 --mode 6 --opcode 3 --direction in
has 'drop: chain input, rule 3 "restrict-noquery@eth0": mode 6 (control) and 7 (private) queries are not served (restrict.noquery)'
grep -q '^packet: .* mode 6 (control) opcode 3, ' "$tmp/out" || bad "opcode not in the packet line"

# JSON: the same answer as a document.
run 1 "$notrack" --from 192.0.2.7:40000 --to 198.18.0.1 --mode 6 --direction in --format json
jq -e '.format == "ntpwall-explain" and .version == 1 and .verdict == "drop" and
	.chain == "input" and .rule == 3 and .comment == "restrict-noquery@eth0" and
	.chain_policy == false and (.trace | map(.comment)) == ["restrict-noquery@eth0"] and
	.packet.direction == "in" and .packet.sport == 40000 and .packet.dport == 123 and
	.packet.mode == 6 and .packet.opcode == 2 and .packet.state == "new" and
	.packet.interface == "eth0" and .rules.source == "policy" and
	.rules.generation == null and (.reasons | all(has("text", "held", "assumed"))) and
	.over_rate_limit == null' "$tmp/out" > /dev/null || bad "json document"
run 0 "$notrack" --from 192.0.2.7:40000 --to 198.18.0.1 --mode 3 --direction in --format json
jq -e '.verdict == "accept" and .over_rate_limit.verdict == "drop" and
	(.trace | map(.action)) == ["notrack", "accept"] and
	.over_rate_limit.comment == "serve-ratelimit4@eth0" and
	(.reasons | map(select(.assumed)) | length) == 1' "$tmp/out" > /dev/null ||
	bad "json: the rate limit"
# A log rule on the way (restrict.log): it logs within its own limit and
# the drop after it decides.
droplog=$SRCDIR/tests/golden/restrict-log.yaml
run 1 "$droplog" --from 203.0.113.5:40000 --to 192.0.2.200 --mode 3
has 'drop: chain input, rule 4 "restrict-ignore-dport4": the source is in restrict.ignore'
has 'also: chain input, rule 3 "restrict-ignore-dport4-log" (logged (rate-limited))'
run 1 "$droplog" --from 203.0.113.5:40000 --to 192.0.2.200 --mode 3 --format json
jq -e '(.trace | map(.action)) == ["log", "drop"] and
	.trace[0].comment == "restrict-ignore-dport4-log"' "$tmp/out" > /dev/null ||
	bad "json: the log rule"

# Bad input: exit 2, the argument named, nothing on stdout.
# usage NEEDLE ARGS...
usage() {
	needle=$1
	shift
	run 2 "$@"
	[ -s "$tmp/out" ] && bad "explain $*: output on bad input"
	grep -qF -- "$needle" "$tmp/err" || bad "explain $*: '$needle' not said"
}
usage "--from '192.0.2':" "$demo" --from 192.0.2 --to 192.0.2.1 --mode 3
usage "--to '[2001:db8::1]:0'" "$demo" --from 2001:db8::2 --to '[2001:db8::1]:0' --mode 3
usage "--from '192.0.2.1:70000'" "$demo" --from 192.0.2.1:70000 --to 192.0.2.2 --mode 3
usage "--mode '8': expected a number from 0 to 7" "$demo" --from 192.0.2.1 --to 192.0.2.2 --mode 8
usage "--version '-1'" "$demo" --from 192.0.2.1 --to 192.0.2.2 --mode 3 --version -1
usage "--opcode '32'" "$demo" --from 192.0.2.1 --to 192.0.2.2 --mode 6 --opcode 32
usage "--direction 'up'" "$demo" --from 192.0.2.1 --to 192.0.2.2 --mode 3 --direction up
usage "--state 'related'" "$demo" --from 192.0.2.1 --to 192.0.2.2 --mode 3 --state related
usage "--format 'yaml'" "$demo" --from 192.0.2.1 --to 192.0.2.2 --mode 3 --format yaml
usage "'--port': unknown option" "$demo" --from 192.0.2.1 --to 192.0.2.2 --mode 3 --port 1
usage "--from, --to and --mode are required" "$demo" --to 192.0.2.2 --mode 3
usage "different families" "$demo" --from 192.0.2.1 --to 2001:db8::1 --mode 3
usage "give --direction in|out" "$demo" --from 192.0.2.9 --to 198.18.0.1 --mode 3
usage "at most one policy" "$demo" "$demo" --from 192.0.2.1 --to 192.0.2.2 --mode 3
usage "missing.yaml" "$tmp/missing.yaml" --from 192.0.2.1 --to 192.0.2.2 --mode 3
printf 'version: 1\nupstreams: [{server: 192.0.2.1}]\nbogus: 1\n' > "$tmp/bad.yaml"
usage "bad.yaml:3:1: error" "$tmp/bad.yaml" --from 192.0.2.1 --to 192.0.2.2 --mode 3
# Without a policy and with nothing applied: said, and no state created.
usage "no state directory $st: nothing was applied (give a POLICY)" \
	--from 192.0.2.1 --to 192.0.2.2 --mode 3
[ -e "$st" ] && bad "explain created the state directory"
[ -e "$st-run" ] && bad "explain created the run directory"

run 0 --help
grep -q -- '--direction in|out' "$tmp/out" || bad "--help lacks --direction"

[ $fail = 0 ] && echo "explain-cli: ok"
exit $fail
