# SPDX-License-Identifier: Apache-2.0
# Helpers sourced by every integration test (POSIX sh). They run the real
# launch binary as a real unprivileged user, give each test a private
# temporary directory, and check that a run leaves no mount and no process
# behind.
#
# Environment:
#   LAUNCH                 absolute path of the launch binary under test
#   LAUNCH_TEST_IMAGES     directory with busybox/ and busybox.sqfs
#                          (made by tests/fixtures/mkimages.sh)
#   LAUNCH_TEST_USER       unprivileged user to run as (default launchtest);
#                          ignored when the tests do not run as root
#   LAUNCH_TEST_MUST_WORK  1: a skip is a failure (set by CI)
#   LAUNCH_TEST_TMPDIR     where per-test directories go (default /var/tmp)
#
# A test script: `. "$(dirname "$0")/lib.sh"`, `require_*`, checks with the
# assert_* helpers (a failed check is reported and the test goes on), then
# `finish`. Exit status: 0 pass, 1 fail, 77 skip.

set -u

FAILURES=0
CHECKS=0
TEST_NAME=$(basename "$0" .sh)
_CLEANUP=
T=

say() { printf '%s\n' "$*"; }

# Abort the test now (a set-up problem, or a check that makes the rest moot).
die() {
	say "FAIL: $*"
	FAILURES=$((FAILURES + 1))
	exit 1
}

# Record a failed check and go on.
fail() {
	say "FAIL: $*"
	FAILURES=$((FAILURES + 1))
}

pass() {
	say "ok: $*"
}

skip() {
	if [ "$FAILURES" -gt 0 ]; then
		say "SKIP: $* (after $FAILURES failed checks: the test fails)"
		exit 1
	fi
	if [ "${LAUNCH_TEST_MUST_WORK:-0}" = 1 ]; then
		say "SKIP turned into failure: $*"
		exit 1
	fi
	say "SKIP: $*"
	exit 77
}

finish() {
	if [ "$FAILURES" -gt 0 ]; then
		say "$TEST_NAME: $FAILURES of $CHECKS checks failed"
		exit 1
	fi
	say "$TEST_NAME: all $CHECKS checks passed"
	exit 0
}

# Run shell code at exit (latest first), e.g. to restore /dev/fuse.
on_exit() {
	_CLEANUP="$1
$_CLEANUP"
}

_cleanup() {
	_lib_exit_status=$?
	trap - EXIT INT TERM HUP
	set +u
	eval "$_CLEANUP" >/dev/null 2>&1
	if [ -n "$T" ] && [ -d "$T" ]; then
		chmod -R u+rwX "$T" 2>/dev/null
		rm -rf "$T"
	fi
	exit "$_lib_exit_status"
}
trap _cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# ---- checks ----------------------------------------------------------------

# assert_eq EXPECTED ACTUAL WHAT
assert_eq() {
	CHECKS=$((CHECKS + 1))
	if [ "$1" = "$2" ]; then
		pass "$3"
		return 0
	fi
	fail "$3: expected [$1], got [$2]"
	_show_last
	return 1
}

# assert_contains HAYSTACK NEEDLE WHAT
assert_contains() {
	CHECKS=$((CHECKS + 1))
	case $1 in
	*"$2"*)
		pass "$3"
		return 0
		;;
	esac
	fail "$3: [$2] not found in [$1]"
	_show_last
	return 1
}

# assert_not_contains HAYSTACK NEEDLE WHAT
assert_not_contains() {
	CHECKS=$((CHECKS + 1))
	case $1 in
	*"$2"*)
		fail "$3: [$2] unexpectedly found in [$1]"
		_show_last
		return 1
		;;
	esac
	pass "$3"
	return 0
}

# assert_match HAYSTACK ERE WHAT: some line of HAYSTACK matches ERE.
assert_match() {
	CHECKS=$((CHECKS + 1))
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		pass "$3"
		return 0
	fi
	fail "$3: no line of [$1] matches /$2/"
	_show_last
	return 1
}

