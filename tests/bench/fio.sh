#!/bin/bash
# tests/bench/fio.sh [options]: fio inside the Linux guest on /dev/vda, through each of kvmscope's
# virtio-blk IO paths and through QEMU's nearest configuration, side by side in one run. A
# benchmark, not a test: a boot costs minutes on a software KVM (docs/bench.md).
#   -j JOB[,JOB]      randread-qd1 randread-qd32 randwrite-qd32 seqread-1m (default: all)
#   -p PATH[,PATH]    vcpu iothread uring vhost-user (default: all; vhost-user where
#                     qemu-storage-daemon is installed, package qemu-system-common). vhost-user:
#                     both VMMs hand the ring to one qemu-storage-daemon per boot
#                     (guest/vhost-user-blk.sh), so its column compares what each VMM does around
#                     the daemon; one queue only, so not with --smp or --trace-overhead (its
#                     requests never pass through kvmscope: nothing to record, nothing to count)
#   -n N              timed boots per configuration, round-robin (default 1); medians are shown
#   --runtime S       measured seconds per job (default 10), after --ramp S (default 2)
#   --smp N           N vCPUs (guest/out/vmlinux-smp): kvmscope with --smp N --blk-queues N (and
#                     --iothreads N on iothread and uring), QEMU with -smp N and num-queues=N (one
#                     iothread); fio runs one thread per CPU, the job's depth split between them
#   --no-qemu         kvmscope only (no ratios, no QEMU exit counts)
#   --no-exits        skip the counting boots (one per VMM and path, after the timed ones)
#   --trace-overhead  instead: tracing on against off inside one boot per path (N boots with -n).
#                     kvmscope runs with --trace FILE; each job runs 2 x PAIRS times, recording
#                     paused by SIGUSR2 for half of them (off,on then on,off, alternately), and
#                     the table gives IOPS traced / paused (goal >= 0.95)
#   --pairs R         with --trace-overhead: runs of each job per state and boot (default 3)
#   --trace-events L  with --trace-overhead: record L (default: kvmscope's default events;
#                     '*': every event, each KVM exit too)
#   -t SECONDS        timeout per boot (default 400 s + 60 s and the job's time per job, times
#                     the vCPU count)
#   --report          no boots: the tables again from the last run's files (give the same -j, -n,
#                     --trace-overhead; without -p, the paths that run booted), the host's figures
#                     recounted from its samples
# One boot runs all the chosen jobs, one fio process each (guest/bench/init), on a fresh copy of one
# 256 MiB image of random bytes. Counting boots: kvmscope's own trace (kvm_exit, queue_notify,
# chain_pop, irq_raise: exact, per job by disk region) and, as root with bpftrace, the host's KVM
# tracepoints for both VMMs. Needs ./kvmscope, /dev/kvm, guest/out/{vmlinux,initrd-fio.img}
# (make -C guest -f linux.mk bench), qemu-system-x86_64. Logs and traces: tests/out/bench/fio/;
# each timed job's IOPS (the table's medians are of these): tests/out/bench/fio/iops, lines of
# "NAME JOB IOPS".
# Exit status 1 when a job failed or printed nothing: its cell reads FAIL, never a figure.
cd "$(dirname "$0")/../.." || exit 2
ALL_JOBS="randread-qd1 randread-qd32 randwrite-qd32 seqread-1m"
ALL_PATHS="vcpu iothread uring vhost-user"
jobs=$ALL_JOBS paths=$ALL_PATHS paths_given=0 runs=1 smp=1 runtime=10 ramp=2 timeout="" qemu=1 exits=1 overhead=0 report=0 events="" pairs=3
while [ $# -gt 0 ]; do
	case "$1" in
	-j) jobs=${2//,/ }; shift ;;
	-p) paths=${2//,/ } paths_given=1; shift ;;
	-n) runs=$2; shift ;;
	--smp) smp=$2; shift ;;
	-t) timeout=$2; shift ;;
	--runtime) runtime=$2; shift ;;
	--ramp) ramp=$2; shift ;;
	--no-qemu) qemu=0 ;;
	--no-exits) exits=0 ;;
	--trace-overhead) overhead=1 ;;
	--trace-events) events=$2; shift ;;
	--pairs) pairs=$2; shift ;;
	--report) report=1 ;;
	-h | --help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "fio.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
	esac
	shift
