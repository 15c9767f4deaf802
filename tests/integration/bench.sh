# kvmscope bench --quick: the report's shape (every row present, every figure positive, the CSV,
# the chart and report.md written), never its speed; and bad options as one line, exit 2.
# With --rings split,packed --queues 1,2: a row per path, ring and queue count, each run with what
# its name says. About 8 minutes on this loaded machine (QEMU's runs are most of it).
. tests/lib.sh
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT

# status WANT CMD...: CMD exits WANT with one line on stderr
status() {
	local want=$1 rc
	shift
	"$@" >"$out/o" 2>"$out/e" </dev/null
	rc=$?
	[ "$rc" = "$want" ] && [ "$(wc -l <"$out/e")" = 1 ]
}
check "bench --repeat 0: one line, exit 2" status 2 $KVMSCOPE bench --repeat 0
check "bench --repeat x: one line, exit 2" status 2 $KVMSCOPE bench --repeat x
check "bench --paths vcpu,nosuch: one line naming it, exit 2" status 2 $KVMSCOPE bench --paths vcpu,nosuch
check "  ... the line names the row" grep -q "'nosuch'" "$out/e"
check "bench --paths '': one line, exit 2" status 2 $KVMSCOPE bench --paths ''
check "bench extra: one line, exit 2" status 2 $KVMSCOPE bench extra
check "bench --rings split,spiral: one line naming it, exit 2" status 2 $KVMSCOPE bench --rings split,spiral
check "  ... the line names the ring" grep -q "'spiral'" "$out/e"
check "bench --rings packed,packed: one line, exit 2" status 2 $KVMSCOPE bench --rings packed,packed
: >"$out/file"
check "bench --out under a file: one line naming it, exit 2" status 2 $KVMSCOPE bench --out "$out/file/b"
check "  ... the line names --out and why" grep -q -- "--out $out/file/b: cannot create it (Not a directory)" "$out/e"
check "bench --rings '': one line, exit 2" status 2 $KVMSCOPE bench --rings ''
check "bench --queues 1,0: one line naming it, exit 2" status 2 $KVMSCOPE bench --queues 1,0
check "  ... the line names the count" grep -q "'0'" "$out/e"
check "bench --queues 5: one line, exit 2" status 2 $KVMSCOPE bench --queues 5
check "bench --queues x: one line, exit 2" status 2 $KVMSCOPE bench --queues x
# --no-fio was in --help and refused as an unknown option: it must reach the next option's check
check "bench --no-fio is an option (--no-fio --repeat 0 is refused for --repeat)" sh -c \
	"$KVMSCOPE bench --no-fio --repeat 0 2>&1 | grep -q -- '--repeat wants'"
$KVMSCOPE bench --help >"$out/help"
for o in --quick --out --paths --rings --queues --repeat --no-fio --machine; do
	check "bench --help names $o" grep -q -- "$o" "$out/help"
done

need_kvm bench
# depth 32 takes 96 descriptors: the mini guest asks for a queue of 128 with qsize=128
truncate -s 16M "$out/d.img"
$KVMSCOPE run --kernel $MINI --disk "$out/d.img" --append "test=load count=64 depth=32 qsize=128" \
	>"$out/o" 2>&1 </dev/null
check "mini guest test=load depth=32 qsize=128 runs" grep -q "^load: 64 reads done, depth 32" "$out/o"
$KVMSCOPE run --kernel $MINI --disk "$out/d.img" --append "test=load count=8 depth=1 qsize=100" \
	>"$out/o" 2>&1 </dev/null
check "mini guest qsize=100 (not a power of 2) fails queue setup (status $?)" grep -q "FAIL 23" "$out/o"

$KVMSCOPE bench --quick --out "$out/b" >"$out/term" 2>"$out/progress"
rc=$?
check "bench --quick exits 0 (status $rc)" [ "$rc" = 0 ]
[ "$rc" = 0 ] || grep -a 'failed\|kvmscope bench:' "$out/progress" | tail -3 # (check itself returns 0)
check "bench --quick: progress lines (configuration, runs left, seconds)" \
	grep -Eq '^\[[0-9]+/[0-9]+, [0-9]+ left, [0-9]+ s\] kvmscope-vcpu depth 1' "$out/progress"
