#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The MPI hook (hooks/mpi) as a site runs it: a hook file in a hooks
# directory of the site config, matched by `launch run --mpi`. The "host
# MPI" is a copy of this machine's libmpich under the test's directory (an
# inode of its own), and hello-mpich of the MPI image (tests/fixtures/mkmpi.sh)
# prints the inode of the libmpich it mapped: the copy with --mpi, the
# image's without, for one rank and for two ranks under mpiexec.mpich (which
# also pass a token around and reduce, so they talked through the injected
# library). Then dependencies (replaced and added, found through the
# rebuilt linker cache), BIND_MOUNTS, and every refusal with its message and
# exit status 125: majors that differ, a lower minor under
# MPI_COMPATIBILITY_TYPE=full and strict, MPI_LIBS missing, a musl image, a
# host library needing a newer glibc than the image's, an image without a
# linker cache or without an MPI in it.
. "$(dirname "$0")/lib.sh"
require_root "root-owned hook files"
require_userns
require_fuse
require_cmd gcc mpiexec.mpich ldconfig

MPI_IMG=$LAUNCH_TEST_IMAGES/mpi.sqfs
[ -f "$MPI_IMG" ] || skip "$MPI_IMG missing (the launch_mpi fixture runs tests/fixtures/mkmpi.sh, which needs libmpich-dev)"
: "${LAUNCH_HOOK_MPI:?LAUNCH_HOOK_MPI must be the path of the built launch-hook-mpi}"
[ -x "$LAUNCH_HOOK_MPI" ] || die "LAUNCH_HOOK_MPI=$LAUNCH_HOOK_MPI is not an executable file"
[ -x /sbin/ldconfig ] || skip "/sbin/ldconfig (the hook's default LDCONFIG_PATH) does not exist"
multiarch=$(gcc -print-multiarch 2>/dev/null)
[ -n "$multiarch" ] || multiarch=x86_64-linux-gnu
LIBDIR=/usr/lib/$multiarch
HOST_MPICH=$(readlink -f "$LIBDIR/libmpich.so.12" 2>/dev/null)
[ -f "$HOST_MPICH" ] || skip "$LIBDIR/libmpich.so.12 missing (apt-get install libmpich12)"
V=${HOST_MPICH##*/libmpich.so.} # the image has the same MPICH: 12.2.2 on Debian 12
IFS=. read -r MAJ MIN PAT <<EOF
$V
EOF
MIN=${MIN:-0} PAT=${PAT:-0}
IMG_MPICH=$LIBDIR/libmpich.so.$V # its path in the image
GLIBC=$(getconf GNU_LIBC_VERSION | cut -d' ' -f2) # the image's glibc is a copy of this one
GLIBC=$(echo "$GLIBC" | cut -d. -f1-2)

HB=$T/hookbin # the hook program (root-owned)
H=$T/host     # the "host MPI" (root-owned)
mkdir -p "$HB" "$H/lib" "$H/v13" "$H/low" "$H/high" "$H/dep" "$H/stub" "$H/newglibc"
chmod -R 0755 "$HB" "$H"
cp "$LAUNCH_HOOK_MPI" "$HB/launch-hook-mpi"
chmod 0755 "$HB/launch-hook-mpi"
cp "$HOST_MPICH" "$H/lib/libmpich.so.$V"
ln -s "libmpich.so.$V" "$H/lib/libmpich.so.12"
COPY_INO=$(stat -c %i "$H/lib/libmpich.so.$V")
# other versions of the same file (hard links: the name is the version)
ln "$H/lib/libmpich.so.$V" "$H/v13/libmpich.so.13.0.0"
LOW=
if [ "$MIN" -gt 0 ]; then
	LOW=$MAJ.$((MIN - 1)).$PAT
elif [ "$PAT" -gt 0 ]; then
	LOW=$MAJ.$MIN.$((PAT - 1))
fi
[ -z "$LOW" ] || ln "$H/lib/libmpich.so.$V" "$H/low/libmpich.so.$LOW"
HIGH=$MAJ.$((MIN + 1)).0
ln "$H/lib/libmpich.so.$V" "$H/high/libmpich.so.$HIGH"

# A dependency the image has (replaced), and one it has not (added).
DEP=$(ldd "$HOST_MPICH" | awk '/=> \// && $1 !~ /^lib(c|m|dl|pthread|rt)\.so/ { print $3; exit }')
[ -n "$DEP" ] || die "libmpich has no dependency besides the C library?"
DEP_SONAME=$(basename "$DEP")
DEP_REAL=$(readlink -f "$DEP")
cp "$DEP_REAL" "$H/dep/$(basename "$DEP_REAL")"
DEP_INO=$(stat -c %i "$H/dep/$(basename "$DEP_REAL")")
cat >"$T/added.c" <<'EOF'
#include <unistd.h>
__attribute__((constructor)) static void hello(void) { write(2, "hooktestdep loaded\n", 19); }
EOF
gcc -shared -fPIC -o "$H/dep/libhooktestdep.so.1.0.0" -Wl,-soname,libhooktestdep.so.1 "$T/added.c" ||
	die "cannot build the added library"

# A host "MPI" that needs GLIBC_2.99: linked against a stub libc.so.6 that
# defines that version.
printf 'GLIBC_2.99 { global: launch_test_new_symbol; local: *; };\n' >"$T/stub.map"
printf 'int launch_test_new_symbol(void) { return 99; }\n' >"$T/stub.c"
printf 'int launch_test_new_symbol(void);\nint MPI_Init(void) { return launch_test_new_symbol(); }\n' >"$T/new.c"
gcc -shared -fPIC -nostdlib -o "$H/stub/libc.so.6" -Wl,-soname,libc.so.6 -Wl,--version-script="$T/stub.map" \
	"$T/stub.c" &&
	gcc -shared -fPIC -nostdlib -o "$H/newglibc/libmpich.so.$V" -Wl,-soname,libmpich.so.12 "$T/new.c" \
		"$H/stub/libc.so.6" || die "cannot build the library that needs GLIBC_2.99"
chmod -R a+rX "$H"

# hookcfg NAME VAR=VALUE...: $T/NAME.d/mpi.json, the MPI hook with that
# environment matched by --mpi, and the site config $T/NAME.json using it.
hookcfg() {
	_n=$1
	shift
	_env=
	for _e in "$@"; do
		_env="$_env${_env:+, }\"$_e\""
	done
	mkdir -p "$T/$_n.d"
	chmod 0755 "$T/$_n.d"
	cat >"$T/$_n.d/mpi.json" <<EOF
{
  "version": "1.0.0",
  "hook": {"path": "$HB/launch-hook-mpi", "env": [$_env]},
  "when": {"annotations": {"^launch\\\\.mpi\$": "^true\$"}},
  "stages": ["createContainer"]
}
EOF
	printf '{"hooks_dirs": ["%s"]}\n' "$T/$_n.d" >"$T/$_n.json"
	chmod 0644 "$T/$_n.d/mpi.json" "$T/$_n.json"
}
# with NAME ARGS...: launch ARGS as the test user with the site config NAME
with() {
	LAUNCH_CONFIG=$T/$1.json
	shift
	lrun "$@"
	LAUNCH_CONFIG=
}
# lib_inode OUTPUT RANK: the inode hello-mpich's rank RANK printed
lib_inode() {
	printf '%s\n' "$1" | sed -n "s/^rank $2 lib \([0-9]*\) .*/\1/p"
}
ranks() {
	printf '%s\n' "$1" | grep '^rank [0-9]* of ' | sort
}

hookcfg main "MPI_LIBS=$H/lib/libmpich.so.12"

say "# without --mpi the image's libmpich, with --mpi the host's"
with main run -e HELLO_SHOW_LIB=1 "$MPI_IMG" hello-mpich
assert_eq 0 "$rc" "hello-mpich runs without --mpi"
assert_eq "rank 0 of 1 sum 0 token -1" "$(ranks "$out")" "one rank, on its own"
ino=$(lib_inode "$out" 0)
assert_true "without --mpi the image's libmpich is mapped (inode $ino, not the host copy's $COPY_INO)" \
	test -n "$ino" -a "$ino" != "$COPY_INO"
with main run --mpi -e HELLO_SHOW_LIB=1 "$MPI_IMG" hello-mpich
assert_eq 0 "$rc" "hello-mpich runs with --mpi"
assert_eq "rank 0 of 1 sum 0 token -1" "$(ranks "$out")" "one rank through the host's libmpich"
assert_eq "$COPY_INO $IMG_MPICH" "$(printf '%s\n' "$out" | sed -n 's/^rank 0 lib //p')" \
	"with --mpi the host copy is mapped, at the image's path of libmpich"
with main run --mpi "$MPI_IMG" sh -c "test -e /usr/local/lib/launch/mpi; echo \$?"
assert_eq "0 1" "$rc $out" "nothing is added when every library has its counterpart"
with main run --mpi "$MPI_IMG" sh -c "stat -L -c %i $LIBDIR/libmpich.so.12; stat -L -c %i $LIBDIR/libmpi.so.40"
ompi=$(printf '%s\n' "$out" | sed -n 2p)
assert_eq "0 $COPY_INO" "$rc $(printf '%s\n' "$out" | head -n 1)" "the soname link leads to the host copy"
assert_true "Open MPI's libmpi.so.40 is left alone" test -n "$ompi" -a "$ompi" != "$COPY_INO"
assert_clean "runs with --mpi"

say "# a vendor's file behind MPICH-ABI names (libmpi.so.12 and libmpich.so.12 -> libmpi_vendor.so.$V)"
mkdir -p "$H/vendor"
ln "$H/lib/libmpich.so.$V" "$H/vendor/libmpi_vendor.so.$V"
ln -s "libmpi_vendor.so.$V" "$H/vendor/libmpi.so.12"
ln -s "libmpi_vendor.so.$V" "$H/vendor/libmpich.so.12"
hookcfg vendor "MPI_LIBS=$H/vendor/libmpi.so.12:$H/vendor/libmpich.so.12" "MPI_COMPATIBILITY_TYPE=strict"
with vendor run --mpi -e HELLO_SHOW_LIB=1 "$MPI_IMG" sh -c 'hello-mpich && ls /usr/local/lib/launch/mpi'
assert_eq 0 "$rc" "a vendor library behind libmpi.so.12 and libmpich.so.12 (strict: its version is the real file's)"
assert_eq "$COPY_INO" "$(lib_inode "$out" 0)" "libmpich.so.12 of the image is the vendor's file"
assert_contains "$out" "libmpi_vendor.so.$V" \
	"libmpi.so.12, of which the image has only Open MPI's libmpi.so.40, is added beside"

say "# two ranks under mpiexec.mpich in an instance started with --mpi"
RUN=$T/xdg
user_dir "$RUN"
chmod 0700 "$RUN"
LAUNCH_CONFIG=$T/main.json
capture as_user env XDG_RUNTIME_DIR="$RUN" "$L" start --mpi --name hook-mpi "$MPI_IMG"
assert_eq "0 hook-mpi" "$rc $out" "launch start --mpi"
capture as_user env XDG_RUNTIME_DIR="$RUN" timeout 120 mpiexec.mpich -n 2 "$L" exec hook-mpi \
	env HELLO_SHOW_LIB=1 hello-mpich
assert_eq 0 "$rc" "mpiexec.mpich -n 2 launch exec hook-mpi hello-mpich"
assert_eq "rank 0 of 2 sum 1 token 1
rank 1 of 2 sum 1 token 0" "$(ranks "$out")" "the two ranks reduce and pass a token"
assert_eq "$COPY_INO $COPY_INO" "$(lib_inode "$out" 0) $(lib_inode "$out" 1)" "both ranks mapped the host copy"
capture as_user env XDG_RUNTIME_DIR="$RUN" "$L" stop hook-mpi
assert_eq 0 "$rc" "launch stop hook-mpi"
LAUNCH_CONFIG=
assert_clean "the instance"

say "# dependencies, added libraries and BIND_MOUNTS"
user_dir "$T/bindme"
echo from-host | user_file "$T/bindme/file"
hookcfg deps "MPI_LIBS=$H/lib/libmpich.so.$V" \
	"MPI_DEPENDENCY_LIBS=$H/dep/$(basename "$DEP_REAL"):$H/dep/libhooktestdep.so.1.0.0" \
	"BIND_MOUNTS=$T/bindme:/dev/null"
with deps run --mpi "$MPI_IMG" sh -c "stat -L -c %i $LIBDIR/$DEP_SONAME; \
readlink /usr/local/lib/launch/mpi/libhooktestdep.so.1; cat $T/bindme/file; echo written > $T/bindme/new"
assert_eq 0 "$rc" "a run with dependencies and bind mounts"
assert_eq "$DEP_INO" "$(printf '%s\n' "$out" | sed -n 1p)" "the image's $DEP_SONAME is replaced by the host's"
assert_eq libhooktestdep.so.1.0.0 "$(printf '%s\n' "$out" | sed -n 2p)" \
	"a library the image lacks is added to /usr/local/lib/launch/mpi with its soname link"
assert_eq from-host "$(printf '%s\n' "$out" | sed -n 3p)" "BIND_MOUNTS shows the host directory"
assert_eq written "$(cat "$T/bindme/new" 2>/dev/null)" "BIND_MOUNTS are read-write"
with deps run --mpi -e LD_PRELOAD=libhooktestdep.so.1 -e HELLO_SHOW_LIB=1 "$MPI_IMG" hello-mpich
assert_eq 0 "$rc" "hello-mpich with the added library preloaded by its soname"
assert_contains "$err" "hooktestdep loaded" "ld.so finds the added library through the rebuilt linker cache"
assert_eq "$COPY_INO" "$(lib_inode "$out" 0)" "and libmpich is still the host's"
with deps run --mpi "$MPI_IMG" sh -c "(echo x >> $LIBDIR/libmpich.so.12) 2>/dev/null && echo libmpich; \
(echo x > /usr/local/lib/launch/mpi/new) 2>/dev/null && echo added-dir; true"
assert_eq "0 " "$rc $out" "the replaced library and the added directory are read-only"
assert_eq "$DEP_INO" "$(stat -c %i "$H/dep/$(basename "$DEP_REAL")")" "the host files are untouched"
assert_clean "runs with dependencies"

say "# version rules"
hookcfg v13 "MPI_LIBS=$H/v13/libmpich.so.13.0.0"
with v13 run --mpi "$MPI_IMG" true
assert_eq 125 "$rc" "a host libmpich.so.13.0.0 is refused"
assert_contains "$err" "libmpich.so.13.0.0 cannot replace the image's libmpich.so.$V" "the refusal names both versions"
assert_contains "$err" "MPI_COMPATIBILITY_TYPE=major needs equal major versions" "and the rule"
assert_contains "$err" "run without --mpi" "and the fix"
if [ -n "$LOW" ]; then
	for t in full strict; do
		hookcfg "low-$t" "MPI_LIBS=$H/low/libmpich.so.$LOW" "MPI_COMPATIBILITY_TYPE=$t"
		with "low-$t" run --mpi "$MPI_IMG" true
		assert_eq 125 "$rc" "$t: a host libmpich.so.$LOW older than the image's $V is refused"
		assert_contains "$err" "libmpich.so.$LOW cannot replace the image's libmpich.so.$V: MPI_COMPATIBILITY_TYPE=$t" \
			"$t: the refusal names both versions and the compatibility type"
	done
	hookcfg low "MPI_LIBS=$H/low/libmpich.so.$LOW"
	with low run --mpi -e HELLO_SHOW_LIB=1 "$MPI_IMG" hello-mpich
	assert_eq "0 $COPY_INO" "$rc $(lib_inode "$out" 0)" "major (the default): the older minor is accepted"
else
	say "# (libmpich.so.$V has no lower minor or patch: the older-version checks are left out)"
fi
hookcfg high-full "MPI_LIBS=$H/high/libmpich.so.$HIGH" "MPI_COMPATIBILITY_TYPE=full"
with high-full run --mpi "$MPI_IMG" true
assert_eq 0 "$rc" "full: a newer host minor ($HIGH) is accepted"
hookcfg high-strict "MPI_LIBS=$H/high/libmpich.so.$HIGH" "MPI_COMPATIBILITY_TYPE=strict"
with high-strict run --mpi "$MPI_IMG" true
assert_eq 125 "$rc" "strict: a newer host minor ($HIGH) is refused"
assert_contains "$err" "MPI_COMPATIBILITY_TYPE=strict needs the same version" "strict: the rule is named"
hookcfg same-strict "MPI_LIBS=$H/lib/libmpich.so.12" "MPI_COMPATIBILITY_TYPE=strict"
with same-strict run --mpi "$MPI_IMG" true
assert_eq 0 "$rc" "strict: the same version is accepted"

say "# configuration and image refusals"
hookcfg nolibs "LDCONFIG_PATH=/sbin/ldconfig"
with nolibs run --mpi "$MPI_IMG" true
assert_eq 125 "$rc" "a hook file without MPI_LIBS fails the run"
assert_contains "$err" "MPI_LIBS is not set in the hook's environment" "and says so"
assert_eq 1 "$(printf '%s\n' "$err" | grep -c .)" "in one line"
with nolibs run "$MPI_IMG" true
assert_eq 0 "$rc" "without --mpi the hook does not run"
hookcfg missing "MPI_LIBS=$H/lib/libmpich.so.99"
with missing run --mpi "$MPI_IMG" true
assert_eq 125 "$rc" "a missing MPI_LIBS file fails the run"
assert_contains "$err" "MPI_LIBS: cannot use $H/lib/libmpich.so.99" "and names it"

cp -a "$DIRIMG" "$T/musl"
mkdir -p "$T/musl/lib"
: >"$T/musl/lib/ld-musl-$(uname -m).so.1"
with main run --mpi "$T/musl" true
assert_eq 125 "$rc" "a musl image is refused"
assert_contains "$err" "the image uses musl libc: a host MPI built for glibc cannot be injected" "with the musl message"

hookcfg newglibc "MPI_LIBS=$H/newglibc/libmpich.so.$V"
with newglibc run --mpi "$MPI_IMG" true
assert_eq 125 "$rc" "a host MPI needing GLIBC_2.99 is refused"
assert_contains "$err" "libmpich.so.$V needs GLIBC_2.99, but the image's glibc is $GLIBC" "naming both versions"
assert_contains "$err" "use an image with glibc 2.99 or newer" "and the fix"

with main run --mpi "$SQFS" true
assert_eq 125 "$rc" "an image without a linker cache is refused"
assert_contains "$err" "the image has no linker cache" "and says so"

# a glibc image with a linker cache but no MPI
cp -a "$DIRIMG" "$T/nompi"
mkdir -p "$T/nompi/usr/lib/$multiarch" "$T/nompi/etc"
cp "$(readlink -f "$LIBDIR/libc.so.6")" "$T/nompi/usr/lib/$multiarch/libc.so.6"
echo "/usr/lib/$multiarch" >"$T/nompi/etc/ld.so.conf"
ldconfig -r "$T/nompi" || die "ldconfig -r $T/nompi failed"
with main run --mpi "$T/nompi" true
assert_eq 125 "$rc" "an image without MPI is refused"
assert_contains "$err" "the image has no MPI in its linker cache (looked for libmpich.so.*)" "naming what was looked for"
assert_clean "the refused runs"

finish
