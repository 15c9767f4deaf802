# The ncurses viewer in a real terminal (tmux, 80x24): it opens a trace, steps along the init and
# IO paths with n/p, searches, filters, goes to an event, plays, survives a resize, and gives
# the terminal back on q and on SIGTERM; without a terminal it says so. The trace is the
# synthetic one test_view writes through the trace layer; a recorded mini-guest trace follows
# when KVM is here.
. tests/lib.sh
BUILD=${BUILD:-build}
if ! command -v tmux >/dev/null; then
	echo "SKIP view: tmux is not installed (apt-get install tmux)"
	exit 77
fi
if [ ! -x "$BUILD/tests/test_view" ]; then
	echo "SKIP view: $BUILD/tests/test_view is not built (make unit)"
	exit 77
fi
out=$(mktemp -d)
sock="kvmscope-view-$$"
T() { tmux -L "$sock" "$@"; }
trap 'T kill-server 2>/dev/null; rm -rf "$out"' EXIT
# A session that outlives the others, so that the server stays up between them.
T new-session -d -s keep "sleep 3600"

# `kvmscope view` once main.c has it; until then the test binary's own driver.
if $KVMSCOPE view --help >/dev/null 2>&1; then
	VIEW="$KVMSCOPE view"
else
	VIEW="$BUILD/tests/test_view --view"
fi
"$BUILD/tests/test_view" --write "$out/s.kvt"
check "synthetic trace written" [ -s "$out/s.kvt" ]

screen() { T capture-pane -t v -p; }
# within5 CMD...: up to 5 s for CMD to succeed; the screen goes to the log when it does not.
within5() {
	n=0
	while [ $n -lt 50 ]; do
		"$@" && return 0
		sleep 0.1
		n=$((n + 1))
	done
	screen | sed 's/^/# /'
	return 1
}
# wait_for TEXT: up to 5 s for the screen to show TEXT (a fixed string).
wait_for() { within5 shows "$1"; }
# gone TEXT: up to 5 s for TEXT to leave the screen.
gone() { within5 hidden "$1"; }
shows() { screen | grep -qF -- "$1"; }
hidden() { ! shows "$1"; }
keys() { T send-keys -t v "$@"; }
# press_until KEY TEXT MAX PAUSE: KEY, PAUSE seconds, again, until the screen shows TEXT, at most
# MAX times; the presses are left in $n.
press_until() {
	n=0
	while [ $n -lt "$3" ] && ! shows "$2"; do
		keys "$1"
		sleep "$4"
		n=$((n + 1))
	done
}
# exited STATUS: up to 5 s for the viewer to exit with STATUS.
exited() {
	n=0
	while [ $n -lt 50 ]; do
		grep -qx "EXIT=$1" "$out/exit" 2>/dev/null && return 0
		sleep 0.1
		n=$((n + 1))
	done
	cat "$out/exit" 2>/dev/null | sed 's/^/# /'
	return 1
}

# restored: the shell's stty after the viewer (up to 5 s) is the one from before it.
restored() {
	n=0
	while [ $n -lt 50 ] && [ ! -s "$out/stty.after" ]; do
		sleep 0.1
		n=$((n + 1))
	done
	cmp -s "$out/stty.before" "$out/stty.after"
}
# start FILE [COLS ROWS]: a shell in the pane records the terminal settings before and after
# the viewer (80x24 unless told).
start() {
	T new-session -d -s v -x "${2:-80}" -y "${3:-24}" \
		"stty -g >$out/stty.before; $VIEW $1; echo EXIT=\$? >$out/exit; stty -g >$out/stty.after; sleep 60"
}

