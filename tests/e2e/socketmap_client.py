#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""A small socketmap client (socketmap_table(5)) for tests/e2e/policyd.sh.

  socketmap_client.py ADDR REQUEST...      pipelined on one connection;
                                           prints each reply, in order
  socketmap_client.py ADDR --raw TEXT      sends TEXT as it is (\\n and
                                           \\xNN escapes); prints the
                                           replies, then EOF if closed
  socketmap_client.py ADDR --first REQ...  one connection per request, all
                                           at once; prints the replies in
                                           the order they arrive
  socketmap_client.py ADDR --many C N KEY  C connections, N pipelined
                                           requests each; prints "ok" when
                                           every reply is its key's
  socketmap_client.py ADDR --idle SECS     connects, sends nothing: prints
                                           "closed" when the server closes
                                           within SECS, else "open"

ADDR is HOST:PORT or unix:PATH.  Replies are strict netstrings.
"""
import socket
import sys
import time


def connect(addr):
    if addr.startswith("unix:"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(addr[5:])
    else:
        host, port = addr.rsplit(":", 1)
        s = socket.create_connection((host, int(port)))
    s.settimeout(10)
    return s


def ns(text):
    b = text.encode() if isinstance(text, str) else text
    return str(len(b)).encode() + b":" + b + b","


class Reader:
    def __init__(self, s):
        self.s = s
        self.buf = b""
        self.eof = False

    def reply(self):
        """The next reply's payload, or None at EOF."""
        while True:
            colon = self.buf.find(b":")
            if colon > 0:
                n = int(self.buf[:colon])
                if len(self.buf) >= colon + n + 2:
                    if self.buf[colon + 1 + n:colon + 2 + n] != b",":
                        raise ValueError("not a netstring")
                    data = self.buf[colon + 1:colon + 1 + n]
                    self.buf = self.buf[colon + 2 + n:]
                    return data
            d = self.s.recv(65536)
            if not d:
                self.eof = True
                return None
            self.buf += d


def show(data):
    if len(data) > 200:
        return data[:40].decode(errors="replace") + "...(%d)" % len(data)
    return data.decode(errors="replace")


def main(argv):
    addr, rest = argv[1], argv[2:]
    if rest and rest[0] == "--raw":
        s = connect(addr)
        s.settimeout(1)
        raw = rest[1].encode().decode("unicode_escape").encode("latin-1")
        s.sendall(raw)
        r = Reader(s)
        while True:
            try:
                d = r.reply()
            except socket.timeout:
                print("TIMEOUT")
                return 0
            if d is None:
                print("EOF")
                return 0
            print(show(d))
    if rest and rest[0] == "--first":
        socks = []
        for req in rest[1:]:
            s = connect(addr)
            s.sendall(ns(req))
            socks.append(s)
        import selectors
        sel = selectors.DefaultSelector()
        readers = {}
        for s in socks:
            sel.register(s, selectors.EVENT_READ)
            readers[s] = Reader(s)
        left = len(socks)
        while left:
            for key, _ in sel.select(10):
                d = readers[key.fileobj].reply()
                print(show(d) if d is not None else "EOF")
                sel.unregister(key.fileobj)
                left -= 1
        return 0
    if rest and rest[0] == "--many":
        c, n, key = int(rest[1]), int(rest[2]), rest[3]
        socks = [connect(addr) for _ in range(c)]
        for s in socks:
            s.sendall(b"".join(ns("postfix %d.%s" % (i, key))
                               for i in range(n)))
        bad = 0
        for s in socks:
            r = Reader(s)
            for i in range(n):
                d = r.reply()
                want = "OK secure match=%d.%s servername=hostname" % (i, key)
                if d is None or d.decode() != want:
                    bad += 1
        print("ok" if bad == 0 else "bad %d" % bad)
        return 0
    if rest and rest[0] == "--idle":
        s = connect(addr)
        s.settimeout(float(rest[1]))
        try:
            print("closed" if s.recv(1) == b"" else "data")
        except socket.timeout:
            print("open")
        except ConnectionResetError:
            print("closed")
        return 0
    s = connect(addr)
    s.sendall(b"".join(ns(q) for q in rest))
    r = Reader(s)
    for _ in rest:
        d = r.reply()
        if d is None:
            print("EOF")
            return 0
        print(show(d))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
