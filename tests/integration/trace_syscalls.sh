# What recording a trace adds in system calls, counted with strace on the mini guest's reads: a
# system call costs far more than a record (about 110 instructions), most of all on a nested KVM,
# where each one is a trip through the outer hypervisor's emulation (docs/bench.md).
# - the guest context of a record (RIP and stack) comes from the registers KVM_RUN leaves in
#   kvm_run (KVM_CAP_SYNC_REGS), not from a KVM_GET_REGS and a KVM_GET_SREGS after every exit;
# - and it is still the guest code that caused the exit.
. tests/lib.sh
need_kvm trace_syscalls
command -v strace >/dev/null || { echo "SKIP trace_syscalls: strace is not installed"; exit 77; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
truncate -s 1M "$out/disk.img"

# load N: N reads at depth 1 (an exit each), traced, the vCPU's ioctls into $out/st
load() {
	strace -f -qq -e trace=ioctl -o "$out/st" $KVMSCOPE run --kernel $MINI --disk "$out/disk.img" \
		--append "test=load count=$1 depth=1" --trace "$out/t.kvt" >"$out/run" 2>&1 </dev/null
}
check "trace_syscalls: a traced load of 200 reads runs under strace" load 200
runs=$(grep -c 'KVM_RUN' "$out/st")
gets=$(grep -c 'KVM_GET_S\{0,1\}REGS' "$out/st")
# the vCPU's setup and the first record's context may ask; after that, none per exit
check "trace_syscalls: KVM_GET_REGS/KVM_GET_SREGS $gets times for $runs KVM_RUNs (at most 4)" \
	[ "$runs" -ge 200 -a "$gets" -le 4 ]
$KVMSCOPE trace dump "$out/t.kvt" --events req_complete >"$out/d" 2>&1
check "trace_syscalls: every request's completion names the notify in the guest's code" \
	sh -c "[ \$(grep -c ':req_complete ' '$out/d') -ge 200 ] &&
		! grep ':req_complete ' '$out/d' | grep -v -q 'guest=[a-z_]*notify+0x[0-9a-f]* <- mini_main'"
exit $failed
