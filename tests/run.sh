#!/bin/sh
# tests/run.sh: run every unit test binary and every integration script, count their check lines,
# and close with "N passed, N failed, N skipped" and which KVM the VM tests ran on. A program that
# fails without a FAIL line (a crash, a timeout) counts as one failure.
# Where the VM tests run (docs/platform.md): on this machine's KVM when /dev/kvm opens here; in L1
# (guest/l1/run.sh: kvm_amd in a machine QEMU emulates) when it does not, and also, for a real-KVM
# subset (L1_TESTS), when this KVM is not a hardware one. L1=0 keeps everything here.
cd "$(dirname "$0")/.." || exit 2
BUILD=${BUILD:-build}
L1=${L1:-1}
L1_TESTS=${L1_TESTS:-linux mini mini_blk}
pass=0; fail=0; skip=0
out=$(mktemp); trap 'rm -f "$out"' EXIT

run_one() {
	name=$1; shift
	echo "== $name"
	"$@" >"$out" 2>&1
	rc=$?
	cat "$out"
	p=$(grep -c '^ok ' "$out"); f=$(grep -c '^FAIL ' "$out"); s=$(grep -c '^SKIP ' "$out")
	if [ "$rc" != 0 ] && [ "$rc" != 77 ] && [ "$f" = 0 ]; then
		echo "FAIL $name exited with status $rc"
		f=1
	fi
	pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
}

. tests/lib.sh
kvm=$(kvm_here)
if [ -n "$L1_INSIDE" ]; then here="${kvm:-no KVM} in L1"; else here="${kvm:-no KVM} on this machine"; fi

if [ "${UNIT:-1}" != 0 ]; then
	for t in "$BUILD"/tests/test_*; do
		[ -x "$t" ] || continue
		run_one "$(basename "$t")" "$t"
	done
fi
# The integration scripts TESTS names (all by default); linux.sh first: it leaves
# tests/out/linux.kvt, which later scripts read instead of booting again.
scripts=""
for t in tests/integration/linux.sh $(ls tests/integration/*.sh | grep -v /linux.sh); do
	[ -f "$t" ] || continue
	case " ${TESTS:-$(basename "$t" .sh)} " in *" $(basename "$t" .sh) "*) scripts="$scripts $t" ;; esac
done
# Scripts that boot a guest on /dev/kvm; with no KVM here they go to L1.
needs_kvm() { grep -q 'need_kvm\|/dev/kvm' "$1"; }
# Scripts marked real-kvm-only: on kvm_pvm they run in L1 instead of here.
real_only() { [ "$kvm" = kvm_pvm ] && [ "$L1" != 0 ] && [ -z "$L1_INSIDE" ] && grep -q '^# real-kvm-only' "$1"; }
l1=""; l1_only=""; here_list=""
for t in $scripts; do
	n=$(basename "$t" .sh)
	if [ -z "$kvm" ] && [ "$L1" != 0 ] && [ -z "$L1_INSIDE" ] && needs_kvm "$t"; then
		l1="$l1 $n"
		continue
	fi
	if real_only "$t"; then
		l1_only="$l1_only $n"
		continue
	fi
	here_list="$here_list $n"
	run_one "$n" sh "$t"
done
# On kvm_pvm (not a hardware-like KVM) L1 runs the real-KVM subset too, and the scripts marked
# real-kvm-only instead of here. On any other KVM, L1 would test the same kind again, slower.
if [ -n "$kvm" ] && [ "$kvm" = kvm_pvm ] && [ "$L1" != 0 ] && [ -z "$L1_INSIDE" ]; then
	for n in $L1_TESTS $l1_only; do
		case " $scripts " in *"/$n.sh "*) l1="$l1 $n" ;; esac
	done
fi

# In L1: one boot for all its scripts; tests/out comes back (linux.kvt for the viewer's tests).
in_l1() {
	mkdir -p tests/out
	sh guest/l1/run.sh --timeout "${L1_TIMEOUT:-2400}" --rw tests/out -- \
		env L1_INSIDE=1 UNIT=0 TESTS="$l1" sh tests/run.sh >"$out.l1" 2>&1
	rc=$?
	sed -e 's/^\(ok\|FAIL\|SKIP\) /\1 [L1] /' -e 's/^== /== [L1] /' \
		-e 's/^\([0-9]* passed, [0-9]* failed, [0-9]* skipped\)/L1: \1/' "$out.l1"
	rm -f "$out.l1"
	return $rc
}
p0=$pass; f0=$fail; s0=$skip
if [ -n "$l1" ]; then
	start=$(date +%s)
	run_one "L1:$l1" in_l1
	l1_line="kvm_amd in L1 (QEMU TCG):$l1 - $((pass - p0)) passed, $((fail - f0)) failed, $((skip - s0)) skipped in $(($(date +%s) - start)) s"
fi
units=""
[ "${UNIT:-1}" != 0 ] && units=" unit tests,"
echo "where: $here:$units$here_list"
[ -n "$l1" ] && echo "where: $l1_line"
if [ -z "$kvm" ] && [ -n "$l1" ]; then
	vm="VM tests on kvm_amd in L1; no KVM on this machine"
else
	vm="VM tests on $here${l1:+, and on kvm_amd in L1}"
fi
echo "$pass passed, $fail failed, $skip skipped ($vm)"
[ "$fail" = 0 ]
