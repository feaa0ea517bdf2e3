#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Smoke test of the Debian packages, as root on a machine set up by
# ci/setup-machine.sh: build them (ci/package.sh), install them with apt-get,
# run the installed /usr/bin/launch (doctor, a container from a busybox
# image, an import into the store and a run by name) as the test user, check
# the plugin is where plugstack.conf.example says, the hook files name
# programs that exist, the man pages and the completion are found; then purge
# the packages and check that nothing of them is left, and that what the
# admin put in /etc/launch stays. An /etc/launch that is already here (an
# install from source, an admin's files) is moved aside for the test, so
# dpkg meets no conffile of another origin, and put back afterwards. The
# machine is left as it was found: the
# packages apt pulled in for ours are purged too, and every file made here
# is removed, also when a check fails. Where launch's packages are installed
# already, the built ones are installed over them (an upgrade) and stay.
# Environment: LAUNCH_TEST_USER (default launchtest).
set -euo pipefail
cd "$(dirname "$0")/.."
user=${LAUNCH_TEST_USER:-launchtest}
pkgs=(launch launch-slurm launch-hooks)

if [ "$(id -u)" -ne 0 ]; then
	echo "package-test.sh: must run as root (it installs and purges packages)" >&2
	exit 1
fi
id -u "$user" >/dev/null 2>&1 || {
	echo "package-test.sh: test user $user does not exist (run ci/setup-machine.sh)" >&2
	exit 1
}
# known to dpkg in any state but not-installed (config-files included)
pkg_present() { dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null | grep -qv '^not-installed$'; }
# Where the site runs launch from its packages already, the test upgrades
# them to the ones built here and leaves them installed: the purge and what
# it must leave are not checked then (they are on a machine without them).
upgrade=0
for p in "${pkgs[@]}"; do
	if pkg_present "$p"; then
		upgrade=1
	fi
done
if [ "$upgrade" = 1 ]; then
	echo "package-test.sh: launch's packages are installed here: testing an upgrade to the ones built now," \
		"which stay installed (no purge)"
fi

failures=0
fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}
ok() { echo "ok: $*"; }
check() { # check WHAT CMD...
	local what=$1
	shift
	if "$@"; then ok "$what"; else fail "$what"; fi
}

installed_packages() { dpkg-query -W -f='${db:Status-Status} ${Package}\n' | awk '$1 == "installed" { print $2 }' | sort; }
before_pkgs=$(installed_packages)
T=$(mktemp -d /var/tmp/launch-package-test.XXXXXX)
chmod 0755 "$T"
saved_etc=
if [ "$upgrade" = 0 ] && { [ -e /etc/launch ] || [ -L /etc/launch ]; }; then
	saved_etc=/etc/.launch.moved-aside-by-package-test.$$
	before_etc=$(find /etc/launch -printf '%p %m %s %T@\n' 2>/dev/null | sort || true)
	mv -T /etc/launch "$saved_etc"
	echo "package-test.sh: /etc/launch moved aside to $saved_etc for the test"
fi

# Purge ours and whatever apt installed for them, remove what the test made.
purged=0
purge() {
	[ "$purged" = 1 ] || [ "$upgrade" = 1 ] && return 0
	purged=1
	local ours=() p extra
	for p in "${pkgs[@]}"; do
		pkg_present "$p" && ours+=("$p")
	done
	if [ "${#ours[@]}" -gt 0 ]; then
		DEBIAN_FRONTEND=noninteractive apt-get purge -y -q -o DPkg::Lock::Timeout=300 "${ours[@]}" >"$T/purge.log" 2>&1 ||
			{ cat "$T/purge.log"; fail "apt-get purge ${ours[*]}"; }
	fi
	extra=$(comm -13 <(printf '%s\n' "$before_pkgs") <(installed_packages))
	if [ -n "$extra" ]; then
		echo "package-test.sh: purging what apt installed for the packages: $extra"
		# shellcheck disable=SC2086
		DEBIAN_FRONTEND=noninteractive apt-get purge -y -q -o DPkg::Lock::Timeout=300 $extra >>"$T/purge.log" 2>&1 ||
			fail "apt-get purge $extra"
	fi
}
# The test's /etc/launch goes; the one moved aside, if any, comes back.
etc_restored=0
restore_etc() {
	[ "$etc_restored" = 1 ] || [ "$upgrade" = 1 ] && return 0
	etc_restored=1
	rm -rf /etc/launch
	if [ -n "$saved_etc" ]; then
		mv -T "$saved_etc" /etc/launch
	fi
}
cleanup() {
	purge || true
	restore_etc
	rm -rf "$T"
}
trap cleanup EXIT

as_user() {
	env -i HOME="$(getent passwd "$user" | cut -d: -f6)" USER="$user" LOGNAME="$user" \
		PATH=/usr/bin:/bin LANG=C.UTF-8 XDG_DATA_HOME="$T/data" \
		setpriv --reuid="$user" --regid="$user" --init-groups -- "$@"
}

