#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A throttling TCP proxy for the registry tests.

Usage:
  throttle_proxy.py --listen PORT --target PORT --rate BYTES_PER_SEC
                    --log FILE [--rate-file FILE] [--pid-file FILE]

Python 3 standard library only. Forwards raw TCP (TLS passes through
untouched) from 127.0.0.1:LISTEN to 127.0.0.1:TARGET, one new connection to
the target per accepted connection and two threads per connection:

  client -> server   unthrottled
  server -> client   at most BYTES_PER_SEC for that connection (a token
                     bucket with a burst of 1/10 s worth of bytes, at least
                     1 KiB); 0 means no limit

When the target refuses (it is down) the accepted connection is closed at
once (the client sees EOF, usually during its TLS handshake). When either
side closes or resets, the other side is shut down too, so killing the
registry in the middle of a download truncates the client's body.

--rate-file: if given, the file is read every 0.2 s while data flows and
its number (bytes per second) replaces the rate of every connection, open
or new; the shell helper proxy_set_rate writes it. A test uses this to let
a download crawl until it has killed the registry and then finish fast.

Log lines (--log): "listening", "conn N open", "conn N target down:
closed", "conn N closed: down=BYTES up=BYTES secs=S". SIGTERM/SIGINT stop
the proxy (open connections are dropped).
"""

import argparse
import datetime
import errno
import os
import signal
import socket
import sys
import threading
import time

CHUNK = 16384


class Proxy:
    def __init__(self, args):
        self.target = args.target
        self.rate = float(args.rate)
        self.rate_file = args.rate_file
        self.rate_checked = 0.0
        self.lock = threading.Lock()
        self.logfp = open(args.log, "a", buffering=1)
        self.nconn = 0
        self.stopping = False

    def log(self, msg):
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        with self.lock:
            self.logfp.write("%s %s\n" % (stamp, msg))

    def current_rate(self):
        """The rate, re-read from --rate-file at most every 0.2 s."""
        if self.rate_file:
            now = time.monotonic()
            if now - self.rate_checked >= 0.2:
                self.rate_checked = now
                try:
                    with open(self.rate_file) as fp:
                        self.rate = float(fp.read().strip() or self.rate)
                except (OSError, ValueError):
                    pass
        return self.rate


def close_both(a, b):
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def pump_up(proxy, client, server, counts):
    """client -> server, unthrottled."""
    try:
        while True:
            data = client.recv(CHUNK)
            if not data:
                server.shutdown(socket.SHUT_WR)
                return
            server.sendall(data)
            counts["up"] += len(data)
    except OSError:
        close_both(client, server)


def pump_down(proxy, client, server, counts):
    """server -> client, at most the current rate (token bucket)."""
    tokens = 0.0
    last = time.monotonic()
    try:
        while True:
            rate = proxy.current_rate()
            if rate > 0:
                burst = max(1024.0, rate / 10)
                now = time.monotonic()
                tokens = min(burst, tokens + (now - last) * rate)
                last = now
                if tokens < 1024:  # wait for at least 1 KiB of credit
                    time.sleep(min(0.2, (1024 - tokens) / rate))
                    continue
                want = int(min(CHUNK, tokens))
            else:
                want = CHUNK
            data = server.recv(want)
            if not data:
                client.shutdown(socket.SHUT_WR)
                return
            client.sendall(data)
            counts["down"] += len(data)
            if rate > 0:
                tokens -= len(data)
    except OSError:
        close_both(client, server)


def handle(proxy, client, n):
    start = time.monotonic()
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # A small receive buffer towards the target (set before connect, so the
    # window is small from the start): the target is held back by the
    # throttle instead of pouring megabytes into this socket, so a target
    # killed in the middle truncates the client's download soon after.
    server.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    server.settimeout(5)
    try:
        server.connect(("127.0.0.1", proxy.target))
    except OSError as e:
        proxy.log("conn %d target down (%s): closed" % (n, e.strerror or e))
        server.close()
        client.close()
        return
    server.settimeout(None)
    for s in (client, server):
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    proxy.log("conn %d open" % n)
    counts = {"up": 0, "down": 0}
    up = threading.Thread(target=pump_up, args=(proxy, client, server, counts), daemon=True)
    up.start()
    pump_down(proxy, client, server, counts)
    up.join()
    client.close()
    server.close()
    proxy.log("conn %d closed: down=%d up=%d secs=%.2f" % (
        n, counts["down"], counts["up"], time.monotonic() - start))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--listen", type=int, required=True)
    ap.add_argument("--target", type=int, required=True)
    ap.add_argument("--rate", type=float, required=True, help="bytes per second, 0: no limit")
    ap.add_argument("--log", required=True)
    ap.add_argument("--rate-file")
    ap.add_argument("--pid-file")
    args = ap.parse_args()

    proxy = Proxy(args)
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        ls.bind(("127.0.0.1", args.listen))
    except OSError as e:
        sys.exit("throttle_proxy.py: cannot listen on 127.0.0.1:%d: %s" % (args.listen, e))
    ls.listen(64)
    ls.settimeout(0.2)  # so that a signal is seen promptly

    def stop(signum, frame):
        proxy.stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.pid_file:
        with open(args.pid_file + ".tmp", "w") as fp:
            fp.write("%d\n" % os.getpid())
        os.rename(args.pid_file + ".tmp", args.pid_file)
    proxy.log("listening on 127.0.0.1:%d -> 127.0.0.1:%d, %g bytes/s per connection (pid %d)" % (
        args.listen, args.target, args.rate, os.getpid()))
    while not proxy.stopping:
        try:
            client, _ = ls.accept()
        except socket.timeout:
            continue
        except OSError as e:
            if e.errno in (errno.EINTR, errno.ECONNABORTED):
                continue
            raise
        client.settimeout(None)
        proxy.nconn += 1
        threading.Thread(target=handle, args=(proxy, client, proxy.nconn), daemon=True).start()
    proxy.log("stopping")
    ls.close()


if __name__ == "__main__":
    main()
