# docs/tour.md's screens are what the programs show today: docs/tour-screens.sh --check runs the
# viewer in tmux (80x24) and each command on the shipped traces, and compares with the text. A copy
# of the tour with one screen changed must be caught. No KVM: the traces are in docs/traces/.
. tests/lib.sh
if ! command -v tmux >/dev/null; then
	echo "SKIP tour: tmux is not installed (apt-get install tmux)"
	exit 77
fi
[ -x "$KVMSCOPE" ] || { echo "SKIP tour: $KVMSCOPE is not built (make kvmscope)"; exit 77; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
screens=$(grep -c '^<!-- \(screen\|run\): ' docs/tour.md)
views=$(grep -c '^<!-- screen: ' docs/tour.md)
check "docs/tour.md has screens of the viewer ($views) and of commands ($((screens - views)))" \
	[ "$views" -ge 6 ] && [ "$screens" -ge 12 ]
empty=$(awk '/^<!-- (screen|run): /{ m = 1; next } m && /^```$/ { if (open) { if (n < 2) e++; open = 0; m = 0 } else { open = 1; n = 0 } next } open { n++ } END { print e + 0 }' docs/tour.md)
check "no screen of docs/tour.md is empty ($empty are)" [ "$empty" = 0 ]
sh docs/tour-screens.sh --check >"$out/o" 2>"$out/e"
rc=$?
check "every screen of docs/tour.md is what the programs show today (docs/tour-screens.sh --check: $rc)" [ $rc = 0 ]
[ $rc = 0 ] || sed 's/^/# /' "$out/o" | head -n 60
# the check can fail: a copy whose first viewer screen says another number of events
sed '0,/ events  ? help$/s/ \([0-9]*\) events  ? help$/ 1\1 events  ? help/' docs/tour.md >"$out/tour.md"
check "a stale copy differs from the original" sh -c "! cmp -s docs/tour.md '$out/tour.md'"
sh docs/tour-screens.sh --check "$out/tour.md" >"$out/o" 2>"$out/e"
check "docs/tour-screens.sh --check catches a stale screen (status $?)" grep -q 'no longer show' "$out/e"
exit $failed
