# Sourced by the tests in tests/ci/ (POSIX sh): what a CI runner starts from.
#
#   ci_hide_check DIR   PKG_CONFIG_LIBDIR=DIR, which holds links to every
#                       .pc file of pkg-config's search path but check.pc,
#                       as on a runner with only the build dependencies
#   ci_clone_head DEST  a clean clone of $SRCDIR's HEAD at DEST, as a runner
#                       checks it out: no build directory, nothing that is
#                       not committed. Returns 77 (skip) when $SRCDIR is not
#                       a git checkout.

ci_hide_check() {
	mkdir -p "$1"
	_ifs=$IFS
	IFS=:
	for _d in $(pkg-config --variable pc_path pkg-config); do
		for _f in "$_d"/*.pc; do
			[ -e "$_f" ] && [ "${_f##*/}" != check.pc ] && [ ! -e "$1/${_f##*/}" ] &&
				ln -s "$_f" "$1/"
		done
	done
	IFS=$_ifs
	PKG_CONFIG_LIBDIR=$1
	PKG_CONFIG_PATH=
	export PKG_CONFIG_LIBDIR PKG_CONFIG_PATH
}

ci_clone_head() {
	command -v git >/dev/null || { echo "FAIL: git is not installed (contrib/bootstrap installs it)"; return 1; }
	if ! _head=$(git -C "$SRCDIR" rev-parse --verify -q HEAD); then
		echo "SKIP: $SRCDIR is not a git checkout"
		return 77
	fi
	[ -z "$(git -C "$SRCDIR" status --porcelain --untracked-files=no)" ] ||
		echo "note: $SRCDIR has uncommitted changes; the clone holds HEAD ($_head) without them"
	git clone -q --no-checkout "$SRCDIR" "$1" && git -C "$1" checkout -q "$_head"
}
