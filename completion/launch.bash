# SPDX-License-Identifier: Apache-2.0
# bash completion for launch: commands, the options of each command, image
# names (from `launch images`) and instance names (from `launch ps`).
#
# Commands and options are read from `launch --help` and `launch COMMAND
# --help` of the launch being completed (cached per shell), so they are those
# of the installed version, and a new option needs no change here. Installed
# as BASH_COMPLETION_DIR/launch, where the bash-completion package loads it
# on first use; it also works sourced on its own, without that package.

# _launch_prog: the launch being completed (the command word, when it names
# a program), else `launch` from PATH.
_launch_prog() {
	local p=${COMP_WORDS[0]}
	[[ $p == \~/* ]] && p=$HOME/${p#\~/}
	if [[ $p == */* && -x $p ]] || type -P -- "$p" >/dev/null 2>&1; then
		printf '%s\n' "$p"
	else
		printf 'launch\n'
	fi
}

# _launch_commands: the names of `launch --help`'s Commands section, one per
# line (`ps, list` gives both).
_launch_commands() {
	"$(_launch_prog)" --help 2>/dev/null | awk '
		/^Commands:/ { c = 1; next }
		c && !/^  [a-z]/ { exit }
		c { line = $0; sub(/^ +/, "", line); sub(/  .*/, "", line); gsub(/, */, "\n", line); print line }'
}

# _launch_options CMD: SPEC gets "OPTION ARG" lines, ARG 1 when the option
# takes a value, from the option lines and the Usage lines of `launch CMD
# --help` (run once per shell and command: not in a subshell, so that the
# cache stays).
# A value is one space after the option (`--bind HOST`, `[--name NAME]`);
# the description is two or more spaces away (`--no-home   do not ...`).
declare -gA _launch_options_cache 2>/dev/null
_launch_options() {
	local cmd=$1 prog help
	prog=$(_launch_prog)
	if [[ -z ${_launch_options_cache["$prog $cmd"]+set} ]]; then
		help=$("$prog" "$cmd" --help 2>/dev/null)
		# start and hooks take every option of run, and list them as such
		if [[ $help == *"those of 'launch run'"* ]]; then
			help+=$'\n'$("$prog" run --help 2>/dev/null)
		fi
		_launch_options_cache["$prog $cmd"]=$(printf '%s\n' "$help" | awk '
			function take(s, shorts,   name, rest, arg, i) {
				while (match(s, /^--?[a-zA-Z][a-zA-Z0-9-]*/)) {
					name = substr(s, 1, RLENGTH); rest = substr(s, RLENGTH + 1)
					arg = (rest ~ /^ [^ \]|-]/) ? 1 : 0
					if (shorts || name ~ /^--/) out[++n] = name
					if (rest ~ /^, -/) { s = substr(rest, 3); continue }
					for (i = 1; i <= n; i++) print out[i], arg
					n = 0
					return
				}
				for (i = 1; i <= n; i++) print out[i], 0
				n = 0
			}
			/^Usage:/ { u = 1 }
			u && /^(Usage:| +launch )/ {
				s = $0
				while (match(s, /--[a-z][a-z0-9-]*/)) {
					take(substr(s, RSTART), 0)
					s = substr(s, RSTART + RLENGTH)
				}
				next
			}
			{ u = 0 }
			/^ +-/ { s = $0; sub(/^ +/, "", s); take(s, 1) }' | sort -u)
	fi
	spec=${_launch_options_cache["$prog $cmd"]}
}

_launch_images() {
	"$(_launch_prog)" images 2>/dev/null | awk 'NR > 1 && NF >= 2 && $2 != "<none>" { print $1 ":" $2 }'
}

_launch_instances() {
	"$(_launch_prog)" ps 2>/dev/null | awk 'NR > 1 && NF >= 1 { print $1 }'
}

