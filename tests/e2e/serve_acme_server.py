#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""The server process of `mtasts serve` and its acme channel, for real.

This script plays the parent and the acme process: it starts
`mtasts serve --process server` on listeners it binds (TLS, HTTP-01,
metrics), sends it a set (bundle.c, version 3: one plain HTTP-01
listener) over the control channel, hands it an acme channel ("MTSA"
with a descriptor) and sends ALPN-ADD, HTTP-ADD, STATE and malformed
frames on it (acme_msg.h), each answered in order.  Then real clients:

  TLS-ALPN-01 (RFC 8737 3): acme-tls/1 for mta-sts.new.test gets the
  challenge certificate (its critical acmeIdentifier holds SHA-256 of
  the key authorization, its only name is the host) and the protocol,
  and the server closes the connection after the handshake: a request
  sent then gets no answer; for a name without a challenge the
  handshake fails (no_application_protocol); without acme-tls/1 the
  policy is served as before.
  HTTP-01 (RFC 8555 8.3): the token's key authorization, 200,
  application/octet-stream; an unknown token and other paths 404.
  /metrics counts both and shows the STATE figures; a closed channel
  drops the challenges, a new one works.  All of it in the sandbox.

Prints TAP.  Usage: serve_acme_server.py MTASTS
"""
import hashlib
import os
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request

MTASTS = sys.argv[1]
T = tempfile.mkdtemp(prefix="mtasts-acme-srv.")
AUTHZ = b"tok_EN-123.thumbprint-of-the-account-key-0123456789"
n = 0
failed = 0


def ok(cond, name):
    global n, failed
    n += 1
    if not cond:
        failed += 1
    print(("ok" if cond else "not ok") + " %d - %s" % (n, name), flush=True)


def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def pair(name, prefix, extra=()):
    key, crt = os.path.join(T, prefix + ".key"), os.path.join(T, prefix + ".pem")
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", crt,
            "-days", "1", "-subj", "/CN=" + name,
            "-addext", "subjectAltName=DNS:" + name, *extra)
    with open(crt, "rb") as f, open(key, "rb") as g:
        return f.read(), g.read()


def u32(v):
    return struct.pack(">I", v)


def s(b):
    return u32(len(b)) + b


def frame(body):
    return struct.pack(">Q", len(body)) + body


def read_frame(sock):
    hdr = b""
    while len(hdr) < 8:
        chunk = sock.recv(8 - len(hdr))
        if not chunk:
            return None
        hdr += chunk
    (length,) = struct.unpack(">Q", hdr)
    body = b""
    while len(body) < length:
        chunk = sock.recv(length - len(body))
        if not chunk:
            return None
        body += chunk
    return body


def listener(port):
    l = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind(("127.0.0.1", port))
    l.listen(64)
    return l


dom_cert, dom_key = pair("mta-sts.a.test", "a")
digest = hashlib.sha256(AUTHZ).hexdigest()
der = ":".join(["04", "20"] + [digest[i:i + 2] for i in range(0, 64, 2)])
chal_cert, chal_key = pair("mta-sts.new.test", "chal",
                           ("-addext", "1.3.6.1.5.5.7.1.31=critical,DER:" + der))
policy = b"version: STSv1\nmode: enforce\nmx: mx.a.test\nmax_age: 86400\n"

# The set: version 3, one pair, one domain, no receiver, 1 HTTP-01 listener.
bundle = (b"MTSB" + u32(3) + s(b"max-age=300") + u32(100) + u32(10) +
          u32(5) + u32(1) + u32(1) + s(dom_cert) + s(dom_key) + u32(1) +
          s(b"a.test") + s(policy) + u32(0) + u32(0) + u32(1))

base = 30000 + (os.getpid() % 10000) * 3
tls_l, http_l, metrics_l = listener(base), listener(base + 1), listener(base + 2)
ctl_parent, ctl_child = socket.socketpair()
fds = {3: ctl_child.fileno(), 6: metrics_l.fileno(), 7: tls_l.fileno(),
       8: http_l.fileno()}


def place():
    moved = {dst: os.dup(src) for dst, src in fds.items()}
    for dst, src in moved.items():
        os.dup2(src, dst)


log = open(os.path.join(T, "server.log"), "w+")
proc = subprocess.Popen([MTASTS, "serve", "--process", "server", "--layout",
                         "2,1,0,0", "-d"], preexec_fn=place,
                        stderr=log, close_fds=False)
ctl_child.close()
ctl_parent.sendall(frame(bundle))
ok(read_frame(ctl_parent) == b"OK", "the server takes a version 3 set")

acme, acme_srv = socket.socketpair()
socket.send_fds(ctl_parent, [frame(b"MTSA")], [acme_srv.fileno()])
acme_srv.close()


def send(body):
    acme.sendall(frame(body))
    return read_frame(acme)


add = (b"ALPN-ADD mta-sts.new.test %d %d\n" % (len(chal_cert), len(chal_key)) +
       chal_cert + chal_key)
ok(send(add) == b"OK", "ALPN-ADD over the handed-over channel: OK")
ok(send(b"HTTP-ADD tok_EN-123 %d\n" % len(AUTHZ) + AUTHZ) == b"OK",
   "HTTP-ADD: OK")
ok(send(b"STATE a.test 1900000000 1890000000 1 4\noops") == b"OK",
   "STATE: OK")
r = send(b"ALPN-ADD mta-sts.x.test 99\nabc")
ok(r is not None and r.startswith(b"FAIL "), "a malformed frame: FAIL (%r)" % r)
ok(send(b"ISSUED a.test\n").startswith(b"FAIL "), "ISSUED to the server: FAIL")


def tls(name, alpn):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if alpn:
        ctx.set_alpn_protocols(alpn)
    raw = socket.create_connection(("127.0.0.1", base), timeout=5)
    return ctx.wrap_socket(raw, server_hostname=name)


def cert_text(der_bytes):
    p = subprocess.run(["openssl", "x509", "-inform", "DER", "-noout",
                        "-text"], input=der_bytes, capture_output=True)
    return p.stdout.decode()


try:
    c = tls("mta-sts.new.test", ["acme-tls/1"])
    text = cert_text(c.getpeercert(binary_form=True))
    ok(c.selected_alpn_protocol() == "acme-tls/1",
       "TLS-ALPN-01: acme-tls/1 selected")
    ok("1.3.6.1.5.5.7.1.31: critical" in text and
       b"\x04\x20" + bytes.fromhex(digest) in c.getpeercert(True) and
       "DNS:mta-sts.new.test" in text,
       "TLS-ALPN-01: the challenge certificate, its digest and name")
    try:
        c.sendall(b"GET /.well-known/mta-sts.txt HTTP/1.1\r\n"
                  b"Host: mta-sts.a.test\r\n\r\n")
        got = c.recv(100)
    except (ssl.SSLError, OSError):
        got = b""
    ok(got == b"", "TLS-ALPN-01: closed after the handshake, no HTTP")
    c.close()
except (ssl.SSLError, OSError) as e:
    ok(False, "TLS-ALPN-01 handshake (%s)" % e)
    ok(False, "TLS-ALPN-01 certificate")
    ok(False, "TLS-ALPN-01 closed")


def refused(name, alpn):
    try:
        tls(name, alpn).close()
        return "handshake succeeded"
    except ssl.SSLError as e:
        return str(e)


e = refused("mta-sts.a.test", ["acme-tls/1"])
ok("NO APPLICATION PROTOCOL" in e.upper().replace("_", " "),
   "acme-tls/1 for a name without a challenge: no_application_protocol")
if "NO APPLICATION PROTOCOL" not in e.upper().replace("_", " "):
    print("# got: " + e)


def policy_get(alpn):
    c = tls("mta-sts.a.test", alpn)
    c.sendall(b"GET /.well-known/mta-sts.txt HTTP/1.1\r\n"
              b"Host: mta-sts.a.test\r\nConnection: close\r\n\r\n")
    data = b""
    while True:
        chunk = c.recv(4096)
        if not chunk:
            break
        data += chunk
    proto = c.selected_alpn_protocol()
    c.close()
    return data, proto


data, proto = policy_get(["h2", "http/1.1"])
ok(data.startswith(b"HTTP/1.1 200") and data.endswith(policy) and
   proto is None, "h2, http/1.1: the policy as before, no protocol")
data, proto = policy_get(None)
ok(data.startswith(b"HTTP/1.1 200"), "no ALPN: the policy")


def http(path):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (base + 1, path),
                                    timeout=5) as r:
            return r.status, r.headers.get("Content-Type"), r.read()
    except urllib.error.HTTPError as e:
        return e.code, None, b""


st, ctype, body = http("/.well-known/acme-challenge/tok_EN-123")
ok(st == 200 and ctype == "application/octet-stream" and body == AUTHZ,
   "HTTP-01: 200, application/octet-stream, the key authorization")
ok(http("/.well-known/acme-challenge/other")[0] == 404,
   "HTTP-01: an unknown token is 404")
ok(http("/.well-known/mta-sts.txt")[0] == 404,
   "HTTP-01 listener: the policy path is 404")


def metrics():
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % (base + 2),
                                timeout=5) as r:
        return r.read().decode()


m = metrics()
ok('mtasts_acme_challenges_answered_total{type="tls-alpn-01"} 1\n' in m and
   'mtasts_acme_challenges_answered_total{type="http-01"} 1\n' in m,
   "/metrics: one TLS-ALPN-01 and one HTTP-01 answered")
ok('mtasts_acme_certificate_not_after_seconds{domain="a.test"} 1900000000\n'
   in m and 'mtasts_acme_next_renewal_seconds{domain="a.test"} 1890000000\n'
   in m and 'mtasts_acme_failures{domain="a.test"} 1\n' in m,
   "/metrics: a.test's notAfter, next renewal and failures")

# The acme process goes: its challenges go with it.
acme.close()
time.sleep(0.3)
e = refused("mta-sts.new.test", ["acme-tls/1"])
ok("NO APPLICATION PROTOCOL" in e.upper().replace("_", " "),
   "a closed channel's challenges are dropped")
ok(http("/.well-known/acme-challenge/tok_EN-123")[0] == 404,
   "and the HTTP-01 token too")
data, _ = policy_get(None)
ok(data.startswith(b"HTTP/1.1 200"), "the server serves on")

# A new acme process, a new channel.
acme, acme_srv = socket.socketpair()
socket.send_fds(ctl_parent, [frame(b"MTSA")], [acme_srv.fileno()])
acme_srv.close()
ok(send(add) == b"OK", "a new channel: ALPN-ADD OK")
try:
    c = tls("mta-sts.new.test", ["acme-tls/1"])
    ok(c.selected_alpn_protocol() == "acme-tls/1",
       "and the challenge is answered")
    c.close()
except ssl.SSLError as e:
    ok(False, "and the challenge is answered (%s)" % e)

ctl_parent.close()
try:
    rc = proc.wait(timeout=10)
except subprocess.TimeoutExpired:
    proc.kill()
    rc = -1
ok(rc == 0, "the server stops when its parent goes (status %d)" % rc)
log.seek(0)
text = log.read()
ok("acme channel closed; challenges dropped" in text and
   "sandbox" not in text.lower(), "its log: the channel closed, no sandbox "
   "failure")
if failed:
    print("# server log:\n# " + text.replace("\n", "\n# "))
print("1..%d" % n)
subprocess.run(["rm", "-rf", T])
sys.exit(1 if failed else 0)