check "bench --quick: the table on the terminal" grep -q "^mini guest load .*reads/s .*ticks/read" "$out/term"
csv=$out/b/results.csv
check "bench --quick: results.csv written" [ -s "$csv" ]
# exits and interrupts per request may be 0 (iothread and uring take the notify in KVM: a run of
# 2N reads can have no more exits than one of N); every other figure must be above 0
figures() { # CSV: every figure a number, positive but for counts per request
	awk -F, 'NR > 1 { low = $4 ~ /_per_request$/ ? ($5 >= 0 && $6 >= 0) : ($5 > 0 && $6 > 0) }
	 NR > 1 && !(low && $7 >= $6 && $8 >= 1 && $5 ~ /^[0-9.e+-]+$/) { bad = 1; print "bad row: " $0 } END { exit bad }' "$1"
}
check "bench --quick: every figure in results.csv is a number, positive but for counts per request" figures "$csv"

# Every row the binary knows, QEMU's only where it is installed.
rows=$($KVMSCOPE bench --paths , 2>&1 | sed -n 's/.*(known: \(.*\))$/\1/p')
check "bench lists its rows ($rows)" [ -n "$rows" ]
has_in() { # FILE SECTION CONFIG CASE METRIC
	awk -F, -v s="$2" -v c="$3" -v k="$4" -v m="$5" '$1 == s && $2 == c && $3 == k && $4 == m { f = 1 } END { exit !f }' "$1"
}
has() { has_in "$csv" "$@"; } # SECTION CONFIG CASE METRIC
starts_with() { case $1 in "$2"*) return 0 ;; esac; return 1; }
for r in $rows; do
	case $r in
	host) check "row host depth 1: reads per second" has io host "depth 1" reads_per_s ;;
	qemu-vhost-user)
		if command -v qemu-system-x86_64 >/dev/null && command -v qemu-storage-daemon >/dev/null; then
			for d in 1 32; do check "row $r depth $d: ticks per read" has io "$r" "depth $d" ticks_per_read; done
		else
			echo "SKIP row $r: qemu-system-x86_64 or qemu-storage-daemon not installed"
		fi ;;
	qemu-*)
		if command -v qemu-system-x86_64 >/dev/null; then
			for d in 1 32; do check "row $r depth $d: ticks per read" has io "$r" "depth $d" ticks_per_read; done
		else
			echo "SKIP row $r: qemu-system-x86_64 not installed"
		fi ;;
	vhost-user)
		if command -v qemu-storage-daemon >/dev/null; then
			for d in 1 32; do check "row kvmscope-$r depth $d: ticks per read" has io "kvmscope-$r" "depth $d" ticks_per_read; done
		else
			echo "SKIP row kvmscope-$r: qemu-storage-daemon not installed"
		fi ;;
	*)
		for d in 1 32; do
			check "row kvmscope-$r depth $d: ticks and reads per second" has io "kvmscope-$r" "depth $d" reads_per_s
			check "row kvmscope-$r depth $d: exits and interrupts per request from the trace" \
				has trace "kvmscope-$r" "depth $d" exits_per_request
			check "row kvmscope-$r depth $d: the VMM's resident set beyond guest RAM, traced" \
				has mem "kvmscope-$r" "depth $d" rss_beyond_ram_kib
		done ;;
	esac
done
check "row kvmscope-vcpu-traced (tracing on against off)" has io kvmscope-vcpu-traced "depth 1" ticks_per_read
check "the tracing on / off ratio is printed" grep -q "^tracing on / off, vcpu path, depth 1: [0-9.]*" "$out/term"
# each kvmscope path against the nearest QEMU configuration, where both ran
near() { # PATH QEMU-ROW, when this binary has PATH
	case " $rows " in *" $1 "*) ;; *) return ;; esac
	for d in 1 32; do
		check "kvmscope-$1 / $2 at depth $d is printed" \
			grep -Eq "^kvmscope-$1 +depth $d +[0-9]+\.[0-9]{2} +against $2\$" "$out/term"
	done
}
if command -v qemu-system-x86_64 >/dev/null; then
	near vcpu qemu-mainloop
	near iothread qemu-iothread-uring
	near uring qemu-iothread-uring
	command -v qemu-storage-daemon >/dev/null && near vhost-user qemu-vhost-user
else
	echo "SKIP kvmscope / nearest QEMU: qemu-system-x86_64 not installed"
fi

report=$out/b/report.md
check "report.md names the CPU and the KVM kind" grep -Eq '^- CPU: .+; KVM: (kvm_pvm|kvm_intel|kvm_amd|kvm|no kvm module)' "$report"
machine=$($KVMSCOPE bench --machine)
check "bench --machine: one line, the KVM kind report.md names ($machine)" \
	grep -qF "KVM: $machine" "$report"