start "$out/s.kvt"
check "opens at 80x24: header and the first event" wait_for "kvmscope view $out/s.kvt  55 events"
check "path pane: the first event lit as 'device built'" wait_for "[>]   device built"
keys n n n
check "n n n: ACKNOWLEDGE lit" wait_for "[>] 2 ACKNOWLEDGE"
check "n n n: reset marked done" shows "[x] 1 reset"
check "n n n: PCI probe marked done" shows "[x]   PCI probe"
check "n n n: DRIVER still to come" shows "[ ] 3 DRIVER"
keys n n n
check "n n n: DRIVER, features, FEATURES_OK lit" wait_for "[>] 5 FEATURES_OK"
check "detail at 80x24: the spec step" shows "step 5 of"
check "timeline at 80x24: the status write keeps the bit it added" shows "virtio_status ..->FEAT_OK"
keys n
check "n: the re-read of step 6 lit" wait_for "[>] 6 re-read status"
keys p
check "p: back to FEATURES_OK" wait_for "[>] 5 FEATURES_OK"
keys n n n
check "n n n: re-read, device setup, DRIVER_OK lit" wait_for "[>] 8 DRIVER_OK"
check "detail: the QEMU function for a status write" shows "QEMU 7.2 virtio_set_status()"
check "detail: the guest function" shows "guest    vp_modern_set_status+0x3"
check "detail: the kvmscope function" shows "kvmscope status()"
keys n
check "n after DRIVER_OK: the IO path begins with notify" wait_for "[>] notify"
check "the IO path names the request" shows "Path: IO blk0 q0 head 0"
keys n n n
check "n n n: pop, complete, used: used lit" wait_for "[>] used"
check "notify, pop, backend, complete marked done" \
	sh -c "tmux -L $sock capture-pane -t v -p | grep -c '^\[x\] \(notify\|pop\|backend\|complete\) ' | grep -qx 4"
check "the queue pane: the avail and used indices" shows "avail idx 1  used idx 1"
keys / virtio_add_queue Enter
check "/ search: a QEMU function finds its event" wait_for "queue_add [host-init]"
keys / "io start" Enter
check "/ search: the marker row is selected" wait_for ">40 "
keys g 48 Enter
check "g 48: event 48 selected, with its chain in flight" wait_for "head 4 #48 IN sector 16, 1024 B"
check "g 48: detail of chain_pop" wait_for "#48 chain_pop [request]"
keys f a Enter
check "f a: host-init hidden (46 of 55 shown)" wait_for "Timeline  46/55 shown"
check "f a: the header says filtered" wait_for "[filtered]"
keys f '*' Enter
check "f *: everything shown again" wait_for "Timeline  55/55 shown"
keys '?'
check "?: the help" wait_for "kvmscope view: keys"
keys x
check "a key closes the help" gone "kvmscope view: keys"
keys Home
keys -- - - - - - - - - - - - - - - - -
check "- slows playback down (x1/65536)" wait_for "speed x1/65536"
keys Space
check "space plays, slowly" wait_for "[playing x1/65536]"
keys + + + + + + + + + + + + + + + +
check "playback ends on the last event" wait_for "end of trace"
check "the last event is selected" shows ">54 "
keys +
check "+ once more: twice recorded time" wait_for "playback speed x2"
T resize-window -t v -x 120 -y 40
# at 120 columns the timeline shows whole argument lists
check "resize to 120x40: redrawn at the new size" wait_for "irq_suppress queue=0 why=EVENT_IDX used_idx=3"
T resize-window -t v -x 80 -y 24
check "resize back to 80x24" wait_for "Timeline  55/55 shown"
keys q
check "q: exit status 0" exited 0
check "q: the terminal is restored (stty)" restored
T kill-session -t v
rm -f "$out/exit" "$out/stty.after"

# SIGTERM while drawing: the terminal comes back too.
start "$out/s.kvt"
wait_for "device built" >/dev/null
pid=$(pgrep -P "$(T display -p -t v '#{pane_pid}')" | head -1)
[ -n "$pid" ] && kill -TERM "$pid"
check "SIGTERM: the viewer dies of it" exited 143
check "SIGTERM: the terminal is restored (stty)" restored
T kill-session -t v

