# The IO thread's system calls per read on the iothread and uring paths (docs/blk.md), counted
# with strace -f on the mini guest's load: the difference between a run of 2N reads and one of N
# is the reads' own, whatever the boot costs. At depth 1 both make 3: a read() of the kick
# eventfd (the thread sleeps there with nothing in flight), preadv or io_uring_enter, the irqfd
# write(); they made 4 when they slept in poll() before reading, and uring 5 when a second
# poll() took the completion. At depth 32 a batch shares its system calls.
. tests/lib.sh
need_kvm io_syscalls
need_cmd strace io_syscalls
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
truncate -s 16M "$out/d.img"

# calls IO DEPTH COUNT: the IO thread's system calls in one run (the thread that called preadv
# or io_uring_enter); "<... resumed>" halves of interrupted calls are not counted twice
calls() {
	strace -f -qq -o "$out/st" $KVMSCOPE run --kernel $MINI --disk "$out/d.img" --blk-io "$1" \
		--append "test=load count=$3 depth=$2 qsize=128" >"$out/o" 2>&1 </dev/null
	grep -aq "^load: $3 reads done" "$out/o" || { echo "no load line: $(tail -1 "$out/o")" >&2; return 1; }
	awk '$2 !~ /^(<\.\.\.|\+\+\+|---)/ { n[$1]++ } $2 ~ /^(preadv|io_uring_enter)\(/ { io[$1]++ }
	     END { for (t in io) if (io[t] > best) { best = io[t]; tid = t } print n[tid] + 0 }' "$out/st"
}

# per_read IO DEPTH MAX: the IO thread's system calls per read, at most MAX
per_read() {
	local a b
	a=$(calls "$1" "$2" 200) && b=$(calls "$1" "$2" 400) || { fail "$1 depth $2: the runs failed"; return; }
	v=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", (b - a) / 200 }')
	check "$1 depth $2: $v system calls a read on the IO thread (at most $3)" \
		awk -v v="$v" -v m="$3" 'BEGIN { exit !(v > 0 && v <= m) }'
}

per_read iothread 1 3.2
per_read iothread 32 1.2
if $KVMSCOPE run --help 2>&1 | grep -q uring && ! $KVMSCOPE run --kernel $MINI --disk "$out/d.img" \
	--blk-io uring --append "test=load count=1 depth=1" 2>&1 </dev/null | grep -q 'without liburing'; then
	per_read uring 1 3.2
	per_read uring 32 0.2
else
	echo "SKIP io_syscalls uring: kvmscope was built without liburing"
fi
exit $failed
