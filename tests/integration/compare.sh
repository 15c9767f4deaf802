# kvmscope against QEMU 7.2 (docs/compare.md): the committed QEMU logs import and dump, and a
# kvmscope Linux boot's handshake matches QEMU's, with every difference labelled. The boot is the
# one tests/integration/linux.sh leaves in tests/out/linux.kvt when it is newer than kvmscope;
# otherwise this script boots Linux once itself, with the legacy transport (a minute here).
# Then the host's view: the mini guest under trace/compare/kvm.bt (bpftrace, root), when it can run.
. tests/lib.sh
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
quiet() { "$@" >/dev/null 2>&1; }
if ! $KVMSCOPE diff --help >/dev/null 2>&1; then
	echo "SKIP compare: this kvmscope has no 'diff' command yet"
	exit 77
fi

# The reference logs themselves (no KVM needed).
check "compare: import the QEMU legacy log" \
	quiet $KVMSCOPE import qemu tests/fixtures/qemu-legacy.log -o "$out/qemu.kvt"
$KVMSCOPE trace dump "$out/qemu.kvt" >"$out/qemu.dump" 2>&1
check "compare: trace dump reads the imported log (16 status writes)" \
	[ "$(grep -c ':virtio_status ' "$out/qemu.dump")" = 16 ]
check "compare: a QEMU log against its own import matches" \
	quiet $KVMSCOPE diff tests/fixtures/qemu-legacy.log "$out/qemu.kvt"
$KVMSCOPE diff tests/fixtures/qemu-legacy.log tests/fixtures/qemu-modern.log >"$out/lm" 2>&1
check "compare: QEMU legacy against modern: the spec's differences, labelled (exit 0)" \
	sh -c "[ $? = 0 ] && ! grep -q '<- mismatch' '$out/lm' &&
		grep -q '^Verdict: match, [0-9]* expected differences (legacy vs modern)$' '$out/lm' &&
		grep -q 'a legacy driver has no FEATURES_OK step' '$out/lm'"
# A log without -msg timestamp=on: no time is known, so no latency is made up.
sed 's/^[0-9]*@[0-9.]*://' tests/fixtures/qemu-legacy.log >"$out/notime.log"
quiet $KVMSCOPE import qemu "$out/notime.log" -o "$out/notime.kvt"
$KVMSCOPE trace stats "$out/notime.kvt" >"$out/notime.stats" 2>&1
check "compare: stats of a log without timestamps: latency not in the log, not 0 ns" \
	sh -c "grep -q 'latency (chain_pop -> req_complete): not in the log' '$out/notime.stats' &&
		! grep -q 'p50 0 ns' '$out/notime.stats'"
# Multi-queue: QEMU's -smp 2 device (two queues, both used) against itself, and against -smp 1.
$KVMSCOPE diff tests/fixtures/qemu-modern-smp2.log tests/fixtures/qemu-modern-smp2.log >"$out/mq" 2>&1
check "compare: QEMU -smp 2 against itself: both queues with their IO, all the same (exit $?)" \
	sh -c "grep -q '^Verdict: the handshakes match$' '$out/mq' && grep -q '^  =  queue 1: ' '$out/mq' &&
		[ \$(grep -c ' 0 expected differences, 0 unexplained' '$out/mq') = 2 ]"
$KVMSCOPE diff tests/fixtures/qemu-modern-smp2.log tests/fixtures/qemu-modern.log >"$out/mq1" 2>&1
check "compare: QEMU -smp 2 against -smp 1: MQ, the queue count, queue 1 labelled (exit $?)" \
	sh -c "grep -q '^Verdict: the handshakes match$' '$out/mq1' && ! grep -q '<- mismatch' '$out/mq1' &&
		grep -q 'the devices have 2 and 1 queues \[1\]' '$out/mq1' &&
		[ \$(grep -c ' 0 unexplained (kvmscope view' '$out/mq1') = 2 ]"
# A kvmscope modern-only Linux boot (committed) against QEMU's disable-legacy=on device: only the
# platform's differences, labelled, in PCI enumeration and IO as in the handshake.
$KVMSCOPE diff tests/fixtures/kvmscope-modern.kvt tests/fixtures/qemu-modern-only.log >"$out/mo" 2>&1
check "compare: kvmscope --virtio modern against QEMU modern-only: every difference labelled (exit $?)" \
	sh -c "grep -q '^Verdict: the handshakes match$' '$out/mo' && ! grep -q '<- mismatch' '$out/mo' &&
		[ \$(grep -c ' 0 unexplained (kvmscope view' '$out/mo') = 2 ]"
