#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# launch build as an unprivileged user, in both --root modes (the test
# user has subordinate ids, the second user has none: the seccomp fake
# root). For each: a Debian image with apt-get install -y cowsay from the
# Debian mirror and COPY from the context (.dockerignore honoured), run;
# a rebuild from the cache (every step CACHED, no RUN executed); a changed
# COPY source reruns only from that step on. With subordinate ids also: a
# two-stage build that compiles a static C program with gcc (installed from
# the mirror in the build) and copies only the binary into the busybox
# image; --target and --build-arg; errors with FILE:LINE; launch df and
# launch prune of the build cache.
. "$(dirname "$0")/lib.sh"
require_userns
require_fuse
require_root "a second user for the seccomp mode"
require_user2
require_cmd newuidmap newgidmap
DEB=$LAUNCH_TEST_IMAGES/debian
BB=$LAUNCH_TEST_IMAGES/busybox.sqfs
[ -d "$DEB/debian-oci" ] || skip "Debian fixtures missing in $DEB (the debian test makes them)"
[ -f "$BB" ] || skip "busybox.sqfs missing in $LAUNCH_TEST_IMAGES"
grep -q "^$TU:" /etc/subuid || skip "$TU has no /etc/subuid range (ci/setup-machine.sh gives it one)"

# the steps that say CACHED, of a build's output
cached() { printf '%s\n' "$1" | grep -c -- '^--> CACHED$'; }

for who in subids seccomp; do
	if [ $who = subids ]; then
		run_as=as_user
		D=$T/$who
		uid=$TU_UID
		gid=$TU_GID
	else
		run_as=as_user2
		D=$T2/$who
		uid=$TU2_UID
		gid=$TU2_GID
	fi
	mkdir -p "$D/data" "$D/ctx/app"
	chown -R "$uid:$gid" "$D"
	lr() { capture $run_as env XDG_DATA_HOME="$D/data" "$L" "$@"; }
	lr -q import "$DEB/debian-oci" debian
	assert_eq 0 "$rc" "$who: import the Debian image"

	say "# $who: apt-get install and COPY"
	cat >"$D/ctx/Containerfile" <<'EOF'
# syntax=docker/dockerfile:1
FROM debian
ARG PKG=cowsay
RUN apt-get update && \
    apt-get install -y $PKG
COPY motd.txt /etc/motd.txt
COPY app/ /opt/app/
CMD ["/usr/games/cowsay", "built"]
EOF
	echo first >"$D/ctx/motd.txt"
	echo code >"$D/ctx/app/main.c"
	echo key >"$D/ctx/app/private.secret"
	printf '# not for the image\napp/*.secret\n' >"$D/ctx/.dockerignore"
	chown -R "$uid:$gid" "$D"
	lr build -t cow "$D/ctx"
	assert_eq 0 "$rc" "$who: the build succeeds"
	assert_contains "$out" "STEP 1/6: FROM debian" "$who: steps are numbered"
	assert_contains "$out" "STEP 3/6: RUN apt-get update" "$who: the RUN step is shown"
	assert_contains "$out" "Setting up cowsay" "$who: apt-get's output is shown"
	assert_match "$out" '^sha256:[0-9a-f]{64}$' "$who: the image digest is printed"
	assert_not_contains "$out$err" "E: " "$who: apt reports no error"
	lr run cow
	assert_contains "$out" "< built >" "$who: the image runs its CMD (cowsay)"
	lr run cow sh -c 'cat /etc/motd.txt; ls /opt/app'
	assert_eq "first
main.c" "$out" "$who: COPY put the files in, without the .dockerignore'd one"

	say "# $who: a rebuild from the cache"
	t0=$(now_ms)
	lr build -t cow "$D/ctx"
	t1=$(now_ms)
	assert_eq 0 "$rc" "$who: the rebuild succeeds"
	assert_eq 5 "$(cached "$out")" "$who: every step after FROM is CACHED"
	assert_not_contains "$out" "Setting up" "$who: no RUN step runs again"
	assert_true "$who: the cached rebuild takes about a second ($((t1 - t0)) ms)" [ $((t1 - t0)) -lt 3000 ]

	say "# $who: a changed COPY source"
	echo second >"$D/ctx/motd.txt"
	lr build -t cow "$D/ctx"
	assert_eq 0 "$rc" "$who: the build after a change succeeds"
	assert_eq 2 "$(cached "$out")" "$who: the steps before the change (ARG, RUN) are CACHED"
	assert_not_contains "$out" "Setting up" "$who: apt-get does not run again"
	lr run cow cat /etc/motd.txt
	assert_eq second "$out" "$who: the image has the new file"
	if [ $who = subids ]; then
		lr run --root cow stat -c %U /var/cache/apt/archives/partial
		assert_eq _apt "$out" "$who: files apt chowned to _apt keep their owner in the image"
	fi