# assert_true WHAT CMD...: CMD succeeds (run in the test's own context).
assert_true() {
	_what=$1
	shift
	CHECKS=$((CHECKS + 1))
	if "$@"; then
		pass "$_what"
		return 0
	fi
	fail "$_what (failed: $*)"
	return 1
}

# capture CMD...: run CMD; sets rc, out, err (stdout and stderr, without
# the trailing newline).
capture() {
	"$@" >"$T/.out" 2>"$T/.err"
	rc=$?
	out=$(cat "$T/.out")
	err=$(cat "$T/.err")
	_last_cmd="$*"
	return 0
}

# assert_status EXPECTED CMD...: capture CMD and check its exit status. The
# caller can check $out and $err afterwards.
assert_status() {
	_exp=$1
	shift
	capture "$@"
	assert_eq "$_exp" "$rc" "exit status of: $(_short "$*")"
}

_short() {
	printf '%s' "$1" | sed -e "s|$L|launch|g" -e "s|$LAUNCH_TEST_IMAGES/||g" | cut -c1-200
}

_show_last() {
	[ -n "${_last_cmd:-}" ] || return 0
	say "  last command: $(_short "$_last_cmd")"
	say "  status: ${rc:-?}"
	[ -z "${out:-}" ] || printf '%s\n' "$out" | head -n 20 | sed 's/^/  stdout: /'
	[ -z "${err:-}" ] || printf '%s\n' "$err" | head -n 20 | sed 's/^/  stderr: /'
	_last_cmd=
}

# ---- the test user ---------------------------------------------------------

if [ "$(id -u)" = 0 ]; then
	IS_ROOT=1
	TU=${LAUNCH_TEST_USER:-launchtest}
	if ! TU_UID=$(id -u "$TU" 2>/dev/null); then
		skip "test user $TU does not exist (run ci/setup-machine.sh as root)"
	fi
	[ "$TU_UID" != 0 ] || die "LAUNCH_TEST_USER=$TU is root: it must be an unprivileged user"
	TU_GID=$(id -g "$TU")
else
	IS_ROOT=0
	TU=$(id -un)
	TU_UID=$(id -u)
	TU_GID=$(id -g)
fi
TU_GROUP=$(getent group "$TU_GID" | cut -d: -f1)
TU_HOME=$(getent passwd "$TU" | cut -d: -f6)
[ -n "$TU_HOME" ] || TU_HOME=/nonexistent

# A per-test directory that the test user owns (0755: root and the user can
# both reach it; tests create root-owned files in it when they need them).
_base=${LAUNCH_TEST_TMPDIR:-/var/tmp}
T=$(mktemp -d "$_base/launch-it.$TEST_NAME.XXXXXX") || die "cannot create a temporary directory in $_base"
chmod 0755 "$T"
[ "$IS_ROOT" = 0 ] || chown "$TU_UID:$TU_GID" "$T"
TEST_ID=$(basename "$T")
cd "$T" || die "cannot enter $T"

# Tests choose their site config themselves (LAUNCH_CONFIG=FILE before
# as_user); one from the caller's environment would change every result.
unset LAUNCH_CONFIG

# as_user CMD...: run CMD as the test user with a clean environment. Each
# process started this way carries LAUNCH_TEST_ID, which lets
# assert_clean find whatever a run left behind (also with parallel tests).
# Set LAUNCH_CONFIG in the test to pass a site config.
as_user() {
	if [ "$IS_ROOT" = 1 ]; then
		env -i HOME="$TU_HOME" USER="$TU" LOGNAME="$TU" PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 \
			LAUNCH_TEST_ID="$TEST_ID" ${LAUNCH_CONFIG:+LAUNCH_CONFIG="$LAUNCH_CONFIG"} \
			setpriv --reuid="$TU_UID" --regid="$TU_GID" --init-groups -- "$@"
	else
		env -i HOME="$TU_HOME" USER="$TU" LOGNAME="$TU" PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 \
			LAUNCH_TEST_ID="$TEST_ID" ${LAUNCH_CONFIG:+LAUNCH_CONFIG="$LAUNCH_CONFIG"} "$@"
	fi
}

