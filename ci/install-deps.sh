#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Install every package that building launch and running its tests needs, on
# a fresh Debian 12 machine that reaches only the Debian mirror. Run as root.
set -euo pipefail

required=(
	build-essential cmake pkg-config
	libjansson-dev libcap-dev libfuse3-dev fuse3 libsquashfuse-dev squashfuse
	liblzo2-dev liblz4-dev libzstd-dev libdeflate-dev zlib1g-dev liblzma-dev
	squashfs-tools busybox-static file
	libarchive-dev libssl-dev libcurl4-openssl-dev libisal-dev squashfs-tools-ng libseccomp-dev
	docker-registry apache2-utils openssl curl
	python3 zstd debootstrap umoci skopeo
	slurmctld slurmd slurm-client munge libslurm-dev libpmix2
	mpich libmpich-dev openmpi-bin libopenmpi-dev
	uidmap tmux libcap2-bin procps util-linux iproute2
	clang libclang-rt-14-dev
	charliecloud-runtime charliecloud-builders
	go-md2man bash-completion man-db dpkg-dev
)
# Nice to have (benchmarks): dropped with a warning when the mirror lacks it.
optional=(hyperfine)

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps.sh: must run as root" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update

# A package is installable when apt knows a candidate version for it.
available() {
	local cand
	cand=$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ { print $2 }')
	[ -n "$cand" ] && [ "$cand" != "(none)" ]
}

pkgs=()
missing=()
for p in "${required[@]}"; do
	if available "$p"; then pkgs+=("$p"); else missing+=("$p"); fi
done
if [ "${#missing[@]}" -gt 0 ]; then
	echo "install-deps.sh: not available from the configured apt sources: ${missing[*]}" >&2
	exit 1
fi
for p in "${optional[@]}"; do
	if available "$p"; then
		pkgs+=("$p")
	else
		echo "install-deps.sh: warning: optional package $p is not available: skipped" >&2
	fi
done

apt-get install -y --no-install-recommends "${pkgs[@]}"
