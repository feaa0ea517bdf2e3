#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The NVIDIA GPU hook (hooks/gpu) on a fake driver tree
# (tests/fixtures/mkfakegpu.sh: tiny libraries of driver 535.104.05 and a
# stale 530.30.02 one, a fake nvidia-smi, three GPUs whose PCI order is not
# their minor order, device nodes made with mknod), with the example hook file
# etc/hooks.d/nvidia.json pointed at it, and the Debian image: nvidia-smi runs
# through the container's linker cache; the device nodes of the GPUs chosen by
# CUDA_VISIBLE_DEVICES, a UUID in NVIDIA_VISIBLE_DEVICES, SLURM_STEP_GPUS,
# none, all and void; the stale library left out; nothing without --gpu;
# the errors for an unknown GPU and a node without driver; gpu_auto;
# --writable and --overlay (twice); nothing left behind.
. "$(dirname "$0")/lib.sh"
require_root "mknod for the fake driver's device nodes, and root-owned hook files"
require_userns
require_fuse
require_cmd gcc mknod
: "${LAUNCH_SOURCE_DIR:?LAUNCH_SOURCE_DIR must be the source tree}"
[ -n "${LAUNCH_HOOK_GPU:-}" ] && [ -x "$LAUNCH_HOOK_GPU" ] ||
	die "LAUNCH_HOOK_GPU must be the launch-hook-gpu program (built with the tests)"
LDCONFIG=/sbin/ldconfig
[ -x "$LDCONFIG" ] || skip "$LDCONFIG is missing"
DEB=$LAUNCH_TEST_IMAGES/debian
[ -d "$DEB/debian-oci" ] || skip "Debian fixtures missing in $DEB (the debian test makes them)"

V=535.104.05
UUID_81=GPU-11111111-2222-3333-4444-000000000081
FAKE=$T/driver
sh "$LAUNCH_SOURCE_DIR/tests/fixtures/mkfakegpu.sh" "$FAKE" >"$T/mkfakegpu.log" 2>&1 ||
	die "mkfakegpu.sh failed: $(tail -n 5 "$T/mkfakegpu.log")"

# The hook program and its files, root-owned; the files are the example
# with the fake driver root.
HB=$T/hookbin
mkdir -p "$HB" "$T/hooks.d" "$T/nodriver.d" "$T/nodriver"
chmod 0755 "$HB" "$T/hooks.d" "$T/nodriver.d" "$T/nodriver"
cp "$LAUNCH_HOOK_GPU" "$HB/launch-hook-gpu" && chmod 0755 "$HB/launch-hook-gpu"
# hook_file DIR DRIVER_ROOT
hook_file() {
	sed -e "s|\"[^\"]*/launch-hook-gpu\"|\"$HB/launch-hook-gpu\"|" \
		-e "s|\"NVIDIA_DRIVER_ROOT=/\"|\"NVIDIA_DRIVER_ROOT=$2\"|" \
		"$LAUNCH_SOURCE_DIR/etc/hooks.d/nvidia.json.in" >"$1/nvidia.json"
	chmod 0644 "$1/nvidia.json"
	grep -q "NVIDIA_DRIVER_ROOT=$2\"" "$1/nvidia.json" || die "cannot adapt etc/hooks.d/nvidia.json.in"
}
hook_file "$T/hooks.d" "$FAKE"
hook_file "$T/nodriver.d" "$T/nodriver"
# cfg NAME JSON: a root-owned site config
cfg() {
	printf '%s\n' "$2" >"$T/$1.json"
	chmod 0644 "$T/$1.json"
}
cfg site "{\"hooks_dirs\": [\"$T/hooks.d\"]}"
cfg nodriver "{\"hooks_dirs\": [\"$T/nodriver.d\"]}"
cfg auto "{\"hooks_dirs\": [\"$T/hooks.d\"], \"gpu_auto\": true}"
LAUNCH_CONFIG=$T/site.json

DATA=$T/data
user_dir "$DATA"
# lg [NAME=VALUE...] -- LAUNCH-ARGS: launch as the test user with its own
# store; the NAME=VALUE pairs go into launch's (the host's) environment.
lg() {
	_env=
	while [ "$1" != -- ]; do
		_env="$_env $1"
		shift
	done
	shift
	# shellcheck disable=SC2086 # the pairs hold no spaces
	capture as_user env XDG_DATA_HOME="$DATA" $_env "$L" "$@"
}
lg -- -q import "$DEB/debian-oci" debian
[ "$rc" = 0 ] || die "cannot import the Debian image: $err"

