#!/bin/sh
# guest/l1/run.sh [OPTIONS] [--] COMMAND [ARG...]: run COMMAND inside L1, a machine emulated by
# QEMU's TCG with AMD SVM, whose stock Debian kernel gives it a real KVM (kvm_amd). L1 sees the
# host's root read-only under a tmpfs overlay (writes vanish with it), this directory at the same
# path, and the --rw directories read-write. COMMAND's stdout and stderr come back here; its exit
# status is ours. Ours when L1 fails instead: 124 timed out or stopped making progress, 125 L1
# could not start or died; one line on stderr says which.
#   --timeout S   give up after S seconds of host time in all (default 3600)
#   --stall S     give up when L1's heartbeat stops for S seconds: a frozen L1 kernel (default 120;
#                 before the first beat L1 has $L1_BOOT_TIMEOUT, default 300 s, to come up)
#   --rw DIR      share DIR read-write at its own path (repeatable): where results come back
#   --tty         COMMAND gets this terminal (stdin, size, Ctrl-C) instead of pipes
#   --mem MIB     L1's memory (default $L1_MEM or 4096)   --smp N  its vCPUs (default 2)
#   --console F   keep L1's kernel console log in F (shown in part on a failure anyway)
#   -q            no progress lines
# The image is built on first use (guest/l1/build.sh, about 70 MB from Debian's mirror).
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
L1_OUT=${L1_OUT:-$top/guest/out/l1}
timeout=3600; stall=120; boot=${L1_BOOT_TIMEOUT:-300}; mem=${L1_MEM:-4096}; smp=2; tty=0; quiet=0; console=""; shares=""
usage() { sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0" >&2; exit 2; }
while [ $# -gt 0 ]; do
	case $1 in
	--timeout) timeout=$2; shift 2 ;;
	--stall) stall=$2; shift 2 ;;
	--rw) [ -d "$2" ] || { echo "l1: --rw $2: not a directory" >&2; exit 2; }
		shares="$shares $(cd "$2" && pwd)"; shift 2 ;;
	--tty) tty=1; shift ;;
	--mem) mem=$2; shift 2 ;;
	--smp) smp=$2; shift 2 ;;
	--console) console=$2; shift 2 ;;
	-q) quiet=1; shift ;;
	-h|--help) usage ;;
	--) shift; break ;;
	-*) echo "l1: unknown option $1" >&2; usage ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || usage
for n in "$timeout" "$stall" "$mem" "$smp"; do
	case $n in ''|*[!0-9]*) echo "l1: '$n' is not a number" >&2; exit 2 ;; esac
done
say() { [ $quiet = 1 ] || echo "l1: $*" >&2; }
command -v qemu-system-x86_64 >/dev/null ||
	{ echo "l1: qemu-system-x86_64 is missing (package qemu-system-x86; make l1-deps)" >&2; exit 125; }
if [ ! -f "$L1_OUT/vmlinuz" ] || [ ! -f "$L1_OUT/l1.cpio" ]; then
	say "building the L1 image in $L1_OUT first"
	sh "$here/build.sh" "$L1_OUT" || exit 125
fi

ctl=$(mktemp -d "${TMPDIR:-/tmp}/kvmscope-l1.XXXXXX") || exit 125
trap 'rm -rf "$ctl"' EXIT
qemu=""
# Ctrl-C or a kill ends L1 too (QEMU runs in the background without a terminal)
trap '[ -n "$qemu" ] && kill "$qemu" 2>/dev/null; exit 130' INT TERM
# The command: run from this directory with this environment (make's job-server fds stay here).
q() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }
{
	echo "cd $(q "$PWD") || exit 125"
	export -p | grep -v -E '^export (MAKEFLAGS|MFLAGS|MAKELEVEL|MAKE_TERMOUT|MAKE_TERMERR|PWD|OLDPWD|SHLVL)='
	printf 'exec'
	for a in "$@"; do printf ' %s' "$(q "$a")"; done
	echo
} >"$ctl/cmd.sh"
: >"$ctl/shares"
# The checkout and the working directory may lie under /tmp or /run, which L1 covers with a tmpfs
# of its own: init lays them back over it (a CI clone in /tmp, say).
{ echo "$top"; [ "$PWD" = "$top" ] || echo "$PWD"; } >"$ctl/keep"
[ $quiet = 1 ] && : >"$ctl/quiet"
virtfs=""; i=0
for d in $shares; do
	echo "rw$i $d" >>"$ctl/shares"
	virtfs="$virtfs -virtfs local,path=$d,mount_tag=rw$i,security_model=none,multidevs=remap"
	i=$((i + 1))
done
: >"$ctl/out"; : >"$ctl/err"
if [ $tty = 1 ]; then
	[ -t 0 ] && [ -t 1 ] || { echo "l1: --tty needs a terminal on stdin and stdout" >&2; exit 2; }
	stty size >"$ctl/tty"
	outdev="-chardev stdio,id=out,signal=off"
else
	outdev="-chardev file,id=out,path=$ctl/out"
fi