done
# one_of WHAT LIST WORD...: every WORD is in LIST
one_of() {
	local what=$1 list=$2 w
	shift 2
	for w in "$@"; do
		case " $list " in *" $w "*) ;; *) echo "fio.sh: unknown $what '$w' ($what: $list)" >&2; exit 2 ;; esac
	done
}
one_of job "$ALL_JOBS" $jobs
one_of path "$ALL_PATHS" $paths
for v in "$runs" "$smp" "$runtime" "$ramp" "$pairs" ${timeout:+"$timeout"}; do
	case "$v" in '' | *[!0-9]* | 0) echo "fio.sh: -n, --smp, -t, --runtime, --ramp, --pairs want positive numbers, got '$v'" >&2; exit 2 ;; esac
done
out=tests/out/bench/fio
# vhost-user where it can run: asked for with -p, a reason it cannot is an error; by default, a note
vu_why=""
if [ $report = 0 ]; then
	command -v qemu-storage-daemon >/dev/null ||
		vu_why="qemu-storage-daemon missing (apt-get install qemu-system-common)"
	[ $overhead = 1 ] && vu_why="its requests never pass through kvmscope: nothing for --trace-overhead to pause"
	[ "$smp" != 1 ] && vu_why="one queue only (kvmscope hands its backend one queue): not with --smp $smp"
fi
# --report without -p: the paths the last run booted (a path it did not run is no row of FAILs)
if [ $report = 1 ] && [ $paths_given = 0 ]; then
	paths=$(for p in $ALL_PATHS; do grep -qs "^kvmscope-$p " $out/rows && printf '%s ' $p; done)
fi
case " $paths " in *" vhost-user "*)
	if [ -n "$vu_why" ]; then
		[ $paths_given = 1 ] && { echo "fio.sh: -p vhost-user: $vu_why" >&2; exit 2; }
		echo "fio.sh: no vhost-user column: $vu_why"
		paths=$(echo " $paths " | sed 's/ vhost-user / /')
	fi ;;
esac
njobs=$(echo $jobs | wc -w)
# --trace-overhead: the guest runs each job twice per pair, back to back (boot() pauses recording
# for one run of each: the first in odd pairs, the second in even ones)
boot_jobs=$jobs
if [ $overhead = 1 ]; then
	boot_jobs=""
	for r in $(seq 1 "$pairs"); do
		for j in $jobs; do boot_jobs="$boot_jobs $j $j"; done
	done
fi
nboot_jobs=$(echo $boot_jobs | wc -w)
# N vCPUs on a software KVM: the boot and fio's start-up took twice as long with two here
timeout=${timeout:-$(((400 + (60 + ramp + runtime) * nboot_jobs) * smp))}
kernel=guest/out/vmlinux initrd=guest/out/initrd-fio.img build="make guest-linux"
[ "$smp" != 1 ] && kernel=guest/out/vmlinux-smp build="make -C guest -f linux.mk smp"
if [ $report = 0 ]; then
	[ -r $kernel ] || { echo "fio.sh: $kernel missing; build it with: $build" >&2; exit 2; }
	[ -r $initrd ] || { echo "fio.sh: $initrd missing; build it with: make -C guest -f linux.mk bench" >&2; exit 2; }
	[ -x ./kvmscope ] || { echo "fio.sh: ./kvmscope missing; build it with: make kvmscope" >&2; exit 2; }
	[ -w /dev/kvm ] || { echo "fio.sh: /dev/kvm missing or not writable" >&2; exit 2; }
fi
[ $overhead = 1 ] && qemu=0 exits=0
if [ $report = 0 ] && [ $qemu = 1 ] && ! command -v qemu-system-x86_64 >/dev/null; then
	echo "fio.sh: qemu-system-x86_64 missing (apt-get install qemu-system-x86), or use --no-qemu" >&2
	exit 2
fi
hostcount=0
if [ $report = 0 ] && [ $exits = 1 ]; then
	if [ "$(id -u)" = 0 ] && command -v bpftrace >/dev/null && [ -d /sys/kernel/tracing/events/kvm ]; then
		hostcount=1
	else
		echo "fio.sh: no host KVM counts (they need root, bpftrace and tracefs at /sys/kernel/tracing)" >&2
	fi
