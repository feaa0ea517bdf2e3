#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The one command that runs every test: install the dependencies and set the
# machine up (as root), check the formatting (.clang-format), then build
# and test these configurations:
#   build-clang    clang, warnings as errors; build only
#   build-ci       warnings as errors; unit, integration, security and Slurm
#                  tests (a Slurm cluster started and stopped by the tests: one
#                  node, and 4 nodes in namespaces of their own)
#   build-asan     AddressSanitizer + UBSan; unit tests
#   build-fuzz     clang, libFuzzer + ASan + UBSan; each target in tests/fuzz
#                  fuzzed for LAUNCH_FUZZ_SECONDS (60) from its corpus (ci/fuzz.sh)
#   build-extsqfs  the external squashfuse binary instead of the built-in server;
#                  the integration tests that mount squashfs images
#   build-deb      the Debian packages (ci/package.sh), installed, run as the
#                  test user and purged (ci/package-test.sh; as root only)
# Stops at the first failure, so the log ends with the failing ctest summary.
# LAUNCH_SKIP_INSTALL=1 skips apt-get; CI=true turns test skips into failures.
set -euo pipefail

cd "$(dirname "$0")/.."
jobs=${LAUNCH_CI_JOBS:-2}

if [ "$(id -u)" -eq 0 ]; then
	if [ "${LAUNCH_SKIP_INSTALL:-0}" != 1 ]; then
		bash ci/install-deps.sh
	fi
	bash ci/setup-machine.sh
else
	echo "ci/test.sh: not root: dependencies and machine set-up are not checked;" \
		"the integration tests run as $(id -un)" >&2
fi

if [ "${CI:-}" = true ]; then
	export LAUNCH_TEST_MUST_WORK=1
fi
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

section() { printf '\n===== %s =====\n' "$*"; }

# Each build reads its site config from a directory of its own (absent
# unless a test makes it), never the machine's /etc/launch: the tests then
# pass whether or not launch is installed here.
sysconf() { printf '%s' "-DLAUNCH_SYSCONFDIR=$PWD/$1/test-sysconf"; }

section "format and clang: .clang-format, -DLAUNCH_WERROR=ON with clang"
find lib launcher supervise image-manager spank-plugin hooks tests bench -name '*.[ch]' -print0 |
	xargs -0 clang-format --dry-run --Werror
CC=clang cmake -S . -B build-clang -DLAUNCH_WERROR=ON "$(sysconf build-clang)"
make -C build-clang -j"$jobs"

section "build-ci: -DLAUNCH_WERROR=ON, unit, integration, security, Slurm and multi-node Slurm tests"
cmake -S . -B build-ci -DLAUNCH_WERROR=ON "$(sysconf build-ci)"
make -C build-ci -j"$jobs"
(cd build-ci && ctest --output-on-failure -L 'unit|integration|security|slurm|slurm-multinode')

section "build-asan: -DLAUNCH_SANITIZE=ON, unit tests"
cmake -S . -B build-asan -DLAUNCH_WERROR=ON -DLAUNCH_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug "$(sysconf build-asan)"
make -C build-asan -j"$jobs"
(cd build-asan && ctest --output-on-failure -L unit)

section "build-fuzz: -DLAUNCH_FUZZ=ON (clang), each fuzz target for ${LAUNCH_FUZZ_SECONDS:-60} s"
bash ci/fuzz.sh

section "build-extsqfs: -DLAUNCH_SQUASHFUSE_LL=OFF, squashfs integration tests"
cmake -S . -B build-extsqfs -DLAUNCH_WERROR=ON -DLAUNCH_SQUASHFUSE_LL=OFF "$(sysconf build-extsqfs)"
make -C build-extsqfs -j"$jobs" launch launch-image-helper
(cd build-extsqfs && ctest --output-on-failure -L integration \
	-R '^integration\.(images|squashfs|identity|mounts|exit|doctor|sif)$')

section "build-deb: Debian packages built, installed, run and purged (ci/package-test.sh)"
if [ "$(id -u)" -eq 0 ]; then
	bash ci/package-test.sh
else
	echo "ci/test.sh: not root: the package test (ci/package-test.sh) is skipped" >&2
fi
