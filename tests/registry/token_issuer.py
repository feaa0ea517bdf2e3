#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A minimal Docker token server for the `auth: token:` mode of docker-registry.

Usage:
  token_issuer.py --port PORT --key KEY.pem --cert CERT.pem --log FILE
                  [--tls-cert CRT --tls-key KEY] [--issuer NAME]
                  [--user USER:PASS ...] [--expires-in SECONDS]
                  [--public-prefix PREFIX] [--pid-file FILE]

Python 3 standard library only. Tokens are JWTs signed RS256 with KEY by
`openssl dgst -sha256 -sign KEY` in a subprocess; the JWT header carries
`x5c` = [CERT in DER, base64], so the registry can verify the token with
`auth.token.rootcertbundle` set to CERT (CERT is self-signed, so it is its
own root). The registry side must have `issuer` equal to --issuer (default
launch-test-issuer) and `service` equal to what the registry's challenge
names (the issuer puts the `service` query parameter into `aud`).

Endpoints (listening on 127.0.0.1:PORT, HTTPS when --tls-cert is given):

  GET /token?service=SVC&scope=repository:NAME:ACTIONS[&scope=...]
      [Authorization: Basic base64(user:pass)]
      - no credentials (anonymous): every requested scope must be a
        repository under PUBLIC_PREFIX (default "public/"); the token grants
        "pull" only (push is silently dropped, as token servers do). Any
        other scope, or no scope at all, gets 401.
      - --user credentials (default launchuser:launchpass): the requested
        actions among pull, push (and delete, *) on every repository; "*"
        on registry:catalog:*. No scope: a token with empty access (what
        `docker login` asks for).
      - wrong credentials, or a malformed Authorization header: 401.
      200 answer: {"token": JWT, "access_token": JWT, "expires_in": N,
                   "issued_at": RFC 3339}
      401 answer: WWW-Authenticate: Basic realm="launch-test-token" and a
                  JSON error body.
  GET /stats  -> {"tokens_issued": N, "requests": N, "denied": N}
                 (requests counts /token requests only), so that a test can
                 check that its client caches tokens.
  anything else -> 404.

Claims: iss, sub (user name, "" when anonymous), aud (= service), exp, nbf,
iat, jti, access = [{"type", "name", "actions"}]. Note that
docker-registry 2.8 allows 60 s of clock leeway on exp/nbf, so a token with
--expires-in 5 is still accepted for about a minute after it "expires".

Every request is logged (one line) to --log. SIGTERM/SIGINT stop it.
"""

import argparse
import base64
import binascii
import datetime
import json
import os
import signal
import ssl
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

BASIC_REALM = "launch-test-token"


def b64url(data):
    """base64url without padding, as JWS wants."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def pem_to_der_b64(path):
    """The first certificate of a PEM file, DER in standard base64 (x5c)."""
    lines, inside = [], False
    with open(path) as fp:
        for line in fp:
            line = line.strip()
            if line == "-----BEGIN CERTIFICATE-----":
                inside = True
            elif line == "-----END CERTIFICATE-----":
                break
            elif inside:
                lines.append(line)
    if not lines:
        sys.exit("token_issuer.py: no certificate in %s" % path)
    return "".join(lines)