fi
mkdir -p $out
if [ $report = 0 ]; then
	rm -f $out/*.log $out/*.kvt $out/*.bpf* $out/rows $out/exits $out/host
	base=$out/base.img scratch=$out/disk.img
	# vhost-user: the daemon's socket on local storage (not on a share, and under 108 bytes)
	case " $paths " in *" vhost-user "*)
		vu_dir=$(mktemp -d "${TMPDIR:-/tmp}/fio-vu.XXXXXX") || exit 1
		vu_sock=$vu_dir/vu.sock
		trap 'vu_stop; rm -rf "$vu_dir"' EXIT ;;
	esac
	if [ "$(stat -c %s $base 2>/dev/null)" != 268435456 ]; then
		head -c 256M /dev/urandom >$base.tmp && mv $base.tmp $base || exit 1
	fi
fi
# tsc=reliable: fio times with the guest clock. Its TSC is the host's, but the clocksource watchdog
# compares it with jiffies, which fall behind on a loaded host, and then moves the guest to jiffies.
append="kvmscope.fio=$(echo $boot_jobs | tr ' ' ,) kvmscope.fio_runtime=$runtime kvmscope.fio_ramp=$ramp tsc=reliable"
[ "$smp" != 1 ] && append="$append kvmscope.fio_threads=$smp"
tsc="" fail=0

# qemu_args PATH: QEMU's nearest configuration to kvmscope's PATH, added to guest/qemu-run.sh's
# command line. Both VMMs serve the image through the host page cache (kvmscope opens it without
# O_DIRECT), so QEMU's drive gets cache.direct=off: cache=writeback, not qemu-run.sh's cache=none.
# vhost-user has no drive in QEMU: the daemon opens the image (page cache too, its default).
qemu_args() {
	[ "$1" = vhost-user ] && return
	echo "-set drive.vda.cache.direct=off"
	[ "$smp" != 1 ] && echo "-global virtio-blk-pci.num-queues=$smp" # 7.2's default too; said aloud
	case $1 in
	vcpu) echo "-global virtio-blk-pci.ioeventfd=off" ;; # served in the vCPU's exit
	iothread) echo "-object iothread,id=io0 -global virtio-blk-pci.iothread=io0" ;;
	uring) echo "-object iothread,id=io0 -global virtio-blk-pci.iothread=io0 -set drive.vda.aio=io_uring" ;;
	esac
}

# The host's view, per VMM process, every 250 ms (kvm_pvm fires no kvm_exit tracepoint): exits to
# the VMM's user space, instructions the host kernel emulated for the guest, and the VMM's disk
# system calls, which show when a job's IO ran.
BT='tracepoint:kvm:kvm_userspace_exit /pid == $1/ { @user = count(); }
tracepoint:kvm:kvm_emulate_insn /pid == $1/ { @emulated = count(); }
tracepoint:syscalls:sys_enter_preadv, tracepoint:syscalls:sys_enter_preadv2,
tracepoint:syscalls:sys_enter_pwritev, tracepoint:syscalls:sys_enter_pwritev2,
tracepoint:syscalls:sys_enter_pread64, tracepoint:syscalls:sys_enter_pwrite64,
tracepoint:syscalls:sys_enter_io_uring_enter /pid == $1/ { @disk = count(); }
interval:ms:250 { print(@user); print(@emulated); print(@disk); }'

# vu_start, vu_stop: a qemu-storage-daemon serving this boot's copy of the image on $vu_sock, and
# its end (waited for: the next boot's copy must not be written under it)
vu_pid=""
vu_start() {
	sh guest/vhost-user-blk.sh $scratch "$vu_sock" --pidfile "$vu_dir/pid" >"$vu_dir/log" 2>&1 &&
		vu_pid=$(cat "$vu_dir/pid") && return
	echo "fio.sh: qemu-storage-daemon did not start: $(tail -1 "$vu_dir/log")" >&2
	fail=1
	return 1
}
vu_stop() {
	[ -n "$vu_pid" ] || return 0
	kill "$vu_pid" 2>/dev/null
	for t in $(seq 50); do kill -0 "$vu_pid" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$vu_pid" 2>/dev/null
	vu_pid=""""
}

# stamp START: each line of stdin with milliseconds since START (microseconds since the epoch)
stamp() {
	local line t
	while IFS= read -r line; do
		t=$(((${EPOCHREALTIME/./} - $1) / 1000))
		printf '%d.%03d %s\n' $((t / 1000)) $((t % 1000)) "${line%$'\r'}"
	done
}

# boot NAME REP CMD...: boot once on a fresh copy of the image (with $vu_boot=1, served by a
# qemu-storage-daemon, vu_start, for the whole boot), the console stamped into
# $out/NAME-REP.log (with $hostcount_boot=1, the host counts into $out/NAME-REP.bpf). Each
# KVMSCOPE-FIO line becomes a row of $out/rows: "NAME REP END_S HOST_S CLOCK key=value...", END_S
# when the job ended, HOST_S how long it took by the host's clock. A failed job sets fail=1.
# With $toggle_path set (--trace-overhead), recording is paused or resumed (SIGUSR2) as each job
# starts: job k of the boot, in pair k / (2 x njobs), runs paused first in odd pairs (off,on) and
# second in even ones (on,off). Its row is "traced-PATH" or "kvmscope-PATH" (paused), REP.PAIR.
boot() {
	local name=$1 rep=$2 log=$out/$1-$2.log line start fd ppid vmm="" bt="" t done=0 ok=0 job
	local k=0 rec=1 want row=$1 rowrep=$2
	local -A t0 t1 clk
	shift 2
	cp --sparse=never $base $scratch || exit 1
	if [ "$vu_boot" = 1 ] && ! vu_start; then
		echo "fio.sh: $name run $rep: not booted" >&2
		return
	fi
	start=${EPOCHREALTIME/./}
	exec {fd}< <(exec timeout --foreground -k 5 "$timeout" "$@" </dev/null 2>&1)
	ppid=$!
	if [ "$hostcount_boot" = 1 ] || [ -n "$toggle_path" ]; then
		for t in 1 2 3 4 5 6 7 8 9 10; do vmm=$(pgrep -P $ppid) && break; sleep 0.2; done
		[ -n "$vmm" ] || { echo "fio.sh: $name: no VMM process found" >&2; fail=1; }
	fi
	if [ "$hostcount_boot" = 1 ]; then
		if [ -n "$vmm" ]; then
			bpftrace -e "$BT" "$vmm" 2>$out/$name-$rep.bpf.err > >(stamp $start >$out/$name-$rep.bpf) &
			bt=$!
		fi
	fi
	while IFS= read -r -u $fd line; do
		line=${line%$'\r'}
		t=$(((${EPOCHREALTIME/./} - start) / 1000))
		printf '%d.%03d %s\n' $((t / 1000)) $((t % 1000)) "$line" >>"$log"
		job=${line#* job=}
		job=${job%% *}
		case "$line" in
		*"Kernel command line:"*tsc_early_khz=*)
			[ -z "$tsc" ] && tsc="tsc_early_khz=${line##*tsc_early_khz=}" && tsc=${tsc%% *} ;;
		KVMSCOPE-FIO-START*)
			t0[$job]=$t clk[$job]=${line##*clock=}
			if [ -n "$toggle_path" ]; then
				want=$(((k % 2) ^ (k / (2 * njobs) % 2)))
				[ "$want" != $rec ] && [ -n "$vmm" ] && kill -USR2 "$vmm" && rec=$want
				if [ $rec = 1 ]; then row=traced-$toggle_path; else row=kvmscope-$toggle_path; fi
				rowrep=$rep.$((k / (2 * njobs) + 1))
			fi
			k=$((k + 1)) ;;
		KVMSCOPE-FIO-END*) t1[$job]=$t ;;
		KVMSCOPE-FIO\ *)
			t=$((${t1[$job]:-0} - ${t0[$job]:-0}))
			echo "$row $rowrep $((${t1[$job]:-0} / 1000)).$(printf %03d $((${t1[$job]:-0} % 1000)))" \
				"$((t / 1000)).$(printf %03d $((t % 1000))) ${clk[$job]:-?} ${line#KVMSCOPE-FIO }" >>$out/rows
			ok=$((ok + 1)) ;;
		KVMSCOPE-FIO-FAIL*) echo "fio.sh: $name run $rep: $line ($log)" >&2; fail=1 ;;
		KVMSCOPE-FIO-DONE*) done=1 ;;
		esac
	done
	exec {fd}<&-
	wait $ppid || echo "fio.sh: $name run $rep: exit status $? ($log)" >&2
	[ -n "$bt" ] && kill $bt 2>/dev/null && wait $bt 2>/dev/null
	vu_stop
	if [ $done = 0 ] || [ $ok != $nboot_jobs ]; then
		echo "fio.sh: $name run $rep: $ok of $nboot_jobs jobs reported, KVMSCOPE-FIO-DONE seen: $done ($log)" >&2
		fail=1
	fi
	printf '  %-20s run %d: %4d s, %d of %d jobs\n' "$name" "$rep" \
		$(((${EPOCHREALTIME/./} - start) / 1000000)) $ok $nboot_jobs
}

kvmscope_boot() { # kvmscope_boot NAME REP PATH [RUN-OPTIONS...]
	local name=$1 rep=$2 path=$3 mq=() disk=(--disk $scratch --blk-io "$3") vu_boot=0
	shift 3
	# --smp N: a queue per vCPU, and on the IO-thread paths a thread per queue
	[ "$smp" != 1 ] && mq=(--smp "$smp" --blk-queues "$smp")
	[ "$smp" != 1 ] && [ "$path" != vcpu ] && mq+=(--iothreads "$smp")
	[ "$path" = vhost-user ] && disk=(--blk-io "vhost-user,socket=$vu_sock") vu_boot=1
	boot "$name" "$rep" ./kvmscope run --kernel $kernel --initrd $initrd "${disk[@]}" \
		"${mq[@]}" --append "$append" "$@"
}

qemu_boot() { # qemu_boot NAME REP PATH
	local disk=(--disk $scratch) vu_boot=0
	[ "$3" = vhost-user ] && disk=(--vhost-user "$vu_sock") vu_boot=1
	boot "$1" "$2" guest/qemu-run.sh --kernel $kernel --smp "$smp" --initrd $initrd "${disk[@]}" \
		--append "$append $tsc" -- $(qemu_args "$3")
}

# no_drops TRACE LABEL: a trace that lost records under-counts; say so and fail the run.
no_drops() {
	local d
	d=$(./kvmscope trace stats "$1" | grep '^drops' | grep -v '^drops: 0 ')
	[ -z "$d" ] && return
	echo "fio.sh: $2: $d" >&2
	fail=1
}

# trace_counts TRACE NAME: from a trace with kvm_exit, queue_notify, chain_pop and irq_raise, per
# job (its disk region, from the guest's own line) the records between the region's first and last
# chain_pop, per chain_pop. Rows of $out/exits: "NAME JOB EXITS NOTIFIES IRQS REQUESTS REASONS".
trace_counts() {
	local trace=$1 name=$2 regions
	regions=$(awk -v n="$name" '$1 == n { o = s = j = ""; for (i = 6; i <= NF; i++) {
			split($i, kv, "="); if (kv[1] == "job") j = kv[2]
			if (kv[1] == "offset_mib") o = kv[2]; if (kv[1] == "size_mib") s = kv[2] }
		printf "%s:%d:%d ", j, o * 2048, (o + s) * 2048 }' $out/rows)
	no_drops "$trace" "$name"
	./kvmscope trace dump "$trace" --events kvm_exit,queue_notify,chain_pop,irq_raise |
		awk -v name="$name" -v regions="$regions" '
		BEGIN { nr = split(regions, r, " ")
			for (i = 1; i <= nr; i++) { split(r[i], f, ":"); job[i] = f[1]; lo[i] = f[2]; hi[i] = f[3] } }
		# running counts; a chain_pop in a region takes a snapshot (its first and its last)
		/:kvm_exit / { e++; match($0, /reason=[^ ]*/); why = substr($0, RSTART + 7, RLENGTH - 7)
			c[why]++; reasons[why] = 1; next }
		/:queue_notify / { q++; next }
		/:irq_raise / { irq++; next }
		/:chain_pop / { match($0, /sector=[0-9]*/); s = substr($0, RSTART + 7, RLENGTH - 7) + 0
			for (i = 1; i <= nr; i++) if (s >= lo[i] && s < hi[i]) break
			if (i > nr) next
			if (!n[i]++) { e0[i] = e; q0[i] = q; i0[i] = irq; for (w in reasons) c0[i, w] = c[w] }
			e1[i] = e; q1[i] = q; i1[i] = irq; for (w in reasons) c1[i, w] = c[w] }
		END { for (i = 1; i <= nr; i++) {
			if (n[i] < 2) { printf "%s %s - - - %d -\n", name, job[i], n[i]; continue }
			d = ""
			for (w in reasons) if (c1[i, w] - c0[i, w] > 0)
				d = d sprintf("%s%s:%.2f", d == "" ? "" : ",", w, (c1[i, w] - c0[i, w]) / n[i])
			printf "%s %s %.2f %.2f %.2f %d %s\n", name, job[i], (e1[i] - e0[i]) / n[i],
				(q1[i] - q0[i]) / n[i], (i1[i] - i0[i]) / n[i], n[i], d } }' >>$out/exits
}