$KVMSCOPE diff tests/fixtures/qemu-legacy.log /nonexistent.kvt >/dev/null 2>&1
check "compare: a missing file is bad input (exit 2)" [ $? = 2 ]

# A kvmscope Linux boot against the QEMU log of the same transport.
need_kvm compare
trace=tests/out/linux.kvt
if [ -s "$trace" ] && [ "$trace" -nt "$KVMSCOPE" ]; then
	echo "compare: using $trace from tests/integration/linux.sh"
else
	for f in guest/out/vmlinux guest/out/initrd.img guest/out/disk.img; do
		[ -f "$f" ] || { echo "SKIP compare: $f is missing (make guest-linux)"; exit $failed; }
	done
	trace=$out/linux.kvt
	cp guest/out/disk.img "$out/disk.img"
	start=$(date +%s)
	timeout 1200 $KVMSCOPE run --kernel guest/out/vmlinux --initrd guest/out/initrd.img \
		--disk "$out/disk.img" --virtio legacy --trace "$trace" >"$out/console" 2>&1 </dev/null
	echo "compare: booted Linux (legacy) for its trace in $(($(date +%s) - start)) s"
fi
transport=$($KVMSCOPE trace stats "$trace" 2>/dev/null | sed -n 's/^  transport: //p')
case "$transport" in
legacy) log=tests/fixtures/qemu-legacy.log ;;
*) log=tests/fixtures/qemu-modern.log ;; # transitional and modern: Linux drives virtio 1.x
esac
$KVMSCOPE diff "$trace" "$log" >"$out/diff" 2>&1
rc=$?
check "compare: kvmscope ($transport) against $log: the handshakes match (exit $rc)" [ "$rc" = 0 ]
check "compare: no unexplained difference in the handshake" sh -c "! grep -q '<- mismatch' '$out/diff'"
check "compare: SeaBIOS's session in QEMU's log is labelled as expected" \
	grep -q "QEMU boots through SeaBIOS" "$out/diff"
check "compare: the same first requests on both sides" \
	grep -q "^  =  IN    sector 0 " "$out/diff"
# every note a row points to is explained at the end
notes_used=$(grep -o '\[[0-9]*\]$' "$out/diff" | sort -u | wc -l)
notes_said=$(grep -c '^  \[[0-9]*\] ' "$out/diff")
check "compare: every labelled difference has its note ($notes_used used, $notes_said explained)" \
	[ "$notes_used" -le "$notes_said" ]
$KVMSCOPE diff "$trace" "$log" --format json >"$out/json" 2>&1
check "compare: --format json says the same" grep -q '"match":true}$' "$out/json"
if [ "$failed" != 0 ]; then
	echo "--- kvmscope diff $trace $log"
	cat "$out/diff"
fi

# Multi-queue on kvmscope's own device: the mini guest on two queues against one (milliseconds).
if [ -f "$MINI" ]; then
	truncate -s 1M "$out/mq.img"
	for n in 1 2; do
		$KVMSCOPE run --kernel "$MINI" --disk "$out/mq.img" --virtio modern --blk-queues $n \
			--append "test=blk transport=modern queues=$n" --trace "$out/mq$n.kvt" \
			>"$out/mq$n.out" 2>&1 </dev/null
	done
	$KVMSCOPE diff "$out/mq2.kvt" "$out/mq1.kvt" >"$out/mqd" 2>&1
	check "compare: kvmscope 2 queues against 1 (mini guest): queue 1's setup and IO labelled (exit $?)" \
		sh -c "grep -q '^Verdict: the handshakes match$' '$out/mqd' && ! grep -q '<- mismatch' '$out/mqd' &&
			grep -q '^  ~  queue 1: .* -  *\[[0-9]*\]$' '$out/mqd' &&
			[ \$(grep -c ' 0 unexplained (kvmscope view' '$out/mqd') = 2 ]"
else
	echo "SKIP compare: $MINI is missing (make mini): the two-queue diff not run"
fi

