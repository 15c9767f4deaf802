#!/bin/bash
# tests/bench/boot.sh [-n N] [-t SECONDS] [--qemu-only | --kvmscope-only]: a benchmark, not a test.
# Boots guest/out/{vmlinux,initrd.img,disk.img} under ./kvmscope and under QEMU (guest/qemu-run.sh),
# one after the other, N times each (default 1), and times from process start until `KVMSCOPE-INIT`
# appears on each console. Prints both times and the ratio kvmscope/QEMU (median over the runs).
# Both VMMs boot with the same kernel command line: QEMU gets the one kvmscope's first boot had
# (its guest prints it), compatibility words and tsc_early_khz= included.
# Console logs, each line prefixed with its time: tests/out/bench/boot-{kvmscope,qemu}-RUN.log
# (BOOT_LOGDIR=DIR: in DIR). KVMSCOPE=PATH: time that kvmscope binary instead of ./kvmscope.
# A boot whose console stays silent for BOOT_SILENCE seconds (default 120) before KVMSCOPE-INIT is
# stopped and booted once more, and says so (in L1 a VM has hung now and then, at its start or
# part way); silent after KVMSCOPE-INIT, it is stopped and its times kept.
# Build first: make kvmscope guest-linux. Only ratios mean anything (docs/guest.md, docs/platform.md).
cd "$(dirname "$0")/../.." || exit 2
runs=1 timeout=900 do_kvmscope=1 do_qemu=1
while [ $# -gt 0 ]; do
	case "$1" in
	-n) runs=$2; shift ;;
	-t) timeout=$2; shift ;;
	--qemu-only) do_kvmscope=0 ;;
	--kvmscope-only) do_qemu=0 ;;
	-h | --help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "boot.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
	esac
	shift
done
case "$runs" in '' | *[!0-9]* | 0) echo "boot.sh: -n wants a positive number, got '$runs'" >&2; exit 2 ;; esac
kernel=guest/out/vmlinux initrd=guest/out/initrd.img disk=guest/out/disk.img
for f in $kernel $initrd $disk; do
	[ -r "$f" ] || { echo "boot.sh: $f missing; build it with: make guest-linux" >&2; exit 2; }
done
kvmscope=${KVMSCOPE:-./kvmscope}
if [ $do_kvmscope = 1 ] && [ ! -x "$kvmscope" ]; then
	echo "boot.sh: $kvmscope is not an executable (make kvmscope); timing QEMU only"
	do_kvmscope=0
fi
[ -w /dev/kvm ] || { echo "boot.sh: /dev/kvm missing or not writable" >&2; exit 2; }
logdir=${BOOT_LOGDIR:-tests/out/bench}
mkdir -p "$logdir"
silence=${BOOT_SILENCE:-120}
case "$silence" in '' | *[!0-9]* | 0) echo "boot.sh: BOOT_SILENCE wants a positive number of seconds, got '$silence'" >&2; exit 2 ;; esac
[ "$silence" -gt "$timeout" ] && silence=$timeout

# boot NAME RUN CMD...: run CMD, stamp each console line with microseconds since start, and set
# T_INIT, T_IO, T_END (seconds, "-" when not seen) and IO_LINE; when the console stays silent for
# $silence seconds CMD is stopped, and T_HUNG=1 if that was before KVMSCOPE-INIT.
boot() {
	local name=$1 run=$2 log line start now t pidf
	shift 2
	log=$logdir/boot-$name-$run.log pidf=$logdir/.boot-$$.pid
	T_INIT=- T_IO=- T_END=- IO_LINE="" T_HUNG=0
	start=${EPOCHREALTIME/./}
	while :; do
		IFS= read -r -t "$silence" line
		t=$?
		if [ $t -gt 128 ]; then # silent too long: stop timeout(1), which stops CMD
			[ "$T_INIT" = - ] && T_HUNG=1
			kill "$(cat "$pidf")" 2>/dev/null
			break
		fi
		[ $t = 0 ] || break
		now=${EPOCHREALTIME/./}
		t=$(((now - start) / 10000))
		t=$((t / 100)).$(printf '%02d' $((t % 100)))
		printf '%8s %s\n' "$t" "$line" >>"$log"
		case "$line" in
		*KVMSCOPE-INIT*) [ "$T_INIT" = - ] && T_INIT=$t ;;
		*KVMSCOPE-IO-*) [ "$T_IO" = - ] && T_IO=$t IO_LINE=${line%%$'\r'} ;;
		esac
	done < <(: >"$log"; echo $BASHPID >"$pidf"; exec timeout --foreground -k 5 "$timeout" "$@" </dev/null 2>&1)
	rm -f "$pidf"
	now=${EPOCHREALTIME/./}
	t=$(((now - start) / 10000))
	T_END=$((t / 100)).$(printf '%02d' $((t % 100)))
	printf '  %-8s run %d: KVMSCOPE-INIT at %s s, %s at %s s, exited at %s s  (%s)\n' "$name" "$run" \
		"$T_INIT" "${IO_LINE:+${IO_LINE%% *}}" "$T_IO" "$T_END" "$log"
}

