#!/bin/bash
# tests/bench/emulated.sh [options] -- COMMAND...: which guest code the host KVM runs through its
# instruction emulator while COMMAND (a kvmscope or QEMU run) runs. A probe, not a test: on
# kvm_pvm a guest instruction the host emulates costs about 0.6 us (docs/platform.md), and this
# shows where a guest pays it. Counts the kvm:kvm_emulate_insn tracepoint of COMMAND's process
# by guest RIP with bpftrace and names each RIP from the guest's symbols.
#   -s SECONDS    how long to count (default 10)
#   -w REGEX      start counting when COMMAND's output matches REGEX (default: at once)
#   -a SECONDS    and that many seconds after it (default 0)
#   -k            kill COMMAND when the count is done (default: let it finish)
#   -e FILE       guest ELF for symbols (default guest/out/vmlinux)
#   -n N          functions to list (default 25)
#   --per WORD=N  also divide the total by N, named WORD (e.g. --per io=830)
# Needs root, bpftrace and tracefs (/sys/kernel/tracing). COMMAND's output goes to
# tests/out/bench/emulated.log. Example, the fio guest's 4 KiB reads:
#   tests/bench/emulated.sh -w FIO-START -a 5 -s 10 -- ./kvmscope run --kernel guest/out/vmlinux \
#     --initrd guest/out/initrd-fio.img --disk d.img --append kvmscope.fio=randread-qd1
cd "$(dirname "$0")/../.." || exit 2
secs=10 wait_re="" after=0 kill=0 elf=guest/out/vmlinux top=25 per=""
while [ $# -gt 0 ]; do
	case "$1" in
	-s) secs=$2; shift ;;
	-w) wait_re=$2; shift ;;
	-a) after=$2; shift ;;
	-k) kill=1 ;;
	-e) elf=$2; shift ;;
	-n) top=$2; shift ;;
	--per) per=$2; shift ;;
	--) shift; break ;;
	-h | --help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "emulated.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
	esac
	shift
done
[ $# -gt 0 ] || { echo "emulated.sh: no COMMAND after -- (try --help)" >&2; exit 2; }
[ "$(id -u)" = 0 ] && command -v bpftrace >/dev/null && [ -d /sys/kernel/tracing/events/kvm ] ||
	{ echo "emulated.sh: needs root, bpftrace and tracefs at /sys/kernel/tracing" >&2; exit 2; }
[ -r "$elf" ] || { echo "emulated.sh: $elf missing (-e FILE)" >&2; exit 2; }
case "$per" in '' | *=[1-9]*) ;; *) echo "emulated.sh: --per wants WORD=N, got '$per'" >&2; exit 2 ;; esac
out=tests/out/bench
mkdir -p $out
log=$out/emulated.log counts=$out/emulated.counts
rm -f $log $counts

"$@" </dev/null >$log 2>&1 &
cmd=$!
# the VMM: COMMAND itself, or, when COMMAND is a shell script that does not exec it, its child
sleep 0.5
vmm=$cmd
case "$(cat /proc/$cmd/comm 2>/dev/null)" in
bash | sh | dash) vmm=$(pgrep -n -P $cmd) || vmm=$cmd ;;
esac
if [ -n "$wait_re" ]; then
	until grep -Eq -- "$wait_re" $log; do
		kill -0 $cmd 2>/dev/null || { echo "emulated.sh: COMMAND ended before '$wait_re' ($log)" >&2; exit 1; }
		sleep 0.2
	done
fi
sleep "$after"
echo "emulated.sh: counting pid $vmm for $secs s"
timeout -s INT "$secs" bpftrace -e "
tracepoint:kvm:kvm_emulate_insn /pid == $vmm/ { @[args->rip] = count(); }
tracepoint:kvm:kvm_userspace_exit /pid == $vmm/ { @exits = count(); }
END { print(@exits); clear(@exits); }" 2>$out/emulated.err |
	sed -n 's/^@\[\(-\{0,1\}[0-9]*\)\]: \([0-9]*\)$/\1 \2/p; s/^@exits: \([0-9]*\)$/exits \1/p' >$counts
[ $kill = 1 ] && kill $cmd 2>/dev/null
wait $cmd 2>/dev/null
[ -s $counts ] || { echo "emulated.sh: bpftrace counted nothing ($out/emulated.err)" >&2; exit 1; }

# RIPs come signed (bpftrace prints u64 as s64), and awk counts in doubles, exact only below
# 2^53: so symbols go to the same signed form, where the kernel's top 2 GiB are small negative
# numbers. `nm -n` lists low addresses first, then the top half, each ascending when signed.
nm -n "$elf" 2>/dev/null | awk '$2 ~ /^[tTwW]$/ { print $1, $3 }' >$counts.syms
awk -v secs="$secs" -v top="$top" -v per="$per" '
	function signed(h,   i, d, v, neg) { h = tolower(h); neg = length(h) == 16 && index("89abcdef", substr(h, 1, 1))
		v = 0
		for (i = 1; i <= length(h); i++) { d = index("0123456789abcdef", substr(h, i, 1)) - 1; v = v * 16 + (neg ? 15 - d : d) }
		return neg ? -(v + 1) : v }
	function find(a, n, x,   lo, hi, mid, f) { lo = 1; hi = n; f = 0
		while (lo <= hi) { mid = int((lo + hi) / 2); if (a[mid] <= x) { f = mid; lo = mid + 1 } else hi = mid - 1 }
		return f }
	FILENAME ~ /syms$/ { v = signed($1); if (v < 0) { nn++; na[nn] = v; nname[nn] = $2 } else { pn++; pa[pn] = v; pname[pn] = $2 }; next }
	$1 == "exits" { exits += $2; next } # the END print, then the emptied map at exit
	{ rip = $1 + 0; n = $2; total += n
	  if (rip < 0) { f = find(na, nn, rip); hits[f ? nname[f] : "(kernel half, before any symbol)"] += n; next }
	  f = find(pa, pn, rip); hits[f ? pname[f] : "(user space: no symbol)"] += n }
	END {
		printf "emulated instructions: %d in %d s, %.0f per second; exits to the VMM: %d\n",
			total, secs, total / secs, exits
		if (per != "") { split(per, p, "="); printf "per %s: %.0f (%d %ss)\n", p[1], total / p[2], p[2], p[1] }
		for (k in hits) printf "%9d  %s\n", hits[k], k | "sort -rn | head -" top
	}' $counts.syms $counts
