#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Prepare a CI or development machine for the integration tests: an
# unprivileged test user, a /dev/fuse that users may open, and a
# world-readable directory for the test images. Run as root; idempotent.
set -euo pipefail

user=${LAUNCH_TEST_USER:-launchtest}
user2=${LAUNCH_TEST_USER2:-launchtest2}
images=${LAUNCH_TEST_IMAGES_DIR:-/var/tmp/launch-test-images}

if [ "$(id -u)" -ne 0 ]; then
	echo "setup-machine.sh: must run as root" >&2
	exit 1
fi

# useradd gives the new user /etc/subuid and /etc/subgid ranges.
if ! id -u "$user" >/dev/null 2>&1; then
	useradd -m -s /bin/sh "$user"
	echo "setup-machine.sh: created user $user"
fi
# A second user without subordinate ranges, as on many clusters: for the
# tests that another user is kept out, and of --root without /etc/subuid.
if ! id -u "$user2" >/dev/null 2>&1; then
	useradd -m -s /bin/sh "$user2"
	echo "setup-machine.sh: created user $user2"
fi
for f in /etc/subuid /etc/subgid; do
	[ -f "$f" ] && sed -i "/^$user2:/d" "$f"
done
for u in "$user" "$user2"; do
	home=$(getent passwd "$u" | cut -d: -f6)
	if [ -n "$home" ] && [ ! -d "$home" ]; then
		mkdir -p "$home"
		chown "$u:" "$home"
		chmod 0755 "$home"
	fi
done

# /dev/fuse is 0600 on these machines; FUSE in a user namespace needs 0666.
if [ ! -e /dev/fuse ]; then
	modprobe fuse 2>/dev/null || true
fi
if [ ! -e /dev/fuse ]; then
	mknod -m 0666 /dev/fuse c 10 229
fi
chmod 0666 /dev/fuse

mkdir -p "$images"
chmod 0755 "$images"

echo "setup-machine.sh: test users $user (uid $(id -u "$user")) and $user2 (uid $(id -u "$user2"), no subordinate ids), /dev/fuse $(stat -c %a /dev/fuse), images in $images"
