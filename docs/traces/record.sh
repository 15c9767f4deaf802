#!/bin/sh
# docs/traces/record.sh [--only NAME[,NAME...]] [--qemu] [--tcg] [--list]: records the shipped
# corpus, every trace docs/traces/corpus.list names, non-interactively, one progress line per step.
# Each is one boot of the Linux guest to its /init IO test on a fresh copy of guest/out/disk.img
# (the GET_ID answer is the file's name, so it is always "disk.img"), with kvmscope's default
# trace events: PCI enumeration, the driver's whole handshake with the guest functions behind
# each step, the requests and interrupts; 250-450 records, 30-50 KB each. Then `kvmscope diff`
# against its paired QEMU 7.2 log must match (make check's test_corpus checks it again).
# docs/traces/demo.kvt, what `kvmscope view` opens given no file, is a link to the default run's
# trace (transitional, MSI-X, vcpu). Last, docs/tour.md's screens are refreshed from the new
# traces. A boot that fails keeps the trace it would have replaced and the script ends with
# status 1. Minutes per trace on a software KVM; with no usable /dev/kvm the boots run in L1
# (guest/l1/run.sh), as make demo's do.
#   --only LIST  record these traces only (names as in corpus.list, without .kvt)
#   --qemu       first record the paired QEMU logs again (guest/qemu-trace.sh, into tests/fixtures/)
#   --tcg        with --qemu: QEMU without KVM (its own CPU emulator); the default with no /dev/kvm
#   --list       print the corpus (name, options, paired log) and exit
# Run from anywhere: sh docs/traces/record.sh
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
list=docs/traces/corpus.list
only="" qemu="" tcg=""
while [ $# -gt 0 ]; do
	case $1 in
	--only) only=$(echo "$2" | tr , ' '); shift ;;
	--qemu) qemu=1 ;;
	--tcg) tcg=--tcg ;;
	--list) grep -v '^#' "$list" | awk -F'|' '{ printf "%-44s %-30s %s\n", $1 ".kvt", $3, $2 }'; exit 0 ;;
	-h | --help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "record: unknown argument $1 (try --help)" >&2; exit 2 ;;
	esac
	shift
done
names=$(grep -v '^#' "$list" | cut -d'|' -f1)
for n in $only; do
	echo "$names" | grep -qx "$n" || { echo "record: $n is not in $list" >&2; exit 2; }
done
[ -n "$only" ] || only=$names
field() { grep "^$1|" "$list" | cut -d"|" -f"$2"; }

status=0
dir=$(mktemp -d) || exit 1
trap 'rm -rf "$dir"' EXIT
if [ -n "$qemu" ] && [ -z "$L1_INSIDE" ]; then
	[ -n "$(kvm_here)" ] || tcg=--tcg
	for n in $only; do
		log=tests/fixtures/$(field "$n" 3)
		echo "record: QEMU 7.2 $(field "$n" 4)${tcg:+ (TCG)} -> $log"
		# shellcheck disable=SC2046 # the list's arguments are words
		# into a scratch directory first: a failed boot leaves the committed log as it was
		if sh guest/qemu-trace.sh $(field "$n" 4) $tcg -o "$dir/q.log" >/dev/null; then
			mv "$dir/q.log" "$log"
			[ -f "$dir/q-status.log" ] && mv "$dir/q-status.log" "${log%.log}-status.log"
		else
			echo "record: guest/qemu-trace.sh $(field "$n" 4) failed; $log left as it was; its console:" >&2
			tail -n 5 "$dir/q.log.console" >&2
			status=1
		fi
	done
fi

[ -n "$L1_INSIDE" ] || make -s kvmscope guest-linux || exit 1
if [ -z "$L1_INSIDE" ] && echo "$only" | grep -q smp && [ ! -f guest/out/vmlinux-smp ]; then
	echo "record: building the SMP guest kernel (make -C guest -f linux.mk smp; minutes)"
	make -s -C guest -f linux.mk smp || exit 1
