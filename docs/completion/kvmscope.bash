# bash completion for kvmscope(1): commands, options and their values, trace files.
# Commands and options are read from the binary's own --help, so they follow it; the values of
# options are listed here (tests/integration/install.sh checks each against the binary).

# The options COMMAND [SUBCOMMAND] --help names.
_kvmscope_options()
{
	"$1" "${@:2}" --help 2>/dev/null | grep -o -- '--[a-z][a-z0-9-]*' | sort -u
}

# Event names and classes for --events / --trace-events / --step, after the last comma.
_kvmscope_events()
{
	local bin=$1 cur=$2 head=
	[[ $cur == *,* ]] && head=${cur%,*},
	local words
	words=$("$bin" trace events 2>/dev/null | awk '/^[a-z]/ { print $1; print $2 }' | sort -u)
	COMPREPLY=($(compgen -P "$head" -W "$words" -- "${cur##*,}"))
	compopt -o nospace 2>/dev/null
}

# kvmscope bench --paths: its row names, after the last comma, as the binary's error lists them.
_kvmscope_bench_rows()
{
	local bin=$1 cur=$2 head=
	[[ $cur == *,* ]] && head=${cur%,*},
	local words
	words=$("$bin" bench --paths , 2>&1 | sed -n 's/.*(known: \(.*\))$/\1/p')
	COMPREPLY=($(compgen -P "$head" -W "$words" -- "${cur##*,}"))
	compopt -o nospace 2>/dev/null
}

# Files, keeping those whose names end in one of the given suffixes, and directories.
_kvmscope_files()
{
	local cur=$1 ext f
	compopt -o filenames 2>/dev/null
	COMPREPLY=()
	while IFS= read -r f; do
		if [[ -d $f ]]; then COMPREPLY+=("$f"); continue; fi
		[[ $# -eq 1 ]] && { COMPREPLY+=("$f"); continue; }
		for ext in "${@:2}"; do [[ $f == *"$ext" ]] && { COMPREPLY+=("$f"); break; }; done
	done < <(compgen -f -- "$cur")
}

_kvmscope()
{
	local bin=${COMP_WORDS[0]} cur=${COMP_WORDS[COMP_CWORD]} prev= eq=
	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
	# --opt=value: bash splits it at '=' (COMP_WORDBREAKS).
	if [[ $cur == = ]]; then
		cur= eq=1
	elif [[ $prev == = ]] && ((COMP_CWORD > 1)); then
		prev=${COMP_WORDS[COMP_CWORD - 2]} eq=1
	fi
	# --step takes its value only as --step=CLASSES.
	[[ $prev == --step && -z $eq ]] && prev=
	COMPREPLY=()
	if ((COMP_CWORD == 1)); then
		local cmds
		cmds=$("$bin" --help 2>/dev/null | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1; next } { on = 0 }')
		COMPREPLY=($(compgen -W "$cmds --help --version" -- "$cur"))
		return
	fi
	local cmd=${COMP_WORDS[1]} sub=
	[[ $cmd == trace || $cmd == import ]] && ((COMP_CWORD > 2)) && sub=${COMP_WORDS[2]}

	case $prev in
	--kernel | --initrd | --symbols) _kvmscope_files "$cur"; return ;;
	--disk) _kvmscope_files "$cur" .img .raw; return ;;
	--trace | -o | --output) _kvmscope_files "$cur" .kvt; return ;;
	--compare) _kvmscope_files "$cur" .kvt .log; return ;;
	--virtio) COMPREPLY=($(compgen -W "transitional legacy modern" -- "$cur")); return ;;
	--irq) COMPREPLY=($(compgen -W "msix intx" -- "$cur")); return ;;
	--blk-io) COMPREPLY=($(compgen -W "vcpu iothread uring" -- "$cur")); return ;;
	--compat) COMPREPLY=($(compgen -W "auto on off" -- "$cur")); return ;;
	--mem) COMPREPLY=($(compgen -W "256M 512M 1G" -- "$cur")); return ;;
	--smp | --blk-queues | --iothreads) COMPREPLY=($(compgen -W "1 2 4" -- "$cur")); return ;;
	--trace-buffer) COMPREPLY=($(compgen -W "8M 16M 64M" -- "$cur")); return ;;
	--format)
		if [[ $cmd == diff ]]; then
			COMPREPLY=($(compgen -W "text json" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "text json chrome" -- "$cur"))
		fi
		return ;;
	--events | --trace-events | --step) _kvmscope_events "$bin" "$cur"; return ;;
	--out) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- "$cur")); return ;;
	--paths) _kvmscope_bench_rows "$bin" "$cur"; return ;;
	--append | --requests | --repeat) return ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(_kvmscope_options "$bin" $cmd $sub)" -- "$cur"))
		return
	fi
	case $cmd in
	trace)
		if ((COMP_CWORD == 2)); then
			COMPREPLY=($(compgen -W "dump stats events" -- "$cur"))
		elif [[ $sub != events ]]; then
			_kvmscope_files "$cur" .kvt
		fi ;;
	import)
		if ((COMP_CWORD == 2)); then
			COMPREPLY=($(compgen -W "qemu bpftrace" -- "$cur"))
		else
			_kvmscope_files "$cur" .log .txt
		fi ;;
	view | diff) _kvmscope_files "$cur" .kvt .log ;;
	esac
}
complete -F _kvmscope kvmscope
