#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# ntpwall's main job, shown in a throw-away network namespace: apply a
# policy with literal documentation addresses, show status and a clean diff,
# change the policy, diff again, apply the change, roll it back. The host's
# own firewall is never touched (everything happens inside `unshare -n`) and
# nothing is left behind: the namespace dies with the script and the state
# directory is a temporary one. Needs root (for the namespace).
# Usage: contrib/demo.sh [PATH-TO-ntpwall]   (default ./build/ntpwall)
set -eu

cd "$(dirname "$0")/.."
nw=${1:-${NTPWALL:-./build/ntpwall}}
case $nw in /*) ;; *) nw=$PWD/$nw ;; esac

if [ -z "${NTPWALL_DEMO_NETNS:-}" ]; then
	if ! unshare -n true 2>/dev/null; then
		echo "demo: cannot create a network namespace (run as root)" >&2
		exit 1
	fi
	NTPWALL_DEMO_NETNS=1 exec unshare -n sh "$0" "$nw"
fi

tmp=$(mktemp -d /tmp/ntpwall-demo.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
policy=policies/demo-literal.yaml
changed=$tmp/demo-changed.yaml
run() {
	printf '\n$ ntpwall %s\n' "$*"
	"$nw" --state-dir "$tmp/state" "$@"
}

echo "# in a private network namespace; state in $tmp/state"
run apply "$policy"
run status
run diff "$policy" && echo "(no difference: the kernel holds exactly what the policy asks for)"

printf '\n# change the policy: replace upstream 192.0.2.3 by 192.0.2.4\n'
sed 's/192\.0\.2\.3/192.0.2.4/' "$policy" >"$changed"
run diff "$changed" || true
run apply "$changed"
run rollback
run diff "$policy" && echo "(back to the first generation)"
run remove
printf '\n# done: the namespace and %s go away now\n' "$tmp"
