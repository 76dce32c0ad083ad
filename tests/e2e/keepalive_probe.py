#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
#
# keepalive_probe.py ADDR SNI CAFILE GO OUT: one TLS connection to ADDR:443
# with SNI, verified against CAFILE; GETs the policy with keep-alive and
# writes "first STATUS SERIAL" to OUT, then waits until the file GO exists
# and GETs again on the same connection: "second STATUS" (or "second
# closed").  Shows that a certificate swap drops no open connection.
import os
import socket
import ssl
import sys
import time

addr, sni, cafile, go, out = sys.argv[1:6]


def get(tls):
    tls.sendall(b"GET /.well-known/mta-sts.txt HTTP/1.1\r\nHost: " +
                sni.encode() + b"\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = tls.recv(4096)
        if not chunk:
            return "closed"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = tls.recv(4096)
        if not chunk:
            return "closed"
        body += chunk
    return head.split(b" ")[1].decode()


ctx = ssl.create_default_context(cafile=cafile)
raw = socket.create_connection((addr, 443), timeout=10)
tls = ctx.wrap_socket(raw, server_hostname=sni)
serial = format(int(tls.getpeercert()["serialNumber"], 16), "X")
with open(out, "w") as f:
    f.write("first %s %s\n" % (get(tls), serial))
while not os.path.exists(go):
    time.sleep(0.2)
try:
    second = get(tls)
except OSError:
    second = "closed"
with open(out, "a") as f:
    f.write("second %s\n" % second)