# -accel tcg,thread=single: one host thread runs every vCPU. Multi-threaded TCG froze L1 in
# long runs (both vCPUs spinning in the L1 kernel with interrupts off) and needs more cores.
# TCG's TSC is the host's: L1's kernel is told its rate (the host kernel's, as /proc/cpuinfo
# says it), since its own calibration against the emulated PIT fails on a loaded machine (71 MHz
# was seen for a 2.6 GHz TSC), and L1's kvm_amd hands that rate on to the guest's clock.
# tsc=reliable: TCG's TSC is one counter for all vCPUs at the host's constant rate, but QEMU's
# EPYC model has no invariant-TSC bit, so L1's kernel marked it unstable ("TSCs unsynchronized")
# and kept time with the HPET: every clock_gettime() in L1 was a system call (1000 ns, against
# 74 ns on the TSC), a cost hardware hosts do not have, paid by every timestamp of a VMM in L1.
tsc_khz=$(awk -F: '/^cpu MHz/ { printf "%d", $2 * 1000; exit }' /proc/cpuinfo 2>/dev/null)
what="$*"
start=$(date +%s)
say "starting L1: QEMU TCG (single thread), $smp vCPUs with AMD SVM+NPT, $mem MiB, kernel $(cat "$L1_OUT/version" 2>/dev/null)"
set -- qemu-system-x86_64 -accel tcg,thread=single -smp "$smp" -m "$mem" -cpu EPYC,+svm,+npt \
	-nodefaults -display none -no-reboot -pidfile "$ctl/qemu.pid" \
	-monitor "unix:$ctl/monitor,server,nowait" \
	-kernel "$L1_OUT/vmlinuz" -initrd "$L1_OUT/l1.cpio" \
	-append "console=ttyS0 loglevel=4 panic=-1 tsc=reliable${tsc_khz:+ tsc_early_khz=$tsc_khz}" \
	-chardev "file,id=con,path=$ctl/console" -serial chardev:con \
	$outdev -serial chardev:out \
	-chardev "file,id=err,path=$ctl/err" -serial chardev:err \
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
	-virtfs "local,path=$ctl,mount_tag=l1ctl,security_model=none,multidevs=remap" \
	$virtfs

cr=""
[ $tty = 1 ] && cr=$(printf '\r') # QEMU has the terminal in raw mode
# The watchdog: kills QEMU when the time is up or the heartbeat stops, and says why in verdict.
watch() {
	while [ ! -s "$ctl/qemu.pid" ]; do sleep 0.2; [ -e "$ctl/gone" ] && return; done
	pid=$(cat "$ctl/qemu.pid")
	while kill -0 "$pid" 2>/dev/null; do
		sleep 1
		now=$(date +%s)
		beat=$(stat -c %Y "$ctl/beat" 2>/dev/null)
		if [ $((now - start)) -ge "$timeout" ]; then
			echo "timed out after $timeout s" >"$ctl/verdict"
		elif [ -f "$ctl/status" ]; then
			continue
		elif [ -z "$beat" ] && [ $((now - start)) -ge "$boot" ]; then
			echo "did not come up in $boot s (no heartbeat yet)" >"$ctl/verdict"
		elif [ -z "$beat" ]; then
			# progress while L1 boots: its kernel is emulated, 10-30 s
			[ $quiet = 1 ] || [ $(((now - start) % 10)) != 0 ] ||
				printf 'l1: still starting L1 (%s s)%s\n' $((now - start)) "$cr" >&2
			continue
		elif [ -n "$beat" ] && [ $((now - beat)) -ge "$stall" ]; then
			where=$(regs)
			echo "stopped making progress: no heartbeat for $((now - beat)) s${where:+ ($where)}" >"$ctl/verdict"
		else
			continue
		fi
		kill "$pid"; sleep 2; kill -9 "$pid" 2>/dev/null
		return
	done
}
# Where L1's vCPUs are (QEMU's monitor), for the stall message: "cpu0 RIP=... cpu1 RIP=...".
regs() {
	command -v python3 >/dev/null || return
	python3 - "$ctl/monitor" <<'EOF' 2>/dev/null
import re, socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(3)
s.sendall(b"info registers -a\n"); time.sleep(1); data = b""
try:
    while True:
        d = s.recv(65536)
        if not d: break
        data += d
except socket.timeout: pass
rips = re.findall(r"RIP=([0-9a-f]+) RFL=([0-9a-f]+)", data.decode(errors="replace"))
print(" ".join("cpu%d RIP=%s RFLAGS=%s" % (i, r, f) for i, (r, f) in enumerate(rips)))
EOF
}
watch &
watcher=$!
if [ $tty = 1 ]; then
	"$@" 2>"$ctl/qemu.err"
	qrc=$?
else
	"$@" </dev/null >"$ctl/qemu.err" 2>&1 &
	qemu=$!
	# the output as it comes; each tail stops after QEMU has gone and it has read to the end
	tail -n +1 -s 0.2 --pid=$qemu -f "$ctl/out" &
	t1=$!
	tail -n +1 -s 0.2 --pid=$qemu -f "$ctl/err" >&2 &
	t2=$!
	wait $qemu
	qrc=$?
	wait $t1 $t2
fi
touch "$ctl/gone"
wait $watcher 2>/dev/null
[ -n "$console" ] && cp "$ctl/console" "$console"
elapsed=$(($(date +%s) - start))
if [ -f "$ctl/verdict" ]; then
	echo "l1: $(cat "$ctl/verdict") running: $what; last L1 console line: $(grep -v '^\s*$' "$ctl/console" | tail -n1)" >&2
	exit 124
fi
if [ ! -f "$ctl/status" ]; then
	why=$(cat "$ctl/error" 2>/dev/null)
	[ -n "$why" ] || why=$(grep -v -e '^\s*$' -e 'warning:' "$ctl/qemu.err" | tail -n1)
	[ -n "$why" ] || why="last L1 console line: $(grep -E -m1 'Kernel panic|BUG:|Oops' "$ctl/console" || grep -v '^\s*$' "$ctl/console" | tail -n1)"
	echo "l1: L1 ended after $elapsed s without finishing the command (QEMU status $qrc): $why" >&2
	exit 125
fi
rc=$(cat "$ctl/status")
say "L1 ran the command in $elapsed s of host time (status $rc)"
exit "$rc"
