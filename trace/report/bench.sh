#!/bin/bash
# trace/report/bench.sh - the runs behind `kvmscope bench` (docs/bench.md). bench.c checks the
# options and sets: KVMSCOPE (the binary), BENCH_QUICK (0/1), BENCH_OUT (directory), BENCH_ROWS
# (kvmscope IO paths as --blk-io names them, qemu-mainloop, qemu-iothread-uring, qemu-vhost-user,
# host),
# BENCH_REPEAT, BENCH_FIO (0: no fio), BENCH_RINGS (split, packed), BENCH_QUEUES (queue counts),
# BENCH_MINI (mini.elf), BENCH_SRC (the source tree, or "" when installed: fio and boot need its
# tests/bench scripts and guest/out).
set -u
out=$BENCH_OUT quick=$BENCH_QUICK repeat=$BENCH_REPEAT mini=$BENCH_MINI src=$BENCH_SRC
rings=$(echo ${BENCH_RINGS:-split}) queues=$(echo ${BENCH_QUEUES:-1})
say() { echo "kvmscope bench: $*" >&2; }
# a --out that cannot be a directory is bad input: one line with mkdir's reason, status 2
err=$(mkdir -p "$out/logs" 2>&1) || { say "--out $out: cannot create it (${err##*: })"; exit 2; }
out=$(cd "$out" && pwd)
[ -w /dev/kvm ] || { say "/dev/kvm missing or not writable"; exit 1; }
[ -r "$mini" ] || { say "$mini missing (make mini)"; exit 1; }
count=2000 run_timeout=600
[ "$quick" = 1 ] && count=500 run_timeout=120
# KVMSCOPE_BENCH_TIMEOUT: seconds a mini-guest run may take before it is stopped (for tests)
run_timeout=${KVMSCOPE_BENCH_TIMEOUT:-$run_timeout}
depths="1 32"
qsize=128 # depth 32 takes 96 descriptors: a queue of 128 for every depth, so rows compare
started=$SECONDS load_start=$(cut -d' ' -f1-3 /proc/loadavg)
rm -f "$out/raw" "$out/results.csv" "$out/chart.png" "$out/report.md" "$out"/logs/*

paths="" qemus="" host=0
for r in $BENCH_ROWS; do
	case $r in
	qemu-*) qemus="$qemus $r" ;;
	host) host=1 ;;
	*) paths="$paths $r" ;;
	esac
done
qemu_note="" host_note=""
if [ -n "$qemus" ] && ! command -v qemu-system-x86_64 >/dev/null; then
	qemu_note="qemu-system-x86_64 is not installed: no QEMU rows"
	say "$qemu_note"
	qemus=""
fi
if [ $host = 1 ] && ! command -v python3 >/dev/null; then
	host_note="python3 is not installed: no host row"
	say "$host_note"
	host=0
fi
# A private directory on local storage for what must not live in --out, which may be a share
# (L1's results directory is 9p): the vhost-user socket (no socket there, nor in a path over 108
# bytes), the timed traced row's trace (written while timed; moved to logs/ after) and the disk
# images (on a share without a page cache every read would be a round trip to the share's server,
# and the figures that of the share).
priv=$(mktemp -d "${TMPDIR:-/tmp}/kvmscope-bench.XXXXXX") || exit 1
trap 'kill $(cat "$out/vu.pid" 2>/dev/null) 2>/dev/null; rm -rf "$priv"' EXIT
# vhost-user: one qemu-storage-daemon serves the whole run, kvmscope's vhost-user row and QEMU's
# (the source tree's guest/vhost-user-blk.sh starts it), on an image of its own like the others'
vhost_note=""
case " $paths $qemus " in *" vhost-user "* | *" qemu-vhost-user "*)
	if [ -z "$src" ] || ! command -v qemu-storage-daemon >/dev/null; then
		vhost_note="vhost-user needs qemu-storage-daemon and the source tree's guest/vhost-user-blk.sh: no vhost-user rows"
	else
		vu_sock=$priv/vu.sock
		truncate -s 64M "$priv/vu.img" &&
			sh "$src/guest/vhost-user-blk.sh" "$priv/vu.img" "$vu_sock" --pidfile "$out/vu.pid" \
				>"$out/logs/vhost-user-daemon.log" 2>&1 ||
			vhost_note="qemu-storage-daemon did not start (logs/vhost-user-daemon.log): no vhost-user rows"
	fi
	if [ -n "$vhost_note" ]; then
		say "$vhost_note"
		paths=$(echo " $paths " | sed 's/ vhost-user / /')
		qemus=$(echo " $qemus " | sed 's/ qemu-vhost-user / /')
	fi ;;
esac
# The cells: every ring x queue count. A configuration is named ROW[:packed][:qN] here (no spaces,
# so that it is one word of the raw lines) and "ROW packed qN" in results.csv and the table; the
# split ring with one queue is the bare ROW, so the default run's names are unchanged.
cells=""
for r in $rings; do
	for q in $queues; do
		c=""
		[ "$r" = split ] || c="$c:$r"
		[ "$q" = 1 ] || c="$c:q$q"
		cells="$cells ${c:-:}"
	done
done
cell_of() { [ "$1" = : ] && echo "" || echo "$1"; } # ":" stands for the bare row
label() { echo "${1//:/ }"; } # CONFIG as results.csv names it
# vhost-user: kvmscope hands its backend one split queue only (docs/blk.md); QEMU's row matches it
case " $paths $qemus " in *" vhost-user "* | *" qemu-vhost-user "*)
	case "$cells" in *[pq]*) vhost_note="${vhost_note:+$vhost_note; }vhost-user: the split ring with one queue only (kvmscope hands its backend one queue): no packed or qN vhost-user rows" ;; esac ;;
esac
# tracing on (default events) against off, on the vcpu path, as a row of its own (first cell)
traced=""
set -- $cells
case " $paths " in *" vcpu "*) traced="vcpu-traced$(cell_of "$1")" ;; esac

image=$priv/disk.img
truncate -s 64M "$image" || exit 1 # sparse, local: reads come from the page cache
image_fs=$(stat -f -c %T "$priv" 2>/dev/null) # the report names it (tmpfs, ext2/ext3, ...)

# --- The mini guest's load: one run prints "load: C reads done, depth D, T tsc ticks (P per
# read), I queue irqs". raw lines: SECTION CONFIG CASE METRIC VALUE.
failed=0
record_load() { # CONFIG DEPTH LOG
	local line
	line=$(grep -a '^load: ' "$3" | tail -1)
	if [ -z "$line" ]; then
		say "$1 depth $2 failed: $(grep -a 'FAIL\|kvmscope\|qemu' "$3" | tail -1) ($3)"
		failed=1
		return
	fi
	echo "$line" | awk -v c="$1" -v d="$2" -v hz="$tsc_hz" '{ p = $10; sub(/^\(/, "", p)
		print "io", c, "depth " d, "ticks_per_read", p
		print "io", c, "depth " d, "reads_per_s", hz / p
		print "io", c, "depth " d, "irqs_per_read", $13 / $2 }' >>"$out/raw"
}

# cell_opts CELL: sets ring (split or packed), nq (queues) and guest (the mini guest's words)
cell_opts() {
	ring=split nq=1 guest=""
	case $1 in *:packed*) ring=packed guest=" ring=packed" ;; esac
	case $1 in *:q*) nq=${1##*:q} guest="$guest queues=$nq" ;; esac
}

run_kvmscope() { # PATH[:packed][:qN] DEPTH LOG [RUN OPTIONS...]
	local io=${1%%:*} depth=$2 log=$3 ring nq guest
	cell_opts "$1"
	shift 3
	local disk=(--disk "$image" --blk-io "$io") more=()
	[ "$io" = vhost-user ] && disk=(--blk-io "vhost-user,socket=$vu_sock")
	[ $ring = packed ] && more+=(--ring packed)
	[ "$nq" != 1 ] && more+=(--blk-queues "$nq")
	[ "$nq" != 1 ] && [ "$io" = iothread -o "$io" = uring ] && more+=(--iothreads "$nq") # a thread per queue
	timeout "$run_timeout" "$KVMSCOPE" run --kernel "$mini" --mem "$((ram_kib / 1024))M" "${disk[@]}" "${more[@]}" \
		--append "test=load count=${reads:-$count} depth=$depth qsize=$qsize$guest" "$@" >"$log" 2>&1 </dev/null
}

# The VMM's own memory: kvmscope records in the trace (info vmm_rss_kib, which `trace stats`
# shows) the resident KiB of every mapping in its /proc/self/smaps but guest RAM's, once the guest
# is done and before anything is freed. Sampling from outside missed it: on a fast KVM a
# counting run could end before the first sample.
ram_kib=262144

# CONFIG[:packed][:qN] DEPTH LOG: QEMU 7.2's nearest configurations (docs/bench.md); one iothread
# serves every queue (QEMU maps queues to several iothreads only from 9.0)
run_qemu() {
	local depth=$2 log=$3 drive="" dev="" obj=() disk ring nq guest
	cell_opts "$1"
	[ "${1%%:*}" = qemu-iothread-uring ] && drive=",aio=io_uring" dev=",iothread=io0" obj=(-object iothread,id=io0)
	[ $ring = packed ] && dev="$dev,packed=on"
	dev="$dev,num-queues=$nq"
	disk=(-drive "if=none,id=d0,file=$image,format=raw,cache=writeback$drive"
		-device "virtio-blk-pci,drive=d0,serial=mini,disable-legacy=on$dev")
	# vhost-user: the daemon kvmscope's row uses serves the ring; it maps guest RAM, so RAM is a
	# shared memfd, as kvmscope's is
	[ "${1%%:*}" = qemu-vhost-user ] && disk=(-object memory-backend-memfd,id=m0,size=64M,share=on
		-machine memory-backend=m0 -chardev "socket,id=vu0,path=$vu_sock"
		-device "vhost-user-blk-pci,chardev=vu0,disable-legacy=on,num-queues=1")
	timeout "$run_timeout" qemu-system-x86_64 -enable-kvm -M pc -m 64 -display none -serial stdio \
		-no-reboot -kernel "$mini" -append "test=load count=$count depth=$depth qsize=$qsize$guest" \
		-device isa-debug-exit,iobase=0xf4,iosize=1 "${obj[@]}" "${disk[@]}" >"$log" 2>&1 </dev/null
}

# The host's own 4 KiB random reads of the image (pread, one at a time): the ceiling.
run_host() { # LOG
	python3 - "$image" "$count" >"$1" 2>&1 <<-'EOF'
	import os, random, sys, time
	fd = os.open(sys.argv[1], os.O_RDONLY); n = int(sys.argv[2]); rnd = random.Random(1)
	blocks = os.fstat(fd).st_size // 4096
	t = time.perf_counter_ns()
	for _ in range(n):
	    os.pread(fd, 4096, rnd.randrange(blocks) * 4096)
	print("host_ns_per_read", (time.perf_counter_ns() - t) / n)
	EOF
}

# The TSC's rate, to turn the guest's ticks into reads per second: what kvmscope tells a guest on
# a software KVM (tsc_early_khz=), else the host's cpu MHz (a constant TSC runs at that rate).
tsc_hz=$("$KVMSCOPE" run --kernel "$mini" --append "exit=0" 2>&1 </dev/null |
	sed -n 's/.*tsc_early_khz=\([0-9]*\).*/\1000/p' | head -1)
