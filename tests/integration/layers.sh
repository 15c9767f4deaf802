# tests/integration/layers.sh - the folders are floors (README's Layout): no file includes a header
# of a folder on a floor above its own, nor of another folder on its own floor. Read from the
# compiler's dependency files (-MMD: build/*.d lists every header a source file pulls in, directly
# or through another header), so the check follows the code and not what a comment says it does.
. tests/lib.sh
BUILD=${BUILD:-build}

# The floors, from the ground up; folders on one line stand side by side. "." is main.c's.
FLOORS='trace
kvm
pci
virtio
blk
trace/report trace/compare
trace/view
.'

floor_of() { # FOLDER -> its floor number, or nothing when the layout does not place it
	echo "$FLOORS" | awk -v d="$1" '{ for (i = 1; i <= NF; i++) if ($i == d) print NR }'
}

srcs=$(find kvm pci virtio blk trace -name '*.c' | sort; echo main.c)
missing=
for s in $srcs; do
	d="$BUILD/${s%.c}.d"
	if [ ! -f "$d" ] || [ "$s" -nt "$d" ]; then
		missing="$missing $s"
	fi
done
if [ -n "$missing" ]; then
	fail "layers: no up-to-date dependency file for$missing (make kvmscope first)"
	exit 1
fi

unplaced=
for s in $srcs; do
	[ -n "$(floor_of "$(dirname "$s")")" ] || unplaced="$unplaced $s"
done
check "layers: every source file's folder is on a floor${unplaced:+ (not:$unplaced)}" [ -z "$unplaced" ]

# One check a folder: each header its files pull in is in the folder itself or on a lower floor.
for dir in $(echo "$FLOORS" | tr ' ' '\n'); do
	mine=$(floor_of "$dir")
	n=0
	bad=
	for s in $srcs; do
		[ "$(dirname "$s")" = "$dir" ] || continue
		n=$((n + 1))
		# the prerequisites of the object: the source, then the headers (repository paths only)
		for h in $(awk '{ print } !/\\$/ { exit }' "$BUILD/${s%.c}.d" | tr -d '\\' |
			tr ' ' '\n' | grep '\.h$'); do
			h=${h#"$BUILD"/gen/} # a generated header belongs to the folder it is made for
			hd=$(dirname "$h")
			[ "$hd" = "$dir" ] && continue
			[ "$hd" = "$BUILD" ] && continue # made by the Makefile (build-info.h): no floor's
			f=$(floor_of "$hd")
			if [ -z "$f" ] || [ "$f" -ge "$mine" ]; then
				bad="$bad $s->$h"
			fi
		done
	done
	name=$dir/
	[ "$dir" = . ] && name=main.c
	check "layers: $name (floor $mine, $n source files) includes no header from above its floor or beside it${bad:+:$bad}" \
		[ -z "$bad" ]
done
exit $failed
