#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Self-test of the registry harness (registry.sh, token_issuer.py,
# throttle_proxy.py), with curl and skopeo standing in for `launch pull`:
#
#   - registry_setup: CA, server certificate (SAN 127.0.0.1), htpasswd, token key
#   - open, basic and token registries on three free ports, filled by
#     registry_fill with the two-platform index good-oci (skopeo --all) and
#     the Debian layout debian-oci (one ~50 MB layer)
#   - open:  the OCI index comes back for the index Accept header
#   - basic: 401 without or with wrong credentials, 200 with them
#   - token: the Bearer challenge, tokens from the issuer (user, anonymous
#            public/, refused), a forged token refused, /stats counts
#   - Range: bytes=100- gives 206 with the right Content-Range and bytes
#   - proxy: throttles a download to about its rate; closes connections at
#            once while the registry is stopped; a download killed in the
#            middle by a registry restart resumes with a Range request
#   - registry_stop/proxy_stop leave no process and no listening port
#
# Usage: sh selftest.sh   (as root, or as a user for whom docker-registry
# runs; mkdebian.sh needs root if its layout is not cached yet)
# Environment:
#   LAUNCH_TEST_OCI_FIXTURES  mkoci.py output (default /tmp/oci-fixtures;
#                             made if missing)
#   LAUNCH_TEST_DEBIAN        mkdebian.sh output (default
#                             /var/tmp/launch-debian-test; made if missing)
#   LAUNCH_TEST_TMPDIR        where the work directory goes (default /var/tmp)
#   LAUNCH_TEST_MUST_WORK=1   a missing tool is a failure, not a skip
#   KEEP=1                    keep the work directory (logs) afterwards
# Prints PASS/FAIL per check; exit 0 all passed, 1 a failure, 77 skipped.

set -u

here=$(cd "$(dirname "$0")" && pwd)
REGISTRY_SH_DIR=$here
. "$here/registry.sh"

fixtures=${LAUNCH_TEST_OCI_FIXTURES:-/tmp/oci-fixtures}
debian=${LAUNCH_TEST_DEBIAN:-/var/tmp/launch-debian-test}
started=$(date +%s)
FAILS=0
NCHECKS=0

pass() {
	NCHECKS=$((NCHECKS + 1))
	printf 'PASS: %s\n' "$*"
}
fail() {
	NCHECKS=$((NCHECKS + 1))
	FAILS=$((FAILS + 1))
	printf 'FAIL: %s\n' "$*"
}
# check WHAT CMD...: PASS if CMD succeeds.
check() {
	_what=$1
	shift
	if "$@"; then pass "$_what"; else fail "$_what"; fi
}
# check_eq WHAT EXPECTED ACTUAL
check_eq() {
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: expected [$2], got [$3]"; fi
}
# check_contains WHAT HAYSTACK NEEDLE
check_contains() {
	case $2 in
	*"$3"*) pass "$1" ;;
	*) fail "$1: [$3] not in [$2]" ;;
	esac
}
# abort WHY: a failure that makes the rest moot.
abort() {
	fail "$*"
	exit 1
}
skip_all() {
	if [ "${LAUNCH_TEST_MUST_WORK:-0}" = 1 ]; then
		printf 'FAIL: %s (LAUNCH_TEST_MUST_WORK=1)\n' "$*"
		exit 1
	fi
	printf 'SKIP: %s\n' "$*"
	exit 77
}

for tool in docker-registry skopeo htpasswd openssl curl python3 pgrep ss sha256sum; do
	command -v "$tool" >/dev/null ||
		skip_all "$tool missing (apt-get install docker-registry skopeo apache2-utils openssl curl python3 procps iproute2)"
done