class Issuer:
    """State shared by the request handlers (threads)."""

    def __init__(self, args):
        self.key = args.key
        self.issuer = args.issuer
        self.expires_in = args.expires_in
        self.public_prefix = args.public_prefix
        self.users = {}
        for u in args.user or ["launchuser:launchpass"]:
            name, sep, pw = u.partition(":")
            if not sep:
                sys.exit("token_issuer.py: --user wants USER:PASS")
            self.users[name] = pw
        self.x5c = [pem_to_der_b64(args.cert)]
        self.lock = threading.Lock()
        self.stats = {"tokens_issued": 0, "requests": 0, "denied": 0}
        self.logfp = open(args.log, "a", buffering=1)

    def log(self, msg):
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        with self.lock:
            self.logfp.write("%s %s\n" % (stamp, msg))

    def count(self, what):
        with self.lock:
            self.stats[what] += 1

    def sign(self, claims):
        """A compact JWS (RS256) of claims."""
        header = {"typ": "JWT", "alg": "RS256", "x5c": self.x5c}
        signing_input = (b64url(json.dumps(header, separators=(",", ":")).encode()) + "." +
                         b64url(json.dumps(claims, separators=(",", ":")).encode()))
        proc = subprocess.run(["openssl", "dgst", "-sha256", "-sign", self.key],
                              input=signing_input.encode(), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, check=False)
        if proc.returncode != 0 or not proc.stdout:
            raise RuntimeError("openssl dgst -sign failed: " + proc.stderr.decode(errors="replace"))
        return signing_input + "." + b64url(proc.stdout)

    def grant(self, user, scopes):
        """(access list, None) or (None, reason) for user (None: anonymous)."""
        access = []
        if user is None and not scopes:
            return None, "anonymous request without scope"
        for scope in scopes:
            # type:name:actions; the name may contain ':' only as host:port
            # in theory, so split the type off the front and actions off the end.
            typ, sep1, rest = scope.partition(":")
            name, sep2, actions = rest.rpartition(":")
            if not sep1 or not sep2 or not typ or not name:
                return None, "malformed scope %r" % scope
            wanted = [a for a in actions.split(",") if a]
            if user is None:
                if typ != "repository" or not name.startswith(self.public_prefix):
                    return None, "anonymous access to %s denied" % scope
                got = [a for a in wanted if a == "pull"]
            elif typ == "repository":
                got = [a for a in wanted if a in ("pull", "push", "delete", "*")]
            elif typ == "registry" and name == "catalog":
                got = [a for a in wanted if a == "*"]
            else:
                got = []
            access.append({"type": typ, "name": name, "actions": got})
        return access, None

    def token(self, user, service, access):
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": user or "",
            "aud": service,
            "exp": now + self.expires_in,
            "nbf": now - 1,
            "iat": now,
            "jti": uuid.uuid4().hex,
            "access": access,
        }
        return self.sign(claims), now


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "launch-token-issuer/1"

    def log_message(self, fmt, *args):  # the default writes to stderr
        pass

    def reply(self, code, obj, extra_headers=()):
        body = (json.dumps(obj) + "\n").encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra_headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def deny(self, why):
        iss = self.server.issuer
        iss.count("denied")
        iss.log("%s %s -> 401 (%s)" % (self.client_address[0], self.path, why))
        self.reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": why}]},
                   [("WWW-Authenticate", 'Basic realm="%s"' % BASIC_REALM)])

    def credentials(self):
        """(user or None, error or None) from the Authorization header."""
        h = self.headers.get("Authorization")
        if h is None:
            return None, None
        kind, _, value = h.partition(" ")
        if kind.lower() != "basic":
            return None, "unsupported Authorization scheme %r" % kind
        try:
            user, sep, pw = base64.b64decode(value.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None, "malformed Basic credentials"
        if not sep or self.server.issuer.users.get(user) != pw:
            return None, "wrong credentials for user %r" % user
        return user, None

    def do_GET(self):
        iss = self.server.issuer
        url = urlsplit(self.path)
        if url.path == "/stats":
            with iss.lock:
                stats = dict(iss.stats)
            self.reply(200, stats)
            return
        if url.path != "/token":
            self.reply(404, {"errors": [{"code": "NOT_FOUND", "message": url.path}]})
            return
        iss.count("requests")
        q = parse_qs(url.query)
        service = (q.get("service") or [""])[0]
        scopes = []
        for s in q.get("scope", []):
            scopes += s.split(" ")  # several scopes may share one parameter
        scopes = [s for s in scopes if s]
        user, err = self.credentials()
        if err:
            self.deny(err)
            return
        access, why = iss.grant(user, scopes)
        if access is None:
            self.deny(why)
            return
        try:
            tok, now = iss.token(user, service, access)
        except RuntimeError as e:
            iss.log("%s %s -> 500 (%s)" % (self.client_address[0], self.path, e))
            self.reply(500, {"errors": [{"code": "UNKNOWN", "message": str(e)}]})
            return
        iss.count("tokens_issued")
        iss.log("%s %s user=%s service=%s access=%s -> 200" % (
            self.client_address[0], self.path, user or "-", service,
            json.dumps(access, separators=(",", ":"))))
        issued = datetime.datetime.fromtimestamp(now, datetime.timezone.utc)
        self.reply(200, {"token": tok, "access_token": tok, "expires_in": iss.expires_in,
                         "issued_at": issued.strftime("%Y-%m-%dT%H:%M:%SZ")})

    do_HEAD = do_GET


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    tls = None

    def finish_request(self, request, client_address):
        # The TLS handshake runs here, in the request's own thread, so one
        # stalled client does not block the accept loop.
        if self.tls is not None:
            try:
                request = self.tls.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError) as e:
                self.issuer.log("%s TLS handshake failed: %s" % (client_address[0], e))
                return
        super().finish_request(request, client_address)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--key", required=True, help="RSA private key that signs the tokens")
    ap.add_argument("--cert", required=True, help="certificate of --key (the x5c header)")
    ap.add_argument("--log", required=True)
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--issuer", default="launch-test-issuer")
    ap.add_argument("--user", action="append", help="USER:PASS (repeatable)")
    ap.add_argument("--expires-in", type=int, default=300)
    ap.add_argument("--public-prefix", default="public/")
    ap.add_argument("--pid-file")
    args = ap.parse_args()

    server = Server(("127.0.0.1", args.port), Handler)
    server.issuer = Issuer(args)
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        server.tls = ctx
    if args.pid_file:
        with open(args.pid_file + ".tmp", "w") as fp:
            fp.write("%d\n" % os.getpid())
        os.rename(args.pid_file + ".tmp", args.pid_file)

    def stop(signum, frame):
        server.issuer.log("signal %d: exiting" % signum)
        # shutdown() waits for serve_forever, so it must run in another thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.issuer.log("listening on %s://127.0.0.1:%d (issuer %s, pid %d)" % (
        "https" if server.tls else "http", args.port, args.issuer, os.getpid()))
    server.serve_forever(poll_interval=0.2)
    server.server_close()


if __name__ == "__main__":
    main()
