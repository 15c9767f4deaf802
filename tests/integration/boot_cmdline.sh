# tests/bench/boot.sh gives both VMMs the same kernel command line: QEMU (guest/qemu-run.sh
# --cmdline) boots with the line kvmscope's guest printed, compatibility words and
# tsc_early_khz= included, in every run. Stand-ins for kvmscope and qemu-system-x86_64 print a
# console as the guest would, so no guest boots here (a second). First, the --help of each script
# that prints its own header.
. tests/lib.sh
sh guest/qemu-run.sh --help >/tmp/boot-help.$$ 2>&1
check "qemu-run.sh --help names --cpu" grep -q -- '--cpu MODEL' /tmp/boot-help.$$
# Every script whose --help is its header: the header whole, to its last comment line, and no
# line of code (fixed line ranges had cut boot.sh's and qemu-run.sh's last lines once their headers
# grew, then fio.sh's, had cut qemu-trace.sh's, and printed emulated.sh's first line of code)
for s in tests/bench/boot.sh tests/bench/fio.sh tests/bench/boot-kernels.sh tests/bench/emulated.sh \
	guest/qemu-run.sh guest/qemu-trace.sh guest/l1/run.sh tests/tools/qemu-pcidump.sh \
	docs/traces/record.sh; do
	last=$(awk 'NR > 1 && !/^#/ { exit } NR > 1 { l = $0 } END { sub(/^# ?/, "", l); print l }' "$s")
	code=$(awk 'NR > 1 && !/^#/ { print; exit }' "$s")
	bash "$s" --help >/tmp/boot-help.$$ 2>&1
	check "$s --help: its header to the last line, no code" sh -c \
		'[ "$(tail -1 "$1")" = "$2" ] && ! grep -qxF -- "$3" "$1"' _ /tmp/boot-help.$$ "$last" "$code"
done
rm -f /tmp/boot-help.$$
need_kvm "boot.sh command line"
for f in guest/out/vmlinux guest/out/initrd.img guest/out/disk.img; do
	[ -r $f ] || { echo "SKIP boot.sh command line: $f not built (make guest-linux)"; exit 77; }
done
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
line="console=ttyS0 reboot=k panic=1 noxsave clearcpuid=smap nopv tsc_early_khz=1234567"
cat >"$out/kvmscope" <<EOS
#!/bin/sh
printf '[    0.000000] Kernel command line: $line \r\nKVMSCOPE-INIT\r\n'
EOS
mkdir "$out/bin"
cat >"$out/bin/qemu-system-x86_64" <<'EOS'
#!/bin/sh
while [ $# -gt 0 ]; do [ "$1" = -append ] && a=$2; shift; done
printf '[    0.000000] Kernel command line: %s\r\nKVMSCOPE-INIT\r\n' "$a"
EOS
chmod +x "$out/kvmscope" "$out/bin/qemu-system-x86_64"
run() { KVMSCOPE=$out/kvmscope BOOT_LOGDIR=$out/logs PATH=$out/bin:$PATH bash tests/bench/boot.sh "$@" >"$out/o" 2>&1; }
run -n 2
check "boot.sh -n 2 with stand-in VMMs: exit 0" [ $? = 0 ]
check "boot.sh says which command line both boot with" grep -qxF "boot.sh: both VMMs boot with: $line" "$out/o"
for i in 1 2; do
	got=$(sed -n 's/.*Kernel command line: //p' "$out/logs/boot-qemu-$i.log" | tr -d '\r')
	check "QEMU's run $i boots with kvmscope's command line ($got)" [ "$got" = "$line" ]
done
run -n 1 --qemu-only
got=$(sed -n 's/.*Kernel command line: //p' "$out/logs/boot-qemu-1.log" | tr -d '\r')
check "--qemu-only: QEMU boots with qemu-run.sh's own line ($got)" \
	[ "$got" = "console=ttyS0 reboot=k noxsave clearcpuid=smap,smep,popcnt" ]

# A VMM whose console stays silent for BOOT_SILENCE seconds before KVMSCOPE-INIT is stopped and
# booted once more (in L1 a VM has hung now and then, at its start or part way). The stand-in
# QEMU's calls: run 1 hangs silent, then boots; run 2 hangs after a line, then falls silent after
# KVMSCOPE-INIT, which stops it and keeps its time.
cat >"$out/bin/qemu-system-x86_64" <<EOS
#!/bin/sh
n=\$(cat "$out/calls" 2>/dev/null || echo 0); echo \$((n + 1)) >"$out/calls"
case \$n in
0) echo \$\$ >"$out/hung.pid"; exec sleep 600 ;;
1) printf 'KVMSCOPE-INIT\\r\\n' ;;
2) printf 'Linux version\\r\\n'; exec sleep 600 ;;
*) printf 'KVMSCOPE-INIT\\r\\n'; exec sleep 600 ;;
esac
EOS
BOOT_SILENCE=2 run -n 2 --qemu-only
check "boot.sh: a boot silent before /init is taken once more (status $?)" \
	grep -q '^qemu: *KVMSCOPE-INIT at [0-9.]* s (median of: [0-9.]* [0-9.]*)' "$out/o"
check "  ... silent from the start: says so" grep -qxF "boot.sh: qemu run 1: no console line for 2 s, stopped; booting it once more" "$out/o"
check "  ... silent after its first line: says so" grep -qxF "boot.sh: qemu run 2: no console line for 2 s, stopped; booting it once more" "$out/o"
check "  ... silent after KVMSCOPE-INIT: stopped, not booted again" [ "$(cat "$out/calls")" = 4 ]
sleep 1
check "  ... the hung VMM was stopped" sh -c "! kill -0 \$(cat '$out/hung.pid') 2>/dev/null"
exit $failed
