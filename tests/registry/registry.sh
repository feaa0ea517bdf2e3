#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# A real OCI registry (Debian's docker-registry, distribution 2.8) on
# loopback for the tests of `launch pull`, with TLS, basic or token auth, a
# token issuer and a throttling proxy. POSIX sh plus `local` (dash, bash,
# busybox ash); function-local variables start with _ and are `local`.
#
# Debian 12 packages it needs (CI installs them as root):
#   docker-registry   the registry (no systemd needed: started here)
#   skopeo            pushes the fixtures (registry_fill)
#   apache2-utils     htpasswd -B (bcrypt) for the basic mode
#   openssl           the test CA, certificates and token signatures
#   python3           token_issuer.py, throttle_proxy.py (stdlib only)
#   curl              readiness checks (and selftest.sh)
#   procps iproute2   pgrep and ss (selftest.sh only)
#
# Use from a test (sh):
#   REGISTRY_SH_DIR=/path/to/tests/registry     # unless found (see below)
#   . "$REGISTRY_SH_DIR/registry.sh"
#   D=$T/reg; mkdir -p "$D"
#   registry_setup "$D"
#   registry_start "$D" reg token 5000 || die "no registry"
#   on_exit "registry_stop_all '$D'"
#   registry_fill "$D" reg 5000 oci:/tmp/oci-fixtures/good-oci:good library/fixture:multi
# or by hand, as a command with the function name minus its prefix:
#   sh registry.sh setup DIR | start DIR NAME MODE PORT | stop DIR NAME
#      | fill DIR NAME PORT SRC REF | stop-all DIR | free-port
#      | dir-archive ROOTFS REPO:TAG OUT.tar [ENV...]
#      | proxy-start DIR NAME LISTEN TARGET BPS | proxy-stop DIR NAME
#      | proxy-set-rate DIR NAME BPS
#
# Conventions (everything lives in the caller's DIR; all paths absolute):
#   DIR/ca.crt, ca.key          test CA ("launch test CA"); clients trust ca.crt
#   DIR/server.crt, server.key  server certificate, SAN IP:127.0.0.1, DNS:localhost
#   DIR/certdir/ca.crt          the CA alone: for skopeo --*-cert-dir and
#                               /etc/containers/certs.d-style lookups
#   DIR/htpasswd                launchuser:launchpass, bcrypt
#   DIR/token.key, token.crt    RSA key signing the tokens, its self-signed cert
#   DIR/NAME.yml                the registry's config (rewritten by each start)
#   DIR/NAME.pid, NAME.log      pid; stdout+stderr incl. the access log
#                               (combined format: a resumed blob GET shows as 206)
#   DIR/NAME.port, NAME.mode    what registry_start was given (registry_fill
#                               reads NAME.mode to decide on credentials)
#   DIR/NAME-storage/           storage, kept across restarts of the same NAME
#   DIR/NAME-token.pid, .log    the token issuer of a token-mode registry
#   DIR/NAME-token.port         its port
#   DIR/NAME-proxy.pid, .log    a throttling proxy (its own NAME space: a
#   DIR/NAME-proxy.rate         proxy and a registry may share a NAME)
#
# Ports: the caller chooses them (registry_free_port helps). Everything
# listens on 127.0.0.1 only. A token-mode registry on PORT gets its issuer on
# PORT+1000 unless REGISTRY_TOKEN_PORT is set.
#
# Token realm: https://127.0.0.1:TOKENPORT/token (the issuer serves TLS with
# the same server certificate, so a client that trusts ca.crt trusts both);
# REGISTRY_TOKEN_SCHEME=http makes it plain http://127.0.0.1:TOKENPORT/token.
# service "launch-test-registry", issuer "launch-test-issuer".
#
# Environment knobs (read when the function runs):
#   REGISTRY_SH_DIR           directory holding this file and the .py helpers
#   REGISTRY_TOKEN_PORT       issuer port (default PORT+1000)
#   REGISTRY_TOKEN_SCHEME     https (default) or http
#   REGISTRY_TOKEN_EXPIRES_IN token lifetime in seconds (default 300)
#   REGISTRY_CREDS            what registry_fill sends (default launchuser:launchpass)
#   REGISTRY_START_TIMEOUT    seconds registry_start waits (default 30)
#   PYTHON                    python interpreter (default python3)
#
# Every function returns 0 on success and non-zero on failure with a message
# on stderr naming the function; stdout carries only the documented results.
# Safe under `set -u` and `set -e` in the caller.
# The daemons get </dev/null and their output goes to their log files, so
# they never hold a test's stdout pipe open.

