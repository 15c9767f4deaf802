# Every thread kvmscope starts has a stack under 2 MiB (main.c, small_thread_stacks): with
# transparent huge pages "always" (Debian's default; L1's kernel has it) glibc's 8 MiB default
# stacks each took a 2 MiB huge page at their first touch, 2 MiB resident per thread beyond guest
# RAM (the bench's VMM memory rows, goal 8 MiB). strace shows each clone3()'s stack size.
. tests/lib.sh
need_kvm thread_stacks
need_cmd strace thread_stacks
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
truncate -s 16M "$out/d.img"
# a vCPU, an IO thread and the trace writer
strace -f -qq -e trace=clone,clone3 -o "$out/st" $KVMSCOPE run --kernel $MINI --disk "$out/d.img" \
	--blk-io iothread --trace "$out/t.kvt" --append "test=load count=10 depth=1" >"$out/o" 2>&1 </dev/null
check "a traced run on the iothread path ends well" grep -aq "^load: 10 reads done" "$out/o"
sizes=$(grep -o 'stack_size=0x[0-9a-f]*' "$out/st" | cut -d= -f2)
n=$(echo $sizes | wc -w) big=""
check "strace shows 3 threads or more, each with its stack size ($n)" [ "$n" -ge 3 ]
for v in $sizes; do [ $((v)) -ge $((2 * 1024 * 1024)) ] && big="$big $((v / 1024)) KiB"; done
check "every thread's stack is under 2 MiB (${big:- none over})" [ -z "$big" ]
exit $failed
