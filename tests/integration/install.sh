# make install into a scratch DESTDIR, then the installed tree as a user meets it: the binary and
# its --version, the files in their places, `kvmscope run` without --kernel booting the installed
# guest on a scratch disk, `kvmscope view` without a file opening the demo trace, the man pages
# (they render, and name every option each --help prints), the bash completion (it parses, bash-
# completion's loader finds it, its values are ones the binary takes), and make uninstall.
. tests/lib.sh
MAKE=${MAKE:-make}
d=$(mktemp -d)
sock="kvmscope-install-$$"
trap 'tmux -L "$sock" kill-server 2>/dev/null; rm -rf "$d"' EXIT
if ! $MAKE -s install DESTDIR="$d" >"$d.log" 2>&1; then
	sed 's/^/# /' "$d.log"
	fail "make install DESTDIR=$d"
	rm -f "$d.log"
	exit 1
fi
rm -f "$d.log"
ok "make install DESTDIR=..."
prefix=$d/usr/local
bin=$prefix/bin/kvmscope
share=$prefix/share/kvmscope

check "installed kvmscope --version is the build's" [ "$($bin --version)" = "$($KVMSCOPE --version)" ]
if [ "$(git rev-parse --show-toplevel 2>/dev/null)" = "$(pwd -P)" ]; then
	want=$(git describe --tags --dirty 2>/dev/null || echo "$(cat VERSION)-g$(git describe --always --dirty)")
	check "--version comes from git describe ($want)" [ "$($bin --version)" = "kvmscope ${want#v}" ]
else
	check "--version is the release in VERSION (no .git here)" [ "$($bin --version)" = "kvmscope $(cat VERSION)" ]
fi
for f in "$share/mini.elf" "$share/traces/demo.kvt" "$share/qemu/qemu-modern.log" "$share/kvm.bt" \
	"$share/bench.sh" "$prefix/share/man/man1/kvmscope-bench.1" \
	"$prefix/share/man/man1/kvmscope.1" "$prefix/share/man/man1/kvmscope-run.1" \
	"$prefix/share/bash-completion/completions/kvmscope" "$prefix/share/doc/kvmscope/README.md" \
	"$prefix/share/doc/kvmscope/docs/viewer.md"; do
	check "installed ${f#"$prefix"/}" [ -s "$f" ]
done

# The installed kvmscope bench runs its installed script on its installed mini guest (the host row
# alone: the rest is tests/integration/bench.sh's); without a source tree it skips boot and fio.
if [ -c /dev/kvm ] && [ -w /dev/kvm ]; then
	(cd "$d" && "$bin" bench --paths host --repeat 1 --out "$d/bench") >"$d/bench.out" 2>&1
	check "installed kvmscope bench runs its installed bench.sh ($(tail -1 "$d/bench.out"))" \
		grep -q '^io,host,depth 1,reads_per_s,' "$d/bench/results.csv"
	check "installed kvmscope bench says it has no source tree for boot and fio" \
		grep -q "boot and fio need a source tree" "$d/bench/report.md"
fi

# --- The installed guest: Linux when guest/out had it, else the mini guest; a scratch disk. ---
if [ -c /dev/kvm ] && [ -w /dev/kvm ]; then
	[ -f "$share/disk.img" ] && sum=$(md5sum <"$share/disk.img")
	timeout 600 "$bin" run --mem 128M >"$d/run.out" 2>&1 </dev/null
	rc=$?
	if [ -f "$share/vmlinux" ]; then
		check "run without --kernel boots the installed Linux guest" \
			grep -q "booting the installed Linux guest $share/vmlinux" "$d/run.out"
		check "... its /init ran and did IO on the scratch disk (status $rc)" \
			sh -c "[ $rc = 0 ] && grep -q KVMSCOPE-IO-OK '$d/run.out'"
		check "... and the installed disk.img is untouched" [ "$(md5sum <"$share/disk.img")" = "$sum" ]
	else
		check "run without --kernel boots the installed mini guest (no Linux guest built)" \
			grep -q "booting the installed mini guest $share/mini.elf" "$d/run.out"
		check "... which passes test=blk on a scratch disk (status $rc)" \
			sh -c "[ $rc = 0 ] && grep -q 'blk: ok' '$d/run.out'"
	fi
	[ "$failed" = 1 ] && sed 's/^/# /' "$d/run.out" | tail -20
