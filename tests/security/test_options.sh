#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Option values that used to mean something else than what was written:
# an empty --overlay (the current directory) and --writable-size values that
# tmpfs reads as "no limit" (0, or sizes that overflow). Each is refused
# with a message; sane values still work.
. "$(dirname "$0")/../integration/lib.sh"
require_userns
require_fuse
require_user2

lrun run --overlay "" "$SQFS" true
assert_eq 125 "$rc" "--overlay \"\" is refused"
assert_contains "$err" "--overlay needs a directory" "the error says what is missing"
assert_true "nothing was made in the current directory" test ! -e "$T/upper"

for size in 0 0g 17179869184g 18446744073709551615 18446744073709551616k 101% 0% -1 1.5g 2x; do
	lrun run --writable-size "$size" "$SQFS" true
	assert_eq 125 "$rc" "--writable-size $size is refused"
	assert_contains "$err" "invalid --writable-size \`$size\`" "the error names the value $size"
done
assert_contains "$err" "at most 1 EiB" "and gives the limits"

for size in 16m 100% 1048576 1g; do
	lrun run --writable-size "$size" "$SQFS" sh -c 'echo x > /new && cat /new'
	assert_eq x "$out" "--writable-size $size works"
done
lrun run --writable-size 1m "$SQFS" sh -c 'dd if=/dev/zero of=/big bs=1k count=4096 2>&1; true'
assert_contains "$out" "No space left on device" "--writable-size 1m limits the writable layer"

finish
