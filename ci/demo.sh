#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Quick start on a fresh Debian 12 machine, as root: install the build
# dependencies, build and install launch, build a small demo image from
# Debian's busybox-static, and start a container from it as an ordinary user
# (LAUNCH_DEMO_USER, default: the user who ran sudo, else `launchdemo`).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
	echo "ci/demo.sh: run as root (sudo bash ci/demo.sh): it installs packages" >&2
	exit 1
fi
bash ci/install-deps.sh
bash ci/setup-machine.sh

cmake -S . -B build -DCMAKE_INSTALL_PREFIX=/usr/local
make -C build -j"$(nproc)"
cmake --install build

user=${LAUNCH_DEMO_USER:-${SUDO_USER:-launchdemo}}
if [ "$user" = root ] || ! id -u "$user" >/dev/null 2>&1; then
	user=launchdemo
	id -u "$user" >/dev/null 2>&1 || useradd -m -s /bin/sh "$user"
fi
images=/var/tmp/launch-demo
tests/fixtures/mkimages.sh "$images" >/dev/null
chmod 0755 "$images"

as_user() {
	env -i HOME="$(getent passwd "$user" | cut -d: -f6)" USER="$user" LOGNAME="$user" \
		PATH=/usr/local/bin:/usr/bin:/bin TERM="${TERM:-dumb}" \
		setpriv --reuid="$user" --regid="$user" --init-groups -- "$@"
}

echo
echo "== launch doctor (as $user)"
as_user launch doctor || true
echo
echo "== launch run $images/busybox.sqfs hello (as $user)"
as_user launch run "$images/busybox.sqfs" hello
as_user launch run "$images/busybox.sqfs" sh -c 'echo "inside: $(id)"; grep -E "^(CapEff|NoNewPrivs)" /proc/self/status'
echo
echo "Try it yourself as $user:  launch run $images/busybox.sqfs /bin/sh"
