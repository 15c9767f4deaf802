# Bad input from the user is one line on stderr that names the file or value, and exit 2:
# sizes that wrap, directories where files belong, a very long malformed log line, and a bad
# kernel, disk or trace path found before /dev/kvm is opened (checked with /dev hidden).
. tests/lib.sh
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT

# one_line NAME STATUS WANT [UNWANTED]: the last command's status, and its stderr ($out/e) is one
# line that holds WANT (and not UNWANTED).
one_line() {
	name=$1 st=$2 want=$3 unwanted=${4:-}
	lines=$(wc -l <"$out/e")
	if [ "$st" = 2 ] && [ "$lines" = 1 ] && grep -qF -- "$want" "$out/e" &&
		{ [ -z "$unwanted" ] || ! grep -qF -- "$unwanted" "$out/e"; }; then
		ok "$name: exit 2, one line naming it"
	else
		fail "$name: exit $st, $lines lines: $(head -c 300 "$out/e")"
	fi
}

# --mem and --trace-buffer: a size past 2^64 is refused, not read modulo 2^64 (2^64 + 1G = 1G)
$KVMSCOPE run --kernel /nonexistent --mem 17179869185G 2>"$out/e" </dev/null
one_line "--mem 17179869185G" $? "--mem 17179869185G"
$KVMSCOPE run --kernel /nonexistent --trace-buffer 17179869185G 2>"$out/e" </dev/null
one_line "--trace-buffer 17179869185G" $? "--trace-buffer 17179869185G"

# a directory where a trace or a log belongs
mkdir "$out/dir"
$KVMSCOPE trace dump "$out/dir" >/dev/null 2>"$out/e"
one_line "trace dump DIR" $? "$out/dir: a directory, not a trace file" "No such device"
$KVMSCOPE import qemu "$out/dir" -o "$out/x.kvt" >/dev/null 2>"$out/e"
one_line "import qemu DIR" $? "$out/dir: a directory, not a QEMU log" "Input/output error"
# -o where no file can be: bad input, as --trace there is for run (it was status 1)
$KVMSCOPE import qemu tests/fixtures/qemu-modern.log -o "$out/dir" >/dev/null 2>"$out/e"
one_line "import -o DIR" $? "$out/dir: Is a directory"
: >"$out/file"
$KVMSCOPE import qemu tests/fixtures/qemu-modern.log -o "$out/file/x.kvt" >/dev/null 2>"$out/e"
one_line "import -o under a file" $? "$out/file/x.kvt: Not a directory"

# a 20 KB malformed line is quoted in part: the report stays a line of a screen or two
{
	echo "virtio_set_status vdev 0x5 val 1"
	printf 'virtio_set_status vdev %020000d\n' 5
} >"$out/long.log"
$KVMSCOPE import qemu "$out/long.log" -o "$out/long.kvt" >/dev/null 2>"$out/e"
st=$?
report=$(grep ":2: virtio_set_status: arguments" "$out/e")
short_report() {
	[ "$st" = 0 ] && [ -n "$report" ] && [ "${#report}" -lt 400 ] &&
		echo "$report" | grep -qF "$out/long.log:2:"
}
check "import: a 20 KB malformed line is reported in ${#report} characters, naming file:line" \
	short_report

# The user's files are checked before /dev/kvm: on a machine without KVM (here /dev is hidden in
# a mount namespace of our own) the message names the bad file, not /dev/kvm.
nokvm() { unshare -m sh -c 'mount -t tmpfs none /dev && exec "$@"' sh "$@"; }
if ! nokvm true 2>/dev/null; then
	echo "SKIP bad files before /dev/kvm: cannot hide /dev (unshare -m needs root)"
	[ "$failed" = 0 ]
	exit
fi
: >"$out/empty"
# an ELF header for aarch64 (e_machine 183)
printf '\177ELF\002\001\001\000\000\000\000\000\000\000\000\000\002\000\267\000' >"$out/arm64"
head -c 100 /dev/zero >>"$out/arm64"
nokvm $KVMSCOPE run --kernel "$out/missing" 2>"$out/e" </dev/null
one_line "no KVM: a missing --kernel" $? "$out/missing: cannot read kernel" /dev/kvm
nokvm $KVMSCOPE run --kernel "$out/empty" 2>"$out/e" </dev/null
one_line "no KVM: an empty --kernel" $? "$out/empty: cannot read kernel: empty file" /dev/kvm
nokvm $KVMSCOPE run --kernel "$out/arm64" 2>"$out/e" </dev/null
one_line "no KVM: an aarch64 ELF --kernel" $? "$out/arm64: not an x86-64 ELF kernel" /dev/kvm
if [ -f "$MINI" ]; then
	nokvm $KVMSCOPE run --kernel $MINI --initrd "$out/dir" 2>"$out/e" </dev/null
	one_line "no KVM: a directory as --initrd" $? "$out/dir: cannot read initrd" /dev/kvm
	nokvm $KVMSCOPE run --kernel $MINI --disk "$out/dir" 2>"$out/e" </dev/null
	one_line "no KVM: a directory as --disk" $? "$out/dir: Is a directory" /dev/kvm
	nokvm $KVMSCOPE run --kernel $MINI --trace "$out/nodir/t.kvt" 2>"$out/e" </dev/null
	one_line "no KVM: a --trace in a missing folder" $? "--trace $out/nodir/t.kvt" /dev/kvm
	nokvm $KVMSCOPE run --kernel $MINI --trace "$out/dir" 2>"$out/e" </dev/null
	one_line "no KVM: a directory as --trace" $? "--trace $out/dir: Is a directory" /dev/kvm
else
	echo "SKIP no KVM: --initrd, --disk, --trace checks need $MINI (make mini)"
fi
[ "$failed" = 0 ]