# boot_again NAME RUN CMD...: boot, and once more when the first fell silent before /init
boot_again() {
	boot "$@"
	[ $T_HUNG = 1 ] || return 0
	echo "boot.sh: $1 run $2: no console line for $silence s, stopped; booting it once more"
	boot "$@"
}

median() { tr ' ' '\n' | grep -v '^-\?$' | sort -n | awk '{v[NR]=$1} END {if (NR) print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2); else print "-"}'; }

# The same CPU for both guests: on a hardware KVM (L1's too) kvmscope's guest sees what
# KVM_GET_SUPPORTED_CPUID offers, which is QEMU's -cpu host less the TSC-deadline timer QEMU adds
# on its own. With qemu-run.sh's qemu64 QEMU's guest saw no XSAVE and skipped work kvmscope's did
# (its XSAVE setup and report: 0.3 s of a 3 s boot in L1). kvm_pvm virtualizes no CPUID, so there
# both guests read the host's whatever the model (and QEMU's -cpu host fails).
qcpu=""
[ -d /sys/module/kvm_pvm ] || qcpu=host,tsc-deadline=off
echo "boot.sh: seconds from process start to KVMSCOPE-INIT on the console, $runs run(s) each${qcpu:+; QEMU with -cpu $qcpu}"
k_times="" q_times="" fail=0 cmdline=""
for i in $(seq 1 "$runs"); do
	if [ $do_kvmscope = 1 ]; then
		boot_again kvmscope "$i" "$kvmscope" run --kernel $kernel --initrd $initrd --disk $disk
		k_times="$k_times $T_INIT"
		[ "$T_INIT" = - ] && fail=1
		if [ -z "$cmdline" ]; then
			cmdline=$(sed -n 's/.*Kernel command line: //p' "$logdir/boot-kvmscope-$i.log" | head -1 |
				tr -d '\r' | sed 's/ *$//')
			echo "boot.sh: both VMMs boot with: ${cmdline:-(kvmscope's guest did not print its command line: QEMU gets qemu-run.sh's own)}"
		fi
	fi
	if [ $do_qemu = 1 ]; then
		boot_again qemu "$i" guest/qemu-run.sh ${qcpu:+--cpu "$qcpu"} ${cmdline:+--cmdline "$cmdline"}
		q_times="$q_times $T_INIT"
		[ "$T_INIT" = - ] && fail=1
	fi
done
k=$(echo "$k_times" | median) q=$(echo "$q_times" | median)
[ $do_kvmscope = 1 ] && echo "kvmscope: KVMSCOPE-INIT at $k s (median of:$k_times)"
[ $do_qemu = 1 ] && echo "qemu:     KVMSCOPE-INIT at $q s (median of:$q_times)"
if [ $do_kvmscope = 1 ] && [ $do_qemu = 1 ] && [ "$k" != - ] && [ "$q" != - ]; then
	awk -v k="$k" -v q="$q" 'BEGIN { printf "ratio kvmscope/qemu: %.2f\n", k / q }'
fi
[ $fail = 0 ] || echo "boot.sh: KVMSCOPE-INIT did not appear in every run (see the logs)"
exit $fail