# The second unprivileged user (LAUNCH_TEST_USER2, default launchtest2, made
# by ci/setup-machine.sh without subordinate id ranges): tests that another
# user is kept out, and runs without /etc/subuid ranges. require_user2 first.
TU2=${LAUNCH_TEST_USER2:-launchtest2}
require_user2() {
	[ "$IS_ROOT" = 1 ] || skip "needs root to run commands as a second user"
	TU2_UID=$(id -u "$TU2" 2>/dev/null) || skip "second test user $TU2 does not exist (run ci/setup-machine.sh as root)"
	[ "$TU2_UID" != 0 ] && [ "$TU2_UID" != "$TU_UID" ] || die "LAUNCH_TEST_USER2=$TU2 must be another unprivileged user"
	TU2_GID=$(id -g "$TU2")
	TU2_HOME=$(getent passwd "$TU2" | cut -d: -f6)
	# The second user's own per-test directory, beside $T: launch refuses
	# directories of one user below a directory another user owns.
	T2=$(mktemp -d "$_base/launch-it.$TEST_NAME.u2.XXXXXX") || die "cannot create a directory in $_base"
	chown "$TU2_UID:$TU2_GID" "$T2"
	chmod 0755 "$T2"
	on_exit "rm -rf '$T2'"
}

# require_shared_tmp: a directory like a node's /tmp or a shared scratch
# (root's, mode 1777) where the test user (the victim) and the second user
# (the attacker) both work, as SHARED. Calls require_user2.
require_shared_tmp() {
	require_user2
	SHARED=$T/shared
	mkdir "$SHARED" && chown 0:0 "$SHARED" && chmod 1777 "$SHARED" || die "cannot create $SHARED"
}

# as_user2 CMD...: like as_user, as the second user.
as_user2() {
	env -i HOME="$TU2_HOME" USER="$TU2" LOGNAME="$TU2" PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 \
		LAUNCH_TEST_ID="$TEST_ID" ${LAUNCH_CONFIG:+LAUNCH_CONFIG="$LAUNCH_CONFIG"} \
		setpriv --reuid="$TU2_UID" --regid="$TU2_GID" --init-groups -- "$@"
}

# as_user_bg PIDFILE CMD...: start CMD as the test user in the background
# (stdout/stderr to $T/bg.out, $T/bg.err); PIDFILE receives the pid of CMD
# itself. SIGINT and SIGQUIT get their default action back: a shell without
# job control ignores them in background commands, a terminal would not.
# Sets BG to the pid to `wait_exit` on.
as_user_bg() {
	_pf=$1
	shift
	rm -f "$_pf"
	as_user sh -c 'echo $$ > "$1.tmp" && mv "$1.tmp" "$1"; shift; exec env --default-signal=INT,QUIT "$@"' sh \
		"$_pf" "$@" >"$T/bg.out" 2>"$T/bg.err" &
	BG=$!
	wait_until 10 test -s "$_pf" || die "background command did not start: $*"
	BG_PID=$(cat "$_pf")
}

# ---- launch and the images -------------------------------------------------

