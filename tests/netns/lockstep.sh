#!/bin/bash
# Lockstep: the wall and a real chronyd agree on the upstreams at every step.
#   srv:  20 servers (198.51.100.1-20) answered by ONE chronyd, a table that
#         kills a server (its address dropped), pool_dns answering pool.test
#         with 4 random of the 20 per query, like pool.ntp.org.
#   host: `ntpwall apply` of a pool policy whose daemon keys make ntpwall
#         write chrony's sources file and reload it; a chronyd client (-x)
#         whose only sources are that file (sourcedir). chronyc is reached
#         through a spy that records, at every `reload sources`, the wall, the
#         file and chronyd's sources, so the order of the steps is checked.
#   aux:  no time daemon: timesyncd and ntpd drop-ins, a refused foreign
#         sources file, a daemon that cannot be told, a per-family max.
# Asserts the contract of lockstep (daemon.* keys, --run-dir, restore, exit
# 3, status): (a) after apply, file = wall = chronyd; (b) refreshes with
# rotating DNS change nothing; (c) a dead member is replaced by
# `refresh --probe` at once, and without it after daemon.replace_after
# refreshes in which chronyd reports it unusable; (d) kill -9 of refresh at
# random moments leaves nothing one refresh does not repair, and rollback
# works; (e) a flushed ruleset comes back by refresh, and by restore without
# DNS; (f) compile and an unprivileged probe use the published choice;
# (g) timesyncd and ntpd files and restart commands; (h) a sources file
# ntpwall did not write is refused; (i) per-family max. No packet of chronyd
# may meet the wall's otherwise rules, and at no reload may chronyd be told
# about (or still hold) an address the wall blocks.
# Usage: lockstep.sh POOL_DNS   (env: NTPWALL; root; exit 77 = skip)
set -u
: "${NTPWALL:?}"
POOL_DNS=${1:?usage: lockstep.sh POOL_DNS}
SRV=ntpw-ls-srv-$$
HOST=ntpw-ls-host-$$
AUX=ntpw-ls-aux-$$
T=$(mktemp -d /tmp/ntpwall-lockstep.XXXXXX) || exit 1
# The policy, the run directory and the binary must be readable by nobody
# (section f); chronyd wants its socket directory closed to others.
chmod 755 "$T"
mkdir -m 700 "$T/chrony"
mkdir -m 755 "$T/sources"
S=$T/state
R=$T/run
P=$T/policy.yaml
CSOCK=$T/chrony/client.sock
SRCFILE=$T/sources/ntpwall.sources
# chrony_options, so that chronyd's view changes in seconds: polls every
# 0.25 s while a server answers (chrony goes below 1 s only for a reachable
# server less than 10 ms away; unreachable, it polls every 1 s, maxpoll 0);
# with 4 samples kept a dead server is '?' as soon as its reach is 0 (with
# chrony's default, only once its last sample is older than the oldest one of
# the reachable servers: about a minute here).
OPTS="minpoll -2 maxpoll 0 maxsamples 4"
TABLE=ntpwall_ls
PIDS=()
DEAD=	# servers section c killed
D=	# the otherwise counters' sum, from apply (and again once e remade the table)
fails=0

skip() {
	echo "SKIP: $*"
	[ "${NTPWALL_REQUIRE_NETNS:-0}" = 1 ] && exit 1
	exit 77
}
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	for ns in "$SRV" "$HOST" "$AUX"; do
		# Anything else still running in the namespace (a chronyc a killed
		# refresh left behind, normally nothing).
		ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$T"
}
trap cleanup EXIT

ok() { echo "ok: $*"; }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

for tool in chronyd chronyc nft ip jq setpriv; do
	command -v $tool >/dev/null || skip "$tool not installed"
done
ip netns add "$SRV" 2>/dev/null || skip "cannot create a network namespace"
ip netns add "$HOST" || skip "cannot create a second network namespace"
ip netns add "$AUX" || skip "cannot create a third network namespace"
srv() { ip netns exec "$SRV" "$@"; }
host() { ip netns exec "$HOST" "$@"; }
aux() { ip netns exec "$AUX" "$@"; }
nw() { host "$NTPWALL" --state-dir "$S" --run-dir "$R" "$@"; }
# nwa NAME ARGS: ntpwall in aux with the state and run directories of NAME.
nwa() {
	local n=$1
	shift
	aux "$NTPWALL" --state-dir "$T/$n-state" --run-dir "$T/$n-run" "$@"
}
words() { tr '\n' ' ' | sed 's/ $//'; }

# srv <-> host over 203.0.113.0/24; aux has only its loopback.
ip link add lss$$ netns "$SRV" type veth peer name lsh$$ netns "$HOST" ||
	skip "cannot create a veth pair"
for ns in "$SRV" "$HOST" "$AUX"; do ip -n "$ns" link set lo up; done
ip -n "$SRV" addr add 203.0.113.2/24 dev lss$$
ip -n "$HOST" addr add 203.0.113.1/24 dev lsh$$
ip -n "$SRV" link set lss$$ up
ip -n "$HOST" link set lsh$$ up
for a in $(seq 20) 53; do ip -n "$SRV" addr add 198.51.100.$a/32 dev lo; done
ip -n "$HOST" route add 198.51.100.0/24 via 203.0.113.2
ip -n "$AUX" addr add 192.0.2.53/32 dev lo
ALL=$(seq -f '198.51.100.%g' 1 20 | words)

