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
# test=spin times one loop four ways (docs/platform.md); here only that it runs and reports them,
# and that its markers reach the trace in order: speeds differ by KVM, so none is asserted.
$KVMSCOPE run --kernel $MINI --append "test=spin count=1000" --trace "$out/spin.kvt" \
	--trace-events guest_marker >"$out/o" 2>"$out/e" </dev/null
rc=$?
check "mini guest test=spin exits 0 ($rc)" [ "$rc" = 0 ]
check "test=spin prints four timings" grep -Eq \
	"^spin: low address, irqs on [1-9][0-9]*, irqs off [1-9][0-9]*; high alias, irqs on [1-9][0-9]*, irqs off [1-9][0-9]*" "$out/o"
$KVMSCOPE trace dump "$out/spin.kvt" | sed -n 's/.*guest_marker text="\([^"]*\)".*/\1/p' | tr '\n' , >"$out/m"
check "test=spin markers in order: $(cat "$out/m")" \
	[ "$(cat "$out/m")" = "spin low on,spin low off,spin high on,spin high off,spin done," ]
# The console through KVM's coalesced ring: each byte the guest wrote to the transmit register
# reaches the console once and in order, and the trace holds each (coalesced_io, or kvm_exit with
# --no-coalesce); bytes written while LCR.DLAB is set are the divisor, not output.
console_of_trace() {
	$KVMSCOPE trace dump "$1" | LC_ALL=C awk '
		function val(k,   i) { for (i = 1; i <= NF; i++) if (index($i, k "=") == 1) return substr($i, length(k) + 2); return "" }
		function hex(s,   i, v) { v = 0; for (i = 3; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1; return v }
		/:kvm_exit reason=IO / && val("addr") == "0x3fb" && val("rw") == "write" { dlab = hex(val("data")) >= 128 }
		dlab { next }
		/:coalesced_io / && val("addr") == "0x3f8" { printf "%c", hex(val("data")) }
		/:kvm_exit reason=IO / && val("addr") == "0x3f8" && val("rw") == "write" { printf "%c", hex(val("data")) }'
}
for mode in coalesced exit; do
	$KVMSCOPE run --kernel $MINI --append "test=spin count=1000" --trace "$out/c.kvt" \
		--trace-events coalesced_io,kvm_exit $([ $mode = exit ] && echo --no-coalesce) \
		>"$out/o" 2>"$out/e" </dev/null
	console_of_trace "$out/c.kvt" >"$out/t"
	check "console ($mode): the trace's transmit-register bytes are the console's, in order ($(wc -c <"$out/o") bytes)" \
		sh -c "[ -s '$out/o' ] && cmp -s '$out/o' '$out/t'"
	n=$($KVMSCOPE trace dump "$out/c.kvt" --events coalesced_io | grep -c coalesced_io)
	if [ $mode = exit ]; then
		check "console --no-coalesce: no write was coalesced ($n)" [ "$n" = 0 ]
	elif $KVMSCOPE trace stats "$out/c.kvt" | grep -q "console_writes: coalesced"; then
		check "console: KVM held the bytes in its coalesced ring ($n coalesced_io)" [ "$n" -gt 0 ]
	else
		echo "SKIP console: this KVM has no coalesced port I/O (KVM_CAP_COALESCED_PIO)"
	fi
done
# PCI's configuration address (0xCF8) through the same ring: the bus scan's address writes are
# coalesced_io records, not exits, and each configuration access that follows still finds its
# address (the driver's handshake and IO pass); with --no-coalesce each is an exit again.
truncate -s 1M "$out/cf8.img"
for mode in coalesced exit; do
	$KVMSCOPE run --kernel $MINI --disk "$out/cf8.img" --append "test=blk transport=modern" \
		--trace "$out/p.kvt" --trace-events coalesced_io,kvm_exit \
		$([ $mode = exit ] && echo --no-coalesce) >"$out/o" 2>"$out/e" </dev/null
	rc=$?
	check "PCI address ($mode): mini guest test=blk passes ($rc)" \
		sh -c "[ $rc = 0 ] && grep -q '^blk: ok' '$out/o'"
	# "vcpu0@T:EVENT addr=... rw=write ..." -> how many of each event wrote 0xcf8
	$KVMSCOPE trace dump "$out/p.kvt" | awk '/ addr=0xcf8 / && !/ rw=read/ {
		sub(/^[^:]*:/, "", $1); n[$1]++ } END { print n["coalesced_io"] + 0, n["kvm_exit"] + 0 }' >"$out/cf8"
	read -r ring exits <"$out/cf8"
	if [ $mode = exit ]; then
		check "PCI address --no-coalesce: every 0xcf8 write exits ($exits exits, $ring coalesced)" \
			sh -c "[ $exits -gt 0 ] && [ $ring = 0 ]"
	elif $KVMSCOPE trace stats "$out/p.kvt" | grep -q "console_writes: coalesced"; then
		check "PCI address: KVM held the 0xcf8 writes in its ring ($ring coalesced, $exits exits)" \
			sh -c "[ $ring -gt 0 ] && [ $exits = 0 ]"
	else
		echo "SKIP PCI address: this KVM has no coalesced port I/O (KVM_CAP_COALESCED_PIO)"
	fi