# The device nodes of /dev whose name has nvidia, as "c MAJOR,MINOR NAME;"
# sorted; want_devs MINOR... is the control devices and /dev/nvidiaMINOR.
LSDEV='ls -l /dev | awk '\''/nvidia/ { print substr($1, 1, 1), $5 $6, $NF }'\'''
devs() { printf '%s\n' "$out" | LC_ALL=C sort | tr '\n' ';'; }
want_devs() {
	{
		echo "c 195,255 nvidiactl"
		echo "c 509,0 nvidia-uvm"
		echo "c 509,1 nvidia-uvm-tools"
		for _m in "$@"; do echo "c 195,$_m nvidia$_m"; done
	} | LC_ALL=C sort | tr '\n' ';'
}

say "# nvidia-smi runs with the driver's libraries through the container's linker cache"
lg -- run --gpu debian nvidia-smi
assert_eq 0 "$rc" "launch run --gpu debian nvidia-smi succeeds"
assert_eq "NVIDIA-SMI fake $V" "$out" "nvidia-smi loads libnvidia-ml of the driver's version"
lg -- run --gpu debian sh -c 'ldconfig -p; ls -l /usr/local/lib/launch/gpu; command -v nvidia-debugdump'
assert_match "$out" "^[[:space:]]libcuda\.so\.1 \(libc6,x86-64\) => /usr/local/lib/launch/gpu/libcuda\.so\.1$" \
	"ldconfig -p in the container lists libcuda.so.1 in /usr/local/lib/launch/gpu"
assert_match "$out" "libcuda\.so\.1 -> libcuda\.so\.$V$" "libcuda.so.1 is a link to libcuda.so.$V"
assert_match "$out" "libcuda\.so -> libcuda\.so\.1$" "libcuda.so is a link to libcuda.so.1"
assert_match "$out" "libnvidia-ml\.so\.1 -> libnvidia-ml\.so\.$V$" "libnvidia-ml.so.1 is a link to the driver's version"
assert_match "$out" " libnvidia-gpucomp\.so\.$V$" "a library whose soname is its full name is there"
assert_not_contains "$out" "530.30.02" "the stale libnvidia-ml.so.530.30.02 is not taken"
assert_not_contains "$out" "libnvidia-unrelated" "a library not of the driver's list is not taken"
assert_contains "$out" "/usr/local/bin/nvidia-debugdump" "nvidia-debugdump is bound into /usr/local/bin"
lg -- run --gpu debian sh -c 'touch /usr/local/lib/launch/gpu/libcuda.so.1 2>&1 || echo read-only'
assert_contains "$out" "read-only" "the libraries are read-only in the container"

say "# the device nodes of the visible GPUs (PCI order 0000:01 minor 2, 0000:41 minor 0, 0000:81 minor 1)"
lg -- run --gpu -e CUDA_VISIBLE_DEVICES=1 debian sh -c "$LSDEV"
assert_eq "$(want_devs 0)" "$(devs)" "CUDA_VISIBLE_DEVICES=1: the second GPU in PCI order, /dev/nvidia0"
lg -- run --gpu -e NVIDIA_VISIBLE_DEVICES=$UUID_81 debian sh -c "$LSDEV"
assert_eq "$(want_devs 1)" "$(devs)" "NVIDIA_VISIBLE_DEVICES=UUID of 0000:81:00.0: /dev/nvidia1"
lg SLURM_STEP_GPUS=0 SLURM_JOB_GPUS=0,1,2 CUDA_VISIBLE_DEVICES=1 -- run --gpu debian sh -c "$LSDEV"
assert_eq "$(want_devs 2)" "$(devs)" "SLURM_STEP_GPUS=0 from the host comes before SLURM_JOB_GPUS and CUDA_VISIBLE_DEVICES: /dev/nvidia2"
lg SLURM_JOB_GPUS=1,2 -- run --gpu debian sh -c "$LSDEV"
assert_eq "$(want_devs 0 1)" "$(devs)" "SLURM_JOB_GPUS=1,2: /dev/nvidia0 and /dev/nvidia1"
lg -- run --gpu -e NVIDIA_VISIBLE_DEVICES=none debian sh -c "$LSDEV; ls /usr/local/lib/launch/gpu/libcuda.so.1"
assert_eq 0 "$rc" "NVIDIA_VISIBLE_DEVICES=none succeeds"
assert_not_contains "$out" " nvidia0" "NVIDIA_VISIBLE_DEVICES=none: no /dev/nvidiaN"
assert_contains "$out" "nvidiactl" "NVIDIA_VISIBLE_DEVICES=none: the control device is there"
assert_contains "$out" "/usr/local/lib/launch/gpu/libcuda.so.1" "NVIDIA_VISIBLE_DEVICES=none: the libraries are there"
lg -- run --gpu -e NVIDIA_VISIBLE_DEVICES=all debian sh -c "$LSDEV"
assert_eq "$(want_devs 0 1 2)" "$(devs)" "NVIDIA_VISIBLE_DEVICES=all: every GPU"
lg -- run --gpu debian sh -c "$LSDEV"
assert_eq "$(want_devs 0 1 2)" "$(devs)" "no variable set: every GPU"
lg -- run --gpu -e NVIDIA_VISIBLE_DEVICES=void debian sh -c "$LSDEV; ls -d /usr/local/lib/launch /usr/local/bin/nvidia-smi 2>/dev/null; true"
assert_eq 0 "$rc" "NVIDIA_VISIBLE_DEVICES=void succeeds"
assert_eq "" "$out" "NVIDIA_VISIBLE_DEVICES=void: the hook does nothing"