# Two queues whose pops carry their chains (test_view_queue's trace): the Queue pane shows the
# chain as the device walked it and the ring entries around it, [ ] picks the queue it shows,
# and the filter keeps one queue's events.
if [ -x "$BUILD/tests/test_view_queue" ]; then
	"$BUILD/tests/test_view_queue" --write "$out/q.kvt"
	start "$out/q.kvt"
	wait_for "kvmscope view $out/q.kvt" >/dev/null
	keys g 24 Enter
	check "queue view: g 24 selects q1's split_pop" wait_for "#24 split_pop [request]"
	check "queue view: the pane names q1 of the device's 2" shows " Queue blk0 q1 of 2 as of #24"
	check "queue view: the chain's head and size" shows "chain head 2 #24: 4 descriptors"
	check "queue view: the INDIRECT descriptor as walked" shows " desc[2] 0x30000 len=48 INDIRECT"
	check "queue view: its table, indented" shows "   table[1] 0x32000 len=4096"
	check "queue view: the avail entries around it" shows "avail idx 1: 6:? 7:? >0:2 1:? 2:?"
	keys ']'
	check "]: the pane shows q0, chosen" wait_for " Queue blk0 q0 of 2, chosen, as of #24"
	check "]: q0's own chain" shows "chain head 0 #"
	keys ']' ']'
	check "] ]: q1, then the event's queue again" wait_for " Queue blk0 q1 of 2 as of #24"
	keys f q 1 Enter
	check "f q 1: only q1's 19 events" wait_for "Timeline  19/"
	check "f q 1: the header says filtered" shows "[filtered]"
	keys q
	check "queue view: q exits 0" exited 0
	T kill-session -t v
	rm -f "$out/exit" "$out/stty.after"
fi
# QEMU 7.2 with -smp 2 (num-queues=2): its queues one at a time, and trace stats per queue.
smp2=tests/fixtures/qemu-modern-smp2.log
if [ -s "$smp2" ]; then
	start "$smp2"
	wait_for "kvmscope view $smp2" >/dev/null
	keys / "queue_notify queue=1" Enter
	check "qemu -smp 2: a notify of q1, the pane on q1 of 2" wait_for "q1 of 2 a"
	keys ']'
	check "qemu -smp 2: ] shows q0 with QEMU's monitor snapshot" wait_for "q0 of 2,"
	check "qemu -smp 2: q0's size from the snapshot" shows "size 256, vector not logged"
	keys f q 0 Enter
	check "qemu -smp 2: f q 0 keeps q0's events only" \
		within5 sh -c "tmux -L $sock capture-pane -t v -p | grep -q 'Timeline  [0-9]*/1052 shown' && ! tmux -L $sock capture-pane -t v -p | grep -q 'queue=1'"
	keys q
	exited 0 >/dev/null
	T kill-session -t v
	rm -f "$out/exit" "$out/stty.after"
	$KVMSCOPE import qemu "$smp2" -o "$out/smp2.kvt" >/dev/null 2>&1
	$KVMSCOPE trace stats "$out/smp2.kvt" >"$out/smp2.stats" 2>&1
	check "qemu -smp 2: trace stats gives each queue its requests and notifies" \
		sh -c "grep -q '^virtio-blk-pci 00:02.0 q0 *1 *65536 *3 ' '$out/smp2.stats' &&
			grep -q '^virtio-blk-pci 00:02.0 q1 *4 *135168 *5 ' '$out/smp2.stats'"
fi