for m in kvm_pvm kvm_intel kvm_amd; do
	# (a function, not sh -c: the line may hold a quote, as "QEMU's emulator" in L1 does)
	[ -e /sys/module/$m ] && { check "bench --machine names the loaded module $m" starts_with "$machine" "$m "; break; }
done
check "report.md has today's date" grep -q "^- date: $(date -u +%Y-%m-%d)" "$report"
if command -v gnuplot >/dev/null; then
	check "chart.png is a PNG" sh -c "head -c 8 '$out/b/chart.png' | od -An -c | grep -q 'P   N   G'"
	check "report.md shows the chart" grep -q '(chart.png)' "$report"
else
	echo "SKIP chart.png: gnuplot not installed (bench says so)"
	check "report.md says why there is no chart" grep -q "gnuplot is not installed" "$report"
fi
# The disk images live in bench's private local directory, not in --out: L1's results directory
# is a 9p share without a page cache, where every read of an image there was a round trip to the
# share's server and the figures were the share's. The report says where they were.
check "bench --quick: no disk image left in --out" sh -c "! ls '$out/b' | grep -q '\\.img\$'"
check "report.md names the image's directory and file system" \
	grep -Eq '^- mini guest: .* sparse image in /[^ ]* \([a-z0-9/]+\)' "$report"
# The vhost-user daemon's socket lives in a private directory, not in --out: an output directory
# may be one that cannot hold a socket (a 9p or NFS share, as L1's results directory is; or a path
# longer than a socket address's 108 bytes, which is what this uses).
if command -v qemu-storage-daemon >/dev/null; then
	deep=$out/$(printf 'd%.0s' $(seq 1 60))/$(printf 'e%.0s' $(seq 1 60))
	mkdir -p "$deep"
	$KVMSCOPE bench --quick --paths vhost-user --repeat 1 --out "$deep" >"$out/term" 2>"$out/progress"
	check "bench --out a directory no socket can be bound in: the vhost-user row is there" \
		has_in "$deep/results.csv" io kvmscope-vhost-user "depth 1" ticks_per_read ||
		grep -h "no vhost-user row" "$out/progress" "$deep/logs/vhost-user-daemon.log" | head -2
else
	echo "SKIP bench --out without sockets: qemu-storage-daemon not installed"
fi

# A run that hangs is stopped after the run timeout and taken once more; the report lists it (in
# L1 a VM has hung at its start now and then, and a hung run cost the row). The fake QEMU hangs on
# its first call only.
if command -v qemu-system-x86_64 >/dev/null; then
	mkdir -p "$out/fake"
	cat >"$out/fake/qemu-system-x86_64" <<-EOF
	#!/bin/sh
	[ -e "$out/fake/hung" ] || { touch "$out/fake/hung"; exec sleep 600; }
	exec $(command -v qemu-system-x86_64) "\$@"
	EOF
	chmod +x "$out/fake/qemu-system-x86_64"
	PATH=$out/fake:$PATH KVMSCOPE_BENCH_TIMEOUT=15 $KVMSCOPE bench --quick --paths qemu-mainloop \
		--repeat 1 --out "$out/h" >"$out/hterm" 2>"$out/hprogress"
	rc=$?
	check "bench: a run that hangs once is stopped and taken again (status $rc)" [ "$rc" = 0 ]
	check "  ... the progress lines say so" \
		grep -q "qemu-mainloop depth 1 run 1: no result after 15 s, stopped; running it once more" "$out/hprogress"
	check "  ... report.md lists the run" grep -qF "taken again: qemu-mainloop depth 1 run 1 (no result in 15 s)" "$out/h/report.md"
	check "  ... the row has its figure" has_in "$out/h/results.csv" io qemu-mainloop "depth 1" ticks_per_read
else
	echo "SKIP bench with a hung run: qemu-system-x86_64 not installed"
fi

# --rings split,packed --queues 1,2: every path x ring x queue count is a row of its own, run with
# what its name says (the guest's console names the ring and the queues it drove)
$KVMSCOPE bench --quick --paths vcpu,uring,qemu-iothread-uring --rings split,packed --queues 1,2 \
	--repeat 1 --out "$out/c" >"$out/cterm" 2>"$out/cprogress"