done

# a two-stage build, as each user
for who in subids seccomp; do
	if [ $who = subids ]; then
		run_as=as_user D=$T/subids uid=$TU_UID gid=$TU_GID
	else
		run_as=as_user2 D=$T2/seccomp uid=$TU2_UID gid=$TU2_GID
	fi
	lr() { capture $run_as env XDG_DATA_HOME="$D/data" "$L" "$@"; }
	say "# $who: a two-stage build: gcc in Debian, the binary in busybox"
	mkdir -p "$D/ctx2"
	cat >"$D/ctx2/Containerfile" <<'EOF'
ARG SMALL
FROM debian AS compile
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev
WORKDIR /src
COPY hello.c .
ARG GREETING=hello
RUN gcc -static -O2 -DGREETING="\"$GREETING\"" -o hello hello.c

FROM ${SMALL:-busybox}
COPY --from=compile /src/hello /usr/local/bin/hello
ENTRYPOINT ["/usr/local/bin/hello"]
EOF
	cat >"$D/ctx2/hello.c" <<'EOF'
#include <stdio.h>
int main(int argc, char **argv) { printf("%s from %s\n", GREETING, argc > 1 ? argv[1] : "C"); return 0; }
EOF
	chown -R "$uid:$gid" "$D/ctx2"
	lr build --build-arg SMALL="$BB" --build-arg GREETING=bonjour -t hello "$D/ctx2"
	assert_eq 0 "$rc" "$who: the two-stage build succeeds"
	assert_contains "$out" "STEP 8/9: COPY --from=compile" "$who: the steps of both stages are counted"
	lr run hello busybox
	assert_eq "bonjour from busybox" "$out" "$who: the binary built in the first stage runs in the busybox image"
	lr run hello sh -c 'test -e /usr/bin/gcc && echo gcc || echo no-gcc'
	assert_eq "bonjour from sh" "$out" "$who: the ENTRYPOINT is the program"
	lr run --entrypoint "" hello sh -c 'test -e /usr/bin/gcc || test -e /etc/debian_version || echo small'
	assert_eq small "$out" "$who: nothing of the first stage but the binary is in the image"
done

D=$T/subids
lr() { capture as_user env XDG_DATA_HOME="$D/data" "$L" "$@"; }
lr build --build-arg SMALL="$BB" --build-arg GREETING=bonjour --target compile -t compiler "$D/ctx2"
assert_eq 0 "$rc" "--target builds the first stage"
assert_eq 5 "$(cached "$out")" "--target: the stage's steps come from the cache"
assert_contains "$out" "STEP 6/6" "--target: only the target's steps are counted"
lr run compiler sh -c 'gcc --version | head -n 1; ./hello'
assert_contains "$out" "gcc" "the first stage has gcc"
assert_contains "$out" "bonjour from C" "its WORKDIR is the image's"
lr build --build-arg SMALL="$BB" --build-arg GREETING=hi -t hello "$D/ctx2"
assert_eq 0 "$rc" "a build with another --build-arg succeeds"
assert_eq 3 "$(cached "$out")" "the steps before the ARG's first use are CACHED"
lr run hello x
assert_eq "hi from x" "$out" "--build-arg reaches the RUN step"

say "# errors name FILE:LINE"
mkdir -p "$D/bad"
printf 'FROM debian\n\n# the file is not there\nCOPY src/app.c /app.c\n' >"$D/bad/Containerfile"
printf 'FROM debian\nRUN true\nFORM debian\n' >"$D/bad/Typo"
printf 'FROM debian\nRUN \\\n  exit 3\n' >"$D/bad/Fails"
chown -R "$TU_UID:$TU_GID" "$D/bad"
lr build -t bad "$D/bad"
assert_eq 125 "$rc" "a missing COPY source fails the build"
assert_contains "$err" "Containerfile:4: COPY: no such file in the context: src/app.c" "the error names FILE:LINE and the file"
lr build -f "$D/bad/Typo" -t bad "$D/bad"
assert_contains "$err" "Typo:3: unknown instruction: FORM" "an unknown instruction is named with its line"
lr build -f "$D/bad/Fails" -t bad "$D/bad"
assert_eq 125 "$rc" "a failing RUN fails the build"
assert_contains "$err" "Fails:2: RUN: the command exited with status 3" "a failing RUN names its line and status"
lr images
assert_not_contains "$out" "bad" "a failed build stores no image"
assert_eq "" "$(ls "$D/data/launch/build-cache/tmp")" "no temporary of a step is left"