# `local` is not POSIX but every sh that Debian ships has it.
# shellcheck disable=SC3043,SC3028,SC2094
REGISTRY_SERVICE=launch-test-registry
REGISTRY_ISSUER=launch-test-issuer
REGISTRY_USER=launchuser
REGISTRY_PASS=launchpass

# Where this file and its python helpers are. A sourced POSIX sh script
# cannot know its own path: REGISTRY_SH_DIR wins, then bash's BASH_SOURCE,
# then the caller's directory and its ../registry (tests/integration/x.sh).
_reg_find_dir() {
	local _rd
	for _rd in "${REGISTRY_SH_DIR:-}" "$(dirname "${BASH_SOURCE:-/nonexistent/x}")" \
		"$(dirname "$0")" "$(dirname "$0")/../registry" "$(dirname "$0")/registry"; do
		if [ -n "$_rd" ] && [ -f "$_rd/token_issuer.py" ] && [ -f "$_rd/registry.sh" ]; then
			(cd "$_rd" && pwd)
			return 0
		fi
	done
	return 1
}
REGISTRY_SH_DIR=$(_reg_find_dir) || REGISTRY_SH_DIR=

_reg_err() {
	printf '%s\n' "$*" >&2
}

# _reg_abs DIR: print DIR as an absolute path; fail if it is not a directory.
_reg_abs() {
	[ -d "$1" ] || {
		_reg_err "registry.sh: $1: no such directory (the caller creates it)"
		return 1
	}
	(cd "$1" && pwd)
}

# _reg_need_helpers: the python helpers must have been found.
_reg_need_helpers() {
	[ -n "$REGISTRY_SH_DIR" ] && return 0
	_reg_err "registry.sh: cannot find token_issuer.py/throttle_proxy.py: set REGISTRY_SH_DIR"
	return 1
}

# _reg_alive PID: PID exists and is not a zombie (a daemon whose parent
# shell is gone may stay a zombie under an init that does not reap).
_reg_alive() {
	local _rs
	[ -r "/proc/$1/stat" ] || return 1
	_rs=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
	[ -n "$_rs" ] && [ "$_rs" != Z ] && [ "$_rs" != X ]
}

# _reg_is PID PATTERN: PID is alive and its command line contains PATTERN
# (a path unique to the process: guards against a recycled pid).
_reg_is() {
	_reg_alive "$1" || return 1
	tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF -- "$2"
}

# _reg_running PIDFILE PATTERN: the process of PIDFILE runs; prints its pid.
_reg_running() {
	local _rp
	[ -f "$1" ] || return 1
	_rp=$(cat "$1" 2>/dev/null)
	case $_rp in '' | *[!0-9]*) return 1 ;; esac
	_reg_is "$_rp" "$2" || return 1
	printf '%s\n' "$_rp"
}

# _reg_kill PIDFILE PATTERN: stop the process of PIDFILE (TERM, then KILL
# after 5 s), reap it if it is our child, remove PIDFILE. Only that pid is
# signalled, and only if its command line still contains PATTERN.
_reg_kill() {
	local _rk _ri
	if ! _rk=$(_reg_running "$1" "$2"); then
		rm -f "$1"
		return 0
	fi
	kill -TERM "$_rk" 2>/dev/null
	_ri=0
	while _reg_alive "$_rk" && [ "$_ri" -lt 50 ]; do
		sleep 0.1
		_ri=$((_ri + 1))
	done
	if _reg_alive "$_rk"; then
		kill -KILL "$_rk" 2>/dev/null
		_ri=0
		while _reg_alive "$_rk" && [ "$_ri" -lt 50 ]; do
			sleep 0.1
			_ri=$((_ri + 1))
		done
	fi
	if _reg_alive "$_rk"; then
		_reg_err "registry.sh: pid $_rk ($2) does not die"
		return 1
	fi
	wait "$_rk" 2>/dev/null || true # reap it if it is our child; harmless otherwise
	rm -f "$1"
	return 0
}

