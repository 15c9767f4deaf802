#!/bin/sh
# docs/tour-screens.sh [--check] [FILE]: fills every screen of docs/tour.md (or FILE) from the real
# programs, so that none is typed by hand. A screen is a marker line followed by a fenced block:
#   <!-- screen: view ARGS; keys: K1 K2 ... -->   `kvmscope view ARGS` in tmux at 80x24, the keys
#                                                 sent one by one (tmux send-keys names: n, Enter,
#                                                 Down; a word is typed as it is), then the screen
#   <!-- run: COMMAND -->                         COMMAND's output (sh, from the checkout's top;
#                                                 ./kvmscope is the binary built here)
# The block gets the command (and the keys) on its first line, then what came out, trailing blanks
# cut. --check writes nothing: it prints each screen that differs from what the programs show
# today (a unified diff) and exits 1, or says they all match (tests/integration/tour.sh).
# Needs tmux and ./kvmscope (make kvmscope); no KVM.
cd "$(dirname "$0")/.." || exit 2
check=""
[ "$1" = --check ] && { check=1; shift; }
doc=${1:-docs/tour.md}
[ -r "$doc" ] || { echo "tour-screens: $doc: no such file" >&2; exit 2; }
[ -x ./kvmscope ] || { echo "tour-screens: ./kvmscope is not built (make kvmscope)" >&2; exit 2; }
command -v tmux >/dev/null || { echo "tour-screens: tmux is missing (apt-get install tmux)" >&2; exit 2; }
# the same screens whatever the caller's locale: UTF-8 lines and section signs, 80x24
export LC_ALL=C.UTF-8 LANG=C.UTF-8
unset TMUX
tmp=$(mktemp -d) || exit 1
sock=kvmscope-tour-$$
T() { tmux -u -L "$sock" "$@"; }
trap 'T kill-server 2>/dev/null; rm -rf "$tmp"' EXIT
T -f /dev/null new-session -d -s keep "sleep 3600" || exit 1

screen() { T capture-pane -t v -p | sed 's/ *$//'; }
# settled: the screen the same twice 0.3 s apart (up to 5 s); printed
settled() {
	screen >"$tmp/s1"
	n=0
	while [ $n -lt 16 ]; do
		sleep 0.3
		screen >"$tmp/s2"
		cmp -s "$tmp/s1" "$tmp/s2" && break
		mv "$tmp/s2" "$tmp/s1"
		n=$((n + 1))
	done
	cat "$tmp/s1"
}
view_screen() { # view ARGS; keys: KEYS
	args=${1%%; keys:*}
	keys=""
	case $1 in *"; keys:"*) keys=${1#*; keys:} ;; esac
	T new-session -d -s v -x 80 -y 24 "exec ./kvmscope $args" </dev/null || return 1
	n=0
	until screen 2>/dev/null | grep -q " events\| same, " || [ $n -ge 100 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	for k in $keys; do
		T send-keys -t v "$k"
		sleep 0.15
	done
	printf '$ kvmscope %s%s\n' "$args" "${keys:+    keys:$keys}"
	settled | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}'
	T kill-session -t v 2>/dev/null
}

: >"$tmp/out"
fence=""
while IFS= read -r line; do
	if [ -n "$fence" ]; then # inside a block we fill: skip the old text
		[ "$line" = '```' ] && fence=""
		continue
	fi
	printf '%s\n' "$line" >>"$tmp/out"
	case $line in
	'<!-- screen: '*' -->' | '<!-- run: '*' -->') ;;
	*) continue ;;
	esac
	IFS= read -r open
	[ "$open" = '```' ] || { echo "tour-screens: $doc: a marker not followed by a \`\`\` block: $line" >&2; exit 2; }
	fence=1
	what=${line#<!-- }
	what=${what% -->}
	printf 'tour-screens: %s\n' "${what%%;*}" >&2
	echo '```' >>"$tmp/out"
	case $what in
	screen:*) view_screen "${what#screen: }" >>"$tmp/out" ;;
	run:*)
		cmd=${what#run: }
		printf '$ %s\n' "${cmd#./}" >>"$tmp/out"
		sh -c "$cmd" </dev/null 2>&1 | sed 's/ *$//' >>"$tmp/out"
		;;
	esac
	echo '```' >>"$tmp/out"
done <"$doc"

if [ -n "$check" ]; then
	if cmp -s "$doc" "$tmp/out"; then
		echo "tour-screens: every screen of $doc is what the programs show today"
		exit 0
	fi
	diff -u "$doc" "$tmp/out" | head -n 80
	echo "tour-screens: $doc has screens the programs no longer show; sh docs/tour-screens.sh refreshes them" >&2
	exit 1
fi
cp "$tmp/out" "$doc"
echo "tour-screens: $doc refreshed"
