#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Shared image servers: the containers of one image, user and --root mode
# share one FUSE server, which ends its linger time after the last one;
# --fresh and image_server_linger 0 serve privately; --root with and
# without subordinate ids; --writable and --overlay; kill -9 of a container
# at any moment and of the server; concurrent first runs start one server;
# an image rewritten in place gets a new one; an idle server keeps no image
# from removal, no descriptor of the caller and nothing of its environment.
. "$(dirname "$0")/lib.sh"
require_userns
require_fuse
require_user2
require_cmd mksquashfs

LINGER=4
user_file "$T/site.json" <<EOF
{ "image_server_linger": $LINGER }
EOF
export LAUNCH_CONFIG="$T/site.json"
RT=$T/rt
user_dir "$RT"
chmod 0700 "$RT"
li() { capture as_user env LAUNCH_RUNTIME_DIR="$RT" "$L" "$@"; }
li_bg() {
	_pf=$1
	shift
	as_user_bg "$_pf" env LAUNCH_RUNTIME_DIR="$RT" "$L" run "$@"
}
# the image servers of runtime directory $1 (default $RT): their pids
servers() { pgrep -u "$TU_UID" -f "^launch image-server [0-9]+ ${1:-$RT}/servers " || true; }
nservers() { servers "$@" | grep -c . || true; }
no_server() { [ "$(nservers "$@")" = 0 ]; }
# the device (MAJOR:MINOR) of the container's root mount
ROOTDEV='awk '\''$5 == "/" { d = $3 } END { print d }'\'' /proc/self/mountinfo'
ps_field() { as_user env LAUNCH_RUNTIME_DIR="$RT" "$L" ps | awk -v k="$1" '$1 ~ /^server:/ { print $k }'; }
# the containers each server counts, one line each
counts_are() { [ "$(ps_field 4 | tr '\n' ' ')" = "$1" ]; }
# every server listed counts 0 containers (the --root one may have ended)
none_busy() { [ -z "$(ps_field 4 | grep -vx 0)" ]; }
server_idle() { as_user env LAUNCH_RUNTIME_DIR="$RT" "$L" ps | grep -q '^server:.* idle'; }

say "# a second container of the image joins the first one's server"
li_bg "$T/a.pid" "$SQFS" sh -c "$ROOTDEV; sleep 300"
assert_true "the first container runs" wait_until 10 descendant_named "$BG_PID" sleep
A=$BG A_PID=$BG_PID
first_dev=$(cat "$T/bg.out")
assert_eq 1 "$(nservers)" "one image server runs"
server=$(servers)
li run "$SQFS" sh -c "$ROOTDEV; cat /etc/image-marker"
assert_eq "0 $first_dev
launch-test-image" "$rc $out" "the second container reads the image through the same FUSE mount"
assert_eq 1 "$(nservers)" "still one image server"
li_bg "$T/b.pid" "$SQFS" sleep 300
assert_true "a second long container runs" wait_until 10 descendant_named "$BG_PID" sleep
B=$BG B_PID=$BG_PID
assert_eq 2 "$(ps_field 4)" "launch ps counts the server's 2 containers"
assert_eq "$SQFS" "$(ps_field 2)" "launch ps names the image file it serves"
assert_contains "$(as_user env LAUNCH_RUNTIME_DIR="$RT" "$L" ps --format json)" '"kind": "image-server"' \
	"launch ps --format json has the server"

say "# --fresh serves privately, beside the server"
li run --fresh "$SQFS" sh -c "$ROOTDEV"
assert_eq 0 "$rc" "launch run --fresh"
assert_true "--fresh mounts the image anew (root device $out, the server's $first_dev)" test "$out" != "$first_dev"
assert_eq "1 2" "$(nservers) $(ps_field 4)" "--fresh neither starts nor joins a server"

say "# kill -9 of a container: the server counts it out"
kill -KILL "$B_PID"
wait_exit "$B" 10
assert_true "the server counts 1 container after the kill" wait_until 5 counts_are "1 "
kill -TERM "$A_PID"
wait_exit "$A" 10
assert_eq 143 "$rc" "the first container ends on SIGTERM"
assert_clean "the containers ended (the server is not one of them)"