# _reg_port_free PORT: nothing listens on 127.0.0.1:PORT.
_reg_port_free() {
	"${PYTHON:-python3}" -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)' "$1"
}

# _reg_check_port WHAT PORT: PORT is a number in 1..65535.
_reg_check_port() {
	case $2 in
	'' | *[!0-9]*) ;;
	*) [ "$2" -ge 1 ] && [ "$2" -le 65535 ] && return 0 ;;
	esac
	_reg_err "registry.sh: $1: bad port [$2]"
	return 1
}

# _reg_http_code URL CA: the HTTP status of GET URL (000: no answer).
_reg_http_code() {
	curl -s -o /dev/null -w '%{http_code}' --max-time 2 --cacert "$2" "$1" 2>/dev/null || true
}

# registry_free_port [AVOID...]
#   Print a port P in 20000..29999 such that 127.0.0.1:P and :P+1000 (the
#   token issuer's default) are both free and P is none of AVOID. Nothing
#   holds the port afterwards: use it at once.
registry_free_port() {
	"${PYTHON:-python3}" -c '
import random, socket, sys
avoid = {int(a) for a in sys.argv[1:]}
def free(p):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", p))
        return True
    except OSError:
        return False
    finally:
        s.close()
for _ in range(1000):
    p = random.randrange(20000, 30000)
    if p not in avoid and p + 1000 not in avoid and free(p) and free(p + 1000):
        print(p)
        sys.exit(0)
sys.exit("registry_free_port: no free port found")' "$@"
}

# registry_setup DIR
#   Make in DIR (which must exist): a test CA, a server certificate for
#   127.0.0.1 and localhost signed by it, DIR/certdir/ca.crt, an htpasswd
#   file (bcrypt) with launchuser/launchpass, and the token-signing RSA key
#   and its self-signed certificate. Idempotent: a DIR set up before is kept
#   as it is (DIR/.registry-setup marks it). Prints nothing; the openssl
#   output goes to DIR/setup.log.
registry_setup() {
	local _d
	[ $# -eq 1 ] || {
		_reg_err "usage: registry_setup DIR"
		return 2
	}
	_d=$(_reg_abs "$1") || return 1
	[ -f "$_d/.registry-setup" ] && return 0
	command -v openssl >/dev/null || {
		_reg_err "registry_setup: openssl missing (apt-get install openssl)"
		return 1
	}
	command -v htpasswd >/dev/null || {
		_reg_err "registry_setup: htpasswd missing (apt-get install apache2-utils)"
		return 1
	}
	(
		set -e
		umask 022
		cd "$_d"
		exec >setup.log 2>&1
		# The CA: a real CA certificate (basicConstraints CA:TRUE).
		openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
			-keyout ca.key -out ca.crt -subj "/CN=launch test CA" \
			-addext "basicConstraints=critical,CA:TRUE" \
			-addext "keyUsage=critical,keyCertSign,cRLSign" \
			-addext "subjectKeyIdentifier=hash"
		# The server certificate: SANs are what clients check (Go and
		# OpenSSL ignore the CN).
		openssl req -new -newkey rsa:2048 -nodes -sha256 \
			-keyout server.key -out server.csr -subj "/CN=127.0.0.1"
		cat >server.ext <<-'EOF'
			basicConstraints=critical,CA:FALSE
			keyUsage=critical,digitalSignature,keyEncipherment
			extendedKeyUsage=serverAuth
			subjectAltName=IP:127.0.0.1,DNS:localhost
			subjectKeyIdentifier=hash
			authorityKeyIdentifier=keyid
		EOF
		openssl x509 -req -sha256 -days 3650 -in server.csr -CA ca.crt -CAkey ca.key \
			-set_serial "0x$(openssl rand -hex 8)" -extfile server.ext -out server.crt
		rm -f server.csr server.ext
		openssl verify -CAfile ca.crt server.crt
		mkdir -p certdir
		cp ca.crt certdir/ca.crt
		# Basic auth: bcrypt, the only hash docker-registry accepts.
		htpasswd -Bbc htpasswd "$REGISTRY_USER" "$REGISTRY_PASS"
		# Token signing: RSA (RS256), self-signed; the registry's
		# rootcertbundle is this certificate and the tokens carry it in x5c.
		openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
			-keyout token.key -out token.crt -subj "/CN=launch test token signer"
		chmod 0644 ca.crt server.crt token.crt certdir/ca.crt htpasswd
		chmod 0600 ca.key server.key token.key
		: >.registry-setup
	) || {
		_reg_err "registry_setup: failed; see $_d/setup.log:"
		tail -n 20 "$_d/setup.log" >&2
		return 1
	}
}