# A server dies when its address is in srv's dead4: its requests are
# dropped silently, as a dead host's would be.
srv nft -f - <<'EOF' || skip "nft cannot load a table in the namespace"
table inet lockstep_dead {
	set dead4 { type ipv4_addr; }
	chain input {
		type filter hook input priority filter; policy accept;
		ip daddr @dead4 udp dport 123 counter drop
	}
}
EOF
kill_server() { srv nft add element inet lockstep_dead dead4 "{ $1 }"; }
revive_all() { srv nft flush set inet lockstep_dead dead4; }

# Daemons are started by `ip netns exec` directly, not through a shell
# function: in the background that would be a subshell and $! its pid
# rather than the daemon's (ip netns exec execs it).
# One chronyd answers all 20 addresses (no bindaddress). -x everywhere:
# no chronyd here may touch the clock.
printf '%s\n' "local stratum 1" "allow all" "cmdport 0" "bindcmdaddress /" \
	"pidfile $T/chrony/srv.pid" "driftfile $T/chrony/srv.drift" > "$T/srv.conf"
ip netns exec "$SRV" chronyd -x -d -u root -f "$T/srv.conf" > "$T/srv.log" 2>&1 &
PIDS+=($!)
ip netns exec "$SRV" "$POOL_DNS" 198.51.100.53:53 "pool.test=${ALL// /,}" > "$T/dns.log" 2>&1 &
DNSPID=$!
PIDS+=("$DNSPID")
# aux's DNS: mixed.test has 2 A and 6 AAAA records.
ip netns exec "$AUX" "$POOL_DNS" 192.0.2.53:53 \
	"mixed.test=198.51.100.31,198.51.100.32,$(seq -f '2001:db8:1::%g' 1 6 | paste -sd,)" \
	> "$T/dns-aux.log" 2>&1 &
PIDS+=($!)

# The client: its only sources are the file ntpwall writes. Its command
# socket is in a directory only root may enter (chronyd refuses to open it
# in one others can reach).
printf '%s\n' "sourcedir $T/sources" "cmdport 0" "bindcmdaddress $CSOCK" \
	"pidfile $T/chrony/client.pid" "driftfile $T/chrony/client.drift" > "$T/client.conf"
ip netns exec "$HOST" chronyd -x -d -u root -f "$T/client.conf" > "$T/client.log" 2>&1 &
PIDS+=($!)

# The chronyc ntpwall runs: records the wall, the file and chronyd's
# sources at each `reload sources`, then runs the real chronyc. ntpwall
# runs it in host, so nft and chronyc see host's wall and chronyd. Its
# parent holds ntpwall's lock, so nothing changes the wall meanwhile; the
# spy of a refresh killed by section d has lost its parent (and the lock) by
# the end of its reads and says so: its view may mix two refreshes.
cat > "$T/chronyc-spy" <<EOF
#!/bin/bash
PATH=/usr/sbin:/usr/bin:/sbin:/bin
if [[ "\$*" == *"reload sources" ]]; then
	wall=\$(nft list set inet $TABLE upstreams4 2>/dev/null | grep -oE '([0-9]+\\.){3}[0-9]+' | sort -u | tr '\\n' ' ')
	file=\$(sed -n 's/^server \\([^ ]*\\) .*/\\1/p' "$SRCFILE" 2>/dev/null | sort -u | tr '\\n' ' ')
	before=\$(chronyc -c -n -h "$CSOCK" sources 2>/dev/null | cut -d, -f3 | sort -u | tr '\\n' ' ')
	orphan=
	[ "\$(awk '/^PPid:/ { print \$2 }' /proc/\$\$/status)" = "\$PPID" ] || orphan=" orphan"
	echo "reload wall=[\$wall] file=[\$file] chronyd=[\$before]\$orphan" >> "$T/spy.log"
fi
exec chronyc "\$@"
EOF
# A restart command's stand-in: one line per run.
printf '#!/bin/sh\necho "$*" >> %s/logcmd.log\n' "$T" > "$T/logcmd"
chmod 755 "$T/chronyc-spy" "$T/logcmd"
: > "$T/spy.log"
: > "$T/logcmd.log"

# chrony_conf: the client's own configuration, not this machine's
# /etc/chrony/chrony.conf, whose servers the wall would block (status 1).
cat > "$P" <<EOF
version: 1
table: $TABLE
families: [ipv4]
resolvers: ["198.51.100.53"]
resolve: {timeout: 300ms, attempts: 2}
upstreams:
  - pool: pool.test
    max: 4
refresh: {expire: 1h}
probe: {timeout: 500ms, samples: 1}
daemon:
  chrony_sources: $SRCFILE
  chrony_conf: $T/client.conf
  chronyc: "$T/chronyc-spy -n -h $CSOCK"
  chrony_options: "$OPTS"
  replace_after: 3
EOF
chmod 644 "$P"