# walk NAME FILE: from the first event, n lights every step of the init path in the spec's order
# (5 and 6 only when the driver negotiated FEATURES_OK: not on a legacy transport), then the first
# request's IO path. Leaves the viewer on the first interrupt.
walk() {
	name=$1
	steps="device built|PCI probe|1 reset|2 ACKNOWLEDGE|3 DRIVER|4 features"
	if $KVMSCOPE trace dump "$2" --events features_ok 2>/dev/null | grep -q features_ok; then
		steps="$steps|5 FEATURES_OK|6 re-read status"
	fi
	steps="$steps|7 device setup|8 DRIVER_OK|notify|pop|complete|used|interrupt"
	wait_for "kvmscope view $2" >/dev/null
	ok_all=0
	IFS='|'
	for st in $steps; do
		keys n
		case $st in [0-9]*) want="[>] $st" ;; device*|PCI*) want="[>]   $st" ;; *) want="[>] $st" ;; esac
		if ! wait_for "$want" >/dev/null; then
			echo "# $name: n did not reach '$st'"
			ok_all=1
			break
		fi
		[ "$st" = "8 DRIVER_OK" ] && screen >"$out/driver_ok.screen"
		[ "$st" = "2 ACKNOWLEDGE" ] && screen >"$out/ack.screen"
	done
	unset IFS
	return $ok_all
}

# The Linux boot's trace (tests/integration/linux.sh leaves it): the whole virtio-blk init.
linux=tests/out/linux.kvt
if [ -s "$linux" ] && [ -x "$KVMSCOPE" ]; then
	start "$linux" 132 43
	check "linux trace: n walks reset .. DRIVER_OK, then notify .. interrupt" walk linux "$linux"
	check "linux trace: ACKNOWLEDGE written from register_virtio_device" \
		grep -q "guest .*register_virtio_device" "$out/ack.screen"
	check "linux trace: DRIVER_OK written from virtblk_probe" \
		grep -q "guest .*virtblk_probe" "$out/driver_ok.screen"
	keys q
	check "linux trace: q" exited 0
	T kill-session -t v
	rm -f "$out/exit"
else
	echo "SKIP view: no Linux boot trace ($linux comes from tests/integration/linux.sh)"
fi

# A trace the mini guest records now: its test=blk init and first request.
if [ -c /dev/kvm ] && [ -w /dev/kvm ] && [ -f "$MINI" ] && [ -x "$KVMSCOPE" ]; then
	truncate -s 8M "$out/mini.img"
	$KVMSCOPE run --kernel $MINI --disk "$out/mini.img" --append test=blk \
		--trace "$out/mini.kvt" >"$out/mini.log" 2>&1 </dev/null
	rc=$?
	check "mini guest: test=blk with --trace exits 0 ($rc)" [ "$rc" = 0 ]
	start "$out/mini.kvt" 132 43
	check "mini trace: n walks the init and the first request" walk mini "$out/mini.kvt"
	check "mini trace: DRIVER_OK written by the mini guest's modern_set_status" \
		grep -q "guest    modern_set_status" "$out/driver_ok.screen"
	keys q
	check "mini trace: q" exited 0
	T kill-session -t v
	rm -f "$out/exit"
else
	echo "SKIP view: mini guest trace (needs /dev/kvm, $MINI and $KVMSCOPE)"
fi

# Live stepping: the mini guest's init, paused at each handshake event, through DRIVER_OK, a
# breakpoint, then on to its exit; q in the middle stops the VM and keeps the trace.
if ! $KVMSCOPE run --help 2>/dev/null | grep -q -- "--step"; then
	echo "SKIP view: live stepping (this kvmscope has no run --step yet)"
elif [ ! -c /dev/kvm ] || [ ! -w /dev/kvm ] || [ ! -f "$MINI" ]; then
	echo "SKIP view: live stepping (needs /dev/kvm and $MINI)"
