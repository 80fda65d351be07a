# bash completion for ntpwall(8)                            -*- shell-script -*-
# Install as /usr/share/bash-completion/completions/ntpwall, or source it.
# Completes global options, commands, each command's options, the values of
# --format, --target, --to (rollback), --direction and --state (explain), and
# .yaml/.yml files (and directories) where a POLICY is expected. Needs
# nothing from the bash-completion package.
# tests/contrib.sh checks the lists below against `ntpwall --help`.

_ntpwall_commands='lint resolve compile probe diff apply confirm refresh rollback restore history status explain remove'
_ntpwall_global_opts='--state-dir --run-dir --verbose -v --quiet -q --version --help -h'

# The options of one command, as its --help lists them.
_ntpwall_cmd_opts()
{
	case $1 in
	lint) echo '--format -f --strict --resolve --daemon-config --list-codes --help -h' ;;
	resolve) echo '--format -f --server --previous --seed --help -h' ;;
	compile) echo '--target -t --literal-only --server --seed --listing --help -h' ;;
	probe) echo '--format -f --warn-offset --crit-offset --timeout --samples --interval' \
		'--nagios --port --max-inflight --help -h' ;;
	diff | confirm | restore) echo '--help -h' ;;
	apply) echo '--dry-run --probe --confirm --keep --replace-unmanaged --force-backend --help -h' ;;
	refresh) echo '--probe --keep --help -h' ;;
	rollback) echo '--to --keep --help -h' ;;
	history) echo '--format -f --help -h' ;;
	status) echo '--format --table --help -h' ;;
	explain) echo '--from --to --mode --version --opcode --direction --state --interface' \
		'--format --help -h' ;;
	remove) echo '--table --keep --help -h' ;;
	esac
}

# Options that take a value in the next word.
_ntpwall_takes_arg()
{
	case $1 in
	--state-dir | --run-dir | --format | -f | --target | -t | --server | --previous | --seed | \
		--warn-offset | --crit-offset | --timeout | --samples | --interval | --port | \
		--max-inflight | --confirm | --keep | --to | --table | --daemon-config)
		return 0 ;;
	esac
	return 1
}

# COMPREPLY += the words of list that start with cur.
_ntpwall_words()
{
	local IFS=$' \t\n'
	mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(compgen -W "$1" -- "$2")
}

# Directories, and files ending in .yaml or .yml.
_ntpwall_policies()
{
	local IFS=$'\n' f
	compopt -o filenames 2>/dev/null
	for f in $(compgen -f -- "$1"); do
		if [[ -d $f || $f == *.yaml || $f == *.yml ]]; then
			COMPREPLY+=("$f")
		fi
	done
}

# Generation numbers in the state directory, for rollback --to.
_ntpwall_generations()
{
	local dir=$1 cur=$2 f n
	for f in "$dir"/gen-*.json; do
		[[ -f $f ]] || continue
		n=${f##*/gen-}
		n=${n%.json}
		[[ $n =~ ^[0-9]+$ ]] || continue
		n=$((10#$n))
		[[ $n == "$cur"* ]] && COMPREPLY+=("$n")
	done
}

# The values of an option's argument; returns 1 when opt takes none.
_ntpwall_values()
{
	local cmd=$1 opt=$2 cur=$3 state_dir=$4
	case $opt in
	--format | -f)
		case $cmd in
		lint) _ntpwall_words 'text json github sarif codeclimate' "$cur" ;;
		probe | status) _ntpwall_words 'text json prometheus' "$cur" ;;
		*) _ntpwall_words 'text json' "$cur" ;;
		esac ;;
	--target | -t) _ntpwall_words 'nft iptables ip6tables chrony ntpd' "$cur" ;;
	--state-dir | --run-dir)
		compopt -o filenames 2>/dev/null
		mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(compgen -d -- "$cur") ;;
	--previous | --daemon-config)
		compopt -o filenames 2>/dev/null
		mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(compgen -f -- "$cur") ;;
	--to) [[ $cmd == rollback ]] && _ntpwall_generations "$state_dir" "$cur" ;;
	--direction) _ntpwall_words 'in out' "$cur" ;;
	--state) _ntpwall_words 'new established' "$cur" ;;
	--from | --mode | --opcode | --interface) ;;	# explain: free-form values
	--version) [[ $cmd == explain ]] || return 1 ;;
	*) _ntpwall_takes_arg "$opt" || return 1 ;;	# free-form values: nothing to offer
	esac
	return 0
}

_ntpwall()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev='' cmd='' eq='' i w
	local state_dir=/var/lib/ntpwall
	COMPREPLY=()

	# With '=' in COMP_WORDBREAKS (the default), --format=js arrives as
	# "--format" "=" "js"; without it, as one word.
	((COMP_CWORD >= 1)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
	if [[ $cur == = ]]; then
		cur=
	elif [[ $prev == = ]] && ((COMP_CWORD >= 2)); then
		prev=${COMP_WORDS[COMP_CWORD - 2]}
	elif [[ $cur == --*=* ]]; then
		prev=${cur%%=*}
		cur=${cur#*=}
		eq="$prev="
	fi

	# The command is the first word that is neither an option nor the value
	# of --state-dir or --run-dir (the global options with a value).
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if [[ $w == --run-dir ]]; then
			[[ ${COMP_WORDS[i + 1]} == = ]] && ((i++))
			((i++))
		elif [[ $w == --state-dir ]]; then
			[[ ${COMP_WORDS[i + 1]} == = ]] && ((i++))
			((i + 1 < COMP_CWORD)) && state_dir=${COMP_WORDS[i + 1]}
			((i++))
		elif [[ $w == --state-dir=* ]]; then
			state_dir=${w#*=}
		elif [[ $w != -* ]]; then
			cmd=$w
			break
		fi
	done

	if [[ -z $cmd ]]; then
		if [[ $prev == --state-dir || $prev == --run-dir ]]; then
			_ntpwall_values '' "$prev" "$cur" "$state_dir"
		elif [[ $cur == -* ]]; then
			_ntpwall_words "$_ntpwall_global_opts" "$cur"
		else
			_ntpwall_words "$_ntpwall_commands" "$cur"
		fi
		return 0
	fi
	# The value of an option of the command, when prev is one; a value
	# typed as one word with its option keeps the option in front.
	if _ntpwall_values "$cmd" "$prev" "$cur" "$state_dir"; then
		[[ -n $eq ]] && COMPREPLY=("${COMPREPLY[@]/#/$eq}")
		return 0
	fi
	if [[ $cur == -* ]]; then
		_ntpwall_words "$(_ntpwall_cmd_opts "$cmd")" "$cur"
		return 0
	fi
	case $cmd in
	lint | resolve | compile | diff | apply | refresh | probe | explain) _ntpwall_policies "$cur" ;;
	esac
	return 0
}

complete -F _ntpwall ntpwall