: "${LAUNCH:?LAUNCH must be the absolute path of the launch binary under test}"
case $LAUNCH in
/*) ;;
*) die "LAUNCH must be an absolute path, not $LAUNCH" ;;
esac
[ -x "$LAUNCH" ] || die "LAUNCH=$LAUNCH is not an executable file"

# The build directory may be one the test user cannot enter (/root/...):
# then run a copy.
L=$LAUNCH
if ! as_user test -x "$LAUNCH" 2>/dev/null; then
	mkdir -p "$T/bin"
	cp "$LAUNCH" "$T/bin/launch" || die "cannot copy $LAUNCH"
	# launch runs its image helper and its small supervisor from next to itself
	for prog in launch-image launch-supervise; do
		if [ -x "$(dirname "$LAUNCH")/$prog" ]; then
			cp "$(dirname "$LAUNCH")/$prog" "$T/bin/$prog" || die "cannot copy $prog"
		fi
	done
	chmod 0755 "$T/bin" "$T/bin"/*
	L=$T/bin/launch
fi

LAUNCH_TEST_IMAGES=${LAUNCH_TEST_IMAGES:-/var/tmp/launch-test-images}
SQFS=$LAUNCH_TEST_IMAGES/busybox.sqfs
DIRIMG=$LAUNCH_TEST_IMAGES/busybox
if [ ! -f "$SQFS" ] || [ ! -d "$DIRIMG" ]; then
	skip "test images missing in $LAUNCH_TEST_IMAGES (the images fixture runs tests/fixtures/mkimages.sh, which needs busybox-static and squashfs-tools)"
fi
if ! as_user test -r "$SQFS" -a -x "$DIRIMG/bin/busybox" 2>/dev/null; then
	die "the test user $TU cannot read the images in $LAUNCH_TEST_IMAGES (set LAUNCH_TEST_IMAGES_DIR to a world-readable directory and reconfigure)"
fi
IMAGES="$SQFS $DIRIMG"

# img_kind IMAGE: sqfs or dir, for messages.
img_kind() {
	case $1 in
	*.sqfs) echo sqfs ;;
	*) echo dir ;;
	esac
}

# lrun ARGS...: run `launch ARGS...` as the test user; sets rc, out, err.
lrun() {
	capture as_user "$L" "$@"
}

# ---- prerequisites ---------------------------------------------------------

require_root() {
	[ "$IS_ROOT" = 1 ] || skip "needs root for its set-up (${1:-root-owned files})"
}

require_cmd() {
	for _c in "$@"; do
		command -v "$_c" >/dev/null 2>&1 || skip "$_c is not installed"
	done
}

require_userns() {
	require_cmd unshare
	as_user unshare -U -r true >/dev/null 2>&1 ||
		skip "unprivileged user namespaces do not work for $TU (see 'launch doctor')"
}

require_fuse() {
	[ -e /dev/fuse ] || skip "/dev/fuse does not exist"
	as_user test -r /dev/fuse -a -w /dev/fuse ||
		skip "/dev/fuse is not accessible to $TU (run ci/setup-machine.sh, or chmod 0666 /dev/fuse)"
}

# ---- waiting and cleanliness -----------------------------------------------

now_ms() { date +%s%3N; }

# wait_until SECONDS CMD...: poll CMD every 0.05 s; false on timeout.
wait_until() {
	_end=$(($(now_ms) + $1 * 1000))
	shift
	while ! "$@" 2>/dev/null; do
		[ "$(now_ms)" -lt "$_end" ] || return 1
		sleep 0.05
	done
	return 0
}

_exited() {
	[ ! -e "/proc/$1/stat" ] && return 0
	_st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
	[ -z "$_st" ] || [ "$_st" = Z ] || [ "$_st" = X ]
}

# wait_exit PID SECONDS: wait for a background child; sets rc (its exit
# status) and ELAPSED_MS; on timeout kills it, records a failure, rc=timeout.
wait_exit() {
	_t0=$(now_ms)
	if wait_until "$2" _exited "$1"; then
		wait "$1"
		rc=$?
	else
		fail "process $1 still runs after $2 s: killed"
		kill -KILL "$1" 2>/dev/null
		wait "$1" 2>/dev/null
		rc=timeout
	fi
	ELAPSED_MS=$(($(now_ms) - _t0))
}

# children_named PID COMM: pids of the direct children of PID named COMM.
children_named() {
	for _c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		[ "$(cat /proc/"$_c"/comm 2>/dev/null)" = "$2" ] && echo "$_c"
	done
}

# descendant_named PID COMM: true when some descendant of PID is named COMM.
descendant_named() {
	for _c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		[ "$(cat /proc/"$_c"/comm 2>/dev/null)" = "$2" ] && return 0
		descendant_named "$_c" "$2" && return 0
	done
	return 1
}

# The small supervisor (lib/supervise.h) next to the launch under test,
# empty where the build has none (launch then supervises its runs itself).
SMALL_SUP=$(readlink -f "$(dirname "$L")/launch-supervise" 2>/dev/null || true)
[ -x "$SMALL_SUP" ] || SMALL_SUP=
# handed_over PID: launch PID runs as the small supervisor now (at once
# true where there is none).
handed_over() {
	[ -z "$SMALL_SUP" ] && return 0
	[ "$(readlink /proc/"$1"/exe 2>/dev/null)" = "$SMALL_SUP" ]
}
# small_guard PID: the guard of the container that launch PID supervises
# runs as the small supervisor too (its argv names the container's mount
# namespace).
small_guard() {
	[ -z "$SMALL_SUP" ] && return 0
	for _c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		_ns=$(readlink /proc/"$_c"/ns/mnt 2>/dev/null) || continue
		for _g in $(pgrep -x launch-guard); do
			[ "$(readlink /proc/"$_g"/exe 2>/dev/null)" = "$SMALL_SUP" ] &&
				tr '\0' ' ' <"/proc/$_g/cmdline" | grep -qF " $_ns" && return 0
		done
	done
	return 1
}
# pss_kb PID: the memory PID takes (its proportional set size, KiB).
pss_kb() {
	awk '/^Pss:/ { print $2 }' "/proc/$1/smaps_rollup" 2>/dev/null
}

# Processes started through as_user for this test that still exist.
test_processes() {
	grep -lzxsF "LAUNCH_TEST_ID=$TEST_ID" /proc/[0-9]*/environ 2>/dev/null |
		sed 's|/proc/\([0-9]*\)/environ|\1|' | while read -r _p; do
		_exited "$_p" || echo "$_p"
	done
}

