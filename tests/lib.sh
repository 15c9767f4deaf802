# tests/lib.sh - shared by the integration scripts: check lines in the format tests/run.sh counts.
KVMSCOPE=${KVMSCOPE:-./kvmscope}
MINI=guest/out/mini.elf

ok() { echo "ok $*"; }
fail() { echo "FAIL $*"; failed=1; }
# check NAME COMMAND...: ok when the command succeeds.
check() { name=$1; shift; if "$@"; then ok "$name"; else fail "$name"; fi; }
# Skip the whole script (status 77) where there is no KVM to run a guest on.
need_kvm() {
	if [ ! -c /dev/kvm ] || [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
		echo "SKIP $1: /dev/kvm is missing or not usable here"
		exit 77
	fi
}
failed=0