else
	truncate -s 8M "$out/live.img"
	live() {
		T new-session -d -s v -x 80 -y 24 \
			"stty -g >$out/stty.before; $KVMSCOPE run --kernel $MINI --disk $out/live.img --append test=blk --trace $out/live.kvt --step; echo EXIT=\$? >$out/exit; stty -g >$out/stty.after; sleep 60"
	}
	live
	check "step: the VM pauses at the first handshake event (the reset)" \
		wait_for "paused at virtio_status (virtio-status)"
	check "step: the path pane lights the reset" wait_for "[>] 1 reset"
	check "step: the guest console has its own pane" wait_for "Guest console"
	keys b
	check "step: b sets a breakpoint on the event's class" wait_for "breakpoint on virtio-status: on"
	keys c
	check "step: c runs to the breakpoint (device_reset is virtio-status too)" \
		wait_for "paused at device_reset (virtio-status)"
	keys b
	check "step: b again clears it" wait_for "breakpoint on virtio-status: off"
	press_until n "[>] 8 DRIVER_OK" 60 0.2
	check "step: n after n reaches DRIVER_OK ($n steps)" wait_for "[>] 8 DRIVER_OK"
	check "step: steps 1..7 are marked done" shows "[x] 7 device setup"
	keys c
	check "step: c runs the guest to its exit" wait_for "VM stopped (exit status 0)"
	check "step: the console pane shows the guest's result" shows "blk: ok"
	keys q
	check "step: q after the VM stopped: exit 0" exited 0
	check "step: the terminal is restored (stty)" restored
	check "step: the trace reads back, with DRIVER_OK in it" \
		sh -c "$KVMSCOPE trace dump $out/live.kvt | grep -q 'new=.*DRIVER_OK'"
	T kill-session -t v
	rm -f "$out/exit" "$out/stty.after" "$out/live.kvt"
	live
	wait_for "paused at virtio_status" >/dev/null
	keys q
	check "step: q while paused stops the VM" sh -c "sleep 1; [ -s $out/exit ]"
	check "step: ... and restores the terminal" restored
	complete() { $KVMSCOPE trace stats "$1" >/dev/null 2>"$out/stats.err" && ! grep -q warning "$out/stats.err"; }
	check "step: ... and keeps a complete trace (no warning reading it)" complete "$out/live.kvt"
	T kill-session -t v
	rm -f "$out/exit" "$out/live.kvt"
	# The terminal goes away while the VM is paused: kvmscope must end, not wait for a key.
	live
	wait_for "paused at virtio_status" >/dev/null
	T kill-session -t v
	vm_ended() { ! pgrep -f "$out/live.kvt" >/dev/null; }
	check "step: a terminal that hangs up while paused ends kvmscope" within5 vm_ended
	pkill -9 -f "$out/live.kvt" 2>/dev/null
fi