# wall_set [NS TABLE SET]: the addresses in a wall set, sorted.
wall_set() {
	ip netns exec "${1:-$HOST}" nft list set inet "${2:-$TABLE}" "${3:-upstreams4}" 2>/dev/null |
		sed -n '/elements/,/}/p' | grep -oE '([0-9]+\.){3}[0-9]+|2001:db8:[0-9a-f:]+' | sort -u | words
}
# chronyd's sources (-c columns: mode, state, address, stratum, poll,
# reach (octal), LastRx, offsets, error), and one field of one source.
chrony_csv() { host chronyc -c -n -h "$CSOCK" sources 2>/dev/null; }
chrony_sources() { chrony_csv | cut -d, -f3 | sort -u | words; }
chrony_field() { chrony_csv | awk -F, -v a="$1" -v f="$2" '$3 == a { print $f }'; }
reached() { chrony_csv | awk -F, '$6 != "0" { n++ } END { print n + 0 }'; }
reached_ge() { [ "$(reached)" -ge "$1" ]; }
# member [EXCLUDED...]: a wall member chronyd has reached, not one of EXCLUDED.
member() {
	local w a
	w=$(wall_set)
	for a in $(chrony_csv | awk -F, '$6 != "0" { print $3 }' | sort); do
		in_set "$w" "$a" && ! in_set "$*" "$a" && echo "$a" && return
	done
}
# unusable ADDR: chronyd has given the source up: nothing heard for 8 polls
# (reach 0) and not selectable ('?').
unusable() { [ "$(chrony_field "$1" 6)" = 0 ] && [ "$(chrony_field "$1" 2)" = '?' ]; }
# file_addrs: the addresses of the server lines, duplicates kept.
file_addrs() { sed -n 's/^server \([^ ]*\) .*/\1/p' "${1:-$SRCFILE}" 2>/dev/null | sort | words; }
# drop_count: packets the otherwise rules of host's wall met, all chains.
drop_count() {
	host nft list table inet $TABLE 2>/dev/null |
		sed -n 's/.*counter packets \([0-9]*\) bytes.*comment "otherwise-[ds]port"$/\1/p' |
		awk '{ s += $1 } END { if (NR) print s }'
}
# wait_until TENTHS CMD...: poll CMD every 0.1 s, at most TENTHS times.
wait_until() {
	local n=$1
	shift
	while [ "$n" -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}
in_set() { case " $1 " in *" $2 "*) return 0 ;; esac; return 1; }
# in_step LABEL: the wall, chronyd and the sources file hold the same
# addresses, the wall has 4, and every server line is exactly as written.
in_step() {
	local w c f bad
	w=$(wall_set) c=$(chrony_sources) f=$(file_addrs)
	bad=$(grep '^server ' "$SRCFILE" 2>/dev/null | grep -vxE "server ([0-9]+\.){3}[0-9]+ iburst $OPTS")
	if [ "$(echo "$w" | wc -w)" = 4 ] && [ "$w" = "$c" ] && [ "$w" = "$f" ] && [ -z "$bad" ]; then
		ok "$1: wall = chronyd = sources file: $w"
	else
		fail "$1: wall [$w], chronyd [$c], file [$f]${bad:+, odd lines: $bad}"
	fi
}
# no_drops LABEL BEFORE: the otherwise counters still read BEFORE.
no_drops() {
	local now
	now=$(drop_count)
	[ -n "$now" ] && [ "$now" = "$2" ] && ok "$1: no packet met the otherwise rules ($now)" ||
		fail "$1: otherwise counters ${2:-none} -> ${now:-none}"
}
dns_queries() { grep -c '^query pool.test 1 ' "$T/dns.log"; }

# The harness itself: the servers answer on all 20 addresses, DNS rotates,
# a killed server is silent, the client's socket answers.
wait_until 50 grep -q '^ready' "$T/dns.log" || fail "pool_dns did not start: $(cat "$T/dns.log")"
wait_until 50 grep -q '^ready' "$T/dns-aux.log" || fail "aux pool_dns did not start: $(cat "$T/dns-aux.log")"
# shellcheck disable=SC2086
if wait_until 50 host "$NTPWALL" probe --samples 1 --timeout 300ms $ALL > "$T/out" 2>&1; then
	ok "harness: one chronyd answers all 20 addresses"
else
	fail "harness: probe of the 20 servers: $(cat "$T/out")"
fi
# One query per resolve, so each resolve shows one answer of pool_dns.
sed -e '/^daemon:/,$d' -e 's/^table: .*/table: ntpwall_probe/' \
	-e 's/^resolve: {\(.*\)}/resolve: {\1, pool_queries: 1}/' "$P" > "$T/plain.yaml"
for i in 1 2 3; do
	host "$NTPWALL" resolve --format json "$T/plain.yaml" 2>&1 |
		jq -r '.names[0].addresses | join(" ")' 2>&1
done | sort -u > "$T/out"
[ "$(wc -l < "$T/out")" -ge 2 ] && ! grep -qv '^198\.51\.100\.' "$T/out" &&
	ok "harness: pool.test rotates ($(wc -l < "$T/out") different choices in 3 resolves)" ||
	fail "harness: pool.test answers: $(cat "$T/out")"
kill_server 198.51.100.20
host "$NTPWALL" probe --samples 1 --timeout 300ms 198.51.100.20 > "$T/out" 2>&1
[ $? = 2 ] && grep -q TIMEOUT "$T/out" && ok "harness: a killed server is silent" ||
	fail "harness: killed 198.51.100.20: $(cat "$T/out")"