fi
if [ -z "$(kvm_here)" ] && [ -z "$L1_INSIDE" ]; then
	[ "${L1:-1}" != 0 ] || { echo "record: /dev/kvm is missing or not usable here, and L1=0" >&2; exit 2; }
	echo "record: /dev/kvm is missing or not usable here: the boots run in L1 (its start takes 10-30 s)"
	make -s l1 || exit 1
	sh guest/l1/run.sh --rw docs/traces -- env L1_INSIDE=1 sh docs/traces/record.sh --only "$(echo $only | tr ' ' ,)"
	rc=$?
	[ $rc = 0 ] && exit $status
	exit $rc
fi

total=$(echo $only | wc -w) i=0
for n in $only; do
	i=$((i + 1))
	opts=$(field "$n" 2) log=tests/fixtures/$(field "$n" 3) kvt=docs/traces/$n.kvt
	kernel=guest/out/vmlinux
	case " $opts " in *" --smp "*) kernel=guest/out/vmlinux-smp ;; esac
	echo "record: [$i/$total] $n: booting Linux with $opts"
	cp --sparse=always guest/out/disk.img "$dir/disk.img"
	start=$(date +%s)
	# shellcheck disable=SC2086 # the options are words
	./kvmscope run --kernel $kernel --initrd guest/out/initrd.img --disk "$dir/disk.img" \
		$opts --trace "$dir/$n.kvt" >"$dir/console" 2>&1
	rc=$?
	if [ $rc != 0 ] || ! grep -q KVMSCOPE-IO-OK "$dir/console"; then
		echo "record: $n: kvmscope exited with status $rc$(grep -q KVMSCOPE-IO-OK "$dir/console" || echo ', no KVMSCOPE-IO-OK'); $kvt left as it was; its console:" >&2
		tail -n 5 "$dir/console" >&2
		status=1
		continue
	fi
	mv "$dir/$n.kvt" "$kvt"
	recs=$(./kvmscope trace stats "$kvt" | sed -n '1s/.*: \([0-9]*\) records.*/\1/p')
	verdict="$log not there yet"
	if [ -f "$log" ]; then
		./kvmscope diff "$kvt" "$log" >"$dir/diff" 2>&1
		drc=$?
		verdict="diff against $log: $(sed -n 's/^Verdict: //p' "$dir/diff") (exit $drc)"
		[ $drc = 0 ] || status=1
	fi
	echo "record: [$i/$total] $n: $(($(date +%s) - start)) s, ${recs:-?} records, $(($(wc -c <"$kvt") / 1024)) KB; $verdict"
done
ln -sf linux-transitional-msix-vcpu.kvt docs/traces/demo.kvt
# What make check asks of the corpus (test_corpus) is more than diff's exit status: the first
# requests in the same order too, which a guest with two CPUs does not always keep. Say so now.
if [ -z "$L1_INSIDE" ] && make -s build/tests/test_corpus >/dev/null 2>&1; then
	if build/tests/test_corpus | grep '^FAIL' >&2; then
		echo "record: test_corpus rejects the corpus (above); record the trace it names again (--only NAME)" >&2
		status=1
	fi
fi
# docs/tour.md's screens show these traces: they follow them (its test checks they match)
if [ -z "$L1_INSIDE" ] && command -v tmux >/dev/null; then
	echo "record: refreshing docs/tour.md's screens (docs/tour-screens.sh)"
	sh docs/tour-screens.sh 2>/dev/null || { echo "record: docs/tour-screens.sh failed" >&2; status=1; }
elif [ -z "$L1_INSIDE" ]; then
	echo "record: tmux is missing: docs/tour.md's screens are not refreshed (sh docs/tour-screens.sh)" >&2
fi
[ -n "$L1_INSIDE" ] || echo "record: the corpus is $(du -cb docs/traces/*.kvt | tail -n 1 | cut -f1 | awk '{ printf "%d KB", $1 / 1024 }') in $(ls docs/traces/*.kvt | wc -l) files (demo.kvt is a link)"
exit $status
