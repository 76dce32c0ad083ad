#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Helpers of tests/e2e/policyd_world.sh (run inside the world).

  policyd_world.py query [--name MAP] KEY...
      One connection to the socketmap server on 127.0.0.1:8461, one
      request "MAP KEY" per KEY (netstrings, socketmap_table(5)), all
      sent before any reply is read (pipelined, as Postfix may); prints
      each reply's payload on a line of its own, in order.

  policyd_world.py outcome LOG QID
      The first delivery attempt of queue id QID in the sending
      Postfix's log: "sent RELAY tls=LEVEL dane=matched|-" or
      "deferred RELAY tls=LEVEL reason=TEXT" (or bounced); LEVEL is the
      word of Postfix's "... TLS connection established to" line
      (Verified, Trusted, Untrusted, Anonymous) of the same smtp process
      for that relay, "none" without one; dane=matched when that
      process logged "Matched DANE" for the host (smtp_tls_loglevel
      certmatch).  Prints nothing while there is no attempt yet.

  policyd_world.py refdata --map-test NAME --map-test2 NAME --want ours|theirs FILE
      The rows of a tests/data/policyd/refdata*.tsv file, each sent as
      "MAP WORLD_KEY" (MAP by the row's own map name, test or test2) and
      compared with the row's reply of the chosen column: theirs (in the
      world's names) or ours.  Prints one
      line per row: "ok|not ok<TAB>FILE:LINE<TAB>request<TAB>got<TAB>want".
"""

import re
import socket
import sys

ADDR = ("127.0.0.1", 8461)
TIMEOUT = 20


def netstring(data):
    return b"%d:%s," % (len(data), data)


def read_netstring(sock, buf):
    """Returns (payload, rest of buf)."""
    while b":" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise EOFError("connection closed before a reply")
        buf += chunk
    n, rest = buf.split(b":", 1)
    if not n.isdigit() or len(n) > 6:
        raise ValueError("bad netstring length %r" % n[:20])
    need = int(n) + 1
    while len(rest) < need:
        chunk = sock.recv(65536)
        if not chunk:
            raise EOFError("connection closed inside a reply")
        rest += chunk
    if rest[need - 1:need] != b",":
        raise ValueError("netstring without its comma")
    return rest[:need - 1], rest[need:]


def query(requests):
    """Sends every request on one connection, returns the replies."""
    sock = socket.create_connection(ADDR, timeout=TIMEOUT)
    try:
        sock.sendall(b"".join(netstring(r.encode()) for r in requests))
        buf = b""
        out = []
        for _ in requests:
            payload, buf = read_netstring(sock, buf)
            out.append(payload.decode("utf-8", "replace"))
        return out
    finally:
        sock.close()


def cmd_query(args):
    global ADDR
    name = "postfix"
    if len(args) >= 2 and args[0] == "--port":
        ADDR, args = ("127.0.0.1", int(args[1])), args[2:]
    if len(args) >= 2 and args[0] == "--name":
        name, args = args[1], args[2:]
    for reply in query(["%s %s" % (name, k) for k in args]):
        print(reply)
    return 0


STATUS = re.compile(
    r"postfix/(?:smtp|error|retry)\[(\d+)\]: ([0-9A-Za-z]+): to=<[^>]*>, "
    r"(?:relay=([^,]+), )?.*? status=(sent|deferred|bounced) \((.*)\)$")
TLS = re.compile(r"postfix/smtp\[(\d+)\]: (\w+) TLS connection established "
                 r"to ([^:\[]+)\[")
DANE = re.compile(r"postfix/smtp\[(\d+)\]: ([^\[]+)\[[^\]]*\]:\d+: "
                  r"Matched DANE")


def cmd_outcome(args):
    log, qid = args
    tls = {}     # (pid, host) -> the level of its last handshake
    dane = set()  # (pid, host) whose last handshake matched a TLSA record
    with open(log, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            m = DANE.search(line)
            if m:
                # Logged before the "established" line of its handshake.
                dane.add((m.group(1), m.group(2)))
                continue
            m = TLS.search(line)
            if m:
                tls[(m.group(1), m.group(3))] = m.group(2)
                continue
            m = STATUS.search(line)
            if not m:
                continue
            pid, q, relay, what, reason = m.groups()
            host = (relay or "none").split("[")[0]
            level = tls.pop((pid, host), "none")
            matched = (pid, host) in dane
            dane.discard((pid, host))
            if q != qid:
                continue
            if what == "sent":
                print("sent %s tls=%s dane=%s" % (
                    host, level, "matched" if matched else "-"))
            else:
                print("%s %s tls=%s reason=%s" % (what, host, level, reason))
            return 0
    return 0


def cmd_refdata(args):
    maps = {"test": "postfix", "test2": "postfix"}
    want = "ours"
    path = None
    while args:
        a = args.pop(0)
        if a == "--map-test":
            maps["test"] = args.pop(0)
        elif a == "--map-test2":
            maps["test2"] = args.pop(0)
        elif a == "--want":
            want = args.pop(0)
        else:
            path = a
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\r\n")
            if not line or line.startswith("#"):
                continue
            cols = line.split("\t")
            if len(cols) != 7:
                raise SystemExit("%s:%d: want 7 columns, got %d"
                                 % (path, n, len(cols)))
            their_req, _, key, their_reply, our_reply = cols[:5]
            mapname = their_req.split(" ", 1)[0]
            rows.append((n, "%s %s" % (maps[mapname], key),
                         their_reply if want == "theirs" else our_reply))
    got = query([r[1] for r in rows])
    for (n, req, expect), reply in zip(rows, got):
        # Their table lists the mx patterns in policy order; the peer
        # sends them in a set's order: compare the patterns as a set.
        same = reply == expect or canon(reply) == canon(expect)
        print("%s\t%s:%d\t%s\t%s\t%s" % ("ok" if same else "not ok",
                                          path.rsplit("/", 1)[-1], n, req,
                                          reply, expect))
    return 0


def canon(reply):
    words = []
    for w in reply.split(" "):
        if w.startswith("match="):
            w = "match=" + ":".join(sorted(w[6:].split(":")))
        words.append(w)
    return " ".join(words)


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "query":
        return cmd_query(args)
    if cmd == "outcome" and len(args) == 2:
        return cmd_outcome(args)
    if cmd == "refdata":
        return cmd_refdata(args)
    raise SystemExit(__doc__)


if __name__ == "__main__":
    sys.exit(main())