else
	echo "SKIP run without --kernel: /dev/kvm is missing or not usable here"
fi
mv "$share/mini.elf" "$d/mini.elf.away"
mv "$share/vmlinux" "$d/vmlinux.away" 2>/dev/null
"$bin" run >"$d/err" 2>&1
check "run without --kernel and no guest installed: status 2, naming where it looked" \
	sh -c "[ $? = 2 ] && grep -q 'no guest installed ($share/vmlinux)' '$d/err'"
mv "$d/mini.elf.away" "$share/mini.elf"
mv "$d/vmlinux.away" "$share/vmlinux" 2>/dev/null

# --- The demo trace: what `kvmscope view` opens without a file. ---
"$bin" view </dev/null >"$d/err" 2>&1
check "view without a file and without a terminal: asks for a terminal, not for a file" \
	sh -c "! grep -q 'which trace file' '$d/err' && grep -q 'needs a terminal' '$d/err'"
if command -v tmux >/dev/null; then
	tmux -L "$sock" new-session -d -s v -x 100 -y 30 "$bin view"
	n=0
	until tmux -L "$sock" capture-pane -t v -p 2>/dev/null | grep -q "demo.kvt .* events"; do
		[ $n -ge 50 ] && break
		sleep 0.1
		n=$((n + 1))
	done
	check "view without a file shows the shipped demo trace" \
		sh -c "tmux -L $sock capture-pane -t v -p | grep -q 'view $share/traces/demo.kvt .* events'"
	tmux -L "$sock" capture-pane -t v -p | grep -q "demo.kvt .* events" ||
		tmux -L "$sock" capture-pane -t v -p | sed 's/^/# /'
	tmux -L "$sock" send-keys -t v q
else
	echo "SKIP view of the demo trace in a terminal: tmux is not installed"
fi
"$bin" diff "$share/traces/demo.kvt" "$share/qemu/qemu-modern.log" >"$d/diff" 2>&1
check "the demo trace's handshake matches the shipped QEMU log's (kvmscope diff: $?)" [ $? = 0 ]
mv "$share/traces/demo.kvt" "$d/demo.away"
"$bin" view </dev/null >"$d/err" 2>&1
check "view without a file and no demo trace: status 2, naming where it looked" \
	sh -c "[ $? = 2 ] && grep -q 'no demo trace at $share/traces/demo.kvt' '$d/err'"
mv "$d/demo.away" "$share/traces/demo.kvt"

# --- Man pages: one per command, each renders without a warning and names every --help option. ---
man1=$prefix/share/man/man1
if command -v man >/dev/null; then
	# help_of PAGE: the --help texts the page is made of, with its subcommands' (trace dump, ...).
	help_of() {
		[ "$1" = kvmscope ] && { "$bin" --help; return; }
		"$bin" "${1#kvmscope-}" --help
		for sub in $("$bin" "${1#kvmscope-}" --help | awk '/^  [a-z]+ / { print $1 }'); do
			"$bin" "${1#kvmscope-}" "$sub" --help 2>/dev/null
		done
	}
	pages="kvmscope $("$bin" --help | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { if ($1 != "help") print "kvmscope-" $1; next } { on = 0 }')"
	for p in $pages; do
		if [ ! -f "$man1/$p.1" ]; then
			fail "man page $p(1) is installed"
			continue
		fi
		MANWIDTH=2000 man --warnings -l --no-hyphenation --no-justification "$man1/$p.1" \
			>"$d/page" 2>"$d/warn" </dev/null
		check "man -l $p.1 renders without warnings" sh -c "[ $? = 0 ] && [ -s '$d/page' ] && [ ! -s '$d/warn' ]"
		sed 's/.\x08//g; s/\xe2\x88\x92/-/g; s/\xe2\x80\x90/-/g' "$d/page" >"$d/text"
		missing=""
		for o in $(help_of "$p" | grep -o -- '--[a-z][a-z0-9-]*' | sort -u); do
			grep -q -- "$o\([^a-z0-9-]\|$\)" "$d/text" || missing="$missing $o"
		done
		check "every option of $p's --help is in its man page${missing:+ (missing:$missing)}" [ -z "$missing" ]
	done
	check "man finds kvmscope-view in the installed MANPATH" \
		sh -c "MANPATH='$prefix/share/man' man -w kvmscope-view | grep -q '$man1/kvmscope-view.1'"
