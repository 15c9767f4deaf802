# guest/l1/run.sh, the harness that runs a command in L1 (a QEMU-emulated machine with kvm_amd):
# the command's output and status come back, --rw brings files back, --tty gives it this terminal,
# and a dead or frozen L1 ends in one line and status 125 or 124, never a hang. Five L1 boots.
. tests/lib.sh
if [ -n "$L1_INSIDE" ] || [ "${L1:-1}" = 0 ]; then
	echo "SKIP l1: L1 is off here (L1=0, or already inside L1)"
	exit 77
fi
command -v qemu-system-x86_64 >/dev/null ||
	{ fail "l1: qemu-system-x86_64 is missing (make l1-deps)"; exit 1; }
run=guest/l1/run.sh top=$PWD
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
mkdir "$out/rw"

# 1: status, stdout and stderr apart, the checkout at its own path, a real KVM, --rw
start=$(date +%s)
sh $run --timeout 600 --rw "$out/rw" -- sh -c \
	'echo "pwd=$PWD"; echo to-stderr >&2; ls /sys/module | grep -x kvm_amd; cat /sys/module/kvm_amd/parameters/nested; echo result >'"$out/rw/file"'; touch /written-to-overlay; [ -e /dev/fd/1 ] && [ -e /dev/stdin ] && echo dev-fd; exit 3' \
	>"$out/o" 2>"$out/e" </dev/null
rc=$?
echo "l1: first run took $(($(date +%s) - start)) s of host time"
check "l1: the command's status comes back (3: $rc)" [ "$rc" = 3 ]
check "l1: it ran in the checkout, at its host path" grep -qx "pwd=$PWD" "$out/o"
check "l1: L1's KVM is kvm_amd with nested paging on" \
	sh -c "grep -qx kvm_amd '$out/o' && grep -qx '[1Y]' '$out/o'"
check "l1: stdout and stderr come back apart" \
	sh -c "grep -qx to-stderr '$out/e' && ! grep -q to-stderr '$out/o'"
check "l1: a --rw directory brings a file back" grep -qx result "$out/rw/file"
check "l1: other writes stay in L1 (nothing written to the host's /)" [ ! -e /written-to-overlay ]
check "l1: /dev/fd and /dev/stdin are there, as on the host (bash's <(...) needs them)" \
	grep -qx dev-fd "$out/o"

# 1b: a working directory under /tmp (where a CI clone may live): L1 mounts a tmpfs of its own
# there, and must lay the host's directory back over it
echo "made on the host" >"$out/marker"
# In the same boot: guest/qemu-run.sh on an image in L1's own overlay (tmpfs below it), which
# refuses O_DIRECT on L1's Linux 6.1: QEMU must still open it (paused with -S, so it runs until
# the timeout: status 124), not stop at once on cache=none as it did
(cd "$out" && sh "$OLDPWD/$run" --timeout 600 -q -- sh -c 'echo "pwd=$PWD"; cat marker
	cd '"$top"' && truncate -s 1M /var/tmp/q.img &&
	timeout 15 sh guest/qemu-run.sh --disk /var/tmp/q.img -- -S >/dev/null; echo "qemu-status=$?"') \
	>"$out/o2" 2>"$out/e2" </dev/null
check "l1: a working directory under /tmp is there in L1, with its files" \
	sh -c "grep -qx 'pwd=$out' '$out/o2' && grep -qx 'made on the host' '$out/o2'"
check "l1: guest/qemu-run.sh opens an image where O_DIRECT is refused ($(grep qemu-status "$out/o2"))" \
	sh -c "grep -qx qemu-status=124 '$out/o2' && grep -q 'cannot be opened with O_DIRECT here' '$out/e2'"

# 2: --tty: the command gets this terminal, its size, its keys (in tmux, as a user would run it)
if command -v tmux >/dev/null; then
	sock=$out/tmux
	tmux -S "$sock" new-session -d -x 100 -y 30 \
		"sh $run --timeout 600 --tty --rw '$out/rw' -- sh -c 'stty size >$out/rw/size; [ -t 0 ] && echo tty >$out/rw/tty; read -r line; echo \"\$line\" >$out/rw/line'; echo \$? >$out/rw/status"
	for _ in $(seq 600); do [ -f "$out/rw/size" ] && break; sleep 0.5; done
	sleep 1
	tmux -S "$sock" send-keys "typed in the host terminal" Enter
	for _ in $(seq 120); do [ -f "$out/rw/status" ] && break; sleep 0.5; done
	tmux -S "$sock" kill-server 2>/dev/null
	check "l1 --tty: the command's stdin is a terminal of the host's size ($(cat "$out/rw/size" 2>/dev/null))" \
		sh -c "grep -qx tty '$out/rw/tty' && grep -qx '30 100' '$out/rw/size'"
	check "l1 --tty: keys typed on the host reach the command" \
		grep -qx "typed in the host terminal" "$out/rw/line"
	check "l1 --tty: and its status comes back ($(cat "$out/rw/status" 2>/dev/null))" \
		grep -qx 0 "$out/rw/status"
else
	echo "SKIP l1 --tty: tmux is missing"
fi

# 3: L1 dies under the command (its kernel powers off at once): 125 and one line saying so (the
# command's own stderr is closed: its sleep may fail with EIO as the 9p root goes away)
fails_with "l1: L1 dying under the command" 125 'L1 ended after .* without finishing the command' \
	sh $run -q --timeout 600 -- sh -c 'exec 2>/dev/null; echo 1 >/proc/sys/kernel/sysrq; echo o >/proc/sysrq-trigger; sleep 60'
# 4: L1 stops making progress (its heartbeat stopped, as in a frozen L1 kernel): 124 and one line
# naming where its vCPUs were
fails_with "l1: no heartbeat for --stall seconds" 124 'stopped making progress.*RIP=' \
	sh $run -q --timeout 600 --stall 8 -- sh -c 'kill -STOP $(cat /run/l1/beat.pid); sleep 300'
exit $failed