# _reg_write_config DIR NAME MODE PORT TOKENURL: write DIR/NAME.yml.
_reg_write_config() {
	{
		cat <<-EOF
			# Written by registry.sh (registry_start $2 $3 $4).
			version: 0.1
			log:
			  level: info
			  formatter: text
			  accesslog:
			    disabled: false
			storage:
			  filesystem:
			    rootdirectory: $1/$2-storage
			  delete:
			    enabled: true
			  maintenance:
			    uploadpurging:
			      enabled: false
			http:
			  addr: 127.0.0.1:$4
			  secret: launch-test-secret-$2
			  tls:
			    certificate: $1/server.crt
			    key: $1/server.key
			  headers:
			    X-Content-Type-Options: [nosniff]
		EOF
		case $3 in
		basic)
			cat <<-EOF
				auth:
				  htpasswd:
				    realm: $REGISTRY_SERVICE
				    path: $1/htpasswd
			EOF
			;;
		token)
			cat <<-EOF
				auth:
				  token:
				    realm: $5
				    service: $REGISTRY_SERVICE
				    issuer: $REGISTRY_ISSUER
				    rootcertbundle: $1/token.crt
			EOF
			;;
		esac
	} >"$1/$2.yml"
}

# _reg_start_issuer DIR NAME PORT SCHEME: start (or keep) the token issuer.
_reg_start_issuer() {
	local _d="$1" _n="$2" _tport="$3" _scheme="$4" _tlog _tpid _ti
	_tlog=$_d/$_n-token.log
	if _reg_running "$_d/$_n-token.pid" "$_tlog" >/dev/null; then
		if [ "$(cat "$_d/$_n-token.port" 2>/dev/null)" = "$_tport" ]; then
			return 0 # kept by registry_stop ... keep-token
		fi
		_reg_kill "$_d/$_n-token.pid" "$_tlog" || return 1
	fi
	_reg_port_free "$_tport" || {
		_reg_err "registry_start: token issuer port 127.0.0.1:$_tport is in use"
		return 1
	}
	set --
	if [ "$_scheme" = https ]; then
		set -- --tls-cert "$_d/server.crt" --tls-key "$_d/server.key"
	fi
	"${PYTHON:-python3}" "$REGISTRY_SH_DIR/token_issuer.py" --port "$_tport" \
		--key "$_d/token.key" --cert "$_d/token.crt" --log "$_tlog" \
		--issuer "$REGISTRY_ISSUER" --user "$REGISTRY_USER:$REGISTRY_PASS" \
		--expires-in "${REGISTRY_TOKEN_EXPIRES_IN:-300}" "$@" \
		</dev/null >>"$_tlog" 2>&1 &
	_tpid=$!
	echo "$_tpid" >"$_d/$_n-token.pid"
	echo "$_tport" >"$_d/$_n-token.port"
	_ti=0
	while :; do
		if ! _reg_alive "$_tpid"; then
			wait "$_tpid" 2>/dev/null || true
			_reg_err "registry_start: the token issuer died; $_tlog:"
			tail -n 20 "$_tlog" >&2
			rm -f "$_d/$_n-token.pid"
			return 1
		fi
		[ "$(_reg_http_code "$_scheme://127.0.0.1:$_tport/stats" "$_d/ca.crt")" = 200 ] && return 0
		_ti=$((_ti + 1))
		[ "$_ti" -lt 100 ] || break
		sleep 0.1
	done
	_reg_err "registry_start: the token issuer does not answer on $_scheme://127.0.0.1:$_tport/stats"
	_reg_kill "$_d/$_n-token.pid" "$_tlog"
	return 1
}

# registry_start DIR NAME MODE PORT
#   Start `docker-registry serve DIR/NAME.yml` in the background on
#   https://127.0.0.1:PORT (the test certificate), storage DIR/NAME-storage.
#   MODE: open (no auth), basic (htpasswd), token (bearer tokens from
#   token_issuer.py, started here on REGISTRY_TOKEN_PORT or PORT+1000,
#   realm https://127.0.0.1:TOKENPORT/token). Writes DIR/NAME.pid and waits
#   until GET /v2/ answers 200 or 401 (REGISTRY_START_TIMEOUT, 30 s).
#   Fails if NAME already runs or a port is taken. Prints one line to
#   stderr: "registry_start: NAME (MODE) up on https://127.0.0.1:PORT, pid N".
registry_start() {
	local _d _n _m _p _rp _url _tport _tscheme _ri _rmax
	[ $# -eq 4 ] || {
		_reg_err "usage: registry_start DIR NAME MODE PORT"
		return 2
	}
	_d=$(_reg_abs "$1") || return 1
	_n=$2 _m=$3 _p=$4
	case $_m in open | basic | token) ;; *)
		_reg_err "registry_start: MODE must be open, basic or token, not [$_m]"
		return 2
		;;
	esac
	_reg_check_port registry_start "$_p" || return 2
	[ -f "$_d/.registry-setup" ] || {
		_reg_err "registry_start: run registry_setup $_d first"
		return 1
	}
	command -v docker-registry >/dev/null || {
		_reg_err "registry_start: docker-registry missing (apt-get install docker-registry)"
		return 1
	}
	if _rp=$(_reg_running "$_d/$_n.pid" "$_d/$_n.yml"); then
		_reg_err "registry_start: $_n already runs (pid $_rp)"
		return 1
	fi
	_reg_port_free "$_p" || {
		_reg_err "registry_start: 127.0.0.1:$_p is in use"
		return 1
	}
	_url=
	if [ "$_m" = token ]; then
		_reg_need_helpers || return 1
		_tport=${REGISTRY_TOKEN_PORT:-$((_p + 1000))}
		_tscheme=${REGISTRY_TOKEN_SCHEME:-https}
		case $_tscheme in http | https) ;; *)
			_reg_err "registry_start: REGISTRY_TOKEN_SCHEME must be http or https"
			return 2
			;;
		esac
		_reg_check_port registry_start "$_tport" || return 2
		_url=$_tscheme://127.0.0.1:$_tport/token
		_reg_start_issuer "$_d" "$_n" "$_tport" "$_tscheme" || return 1
	else
		# A token issuer left by "registry_stop ... keep-token" is not wanted.
		_reg_kill "$_d/$_n-token.pid" "$_d/$_n-token.log"
	fi
	mkdir -p "$_d/$_n-storage"
	_reg_write_config "$_d" "$_n" "$_m" "$_p" "$_url"
	echo "$_m" >"$_d/$_n.mode"
	echo "$_p" >"$_d/$_n.port"
	printf '=== registry_start %s %s %s (%s)\n' "$_n" "$_m" "$_p" "$(date -u +%FT%TZ)" >>"$_d/$_n.log"
	docker-registry serve "$_d/$_n.yml" </dev/null >>"$_d/$_n.log" 2>&1 &
	_rp=$!
	echo "$_rp" >"$_d/$_n.pid"
	_ri=0
	_rmax=$((${REGISTRY_START_TIMEOUT:-30} * 10))
	while :; do
		if ! _reg_alive "$_rp"; then
			wait "$_rp" 2>/dev/null || true
			_reg_err "registry_start: docker-registry $_n died; $_d/$_n.log:"
			tail -n 20 "$_d/$_n.log" >&2
			rm -f "$_d/$_n.pid"
			[ "$_m" = token ] && _reg_kill "$_d/$_n-token.pid" "$_d/$_n-token.log"
			return 1
		fi
		case $(_reg_http_code "https://127.0.0.1:$_p/v2/" "$_d/ca.crt") in
		200 | 401) break ;;
		esac
		_ri=$((_ri + 1))
		if [ "$_ri" -ge "$_rmax" ]; then
			_reg_err "registry_start: $_n does not answer on https://127.0.0.1:$_p/v2/"
			tail -n 20 "$_d/$_n.log" >&2
			registry_stop "$_d" "$_n"
			return 1
		fi
		sleep 0.1
	done
	_reg_err "registry_start: $_n ($_m) up on https://127.0.0.1:$_p, pid $_rp${_url:+, token realm $_url}"
	return 0
}