# _launch_words: WORDS gets the words up to the cursor, with the pieces that
# COMP_WORDBREAKS split at `:` joined again (image names have one:
# `debian:12` arrives as `debian` `:` `12`).
_launch_words() {
	local line=${COMP_LINE:0:COMP_POINT} pos=0 i w rest gap
	words=()
	for ((i = 0; i <= COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		rest=${line:pos}
		gap=${rest%%[![:space:]]*}
		pos=$((pos + ${#gap}))
		if ((i == COMP_CWORD)); then
			w=${line:pos} # only what is left of the cursor
		fi
		if ((i > 0 && ${#gap} == 0)) && [[ $w == :* || ${words[-1]} == *: ]]; then
			words[-1]+=$w
		else
			words+=("$w")
		fi
		pos=$((pos + ${#w}))
	done
}

# _launch_reply CUR CANDIDATES...: COMPREPLY from those matching CUR, less
# what bash keeps of the word before its last `:`.
_launch_reply() {
	local cur=$1 c
	shift
	COMPREPLY=()
	for c in "$@"; do
		[[ $c == "$cur"* ]] && COMPREPLY+=("$c")
	done
	if [[ $cur == *:* && $COMP_WORDBREAKS == *:* ]]; then
		local keep=${cur%"${cur##*:}"}
		COMPREPLY=("${COMPREPLY[@]#"$keep"}")
	fi
}

# _launch_image_or_file CUR: image names, else (none matches, or CUR has a
# `/`) file names: with file names bash would escape the `:` of images.
_launch_image_or_file() {
	local images
	if [[ $1 != */* ]]; then
		mapfile -t images < <(_launch_images)
		_launch_reply "$1" "${images[@]}"
	fi
	((${#COMPREPLY[@]})) || _launch_files "$1"
}

# _launch_files CUR [-d]: file (or directory) names.
_launch_files() {
	compopt -o filenames 2>/dev/null
	local files
	mapfile -t files < <(compgen "${2:--f}" -- "$1")
	COMPREPLY+=("${files[@]}")
}

_launch() {
	local words cur cmd i w spec optarg pos=0 arg_of='' opts
	_launch_words
	cur=${words[-1]}
	COMPREPLY=()

	# The global options, then the command.
	for ((i = 1; i < ${#words[@]} - 1; i++)); do
		[[ ${words[i]} == -* ]] || break
	done
	if ((i == ${#words[@]} - 1)); then
		if [[ $cur == -* ]]; then
			_launch_reply "$cur" --verbose --quiet --help --version
		else
			mapfile -t opts < <(_launch_commands)
			_launch_reply "$cur" "${opts[@]}" version help
		fi
		return
	fi
	cmd=${words[i]}
	[[ $cmd == list ]] && cmd="ps"

	# Walk the command's words: options (and their values) up to the first
	# operand; POS counts the operands before the cursor.
	_launch_options "$cmd"
	optarg=" $(awk '$2 == 1 { printf "%s ", $1 }' <<<"$spec")"
	for ((i++; i < ${#words[@]} - 1; i++)); do
		w=${words[i]}
		if [[ -n $arg_of ]]; then
			arg_of=
		elif ((pos == 0)) && [[ $w == -- ]]; then
			continue
		elif ((pos == 0)) && [[ $w == -* ]]; then
			[[ $w != *=* && $optarg == *" $w "* ]] && arg_of=$w
		else
			pos=$((pos + 1))
		fi
	done

	if [[ -n $arg_of ]]; then
		case $arg_of in
		--file) _launch_files "$cur" ;;
		--format | -f)
			if [[ $cmd == build ]]; then
				_launch_files "$cur"
			elif [[ $cmd == export ]]; then
				_launch_reply "$cur" squashfs docker-archive oci-archive
			else
				_launch_reply "$cur" table json
			fi
			;;
		--compressor) _launch_reply "$cur" zstd gzip xz lz4 lzo ;;
		--instance) mapfile -t opts < <(_launch_instances); _launch_reply "$cur" "${opts[@]}" ;;
		--overlay | -w | --workdir) _launch_files "$cur" -d ;;
		--name | -n | --username | --platform | --env | -e | --entrypoint | --cmd | --annotation | \
			--writable-size | --tag | -t | --build-arg | --target) ;;
		*) _launch_files "$cur" ;;
		esac
		return
	fi
	if ((pos == 0)) && [[ $cur == -* ]]; then
		mapfile -t opts < <(awk '$1 ~ /^--/ { print $1 }' <<<"$spec")
		_launch_reply "$cur" "${opts[@]}"
		return
	fi

	case $cmd in
	run | start | hooks)
		if ((pos == 0)); then
			_launch_image_or_file "$cur"
		else
			compopt -o default 2>/dev/null # the command inside: a guess at best
		fi
		;;
	images | inspect | rmi | tag)
		if ((pos == 0)) || [[ $cmd == rmi ]]; then
			mapfile -t opts < <(_launch_images)
			_launch_reply "$cur" "${opts[@]}"
		fi
		;;
	commit)
		if ((pos == 0)) && [[ " ${words[*]} " != *" --instance "* ]]; then
			_launch_image_or_file "$cur"
		fi
		;;
	import) ((pos == 0)) && _launch_files "$cur" ;;
	build) ((pos == 0)) && _launch_files "$cur" -d ;;
	export)
		if ((pos == 0)); then
			_launch_image_or_file "$cur"
		elif ((pos == 1)); then
			_launch_files "$cur"
		fi
		;;
	pull) ((pos == 0)) && _launch_reply "$cur" docker:// && compopt -o nospace 2>/dev/null ;;
	exec) if ((pos == 0)); then
		mapfile -t opts < <(_launch_instances)
		_launch_reply "$cur" "${opts[@]}"
	else
		compopt -o default 2>/dev/null
	fi ;;
	stop)
		mapfile -t opts < <(_launch_instances)
		_launch_reply "$cur" "${opts[@]}"
		;;
	oci) ((pos == 0)) && _launch_reply "$cur" run state kill delete ;;
	help)
		if ((pos == 0)); then
			mapfile -t opts < <(_launch_commands)
			_launch_reply "$cur" "${opts[@]}"
		fi
		;;
	esac
}
complete -F _launch launch
