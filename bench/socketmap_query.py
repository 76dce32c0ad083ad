#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Asks a socketmap server (Postfix socketmap_table(5)) for keys, one
request after the other on one connection, and prints each reply's data
on a line of its own (bench/policyd.sh: readiness and sample replies).

    socketmap_query.py [-m NAME] [-t SECONDS] host:port|unix:PATH KEY...

Exit 0 when every key got a well-formed reply, 1 otherwise (nothing
listening, a malformed reply, a timeout).
"""
import argparse
import socket
import sys


def read_netstring(f):
    head = b""
    while not head.endswith(b":"):
        c = f.read(1)
        if not c or len(head) > 6:
            raise ValueError("no netstring length")
        head += c
    digits = head[:-1]
    if not digits.isdigit() or (len(digits) > 1 and digits[:1] == b"0"):
        raise ValueError("bad netstring length %r" % digits)
    n = int(digits)
    if n > 100000:
        raise ValueError("reply over 100,000 octets")
    data = f.read(n + 1)
    if len(data) != n + 1 or data[-1:] != b",":
        raise ValueError("cut or no comma")
    return data[:-1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-m", default="postfix", help="map name")
    ap.add_argument("-t", type=float, default=10.0, help="timeout, seconds")
    ap.add_argument("target")
    ap.add_argument("keys", nargs="+")
    a = ap.parse_args()
    try:
        if a.target.startswith("unix:"):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(a.t)
            s.connect(a.target[5:])
        else:
            host, _, port = a.target.rpartition(":")
            s = socket.create_connection((host.strip("[]"), int(port)), a.t)
            s.settimeout(a.t)
        f = s.makefile("rb")
        for k in a.keys:
            q = ("%s %s" % (a.m, k)).encode()
            s.sendall(b"%d:%s," % (len(q), q))
            print(read_netstring(f).decode("utf-8", "replace"), flush=True)
    except (OSError, ValueError) as e:
        print("socketmap_query: %s: %s" % (a.target, e), file=sys.stderr)
        return 1
    return 0


sys.exit(main())
