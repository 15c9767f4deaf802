# Hostile guests: mini.elf's test=hostile breaks one virtio rule per case (guest/mini/hostile.c)
# and checks the device's answer from inside; here, for each case: kvmscope ends with the guest's
# status 0 (it kept running and the device worked again after a reset), the trace and stderr name
# the broken rule when the answer is DEVICE_NEEDS_RESET and name none otherwise, and the disk image
# is unchanged unless the case writes legally. tests/integration/asan.sh runs this again under
# AddressSanitizer, which stops on any host memory the device touches outside its buffers.
# HOSTILE_CASES="name ..." runs only those cases. (Not $name: check() in tests/lib.sh sets it.)
. tests/lib.sh
need_kvm hostile
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
uring=1
truncate -s 1M "$out/probe"
$KVMSCOPE run --kernel $MINI --disk "$out/probe" --blk-io uring --append exit=0 \
	>/dev/null 2>&1 </dev/null || uring=0
[ $uring = 1 ] || echo "SKIP hostile: uring lines: kvmscope was built without liburing"
truncate -s 8M "$out/zero.img"

# case, transports, IO paths, disk mode, the rule kvmscope must name (- : the device answers
# without needing a reset: IOERR, or the write is ignored)
while read -r hcase transports paths disk rule; do
	case "$hcase" in '' | '#'*) continue ;; esac
	if [ -n "${HOSTILE_CASES:-}" ]; then
		case " $HOSTILE_CASES " in *" $hcase "*) ;; *) continue ;; esac
	fi
	for transport in $(echo "$transports" | tr , ' '); do
		for io in $(echo "$paths" | tr , ' '); do
			[ $io = uring ] && [ $uring = 0 ] && continue
			what="hostile $hcase ($transport, $io)"
			cp "$out/zero.img" "$out/d.img"
			spec="$out/d.img"
			[ "$disk" = ro ] && spec="$out/d.img,ro"
			timeout 120 $KVMSCOPE run --kernel $MINI --disk "$spec" --virtio $transport \
				--blk-io $io --trace "$out/t.kvt" \
				--append "test=hostile case=$hcase transport=$transport" \
				>"$out/o" 2>"$out/e" </dev/null
			rc=$?
			if [ $rc != 0 ]; then
				why=$(grep -a 'mini guest: FAIL' "$out/o" | tail -1)
				fail "$what: status $rc: ${why:-$(grep -av 'kvm_pvm' "$out/e" | tail -1)}"
				continue
			fi
			$KVMSCOPE trace dump "$out/t.kvt" >"$out/dump" 2>&1
			errs=$(grep -c ':guest_error ' "$out/dump")
			if [ "$rule" = - ]; then
				check "$what: answered per spec, no DEVICE_NEEDS_RESET ($errs guest_error)" \
					sh -c "[ $errs = 0 ] && ! grep -q 'needs reset' '$out/e'"
			else
				check "$what: DEVICE_NEEDS_RESET, the trace names '$rule'" \
					grep -q ":guest_error dev=virtio-blk reason=\"$rule" "$out/dump"
				check "$what: stderr names it once ($errs guest_error)" \
					sh -c "[ $errs = 1 ] && [ \$(grep -c 'device needs reset: $rule' '$out/e') = 1 ]"
			fi
			if [ "$hcase" != reset-inflight ]; then
				check "$what: the disk image is unchanged" cmp -s "$out/zero.img" "$out/d.img"
			fi
		done
	done
done <<'EOF'
desc-loop          modern        vcpu,iothread,uring rw chain longer than the queue (a loop)
chain-long         modern,legacy vcpu,iothread,uring rw chain longer than the queue (a loop)
head-range         modern        vcpu,iothread,uring rw descriptor index beyond the queue
indirect-nested    modern        vcpu,iothread,uring rw indirect table inside an indirect table
indirect-long      modern        vcpu,iothread,uring rw chain of more buffers than the device accepts
addr-outside       modern        vcpu,iothread,uring rw buffer outside guest RAM
addr-straddle      modern        vcpu,iothread,uring rw buffer outside guest RAM
queue-size         modern,legacy vcpu                rw -
notify-unset       modern,legacy vcpu,iothread,uring rw -
ring-straddle      modern,legacy vcpu,iothread,uring rw rings misaligned or outside guest RAM
avail-jump         modern        vcpu,iothread,uring rw avail index ahead of the ring by more than its size
sector-past        modern        vcpu,iothread,uring rw -
huge-len           modern        vcpu,iothread,uring rw buffer outside guest RAM
huge-chain         modern        vcpu,iothread,uring rw chain longer than 4 GiB
write-ro           modern,legacy vcpu,iothread,uring ro -
reset-inflight     modern,legacy vcpu,iothread,uring rw -
error-inflight     modern        vcpu,iothread,uring rw chain longer than the queue (a loop)
features-unoffered modern,legacy vcpu                rw DRIVER_OK with features the device did not offer
msix-range         modern,legacy vcpu                rw -
config-ro          modern,legacy vcpu                rw -
EOF
exit $failed