tsc_from="kvmscope's tsc_early_khz"
if [ -z "$tsc_hz" ]; then
	tsc_hz=$(awk -F: '/^cpu MHz/ { printf "%.0f", $2 * 1e6; exit }' /proc/cpuinfo)
	tsc_from="/proc/cpuinfo cpu MHz"
fi
[ -n "$tsc_hz" ] || { say "cannot tell the TSC's rate"; exit 1; }

# The plan: every configuration once per round, rounds repeated, so host noise spreads evenly.
configs=""
for p in $paths; do
	for cell in $cells; do
		[ "$p" = vhost-user ] && [ "$cell" != : ] && continue
		configs="$configs kvmscope-$p$(cell_of "$cell")"
	done
done
[ -n "$traced" ] && configs="$configs kvmscope-$traced"
for q in $qemus; do
	for cell in $cells; do
		[ "$q" = qemu-vhost-user ] && [ "$cell" != : ] && continue
		configs="$configs $q$(cell_of "$cell")"
	done
done
[ $host = 1 ] && configs="$configs host"
plan=()
for rep in $(seq "$repeat"); do
	for d in $depths; do
		for c in $configs; do
			[ "$c" = host ] && [ "$d" != 1 ] && continue # pread has no queue depth
			plan+=("$rep $d $c")
		done
	done
