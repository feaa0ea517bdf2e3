# SPDX-License-Identifier: Apache-2.0
# Shared by the benchmarks that run launch from their own directory.

# bench_copy_launch LAUNCH DIR: LAUNCH as DIR/launch, with the small
# supervisor it execs next to it (lib/supervise.h) when the build has one;
# each replaced by a rename, since an image server may still run the old one.
bench_copy_launch() {
	cp "$1" "$2/launch.new" && mv "$2/launch.new" "$2/launch"
	if [ -x "$(dirname "$1")/launch-supervise" ]; then
		cp "$(dirname "$1")/launch-supervise" "$2/launch-supervise.new" &&
			mv "$2/launch-supervise.new" "$2/launch-supervise"
	else
		rm -f "$2/launch-supervise"
	fi
}
