#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# launch pull against a real registry (Debian's docker-registry on loopback,
# started by tests/registry/registry.sh with a test CA, htpasswd or bearer
# token auth, filled with skopeo), as the unprivileged user: references,
# platforms, manifest formats and layer compressions; TLS against the site's
# CA; the token flow (anonymous and with credentials, tokens cached) and
# basic auth; login/logout; parallel layers, shared-layer reuse, eight
# concurrent pulls; resume after the registry is killed mid-transfer and
# restarted; every error (not found, auth, TLS, unreachable, rate limit,
# digest mismatch, disk full) without a partial image or a corrupt blob;
# the blob cache's limit (least recently used blobs go) and prune during a
# pull; launch run docker://...; progress on a terminal.
. "$(dirname "$0")/lib.sh"
require_userns
require_fuse
require_root "the registry, its storage and a small tmpfs for the disk-full case"
require_cmd docker-registry skopeo htpasswd openssl python3 curl tmux
REGISTRY_SH_DIR=$(cd "$(dirname "$0")/../registry" && pwd)
export REGISTRY_SH_DIR
. "$REGISTRY_SH_DIR/registry.sh"
OCI=$LAUNCH_TEST_IMAGES/oci
DEB=$LAUNCH_TEST_IMAGES/debian
[ -d "$OCI/good-oci" ] || skip "OCI fixtures missing in $OCI"
[ -d "$DEB/debian-layers-oci" ] || skip "Debian fixtures missing in $DEB"

R=$T/reg
registry_test_dir "$R"
P_OPEN=$(registry_free_port)
P_TOKEN=$(registry_free_port "$P_OPEN")
P_BASIC=$(registry_free_port "$P_OPEN" "$P_TOKEN")
registry_start "$R" open open "$P_OPEN" || die "cannot start the open registry"
registry_start "$R" tok token "$P_TOKEN" || die "cannot start the token registry"
registry_start "$R" basic basic "$P_BASIC" || die "cannot start the basic registry"
O=127.0.0.1:$P_OPEN
TK=127.0.0.1:$P_TOKEN
B=127.0.0.1:$P_BASIC
registry_fill "$R" open "$P_OPEN" "oci:$OCI/good-oci:good" library/fixture:multi >/dev/null || die "fill"
registry_fill "$R" open "$P_OPEN" "oci:$DEB/debian-oci:latest" library/debian:12 >/dev/null || die "fill"
registry_fill "$R" open "$P_OPEN" "oci:$DEB/debian-layers-oci:latest" lab/layers:1 >/dev/null || die "fill"
registry_fill "$R" open "$P_OPEN" "oci:$DEB/debian-layers-oci:latest" lab/v2s2:1 --format v2s2 >/dev/null || die "fill"
registry_fill "$R" tok "$P_TOKEN" "oci:$DEB/debian-oci:latest" public/debian:12 >/dev/null || die "fill"
registry_fill "$R" tok "$P_TOKEN" "oci:$DEB/debian-oci:latest" private/debian:12 >/dev/null || die "fill"
registry_fill "$R" basic "$P_BASIC" "oci:$OCI/good-oci:good" team/fixture:1 >/dev/null || die "fill"
ADIGEST=$(curl -sf --cacert "$R/ca.crt" -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
	-o /dev/null -D - "https://$O/v2/library/debian/manifests/12" | tr -d '\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: //p')