done
# A guest halted with interrupts off (a power-off without ACPI) ends the run; timeout only guards
# against the hang this replaces.
timeout 30 $KVMSCOPE run --kernel $MINI --append "test=halt" >"$out/o" 2>"$out/e" </dev/null
rc=$?
check "mini guest test=halt (cli; hlt): kvmscope stops on its own with status 0 ($rc)" [ "$rc" = 0 ]
check "test=halt: kvmscope says why it stopped" grep -q "halted with interrupts off" "$out/e"
$KVMSCOPE run --kernel $MINI --pvh --append "exit=5" >"$out/o" 2>"$out/e" </dev/null
rc=$?
check "mini guest entered through its PVH note (--pvh) exits 5 ($rc)" [ "$rc" = 5 ]

# bad_input NAME EXPECTED-TEXT ARGS...: exit 2, one stderr line naming the problem, no core.
bad_input() {
	what=$1; text=$2; shift 2
	fails_with "bad input: $what" 2 "$text" $KVMSCOPE "$@"
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
# Without --kernel, run boots an installed guest (tests/integration/install.sh checks that); with
# none installed where this binary looks, that is bad input naming the place.
guestdir=$($KVMSCOPE run --help | sed -n 's/.*(\(.*\)\/vmlinux, initrd.img.*/\1/p')
if [ -e "$guestdir/vmlinux" ] || [ -e "$guestdir/mini.elf" ]; then
	echo "SKIP bad input: no --kernel: a guest is installed in $guestdir, which run would boot"
else
	bad_input "no --kernel, no guest installed" "no guest installed ($guestdir/vmlinux)" run
fi
objcopy --remove-section .note.Xen $MINI "$out/nonote.elf"
bad_input "--pvh with an ELF without a PVH note" "no PVH entry note" run --kernel "$out/nonote.elf" --pvh
bad_input "unknown command" "unknown command" frobnicate
bad_input "unknown --virtio" "--virtio" run --kernel $MINI --virtio=pci
bad_input "unknown --ring" "--ring circular" run --kernel $MINI --ring circular
bad_input "--ring packed on the legacy transport" "needs --virtio modern or transitional" \
	run --kernel $MINI --virtio legacy --ring packed
# A disk image in use: a writer holds it alone, readers share it (flock(1) takes the other side).
truncate -s 1M "$out/disk.img"
if command -v flock >/dev/null; then
	flock -F "$out/disk.img" sleep 30 & holder=$!
	for _ in 1 2 3 4 5 6 7 8 9 10; do flock -n "$out/disk.img" true || break; sleep 0.1; done
	bad_input "disk locked by another writer" "in use by another process" \
		run --kernel $MINI --disk "$out/disk.img"
	bad_input "disk locked by a writer, opened ro" "locked for writing" \
		run --kernel $MINI --disk "$out/disk.img,ro"
	kill $holder; wait $holder 2>/dev/null
	flock -F -s "$out/disk.img" sleep 30 & holder=$!
	for _ in 1 2 3 4 5 6 7 8 9 10; do flock -n "$out/disk.img" true || break; sleep 0.1; done
	$KVMSCOPE run --kernel $MINI --disk "$out/disk.img,ro" --append exit=0 >"$out/o" 2>"$out/e" </dev/null
	rc=$?
	check "two readers share a disk image (,ro beside flock -s) ($rc)" [ "$rc" = 0 ]
	bad_input "disk shared by readers, opened for writing" "in use by another process" \
		run --kernel $MINI --disk "$out/disk.img"
	kill $holder; wait $holder 2>/dev/null
	$KVMSCOPE run --kernel $MINI --disk "$out/disk.img" --append exit=0 >"$out/o" 2>"$out/e" </dev/null
	rc=$?
	check "the lock goes with its holder: the disk opens again ($rc)" [ "$rc" = 0 ]
fi
# SIGUSR2 pauses and resumes recording; the file says so, and records nothing in between.
# Each signal waits for the event before it, never for a time: the load reports its progress
# (report=) and runs until SIGTERM ends it, so it cannot finish early on a fast KVM.
truncate -s 16M "$out/load.img"
$KVMSCOPE run --kernel $MINI --disk "$out/load.img" --append "test=load count=4000000000 report=100" \
	--trace "$out/pause.kvt" >"$out/o" 2>"$out/e" </dev/null &
vmm=$!
# wait_for FILE PATTERN [N]: until FILE has N lines (default 1) matching PATTERN; false when the
# VMM is gone first (or after 120 s, a guard against a hang, not a timing assumption).
wait_for() {
	for _ in $(seq 1200); do
		[ "$(grep -c "$2" "$1")" -ge "${3:-1}" ] && return 0
		kill -0 $vmm 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
# two more progress lines than now: 100 reads at least began and ended after this point
two_more() { wait_for "$out/o" '^load: [0-9]* reads$' $(($(grep -c '^load: [0-9]* reads$' "$out/o") + 2)); }
steps=""
wait_for "$out/o" '^load: [0-9]* reads$' && kill -USR2 $vmm && steps="loading"
[ -n "$steps" ] && wait_for "$out/e" 'recording paused' && two_more && kill -USR2 $vmm &&
	steps="$steps,paused"
[ "$steps" = loading,paused ] && wait_for "$out/e" 'recording resumed' && two_more &&
	steps="$steps,resumed"
kill -TERM $vmm
wait $vmm
rc=$?
check "SIGUSR2 twice during a traced load, each after the event before it ($steps), then SIGTERM (status $rc)" \
	[ "$steps" = loading,paused,resumed -a "$rc" = 130 ]
check "SIGUSR2: stderr says paused, then resumed" \
	sh -c "grep -q 'recording paused' '$out/e' && grep -q 'recording resumed' '$out/e'"
$KVMSCOPE trace dump "$out/pause.kvt" | awk '
	/:trace_pause paused=1/ { if (state == 0) state = 1; next }
	/:trace_pause paused=0/ { if (state == 1) state = 2; next }
	/^writer@/ { next }
	state == 1 { inside++ } state == 2 && /:chain_pop / { after++ }
	END { printf "%d %d %d\n", state, inside, after }' >"$out/p"
read -r state inside after <"$out/p"
check "trace stats counts the pause" sh -c "$KVMSCOPE trace stats '$out/pause.kvt' | grep -q '^paused: recording was off 1 time(s), [0-9]*\.[0-9]* s in all'"
check "trace_pause 1 then 0 in the file, nothing recorded between them ($inside), requests after ($after)" \
	[ "$state" = 2 -a "$inside" = 0 -a "${after:-0}" -gt 0 ]
check "no core dump left behind" [ ! -e core ]

# No /dev/kvm: a VMM with no KVM says so in one line (run where the device node is hidden).
# (unshare -m itself fails where / is not a mount point, as in a chroot: then this part is skipped)
if command -v unshare >/dev/null && [ "$(id -u)" = 0 ] && ! unshare -m true 2>/dev/null; then
	echo "SKIP mini: no /dev/kvm case: unshare -m does not work here ($(unshare -m true 2>&1))"
elif command -v unshare >/dev/null && [ "$(id -u)" = 0 ]; then
	fails_with "no /dev/kvm" 2 /dev/kvm \
		unshare -m sh -c "mount -t tmpfs none /dev && $KVMSCOPE run --kernel $MINI"
fi
exit $failed
