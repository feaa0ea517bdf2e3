#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Build the Debian packages into dist/: launch, launch-slurm and
# launch-hooks (cmake/package.cmake says what each holds), with CPack's DEB
# generator, from a Release build for /usr in build-deb. The SPANK plugin
# goes to Debian's Slurm plugin directory, so that plugstack.conf may name it
# by its file name alone. Needs the build dependencies (ci/install-deps.sh)
# and dpkg-dev; no root.
# Environment: LAUNCH_PACKAGE_BUILD (build directory, default build-deb),
# LAUNCH_CI_JOBS (make -j, default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${LAUNCH_PACKAGE_BUILD:-build-deb}
jobs=${LAUNCH_CI_JOBS:-2}
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
	-DLAUNCH_MAN_PAGES=ON -DBUILD_TESTING=OFF \
	-DLAUNCH_SLURM_PLUGINDIR="/usr/lib/$multiarch/slurm-wlm"
make -C "$build" -j"$jobs"
rm -rf "$build/dist"
(cd "$build" && cpack -G DEB)
mkdir -p dist
rm -f dist/launch_*.deb dist/launch-slurm_*.deb dist/launch-hooks_*.deb
cp "$build"/dist/*.deb dist/
for deb in dist/*.deb; do
	printf '%s: %s\n' "$deb" "$(dpkg-deb -f "$deb" Depends)"
done