# The packed ring (docs/packed.md): linux.sh's --ring packed boot, when it is newer than
# kvmscope, against QEMU 7.2's packed=on device (guest/qemu-trace.sh modern --packed).
packed=tests/out/linux-packed.kvt
if [ -s "$packed" ] && [ "$packed" -nt "$KVMSCOPE" ]; then
	$KVMSCOPE diff "$packed" tests/fixtures/qemu-modern-packed.log >"$out/pdiff" 2>&1
	rc=$?
	check "compare: kvmscope --ring packed against QEMU packed=on: the handshakes match (exit $rc)" \
		sh -c "[ $rc = 0 ] && ! grep -q '<- mismatch' '$out/pdiff'"
	check "compare: both negotiated F_RING_PACKED; the same first requests" \
		sh -c "[ \$(grep -c 'F_RING_PACKED' '$out/pdiff') -ge 2 ] && grep -q '^  =  IN    sector 0 ' '$out/pdiff'"
else
	echo "compare: no fresh tests/out/linux-packed.kvt (tests/integration/linux.sh makes it): packed diff not run"
fi

# The host's view (trace/compare/kvm.bt): the exits KVM sends to user space are the ones kvmscope counts.
host_view() {
	[ "$(id -u)" = 0 ] || { echo "SKIP compare host view: bpftrace needs root"; return; }
	command -v bpftrace >/dev/null || {
		echo "SKIP compare host view: bpftrace is not installed (apt-get install bpftrace)"
		return
	}
	[ -d /sys/kernel/tracing/events/kvm ] || mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null
	[ -d /sys/kernel/tracing/events/kvm ] || {
		echo "SKIP compare host view: no KVM tracepoints in /sys/kernel/tracing"
		return
	}
	[ -f "$MINI" ] || { echo "SKIP compare host view: $MINI is missing (make mini)"; return; }
	truncate -s 8M "$out/mini.img"
	mkfifo "$out/go"
	# kvmscope waits until bpftrace has attached (its BEGIN line), then execs in the same pid
	# Without lines from KVM's kvm_exit tracepoint (kvm_pvm never fires it) the host view cannot
	# tell a console byte KVM coalesced from a write that exits (docs/compare.md): there the
	# console is not coalesced. With them, test_import_bpftrace checks the coalesced case.
	nocoal=""
	[ -e /sys/module/kvm_pvm ] && nocoal=--no-coalesce
	sh -c "read go <'$out/go'; exec $KVMSCOPE run --kernel $MINI --disk '$out/mini.img' $nocoal \
		--append test=blk --trace '$out/mini.kvt' --trace-events '*'" >"$out/mini.out" 2>&1 &
	pid=$!
	bpftrace trace/compare/kvm.bt $pid >"$out/host.log" 2>"$out/bpftrace.err" &
	bt=$!
	i=0
	while ! grep -q kvmbt-start "$out/host.log" 2>/dev/null && [ $i -lt 600 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	echo go >"$out/go"
	wait $pid
	sleep 0.5
	# bpftrace was once seen not to end on SIGTERM on a loaded machine, and its detaching from the
	# tracepoints took over 10 s there twice: bound the wait (a guard against a hang, not a timing)
	kill -TERM $bt 2>/dev/null
	i=0
	while kill -0 $bt 2>/dev/null && [ $i -lt 600 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	check "compare host view: bpftrace ends within 60 s of SIGTERM ($((i / 10)) s)" sh -c "! kill -0 $bt 2>/dev/null"
	kill -KILL $bt 2>/dev/null
	wait $bt
	check "compare host view: import the kvm.bt log" \
		quiet $KVMSCOPE import bpftrace "$out/host.log" -o "$out/host.kvt"
	$KVMSCOPE trace dump "$out/host.kvt" --events kvm_exit | awk '{print $2, $3}' | sort \
		>"$out/host.exits"
	$KVMSCOPE trace dump "$out/mini.kvt" --events kvm_exit | awk '{print $2, $3}' | sort \
		>"$out/own.exits"
	check "compare host view: KVM's exits to user space are kvmscope's own, port by port ($(wc -l <"$out/own.exits") exits)" \
		sh -c "[ -s '$out/own.exits' ] && cmp -s '$out/host.exits' '$out/own.exits'"
}
host_view
exit $failed