done
# the counting runs: every event traced, kvm_exit too (not timed)
# (not vhost-user's: its requests never pass through kvmscope, so its trace has none to count)
for c in $configs; do
	case $c in kvmscope-vhost-user* | kvmscope-*-traced* | qemu-* | host) continue ;; esac
	for d in $depths; do plan+=("count $d $c"); done
done
total=${#plan[@]}
# again CMD...: CMD, and once more when timeout(1) stopped it (status 124). In L1 a VM has hung
# at its start now and then, QEMU's as well as ours (docs/bench.md); one hang costs a rerun and a
# line in the report, not the row. A second hang in a row fails the row as before.
rerun_note=""
again() {
	"$@"
	[ $? = 124 ] || return 0
	say "$(label "$c") depth $d run $rep: no result after $run_timeout s, stopped; running it once more"
	rerun_note="${rerun_note:+$rerun_note; }$(label "$c") depth $d run $rep (no result in $run_timeout s)"
	"$@"
}
[ -t 2 ] && cr=$'\r\033[K' || cr=""
progress() { # DONE WHAT
	local line
	line=$(printf '[%d/%d, %d left, %d s] %s' "$1" "$total" $((total - $1)) $((SECONDS - started)) "$2")
	if [ -n "$cr" ]; then printf '%s%s' "$cr" "$line" >&2; else echo "$line" >&2; fi
}

echo "kvmscope bench: $total steps ($count random 4 KiB reads a run of the mini guest, ${repeat}x round-robin$([ "$quick" = 1 ] && echo ', --quick'); rings:$rings, queues:$queues); $out"
i=0
for step in "${plan[@]}"; do
	read -r rep d c <<<"$step"
	progress $i "$(label "$c") depth $d$([ "$rep" = count ] && echo ', counting exits' || echo ", run $rep/$repeat")"
	i=$((i + 1))
	log=$out/logs/${c//:/-}-d$d-$rep.log
	case $c in
	host)
		run_host "$log"
		awk -v hz="$tsc_hz" '/^host_ns_per_read/ && $2 > 0 { print "io host depth 1 ticks_per_read", $2 * hz / 1e9
			print "io host depth 1 reads_per_s", 1e9 / $2 }' "$log" >>"$out/raw"
		grep -q '^host_ns' "$log" || { say "host reads failed ($log)"; failed=1; } ;;
	qemu-*)
		again run_qemu "$c" "$d" "$log"
		record_load "$c" "$d" "$log" ;;
	kvmscope-*-traced*)
		p=${c#kvmscope-}
		again run_kvmscope "${p/-traced/}" "$d" "$log" --trace "$priv/traced.kvt"
		mv -f "$priv/traced.kvt" "$out/logs/traced.kvt" 2>/dev/null
		record_load "$c" "$d" "$log" ;;
	kvmscope-*)
		if [ "$rep" = count ]; then
			# One run with every event traced; its exits, interrupts and requests counted
			# between the guest's "load start" and "load done" markers (not the enumeration
			# and handshake every run starts with, nor the marker port's own exits): counts
			# of one run, never a difference of two that noise can make negative.
			reads=$((2 * count))
			kvt=$out/logs/${c//:/-}-d$d-$reads.kvt
			again run_kvmscope "${c#kvmscope-}" "$d" "$log" --trace "$kvt" --trace-events '*'
			reads=""
			# the run's memory with every event traced (the most the trace can hold)
			rss=$("$KVMSCOPE" trace stats "$kvt" 2>/dev/null | sed -n 's/^  vmm_rss_kib: \([0-9]*\)$/\1/p')
			[ "${rss:-0}" -gt 0 ] && echo "mem $c depth $d rss_beyond_ram_kib $rss" >>"$out/raw"
			"$KVMSCOPE" trace dump "$kvt" --events guest_marker,kvm_exit,irq_raise,req_complete \
				2>/dev/null | awk -v c="$c" -v d="$d" '
				/guest_marker text="load start"/ { on = 1; next }
				/guest_marker text="load done"/ { on = 0 }
				on && /:kvm_exit / && !/ addr=0xf5 / { e++ }
				on && /:irq_raise / { i++ }
				on && /:req_complete / { r++ }
				END { if (r > 0) {
					print "trace", c, "depth " d, "exits_per_request", e / r
					print "trace", c, "depth " d, "irqs_per_request", i / r } }' >"$log.per-request"
			cat "$log.per-request" >>"$out/raw"
			grep -q exits_per_request "$log.per-request" ||
				{ say "$c depth $d: no load between the markers in $kvt"; failed=1; }
		else
			again run_kvmscope "${c#kvmscope-}" "$d" "$log"
			record_load "$c" "$d" "$log"
		fi ;;
	esac
done
progress "$total" "mini guest done"
[ -n "$cr" ] && echo >&2

# --- Not with --quick: boot to /init and fio in Linux, through the source tree's scripts.
long_note=""
if [ "$quick" = 1 ]; then
	long_note="--quick: no boot times, no fio"
elif [ -z "$src" ] || [ ! -r "$src/guest/out/vmlinux" ]; then
	long_note="boot and fio need a source tree with the Linux guest built (make guest-linux): not run"
	say "$long_note"
elif [ -z "$paths" ]; then
	long_note="no kvmscope IO path in --paths: no boot times, no fio"
else
	say "boot to /init, $repeat boot(s) per VMM (tests/bench/boot.sh)"
	(cd "$src" && bash tests/bench/boot.sh -n "$repeat" $([ -z "$qemus" ] && echo --kvmscope-only)) \
		>"$out/logs/boot.txt" 2>&1
	awk '/^kvmscope: KVMSCOPE-INIT at/ || /^qemu: +KVMSCOPE-INIT at/ {
		c = $1; sub(/:$/, "", c); n = 0
		for (i = 1; i <= NF; i++) if ($i == "of:") { for (j = i + 1; j <= NF; j++) { v = $j; sub(/\)$/, "", v); if (v != "-") print "boot", c, "to /init", "seconds", v } }
	}' "$out/logs/boot.txt" >>"$out/raw"
	grep -q '^boot kvmscope' "$out/raw" || { say "boot failed (logs/boot.txt)"; failed=1; }
	# boots whose console fell silent before /init, booted once more (boot.sh says so)
	while read -r vmm run n; do
		rerun_note="${rerun_note:+$rerun_note; }$vmm boot $run (no console line for $n s)"
	done < <(sed -n 's/^boot.sh: \([a-z]*\) run \([0-9]*\): no console line for \([0-9]*\) s.*/\1 \2 \3/p' "$out/logs/boot.txt")
	# fio's initrd is small beside the kernel (a static fio from Debian's source: a minute or
	# two on a fresh machine, seconds after): built here rather than leaving the seed's
	# comparison out
	if [ "${BENCH_FIO:-1}" != 0 ] && [ ! -r "$src/guest/out/initrd-fio.img" ]; then
		say "building fio's initrd (make -C guest -f linux.mk bench; logs/fio-build.txt)"
		make -C "$src/guest" -f linux.mk bench >"$out/logs/fio-build.txt" 2>&1 ||
			say "fio's initrd could not be built (logs/fio-build.txt)"
	fi
	if [ "${BENCH_FIO:-1}" = 0 ]; then
		long_note="--no-fio: no fio in Linux"
	elif [ -r "$src/guest/out/initrd-fio.img" ]; then
		say "fio in Linux, $repeat boot(s) per path (tests/bench/fio.sh)"
		# vhost-user too: fio.sh starts a daemon of its own per boot, on that boot's image
		fio_paths=$(echo $paths | tr ' ' ,)
		# fio_run NAME SUFFIX CASE-SUFFIX [ARG...]: fio.sh with ARGS (its console in logs/NAME.txt),
		# then each timed boot's IOPS as raw lines, from the file fio.sh keeps of them (NAME JOB
		# IOPS: tests/out/bench/fio/iops, kept as logs/NAME.iops), not from its table, whose
		# medians are rounded to whole IOPS: as bench's rows they read as one run with no spread,
		# and 1.5 IOPS of 1 MiB reads as 2. The file goes first: fio.sh may stop before it writes
		# a new one.
		fio_run() {
			local name=$1 s=$2 k=$3 iops=$src/tests/out/bench/fio/iops
			shift 3
			rm -f "$iops"
			(cd "$src" && bash tests/bench/fio.sh -p "$fio_paths" "$@" -n "$repeat" --no-exits \
				$([ -z "$qemus" ] && echo --no-qemu)) >"$out/logs/$name.txt" 2>&1 || failed=1
			cp "$iops" "$out/logs/$name.iops" 2>/dev/null || return
			awk -v s="$s" -v k="$k" 'NF == 3 { c = $1; sub(/^qemu-/, "qemu-nearest-", c)
				printf "fio %s%s %s%s iops %.2f\n", c, s, $2, k, $3 }' "$out/logs/$name.iops" >>"$out/raw"
		}
		fio_run fio "" ""
		# N queues: fio at QD32 in an N-CPU guest, a queue per CPU (and an IO thread per queue);
		# not vhost-user, whose backend kvmscope hands one queue
		mq_paths=$(echo $paths | tr ' ' '\n' | grep -vx vhost-user | paste -sd,)
		for q in $queues; do
			[ "$q" = 1 ] || [ -z "$mq_paths" ] && continue
			say "fio in Linux with --smp $q, $repeat boot(s) per path (tests/bench/fio.sh --smp $q)"
			fio_run "fio-smp$q" ":q$q" " smp $q" -j randread-qd32 --smp "$q" -p "$mq_paths"
		done
	else
		long_note="fio needs guest/out/initrd-fio.img, which could not be built (logs/fio-build.txt): not run"
		say "$long_note"
	fi