W=$(mktemp -d "${LAUNCH_TEST_TMPDIR:-/var/tmp}/registry-selftest.XXXXXX") || abort "mktemp"
chmod 0755 "$W"
D=$W/reg
mkdir "$D"
cleanup() {
	rc=$?
	trap - EXIT INT TERM HUP
	registry_stop_all "$D" 2>/dev/null
	if [ "${KEEP:-0}" = 1 ] || { [ "$rc" -ne 0 ] && [ "${KEEP:-}" != 0 ]; }; then
		printf 'work directory kept: %s\n' "$W"
	else
		rm -rf "$W"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# ---- fixtures ---------------------------------------------------------------

if [ ! -f "$fixtures/good-oci/index.json" ]; then
	python3 "$here/../fixtures/mkoci.py" "$fixtures" >"$W/mkoci.log" 2>&1 ||
		abort "mkoci.py $fixtures failed: $(tail -n 5 "$W/mkoci.log")"
fi
if [ ! -f "$debian/debian-oci/index.json" ]; then
	[ "$(id -u)" = 0 ] || skip_all "$debian/debian-oci missing and mkdebian.sh needs root"
	bash "$here/../fixtures/mkdebian.sh" "$debian" >"$W/mkdebian.log" 2>&1 ||
		abort "mkdebian.sh $debian failed: $(tail -n 5 "$W/mkdebian.log")"
fi

# jq-free JSON: jget FILE PYTHON-EXPRESSION-ON-j
jget() {
	python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}
layout_blob() { # layout_blob LAYOUT DIGEST: path of the blob
	printf '%s/blobs/sha256/%s\n' "$1" "${2#sha256:}"
}

good=$fixtures/good-oci
good_index=$(jget "$good/index.json" 'j["manifests"][0]["digest"]')
deb=$debian/debian-oci
deb_manifest=$(jget "$deb/index.json" 'j["manifests"][0]["digest"]')
deb_layer=$(jget "$(layout_blob "$deb" "$deb_manifest")" 'j["layers"][0]["digest"]')
deb_size=$(jget "$(layout_blob "$deb" "$deb_manifest")" 'j["layers"][0]["size"]')
printf 'fixtures: good-oci index %s; debian-oci layer %s (%s bytes)\n' "$good_index" "$deb_layer" "$deb_size"

# ---- registry_setup -----------------------------------------------------------

check "registry_setup makes the CA, certificates, htpasswd and token key" registry_setup "$D"
for f in ca.crt server.crt server.key certdir/ca.crt htpasswd token.key token.crt; do
	[ -s "$D/$f" ] || fail "registry_setup: $D/$f missing"
done
check "server certificate verifies against the CA for IP 127.0.0.1" \
	sh -c 'openssl verify -CAfile "$1/ca.crt" -verify_ip 127.0.0.1 "$1/server.crt" >/dev/null 2>&1' - "$D"
check "server certificate verifies for the name localhost" \
	sh -c 'openssl verify -CAfile "$1/ca.crt" -verify_hostname localhost "$1/server.crt" >/dev/null 2>&1' - "$D"
check "htpasswd has a bcrypt entry for launchuser" grep -q '^launchuser:\$2y\$' "$D/htpasswd"
check "htpasswd accepts launchpass" sh -c 'htpasswd -vb "$1/htpasswd" launchuser launchpass 2>/dev/null' - "$D"
check "registry_setup is idempotent" registry_setup "$D"

# ---- start three registries -----------------------------------------------------

P_OPEN=$(registry_free_port) || abort "no free port"
P_BASIC=$(registry_free_port "$P_OPEN") || abort "no free port"
P_TOKEN=$(registry_free_port "$P_OPEN" "$P_BASIC") || abort "no free port"
P_PROXY=$(registry_free_port "$P_OPEN" "$P_BASIC" "$P_TOKEN") || abort "no free port"
T_PORT=$((P_TOKEN + 1000))
T_SCHEME=${REGISTRY_TOKEN_SCHEME:-https}
printf 'ports: open %s, basic %s, token %s (issuer %s), proxy %s\n' \
	"$P_OPEN" "$P_BASIC" "$P_TOKEN" "$T_PORT" "$P_PROXY"

registry_start "$D" open open "$P_OPEN" || abort "registry_start open"
pass "registry_start open on $P_OPEN"
registry_start "$D" basic basic "$P_BASIC" || abort "registry_start basic"
pass "registry_start basic on $P_BASIC"
registry_start "$D" tok token "$P_TOKEN" || abort "registry_start token"
pass "registry_start token on $P_TOKEN"
if registry_start "$D" open open "$P_OPEN" 2>/dev/null; then
	fail "a second registry_start of a running NAME must fail"
else
	pass "a second registry_start of a running NAME fails"
fi

O=https://127.0.0.1:$P_OPEN
B=https://127.0.0.1:$P_BASIC
K=https://127.0.0.1:$P_TOKEN
CA=$D/ca.crt
IDX='application/vnd.oci.image.index.v1+json'
ACCEPT="Accept: $IDX, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json"

# ---- registry_fill ------------------------------------------------------------------

fill() { # fill NAME PORT SRC REF EXPECTED-DIGEST
	_got=$(registry_fill "$D" "$1" "$2" "$3" "$4") || {
		fail "registry_fill $1 $3 -> $4"
		return
	}
	check_eq "registry_fill $1 $4 prints the pushed digest" "$5" "$_got"
}
t0=$(date +%s)
for r in "open $P_OPEN" "basic $P_BASIC" "tok $P_TOKEN"; do
	set -- $r
	fill "$1" "$2" "oci:$good:good" library/fixture:multi "$good_index"
	fill "$1" "$2" "oci:$deb:latest" library/debian:12 "$deb_manifest"
done
fill tok "$P_TOKEN" "oci:$good:good" public/fixture:multi "$good_index"
fill tok "$P_TOKEN" "oci:$deb:latest" public/debian:12 "$deb_manifest"
printf 'pushes took %s s\n' "$(($(date +%s) - t0))"
if REGISTRY_CREDS=launchuser:wrong registry_fill "$D" basic "$P_BASIC" "oci:$good:good" library/fixture:bad >/dev/null 2>&1; then
	fail "registry_fill with wrong credentials must fail"
else
	pass "registry_fill with wrong credentials fails"
fi

# ---- curl helpers -------------------------------------------------------------------

# req URL [CURL-ARGS...]: GET; sets code, hdr (headers, CR stripped), body file $W/body.
req() {
	_u=$1
	shift
	code=$(curl -s --cacert "$CA" --max-time 30 -D "$W/hdr" -o "$W/body" -w '%{http_code}' "$@" "$_u") || true
	hdr=$(tr -d '\r' <"$W/hdr" 2>/dev/null)
}
header() { # header NAME: value of header NAME in $hdr (last one)
	printf '%s\n' "$hdr" | awk -v n="$(printf '%s' "$1" | tr 'A-Z' 'a-z')" '
		{ i = index($0, ":"); if (i && tolower(substr($0, 1, i - 1)) == n) { v = substr($0, i + 1); sub(/^ +/, "", v); last = v } }
		END { print last }'
}

# ---- open ---------------------------------------------------------------------------

req "$O/v2/"
check_eq "open: GET /v2/ is 200" 200 "$code"
req "$O/v2/library/fixture/manifests/multi" -H "$ACCEPT"
check_eq "open: GET manifests/multi is 200" 200 "$code"
check_eq "open: Content-Type is the OCI index" "$IDX" "$(header Content-Type)"
check_eq "open: Docker-Content-Digest is the index digest" "$good_index" "$(header Docker-Content-Digest)"
check_eq "open: the index is byte-identical to the layout's" \
	"$(sha256sum <"$(layout_blob "$good" "$good_index")" | cut -d' ' -f1)" "$(sha256sum <"$W/body" | cut -d' ' -f1)"
archs=$(jget "$W/body" '" ".join(sorted(m["platform"]["architecture"] for m in j["manifests"]))')
check_eq "open: the index lists arm64 and amd64" "amd64 arm64" "$archs"
for m in $(jget "$W/body" '" ".join(m["digest"] for m in j["manifests"])'); do
	req "$O/v2/library/fixture/manifests/$m" -H "$ACCEPT"
	check_eq "open: platform manifest $m pushed by --all" 200 "$code"
done
req "$O/v2/library/fixture/tags/list"
check_contains "open: tags/list has multi" "$(cat "$W/body")" '"multi"'

# ---- basic --------------------------------------------------------------------------

req "$B/v2/"
check_eq "basic: GET /v2/ without credentials is 401" 401 "$code"
check_contains "basic: the challenge is Basic" "$(header WWW-Authenticate)" 'Basic realm="launch-test-registry"'
req "$B/v2/library/fixture/manifests/multi" -H "$ACCEPT"
check_eq "basic: manifest without credentials is 401" 401 "$code"
req "$B/v2/library/fixture/manifests/multi" -H "$ACCEPT" -u launchuser:wrong
check_eq "basic: manifest with a wrong password is 401" 401 "$code"
req "$B/v2/library/fixture/manifests/multi" -H "$ACCEPT" -u launchuser:launchpass
check_eq "basic: manifest with launchuser:launchpass is 200" 200 "$code"
check_eq "basic: and it is the index" "$good_index" "$(header Docker-Content-Digest)"

# ---- token --------------------------------------------------------------------------

req "$K/v2/"
check_eq "token: GET /v2/ without a token is 401" 401 "$code"
check_contains "token: /v2/ challenge is Bearer with realm and service" "$(header WWW-Authenticate)" \
	"Bearer realm=\"$T_SCHEME://127.0.0.1:$T_PORT/token\",service=\"launch-test-registry\""
req "$K/v2/library/fixture/manifests/multi" -H "$ACCEPT"
check_eq "token: manifest without a token is 401" 401 "$code"
chal=$(header WWW-Authenticate)
check_eq "token: manifest challenge names realm, service and scope" \
	"Bearer realm=\"$T_SCHEME://127.0.0.1:$T_PORT/token\",service=\"launch-test-registry\",scope=\"repository:library/fixture:pull\"" "$chal"
realm=$(printf '%s' "$chal" | sed -n 's/.*realm="\([^"]*\)".*/\1/p')
service=$(printf '%s' "$chal" | sed -n 's/.*service="\([^"]*\)".*/\1/p')
scope=$(printf '%s' "$chal" | sed -n 's/.*scope="\([^"]*\)".*/\1/p')

# gettoken SCOPE [CURL-ARGS...]: ask the realm; sets code, token (or "").
gettoken() {
	_s=$1
	shift
	req "$realm" -G --data-urlencode "service=$service" --data-urlencode "scope=$_s" "$@"
	token=
	[ "$code" = 200 ] && token=$(jget "$W/body" 'j["token"]')
}
stats() {
	curl -s --cacert "$CA" "$T_SCHEME://127.0.0.1:$T_PORT/stats" >"$W/stats" && jget "$W/stats" 'j["tokens_issued"]'
}
issued0=$(stats)
gettoken "$scope" -u launchuser:launchpass
check_eq "token: the issuer gives launchuser a token" 200 "$code"
check_eq "token: the answer has token, access_token, expires_in 300, issued_at" "True 300 True" \
	"$(jget "$W/body" 'str(j["token"] == j["access_token"] and len(j["token"]) > 100) + " " + str(j["expires_in"]) + " " + str(j["issued_at"].endswith("Z"))')"
user_token=$token
req "$K/v2/library/fixture/manifests/multi" -H "$ACCEPT" -H "Authorization: Bearer $user_token"
check_eq "token: manifest with the Bearer token is 200" 200 "$code"
check_eq "token: and it is the index" "$good_index" "$(header Docker-Content-Digest)"
# The same token again: a client that caches tokens asks the issuer once.
req "$K/v2/library/fixture/manifests/multi" -H "$ACCEPT" -H "Authorization: Bearer $user_token"
check_eq "token: the token can be used again" 200 "$code"
req "$K/v2/library/debian/manifests/12" -H "$ACCEPT" -H "Authorization: Bearer $user_token"
check_eq "token: a token for library/fixture does not open library/debian" 401 "$code"
check_contains "token: that challenge says why" "$(header WWW-Authenticate)" 'error="insufficient_scope"'
# A forged token: one character of the signature changed.
forged=$(printf '%s' "$user_token" | python3 -c 'import sys; t = sys.stdin.read(); i = len(t) - 40; print(t[:i] + ("A" if t[i] != "A" else "B") + t[i + 1:])')
req "$K/v2/library/fixture/manifests/multi" -H "$ACCEPT" -H "Authorization: Bearer $forged"
check_eq "token: a forged token is refused" 401 "$code"
gettoken "$scope" -u launchuser:wrong
check_eq "token: the issuer refuses a wrong password" 401 "$code"
gettoken "$scope"
check_eq "token: no anonymous token for library/fixture" 401 "$code"
gettoken repository:public/fixture:pull
check_eq "token: an anonymous token for public/fixture" 200 "$code"
anon=$token
req "$K/v2/public/fixture/manifests/multi" -H "$ACCEPT" -H "Authorization: Bearer $anon"
check_eq "token: anonymous pull of public/fixture is 200" 200 "$code"
req "$K/v2/library/fixture/manifests/multi" -H "$ACCEPT" -H "Authorization: Bearer $anon"
check_eq "token: the public token does not open library/fixture" 401 "$code"
gettoken repository:public/fixture:pull,push
check_eq "token: anonymous pull,push on public/ gets a token" 200 "$code"
check_eq "token: ... with pull only" "['pull']" "$(python3 -c '
import base64, json, sys
p = sys.argv[1].split(".")[1]
print(json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))["access"][0]["actions"])' "$token")"
code=$(curl -s --cacert "$CA" -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $token" "$K/v2/public/fixture/blobs/uploads/")
check_eq "token: that token cannot start an upload" 401 "$code"
issued1=$(stats)
check_eq "token: /stats counts the tokens issued (3 here)" 3 "$((issued1 - issued0))"
check_contains "token: the issuer logs to $D/tok-token.log" "$(cat "$D/tok-token.log")" "user=launchuser"

# ---- Range ----------------------------------------------------------------------------

req "$O/v2/library/debian/blobs/$deb_layer" -H 'Range: bytes=100-'
check_eq "range: open blob GET with Range: bytes=100- is 206" 206 "$code"
check_eq "range: Content-Range" "bytes 100-$((deb_size - 1))/$deb_size" "$(header Content-Range)"
check_eq "range: the bytes from 100 on" \
	"$(tail -c +101 "$(layout_blob "$deb" "$deb_layer")" | sha256sum | cut -d' ' -f1)" "$(sha256sum <"$W/body" | cut -d' ' -f1)"
gettoken repository:public/debian:pull
req "$K/v2/public/debian/blobs/$deb_layer" -H 'Range: bytes=100-' -H "Authorization: Bearer $token"
check_eq "range: token registry, anonymous public/debian blob with Range is 206" 206 "$code"
req "$B/v2/library/debian/blobs/$deb_layer" -u launchuser:launchpass -H "Range: bytes=$((deb_size - 10))-"
check_eq "range: basic registry, last 10 bytes" "206 10" "$code $(wc -c <"$W/body" | tr -d ' ')"

# ---- the throttling proxy ------------------------------------------------------------------

RATE=1048576
proxy_start "$D" px "$P_PROXY" "$P_OPEN" "$RATE" || abort "proxy_start"
pass "proxy_start px $P_PROXY -> $P_OPEN at $RATE bytes/s"
PX=https://127.0.0.1:$P_PROXY
# 3 MiB through the proxy: about 3 s. Directly: well under a second.
n=$((3 * RATE))
direct=$(curl -s --cacert "$CA" -o /dev/null -H "Range: bytes=0-$((n - 1))" -w '%{http_code} %{size_download} %{time_total}' "$O/v2/library/debian/blobs/$deb_layer")
slow=$(curl -s --cacert "$CA" -o /dev/null -H "Range: bytes=0-$((n - 1))" -w '%{http_code} %{size_download} %{time_total}' "$PX/v2/library/debian/blobs/$deb_layer")
printf 'direct: %s; through the proxy: %s\n' "$direct" "$slow"
set -- $slow
check_eq "proxy: TLS passes through, 3 MiB come back" "206 $n" "$1 $2"
check "proxy: 3 MiB at 1 MiB/s take 2.5..5 s (took $3 s)" \
	python3 -c 'import sys; sys.exit(not 2.5 <= float(sys.argv[1]) <= 5.0)' "$3"
set -- $direct
check "proxy: without it 3 MiB take < 1.5 s (took $3 s)" \
	python3 -c 'import sys; sys.exit(not float(sys.argv[1]) < 1.5)' "$3"

# A full download through the proxy at 2 MiB/s, the registry stopped after
# 2 s: the download is cut short.
proxy_set_rate "$D" px $((2 * RATE))
part=$W/layer.part
curl -s --cacert "$CA" -o "$part" "$PX/v2/library/debian/blobs/$deb_layer" 2>/dev/null &
cpid=$!
sleep 2
registry_stop "$D" open
check "registry_stop: the pid file is gone" test ! -e "$D/open.pid"
i=0
while kill -0 "$cpid" 2>/dev/null && [ "$i" -lt 150 ]; do
	sleep 0.1
	i=$((i + 1))
done
if kill -0 "$cpid" 2>/dev/null; then
	kill "$cpid"
	fail "proxy: the download did not end within 15 s of the registry stop"
fi
wait "$cpid"
crc=$?
have=$(wc -c <"$part" | tr -d ' ')
printf 'download cut at %s of %s bytes (curl exit %s)\n' "$have" "$deb_size" "$crc"
check "proxy: the download was cut short (curl exit $crc, $have bytes)" \
	test "$crc" -ne 0 -a "$have" -gt 1000000 -a "$have" -lt "$deb_size"
# While the registry is down: the proxy accepts and closes at once.
t0=$(python3 -c 'import time; print(time.monotonic())')
code=$(curl -s --cacert "$CA" --max-time 10 -o /dev/null -w '%{http_code}' "$PX/v2/") && crc=0 || crc=$?
dt=$(python3 -c 'import sys, time; print("%.2f" % (time.monotonic() - float(sys.argv[1])))' "$t0")
check "proxy: with the registry down a request fails at once (curl exit $crc, code $code, $dt s)" \
	python3 -c 'import sys; sys.exit(not (sys.argv[1] != "0" and sys.argv[2] == "000" and float(sys.argv[3]) < 2))' "$crc" "$code" "$dt"
check_contains "proxy: its log says the target is down" "$(cat "$D/px-proxy.log")" "target down"
code=$(curl -s --cacert "$CA" --max-time 10 -o /dev/null -w '%{http_code}' "$O/v2/") || true
check_eq "registry_stop: nothing answers on the open port" 000 "$code"

# Restart the same NAME: the storage is kept; the download resumes with a
# Range request (curl -C -), now at full speed.
registry_start "$D" open open "$P_OPEN" || abort "registry_start open (again)"
req "$O/v2/library/fixture/manifests/multi" -H "$ACCEPT"
check_eq "restart: the storage of NAME survived (manifest 200)" 200 "$code"
proxy_set_rate "$D" px 0
code=$(curl -s --cacert "$CA" -C - -o "$part" -w '%{http_code}' "$PX/v2/library/debian/blobs/$deb_layer") || true
check_eq "resume: curl -C - through the proxy gets 206" 206 "$code"
check_eq "resume: the resumed layer has the right digest" "${deb_layer#sha256:}" "$(sha256sum <"$part" | cut -d' ' -f1)"
# Access log (combined format): "GET ... HTTP/2.0" 206 BYTES (curl speaks
# HTTP/2 to the registry when ALPN offers it).
check "resume: the registry's access log shows a 206 of the remaining $((deb_size - have)) bytes" \
	grep -qE "GET /v2/library/debian/blobs/$deb_layer HTTP/[0-9.]+\" 206 $((deb_size - have)) " "$D/open.log"

# keep-token: the issuer (and its counters) survive a registry restart.
issued2=$(stats)
registry_stop "$D" tok keep-token
check "keep-token: the issuer still answers" sh -c 'curl -sf --cacert "$1" "$2" >/dev/null' - "$CA" "$T_SCHEME://127.0.0.1:$T_PORT/stats"
registry_start "$D" tok token "$P_TOKEN" || abort "registry_start tok (again)"
check_eq "keep-token: /stats kept its count" "$issued2" "$(stats)"

# ---- stop everything ----------------------------------------------------------------

registry_stop "$D" open && registry_stop "$D" basic && registry_stop "$D" tok && proxy_stop "$D" px
check_eq "stop: every function returned 0" 0 "$?"
check "stop: registry_stop of a stopped NAME is not an error" registry_stop "$D" open
check "stop: no pid file is left" sh -c '! ls "$1"/*.pid >/dev/null 2>&1' - "$D"
left=$(pgrep -af "$D/" || true)
check_eq "stop: pgrep finds no process of ours" "" "$left"
listening=
for p in "$P_OPEN" "$P_BASIC" "$P_TOKEN" "$T_PORT" "$P_PROXY"; do
	[ -n "$(ss -Hltn "sport = :$p")" ] && listening="$listening $p"
done
check_eq "stop: ss finds none of our ports listening" "" "$listening"

printf 'selftest.sh: %s checks, %s failed, %s s\n' "$NCHECKS" "$FAILS" "$(($(date +%s) - started))"
[ "$FAILS" -eq 0 ]