echo "== build (ci/package.sh)"
start=$(date +%s)
bash ci/package.sh >"$T/package.log" 2>&1 || {
	tail -n 40 "$T/package.log"
	echo "FAIL: ci/package.sh"
	exit 1
}
echo "ci/package.sh: $(($(date +%s) - start)) s"
ls -l dist/*.deb

echo "== install"
debs=()
for p in "${pkgs[@]}"; do
	debs+=("$(ls dist/"${p}"_*.deb)")
done
# an upgrade keeps the site's changes to the example files (confold)
DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=300 --no-install-recommends \
	-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${debs[@]/#/./}" </dev/null >"$T/install.log" 2>&1 || {
	cat "$T/install.log"
	echo "FAIL: apt-get install ./dist/*.deb"
	exit 1
}
check "/usr/bin/launch is installed" test -x /usr/bin/launch
check "the image helper is installed" test -x /usr/libexec/launch/launch-image

echo "== the installed launch, as $user"
tests/fixtures/mkimages.sh "$T" >/dev/null
install -d -o "$user" -m 0700 "$T/data"
check "launch doctor as $user" as_user /usr/bin/launch doctor
out=$(as_user /usr/bin/launch run "$T/busybox.sqfs" hello 2>&1) || true
check "launch run busybox.sqfs hello as $user [$out]" test "$out" = "hello from launch-test-image as $user (uid $(id -u "$user"))"
check "launch import (the helper in /usr/libexec/launch)" as_user /usr/bin/launch -q import "$T/busybox.sqfs" pkgtest:1
out=$(as_user /usr/bin/launch run pkgtest:1 cat /etc/image-marker 2>&1) || true
check "launch run of the stored image by name [$out]" test "$out" = launch-test-image
if [ "$(dpkg --print-architecture)" = amd64 ] || [ "$(dpkg --print-architecture)" = arm64 ]; then
	check "the small supervisor is installed" test -x /usr/libexec/launch/launch-supervise
	as_user /usr/bin/launch run "$T/busybox.sqfs" sleep 3 >/dev/null 2>&1 &
	bg=$! # the subshell of as_user: launch runs below it
	sup=
	for _ in $(seq 50); do
		sup=$(pgrep -u "$user" -f "^launch-supervise S1 " | head -1 || true)
		[ -z "$sup" ] || break
		sleep 0.1
	done
	check "a running container is left to /usr/libexec/launch/launch-supervise" \
		test -n "$sup" -a "$(readlink "/proc/${sup:-0}/exe" 2>/dev/null)" = /usr/libexec/launch/launch-supervise
	wait "$bg"
	check "and ends with its command's status" test $? = 0
fi

echo "== files"
plugin=$(awk '$1 == "required" || $1 == "optional" { print $2; exit }' /etc/launch/plugstack.conf.example)
check "plugstack.conf.example names the installed plugin ($plugin)" test -f "$plugin"
check "the plugin belongs to launch-slurm" sh -c "dpkg -S '$plugin' | grep -q '^launch-slurm:'"
for f in /usr/share/launch/hooks.d/*.json; do
	hook=$(sed -n 's/.*"path": *"\([^"]*\)".*/\1/p' "$f")
	check "$f names an installed hook program ($hook)" test -x "$hook"
done
runtime=$(sed -n 's/^RunTimeRun="\([^ ]*\) .*/\1/p' /etc/launch/oci.conf.example)
check "oci.conf.example runs the installed launch ($runtime)" test "$runtime" = /usr/bin/launch
check "man -w launch-run finds the page" test "$(MANPATH=/usr/share/man man -w launch-run)" = /usr/share/man/man1/launch-run.1
check "man launch-logout shows launch-login(1)" \
	sh -c 'MANPATH=/usr/share/man MANWIDTH=80 man launch-logout 2>/dev/null | grep -q "launch-login, launch-logout"'
bcdir=$(pkg-config --variable=completionsdir bash-completion 2>/dev/null || echo /usr/share/bash-completion/completions)
check "the completion is in $bcdir and defines it for launch" \
	bash -c ". '$bcdir/launch' && complete -p launch | grep -q _launch"

if [ "$upgrade" = 1 ]; then
	if [ "$failures" -gt 0 ]; then
		echo "package-test.sh: $failures checks failed"
		exit 1
	fi
	echo "package-test.sh: all checks passed (an upgrade: the packages stay installed)"
	exit 0
fi

echo "== purge"
# What an admin makes in /etc/launch is theirs: it must survive the purge.
echo '{}' >/etc/launch/launch.json
purge
for p in "${pkgs[@]}"; do
	check "$p is purged" eval "! pkg_present $p"
done
left=$(ls -d /usr/bin/launch /usr/libexec/launch /usr/share/launch /usr/share/man/man1/launch*.1 \
	"$bcdir/launch" "$plugin" /usr/share/doc/launch 2>/dev/null || true)
check "nothing of the packages is left [$left]" test -z "$left"
left=$(find /etc/launch -mindepth 1 -printf '%P ' 2>&1)
check "/etc/launch keeps only the admin's launch.json [$left]" test "$left" = "launch.json "
if [ -n "$saved_etc" ]; then
	restore_etc
	after_etc=$(find /etc/launch -printf '%p %m %s %T@\n' 2>/dev/null | sort || true)
	check "/etc/launch that was here is back as it was" test "$before_etc" = "$after_etc"
fi
check "the installed packages are those from before" test "$before_pkgs" = "$(installed_packages)"

if [ "$failures" -gt 0 ]; then
	echo "package-test.sh: $failures checks failed"
	exit 1
fi
echo "package-test.sh: all checks passed"
