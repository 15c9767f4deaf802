#!/bin/sh
# tests/run.sh: run every unit test binary and every integration script, count their check lines,
# and close with "N passed, N failed, N skipped". A program that fails without a FAIL line
# (a crash, a timeout) counts as one failure.
cd "$(dirname "$0")/.." || exit 2
BUILD=${BUILD:-build}
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

for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	run_one "$(basename "$t")" "$t"
done
# linux.sh first: it leaves tests/out/linux.kvt, which later scripts read instead of booting again.
for t in tests/integration/linux.sh $(ls tests/integration/*.sh | grep -v /linux.sh); do
	[ -f "$t" ] || continue
	case " ${TESTS:-$(basename "$t" .sh)} " in *" $(basename "$t" .sh) "*) ;; *) continue ;; esac
	run_one "$(basename "$t" .sh)" sh "$t"
done
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