revive_all
wait_until 50 host chronyc -n -h "$CSOCK" tracking > "$T/out" 2>&1 &&
	ok "harness: the client chronyd answers on $CSOCK" || fail "harness: chronyc: $(cat "$T/out")"
[ -z "$(chrony_sources)" ] || fail "harness: the client has sources before apply: $(chrony_sources)"

section_a() {
	local first
	host "$NTPWALL" lint "$P" > "$T/out" 2>&1 && ok "a: the policy lints clean" ||
		fail "a: lint: $(cat "$T/out")"
	if nw apply "$P" > "$T/out" 2>&1; then
		ok "a: apply: $(head -n 1 "$T/out")"
	else
		fail "a: apply: exit $?: $(cat "$T/out")"
		return 1
	fi
	first=$(head -n 1 "$SRCFILE" 2>/dev/null)
	[ "${first#\# ntpwall:}" != "$first" ] && ok "a: the sources file starts with '# ntpwall:'" ||
		fail "a: first line of $SRCFILE: '$first'"
	grep -vE '^(#|$|server )' "$SRCFILE" 2>/dev/null | grep -q . &&
		fail "a: lines other than server lines: $(grep -vE '^(#|$|server )' "$SRCFILE")"
	in_step "a: after apply"
	[ "$(ls -A "$T/sources")" = ntpwall.sources ] || fail "a: $T/sources holds $(ls -A "$T/sources" | words)"
	# The published choice, for compile, probe and status.
	if [ "$(stat -c %a "$R/upstreams.json" 2>/dev/null)" = 644 ] && jq -e . "$R/upstreams.json" > /dev/null 2>&1 &&
		[ "$(grep -oE '198\.51\.100\.[0-9]+' "$R/upstreams.json" | sort -u | words)" = "$(wall_set)" ]; then
		ok "a: $R/upstreams.json (0644) holds exactly the wall's addresses"
	else
		fail "a: upstreams.json: $(stat -c %a "$R/upstreams.json" 2>&1) $(cat "$R/upstreams.json" 2>&1)"
	fi
	nw status > "$T/out" 2>&1
	first=$?
	[ $first = 0 ] && ok "a: status 0 (in sync)" || fail "a: status exit $first: $(head -n 3 "$T/out")"
	D=$(drop_count)
	[ "$D" = 0 ] && ok "a: the otherwise counters start at 0" || fail "a: otherwise counters: '$D'"
	return 0
}

section_b() {
	local w0 i rc q0 q1 n l0
	w0=$(wall_set)
	l0=$(wc -l < "$T/dns.log")
	for i in 1 2 3 4 5 6; do
		q0=$(dns_queries)
		nw refresh "$P" > "$T/out" 2>&1
		rc=$?
		q1=$(dns_queries)
		[ "$q1" -gt "$q0" ] || fail "b: refresh $i asked no DNS"
		[ $rc = 0 ] || fail "b: refresh $i: exit $rc: $(cat "$T/out")"
		[ "$(wall_set)" = "$w0" ] || fail "b: refresh $i changed the wall: [$w0] -> [$(wall_set)]"
		[ "$(chrony_sources)" = "$(wall_set)" ] ||
			fail "b: refresh $i: chronyd [$(chrony_sources)], wall [$(wall_set)]"
	done
	n=$(tail -n +$((l0 + 1)) "$T/dns.log" | sed -n 's/^query pool.test 1 rcode 0: //p' | tr ' ' '\n' | sort -u | wc -l)
	[ "$n" -gt 4 ] && ok "b: DNS handed out $n different addresses in these refreshes" ||
		fail "b: DNS did not rotate: $n addresses"
	in_step "b: after 6 refreshes"
	wait_until 150 reached_ge 3 && ok "b: chronyd reaches $(reached) sources" ||
		fail "b: chronyd reaches $(reached) sources: $(chrony_csv)"
	no_drops "b" "$D"
}

# refresh_until_gone ADDR MAX: refreshes, each once chronyd reports ADDR
# unusable, until ADDR leaves the wall or MAX were run; REFRESHES counts them.
refresh_until_gone() {
	REFRESHES=0
	while [ $REFRESHES -lt "$2" ]; do
		wait_until 100 unusable "$1" ||
			echo "note: chronyd does not report $1 unusable before refresh $((REFRESHES + 1))"
		nw refresh "$P" >> "$T/c.out" 2>&1
		REFRESHES=$((REFRESHES + 1))
		in_set "$(wall_set)" "$1" || return 0
		[ $REFRESHES = 1 ] && ok "c: $1 (unusable) is still in the wall after 1 refresh"
	done
}