say "# the server lingers, then ends"
assert_true "idle after its last container" wait_until 3 server_idle
li run "$SQFS" true
assert_eq "0 $server" "$rc $(servers)" "a run within the linger time joins the same server"
assert_true "the server ends within its linger time ($LINGER s) after the last container" wait_until $((LINGER + 5)) no_server
assert_eq "" "$(ls -A "$RT/servers")" "it leaves nothing in the runtime directory (socket, state, lock, mount point)"
li ps
assert_not_contains "$out" "server:" "launch ps lists no server"
li run "$SQFS" cat /etc/image-marker
assert_eq "0 launch-test-image 1" "$rc $out $(nservers)" "the next run starts a new server"

say "# the server has nothing of its first caller"
srv=$(servers)
assert_not_contains "$(tr '\0' '\n' <"/proc/$srv/environ")" "LAUNCH_TEST_ID" "none of the caller's environment"
assert_eq / "$(readlink "/proc/$srv/cwd")" "its working directory is /"
assert_eq "0 1 2" "$(ls "/proc/$srv/fd" | sort -n | head -3 | tr '\n' ' ' | sed 's/ $//')" "descriptors 0-2 are its own"
assert_eq "/dev/null" "$(readlink "/proc/$srv/fd/1")" "its output goes to /dev/null"
start=$(now_ms)
out=$(as_user env LAUNCH_RUNTIME_DIR="$RT" "$L" run "$SQFS" echo piped | cat)
took=$(($(now_ms) - start))
assert_eq piped "$out" "output through a pipe"
assert_true "the pipe's reader sees its end at once, not after the linger time (${took} ms)" test "$took" -lt 3000

say "# image_server_linger 0: no server"
RT0=$T/rt0
user_dir "$RT0"
chmod 0700 "$RT0"
user_file "$T/nolinger.json" <<EOF
{ "image_server_linger": 0 }
EOF
capture as_user env LAUNCH_CONFIG="$T/nolinger.json" LAUNCH_RUNTIME_DIR="$RT0" "$L" run "$SQFS" cat /etc/image-marker
assert_eq "0 launch-test-image" "$rc $out" "a run with sharing off"
assert_eq "0" "$(nservers "$RT0")" "started no server"
assert_true "and made no servers directory" test ! -e "$RT0/servers"

say "# --root: a server per mode"
li run --root "$SQFS" id -u
assert_eq "0 0" "$rc $out" "launch run --root is uid 0"
assert_eq 2 "$(nservers)" "--root has a server of its own"
li run --root "$SQFS" id -u
assert_eq "0 2" "$rc $(nservers)" "the next --root run joins it"
assert_contains "$(as_user env LAUNCH_RUNTIME_DIR="$RT" "$L" ps)" "root,subids" \
	"launch ps shows the subordinate ids mode"
li run --root "$SQFS" stat -c %u /etc/image-marker
assert_eq "0 0" "$rc $out" "the --root server maps the image's root-owned files to uid 0"
li run "$SQFS" stat -c %u /etc/image-marker
assert_eq "0 65534" "$rc $out" "the user-mode server shows them as the overflow uid"

say "# --writable and --overlay over a shared server"
li run --root --writable "$SQFS" sh -c 'echo w > /etc/image-marker; cat /etc/image-marker'
assert_eq "0 w" "$rc $out" "--root --writable writes over the shared image"
li run "$SQFS" cat /etc/image-marker
assert_eq "0 launch-test-image" "$rc $out" "the shared image itself is unchanged"
user_dir "$T/ov"
li run --root --overlay "$T/ov" "$SQFS" sh -c 'echo kept > /etc/ov-marker'
assert_eq 0 "$rc" "--root --overlay DIR writes"
li run --root --overlay "$T/ov" "$SQFS" cat /etc/ov-marker
assert_eq "0 kept" "$rc $out" "a later --overlay run over the same server sees it"

say "# kill -9 of containers at any moment"
for ms in 1 3 6 10 15 25 40 60 90 140; do
	as_user env LAUNCH_RUNTIME_DIR="$RT" "$L" run "$SQFS" sleep 5 >/dev/null 2>&1 &
	k=$!
	sleep "$(awk -v m="$ms" 'BEGIN { printf "%.3f", m / 1000 }')"
	pkill -KILL -P "$k" 2>/dev/null
	kill -KILL "$k" 2>/dev/null
	wait "$k" 2>/dev/null