# The site trusts the test CA.
printf '{ "registry_ca_file": "%s" }\n' "$R/ca.crt" >"$T/site.json"
LAUNCH_CONFIG=$T/site.json
DATA=$T/data
user_dir "$DATA" "$T/home"
STORE=$DATA/launch
lp() { capture as_user env XDG_DATA_HOME="$DATA" XDG_CONFIG_HOME="$T/home/.config" HOME="$T/home" "$L" "$@"; }
blob_gets() { grep -cE "GET /v2/$2/blobs/sha256:[0-9a-f]+ HTTP/[0-9.]+\" 20[06]" "$R/$1.log"; }
# every file of the blob cache has the digest it is named by
cache_sound() {
	for f in "$STORE"/blobs/sha256/*; do
		[ -e "$f" ] || continue
		[ "$(sha256sum <"$f" | cut -d' ' -f1)" = "$(basename "$f")" ] || return 1
	done
}
images_now() { ls "$STORE/images" 2>/dev/null | sort; }

say "# references, platforms, manifest formats, compressions"
lp pull "docker://$O/library/debian:12"
assert_eq 0 "$rc" "pull docker://$O/library/debian:12"
assert_contains "$err" "pulled docker://$O/library/debian:12" "pull says what it stored"
lp run "$O/library/debian:12" cat /etc/debian_version
assert_eq 0 "$rc" "the image runs under its own name ($O/library/debian:12)"
lp pull "docker://$O/library/debian@$ADIGEST" pinned
assert_eq 0 "$rc" "pull by digest (@$ADIGEST)"
lp pull "docker://$O/library/debian@sha256:0000000000000000000000000000000000000000000000000000000000000000"
assert_eq 125 "$rc" "pull of an unknown digest fails"
lp pull "docker://$O/library/fixture:multi"
assert_eq 0 "$rc" "pull of a two-platform index (OCI manifests, gzip, zstd and plain layers)"
amd_marker=$(unsquashfs -cat "$(as_user env XDG_DATA_HOME="$DATA" "$L" inspect "$O/library/fixture:multi" | sed -n 's/^ *"file": "\(.*\)",$/\1/p')" etc/image-marker 2>/dev/null)
assert_eq amd64 "$amd_marker" "the index gives linux/amd64 by default"
before=$(blob_gets open library/fixture)
lp pull --platform linux/arm64 "docker://$O/library/fixture:multi" fixture-arm
assert_eq 0 "$rc" "pull --platform linux/arm64"
arm_marker=$(unsquashfs -cat "$(as_user env XDG_DATA_HOME="$DATA" "$L" inspect fixture-arm | sed -n 's/^ *"file": "\(.*\)",$/\1/p')" etc/image-marker 2>/dev/null)
assert_eq arm64 "$arm_marker" "--platform linux/arm64 takes the arm64 image"
assert_eq 2 "$(($(blob_gets open library/fixture) - before))" \
	"the arm64 image fetched only its config and its own layer: the shared layers came from the cache"
lp pull "docker://$O/lab/v2s2:1"
assert_eq 0 "$rc" "pull of a Docker schema 2 image (three layers, in parallel)"
lp pull "docker://$O/lab/layers:1"
assert_eq 0 "$rc" "pull of the same image as OCI"
assert_eq "$(as_user env XDG_DATA_HOME="$DATA" "$L" inspect "$O/lab/v2s2:1" | grep '"digest"')" \
	"$(as_user env XDG_DATA_HOME="$DATA" "$L" inspect "$O/lab/layers:1" | grep '"digest"')" \
	"Docker schema 2 and OCI manifests of one image give one image"
lp run "$O/lab/layers:1" cat /etc/launch-layer3
assert_eq layer3 "$out" "the three-layer image runs"
say "# default_registry: a reference without a registry goes there"
user_dir "$T/home/.config/launch"
printf '{"default_registry": "%s"}\n' "$O" >"$T/home/.config/launch/launch.json"
chown "$TU_UID:$TU_GID" "$T/home/.config/launch/launch.json"
chmod 0644 "$T/home/.config/launch/launch.json"
lp pull docker://lab/layers:1
assert_eq 0 "$rc" "pull of docker://lab/layers:1 with the user's default_registry"
assert_contains "$out $err" "$O/lab/layers:1" "it names the registry it pulled from"
lp run docker://lab/layers:1 cat /etc/launch-layer3
assert_eq layer3 "$out" "run docker://lab/layers:1 finds that image"
rm -f "$T/home/.config/launch/launch.json"

lp pull "docker://$O/Bad/Name"
assert_eq 125 "$rc" "an invalid reference is refused"
assert_contains "$err" "invalid reference" "and says why"

say "# launch run docker://... pulls on first use, then runs the stored image"
lp run "docker://$O/lab/layers:1" cat /etc/launch-layer3
assert_eq layer3 "$out" "run of a stored docker:// reference"
lp run "docker://$O/library/debian:12" true
assert_eq 0 "$rc" "run docker:// of a pulled image"
DATA2=$T/data2
user_dir "$DATA2"
capture as_user env XDG_DATA_HOME="$DATA2" "$L" run "docker://$O/library/debian:12" cat /etc/debian_version
assert_eq 0 "$rc" "run docker:// of an image not in the store pulls it"
assert_match "$out" '^12\.' "and runs it"
registry_stop "$R" open
capture as_user env XDG_DATA_HOME="$DATA2" "$L" run "docker://$O/library/debian:12" true
assert_eq 0 "$rc" "the next run needs no registry"
printf '{ "registry_ca_file": "%s", "pull_on_run": false }\n' "$R/ca.crt" >"$T/nopull.json"
capture as_user env LAUNCH_CONFIG="$T/nopull.json" XDG_DATA_HOME="$DATA2" "$L" run "docker://$O/lab/layers:1" true
assert_eq 125 "$rc" "with pull_on_run false, a missing image is not pulled"
assert_contains "$err" "launch pull" "and the error says to pull it"
registry_start "$R" open open "$P_OPEN" || die "cannot restart the open registry"

say "# TLS"
unset LAUNCH_CONFIG
capture as_user env XDG_DATA_HOME="$DATA" "$L" pull "docker://$O/library/debian:12"
LAUNCH_CONFIG=$T/site.json
assert_eq 125 "$rc" "without the site's CA the registry is not trusted"
assert_contains "$err" "TLS verification of registry $O failed" "the error is a TLS verification failure"
assert_contains "$err" "registry_ca_file" "and names the fix"
printf '{ "insecure_registries": ["%s"] }\n' "$O" >"$T/insecure.json"
capture as_user env LAUNCH_CONFIG="$T/insecure.json" XDG_DATA_HOME="$DATA2" "$L" -q pull "docker://$O/library/fixture:multi"
assert_eq 0 "$rc" "insecure_registries lets an untrusted registry be used"

say "# proxies from the environment"
lp pull "docker://$O/library/debian:12" &&
	capture as_user env XDG_DATA_HOME="$DATA" https_proxy=http://127.0.0.1:9 "$L" pull "docker://$O/library/debian:12"
assert_eq 125 "$rc" "https_proxy is used (a dead proxy makes the pull fail)"
capture as_user env XDG_DATA_HOME="$DATA" https_proxy=http://127.0.0.1:9 no_proxy=127.0.0.1 "$L" pull "docker://$O/library/debian:12"
assert_eq 0 "$rc" "no_proxy is honoured"

say "# bearer tokens: anonymous, with credentials, cached; basic auth; login and logout"
lp pull "docker://$TK/public/debian:12"
assert_eq 0 "$rc" "anonymous pull of a public repository through the token flow"
issued=$(curl -sf --cacert "$R/ca.crt" "https://127.0.0.1:$(cat "$R/tok-token.port")/stats" | sed -n 's/.*"tokens_issued": *\([0-9]*\).*/\1/p')
lp pull "docker://$TK/public/debian:12" again
assert_eq 0 "$rc" "a second pull"
assert_eq "$issued" "$(curl -sf --cacert "$R/ca.crt" "https://127.0.0.1:$(cat "$R/tok-token.port")/stats" | sed -n 's/.*"tokens_issued": *\([0-9]*\).*/\1/p')" \
	"the second pull reuses the cached token"
assert_eq 600 "$(stat -c %a "$(ls -d /tmp/launch-"$TU_UID"/registry-tokens.json 2>/dev/null || echo /nonexistent)")" \
	"the token cache is private (0600)"
lp pull "docker://$TK/private/debian:12"
assert_eq 125 "$rc" "anonymous pull of a private repository fails"
assert_contains "$err" "authentication required" "the error says authentication is required"
assert_contains "$err" "launch login $TK" "and how to log in"
printf 'wrong\n' >"$T/pw.bad"
printf 'launchpass\n' >"$T/pw.good"
chmod 0644 "$T/pw.bad" "$T/pw.good"
lp login --username launchuser --password-stdin "$TK" <"$T/pw.bad"
assert_eq 125 "$rc" "login with a wrong password fails"
assert_true "and stores nothing" test ! -e "$T/home/.config/launch/auth.json"
lp login --username launchuser --password-stdin "$TK" <"$T/pw.good"
assert_eq 0 "$rc" "launch login --password-stdin"
assert_eq 600 "$(stat -c %a "$T/home/.config/launch/auth.json")" "the credentials file is 0600"
assert_contains "$(cat "$T/home/.config/launch/auth.json")" "\"auth\": \"$(printf launchuser:launchpass | base64)\"" \
	"in docker's config.json auths format"
lp pull "docker://$TK/private/debian:12"
assert_eq 0 "$rc" "after login the private repository can be pulled"
lp logout "$TK"
assert_eq 0 "$rc" "launch logout"
lp pull "docker://$TK/private/debian:12" priv2
assert_eq 125 "$rc" "after logout it cannot"
lp pull "docker://$B/team/fixture:1"
assert_eq 125 "$rc" "a basic-auth registry refuses anonymous pulls"
assert_contains "$err" "authentication required" "and says so"
mkdir -p "$T/home/.docker"
printf '{"auths": {"%s": {"auth": "%s"}}}\n' "$B" "$(printf launchuser:launchpass | base64)" >"$T/home/.docker/config.json"
chown -R "$TU_UID:$TU_GID" "$T/home"
lp pull "docker://$B/team/fixture:1"
assert_eq 0 "$rc" "credentials from ~/.docker/config.json, basic auth"

say "# eight concurrent pulls of one image into one store"
DATA3=$T/data3
user_dir "$DATA3"
before=$(blob_gets open lab/layers)
pids=
for i in 1 2 3 4 5 6 7 8; do
	as_user env XDG_DATA_HOME="$DATA3" "$L" -q pull "docker://$O/lab/layers:1" >"$T/c.$i" 2>&1 &
	pids="$pids $!"
done
ok=0
for p in $pids; do wait "$p" && ok=$((ok + 1)); done
assert_eq 8 "$ok" "all eight pulls succeed"
assert_eq 4 "$(($(blob_gets open lab/layers) - before))" "each blob (config and three layers) was downloaded once"
capture as_user env XDG_DATA_HOME="$DATA3" "$L" images
assert_eq 1 "$(printf '%s\n' "$out" | grep -c "lab/layers")" "one image"
assert_eq 1 "$(ls "$DATA3/launch/images" | wc -l)" "one squashfs file"

say "# resume after the registry is killed mid-transfer and restarted"
DATA4=$T/data4
user_dir "$DATA4"
PX=$(registry_free_port "$P_OPEN" "$P_TOKEN" "$P_BASIC")
proxy_start "$R" slow "$PX" "$P_OPEN" 4000000 || die "cannot start the proxy"
as_user_bg "$T/resume.pid" env XDG_DATA_HOME="$DATA4" LAUNCH_CONFIG="$T/site.json" "$L" -v pull \
	"docker://127.0.0.1:$PX/library/debian:12" resumed:1
partial() { for f in "$DATA4"/launch/blobs/partial/*; do [ -f "$f" ] && stat -c %s "$f"; done | sort -n | tail -1; }
partial_started() { _s=$(partial); [ "${_s:-0}" -gt 5000000 ]; }
assert_true "the download starts" wait_until 30 partial_started
registry_stop "$R" open
at_kill=$(partial)
sleep 3
registry_start "$R" open open "$P_OPEN" || die "cannot restart the registry"
proxy_set_rate "$R" slow 0
wait_exit "$BG" 120
assert_eq 0 "$rc" "the pull completes after the registry came back" || sed 's/^/  | /' "$T/bg.err"
assert_contains "$(cat "$T/bg.err")" "resuming at byte" "it says it resumed"
assert_match "$(cat "$R/open.log")" 'GET /v2/library/debian/blobs/sha256:[0-9a-f]+ HTTP/[0-9.]+" 206' \
	"the registry served a range request (206)"
say "  (killed at ${at_kill:-?} bytes)"
capture as_user env XDG_DATA_HOME="$DATA4" "$L" run resumed:1 cat /etc/debian_version
assert_match "$out" '^12\.' "the resumed image runs"
proxy_stop "$R" slow

say "# the blob cache: cut to blob_cache_max after a pull, least recently used first"
cache_bytes() { python3 -c 'import os, sys
d = sys.argv[1]
print(sum(os.lstat(os.path.join(d, f)).st_blocks * 512 for f in os.listdir(d)))' "$1/launch/blobs/sha256"; }
DATA8=$T/data8
user_dir "$DATA8"
printf '{ "registry_ca_file": "%s", "blob_cache_max": "unlimited" }\n' "$R/ca.crt" >"$T/nocap.json"
capture as_user env XDG_DATA_HOME="$DATA8" LAUNCH_CONFIG="$T/nocap.json" "$L" pull "docker://$O/lab/layers:1"
assert_eq 0 "$rc" "pull lab/layers:1 with no limit"
layers_blobs=$(ls "$DATA8/launch/blobs/sha256" | sort)
layers_bytes=$(cache_bytes "$DATA8")
DATA7=$T/data7
user_dir "$DATA7"
capture as_user env XDG_DATA_HOME="$DATA7" LAUNCH_CONFIG="$T/nocap.json" "$L" pull "docker://$O/library/fixture:multi"
assert_eq 0 "$rc" "pull fixture:multi with no limit"
fixture_blobs=$(ls "$DATA7/launch/blobs/sha256" | wc -l)
assert_true "its blobs stay in the cache" test "$fixture_blobs" -gt 2
printf '{ "registry_ca_file": "%s", "blob_cache_max": %s }\n' "$R/ca.crt" "$layers_bytes" >"$T/cap.json"
capture as_user env XDG_DATA_HOME="$DATA7" LAUNCH_CONFIG="$T/cap.json" "$L" -v pull "docker://$O/lab/layers:1"
assert_eq 0 "$rc" "pull lab/layers:1 with blob_cache_max the size of its own blobs"
assert_eq "$layers_blobs" "$(ls "$DATA7/launch/blobs/sha256" | sort)" \
	"the cache keeps the blobs just used and evicted the older ones"
assert_true "and is within its limit" test "$(cache_bytes "$DATA7")" -le "$layers_bytes"
assert_contains "$err" "older blobs removed (blob_cache_max)" "-v says what the limit removed"
fixture_file=$(as_user env XDG_DATA_HOME="$DATA7" "$L" inspect "$O/library/fixture:multi" | sed -n 's/^ *"file": "\(.*\)",$/\1/p')
assert_eq amd64 "$(unsquashfs -cat "$fixture_file" etc/image-marker 2>/dev/null)" \
	"the image whose blobs were evicted is intact"

say "# prune while a pull runs: the pull's blobs stay, the pull completes"
DATA9=$T/data9
user_dir "$DATA9"
PX3=$(registry_free_port "$P_OPEN" "$P_TOKEN" "$P_BASIC" "$PX")
proxy_start "$R" slow3 "$PX3" "$P_OPEN" 4000000 || die "cannot start the proxy"
as_user_bg "$T/prunepull.pid" env XDG_DATA_HOME="$DATA9" LAUNCH_CONFIG="$T/nocap.json" "$L" pull \
	"docker://127.0.0.1:$PX3/library/debian:12" during:1
partial9() { for f in "$DATA9"/launch/blobs/partial/*; do [ -f "$f" ] && stat -c %s "$f"; done | sort -n | tail -1; }
started9() { _s=$(partial9); [ "${_s:-0}" -gt 1000000 ]; }
assert_true "the slow pull starts" wait_until 30 started9
capture as_user env XDG_DATA_HOME="$DATA9" "$L" prune
assert_eq 0 "$rc" "prune while the pull runs"
assert_contains "$out" "kept the blob cache: a pull is running" "leaves the cache, and says why"
assert_not_contains "$out" "removed partial" "no partial download is taken"
proxy_set_rate "$R" slow3 0
wait_exit "$BG" 120
assert_eq 0 "$rc" "the pull completes" || sed 's/^/  | /' "$T/bg.err"
capture as_user env XDG_DATA_HOME="$DATA9" "$L" run during:1 cat /etc/debian_version
assert_match "$out" '^12\.' "and its image runs"
capture as_user env XDG_DATA_HOME="$DATA9" "$L" prune
assert_match "$out" "^removed blob [0-9a-f]{64} \(" "once no pull runs, prune empties the cache"
assert_eq "" "$(ls "$DATA9/launch/blobs/sha256")" "the cache is empty"
proxy_stop "$R" slow3

say "# errors: precise, and nothing partial left in the store"
before=$(images_now)
lp pull "docker://$O/library/nosuch:1"
assert_eq 125 "$rc" "a missing repository fails"
assert_contains "$err" "not found in $O" "and says not found"
lp pull "docker://$O/library/debian:99"
assert_contains "$err" "library/debian:99 not found in $O (no such tag or digest)" "a missing tag says so"
lp pull "docker://127.0.0.1:9/library/debian:12"
assert_contains "$err" "registry 127.0.0.1:9 is unreachable" "an unreachable registry says so"
# a registry that rate-limits: a small server answering 429
RL=$(registry_free_port "$P_OPEN" "$P_TOKEN" "$P_BASIC" "$PX")
python3 -c '
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(429); self.send_header("Retry-After", "1234"); self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()' "$RL" &
rl_pid=$!
on_exit "kill $rl_pid"
wait_until 10 sh -c "curl -s -o /dev/null http://127.0.0.1:$RL/v2/"
printf '{ "insecure_registries": ["http://127.0.0.1:%s"] }\n' "$RL" >"$T/rl.json"
capture as_user env LAUNCH_CONFIG="$T/rl.json" XDG_DATA_HOME="$DATA" "$L" pull "docker://127.0.0.1:$RL/library/debian:12"
assert_eq 125 "$rc" "a rate-limited pull fails"
assert_contains "$err" "rate-limited by 127.0.0.1:$RL" "and says rate-limited"
assert_contains "$err" "retry after 1234 seconds" "with the registry's Retry-After"
kill "$rl_pid"
# a registry serving a corrupted layer
layer=$(python3 -c 'import json,sys
d=sys.argv[1]; i=json.load(open(d+"/index.json"))
m=json.load(open(d+"/blobs/sha256/"+i["manifests"][0]["digest"][7:]))
print(m["layers"][-1]["digest"][7:])' "$DEB/debian-layers-oci")
data_file=$R/open-storage/docker/registry/v2/blobs/sha256/$(printf %.2s "$layer")/$layer/data
[ -f "$data_file" ] || die "no blob data file $data_file"
cp "$data_file" "$T/good-data"
printf 'X' | dd of="$data_file" bs=1 seek=100 conv=notrunc 2>/dev/null
DATA5=$T/data5
user_dir "$DATA5"
capture as_user env XDG_DATA_HOME="$DATA5" LAUNCH_CONFIG="$T/site.json" "$L" pull "docker://$O/lab/layers:1"
assert_eq 125 "$rc" "a corrupted layer fails the pull"
assert_contains "$err" "digest mismatch" "with a digest mismatch"
assert_true "the corrupt blob is not in the cache" test ! -e "$DATA5/launch/blobs/sha256/$layer"
assert_eq "" "$(ls "$DATA5/launch/images" 2>/dev/null)" "and no image was stored"
cp "$T/good-data" "$data_file"
# a full disk
mkdir -p "$T/small"
mount -t tmpfs -o size=20m,mode=0755 tmpfs "$T/small" || die "cannot mount a small tmpfs"
on_exit "umount -l '$T/small'"
chown "$TU_UID:$TU_GID" "$T/small"
capture as_user env XDG_DATA_HOME="$T/small" LAUNCH_CONFIG="$T/site.json" "$L" pull "docker://$O/library/debian:12"
assert_eq 125 "$rc" "a pull into a full disk fails"
assert_contains "$err" "disk full" "and says the disk is full"
assert_eq "" "$(ls "$T/small/launch/images" 2>/dev/null)" "no image was stored"
umount -l "$T/small"
assert_eq "$before" "$(images_now)" "none of the failed pulls changed the store"
assert_true "every blob of the cache matches its digest" cache_sound

say "# progress on a terminal, quiet in batch jobs"
lp pull "docker://$O/library/fixture:multi" quiet-check
assert_not_contains "$err" "pulling:" "no progress without a terminal"
DATA6=$T/data6
user_dir "$DATA6"
proxy_start "$R" slow2 "$PX" "$P_OPEN" 8000000 || die "cannot start the proxy"
sock=$T/tmux.sock
on_exit "as_user tmux -S '$sock' kill-server"
as_user env TERM=xterm tmux -S "$sock" new-session -d -s p -x 160 -y 10 \
	"env XDG_DATA_HOME=$DATA6 LAUNCH_CONFIG=$T/site.json $L pull docker://127.0.0.1:$PX/lab/layers:1; sleep 120"
pane_progress() { as_user tmux -S "$sock" capture-pane -p -t p | grep -Eq 'pulling: [0-9] of 3 layers done \| [0-9a-f]{12} [0-9.]+/[0-9.]+ MiB'; }
assert_true "on a terminal, each layer's bytes are shown" wait_until 30 pane_progress
pane_done() { as_user tmux -S "$sock" capture-pane -p -t p | grep -q 'pulled docker://'; }
assert_true "the pull on the terminal completes" wait_until 60 pane_done
as_user tmux -S "$sock" kill-server
proxy_stop "$R" slow2

registry_stop_all "$R"
assert_clean "pulls"
finish