section_c() {
	local v1 v2 w rc
	# c1: --probe replaces a dead member at once.
	v1=$(member)
	kill_server "$v1"
	DEAD=$v1
	nw refresh --probe "$P" > "$T/out" 2>&1
	rc=$?
	w=$(wall_set)
	[ $rc = 0 ] || [ $rc = 1 ] || fail "c: refresh --probe: exit $rc: $(cat "$T/out")"
	! in_set "$w" "$v1" && [ "$(echo "$w" | wc -w)" = 4 ] &&
		ok "c: refresh --probe replaced dead $v1: $w" || fail "c: refresh --probe, $v1 dead: wall [$w]: $(cat "$T/out")"
	in_step "c: after the --probe replacement"
	# The replacement has reach 0 for a moment (just added): that is not
	# unusable; refreshes right away keep it.
	if ! in_set "$w" "$v1"; then
		for _ in 1 2 3; do nw refresh "$P" > /dev/null 2>&1; done
		[ "$(wall_set)" = "$w" ] && ok "c: refreshes right after a replacement keep the new member" ||
			fail "c: 3 refreshes after the replacement changed the wall: [$w] -> [$(wall_set)]"
	fi
	# c2: without --probe, after replace_after (3) refreshes in which chronyd
	# reports the member unusable.
	wait_until 150 reached_ge 4 || fail "c: chronyd reaches only $(reached) sources: $(chrony_csv)"
	v2=$(member "$v1")
	[ -n "$v2" ] || { fail "c: no member left to kill: $(chrony_csv)"; return; }
	kill_server "$v2"
	DEAD="$v1 $v2"
	wait_until 150 unusable "$v2" && ok "c: chronyd gives dead $v2 up: $(chrony_csv | grep ",$v2,")" ||
		fail "c: chronyd still uses dead $v2: $(chrony_csv)"
	: > "$T/c.out"
	refresh_until_gone "$v2" 5
	if in_set "$(wall_set)" "$v2"; then
		fail "c: $v2 (unusable) still in the wall after $REFRESHES refreshes: $(cat "$T/c.out")"
	elif [ "$REFRESHES" = 3 ]; then
		ok "c: $v2 replaced at the 3rd refresh (daemon.replace_after)"
	else
		fail "c: $v2 replaced at refresh $REFRESHES, expected the 3rd: $(cat "$T/c.out")"
	fi
	in_step "c: after the replacement by chronyd's word"
	no_drops "c" "$D"
}

section_d() {
	local v3 t0 t1 ms i pid rc
	v3=$(member "$DEAD")
	[ -n "$v3" ] && kill_server "$v3"
	# Random moments within the run time of one refresh (and a bit after).
	t0=$(date +%s%N)
	nw refresh "$P" > /dev/null 2>&1
	t1=$(date +%s%N)
	ms=$(((t1 - t0) * 3 / 2000000 + 1))
	for i in $(seq 20); do
		ip netns exec "$HOST" "$NTPWALL" --state-dir "$S" --run-dir "$R" refresh "$P" > /dev/null 2>&1 &
		pid=$!
		sleep "$(printf '0.%03d' $((RANDOM % ms % 1000)))"
		kill -9 $pid 2>/dev/null
		wait $pid 2>/dev/null
	done
	echo "note: d: 20 refreshes killed within 0-${ms} ms (one refresh took $(((t1 - t0) / 1000000)) ms)"
	nw refresh "$P" > "$T/out" 2>&1
	rc=$?
	[ $rc = 0 ] || [ $rc = 1 ] || fail "d: refresh after the kills: exit $rc: $(cat "$T/out")"
	in_step "d: one refresh after 20 kill -9"
	# chronyd reads every *.sources there: a leftover could be one.
	[ "$(ls -A "$T/sources")" = ntpwall.sources ] && ok "d: no temporary file left in $T/sources" ||
		fail "d: $T/sources holds $(ls -A "$T/sources" | words)"
	nw status > "$T/out" 2>&1 && ok "d: status 0 (in sync)" || fail "d: status exit $?: $(head -n 3 "$T/out")"
	no_drops "d" "$D"
	nw rollback > "$T/out" 2>&1 && ok "d: rollback: $(head -n 1 "$T/out")" || fail "d: rollback: exit $?: $(cat "$T/out")"
	in_step "d: after rollback"
	nw status > "$T/out" 2>&1 && ok "d: status 0 after rollback" || fail "d: status exit $? after rollback: $(head -n 3 "$T/out")"
	no_drops "d: rollback" "$D"
}

