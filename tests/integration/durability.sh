# Durability: what the guest saw complete survives a kill -9 of kvmscope (after a FLUSH, and
# for writethrough writes without one); a writethrough write reaches the file with RWF_DSYNC;
# a ,ro disk is never written; the trace of a killed run reads back up to its last complete
# chunk. A kill -9 loses kvmscope's own memory, not the host's page cache: these checks show
# that kvmscope holds no completed write back in user space, not what a power cut would do.
. tests/lib.sh
need_kvm durability
PATCHECK=tests/out/patcheck
[ -x $PATCHECK ] || { fail "durability: $PATCHECK is not built (make tools)"; exit 1; }
out=$(mktemp -d); trap 'kill -9 $vmm $tracer 2>/dev/null; rm -rf "$out"' EXIT
vmm= tracer=
paths="vcpu iothread uring"
truncate -s 1M "$out/probe"
$KVMSCOPE run --kernel $MINI --disk "$out/probe" --blk-io uring --append exit=0 \
	>/dev/null 2>&1 </dev/null || paths="vcpu iothread"

# until_line FILE TEXT: wait (at most 30 s) for TEXT in FILE; false if it never came.
until_line() {
	for _ in $(seq 600); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		kill -0 $vmm 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# hold_kill IO APPEND [strace]: boot test=blk hold=1 on a fresh image, kill -9 kvmscope as soon
# as the guest says its writes completed; under strace -f the pwritev2 calls go to $out/st.
hold_kill() {
	io=$1 append=$2 how=${3:-}
	rm -f "$out/d.img" "$out/st"; truncate -s 8M "$out/d.img"
	set -- $KVMSCOPE run --kernel $MINI --disk "$out/d.img" --blk-io $io \
		--append "test=blk hold=1 $append"
	if [ "$how" = strace ]; then
		# sh writes its pid and execs kvmscope in it: the pid to kill is kvmscope's, not strace's
		rm -f "$out/pid"
		strace -f -qq -e trace=pwritev2,pwrite64,pwritev -o "$out/st" \
			sh -c 'echo $$ >"$0"; exec "$@"' "$out/pid" "$@" >"$out/o" 2>"$out/e" </dev/null &
		tracer=$!
		for _ in $(seq 200); do [ -s "$out/pid" ] && break; sleep 0.05; done
		vmm=$(cat "$out/pid" 2>/dev/null)
	else
		"$@" >"$out/o" 2>"$out/e" </dev/null &
		vmm=$!
	fi
	until_line "$out/o" "holding"
	held=$?
	kill -9 $vmm 2>/dev/null
	wait $vmm $tracer 2>/dev/null # the guest ends a hold by itself within a minute anyway
	vmm= tracer=
	return $held
}

for io in $paths; do
	hold_kill $io "sector=100 sectors=300 seed=7"
	held=$?
	check "durability ($io): the guest saw its writes and FLUSH complete" [ $held = 0 ]
	$PATCHECK "$out/d.img" sector=100 sectors=300 seed=7 >"$out/pc"
	pc=$?
	check "durability ($io): after kill -9 the image holds all of it ($(cat "$out/pc"))" [ $pc = 0 ]
	hold_kill $io "writeback=0 sector=3 sectors=64 seed=9"
	held=$?
	check "durability ($io): writethrough (CONFIG_WCE, writeback=0) writes completed, no FLUSH" \
		sh -c "[ $held = 0 ] && grep -q 'writethrough' '$out/o'"
	$PATCHECK "$out/d.img" sector=3 sectors=64 seed=9 >"$out/pc"
	pc=$?
	check "durability ($io): after kill -9 the writethrough writes are in the image ($(cat "$out/pc"))" \
		[ $pc = 0 ]
done
# Writethrough means RWF_DSYNC on each write (the io_uring path passes the same flag in its
# submission entries, which strace does not show).
if command -v strace >/dev/null; then
	for io in vcpu iothread; do
		hold_kill $io "writeback=0 sector=3 sectors=64 seed=9" strace
		n=$(grep -c 'pwritev2(' "$out/st"); d=$(grep -c 'pwritev2(.*RWF_DSYNC' "$out/st")
		check "durability ($io): writethrough writes go out with RWF_DSYNC ($d of $n)" \
			[ "$n" = 8 -a "$d" = 8 ]
		hold_kill $io "writeback=1 sector=3 sectors=64 seed=9" strace
		d=$(grep -c 'pwritev2(.*RWF_DSYNC' "$out/st")
		check "durability ($io): writeback writes do not ($d with RWF_DSYNC)" [ "$d" = 0 ]
	done
else
	echo "SKIP durability: RWF_DSYNC check: strace is missing"
fi

# ,ro: the guest tries to write, write zeroes and discard (hostile case write-ro); the image's
# bytes and its modification time stay as they were.
head -c 4M /dev/urandom >"$out/ro.img"
touch -d '2020-01-01 00:00:00' "$out/ro.img"
before="$(sha256sum <"$out/ro.img") $(stat -c %Y "$out/ro.img")"
$KVMSCOPE run --kernel $MINI --disk "$out/ro.img,ro" --append "test=hostile case=write-ro" \
	>"$out/o" 2>"$out/e" </dev/null
rc=$?
after="$(sha256sum <"$out/ro.img") $(stat -c %Y "$out/ro.img")"
check "durability: ,ro disk: the guest's writes were refused ($rc)" [ $rc = 0 ]
check "durability: ,ro disk: same checksum and mtime before and after" [ "$before" = "$after" ]

# A traced run killed with -9: the file has no end marker; the readers say so and read every
# complete record, also when the last chunk is cut in half.
truncate -s 16M "$out/l.img"
$KVMSCOPE run --kernel $MINI --disk "$out/l.img" --trace "$out/k.kvt" \
	--append "test=load count=10000000 report=2000" >"$out/o" 2>"$out/e" </dev/null &
vmm=$!
# Killed after a number of reads, not after a time: on a fast KVM seconds are millions of reads
# and a trace of hundreds of megabytes for the readers below.
until_line "$out/o" "^load: 4000 reads$"
check "durability: the traced load ran 4000 reads before its kill -9" [ $? = 0 ]
kill -9 $vmm; wait $vmm 2>/dev/null; vmm=
$KVMSCOPE trace stats "$out/k.kvt" >"$out/s" 2>"$out/se"
rc=$?
n1=$(sed -n 's/.*read \([0-9]*\) complete records.*/\1/p' "$out/se")
check "durability: trace of a killed run reads back ($rc, ${n1:-no} records, requests: $(sed -n 's/^requests: //p' "$out/s"))" \
	sh -c "[ $rc = 0 ] && [ '${n1:-0}' -gt 100 ] && grep -q '^requests: [1-9]' '$out/s'"
check "durability: the reader says the run did not stop cleanly" grep -q "no end marker" "$out/se"
size=$(stat -c %s "$out/k.kvt")
truncate -s $((size - 37)) "$out/k.kvt"
$KVMSCOPE trace dump "$out/k.kvt" >"$out/d" 2>"$out/de"
rc=$?
n2=$(sed -n 's/.*read \([0-9]*\) complete records.*/\1/p' "$out/de")
check "durability: cut 37 bytes into its last chunk, it still reads up to there ($rc, ${n2:-no} <= ${n1:-?} records)" \
	sh -c "[ $rc = 0 ] && [ '${n2:-0}' -gt 0 ] && [ '${n2:-0}' -le '${n1:-0}' ]"
exit $failed