# registry_stop DIR NAME [keep-token]
#   Stop the registry NAME (SIGTERM, SIGKILL after 5 s; only the pid in
#   DIR/NAME.pid, and only if it still runs DIR/NAME.yml) and its token
#   issuer, unless keep-token is given: then the issuer keeps running (its
#   /stats counters survive) and the next registry_start of NAME in token
#   mode with the same issuer port reuses it. Nothing running is not an
#   error. Prints nothing; returns 1 if a process would not die.
registry_stop() {
	local _d _rr
	[ $# -eq 2 ] || [ $# -eq 3 ] || {
		_reg_err "usage: registry_stop DIR NAME [keep-token]"
		return 2
	}
	_d=$(_reg_abs "$1") || return 1
	_rr=0
	_reg_kill "$_d/$2.pid" "$_d/$2.yml" || _rr=1
	if [ "${3:-}" != keep-token ]; then
		_reg_kill "$_d/$2-token.pid" "$_d/$2-token.log" || _rr=1
	fi
	return $_rr
}

# In a test (lib.sh's on_exit and die): registry_test_dir DIR makes the
# test's registry directory DIR (registry_setup), readable by the test user,
# with every registry of it stopped when the test ends; registry_test_open DIR
# also starts an open registry there on a free loopback port, REG_PORT.
registry_test_dir() {
	mkdir -p "$1"
	registry_setup "$1" || die "registry_setup failed"
	chmod -R a+rX "$1"
	on_exit "registry_stop_all '$1'"
}
registry_test_open() {
	registry_test_dir "$1"
	REG_PORT=$(registry_free_port)
	registry_start "$1" open open "$REG_PORT" || die "cannot start the registry"
}

