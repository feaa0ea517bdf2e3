#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Build the libFuzzer targets of tests/fuzz with clang (ASan + UBSan, in
# build-fuzz) and run each one for LAUNCH_FUZZ_SECONDS (default 60) from a
# copy of its checked-in corpus (tests/fuzz/corpus/NAME stays as it is), with
# its dictionary, a 10 s limit per input and a 2 GiB RSS limit. A crash, leak,
# timeout, out-of-memory or sanitizer report fails the target; its
# reproducer is left under build-fuzz/fuzz-artifacts/NAME and named in the
# summary, and the script exits non-zero when any target failed. The logs are
# build-fuzz/fuzz-run/NAME.log. LAUNCH_FUZZ_JOBS (default 1) targets run at
# a time; LAUNCH_CI_JOBS (default 2) make jobs build them.
set -euo pipefail

cd "$(dirname "$0")/.."
seconds=${LAUNCH_FUZZ_SECONDS:-60}
parallel=${LAUNCH_FUZZ_JOBS:-1}
jobs=${LAUNCH_CI_JOBS:-2}
build="build-fuzz"
targets=(envfile jsonpos mountspec manifest flatten hooks sif)
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

# Debug without NDEBUG and _FORTIFY_SOURCE (whose checked string functions
# ASan does not see into), at -O1 so that the targets run fast enough.
CC=clang cmake -S . -B "$build" -DLAUNCH_FUZZ=ON \
	-DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS_DEBUG='-g -O1'
make -C "$build" -j"$jobs" "${targets[@]/#/fuzz_}"

run="$build/fuzz-run"
artifacts="$build/fuzz-artifacts"
rm -rf "$run" "$artifacts"
mkdir -p "$run"
cat tests/fuzz/json.dict tests/fuzz/manifest.dict >"$run/manifest.dict"

dict_of() {
	case $1 in
	jsonpos | hooks) echo tests/fuzz/json.dict ;;
	manifest) echo "$run/manifest.dict" ;;
	flatten) echo tests/fuzz/flatten.dict ;;
	*) ;;
	esac
}

# Run target $1 and leave its exit status in $run/$1.rc.
fuzz_one() {
	local t=$1 dict rc=0
	dict=$(dict_of "$t")
	cp -r "tests/fuzz/corpus/$t" "$run/$t"
	mkdir -p "$artifacts/$t"
	# (timeout: a last resort should libFuzzer itself not stop)
	timeout -k 10 $((seconds + 120)) "$build/tests/fuzz/fuzz_$t" \
		${dict:+-dict="$dict"} -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$artifacts/$t/" "$run/$t" >"$run/$t.log" 2>&1 || rc=$?
	# with -fno-sanitize-recover every report ends the run; this is a safety net
	if [ "$rc" -eq 0 ] && grep -qE '^==[0-9]+== ?ERROR:|runtime error:|^SUMMARY: [A-Za-z]+Sanitizer' "$run/$t.log"; then
		rc=1
	fi
	echo "$rc" >"$run/$t.rc"
}

report() {
	local t=$1 rc execs cov
	rc=$(cat "$run/$t.rc" 2>/dev/null || echo '(none)')
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$run/$t.log" | tail -n 1)
	cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9]+[a-zA-Z]*' "$run/$t.log" | tail -n 1 || true)
	if [ "$rc" = 0 ]; then
		printf 'fuzz_%s: ok, %s runs (%s)\n' "$t" "${execs:-?}" "${cov:-no coverage line}"
		return 0
	fi
	printf 'fuzz_%s: FAILED (exit status %s) after %s runs; log: %s\n' "$t" "$rc" "${execs:-?}" "$run/$t.log"
	# the report: from its first line on (the stack, the input), at most 60 lines
	awk '/^==[0-9]+== ?ERROR|runtime error:|ALARM:|out-of-memory/ { on = 1 } on' "$run/$t.log" |
		head -n 60 | sed 's/^/  | /'
	local f found=0
	for f in "$artifacts/$t"/*; do
		[ -e "$f" ] || continue
		found=1
		echo "  reproducer: $f (replay: $build/tests/fuzz/fuzz_$t $f)"
	done
	if [ "$found" = 0 ]; then
		echo "  no reproducer written; the end of the log:"
		tail -n 15 "$run/$t.log" | sed 's/^/  | /'
	fi
	return 1
}

echo "ci/fuzz.sh: ${#targets[@]} targets, ${seconds} s each, $parallel at a time"
start=$SECONDS
running=0
for t in "${targets[@]}"; do
	if [ "$running" -ge "$parallel" ]; then
		wait -n || true
		running=$((running - 1))
	fi
	echo "fuzz_$t: running"
	fuzz_one "$t" &
	running=$((running + 1))
done
wait

failed=()
for t in "${targets[@]}"; do
	report "$t" || failed+=("$t")
done
echo "ci/fuzz.sh: $((SECONDS - start)) s of fuzzing"
if [ "${#failed[@]}" -gt 0 ]; then
	echo "ci/fuzz.sh: failed: ${failed[*]}" >&2
	exit 1
fi
