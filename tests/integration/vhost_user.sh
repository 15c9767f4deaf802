# --blk-io=vhost-user against a real backend, QEMU's qemu-storage-daemon (guest/vhost-user-blk.sh):
# the mini guest's handshake and IO on every irq mode (the host then finds the pattern in the
# image), both handshakes in the trace, the errors a user meets, and the backend killed mid-IO.
. tests/lib.sh
need_kvm vhost_user
if ! command -v qemu-storage-daemon >/dev/null; then
	echo "SKIP vhost_user: qemu-storage-daemon is missing (package qemu-system-common)"
	exit 77
fi
out=$(mktemp -d)
cleanup() { [ -f "$out/vu.pid" ] && kill "$(cat "$out/vu.pid")" 2>/dev/null; rm -rf "$out"; }
trap cleanup EXIT

# The mini guest over vhost-user, every irq mode and event_idx, then test=load. Modern only:
# legacy drivers are refused (below).
TRANSPORTS=modern BLK_IO=vhost-user bash tests/tools/mini-blk.sh kvmscope || failed=1

serve() { # serve IMAGE: a backend on $out/vu.sock
	sh guest/vhost-user-blk.sh "$1" "$out/vu.sock" --pidfile "$out/vu.pid" >"$out/vu.log" 2>&1
}
stop_backend() { # and wait until it is gone (its image complete, its socket closed)
	pid=$(cat "$out/vu.pid" 2>/dev/null) || return 0
	kill "$pid" 2>/dev/null
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$pid" 2>/dev/null
	rm -f "$out/vu.pid"
}
run() { # run APPEND [kvmscope options...]: sets $status, output in $out/log
	append=$1; shift
	timeout 90 $KVMSCOPE run --kernel $MINI --append "$append" "$@" >"$out/log" 2>&1 </dev/null
	status=$?
}
has() { grep -q -- "$1" "$out/log"; }
refused() { [ "$status" = 2 ] && has "$1"; } # refused TEXT: status 2, and the line says TEXT

# Both handshakes in one trace: guest <-> device (status, queue setup) and kvmscope <-> backend.
truncate -s 8M "$out/d.img"
serve "$out/d.img" || fail "backend starts: $(cat "$out/vu.log")"
run "test=blk transport=modern irq=msix sector=5 sectors=9 seed=7" \
	--blk-io=vhost-user,socket="$out/vu.sock" --trace "$out/t.kvt"
check "vhost-user: test=blk under trace (status $status)" [ "$status" = 0 ]
stop_backend
check "vhost-user: the image holds the guest's pattern" \
	tests/out/patcheck "$out/d.img" sector=5 sectors=9 seed=7
$KVMSCOPE trace dump "$out/t.kvt" >"$out/dump" 2>&1
dump_has() { grep -q -- "$1" "$out/dump"; }
check "trace: the guest's handshake (DRIVER_OK)" dump_has "virtio_status.*new=.*DRIVER_OK"
for m in "GET_FEATURES flags=v1 " "GET_FEATURES flags=v1|REPLY" "SET_PROTOCOL_FEATURES" \
	"SET_OWNER" "GET_CONFIG flags=v1|REPLY.*capacity=16384" "SET_FEATURES" \
	"SET_MEM_TABLE .*fds=1" "SET_VRING_NUM .*num=" "SET_VRING_BASE" "SET_VRING_ADDR" \
	"SET_VRING_CALL .*fds=1" "SET_VRING_KICK .*fds=1" "SET_VRING_ENABLE .*enable=1" \
	"GET_VRING_BASE flags=v1|REPLY"; do
	check "trace: vhost-user $m" dump_has "vhost_user_[a-z]* .*request=$m"
done
check "trace: the memory region (guest address 0, its memfd offset)" \
	dump_has "vhost_user_region .*guest_addr=0x0 .*mmap_offset=0x0"
check "trace: the ring addresses" dump_has "vhost_user_vring_addr .*desc=0x"
check "trace: the backend started, ioeventfd and irqfd wired" \
	dump_has "backend_start .*wiring=ioeventfd|irqfd .*backend=\"*vhost-user"
# The backend's setup comes after DRIVER_OK was written, before the first request.
first=$(grep -n "new=.*DRIVER_OK" "$out/dump" | head -1 | cut -d: -f1)
memt=$(grep -n "request=SET_MEM_TABLE" "$out/dump" | head -1 | cut -d: -f1)
check "trace: SET_MEM_TABLE follows the guest's DRIVER_OK" [ "${memt:-0}" -gt "${first:-999999}" ]

# RAM above the PCI hole: two regions of the one memfd, the second at offset 3 GiB.
serve "$out/d.img" || fail "backend starts for --mem 4G"
run "test=blk transport=modern irq=msix sector=40 sectors=3 seed=9" --mem 4G \
	--blk-io=vhost-user,socket="$out/vu.sock" --trace "$out/m.kvt"
check "vhost-user --mem 4G: test=blk passes (status $status)" [ "$status" = 0 ]
stop_backend
$KVMSCOPE trace dump "$out/m.kvt" --events vhost_user_region >"$out/dump" 2>&1
check "vhost-user --mem 4G: two regions, RAM above 4 GiB at memfd offset 3 GiB" \
	dump_has "guest_addr=0x100000000 size=0x40000000 .*mmap_offset=0xc0000000"