fi
[ -s "$out/raw" ] || { say "nothing ran (logs in $out/logs)"; exit 1; }

# --- The summary: median, min, max and count per (section, config, case, metric).
awk '
	# SECTION CONFIG CASE... METRIC VALUE: CASE may be words ("depth 1", "to /init")
	{ k = $1; for (i = 2; i < NF; i++) k = k SUBSEP $i
	  if (!(k in n)) order[++keys] = k
	  v[k, ++n[k]] = $NF }
	END {
		print "section,config,case,metric,median,min,max,runs"
		for (i = 1; i <= keys; i++) {
			k = order[i]; c = n[k]
			for (a = 1; a <= c; a++) s[a] = v[k, a] + 0
			for (a = 2; a <= c; a++) { t = s[a]; for (b = a - 1; b && s[b] > t; b--) s[b + 1] = s[b]; s[b + 1] = t }
			m = c % 2 ? s[(c + 1) / 2] : (s[c / 2] + s[c / 2 + 1]) / 2
			f = split(k, w, SUBSEP); cas = w[3]; for (a = 4; a < f; a++) cas = cas " " w[a]
			gsub(/:/, " ", w[2]) # kvmscope-vcpu:packed:q2 is "kvmscope-vcpu packed q2"
			printf "%s,%s,%s,%s,%.6g,%.6g,%.6g,%d\n", w[1], w[2], cas, w[f], m, s[1], s[c], c
		}
	}' "$out/raw" >"$out/results.csv"

