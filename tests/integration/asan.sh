# The mini-guest suites, the hostile guests included, again on ./kvmscope-asan (make asan):
# AddressSanitizer and UBSan stop the process on the first error, which the suites then see as
# a failed check.
. tests/lib.sh
need_kvm asan
[ -x ./kvmscope-asan ] || { fail "asan: ./kvmscope-asan is not built (make asan)"; exit 1; }
export KVMSCOPE=./kvmscope-asan
export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:exitcode=99
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export VHOST_USER_LINUX=no # one Linux boot over vhost-user is enough: the plain build's
out=$(mktemp); trap 'rm -f "$out"' EXIT
for t in mini mini_blk hostile vhost_user; do
	sh tests/integration/$t.sh >"$out" 2>&1 || failed=1
	sed -e 's/^ok /ok asan: /' -e 's/^FAIL /FAIL asan: /' -e 's/^SKIP /SKIP asan: /' "$out"
done
exit $failed
