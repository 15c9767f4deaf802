# The mini guest boots in milliseconds and its exit status comes back; bad input is one line, exit 2.
. tests/lib.sh
need_kvm mini
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT

for st in 0 7 42; do
	$KVMSCOPE run --kernel $MINI --append "exit=$st" >"$out/o" 2>"$out/e" </dev/null
	rc=$?
	check "mini guest exit=$st comes back as kvmscope's status ($rc)" [ "$rc" = "$st" ]
done
check "mini guest greeting on the console" grep -q "kvmscope mini guest: hello" "$out/o"
# The instructions kvm_pvm cannot emulate and kvmscope completes (natively run on hardware KVM).
$KVMSCOPE run --kernel $MINI --append "test=emu" >"$out/o" 2>"$out/e" </dev/null
rc=$?
check "mini guest test=emu: fwait, fnclex, ldmxcsr/stmxcsr, int3 leave the right state ($rc)" \
	[ "$rc" = 0 ]
if [ -d /sys/module/kvm_pvm ]; then
	check "kvm_pvm: kvmscope completed int3, fwait, fnclex, ldmxcsr, stmxcsr itself" \
		grep -q "int3 x1, fwait x2, fnclex x1, ldmxcsr x1, stmxcsr x1" "$out/e"
fi
$KVMSCOPE run --kernel $MINI --pvh --append "exit=5" >"$out/o" 2>"$out/e" </dev/null
rc=$?
check "mini guest entered through its PVH note (--pvh) exits 5 ($rc)" [ "$rc" = 5 ]

# bad_input NAME EXPECTED-TEXT ARGS...: exit 2, one stderr line naming the problem, no core.
bad_input() {
	what=$1; text=$2; shift 2
	$KVMSCOPE "$@" >"$out/o" 2>"$out/e" </dev/null
	rc=$?
	lines=$(wc -l <"$out/e")
	check "bad input: $what -> exit 2 ($rc)" [ "$rc" = 2 ]
	check "bad input: $what -> one line naming it ($lines lines)" \
		sh -c "[ $lines = 1 ] && grep -q -- '$text' '$out/e'"
}
bad_input "missing kernel" "/nonexistent/vmlinux" run --kernel /nonexistent/vmlinux
bad_input "neither bzImage nor ELF" "neither a bzImage nor an ELF" run --kernel tests/lib.sh
bad_input "--mem 1M" "--mem 1M" run --kernel $MINI --mem 1M
bad_input "--mem nonsense" "--mem lots" run --kernel $MINI --mem lots
bad_input "missing initrd" "/nonexistent/initrd" run --kernel $MINI --initrd /nonexistent/initrd
bad_input "initrd is a directory" "$out" run --kernel $MINI --initrd "$out"
if [ "$(id -u)" != 0 ]; then
	printf 'x' >"$out/initrd"; chmod 000 "$out/initrd"
	bad_input "unreadable initrd" "$out/initrd" run --kernel $MINI --initrd "$out/initrd"
fi
bad_input "no --kernel" "--kernel FILE is required" run
objcopy --remove-section .note.Xen $MINI "$out/nonote.elf"
bad_input "--pvh with an ELF without a PVH note" "no PVH entry note" run --kernel "$out/nonote.elf" --pvh
bad_input "unknown command" "unknown command" frobnicate
bad_input "unknown --virtio" "--virtio" run --kernel $MINI --virtio=pci
check "no core dump left behind" [ ! -e core ]

# No /dev/kvm: a VMM with no KVM says so in one line (run where the device node is hidden).
if command -v unshare >/dev/null && [ "$(id -u)" = 0 ]; then
	unshare -m sh -c "mount -t tmpfs none /dev && $KVMSCOPE run --kernel $MINI" \
		>"$out/o" 2>"$out/e" </dev/null
	rc=$?
	check "no /dev/kvm -> exit 2 ($rc)" [ "$rc" = 2 ]
	check "no /dev/kvm -> one line naming /dev/kvm" \
		sh -c "[ \$(wc -l <'$out/e') = 1 ] && grep -q /dev/kvm '$out/e'"
fi
exit $failed
