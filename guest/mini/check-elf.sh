#!/bin/sh
# guest/mini/check-elf.sh ELF - checks the layout kvmscope's loader relies on (docs/mini-guest.md).
set -eu
elf=$1
err() { echo "check-elf: $elf: $*"; exit 1; }
h=$(readelf -h "$elf")
echo "$h" | grep -q 'Class:.*ELF64' || err "not ELF64"
echo "$h" | grep -q 'Machine:.*X86-64' || err "not x86-64"
entry=$(echo "$h" | awk '/Entry point address/ {print $4}')
# Every PT_LOAD: p_paddr = p_vaddr, inside 1-16 MiB; the entry inside one of them.
found=0 n=0
for seg in $(readelf -lW "$elf" | awk '$1 == "LOAD" {print $3 ":" $4 ":" $6}'); do
	va=$((${seg%%:*})) rest=${seg#*:}
	pa=$((${rest%%:*})) msz=$((${rest#*:}))
	n=$((n + 1))
	[ "$va" -eq "$pa" ] || err "PT_LOAD at vaddr $va has paddr $pa"
	[ "$pa" -ge $((0x100000)) ] && [ $((pa + msz)) -le $((0x1000000)) ] || err "PT_LOAD $pa outside 1-16 MiB"
	[ $((entry)) -ge "$va" ] && [ $((entry)) -lt $((va + msz)) ] && found=1
done
[ "$n" -gt 0 ] || err "no PT_LOAD"
[ "$found" -eq 1 ] || err "entry $entry not in a PT_LOAD"
readelf -n "$elf" | grep -q 'Xen.*0x00000004' || err "no PVH note (QEMU -kernel needs it)"
echo "check-elf: $elf ok (entry $entry, $n PT_LOAD)"