# Compare: the Linux boot's trace beside QEMU 7.2's log of the same guest, aligned as diff does.
qlog=tests/fixtures/qemu-modern.log
if [ -s "$linux" ] && [ -x "$KVMSCOPE" ]; then
	start "$linux --compare $qlog"
	check "compare: opens at 80x24 with both files over their columns" \
		wait_for "A $linux (kvmscope"
	check "compare: B's column is QEMU's log" shows "| B $qlog"
	check "compare: the first row is the reset in both columns" wait_for ">= reset"
	keys n
	# on_row RE: the selected row matches RE (up to 5 s)
	selected() { screen | grep -q "^>$1"; }
	on_row() { within5 selected "$1"; }
	check "compare: n goes to step 2, ACKNOWLEDGE written on both sides" \
		on_row "= status ACKNOWLEDGE  *| status ACKNOWLEDGE *$"
	check "compare: ... and says which step" shows "step 2 ACKNOWLEDGE"
	check "compare: both events decoded side by side" \
		sh -c "tmux -L $sock capture-pane -t v -p | grep -q 'virtio_status \[virtio-status\].*virtio_status \[virtio-status\]'"
	keys n n n
	check "compare: n n n: DRIVER, features, FEATURES_OK in both columns (short at 80 columns)" \
		on_row "= status ACK|DRV|FEAT_OK  *| status ACK|DRV|FEAT_OK *$"
	keys S d # S: the handshake's title row (PCI enumeration is above it)
	check "compare: d: a difference, labelled as expected" \
		wait_for "QEMU 7.2 has no trace event for transport register"
	check "compare: its row: only in A, nothing in B, note [1]" \
		on_row "< .*| -  *\[[0-9]*\]$"
	press_until d "~ PCI write command" 30 0.1
	check "compare: d reaches the command register that differs (SERR#), labelled" \
		wait_for "differs: expected ["
	check "compare: ... and explains it" shows "SeaBIOS turns on SERR#"
	keys m
	check "compare: m: no mismatch in this pair" wait_for "no mismatch further down"
	keys s k # the row above the IO part's title: the handshake's last
	check "compare: s k: DRIVER_OK in both columns" \
		on_row "= status ACK|DRV|FEAT_OK|DRV_OK  *| status ACK|DRV|FEAT_OK|DRV_OK *$"
	T resize-window -t v -x 132 -y 43
	check "compare: resize to 132x43 redraws (the whole B path)" \
		wait_for "| B $qlog (QEMU 7.2 log)"
	T resize-window -t v -x 80 -y 24
	keys '?'
	check "compare: ? shows its keys" wait_for "d / D           next / previous run of differences"
	keys x q
	check "compare: q: exit status 0" exited 0
	check "compare: q: the terminal is restored (stty)" restored
	T kill-session -t v
	rm -f "$out/exit" "$out/stty.after"
	$KVMSCOPE view "$linux" --compare "$qlog" </dev/null >"$out/o" 2>"$out/e"
	rc=$?
	check "compare without a terminal: one line, exit 2 ($rc)" \
		sh -c "[ $rc = 2 ] && [ \$(wc -l <$out/e) = 1 ]"
	$KVMSCOPE view "$linux" --compare "$out/bad.log" </dev/null >"$out/o" 2>"$out/e"
	rc=$?
	check "compare with a missing B: one line naming it, exit 2 ($rc)" \
		sh -c "[ $rc = 2 ] && [ \$(wc -l <$out/e) = 1 ] && grep -q $out/bad.log $out/e"
else
	echo "SKIP view: compare (no Linux boot trace: $linux comes from tests/integration/linux.sh)"
fi

# Compare beyond the handshake, on committed files (no KVM needed): kvmscope's Linux boot with
# --virtio modern beside QEMU's disable-legacy=on device. PCI enumeration and the IO path are
# rows under their titles, with kvmscope diff's labels.
kv=tests/fixtures/kvmscope-modern.kvt
qmo=tests/fixtures/qemu-modern-only.log
selected() { screen | grep -q "^>$1"; }
on_row() { within5 selected "$1"; }
start "$kv --compare $qmo" 100 30
check "compare parts: opens on the handshake's reset" wait_for ">= reset"
check "compare parts: nothing unexplained in any part" shows "0 mismatches"
keys S S
check "compare parts: S S: PCI enumeration's title, at the top" on_row "-- PCI enumeration --"
check "compare parts: ... its detail says what the part holds" shows "the device's config space"
keys j
check "compare parts: the capability walk on both sides" \
	on_row "= capability msix@0x98  *| capability msix@0x98 *$"
keys d
check "compare parts: d: the command register SeaBIOS set, labelled" \
	on_row "~ PCI write command = 0x400  *| PCI write command = 0x507  *\[1\]$"
check "compare parts: ... and the label says why" shows "SeaBIOS leaves I/O, memory decoding"
keys j j # past the second command write of the same run
check "compare parts: the interrupt line, the platform's" \
	on_row "~ read interrupt line = 16  *| read interrupt line = 10 "
check "compare parts: ... labelled so" shows "the interrupt line is the platform's"
keys $(printf 'j %.0s' $(seq 41)) # 41 rows down: BAR4's sizing, after BAR0-3's
check "compare parts: BAR4 sized alike on both sides" \
	on_row "= BAR4 sizing reads 0xffffc00c  *| BAR4 sizing reads 0xffffc00c *$"