done
assert_clean "after 10 runs killed between 1 and 140 ms"
li run "$SQFS" cat /etc/image-marker
assert_eq "0 launch-test-image" "$rc $out" "the servers still serve"
assert_true "they count no container left" wait_until 5 none_busy

say "# kill -9 of the server: its containers stop with a message"
li_bg "$T/c.pid" "$SQFS" sleep 300
assert_true "a container runs" wait_until 10 descendant_named "$BG_PID" sleep
assert_true "the small supervisor has taken over" wait_until 10 handed_over "$BG_PID"
user_srv=$(pgrep -u "$TU_UID" -f "^launch image-server [0-9]+ $RT/servers [0-9a-f]+ user " || true)
assert_true "the user-mode server is found" test -n "$user_srv"
kill -KILL $user_srv
wait_exit "$BG" 10
assert_eq 137 "$rc" "the container is ended"
assert_contains "$(cat "$T/bg.err")" "image server" "the error names the image server"
assert_clean "after kill -9 of the server"

say "# 12 concurrent first runs start one server"
RT2=$T/rt2
user_dir "$RT2"
chmod 0700 "$RT2"
pids=
for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
	as_user env LAUNCH_RUNTIME_DIR="$RT2" "$L" run "$SQFS" cat /etc/image-marker >"$T/c$i.out" 2>&1 &
	pids="$pids $!"
done
ok=0
for p in $pids; do wait "$p" && ok=$((ok + 1)); done
assert_eq 12 "$ok" "all 12 runs succeed"
assert_eq 12 "$(cat "$T"/c*.out | grep -c launch-test-image)" "all 12 read the image"
assert_eq 1 "$(nservers "$RT2")" "one server started"

say "# an image rewritten in place gets a new server"
cp "$SQFS" "$T/img.sqfs"
chown "$TU_UID" "$T/img.sqfs"
li run "$T/img.sqfs" cat /etc/image-marker
assert_eq "0 launch-test-image" "$rc $out" "the copy runs"
old=$(pgrep -u "$TU_UID" -f "image-server .* $T/img.sqfs\$")
cp -a "$DIRIMG" "$T/dir2"
echo launch-TEST-image >"$T/dir2/etc/image-marker"
mksquashfs "$T/dir2" "$T/new.sqfs" -noappend -quiet -all-root >/dev/null
cat "$T/new.sqfs" >"$T/img.sqfs" # same inode, new content
li run "$T/img.sqfs" cat /etc/image-marker
assert_eq "0 launch-TEST-image" "$rc $out" "the rewritten file's content is served"
assert_eq 2 "$(pgrep -u "$TU_UID" -f "image-server .* $T/img.sqfs\$" | grep -c .)" "by a new server (the old one was $old)"

say "# an idle server keeps no image from removal"
DATA=$T/data
user_dir "$DATA"
lis() { capture as_user env XDG_DATA_HOME="$DATA" LAUNCH_RUNTIME_DIR="$RT" "$L" "$@"; }
lis import "$SQFS" lab/srv:1
assert_eq 0 "$rc" "import lab/srv:1"
lis run lab/srv:1 true
assert_true "its server runs" test -n "$(pgrep -u "$TU_UID" -f "image-server .* $DATA/launch/images/")"
lis rmi lab/srv:1
assert_eq 0 "$rc" "rmi of an image whose server is idle"
lis images
assert_not_contains "$out" "lab/srv" "the image is gone"

say "# another user: a server of their own"
capture as_user2 "$L" run --root "$SQFS" id -u
assert_eq "0 0" "$rc $out" "the second user (no subordinate ids) runs --root"
assert_true "in a server of theirs" test -n "$(pgrep -u "$TU2_UID" -f "image-server .* root,seccomp ")"
capture as_user2 "$L" run --root "$SQFS" sh -c 'stat -c %u /bin/busybox; touch /tmp/x.$$ && chown 7 /tmp/x.$$ && echo chowned; rm -f /tmp/x.$$'
assert_eq "0 0
chowned" "$rc $out" "the seccomp --root server shows every file as root's, and chown is faked"
pkill -u "$TU2_UID" -f "image-server" || true

# the servers of this test end with it
for d in "$RT" "$RT2"; do pkill -TERM -u "$TU_UID" -f "^launch image-server [0-9]+ $d/servers " 2>/dev/null; done
finish