rc=$?
check "bench --quick --rings split,packed --queues 1,2 exits 0 (status $rc)" [ "$rc" = 0 ]
[ "$rc" = 0 ] || grep -a 'failed\|kvmscope bench:' "$out/cprogress" | tail -3
csv2=$out/c/results.csv
check "  ... every figure in results.csv is a number, positive but for counts per request" figures "$csv2"
configs="kvmscope-vcpu kvmscope-uring"
command -v qemu-system-x86_64 >/dev/null && configs="$configs qemu-iothread-uring"
for c in $configs; do
	for cell in "" " q2" " packed" " packed q2"; do
		for d in 1 32; do
			check "row $c$cell depth $d: reads per second" has_in "$csv2" io "$c$cell" "depth $d" reads_per_s
			case $c in kvmscope-*)
				check "row $c$cell depth $d: exits per request from the trace" \
					has_in "$csv2" trace "$c$cell" "depth $d" exits_per_request ;;
			esac
		done
		log=$out/c/logs/$(echo "$c$cell" | tr ' ' -)-d32-1.log
		q=1 ring=split
		case $cell in *q2) q=2 ;; esac
		case $cell in *packed*) ring=packed ;; esac
		check "  ... $c$cell drove $q queue(s) on the $ring ring" sh -c \
			"[ \$(grep -ac '^virtio: queue [0-9]* size .*, $ring ring' '$log') = $q ] &&
			 [ \$(grep -ac '^virtio: queue ' '$log') = $q ] && grep -aq '^load: ' '$log'"
	done
done
check "  ... tracing on / off on the vcpu path" grep -q "^tracing on / off, vcpu path, depth 1: [0-9.]*" "$out/cterm"
check "  ... packed / split and N queues / 1 queue ratios under the table" sh -c \
	"grep -q '^packed / split' '$out/cterm' && grep -q '^N queues / 1 queue' '$out/cterm' &&
	 grep -q '^kvmscope-uring packed q2 *depth 32 *[0-9.]*\$' '$out/cterm'"
check "  ... report.md's command names --rings and --queues" \
	grep -q -- "--quick --rings split,packed --queues 1,2 --repeat 1" "$out/c/report.md"

# fio's rows are each timed boot's IOPS, as fio.sh computes them beside its table, not the table's
# medians rounded to whole IOPS (they read as one run with no spread, and 1.5 IOPS of 1 MiB reads as
# 2). bench.sh itself, the mini guest's vcpu rows for real, in a source tree whose boot.sh stands
# in and whose fio.sh writes the rows three boots would have and hands them to the real fio.sh's
# --report (no boots).
src=$out/src
mkdir -p "$src/tests/bench" "$src/tests/out/bench/fio" "$src/guest/out"
: >"$src/guest/out/vmlinux"
: >"$src/guest/out/initrd-fio.img"
cp tests/bench/fio.sh "$src/tests/bench/fio-real.sh"
echo 'echo "kvmscope: KVMSCOPE-INIT at 2.00 s (median of: 2.00)"' >"$src/tests/bench/boot.sh"
cat >"$src/tests/bench/fio.sh" <<-'STAND_IN'
	mkdir -p tests/out/bench/fio
	for r in 1 2 3; do
		for c in kvmscope-vcpu qemu-vcpu; do
			kib=$((4 * (600 + 10 * r))); [ $c = qemu-vcpu ] && kib=$((kib + 400))
			echo "$c $r 1.0 1.0 tsc job=randread-qd1 bs=4k kib=$kib runtime_ms=10000 lat_us=1"
			echo "$c $r 1.0 1.0 tsc job=seqread-1m bs=1m kib=$((1024 * (14 + r))) runtime_ms=10000 lat_us=1"
		done
	done >tests/out/bench/fio/rows
	echo "$@" >tests/out/bench/fio/args
	exec bash tests/bench/fio-real.sh --report -j randread-qd1,seqread-1m "$@"