# The terminal table and the notes on ranking, from results.csv alone.
table=$(awk -F, -v hz="$tsc_hz" '
	NR == 1 { next }
	{ key = $1 SUBSEP $2 SUBSEP $3; med[key, $4] = $5; lo[key, $4] = $6; hi[key, $4] = $7; runs[key, $4] = $8
	  if (!(key in seen)) { seen[key] = 1; order[++n] = key; sect[key] = $1 } }
	function spread(k, m) { return med[k, m] > 0 ? sprintf("%.0f%%", 100 * (hi[k, m] - lo[k, m]) / med[k, m]) : "-" }
	END {
		printf "%-30s %-12s %12s %12s %9s %8s %5s\n", "mini guest load", "", "reads/s", "ticks/read", "/vcpu", "spread", "runs"
		for (i = 1; i <= n; i++) {
			k = order[i]; if (sect[k] != "io") continue
			# over kvmscope-vcpu with the same ring and queues (the words after the row'"'"'s name)
			split(k, f, SUBSEP); cell = index(f[2], " ") ? substr(f[2], index(f[2], " ")) : ""
			b = "io" SUBSEP "kvmscope-vcpu" cell SUBSEP f[3]
			r = ((b, "ticks_per_read") in med) ? sprintf("%.2f", med[k, "ticks_per_read"] / med[b, "ticks_per_read"]) : "-"
			printf "%-30s %-12s %12.0f %12.0f %9s %8s %5d\n", f[2], f[3], med[k, "reads_per_s"],
				med[k, "ticks_per_read"], r, spread(k, "ticks_per_read"), runs[k, "ticks_per_read"]
		}
		for (i = 1; i <= n; i++) {
			on = order[i]; split(on, f, SUBSEP)
			if (sect[on] != "io" || f[2] !~ /^kvmscope-vcpu-traced/) continue
			c = f[2]; sub(/-traced/, "", c); off = "io" SUBSEP c SUBSEP f[3]; sub(/^kvmscope-vcpu/, "", c)
			if ((on, "ticks_per_read") in med && (off, "ticks_per_read") in med)
				printf "tracing on / off, vcpu path%s, %s: %.3f of the reads per second (goal >= 0.95)\n",
					c, f[3], med[off, "ticks_per_read"] / med[on, "ticks_per_read"]
		}
		# each kvmscope path against the nearest QEMU configuration, same ring, queues and depth
		near["kvmscope-vcpu"] = "qemu-mainloop"; near["kvmscope-iothread"] = "qemu-iothread-uring"
		near["kvmscope-uring"] = "qemu-iothread-uring"; near["kvmscope-vhost-user"] = "qemu-vhost-user"
		h = 0
		for (i = 1; i <= n; i++) {
			k = order[i]; split(k, f, SUBSEP)
			if (sect[k] != "io") continue
			row = f[2]; cell = ""
			if (index(row, " ")) { cell = substr(row, index(row, " ")); row = substr(row, 1, index(row, " ") - 1) }
			o = "io" SUBSEP near[row] cell SUBSEP f[3]
			if (!(row in near) || !((o, "ticks_per_read") in med) || med[o, "ticks_per_read"] <= 0) continue
			if (!h++) printf "\n%-30s %-12s %12s   (ticks per read; goal <= 0.8)\n", "kvmscope / nearest QEMU", "", "ratio"
			printf "%-30s %-12s %12.2f   against %s\n", f[2], f[3], med[k, "ticks_per_read"] / med[o, "ticks_per_read"], near[row] cell
		}
		# --rings, --queues: each row against the same row on the split ring, and with one queue
		for (w = 1; w <= 2; w++) {
			h = 0
			for (i = 1; i <= n; i++) {
				k = order[i]; split(k, f, SUBSEP)
				if (sect[k] != "io" || f[3] != "depth 1" && f[3] != "depth 32") continue
				base = f[2]
				if (w == 1 && !sub(/ packed/, "", base)) continue
				if (w == 2 && !sub(/ q[0-9]+$/, "", base)) continue
				o = "io" SUBSEP base SUBSEP f[3]
				if (!((o, "reads_per_s") in med) || med[o, "reads_per_s"] <= 0) continue
				if (!h++) printf "\n%-30s %-12s %12s   (reads per second)\n", w == 1 ? "packed / split" : "N queues / 1 queue", "", "ratio"
				printf "%-30s %-12s %12.2f\n", f[2], f[3], med[k, "reads_per_s"] / med[o, "reads_per_s"]
			}
		}
		h = 0
		for (i = 1; i <= n; i++) {
			k = order[i]; if (sect[k] != "trace") continue
			if (!h++) printf "\n%-30s %-12s %12s %12s   (trace of N reads against 2N)\n", "from the trace", "", "exits/req", "irqs/req"
			split(k, f, SUBSEP)
			printf "%-30s %-12s %12.2f %12.2f\n", f[2], f[3], med[k, "exits_per_request"], med[k, "irqs_per_request"]
		}
		h = 0
		for (i = 1; i <= n; i++) {
			k = order[i]; if (sect[k] != "boot" && sect[k] != "fio") continue
			if (!h++) printf "\n%-30s %-16s %12s %8s %5s\n", "Linux guest", "", "median", "spread", "runs"
			split(k, f, SUBSEP); m = sect[k] == "boot" ? "seconds" : "iops"
			printf "%-30s %-16s %12.2f %8s %5d  %s\n", f[2], f[3], med[k, m], spread(k, m), runs[k, m],
				sect[k] == "boot" ? "s to /init" : "IOPS (fio)"
		}
		h = 0
		for (i = 1; i <= n; i++) {
			k = order[i]; if (sect[k] != "mem") continue
			if (!h++) printf "\n%-30s %-12s %12s   (every event traced; goal <= 8 MiB)\n", "VMM memory", "", "MiB"
			split(k, f, SUBSEP)
			printf "%-30s %-12s %12.1f   resident beyond guest RAM, at the end\n", f[2], f[3], med[k, "rss_beyond_ram_kib"] / 1024
		}
		bk = "boot" SUBSEP "kvmscope" SUBSEP "to /init"; bq = "boot" SUBSEP "qemu" SUBSEP "to /init"
		if ((bk, "seconds") in med && (bq, "seconds") in med && med[bq, "seconds"] > 0)
			printf "boot to /init, kvmscope / QEMU: %.2f (goal <= 0.5)\n", med[bk, "seconds"] / med[bq, "seconds"]
	}' "$out/results.csv")
# Two rows can be ranked when their ranges do not overlap: neighbours by median, per depth.
ranking=$(awk -F, 'NR > 1 && $1 == "io" && $4 == "ticks_per_read" { print $3 "," $5 "," $6 "," $7 "," $8 "," $2 }' \
	"$out/results.csv" | sort -t, -k1,1 -k2,2g | awk -F, '
	$1 != d { d = $1; pc = ""; }
	{ if (pc != "" && $3 <= phi) printf "cannot rank %s and %s at %s: their ticks per read overlap (%.0f-%.0f against %.0f-%.0f)\n", pc, $6, d, plo, phi, $3, $4
	  if ($5 < 3) few = 1
	  pc = $6; plo = $3; phi = $4 }
	END { if (few) print "fewer than 3 runs per row: the spread says little; take --repeat 5 or more to rank rows" }')

echo "$table"
[ -n "$ranking" ] && echo && echo "$ranking"

# --- The chart: reads per second per configuration, depth 1 and 32 side by side (log scale).
chart_note=""
awk -F, 'NR > 1 && $1 == "io" && $4 == "reads_per_s" { v[$2, $3] = $5; if (!($2 in s)) { s[$2] = 1; o[++n] = $2 } }
	END { for (i = 1; i <= n; i++) printf "\"%s\" %s %s\n", o[i], ((o[i], "depth 1") in v) ? v[o[i], "depth 1"] : "-",
		((o[i], "depth 32") in v) ? v[o[i], "depth 32"] : "-" }' "$out/results.csv" >"$out/chart.dat"
chart_w=$(($(wc -l <"$out/chart.dat") * 45)) # 45 pixels a configuration, at least 900
[ $chart_w -lt 900 ] && chart_w=900
if command -v gnuplot >/dev/null; then
	gnuplot >"$out/logs/gnuplot.log" 2>&1 <<-EOF || chart_note="gnuplot failed (logs/gnuplot.log)"
	set terminal pngcairo size $chart_w,500 noenhanced
	set output "$out/chart.png"
	set title "mini guest: random 4 KiB reads per second (median of $repeat; log scale)"
	set datafile missing "-"
	set style data histograms
	set style histogram clustered gap 1
	set style fill solid 0.8 border -1
	set logscale y
	set ylabel "reads per second"
	set xtics rotate by -30
	set rmargin 12
	set key top left
	set grid ytics
	plot "$out/chart.dat" using 2:xtic(1) title "depth 1", "" using 3 title "depth 32"
	EOF
	[ -s "$out/chart.png" ] || chart_note=${chart_note:-"gnuplot wrote no chart.png"}
else
	chart_note="gnuplot is not installed (apt-get install gnuplot-nox): no chart.png"
fi
[ -n "$chart_note" ] && say "$chart_note"

# --- report.md: the machine, the date, the tables.
kvm_kind=$("$KVMSCOPE" bench --machine) # the module loaded, DMI, CPUID (kvm/host.c)
{
	echo "# kvmscope bench"
	echo
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- command: \`kvmscope bench$([ "$quick" = 1 ] && echo ' --quick')$([ "${BENCH_FIO:-1}" = 0 ] && echo ' --no-fio')$([ "$rings" != split ] && echo " --rings ${rings// /,}")$([ "$queues" != 1 ] && echo " --queues ${queues// /,}") --repeat $repeat\`, rows: $(echo $BENCH_ROWS)"
	echo "- kvmscope: $("$KVMSCOPE" --version)$(command -v qemu-system-x86_64 >/dev/null && echo "; $(qemu-system-x86_64 --version | head -1)")"
	echo "- CPU: $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(nproc) online; KVM: $kvm_kind"
	echo "- load average at the start: $load_start; at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
	awk -v l="${load_start%% *}" -v n="$(nproc)" 'BEGIN { if (l > n) printf "- **loaded**: a load average above the %d cores at the start; other work shared the CPUs, so these figures show that bench ran, not how fast anything is\n", n }'
	echo "- mini guest: $count random 4 KiB reads per run from a 64 MiB sparse image in ${priv%/*} (${image_fs:-file system unknown}), queue of $qsize; reads per second from TSC ticks at $((tsc_hz / 1000)) kHz ($tsc_from)"
	for note in "$qemu_note" "$host_note" "$vhost_note" "$long_note" "$chart_note"; do [ -n "$note" ] && echo "- $note"; done
	[ -n "$rerun_note" ] && echo "- runs stopped without a result and taken again: $rerun_note"
	echo
	echo '```'
	echo "$table"
	echo '```'
	echo
	if [ -n "$ranking" ]; then echo "$ranking" | sed 's/^/- /'; else echo "- every neighbouring pair of rows is apart by more than its spread"; fi
	echo
	[ -s "$out/chart.png" ] && echo "![reads per second](chart.png)" && echo
	echo "How to read this: docs/bench.md. All figures: results.csv; every run's console: logs/."
} >"$out/report.md"
echo
echo "kvmscope bench: $out/report.md, $out/results.csv$([ -s "$out/chart.png" ] && echo ", $out/chart.png") ($((SECONDS - started)) s)"
exit $failed