say "# without --gpu, nothing of the driver"
lg CUDA_VISIBLE_DEVICES=1 -- run debian sh -c "$LSDEV; test -e /usr/local/lib/launch || echo no-dir; command -v nvidia-smi || echo no-smi; ldconfig -p | grep -c libcuda; true"
assert_eq 0 "$rc" "a run without --gpu succeeds"
assert_eq "no-dir
no-smi
0" "$out" "without --gpu: no device node, no /usr/local/lib/launch, no nvidia-smi, no libcuda in the linker cache"

say "# errors"
lg -- run --gpu -e CUDA_VISIBLE_DEVICES=0,7 debian true
assert_eq 125 "$rc" "an unknown GPU index: exit status 125"
assert_contains "$err" "CUDA_VISIBLE_DEVICES=0,7: this node has no GPU 7; its 3 GPUs are 0: 0000:01:00.0 GPU-" \
	"an unknown GPU index: the message names it and the node's GPUs"
assert_contains "$err" ", 2: 0000:81:00.0 $UUID_81" "an unknown GPU index: the message lists every GPU"
lg -- run --gpu -e NVIDIA_VISIBLE_DEVICES=GPU-deadbeef debian true
assert_eq 125 "$rc" "an unknown GPU UUID: exit status 125"
assert_contains "$err" "this node has no GPU GPU-deadbeef" "an unknown GPU UUID: the message names it"
lg -- run --gpu -e NVIDIA_VISIBLE_DEVICES=zero debian true
assert_eq 125 "$rc" "an invalid list: exit status 125"
assert_contains "$err" "\`zero\` is neither a GPU index nor a GPU UUID" "an invalid list: the message says why"
LAUNCH_CONFIG=$T/nodriver.json
lg -- run --gpu debian true
assert_eq 125 "$rc" "a node without driver: exit status 125"
assert_contains "$err" "no NVIDIA driver on this node ($T/nodriver/dev/nvidiactl: No such file or directory): run without --gpu or on a GPU node" \
	"a node without driver: the message says so"
lg -- run debian true
assert_eq 0 "$rc" "a node without driver: runs without --gpu are not concerned"
LAUNCH_CONFIG=$T/site.json

say "# gpu_auto: CUDA_VISIBLE_DEVICES or NVIDIA_VISIBLE_DEVICES turn the hook on"
LAUNCH_CONFIG=$T/auto.json
lg CUDA_VISIBLE_DEVICES=2 -- run debian sh -c "$LSDEV"
assert_eq 0 "$rc" "gpu_auto with CUDA_VISIBLE_DEVICES=2 succeeds"
assert_eq "$(want_devs 1)" "$(devs)" "gpu_auto: CUDA_VISIBLE_DEVICES=2 from the host gives the third GPU without --gpu"
lg -- run -e NVIDIA_VISIBLE_DEVICES=0 debian nvidia-smi
assert_eq "NVIDIA-SMI fake $V" "$out" "gpu_auto: NVIDIA_VISIBLE_DEVICES=0 (--env) gives nvidia-smi without --gpu"
lg -- run debian sh -c "$LSDEV"
assert_eq "" "$out" "gpu_auto: no variable, no GPU"
lg CUDA_VISIBLE_DEVICES= -- run debian sh -c "$LSDEV"
assert_eq "" "$out" "gpu_auto: an empty CUDA_VISIBLE_DEVICES, no GPU"
lg NVIDIA_VISIBLE_DEVICES=void -- run debian sh -c "$LSDEV"
assert_eq "" "$out" "gpu_auto: NVIDIA_VISIBLE_DEVICES=void, no GPU"
LAUNCH_CONFIG=$T/site.json

say "# writable containers"
lg -- run --gpu --writable debian sh -c 'nvidia-smi && ldconfig -p | grep -c "libcuda.so.1 .*/usr/local/lib/launch/gpu/"'
assert_eq "NVIDIA-SMI fake $V
1" "$out" "--writable: nvidia-smi runs, the cache (rewritten in the upper layer) lists libcuda.so.1"
user_dir "$T/overlay"
for n in 1 2; do
	lg -- run --gpu --overlay "$T/overlay" debian nvidia-smi
	assert_eq "NVIDIA-SMI fake $V" "$out" "--overlay DIR, run $n: nvidia-smi runs (the links of run 1 are kept)"
done
lg -- run --overlay "$T/overlay" debian sh -c "$LSDEV"
assert_eq "" "$out" "--overlay DIR without --gpu: no device node"

assert_clean "the GPU hook's runs"
finish