section_e() {
	local w c rc d0 x
	# Every server alive again, chronyd reaching every member, so that no
	# member is due for replacement and the wall must come back as it was.
	revive_all
	wait_until 150 reached_ge 4 || fail "e: chronyd reaches $(reached) sources: $(chrony_csv)"
	nw refresh "$P" > /dev/null 2>&1
	w=$(wall_set)
	c=$(chrony_sources)
	host nft flush ruleset
	host nft list table inet $TABLE > /dev/null 2>&1 && fail "e: the table survived nft flush ruleset"
	nw refresh "$P" > "$T/out" 2>&1
	rc=$?
	[ $rc = 0 ] && grep -qi restor "$T/out" && ok "e: refresh of a flushed wall restores it: $(head -n 1 "$T/out")" ||
		fail "e: refresh after flush: exit $rc: $(cat "$T/out")"
	[ -n "$w" ] && [ "$(wall_set)" = "$w" ] && ok "e: the wall is back as it was: $w" ||
		fail "e: after flush and refresh: wall [$(wall_set)], before [$w]"
	[ "$(chrony_sources)" = "$c" ] && ok "e: chronyd kept its sources" ||
		fail "e: chronyd [$(chrony_sources)], before [$c]"
	in_step "e: after refresh restored the wall"
	# The boot unit's restore: no DNS, the recorded addresses.
	kill -USR1 $DNSPID
	wait_until 50 grep -q '^down on' "$T/dns.log" || fail "e: pool_dns did not go down"
	d0=$(grep -c '^dropped' "$T/dns.log")
	host nft flush ruleset
	nw restore > "$T/out" 2>&1
	rc=$?
	[ $rc = 0 ] && ok "e: restore with DNS down: exit 0" || fail "e: restore: exit $rc: $(cat "$T/out")"
	[ "$(grep -c '^dropped' "$T/dns.log")" = "$d0" ] && ok "e: restore asked no DNS" ||
		fail "e: restore sent $(($(grep -c '^dropped' "$T/dns.log") - d0)) DNS queries"
	[ "$(wall_set)" = "$w" ] && ok "e: restore brought the recorded wall back: $w" ||
		fail "e: after restore: wall [$(wall_set)], recorded [$w]"
	in_step "e: after restore"
	kill -USR1 $DNSPID
	wait_until 50 grep -q '^down off' "$T/dns.log" || fail "e: pool_dns did not come back"
	# chronyd out of step, both ways, by hand: status needs attention.
	# A server the wall blocks (offline: chronyd sends it nothing), from a
	# file of the sources directory ntpwall did not write.
	x=$(echo "$ALL" | tr ' ' '\n' | while read -r a; do in_set "$w" "$a" || echo "$a"; done | head -n 1)
	echo "server $x iburst offline" > "$T/sources/extra.sources"
	host chronyc -n -h "$CSOCK" reload sources > /dev/null 2>&1
	nw status > "$T/out" 2>&1
	rc=$?
	[ $rc = 1 ] && ok "e: status 1 while chronyd has $x, which the wall blocks" ||
		fail "e: status exit $rc while chronyd holds [$(chrony_sources)] and the wall [$(wall_set)]"
	rm "$T/sources/extra.sources"
	host chronyc -n -h "$CSOCK" reload sources > /dev/null 2>&1
	nw status > "$T/out" 2>&1 || fail "e: status exit $? once chronyd is back in step: $(head -n 3 "$T/out")"
	# A wall member chronyd lacks (its server line gone); restore tells
	# chronyd again.
	sed -i '0,/^server /{/^server /d}' "$SRCFILE"
	host chronyc -n -h "$CSOCK" reload sources > /dev/null 2>&1
	nw status > "$T/out" 2>&1
	rc=$?
	[ $rc = 1 ] && ok "e: status 1 while chronyd lacks a wall member" ||
		fail "e: status exit $rc while chronyd holds [$(chrony_sources)] and the wall [$(wall_set)]"
	nw restore > "$T/out" 2>&1 || fail "e: restore of the daemon: exit $?: $(cat "$T/out")"
	in_step "e: restore told chronyd again"
	D=$(drop_count)
	[ "$D" = 0 ] && ok "e: the otherwise counters of the restored table are 0" ||
		fail "e: otherwise counters after restore: '$D'"
}

section_f() {
	local w rc
	w=$(wall_set)
	nw compile --target chrony "$P" > "$T/out" 2>&1
	rc=$?
	[ $rc = 0 ] && [ "$(file_addrs "$T/out")" = "$w" ] &&
		ok "f: compile --target chrony lists the live set" ||
		fail "f: compile --target chrony: exit $rc: [$(file_addrs "$T/out")], wall [$w]"
	host setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$NTPWALL" --run-dir "$R" probe --format json "$P" > "$T/probe.json" 2> "$T/out"
	rc=$?
	[ $rc = 0 ] && [ "$(jq -r '.servers[].address' "$T/probe.json" 2>/dev/null | sort -u | words)" = "$w" ] &&
		ok "f: probe as nobody probes exactly the live set" ||
		fail "f: probe as nobody: exit $rc: [$(jq -r '.servers[].address' "$T/probe.json" 2>/dev/null | sort -u | words)], wall [$w] $(cat "$T/out")"
}

# f2: changed chrony_options: chrony 4.3 re-adds every server and can lose
# them ("Could not add source") although the reload says 200 OK; ntpwall
# reloads once more when chronyd lacks a server the file names.
section_f2() {
	local w rc
	w=$(wall_set)
	sed -i "s/chrony_options: \"$OPTS\"/chrony_options: \"minpoll -2 maxpoll 0\"/" "$P"
	nw apply "$P" > "$T/out" 2>&1
	rc=$?
	[ $rc = 0 ] && ! grep -q 'maxsamples' "$SRCFILE" || fail "f2: apply with new options: exit $rc: $(cat "$T/out")"
	[ "$(chrony_sources)" = "$w" ] && ok "f2: new chrony_options: chronyd keeps every source" ||
		fail "f2: new chrony_options: chronyd [$(chrony_sources)], wall [$w]"
	sed -i "s/chrony_options: \"minpoll -2 maxpoll 0\"/chrony_options: \"$OPTS\"/" "$P"
	nw apply "$P" > /dev/null 2>&1
	[ "$(chrony_sources)" = "$w" ] && ok "f2: and back: chronyd keeps every source" ||
		fail "f2: options back: chronyd [$(chrony_sources)], wall [$w]"
}

# dropin_addrs KIND FILE: the addresses a daemon's drop-in names
# (timesyncd: the NTP= line; ntpd: the server lines).
dropin_addrs() {
	case $1 in
	timesyncd) sed -n 's/^NTP=//p' "$2" | tr ' ' '\n' | grep . | sort | words ;;
	ntpd) file_addrs "$2" ;;
	esac
}