STAND_IN
# bench_src NAME [ROWS]: bench.sh on the ROWS (default vcpu) and fio in $src, into $out/NAME (its
# terminal in $out/NAMEterm, its progress in $out/NAMEprogress)
bench_src() {
	KVMSCOPE=$(realpath "$KVMSCOPE") BENCH_QUICK=0 BENCH_OUT=$out/$1 BENCH_ROWS=${2:-vcpu} BENCH_REPEAT=1 \
		BENCH_FIO=1 BENCH_RINGS=split BENCH_QUEUES=1 BENCH_MINI=$(realpath "$MINI") BENCH_SRC=$src \
		bash trace/report/bench.sh >"$out/$1term" 2>"$out/$1progress" </dev/null
}
bench_src f
rc=$?
check "bench with fio (a stand-in fio.sh) exits 0 (status $rc)" [ "$rc" = 0 ]
[ "$rc" = 0 ] || tail -3 "$out/fprogress"
fio_row() { # CONFIG JOB MEDIAN MIN MAX RUNS
	awk -F, -v c="$1" -v j="$2" -v want="$3,$4,$5,$6" '$1 == "fio" && $2 == c && $3 == j &&
	    sprintf("%g,%g,%g,%d", $5, $6, $7, $8) == want { f = 1 } END { exit !f }' "$out/f/results.csv"
}
check "  ... kvmscope-vcpu randread-qd1: 3 runs, median 62, 61-63 IOPS" fio_row kvmscope-vcpu randread-qd1 62 61 63 3
check "  ... QEMU's nearest: 3 runs, median 72, 71-73 IOPS" fio_row qemu-nearest-vcpu randread-qd1 72 71 73 3
check "  ... seqread-1m keeps its fraction: 1.6 IOPS, 1.5-1.7" fio_row kvmscope-vcpu seqread-1m 1.6 1.5 1.7 3
check "  ... fio.sh --report wrote the runs' IOPS beside its table" \
	grep -qx "qemu-vcpu seqread-1m 1.7" "$src/tests/out/bench/fio/iops"
# A row that lacks a field shows no figure for it, not the row before it's: fio.sh's table read
# each row's fields into one array it never emptied, and a seqread-1m row without lat_us showed
# randread-qd1's 7 us.
for r in 1 2 3; do
	echo "kvmscope-vcpu $r 1.0 1.0 tsc job=randread-qd1 bs=4k kib=2400 runtime_ms=10000 lat_us=7"
	echo "kvmscope-vcpu $r 1.0 1.0 tsc job=seqread-1m bs=1m kib=15360 runtime_ms=10000"
done >"$src/tests/out/bench/fio/rows"
(cd "$src" && bash tests/bench/fio-real.sh --report -j randread-qd1,seqread-1m -p vcpu --no-qemu) \
	>"$out/lat" 2>&1
lat=$(awk '$1 == "seqread-1m" { print $9; exit }' "$out/lat") # the table's lat_us column
check "fio.sh --report: a row without lat_us shows no latency ($lat)" [ "$lat" = FAIL ]
# --report without -p shows the paths the last run booted: it showed a row of FAILs for each path
# the run had not booted, a failure that never happened
(cd "$src" && bash tests/bench/fio-real.sh --report -j randread-qd1,seqread-1m --no-qemu) >"$out/lat" 2>&1
check "fio.sh --report without -p: only the path the rows have" sh -c \
	"grep -q '^randread-qd1 *vcpu ' '$out/lat' && ! grep -q 'iothread\|uring\|vhost-user' '$out/lat'"
# fio in Linux on vhost-user too (the issue's four paths): bench left it out of fio.sh's -p, and
# fio.sh had no such path. bench's own daemon needs the source tree's guest/vhost-user-blk.sh.
mkdir -p "$src/guest" && cp guest/vhost-user-blk.sh "$src/guest/"
bench_src v vcpu,vhost-user
check "bench with the vhost-user row hands it to fio.sh ($(cat "$src/tests/out/bench/fio/args"))" \
	grep -q -- "-p vcpu,vhost-user " "$src/tests/out/bench/fio/args"
# vhost-user cannot run with more than one queue, nor be paused (no request passes kvmscope):
# asked for anyway, fio.sh says why in one line and exits 2 before it boots anything
check "fio.sh -p vhost-user --smp 2: one line, exit 2" status 2 bash tests/bench/fio.sh -p vhost-user --smp 2
check "  ... the line says why" grep -q "one queue only" "$out/e"
check "fio.sh -p vhost-user --trace-overhead: one line, exit 2" \
	status 2 bash tests/bench/fio.sh -p vhost-user --trace-overhead
# QEMU's side of it: qemu-run.sh --vhost-user SOCK without a backend there stops before QEMU starts
check "qemu-run.sh --vhost-user with no socket there: one line, exit 2" \
	status 2 sh guest/qemu-run.sh --vhost-user "$out/no.sock"
check "  ... the line names the socket" grep -q "$out/no.sock: no socket there" "$out/e"
# A fio.sh that stops before it writes anything (as on a bad argument) leaves no fio row, and an
# earlier run's iops file is not read as this run's.
echo 'exit 2' >"$src/tests/bench/fio.sh"
bench_src g
check "bench whose fio.sh fails: no fio row from the last run's iops file" sh -c \
	"! grep -q '^fio,' '$out/g/results.csv'"
exit $failed