# What a user gets wrong: one line, status 2.
run "test=blk" --blk-io=vhost-user,socket="$out/missing.sock"
check "missing socket: status 2 ($status)" [ "$status" = 2 ]
check "missing socket: the line names it" has "vhost-user socket $out/missing.sock: No such file"
run "test=blk" --blk-io=vhost-user
check "--blk-io=vhost-user without socket=: status 2 and why" refused "vhost-user,socket=PATH"
run "test=blk" --blk-io=vhost-user,socket="$out/vu.sock" --disk "$out/d.img"
check "--disk with vhost-user: status 2 and why" refused "drop --disk"
run "test=blk" --blk-io=vhost-user,socket="$out/vu.sock" --virtio legacy
check "--virtio legacy with vhost-user: status 2 and why" refused "virtio 1.0 drivers only"

# A legacy driver on the transitional device: refused at DRIVER_OK, the guest sees NEEDS_RESET.
serve "$out/d.img" || fail "backend starts again"
run "test=blk transport=legacy irq=msix" --blk-io=vhost-user,socket="$out/vu.sock"
check "legacy driver: the guest sees NEEDS_RESET (status $status, 25)" [ "$status" = 25 ]
check "legacy driver: kvmscope says why" has "did not accept VIRTIO_F_VERSION_1"
stop_backend

# The backend killed in the middle of IO: kvmscope stays up, the device turns NEEDS_RESET, the
# guest's wait for its requests times out (status 40), the trace names the failure.
truncate -s 64M "$out/d.img"
serve "$out/d.img" || fail "backend starts for the kill test"
backend=$(cat "$out/vu.pid")
timeout 120 $KVMSCOPE run --kernel $MINI --blk-io=vhost-user,socket="$out/vu.sock" \
	--trace "$out/k.kvt" --append "test=load transport=modern depth=8 count=1000000000 report=1000" \
	>"$out/log" 2>&1 </dev/null &
vmm=$!
# The backend dies once the reads are going: after the load's first progress line, not after a
# time (the load runs until the guest gives up, so it cannot end first on a fast KVM).
for _ in $(seq 600); do has "^load: [0-9]* reads$" && break; sleep 0.1; done
kill -9 "$backend"; rm -f "$out/vu.pid"
wait $vmm; status=$?
gave_up() { [ "$status" = 40 ] || [ "$status" = 41 ]; }
check "backend killed: kvmscope ran on until the guest gave up (status $status: 40 or 41)" gave_up
check "backend killed: the device needs a reset, and the line says why" \
	has "device needs reset: the vhost-user backend closed its socket"
$KVMSCOPE trace dump "$out/k.kvt" >"$out/dump" 2>&1
check "backend killed: trace has vhost_user_error naming the closed socket" \
	dump_has 'vhost_user_error .*why="*the backend closed the socket'
check "backend killed: trace has the backend stopping for it" \
	dump_has 'backend_stop .*why="*the vhost-user backend closed its socket'
check "backend killed: no guest_error blamed on the driver" \
	sh -c "! grep -q guest_error '$out/dump'"
if [ "$failed" != 0 ]; then
	echo "--- kill test: backend pid $backend, kvmscope status $status"; tail -n 5 "$out/log"
fi

# Linux once over vhost-user (about 30-90 s here): its IO smoke test on /dev/vda, served by the
# backend; the trace has the guest's DRIVER_OK from virtblk_probe, then the backend's setup.
if [ "${VHOST_USER_LINUX:-yes}" = no ]; then
	# asan.sh's choice, not a missing piece: the plain build's run of this script boots Linux
	echo "# vhost_user linux: not booted in this run (VHOST_USER_LINUX=no); the plain build's run boots it"
	exit $failed
fi
if [ ! -f guest/out/vmlinux ] || [ ! -f guest/out/initrd.img ] || [ ! -f guest/out/disk.img ]; then
	echo "SKIP vhost_user linux: guest/out/vmlinux, initrd.img or disk.img not built (make guest-linux)"
	exit $failed
fi
cp guest/out/disk.img "$out/linux.img"
serve "$out/linux.img" || fail "backend starts for Linux"
start=$(date +%s)
timeout 1200 $KVMSCOPE run --kernel guest/out/vmlinux --initrd guest/out/initrd.img \
	--blk-io=vhost-user,socket="$out/vu.sock" --trace "$out/l.kvt" >"$out/console" \
	2>"$out/err" </dev/null
rc=$?
echo "vhost_user linux: kvmscope exited $rc after $(($(date +%s) - start)) s"
stop_backend
check "linux over vhost-user: IO smoke test passed (KVMSCOPE-IO-OK)" \
	grep -q "KVMSCOPE-IO-OK" "$out/console"
check "linux over vhost-user: rebooted, kvmscope exited 0 ($rc)" [ "$rc" = 0 ]
$KVMSCOPE trace dump "$out/l.kvt" --events virtio-status,vhost-user >"$out/dump" 2>&1
check "linux over vhost-user: DRIVER_OK from virtblk_probe, then SET_MEM_TABLE, then the kick" \
	awk '/DRIVER_OK .*guest=.*virtblk_probe/ { d = NR } d && !m && /request=SET_MEM_TABLE/ { m = NR }
		m && /request=SET_VRING_KICK .*fds=1/ { k = NR } END { exit !(d && m && k) }' "$out/dump"
check "linux over vhost-user: the guest's reset at reboot stops the ring (GET_VRING_BASE)" \
	dump_has "request=GET_VRING_BASE flags=v1|REPLY .*vp_reset"
if [ "$failed" != 0 ]; then
	echo "--- last console lines"; tail -n 20 "$out/console"
	echo "--- kvmscope stderr"; cat "$out/err"
fi
exit $failed
