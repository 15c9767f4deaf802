# --smp N with the mini guest: the APs start by INIT-SIPI-SIPI through the in-kernel LAPIC and
# each CPU drives IO through the one queue (test=smp), or its own (queues=2, --blk-queues); the
# trace and `trace stats` say which vCPU did what; the halt check waits for every vCPU
# (test=smp-halt); a reset from one CPU while the other reads (test=smp-reset); bad --smp values
# are one line; test=smp passes under QEMU -smp 2 too.
. tests/lib.sh
need_kvm smp
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
truncate -s 16M "$out/disk.img"

# smp_run NAME ARGS...: the mini guest on a fresh disk; status in $rc, console in $out/o.
smp_run() {
	$KVMSCOPE run --kernel $MINI --disk "$out/disk.img" "$@" >"$out/o" 2>"$out/e" </dev/null
	rc=$?
}

smp_run --smp 2 --append "test=smp count=4" --trace "$out/t.kvt"
check "test=smp on --smp 2 exits 0 ($rc)" [ "$rc" = 0 ]
check "test=smp: both CPUs started, each did its 8 requests" \
	grep -q "^smp: ok: 2 CPUs started, requests per CPU: 8 8" "$out/o"
$KVMSCOPE trace dump "$out/t.kvt" >"$out/d"
check "trace dump: vCPU 1's queue notifies carry its number" grep -q "^vcpu1@.*queue_notify" "$out/d"
check "trace dump: vCPU 1's guest stack is the AP's code" grep -q "^vcpu1@.*<- ap_main" "$out/d"
$KVMSCOPE trace stats "$out/t.kvt" >"$out/s"
check "trace stats: the vCPU count" grep -q "^  vcpus: 2$" "$out/s"
check "trace stats: 8 queue notifies from each vCPU" \
	sh -c "grep -Eq '^ +[0-9]+  vcpu0 +8$' '$out/s' && grep -Eq '^ +[0-9]+  vcpu1 +8$' '$out/s'"

# The viewer's timeline names the thread of each row when the run had several vCPUs: go to the
# first record of vCPU 1 (dump prints one line per record, in the viewer's numbering from 0).
if command -v tmux >/dev/null; then
	first=$(grep -n "^vcpu1@" "$out/d" | head -1 | cut -d: -f1)
	sock="kvmscope-smp-$$"
	# screen_when PATTERN: up to 5 s for the screen to match (grep -E), then it is in $out/screen.
	screen_when() {
		n=0
		until tmux -L "$sock" capture-pane -p | grep -Eq "$1" || [ $n -ge 50 ]; do
			sleep 0.1
			n=$((n + 1))
		done
		tmux -L "$sock" capture-pane -p >"$out/screen"
	}
	tmux -L "$sock" new-session -d -x 120 -y 40 "$KVMSCOPE view '$out/t.kvt'"
	sleep 1
	tmux -L "$sock" send-keys g
	sleep 0.3
	tmux -L "$sock" send-keys "$((first - 1))" Enter
	screen_when "^>.* vcpu1 "
	check "viewer: the timeline row of vCPU 1's first record says vcpu1, the rows before vcpu0" \
		sh -c "grep -Eq '^>.* vcpu1 ' '$out/screen' && grep -Eq '^ .* vcpu0 ' '$out/screen'"
	# f, 1, Enter: only vCPU 1's records; the count is the dump's.
	tmux -L "$sock" send-keys f
	sleep 0.3
	tmux -L "$sock" send-keys 1 Enter
	want=$(grep -c "^vcpu1@" "$out/d")
	screen_when "Timeline  $want/"
	tmux -L "$sock" kill-server 2>/dev/null
	check "viewer: f 1 shows only vCPU 1's $want records" \
		sh -c "grep -q 'Timeline  $want/' '$out/screen' && ! grep -Eq '^[ >] *[0-9]+ [0-9.]+ (vcpu0|main) ' '$out/screen'"
else
	echo "SKIP smp viewer: tmux is not installed"
fi

# Three CPUs, legacy transport, INTx, and the IO thread: the same test passes.
smp_run --smp 3 --blk-io iothread --append "test=smp count=2 transport=legacy irq=intx"
check "test=smp on --smp 3, legacy, intx, iothread exits 0 ($rc)" [ "$rc" = 0 ]
check "test=smp: three CPUs did their requests" \
	grep -q "^smp: ok: 3 CPUs started, requests per CPU: 4 4 4" "$out/o"

# Multi-queue (--blk-queues defaults to the vCPU count): with queues=2 each CPU has its own queue
# and the vCPU that notified serves it; with --iothreads 2 each queue has its own IO thread.
smp_run --smp 2 --append "test=smp count=4 queues=2" --trace "$out/mq.kvt"
check "test=smp queues=2 on --smp 2 exits 0 ($rc)" [ "$rc" = 0 ]
check "test=smp queues=2: each CPU on its own queue, each queue its own interrupts" \
	grep -q "^smp: ok: 2 CPUs started, requests per CPU: 8 8; on 2 queue(s), interrupts per queue: 8 8" "$out/o"
$KVMSCOPE trace dump "$out/mq.kvt" >"$out/d"
check "trace: vCPU 0 notifies queue 0 and vCPU 1 queue 1, each served where it notified" \
	sh -c "grep -q '^vcpu0@.*queue_notify.* queue=0 ' '$out/d' && grep -q '^vcpu1@.*queue_notify.* queue=1 ' '$out/d' &&
	grep -q '^vcpu1@.*chain_pop.* queue=1 ' '$out/d' && ! grep -q '^vcpu0@.*queue_notify.* queue=1 ' '$out/d'"
