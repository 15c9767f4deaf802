#!/bin/sh
# guest/build-config.sh SRCDIR BUILDDIR FRAGMENT: `make tinyconfig`, merge FRAGMENT with the kernel's
# scripts/kconfig/merge_config.sh, then check that every line of FRAGMENT is in the final .config.
# A value that did not stick (a dependency is missing) fails the build, naming the option.
set -e
src=$1; build=$2; frag=$3
mkdir -p "$build"
src=$(cd "$src" && pwd); build=$(cd "$build" && pwd); frag=$(cd "$(dirname "$frag")" && pwd)/$(basename "$frag")
log=$build/config.log
export ARCH=x86_64
echo "guest: configuring Linux: tinyconfig + $(basename "$frag")"
rm -f "$build/.config"
make -s -C "$src" O="$build" tinyconfig >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
(cd "$build" && "$src/scripts/kconfig/merge_config.sh" -O . .config "$frag") >>"$log" 2>&1 ||
	{ cat "$log" >&2; exit 1; }
bad=0
while IFS= read -r line; do
	case "$line" in
	"# CONFIG_"*" is not set")
		opt=${line#\# }; opt=${opt%% *}
		if grep -q "^$opt=" "$build/.config"; then
			echo "guest: $frag: wanted $opt off, got: $(grep "^$opt=" "$build/.config")" >&2
			bad=1
		fi ;;
	CONFIG_*)
		if ! grep -qxF "$line" "$build/.config"; then
			opt=${line%%=*}
			got=$(grep -E "^$opt=|^# $opt is not set" "$build/.config" || echo "absent (dependencies not met)")
			echo "guest: $frag: wanted $line, got: $got" >&2
			bad=1
		fi ;;
	esac
done <"$frag"
if [ $bad = 1 ]; then
	echo "guest: kernel config does not have every option of $frag (merge log: $log)" >&2
	rm -f "$build/.config"
	exit 1
fi
echo "guest: kernel config OK ($(grep -c '=y' "$build/.config") options on)"