# A row of $out/rows as both its readers below take it: f[] from its KEY=VALUE fields (the 6th on),
# and the job's IOPS from fio's own totals (KiB moved in the measured runtime, by the guest's clock).
ROW_AWK='
	function row(   i, kv) { split("", f); for (i = 6; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] } }
	function row_iops(   bs) { bs = f["bs"] == "1m" ? 1024 : f["bs"] + 0; return f["kib"] / bs / (f["runtime_ms"] / 1000) }'

# host_counts NAME: the host's counts per IO while each job ran: the rates inside the job's burst
# of disk system calls (bursts in job order, at least half a job long, gaps up to 5 s bridged,
# 0.5 s trimmed off each end), divided by that boot's IOPS. Rows of $out/host: "NAME JOB USER_EXITS/IO EMULATED/IO".
host_counts() {
	[ -s $out/$1-1.bpf ] || { echo "fio.sh: $1: bpftrace counted nothing ($out/$1-1.bpf.err)" >&2; return; }
	awk -v name="$1" -v io_s=$((ramp + runtime)) "$ROW_AWK"'
		FILENAME ~ /rows$/ { if ($1 != name) next
			row(); nj++; job[nj] = f["job"]; iops[nj] = row_iops()
			next }
		$2 == "@user:" { n++; t[n] = $1; u[n] = $3 }
		$2 == "@emulated:" { m[n] = $3 }
		$2 == "@disk:" { d[n] = $3 }
		END {
			# bursts: samples with disk calls, gaps up to 5 s bridged (1 MiB reads came 2 s apart
			# in a counting boot; the start-up of fio puts 30 s between jobs)
			for (k = 2; k <= n; k++) {
				if (d[k] + 0 <= d[k - 1] + 0) continue
				if (nb && t[k] - t[last[nb]] <= 5) last[nb] = k
				else { nb++; first[nb] = k - 1; last[nb] = k }
			}
			for (b = 1; b <= nb; b++) if (t[last[b]] - t[first[b]] >= io_s / 2) { nl++; lo[nl] = first[b]; hi[nl] = last[b] }
			if (nl != nj) printf "fio.sh: %s: %d bursts of disk IO for %d jobs: no host counts\n", name, nl, nj >"/dev/stderr"
			for (j = 1; j <= nj; j++) {
				if (nl != nj) { printf "%s %s - -\n", name, job[j]; continue }
				for (a = lo[j]; a < hi[j] && t[a] < t[lo[j]] + 0.5; a++);
				for (b = hi[j]; b > a && t[b] > t[hi[j]] - 0.5; b--);
				dt = t[b] - t[a]
				if (dt <= 0 || iops[j] <= 0) { printf "%s %s - -\n", name, job[j]; continue }
				printf "%s %s %.2f %.1f\n", name, job[j], (u[b] - u[a]) / dt / iops[j], (m[b] - m[a]) / dt / iops[j]
			}
		}' $out/rows $out/$1-1.bpf >>$out/host
}

