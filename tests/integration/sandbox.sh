# The sandbox (kvm/sandbox.c): once the machine is built, the vCPU thread and the IO threads it
# starts run under a seccomp allow-list, while the main thread and the trace writer do not;
# --no-sandbox turns it off. (tests/unit/test_sandbox.c shows a forbidden call refused and named;
# every other integration script runs with the sandbox on.)
. tests/lib.sh
need_kvm sandbox
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
truncate -s 16M "$out/d.img"
io=uring
$KVMSCOPE run --kernel $MINI --disk "$out/d.img" --blk-io uring --append exit=0 \
	>/dev/null 2>&1 </dev/null || io=iothread

for mode in on off; do
	flag=
	[ $mode = off ] && flag=--no-sandbox
	$KVMSCOPE run --kernel $MINI --disk "$out/d.img" --blk-io $io --trace "$out/t.kvt" $flag \
		--append "test=load count=100000000 report=1000" >"$out/o" 2>"$out/e" </dev/null &
	vmm=$!
	# the threads are counted while the load runs: its first progress line says it does
	for _ in $(seq 600); do grep -q "^load: [0-9]* reads$" "$out/o" 2>/dev/null && break; sleep 0.05; done
	# Seccomp: 0 off, 2 filtered; the kernel's own helper threads (io_uring workers, kvm-nx-*)
	# are not kvmscope's and not counted. kvmscope names its vCPUs vcpuN and its writer
	# trace-writer; its other threads keep the process's name.
	on=0 offn=0
	for t in /proc/$vmm/task/*; do
		case "$(cat "$t/comm" 2>/dev/null)" in kvmscope | vcpu[0-9]* | trace-writer) ;; *) continue ;; esac
		case "$(sed -n 's/^Seccomp:[[:space:]]*//p' "$t/status")" in
		2) on=$((on + 1)) ;;
		0) offn=$((offn + 1)) ;;
		esac
	done
	kill -TERM $vmm; wait $vmm
	rc=$?
	if [ $mode = on ]; then
		check "sandbox on: the vCPU and $io threads are filtered ($on), main and trace writer not ($offn)" \
			[ "$on" = 2 -a "$offn" = 2 ]
	else
		check "--no-sandbox: no thread is filtered ($on filtered, $offn not)" [ "$on" = 0 -a "$offn" -ge 4 ]
	fi
	check "sandbox $mode: a SIGTERM still ends the run through its exit path ($rc)" [ "$rc" = 130 ]
	check "sandbox $mode: the trace of the run reads back" \
		sh -c "$KVMSCOPE trace stats '$out/t.kvt' >/dev/null"
	check "sandbox $mode: nothing was refused" sh -c "! grep -q 'sandbox' '$out/e'"
done
check "--help names --no-sandbox" sh -c "$KVMSCOPE run --help | grep -q -- --no-sandbox"
exit $failed