keys s s
check "compare parts: s s: the IO part" on_row "-- IO --"
keys j
check "compare parts: IO: the first notify, by exit against by ioeventfd, labelled" \
	on_row "~ notify queue 0 by exit  *| notify queue 0 by ioeventfd  *\[[0-9]*\]$"
keys j j # past the kick QEMU gives itself when its data plane starts
check "compare parts: IO: the first pop, the same on both sides" \
	on_row "= pop queue 0 IN sector 0 4096 B  *| pop queue 0 IN sector 0 4096 B *$"
keys j j
check "compare parts: IO: its interrupt, MSI-X against irqfd, labelled" \
	on_row "~ interrupt queue 0 msix  *| interrupt queue 0 msix-irqfd  *\[[0-9]*\]$"
keys m
check "compare parts: m: no mismatch further down" wait_for "no mismatch further down"
keys '?'
check "compare parts: ? lists s / S" wait_for "s / S           next / previous part"
keys x q
check "compare parts: q: exit status 0" exited 0
T kill-session -t v
rm -f "$out/exit" "$out/stty.after"

# A QEMU log, opened as it is (imported on the fly): what QEMU does not log is said, not made up.
qemu=tests/fixtures/qemu-modern.log
start "$qemu" 100 30
check "qemu log: opens without an import step" wait_for "kvmscope view $qemu"
keys n
check "qemu log: the first status write is QEMU's machine-start reset" \
	wait_for "device built   #14   machine-start reset"
check "qemu log: ... and the detail says so" shows "QEMU's machine-start reset: no guest"
check "qemu log: SeaBIOS's session is named" shows "Path: init by SeaBIOS"
keys g 973 Enter
check "qemu log: g 973 lights Linux's DRIVER_OK" wait_for "[>] 8 DRIVER_OK"
check "qemu log: features are 'not in QEMU's log'" shows "[~] 4 features       not in QEMU's log"
check "qemu log: device setup is 'not in QEMU's log'" shows "[~] 7 device setup   not in QEMU's log"
check "qemu log: no step is called skipped" hidden "skipped"
check "qemu log: the PCI probe counts the config accesses" shows "199 reads, 29 writes"
check "qemu log: not SeaBIOS's session" hidden "SeaBIOS"
keys g 977 Enter
check "qemu log: g 977: a notify, avail ?" wait_for "[>] notify    #977  avail ?"
check "qemu log: the Queue pane has QEMU's monitor snapshot, not size 0" \
	shows "size 256, vector not logged"
check "qemu log: no 'size 0 (max 0)'" hidden "size 0 (max 0)"
check "qemu log: detail names the log line" shows "QEMU 7.2 log, line 977: virtio_queue_notify"
check "qemu log: detail has no kvmscope file" hidden "kvmscope in qemu-log"
keys g 984 Enter
check "qemu log: the interrupt's vector is '?'" wait_for "[>] interrupt #984  msix-irqfd vector ?"
keys q
check "qemu log: q: exit status 0" exited 0
T kill-session -t v
rm -f "$out/exit" "$out/stty.after"

# No terminal, bad files: one line, exit 2.
$VIEW "$out/s.kvt" </dev/null >"$out/o" 2>"$out/e"
rc=$?
check "no terminal: exit 2 ($rc)" [ "$rc" = 2 ]
check "no terminal: one line pointing to trace dump" \
	sh -c "[ \$(wc -l <$out/e) = 1 ] && grep -q 'kvmscope trace dump' $out/e"
$VIEW /nonexistent.kvt </dev/null >"$out/o" 2>"$out/e"
rc=$?
check "missing file: exit 2 naming it ($rc)" sh -c "[ $rc = 2 ] && grep -q /nonexistent.kvt $out/e"
printf 'not a trace' >"$out/bad.kvt"
$VIEW "$out/bad.kvt" </dev/null >"$out/o" 2>"$out/e"
rc=$?
check "not a trace: exit 2 with the reader's reason ($rc)" sh -c "[ $rc = 2 ] && grep -q 'bad magic\|too short' $out/e"

exit $failed