else
	echo "SKIP man pages: man (man-db) is not installed"
fi

# --- Bash completion. ---
comp=$prefix/share/bash-completion/completions/kvmscope
check "completion parses in bash" bash -n "$comp"
# complete WORDS...: what the completion offers for the last word, one per line.
complete_words() {
	bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		_kvmscope; printf "%s\n" "${COMPREPLY[@]}"' sh "$comp" "$bin" "$@" 2>&1
}
offers() { # WANT WORDS...: the completion of WORDS offers WANT
	want=$1; shift
	complete_words "$@" | grep -qx -- "$want"
}
check "completion: kvmscope r -> run" offers run r
check "completion: kvmscope view offers the view command" offers view ''
check "completion: run --vi -> --virtio" offers --virtio run --vi
check "completion: trace d -> dump" offers dump trace d
check "completion: trace dump --f -> --format" offers --format trace dump --f
check "completion: import -> qemu" offers qemu import ''
check "completion: --events vir -> virtio-status" offers virtio-status trace dump x --events vir
check "completion: --events pci,vir -> pci,virtio-status" offers pci,virtio-status view --events pci,vir
check "completion: --virtio=le -> legacy" offers legacy run --virtio = le
check "completion: --step=vir -> virtio-status" offers virtio-status run --step = vir
check "completion: --step then a space: options again, not classes" offers --kernel run --step --ke
check "completion: view tr -> the traces/ folder" sh -c "cd '$share' && bash -c '. \"\$1\"; COMP_WORDS=(\"\$2\" view tr); COMP_CWORD=2; _kvmscope; printf \"%s\\n\" \"\${COMPREPLY[@]}\"' sh '$comp' '$bin' | grep -qx traces"
# Each value the completion offers is one the binary takes.
for spec in virtio irq blk-io compat smp; do
	vals=$(complete_words run "--$spec" '')
	[ -n "$vals" ] || fail "completion: run --$spec offers values"
	for v in $vals; do
		"$bin" run "--$spec" "$v" --kernel "$d/none" >/dev/null 2>"$d/err"
		check "completion: run --$spec $v is accepted" sh -c "! grep -q -- '--$spec' '$d/err'"
	done
done
for v in $(complete_words trace dump x --format ''); do
	check "completion: trace dump --format $v is accepted" \
		sh -c "'$bin' trace dump '$share/traces/demo.kvt' --format $v >/dev/null"
done
for v in $(complete_words diff --format ''); do
	"$bin" diff "$share/traces/demo.kvt" "$share/traces/demo.kvt" --format "$v" >/dev/null 2>&1
	check "completion: diff --format $v is accepted" [ $? != 2 ]
done
bad=""
for v in $(complete_words trace dump x --events ''); do
	"$bin" trace dump "$share/traces/demo.kvt" --events "$v" >/dev/null 2>&1 || bad="$bad $v"
done
check "completion: every --events word is one trace dump takes${bad:+ (not:$bad)}" [ -z "$bad" ]
if [ -f /usr/share/bash-completion/bash_completion ]; then
	check "bash-completion's loader finds the installed completion" bash -c "
		. /usr/share/bash-completion/bash_completion
		XDG_DATA_DIRS='$prefix/share' __load_completion kvmscope && complete -p kvmscope | grep -q _kvmscope"
else
	echo "SKIP bash-completion's loader: bash-completion is not installed"
fi

# --- make uninstall takes everything back out. ---
$MAKE -s uninstall DESTDIR="$d" >/dev/null 2>&1
left=$(find "$d/usr" -type f 2>/dev/null | sed "s|^$d||")
check "make uninstall leaves no file behind${left:+ (left: $left)}" [ -z "$left" ]
exit $failed