runs() { grep -cx "$k" "$T/logcmd.log"; }	# of section_g's restart command
# section_g KIND: timesyncd or ntpd. No real daemon: both would set this
# machine's clock. logcmd stands in for the restart command.
section_g() {
	local k=$1 dir=$T/$1.d f=$T/$1.d/ntpwall.conf tbl=ntpwall_$1 w ino rc v
	mkdir -m 755 "$dir"
	for v in a b; do
		cat > "$T/$k-$v.yaml" <<EOF
version: 1
table: $tbl
families: [ipv4]
upstreams:
  - server: 192.0.2.1
  - server: 192.0.2.2
  - server: 192.0.2.3
  - server: 192.0.2.$([ $v = a ] && echo 4 || echo 5)
daemon:
  ${k}_conf: $f
  ${k}_restart: "$T/logcmd $k"
EOF
	done
	nwa "$k" apply "$T/$k-a.yaml" > "$T/out" 2>&1
	rc=$?
	if [ $rc != 0 ]; then
		fail "g: $k: apply: exit $rc: $(cat "$T/out")"
		return
	fi
	w=$(wall_set "$AUX" "$tbl")
	[ -n "$w" ] && [ "$(dropin_addrs "$k" "$f")" = "$w" ] && ok "g: $k: the drop-in names the wall: $w" ||
		fail "g: $k: drop-in [$(dropin_addrs "$k" "$f")], wall [$w]: $(cat "$f" 2>&1)"
	if [ "$k" = timesyncd ]; then
		grep -qx '\[Time\]' "$f" && [ "$(grep -c '^NTP=' "$f")" = 1 ] && grep -qx 'FallbackNTP=' "$f" &&
			grep -qE '^NTP=[^ ]+( [^ ]+)*$' "$f" && ok "g: $k: [Time], one NTP= (space separated), FallbackNTP= empty" ||
			fail "g: $k: $(cat "$f" 2>&1)"
	else
		nwa "$k" compile --target ntpd "$T/$k-a.yaml" > "$T/out" 2>&1
		grep -q '^server ' "$T/out" && [ "$(grep '^server ' "$T/out")" = "$(grep '^server ' "$f" 2>/dev/null)" ] &&
			ok "g: $k: the server lines are those of compile --target ntpd" ||
			fail "g: $k: server lines [$(grep '^server ' "$f" 2>&1 | words)], compile [$(grep '^server ' "$T/out" | words)]"
	fi
	[ "$(runs)" = 1 ] && ok "g: $k: the restart command ran once" || fail "g: $k: restart ran $(runs) times"
	ino=$(stat -c %i "$f" 2>/dev/null)
	nwa "$k" apply "$T/$k-a.yaml" > /dev/null 2>&1 || fail "g: $k: unchanged apply: exit $?"
	nwa "$k" refresh "$T/$k-a.yaml" > /dev/null 2>&1 || fail "g: $k: unchanged refresh: exit $?"
	[ "$(runs)" = 1 ] && ok "g: $k: no restart when nothing changed" ||
		fail "g: $k: restart ran $(runs) times after an unchanged apply and refresh"
	nwa "$k" apply "$T/$k-b.yaml" > "$T/out" 2>&1 || fail "g: $k: apply of a change: exit $?: $(cat "$T/out")"
	w=$(wall_set "$AUX" "$tbl")
	[ "$(runs)" = 2 ] && ok "g: $k: a change restarted it once more" || fail "g: $k: restart ran $(runs) times after a change"
	in_set "$w" 192.0.2.5 && [ "$(dropin_addrs "$k" "$f")" = "$w" ] && ok "g: $k: the drop-in follows: $w" ||
		fail "g: $k: after the change: drop-in [$(dropin_addrs "$k" "$f")], wall [$w]"
	[ -n "$ino" ] && [ "$(stat -c %i "$f" 2>/dev/null)" != "$ino" ] && ok "g: $k: replaced by rename (new inode)" ||
		fail "g: $k: inode $ino -> $(stat -c %i "$f" 2>&1)"
	[ "$(ls -A "$dir")" = ntpwall.conf ] && ok "g: $k: no temporary file left" || fail "g: $k: $dir holds $(ls -A "$dir" | words)"
	rc=$(stat -c %a "$f" 2>&1)
	[ "$rc" = 644 ] && ok "g: $k: mode 0644" || fail "g: $k: mode $rc"
}