say "# launch df and launch prune"
lr df
assert_match "$out" '^build cache +[1-9][0-9]* +[0-9.]+[kMG]B' "launch df shows the build cache"
lr prune
assert_eq 0 "$rc" "launch prune succeeds"
assert_match "$out" '^removed build cache of [0-9]+ steps' "launch prune removes the build cache"
lr df
assert_match "$out" '^build cache +0 +0.0kB' "the build cache is empty after prune"
lr run hello x
assert_eq "hi from x" "$out" "the built image stays"
lr build --build-arg SMALL="$BB" --build-arg GREETING=hi -t hello "$D/ctx2"
assert_eq 0 "$(cached "$out")" "after prune, nothing is CACHED"

say "# FROM scratch and a SIF file, ADD of an archive, SHELL, and the config instructions"
SIFIMG=$LAUNCH_TEST_IMAGES/sif/plain.sif
mkdir -p "$D/ctx3/tree/sub"
echo from-the-archive >"$D/ctx3/tree/sub/a.txt"
tar -C "$D/ctx3/tree" -czf "$D/ctx3/files.tar.gz" .
cat >"$D/ctx3/Containerfile" <<EOF
FROM scratch AS files
ADD files.tar.gz /unpacked/
FROM $SIFIMG
SHELL ["/bin/sh", "-xc"]
RUN echo ran > /ran.txt
COPY --from=files /unpacked/ /opt/unpacked/
LABEL org.example.team="fluid dynamics" version=2
USER 1000:1000
EXPOSE 8080/tcp
VOLUME /data
HEALTHCHECK CMD true
ENTRYPOINT ["/bin/cat"]
CMD ["/ran.txt"]
EOF
chown -R "$TU_UID:$TU_GID" "$D/ctx3"
lr build -t lab/config:1 "$D/ctx3"
assert_eq 0 "$rc" "a build FROM scratch and FROM a SIF file"
assert_contains "$err" "+ echo ran" "SHELL runs the RUN step (sh -x traces it on the build's stderr)"
lr run lab/config:1
assert_eq "0 ran" "$rc $out" "ENTRYPOINT and CMD of the image; the RUN step's file (base: the SIF's tree)"
lr run --entrypoint "" lab/config:1 sh -c 'cat /opt/unpacked/sub/a.txt; cat /etc/image-marker'
assert_eq "from-the-archive
launch-test-sif" "$out" "ADD unpacked the archive (copied from the scratch stage) over the SIF's files"
lr inspect lab/config:1
assert_contains "$out" '"org.example.team": "fluid dynamics"' "LABEL is in the config"
assert_contains "$out" '"User": "1000:1000"' "USER is in the config"
assert_contains "$out" '"8080/tcp"' "EXPOSE is recorded"
assert_contains "$out" '"/data"' "VOLUME is recorded"

say "# FROM docker://: a base pulled from a registry (loopback)"
require_cmd docker-registry skopeo htpasswd openssl
REGISTRY_SH_DIR=$(cd "$(dirname "$0")/../registry" && pwd)
export REGISTRY_SH_DIR
. "$REGISTRY_SH_DIR/registry.sh"
R=$T/reg
registry_test_open "$R"
P_OPEN=$REG_PORT
registry_fill "$R" open "$P_OPEN" "oci:$DEB/debian-oci:latest" library/debian:12 >/dev/null || die "fill"
user_file "$T/reg-site.json" <<EOF
{ "registry_ca_file": "$R/ca.crt" }
EOF
mkdir -p "$D/ctx4"
printf 'FROM docker://127.0.0.1:%s/library/debian:12\nRUN echo pulled > /pulled\nCMD ["cat", "/pulled"]\n' \
	"$P_OPEN" >"$D/ctx4/Containerfile"
chown -R "$TU_UID:$TU_GID" "$D/ctx4"
capture as_user env LAUNCH_CONFIG="$T/reg-site.json" XDG_DATA_HOME="$D/data" "$L" build -t lab/pulled:1 "$D/ctx4"
assert_eq 0 "$rc" "a build FROM docker://REGISTRY/IMAGE"
lr run lab/pulled:1
assert_eq "0 pulled" "$rc $out" "the RUN step ran over the pulled base"
assert_contains "$(as_user env XDG_DATA_HOME="$D/data" "$L" images)" "library/debian" "the base is in the store, pulled once"

assert_clean "launch build"
finish