# registry_stop_all DIR
#   Stop every registry, token issuer and proxy that registry.sh started
#   with this DIR (all DIR/*.pid). For an exit trap. Prints nothing.
registry_stop_all() {
	local _d _rr _f _b
	_d=$(_reg_abs "$1") || return 1
	_rr=0
	for _f in "$_d"/*.pid; do
		[ -f "$_f" ] || continue
		_b=${_f%.pid}
		case $_b in
		*-proxy | *-token) _reg_kill "$_f" "$_b.log" || _rr=1 ;;
		*) _reg_kill "$_f" "$_b.yml" || _rr=1 ;;
		esac
	done
	return $_rr
}

# registry_fill DIR NAME PORT SRC REF [SKOPEO_COPY_OPTIONS...]
#   Push SRC (any skopeo source: oci:LAYOUT:TAG, docker-archive:FILE, ...)
#   to docker://127.0.0.1:PORT/REF with `skopeo copy --all` (every platform
#   of an index), trusting DIR/certdir, with --dest-creds REGISTRY_CREDS
#   (default launchuser:launchpass) when NAME's mode is basic or token. For
#   oci: sources --preserve-digests is added, so the registry holds exactly
#   the layout's blobs and manifests. Prints the digest of the pushed
#   top-level manifest (or index), "sha256:...", on stdout; skopeo's
#   output goes to stderr only on failure.
registry_fill() {
	local _d _n _p _src _ref _m _df _fl
	[ $# -ge 5 ] || {
		_reg_err "usage: registry_fill DIR NAME PORT SRC REF [SKOPEO_COPY_OPTIONS...]"
		return 2
	}
	_d=$(_reg_abs "$1") || return 1
	_n=$2 _p=$3 _src=$4 _ref=$5
	shift 5
	_reg_check_port registry_fill "$_p" || return 2
	_m=$(cat "$_d/$_n.mode" 2>/dev/null) || _m=open
	_df=$_d/.fill-digest.$$
	_fl=$_d/.fill-log.$$
	case $_src in oci:*) set -- --preserve-digests "$@" ;; esac
	case $_m in
	basic | token) set -- --dest-creds "${REGISTRY_CREDS:-$REGISTRY_USER:$REGISTRY_PASS}" "$@" ;;
	esac
	if skopeo --insecure-policy copy --all --retry-times 2 --dest-cert-dir "$_d/certdir" \
		--digestfile "$_df" "$@" "$_src" "docker://127.0.0.1:$_p/$_ref" >"$_fl" 2>&1; then
		cat "$_df"
		echo
		rm -f "$_df" "$_fl"
		return 0
	fi
	_reg_err "registry_fill: skopeo copy $_src -> 127.0.0.1:$_p/$_ref failed:"
	cat "$_fl" >&2
	rm -f "$_df" "$_fl"
	return 1
}

# proxy_start DIR NAME LISTEN_PORT TARGET_PORT BYTES_PER_SEC
#   Start throttle_proxy.py: raw TCP from 127.0.0.1:LISTEN_PORT to
#   127.0.0.1:TARGET_PORT (TLS passes through: clients still see the
#   registry's certificate for 127.0.0.1), each connection's
#   server->client direction limited to BYTES_PER_SEC (0: unlimited);
#   connections accepted while the target is down are closed at once.
#   Files DIR/NAME-proxy.{pid,log,rate}. Waits until it listens. Prints
#   nothing on stdout.
proxy_start() {
	local _d _n _plog _rp _ri
	[ $# -eq 5 ] || {
		_reg_err "usage: proxy_start DIR NAME LISTEN_PORT TARGET_PORT BYTES_PER_SEC"
		return 2
	}
	_d=$(_reg_abs "$1") || return 1
	_reg_need_helpers || return 1
	_n=$2
	_reg_check_port proxy_start "$3" || return 2
	_reg_check_port proxy_start "$4" || return 2
	case $5 in '' | *[!0-9]*)
		_reg_err "proxy_start: BYTES_PER_SEC must be a number"
		return 2
		;;
	esac
	_plog=$_d/$_n-proxy.log
	if _rp=$(_reg_running "$_d/$_n-proxy.pid" "$_plog"); then
		_reg_err "proxy_start: proxy $_n already runs (pid $_rp)"
		return 1
	fi
	_reg_port_free "$3" || {
		_reg_err "proxy_start: 127.0.0.1:$3 is in use"
		return 1
	}
	echo "$5" >"$_d/$_n-proxy.rate"
	"${PYTHON:-python3}" "$REGISTRY_SH_DIR/throttle_proxy.py" --listen "$3" --target "$4" \
		--rate "$5" --rate-file "$_d/$_n-proxy.rate" --log "$_plog" \
		</dev/null >>"$_plog" 2>&1 &
	_rp=$!
	echo "$_rp" >"$_d/$_n-proxy.pid"
	_ri=0
	while ! grep -qF "(pid $_rp)" "$_plog" 2>/dev/null; do
		if ! _reg_alive "$_rp" || [ "$_ri" -ge 100 ]; then
			_reg_err "proxy_start: the proxy did not start; $_plog:"
			tail -n 20 "$_plog" >&2
			_reg_kill "$_d/$_n-proxy.pid" "$_plog"
			return 1
		fi
		_ri=$((_ri + 1))
		sleep 0.1
	done
	return 0
}

# proxy_set_rate DIR NAME BYTES_PER_SEC
#   Change the rate of the running proxy NAME, for its open connections too
#   (it re-reads DIR/NAME-proxy.rate every 0.2 s). 0: unlimited.
proxy_set_rate() {
	local _d
	[ $# -eq 3 ] || {
		_reg_err "usage: proxy_set_rate DIR NAME BYTES_PER_SEC"
		return 2
	}
	_d=$(_reg_abs "$1") || return 1
	echo "$3" >"$_d/$2-proxy.rate.tmp" && mv -f "$_d/$2-proxy.rate.tmp" "$_d/$2-proxy.rate"
}

# proxy_stop DIR NAME
#   Stop the proxy NAME (exactly the pid of DIR/NAME-proxy.pid). Not running
#   is not an error. Prints nothing.
proxy_stop() {
	local _d
	[ $# -eq 2 ] || {
		_reg_err "usage: proxy_stop DIR NAME"
		return 2
	}
	_d=$(_reg_abs "$1") || return 1
	_reg_kill "$_d/$2-proxy.pid" "$_d/$2-proxy.log"
}

# registry_dir_archive ROOTFS REPO:TAG OUT.tar [ENV...]: a docker-archive
# (what `docker save` writes) of the directory tree ROOTFS as one layer,
# owned by root, with ENV (NAME=VALUE, PATH=/bin:/usr/bin first) in its
# config; for registry_fill's docker-archive:OUT.tar.
registry_dir_archive() {
	local _root _ref _out _w _diff _env _e
	[ $# -ge 3 ] || {
		_reg_err "usage: registry_dir_archive ROOTFS REPO:TAG OUT.tar [ENV...]"
		return 2
	}
	_root=$1 _ref=$2 _out=$3
	shift 3
	_w=$(mktemp -d "${TMPDIR:-/tmp}/regarch.XXXXXX") || return 1
	tar -C "$_root" --numeric-owner --owner=0 --group=0 -cf "$_w/layer.tar" . || {
		rm -rf "$_w"
		return 1
	}
	_diff=$(sha256sum "$_w/layer.tar" | cut -d' ' -f1)
	_env='"PATH=/bin:/usr/bin"'
	for _e in "$@"; do
		_env="$_env,\"$_e\""
	done
	printf '{"architecture":"amd64","os":"linux","config":{"Env":[%s]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
		"$_env" "$_diff" >"$_w/config.json"
	printf '[{"Config":"config.json","RepoTags":["%s"],"Layers":["layer.tar"]}]' "$_ref" >"$_w/manifest.json"
	tar -C "$_w" -cf "$_out" manifest.json config.json layer.tar
	_e=$?
	rm -rf "$_w"
	return $_e
}

# Run as a command (not sourced): dispatch to the function.
case ${0##*/} in
registry.sh)
	_cmd=${1:-}
	[ $# -gt 0 ] && shift
	case $_cmd in
	setup | start | stop | stop_all | stop-all | fill | free-port | free_port | dir-archive | dir_archive)
		_cmd=$(printf '%s' "$_cmd" | tr - _)
		"registry_$_cmd" "$@"
		exit $?
		;;
	proxy-start | proxy-stop | proxy-set-rate | proxy_start | proxy_stop | proxy_set_rate)
		_cmd=$(printf '%s' "$_cmd" | tr - _)
		"$_cmd" "$@"
		exit $?
		;;
	*)
		# The header comment, from "Use from a test" to "Conventions".
		sed -n '/^# Use from a test/,/^# Conventions/{/^# Conventions/d;s/^# \{0,1\}//;p}' "$0" >&2
		exit 2
		;;
	esac
	;;
esac