section_h() {
	local f=$T/h/ntpwall.sources rc
	mkdir -m 700 "$T/h"
	echo "server 192.0.2.99 iburst" > "$f"
	cp -p "$f" "$T/h.orig"
	cat > "$T/h.yaml" <<EOF
version: 1
table: ntpwall_h
families: [ipv4]
upstreams:
  - server: 192.0.2.1
  - server: 192.0.2.2
  - server: 192.0.2.3
  - server: 192.0.2.4
daemon:
  chrony_sources: $f
  chronyc: "$T/logcmd chronyc"
EOF
	nwa h apply "$T/h.yaml" > "$T/out" 2>&1
	rc=$?
	[ $rc = 2 ] && grep -qF "$f" "$T/out" && ok "h: apply refuses a sources file ntpwall did not write: $(head -n 1 "$T/out")" ||
		fail "h: apply over a foreign $f: exit $rc: $(cat "$T/out")"
	cmp -s "$f" "$T/h.orig" && [ "$(stat -c %Y "$f")" = "$(stat -c %Y "$T/h.orig")" ] &&
		ok "h: the file is untouched" || fail "h: the file changed: $(cat "$f")"
	aux nft list table inet ntpwall_h > /dev/null 2>&1 && fail "h: a refused apply made a table"
	[ -e "$T/h-state" ] && fail "h: a refused apply made the state directory: $(ls -A "$T/h-state" | words)"
	grep -q '^chronyc' "$T/logcmd.log" && fail "h: a refused apply ran chronyc: $(cat "$T/logcmd.log")"
	[ -e "$T/h-run/upstreams.json" ] && fail "h: a refused apply published upstreams.json"
	# One daemon file per policy: the finding is about those keys.
	sed -e '/^  chronyc:/d' "$T/h.yaml" > "$T/two.yaml"
	printf '  ntpd_conf: %s/h/ntpd.conf\n' "$T" >> "$T/two.yaml"
	aux "$NTPWALL" lint "$T/two.yaml" > "$T/out" 2>&1
	rc=$?
	[ $rc = 1 ] && grep -E '^[^ ]+:(9|10|11):[0-9]+: error: ' "$T/out" | grep -qE 'chrony_sources|ntpd_conf' &&
		ok "h: lint refuses chrony_sources with ntpd_conf: $(head -n 1 "$T/out")" ||
		fail "h: chrony_sources and ntpd_conf in one policy: lint exit $rc: $(cat "$T/out")"
	# Exit 3: the wall changed, chronyd could not be told (no socket).
	sed -e "s|^  chronyc: .*|  chronyc: \"chronyc -n -h $T/h/none.sock\"|" -e '/ntpd_conf/d' \
		-e "s|$f|$T/h/x.sources|" -e 's/ntpwall_h/ntpwall_x/' "$T/h.yaml" > "$T/x.yaml"
	nwa x apply "$T/x.yaml" > "$T/out" 2>&1
	rc=$?
	[ $rc = 3 ] && aux nft list table inet ntpwall_x > /dev/null 2>&1 &&
		ok "h: chronyd unreachable: the wall is applied, exit 3: $(head -n 1 "$T/out")" ||
		fail "h: apply with chronyd unreachable: exit $rc: $(cat "$T/out")"
	[ $rc = 3 ] && ! grep -qE 'chronyc|reload|restore' "$T/out" && fail "h: exit 3 does not say what to run: $(cat "$T/out")"
}

section_i() {
	local n4 n6 rc
	cat > "$T/i.yaml" <<EOF
version: 1
table: ntpwall_i
resolvers: ["192.0.2.53"]
resolve: {timeout: 300ms, attempts: 2}
upstreams:
  - pool: mixed.test
    max: 4
EOF
	aux "$NTPWALL" resolve --format json "$T/i.yaml" > "$T/out" 2>&1
	n4=$(jq -r '.names[0].addresses[]' "$T/out" 2>/dev/null | grep -c '^198\.51\.100\.3[12]$')
	n6=$(jq -r '.names[0].addresses[]' "$T/out" 2>/dev/null | grep -c '^2001:db8:1::[1-6]$')
	[ "$n4" = 2 ] && [ "$n6" = 4 ] && ok "i: resolve keeps both A records and 4 AAAA (max 4 per family)" ||
		fail "i: resolve kept $n4 IPv4 and $n6 IPv6: $(cat "$T/out")"
	nwa i apply "$T/i.yaml" > "$T/out" 2>&1
	rc=$?
	n4=$(wall_set "$AUX" ntpwall_i upstreams4 | wc -w)
	n6=$(wall_set "$AUX" ntpwall_i upstreams6 | wc -w)
	[ $rc = 0 ] && [ "$n4" = 2 ] && [ "$n6" = 4 ] && ok "i: the wall holds 2 IPv4 and 4 IPv6" ||
		fail "i: apply exit $rc, wall $n4 IPv4 and $n6 IPv6: $(cat "$T/out")"
}

if section_a; then
	section_b
	section_c
	section_d
	section_e
	section_f
	section_f2
else
	fail "b-f: not run, apply failed"
fi
section_g timesyncd
section_g ntpd
section_h
section_i

# The order of lockstep, at every reload ntpwall asked for: the file's
# addresses were already in the wall, and what chronyd held until then was
# still in it.
n=0 orphans=0
while read -r line; do
	n=$((n + 1))
	case $line in *" orphan") orphans=$((orphans + 1)); continue ;; esac
	wall=$(echo "$line" | sed 's/.*wall=\[\([^]]*\)\].*/\1/')
	for part in file chronyd; do
		for a in $(echo "$line" | sed "s/.*$part=\[\([^]]*\)\].*/\1/"); do
			in_set "$wall" "$a" || fail "order: at reload $n the $part held $a, which the wall blocked: $line"
		done
	done
done < "$T/spy.log"
[ $n -gt 0 ] && ok "order: $((n - orphans)) reloads checked ($orphans of killed refreshes left out)" ||
	fail "order: ntpwall never reloaded chronyd"
[ -n "$D" ] && no_drops "end" "$D"

if [ $fails != 0 ]; then
	echo "$fails failure(s)"
	exit 1
fi
echo "lockstep: all checks passed"