# Host mounts that a run could have left: anything under the runtime
# directories, the images, this test's directory, or any squashfuse mount.
leftover_mounts() {
	grep -F -e "/launch-$TU_UID/" -e " /tmp/launch-$TU_UID " -e "$LAUNCH_TEST_IMAGES" -e "$T" \
		-e 'fuse.squashfuse' /proc/self/mountinfo
}

_clean() {
	[ -z "$(leftover_mounts)" ] && [ -z "$(test_processes)" ]
}

# assert_clean WHAT: within a short settle time (5 s), no mount of a run is
# visible on the host and no process of this test is left (launch itself or
# anything that ran in a container).
assert_clean() {
	CHECKS=$((CHECKS + 1))
	if wait_until 5 _clean; then
		pass "$1: nothing left mounted or running"
		return 0
	fi
	_m=$(leftover_mounts)
	_p=$(test_processes)
	fail "$1: left behind after 5 s:${_m:+ mounts [$_m]}${_p:+ processes [$(for _x in $_p; do
		printf '%s:%s ' "$_x" "$(tr '\0' ' ' <"/proc/$_x/cmdline" 2>/dev/null)"
	done)]}"
	for _x in $_p; do kill -KILL "$_x" 2>/dev/null; done
	return 1
}

# A file in $T that the test user owns, made from stdin.
user_file() {
	cat >"$1"
	[ "$IS_ROOT" = 0 ] || chown "$TU_UID:$TU_GID" "$1"
}

user_dir() {
	mkdir -p "$@"
	[ "$IS_ROOT" = 0 ] || chown "$TU_UID:$TU_GID" "$@"
}

say "# $TEST_NAME: launch=$LAUNCH user=$TU (uid $TU_UID) images=$LAUNCH_TEST_IMAGES tmp=$T"
