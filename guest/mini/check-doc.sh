#!/bin/sh
# guest/mini/check-doc.sh - the exit-status table of docs/mini-guest.md must match status.h.
set -eu
cd "$(dirname "$0")"
doc=../../docs/mini-guest.md
bad=0
for pair in $(sed -n 's/^[[:space:]]*\(ST_[A-Z_]*\) = \([0-9]*\),.*/\1:\2/p' status.h); do
	name=${pair%%:*} num=${pair#*:}
	grep -q "^| $num | $name |" "$doc" || { echo "check-doc: $doc lacks '| $num | $name |'"; bad=1; }
done
rows=$(grep -c '^| [0-9]* | ST_' "$doc")
enums=$(grep -c '^[[:space:]]*ST_[A-Z_]* = [0-9]*,' status.h)
[ "$rows" = "$enums" ] || { echo "check-doc: $rows rows in $doc, $enums statuses in status.h"; bad=1; }
[ $bad = 0 ] && echo "check-doc: $doc matches status.h ($enums statuses)"
exit $bad