if [ $report = 1 ]; then
	rm -f $out/host
	for f in $out/exits-*-1.bpf; do
		[ -e "$f" ] || continue
		f=${f##*/}
		host_counts "${f%-1.bpf}"
	done
else
	echo "fio.sh: jobs: $jobs; paths: $paths; $runs run(s); ${runtime} s per job after ${ramp} s of ramp$([ "$smp" != 1 ] && echo "; $smp vCPUs, $smp queues")"
	hostcount_boot=0 toggle_path=""
	for rep in $(seq 1 "$runs"); do
		for p in $paths; do
			if [ $overhead = 1 ]; then
				toggle_path=$p
				kvmscope_boot "toggle-$p" "$rep" "$p" --trace $out/toggle-$p-$rep.kvt \
					${events:+--trace-events "$events"} --trace-buffer 64M
				toggle_path=""
				no_drops $out/toggle-$p-$rep.kvt "toggle-$p run $rep"
				continue
			fi
			kvmscope_boot "kvmscope-$p" "$rep" "$p"
			[ $qemu = 1 ] && qemu_boot "qemu-$p" "$rep" "$p"
		done
	done
	if [ $exits = 1 ]; then
		hostcount_boot=$hostcount
		for p in $paths; do
			# vhost-user: the daemon serves every request; kvmscope's trace has none to count
			[ $p = vhost-user ] && continue
			kvmscope_boot "exits-kvmscope-$p" 1 "$p" --trace $out/exits-$p.kvt --trace-buffer 64M \
				--trace-events kvm_exit,queue_notify,chain_pop,irq_raise
			trace_counts $out/exits-$p.kvt "exits-kvmscope-$p"
			[ $hostcount = 1 ] && host_counts "exits-kvmscope-$p"
			if [ $qemu = 1 ] && [ $hostcount = 1 ]; then
				qemu_boot "exits-qemu-$p" 1 "$p"
				host_counts "exits-qemu-$p"
			fi
		done
	fi
fi
[ -s $out/rows ] || { echo "fio.sh: no job printed a result (logs in $out)" >&2; exit 1; }
touch $out/exits $out/host
rm -f $out/iops

# The tables: medians over the runs. IOPS and MB/s from fio's own totals (ROW_AWK); lat_us is fio's
# mean completion latency.
awk -v jobs="$jobs" -v paths="$paths" -v events="${events:-default events}" -v mode=$overhead -v qemu=$qemu -v runs="$runs" -v pairs="$pairs" -v iops_out=$out/iops "$ROW_AWK"'
	function med(key,   n, i, j, t, v) {
		n = split(vals[key], v, " "); if (!n) return ""
		for (i = 2; i <= n; i++) { t = v[i]; for (j = i - 1; j && v[j] > t; j--) v[j + 1] = v[j]; v[j + 1] = t }
		return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
	}
	function cell(x, fmt) { return x == "-" ? x : x == "" ? "FAIL" : sprintf(fmt, x) }
	function ratio(a, b) { return a == "" || a == "-" || b == "" || b == "-" || b == 0 ? "-" : sprintf("%.2f", a / b) }
	function get(arr, k) { return k in arr ? arr[k] : "-" }
	FILENAME ~ /exits$/ { ex[$1, $2] = $3; nt[$1, $2] = $4; iq[$1, $2] = $5; why[$1, $2] = $7; next }
	FILENAME ~ /host$/ { hu[$1, $2] = $3; he[$1, $2] = $4; next }
	{ row(); sec = f["runtime_ms"] / 1000
	  key = $1 SUBSEP f["job"]; iops = row_iops()
	  vals[key, "iops"] = vals[key, "iops"] " " iops
	  print $1, f["job"], iops >iops_out
	  vals[key, "mbs"] = vals[key, "mbs"] " " f["kib"] * 1024 / 1e6 / sec
	  vals[key, "lat"] = vals[key, "lat"] " " f["lat_us"]
	  # --trace-overhead: the two runs of a pair (same boot, job and pair number), by state
	  if (mode) { st = substr($1, 1, index($1, "-") - 1); pk = substr($1, index($1, "-") + 1) SUBSEP f["job"] SUBSEP $2
		pv[st, pk] = iops; pkeys[pk] = 1 }
	  if ($5 !~ /^tsc/ && !warned[$1, f["job"], $5]++) clockwarn = clockwarn " " $1 "/" f["job"] "(" $5 ")" }
	END {
		# mode 0: kvmscope against QEMU; mode 1: traced kvmscope against untraced
		b = mode ? "traced" : "qemu"; B = mode ? "traced" : "QEMU"
		if (mode) printf "fio IOPS with tracing on (--trace FILE, %s) and paused (SIGUSR2), in the same boot: " \
			"medians of %d runs per state (%d boot(s) x %d pairs)\n", events, runs * pairs, runs, pairs
		else printf "fio in the guest, median of %d; ratio = kvmscope / QEMU (nearest configuration)\n", runs
		A = mode ? "paused " : ""
		printf "%-15s %-9s %11s %11s %6s %11s %11s %6s %11s %11s\n", "job", "path", A "IOPS", B " IOPS",
			"ratio", A "MB/s", B " MB/s", "ratio", A "lat_us", B " lat_us"
		nj = split(jobs, J, " "); np = split(paths, P, " ")
		for (x = 1; x <= nj; x++) for (y = 1; y <= np; y++) {
			j = J[x]; p = P[y]; k1 = "kvmscope-" p SUBSEP j; k2 = b "-" p SUBSEP j
			i1 = med(k1 SUBSEP "iops"); i2 = med(k2 SUBSEP "iops")
			m1 = med(k1 SUBSEP "mbs"); m2 = med(k2 SUBSEP "mbs")
			l1 = med(k1 SUBSEP "lat"); l2 = med(k2 SUBSEP "lat")
			if (!mode && !qemu) i2 = m2 = l2 = "-"
			# the ratio is kvmscope / QEMU, or traced / paused
			printf "%-15s %-9s %11s %11s %6s %11s %11s %6s %11s %11s\n", j, p, cell(i1, "%.0f"), cell(i2, "%.0f"),
				mode ? ratio(i2, i1) : ratio(i1, i2), cell(m1, "%.2f"), cell(m2, "%.2f"),
				mode ? ratio(m2, m1) : ratio(m1, m2), cell(l1, "%.0f"), cell(l2, "%.0f")
		}
		if (mode) {
			printf "\ntraced / paused for each pair of runs (the two runs of a job back to back in one boot)\n"
			for (x = 1; x <= nj; x++) for (y = 1; y <= np; y++) {
				j = J[x]; p = P[y]; n = 0; list = ""
				for (pk in pkeys) {
					split(pk, pq, SUBSEP)
					if (pq[1] != p || pq[2] != j || !(("traced", pk) in pv) || !(("kvmscope", pk) in pv) || !pv["kvmscope", pk]) continue
					r[++n] = pv["traced", pk] / pv["kvmscope", pk]
				}
				for (a = 2; a <= n; a++) { t = r[a]; for (c = a - 1; c && r[c] > t; c--) r[c + 1] = r[c]; r[c + 1] = t }
				for (a = 1; a <= n; a++) list = list sprintf(" %.2f", r[a])
				printf "%-15s %-9s median %s of %d pairs:%s\n", j, p,
					n ? sprintf("%.2f", n % 2 ? r[(n + 1) / 2] : (r[n / 2] + r[n / 2 + 1]) / 2) : "-", n, list
			}
		}
		if (length(ex) || length(hu)) {
			printf "\nper IO in the measured phase of one counting boot (kvmscope: its trace; host: bpftrace)\n"
			printf "%-15s %-9s %8s %8s %8s %10s %10s %11s %11s  %s\n", "job", "path", "exits", "notifies",
				"irqs", "user exits", "QEMU user", "emulated", "QEMU emul", "kvmscope exit reasons"
			for (x = 1; x <= nj; x++) for (y = 1; y <= np; y++) {
				j = J[x]; p = P[y]; k = "exits-kvmscope-" p SUBSEP j; q = "exits-qemu-" p SUBSEP j
				printf "%-15s %-9s %8s %8s %8s %10s %10s %11s %11s  %s\n", j, p, get(ex, k), get(nt, k),
					get(iq, k), get(hu, k), get(hu, q), get(he, k), get(he, q), why[k] == "" ? "-" : why[k]
			}
		}
		if (clockwarn != "") printf "warning: the guest clock was not the TSC in:%s (fio times are coarse)\n", clockwarn
	}' $out/exits $out/host $out/rows
[ $fail = 0 ] || echo "fio.sh: some runs failed (see above and the logs in $out)" >&2
exit $fail