smp_run --smp 2 --blk-io iothread --iothreads 2 --virtio legacy --append "test=smp count=2 queues=2 transport=legacy" \
	--trace "$out/mq.kvt"
check "test=smp queues=2, legacy, two IO threads exits 0 ($rc)" [ "$rc" = 0 ]
$KVMSCOPE trace dump "$out/mq.kvt" >"$out/d"
check "trace: IO thread 0 serves queue 0 and IO thread 1 queue 1" \
	sh -c "grep -q '^io0@.*chain_pop.* queue=0 ' '$out/d' && grep -q '^io1@.*chain_pop.* queue=1 ' '$out/d' &&
	! grep -q '^io0@.*chain_pop.* queue=1 ' '$out/d'"
# A reset from CPU 0 while CPU 1 has reads in flight on its queue (test=smp-reset), on every IO
# path: once device_status reads 0 nothing lands in CPU 1's request, and after each handshake
# the queue serves again; then both CPUs do test=smp's work.
for io in vcpu "iothread --iothreads 2" "uring --iothreads 2"; do
	smp_run --smp 2 --blk-io $io --append "test=smp-reset count=10 queues=2"
	if [ "${io%% *}" = uring ] && grep -q "built without liburing" "$out/e"; then
		echo "SKIP test=smp-reset on uring: kvmscope was built without liburing"
		continue
	fi
	check "test=smp-reset, --blk-io $io: 10 resets during CPU 1's reads, nothing written after any ($rc)" \
		sh -c "[ $rc = 0 ] && grep -q '^smp-reset: 10 resets .* nothing written after any' '$out/o' &&
		grep -q '^smp-reset: ok: after the last reset, requests per CPU: 20 20' '$out/o'"
done
for bad in "--blk-queues 0" "--blk-queues 17" "--blk-queues 2 --blk-io iothread --iothreads 3" \
	"--blk-queues 2 --iothreads 2" "--blk-io vhost-user,socket=$out/none.sock --blk-queues 2"; do
	disk="--disk $out/disk.img"
	case $bad in *vhost-user*) disk= ;; esac
	$KVMSCOPE run --kernel $MINI $disk $bad >"$out/o" 2>"$out/e" </dev/null
	rc=$?
	check "bad input: $bad -> exit 2, one line ($rc: $(head -1 "$out/e"))" \
		sh -c "[ $rc = 2 ] && [ \$(wc -l <'$out/e') = 1 ]"
done

smp_run --smp 1 --append "test=smp count=2"
check "test=smp on one vCPU: status 46 (unsuitable) ($rc)" [ "$rc" = 46 ]
check "test=smp on one vCPU says why" grep -q "the MP table lists 1 CPU" "$out/o"

# The boot CPU halts with interrupts off while the AP still runs: kvmscope must wait for the AP
# to halt too (looking at vCPU 0 alone, it stopped before "CPU 1 halts too").
timeout 60 $KVMSCOPE run --kernel $MINI --smp 2 --append "test=smp-halt count=2000" \
	>"$out/o" 2>"$out/e" </dev/null
rc=$?
check "test=smp-halt: kvmscope stops on its own with status 0 ($rc)" [ "$rc" = 0 ]
check "test=smp-halt: it waited for the AP to halt too" grep -q "CPU 1 halts too" "$out/o"
check "test=smp-halt: kvmscope says every vCPU was idle" grep -q "every other vCPU idle too" "$out/e"
# An AP never started (waiting for INIT/SIPI) counts as idle.
timeout 60 $KVMSCOPE run --kernel $MINI --smp 2 --append "test=halt" >"$out/o" 2>"$out/e" </dev/null
rc=$?
check "test=halt on --smp 2 (the AP never started): kvmscope stops with status 0 ($rc)" [ "$rc" = 0 ]

# Ctrl-C while both vCPUs run (the AP spins, the boot CPU halts): every thread stops, status 130.
$KVMSCOPE run --kernel $MINI --smp 2 --append "test=smp-halt count=100000" >"$out/o" 2>"$out/e" \
	</dev/null &
pid=$!
n=0
until grep -q "still run" "$out/o" || [ $n -ge 100 ]; do sleep 0.1; n=$((n + 1)); done
kill -INT $pid
n=0
while kill -0 $pid 2>/dev/null && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
if kill -0 $pid 2>/dev/null; then
	kill -9 $pid
	fail "SIGINT with two vCPUs running: kvmscope did not stop within 10 s"
else
	wait $pid
	rc=$?
	check "SIGINT with two vCPUs running: kvmscope stops with status 130 ($rc)" [ "$rc" = 130 ]
fi

# The same guest under QEMU 7.2 with -smp 2, the reference machine: SeaBIOS's MP table lists
# only the first CPU of each package (there: one socket of two cores), so the guest must read
# the ACPI MADT, as an OS does (it ended with status 46 when it read only the MP table).
if command -v qemu-system-x86_64 >/dev/null; then
	MINI_TESTS=smp bash tests/tools/mini-blk.sh qemu || failed=1
else
	echo "SKIP smp under QEMU: qemu-system-x86_64 is not installed"
fi

for bad in 0 65 two -1; do
	$KVMSCOPE run --kernel $MINI --smp "$bad" >"$out/o" 2>"$out/e" </dev/null
	rc=$?
	check "bad input: --smp $bad -> exit 2, one line naming it ($rc)" \
		sh -c "[ $rc = 2 ] && [ \$(wc -l <'$out/e') = 1 ] && grep -q -- '--smp $bad' '$out/e'"
done
exit $failed
