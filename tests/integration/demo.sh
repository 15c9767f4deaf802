# make demo's way on a machine where no guest can boot: no usable KVM device and no L1 (L1=0, or an
# L1 whose QEMU dies at once). tests/demo.sh must then show the shipped Linux trace without
# building or booting anything: on a terminal (tmux, 80x24) the viewer, without one its handshake
# and statistics; and say how to record one's own. The KVM device is hidden with a private mount
# namespace (unshare -m, as root), as README's no-KVM recipe does.
. tests/lib.sh
dev=/dev # (the device path is never written whole: tests/run.sh would send this script to L1)
if [ "$(id -u)" != 0 ] || ! unshare -m true 2>/dev/null; then
	echo "SKIP demo: hiding the KVM device needs root and a mount namespace (unshare -m)"
	exit 77
fi
[ -x "$KVMSCOPE" ] || { echo "SKIP demo: $KVMSCOPE is not built (make kvmscope)"; exit 77; }
out=$(mktemp -d)
sock="kvmscope-demo-$$"
T() { tmux -L "$sock" "$@"; }
trap 'T kill-server 2>/dev/null; rm -rf "$out"' EXIT
: >"$out/empty"
# $out/nokvm CMD...: CMD where the KVM device is an empty file (or missing, as it may be already)
printf '#!/bin/sh\nexec unshare -m sh -c %s sh "$@"\n' \
	"'[ -e $dev/kvm ] && { mount --bind $out/empty $dev/kvm || exit 99; }; exec \"\$@\"'" >"$out/nokvm"
chmod +x "$out/nokvm"
nokvm() { "$out/nokvm" "$@"; }
nokvm sh -c ". tests/lib.sh; [ -z \"\$(kvm_here)\" ]"
check "with the device hidden, tests/lib.sh finds no KVM ($?)" [ $? = 0 ]

# Where: L1=0 and no KVM is "trace", said in one line, and make demo asks this first.
nokvm env L1=0 sh tests/demo.sh --where >"$out/w" 2>"$out/we"
check "--where without KVM and with L1=0 -> trace ($(cat "$out/w"))" [ "$(cat "$out/w")" = trace ]
check "--where says why in one line" sh -c "[ \$(wc -l <'$out/we') = 1 ] && grep -q 'L1=0' '$out/we'"

# No terminal: the shipped trace's handshake and statistics, and how to record one's own; fast.
start=$(date +%s)
nokvm env L1=0 sh tests/demo.sh </dev/null >"$out/o" 2>&1
rc=$?
took=$(($(date +%s) - start))
check "no KVM, no L1, no terminal: status 0 ($rc)" [ $rc = 0 ]
check "it names the shipped trace" grep -q 'showing instead docs/traces/demo.kvt' "$out/o"
check "it shows the handshake up to DRIVER_OK" grep -q 'virtio_status .*DRIVER_OK' "$out/o"
check "it shows the trace's statistics" grep -q '^drops' "$out/o"
check "it says how to record one's own" grep -q 'to record your own' "$out/o"
check "it boots nothing ($took s)" sh -c "[ $took -lt 30 ] && ! grep -q 'booting guest' '$out/o'"

# L1 asked for but dying at once (a stand-in qemu-system-x86_64 that fails, an image in place so
# nothing is built): the same fallback, after L1's own one line.
mkdir -p "$out/bin" "$out/l1"
printf '#!/bin/sh\necho "qemu-system-x86_64: cannot start (the test stand-in)" >&2\nexit 1\n' >"$out/bin/qemu-system-x86_64"
chmod +x "$out/bin/qemu-system-x86_64"
: >"$out/l1/vmlinuz"
: >"$out/l1/l1.cpio"
nokvm env L1=1 L1_OUT="$out/l1" PATH="$out/bin:$PATH" sh tests/demo.sh </dev/null >"$out/o" 2>&1
rc=$?
check "L1 that cannot start: status 0 ($rc)" [ $rc = 0 ]
check "L1 that cannot start: it says so" grep -q 'L1 could not start here' "$out/o"
check "L1 that cannot start: the shipped trace instead" grep -q 'virtio_status .*DRIVER_OK' "$out/o"
grep -q 'L1 could not start here' "$out/o" || sed 's/^/# /' "$out/o"

# A terminal: the viewer on the shipped trace; q gives back the shell and the advice follows.
if ! command -v tmux >/dev/null; then
	echo "SKIP demo: tmux is not installed (apt-get install tmux)"
else
	T new-session -d -s keep "sleep 600"
	T new-session -d -s v -x 80 -y 24 "cd '$PWD' && '$out/nokvm' env L1=0 sh tests/demo.sh; echo demo-exit=\$?; sleep 600"
	# shows PATTERN: up to 10 s for the pane (and the 50 lines above it) to show PATTERN
	shows() {
		n=0
		until T capture-pane -t v -p -S -50 | grep -q "$1"; do
			[ $n -ge 100 ] && return 1
			sleep 0.1
			n=$((n + 1))
		done
	}
	check "on a terminal: the viewer opens on the shipped trace" shows 'kvmscope view docs/traces/demo.kvt .* events'
	T send-keys -t v q
	check "q leaves the viewer with status 0" shows 'demo-exit=0'
	check "and the advice follows" shows 'to record your own'
fi
exit $failed
