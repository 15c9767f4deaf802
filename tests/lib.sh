# tests/lib.sh - shared by the integration scripts: check lines in the format tests/run.sh counts.
KVMSCOPE=${KVMSCOPE:-./kvmscope}
MINI=guest/out/mini.elf

ok() { echo "ok $*"; }
fail() { echo "FAIL $*"; failed=1; }
# check NAME COMMAND...: ok when the command succeeds.
check() { name=$1; shift; if "$@"; then ok "$name"; else fail "$name"; fi; }
# The KVM behind /dev/kvm when it opens read-write here (its module: kvm_pvm, kvm_amd,
# kvm_intel; "kvm" if none of those), else nothing: missing, no permission, or no hardware.
kvm_here() {
	[ -c /dev/kvm ] && (exec 3<>/dev/kvm) 2>/dev/null || return 0
	for m in kvm_pvm kvm_amd kvm_intel; do
		[ -d /sys/module/$m ] && { echo $m; return; }
	done
	echo kvm
}
# fails_with NAME STATUS TEXT COMMAND...: COMMAND (stdin closed) exits STATUS and says why in one
# stderr line matching TEXT (a grep pattern). Uses the script's scratch directory $out.
fails_with() {
	fw_name=$1; want=$2; text=$3; shift 3 # (check() sets $name)
	"$@" >"$out/o" 2>"$out/e" </dev/null
	rc=$?
	check "$fw_name -> status $want ($rc)" [ "$rc" = "$want" ]
	check "$fw_name -> one line saying so ($(wc -l <"$out/e") lines)" \
		sh -c "[ \$(wc -l <'$out/e') = 1 ] && grep -q -- '$text' '$out/e'"
}
# Skip the whole script (status 77) where there is no KVM to run a guest on.
need_kvm() {
	if [ -z "$(kvm_here)" ]; then
		echo "SKIP $1: /dev/kvm is missing or not usable here"
		exit 77
	fi
}
# Skip the whole script (status 77) where the command CMD is not installed.
need_cmd() { # CMD NAME
	command -v "$1" >/dev/null && return
	echo "SKIP $2: $1 is not installed"
	exit 77
}
failed=0
