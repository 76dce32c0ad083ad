#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
#
# The acme process of `mtasts serve` (src/serve/acme_proc.c) against a
# real RFC 8555 CA: Debian's pebble, started here on 127.0.0.1 with a
# throwaway TLS certificate made with openssl, passed as acme-ca-file.
# This script plays the parent and the server: it starts
# `mtasts serve --process acme` with fd 3 one end of a socketpair, sends
# it CONF and CHAN (acme_msg.h), answers every message on the server
# channel with OK (recording it), and checks what lands in the state
# directory.  Prints TAP.
#
#   acme_client.py MTASTS
#
# The acme process runs in its sandbox (sandbox_seccomp_acme()): every
# thread shows NoNewPrivs 1 and Seccomp 2 in /proc, and one scenario
# names the CA by a DNS name that glibc resolves through a stub DNS
# server here (a private mount namespace's /etc/resolv.conf), so that
# libcurl's resolver threads, NSS and DNS over UDP run under the filter.
# A sanitizer build (MTS_SANITIZED=1, or the process saying so) loads no
# filter: those checks are skipped.
#
# Pebble runs with PEBBLE_VA_ALWAYS_VALID=1 (no validation: the order
# flow alone; the server side of TLS-ALPN-01 is helper D's and the
# world's), PEBBLE_VA_NOSLEEP=1 and PEBBLE_AUTHZREUSE=0.
import json
import os
import re
import shutil
import signal
import socket
import ssl
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

MTASTS = sys.argv[1]
N = 0
FAILED = 0
SKIPPED = 0
# The CA's name in the DNS scenario, and the stub server's address.
CA_NAME = "ca.acme-e2e.test"
DNS_ADDR = "127.0.0.236"


def ok(cond, name):
    global N, FAILED
    N += 1
    if not cond:
        FAILED += 1
    print(("ok" if cond else "not ok") + " %d - %s" % (N, name), flush=True)
    return cond


def skip(name, why):
    global N, SKIPPED
    N += 1
    SKIPPED += 1
    print("ok %d - %s # SKIP %s" % (N, name, why), flush=True)


def diag(msg):
    for line in str(msg).splitlines():
        print("# " + line, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def run(*argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, **kw)


# ---- pebble ----

class Pebble:
    def __init__(self, top, env):
        self.dir = tempfile.mkdtemp(dir=top, prefix="pebble.")
        d = self.dir
        run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-nodes", "-keyout", d + "/ca.key",
            "-out", d + "/ca.pem", "-subj", "/CN=acme test TLS CA",
            "-days", "2", check=True)
        run("openssl", "req", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-nodes", "-keyout", d + "/srv.key",
            "-out", d + "/srv.csr", "-subj", "/CN=localhost", check=True)
        with open(d + "/ext", "w") as f:
            f.write("subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:%s\n"
                    % CA_NAME)
        run("openssl", "x509", "-req", "-in", d + "/srv.csr", "-CA",
            d + "/ca.pem", "-CAkey", d + "/ca.key", "-CAcreateserial",
            "-out", d + "/srv.pem", "-days", "2", "-extfile", d + "/ext",
            check=True)
        self.port = free_port()
        self.mport = free_port()
        conf = {"pebble": {
            "listenAddress": "127.0.0.1:%d" % self.port,
            "managementListenAddress": "127.0.0.1:%d" % self.mport,
            "certificate": d + "/srv.pem", "privateKey": d + "/srv.key",
            "httpPort": free_port(), "tlsPort": free_port(),
            "ocspResponderURL": "", "externalAccountBindingRequired": False}}
        with open(d + "/pebble.json", "w") as f:
            json.dump(conf, f)
        e = dict(os.environ)
        e.update({"PEBBLE_VA_ALWAYS_VALID": "1", "PEBBLE_VA_NOSLEEP": "1",
                  "PEBBLE_AUTHZREUSE": "0", "PEBBLE_WFE_NONCEREJECT": "0"})
        e.update(env)
        self.log = open(d + "/pebble.log", "w")
        self.proc = subprocess.Popen(["pebble", "-config", d + "/pebble.json"],
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     env=e)
        self.directory = "https://127.0.0.1:%d/dir" % self.port
        self.ca_file = d + "/ca.pem"
        ctx = ssl.create_default_context(cafile=self.ca_file)
        for _ in range(100):
            try:
                urllib.request.urlopen(self.directory, context=ctx, timeout=2)
                break
            except Exception:
                time.sleep(0.1)
        self.root = self.mgmt("/roots/0")
        self.intermediate = self.mgmt("/intermediates/0")

    def mgmt(self, path):
        ctx = ssl.create_default_context(cafile=self.ca_file)
        url = "https://127.0.0.1:%d%s" % (self.mport, path)
        path = os.path.join(self.dir, path.strip("/").replace("/", "_"))
        with urllib.request.urlopen(url, context=ctx, timeout=5) as r:
            data = r.read()
        with open(path, "wb") as f:
            f.write(data)
        return path

    def text(self):
        self.log.flush()
        with open(self.dir + "/pebble.log") as f:
            return f.read()

    def new_orders(self):
        return len(re.findall(r"POST /order-plz", self.text()))

    def stop(self):
        self.proc.terminate()
        self.proc.wait()
        self.log.close()


# ---- the acme process and its two peers ----

def frame(body):
    return struct.pack(">Q", len(body)) + body


def read_frame(sock):
    hdr = b""
    while len(hdr) < 8:
        b = sock.recv(8 - len(hdr))
        if not b:
            return None
        hdr += b
    n = struct.unpack(">Q", hdr)[0]
    body = b""
    while len(body) < n:
        b = sock.recv(n - len(body))
        if not b:
            return None
        body += b
    return body


def conf_body(directory, ca_file, state_dir, domains, rate=300,
              window=10800, burst=5, renew_age=0):
    lines = ["CONF 1", "directory " + directory, "contact mailto:t@example.com"]
    if ca_file:
        lines.append("ca-file " + ca_file)
    lines += ["state-dir " + state_dir, "rate %d" % rate,
              "window %d" % window, "burst %d" % burst,
              "renew-age %d" % renew_age, "http01 0"]
    lines += ["domain " + d for d in sorted(domains)]
    return ("\n".join(lines) + "\n").encode()


class Acme:
    """The acme process, its parent (us) and its server (us)."""

    def __init__(self, top, conf, hold_alpn=None, wrap=()):
        self.events = []  # (time, verb, name, body)
        self.lock = threading.Lock()
        self.hold_alpn = hold_alpn  # a name whose ALPN-ADD is not answered
        self.held = threading.Event()
        self.parent, child = socket.socketpair()
        self.err = open(os.path.join(top, "acme.%d.log" % time.time_ns()), "w+")
        fd = child.fileno()
        self.proc = subprocess.Popen(
            list(wrap) + [MTASTS, "serve", "--process", "acme", "--layout",
                          "0,0,0,0", "-d", "-vv"],
            stdin=subprocess.DEVNULL, stdout=self.err, stderr=self.err,
            pass_fds=(3,) if fd == 3 else (fd, 3),
            preexec_fn=(lambda: os.dup2(fd, 3)) if fd != 3 else None)
        child.close()
        self.srv, acme_end = socket.socketpair()
        self.parent.sendall(frame(conf))
        # CHAN: the descriptor on the frame's first octet.
        f = frame(b"CHAN")
        socket.send_fds(self.parent, [f[:1]], [acme_end.fileno()])
        self.parent.sendall(f[1:])
        acme_end.close()
        threading.Thread(target=self.serve, daemon=True).start()
        threading.Thread(target=self.listen, daemon=True).start()

    def record(self, verb, name, body):
        with self.lock:
            self.events.append((time.time(), verb, name, body))

    def serve(self):
        while True:
            body = read_frame(self.srv)
            if body is None:
                return
            line = body.split(b"\n", 1)[0].decode()
            verb, name = line.split(" ")[0], line.split(" ")[1]
            self.record(verb, name, body)
            if verb == "ALPN-ADD" and name == self.hold_alpn:
                self.held.set()
                return  # never answered: the process is killed
            try:
                self.srv.sendall(frame(b"OK"))
            except OSError:
                return

    def listen(self):
        while True:
            body = read_frame(self.parent)
            if body is None:
                return
            line = body.split(b"\n", 1)[0].decode()
            self.record(line.split(" ")[0], line.split(" ")[1], body)

    def of(self, verb, name=None):
        with self.lock:
            return [e for e in self.events
                    if e[1] == verb and (name is None or e[2] == name)]

    def wait(self, cond, timeout):
        end = time.time() + timeout
        while time.time() < end:
            if cond():
                return True
            if self.proc.poll() is not None:
                return cond()
            time.sleep(0.1)
        return cond()

    def log(self):
        self.err.flush()
        self.err.seek(0)
        return self.err.read()

    def stop(self, sig=None):
        if sig is None:
            # The parent closing its end is the signal to stop: the
            # process frees what it holds and exits 0 (LeakSanitizer
            # looks then in the sanitizer build).
            self.parent.shutdown(socket.SHUT_RDWR)
            try:
                self.proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                pass
        if self.proc.poll() is None:
            self.proc.send_signal(sig or signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.parent.close()
        self.srv.close()


def state_of(body):
    """A STATE body: NAME not_after renew_at failures, and its error."""
    head, _, rest = body.partition(b"\n")
    f = head.decode().split(" ")
    return f, rest


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def split_pem(path):
    text = open(path).read()
    blocks = re.findall(r"-----BEGIN ([A-Z ]+)-----\n.*?-----END \1-----\n",
                        text, re.S)
    certs = re.findall(r"-----BEGIN CERTIFICATE-----\n.*?-----END "
                       r"CERTIFICATE-----\n", text, re.S)
    keys = re.findall(r"-----BEGIN PRIVATE KEY-----\n.*?-----END PRIVATE "
                      r"KEY-----\n", text, re.S)
    return blocks, certs, keys


def check_cert(top, pebble, state, dom, label):
    path = os.path.join(state, "certs", dom + ".pem")
    if not ok(os.path.exists(path), "%s: certs/%s.pem exists" % (label, dom)):
        return None
    blocks, certs, keys = split_pem(path)
    ok(len(keys) == 1 and blocks[0] == "PRIVATE KEY" and len(certs) >= 2,
       "%s: %s.pem is the key then the chain (%d certificates)"
       % (label, dom, len(certs)))
    ok(mode(path) == 0o600, "%s: %s.pem is 0600 (%o)"
       % (label, dom, mode(path)))
    leaf = os.path.join(top, dom + ".leaf.pem")
    rest = os.path.join(top, dom + ".rest.pem")
    open(leaf, "w").write(certs[0])
    open(rest, "w").write("".join(certs[1:]))
    v = run("openssl", "verify", "-CAfile", pebble.root, "-untrusted", rest,
            "-verify_hostname", "mta-sts." + dom, leaf)
    ok(v.returncode == 0, "%s: the chain of %s verifies against pebble's "
       "root and covers mta-sts.%s" % (label, dom, dom)) or diag(v.stdout +
                                                                v.stderr)
    kpub = run("openssl", "pkey", "-pubout", input=keys[0] if keys else "")
    cpub = run("openssl", "x509", "-noout", "-pubkey", "-in", leaf)
    ok(kpub.stdout != "" and kpub.stdout == cpub.stdout,
       "%s: the key in %s.pem is the leaf's" % (label, dom))
    s = run("openssl", "x509", "-noout", "-serial", "-in", leaf)
    return s.stdout.strip()


def main():
    if shutil.which("pebble") is None:
        print("1..0 # SKIP pebble not installed")
        return 0
    top = tempfile.mkdtemp(prefix="mtasts-acme.")
    os.chmod(top, 0o755)
    pebble = Pebble(top, {})
    try:
        scenarios(top, pebble)
    finally:
        pebble.stop()
        if FAILED == 0:
            shutil.rmtree(top, ignore_errors=True)
        else:
            diag("kept " + top)
    print("1..%d" % N)
    return 1 if FAILED else 0


def scenario_three(top, pebble):
    """Three domains get certificates; the files and messages."""
    state = os.path.join(top, "state1")
    doms = ["a.example", "b.example", "c.example"]
    a = Acme(top, conf_body(pebble.directory, pebble.ca_file, state, doms))
    got = a.wait(lambda: len(a.of("ISSUED")) >= 3, 90)
    ok(got, "three domains: ISSUED for each within 90 s") or diag(a.log())
    for d in doms:
        ok(len(a.of("ISSUED", d)) == 1, "ISSUED %s once" % d)
        adds = a.of("ALPN-ADD", "mta-sts." + d)
        dels = a.of("ALPN-DEL", "mta-sts." + d)
        ok(len(adds) >= 1 and len(dels) >= 1 and adds[0][0] <= dels[-1][0],
           "the challenge of mta-sts.%s was added then removed" % d)
        states = [state_of(e[3]) for e in a.of("STATE", d)]
        last = states[-1][0] if states else None
        ok(last is not None and int(last[2]) > time.time() + 86400 and
           last[4] == "0",
           "a STATE for %s with its notAfter and no failures (%s)"
           % (d, last))
        check_cert(top, pebble, state, d, "three domains")
        sfile = os.path.join(state, "certs", d + ".state")
        ok(os.path.exists(sfile) and mode(sfile) == 0o644 and
           open(sfile, "rb").read() == a.of("STATE", d)[-1][3],
           "certs/%s.state is 0644 and holds the last STATE sent" % d)
        ok(not os.path.exists(os.path.join(state, "certs", d + ".order")) and
           not os.path.exists(os.path.join(state, "certs", d + ".key")),
           "no order or key of %s left behind" % d)
    ok(mode(state) == 0o700 and mode(os.path.join(state, "certs")) == 0o700,
       "the state directory and certs/ are 0700")
    ok(mode(os.path.join(state, "account.key")) == 0o600,
       "account.key is 0600")
    acct = open(os.path.join(state, "account")).read().split("\n")
    ok(acct[0] == pebble.directory and acct[1].startswith("https://"),
       "the account URL is kept with its directory")
    ok(a.proc.poll() is None, "the process runs on after issuing")
    check_sandbox(a, "three domains")
    a.stop()
    ok(a.proc.returncode == 0,
       "it exits 0 when the parent closes its end (%s)" % a.proc.returncode)
    # Restarted on the same directory: nothing is due, nothing ordered.
    before = pebble.new_orders()
    b = Acme(top, conf_body(pebble.directory, pebble.ca_file, state, doms))
    b.wait(lambda: len(b.of("STATE")) >= 3, 20)
    time.sleep(2)
    ok(len(b.of("ISSUED")) == 0 and pebble.new_orders() == before,
       "a restart with valid certificates orders nothing")
    ok(len(b.of("STATE")) >= 3,
       "a new channel gets every domain's STATE (%d)" % len(b.of("STATE")))
    b.stop()


def scenario_nonces(top):
    """PEBBLE_WFE_NONCEREJECT=50: badNonce retried (RFC 8555 §6.5)."""
    pebble = Pebble(top, {"PEBBLE_WFE_NONCEREJECT": "50"})
    try:
        state = os.path.join(top, "state2")
        doms = ["n1.example", "n2.example"]
        a = Acme(top, conf_body(pebble.directory, pebble.ca_file, state, doms))
        got = a.wait(lambda: len(a.of("ISSUED")) >= 2, 120)
        ok(got, "with half the nonces rejected, both domains get "
           "certificates") or diag(a.log())
        m = re.findall(r"(\d+) bad nonces retried", a.log())
        ok(m and max(int(x) for x in m) > 0,
           "bad nonces were met and retried (%s)" % (m[-1] if m else "none"))
        for d in doms:
            check_cert(top, pebble, state, d, "bad nonces")
        a.stop()
    finally:
        pebble.stop()


def scenario_resume(top, pebble):
    """kill -9 after the order URL is kept: the next process resumes."""
    state = os.path.join(top, "state3")
    d = "resume.example"
    before = pebble.new_orders()
    a = Acme(top, conf_body(pebble.directory, pebble.ca_file, state, [d]),
             hold_alpn="mta-sts." + d)
    held = a.wait(lambda: a.held.is_set(), 60)
    ok(held, "the challenge's ALPN-ADD is held unanswered") or diag(a.log())
    order = os.path.join(state, "certs", d + ".order")
    url = open(order).read().strip() if os.path.exists(order) else None
    ok(url is not None and url.startswith("https://127.0.0.1"),
       "the order URL is kept in certs/%s.order before the challenge (%s)"
       % (d, url))
    ok(mode(order) == 0o600 if url else False, ".order is 0600")
    a.stop(signal.SIGKILL)
    ok(a.proc.returncode == -signal.SIGKILL, "the process is killed (-9)")
    ok(pebble.new_orders() == before + 1, "one newOrder so far")
    b = Acme(top, conf_body(pebble.directory, pebble.ca_file, state, [d]))
    got = b.wait(lambda: len(b.of("ISSUED", d)) == 1, 60)
    ok(got, "the next process gets the certificate") or diag(b.log())
    ok(pebble.new_orders() == before + 1,
       "no second newOrder: the kept order was continued (%d)"
       % (pebble.new_orders() - before))
    ok(url is not None and "resuming the order " + url in b.log(),
       "the next process resumed the kept order's URL")
    check_cert(top, pebble, state, d, "resumed")
    b.stop()


def scenario_renew(top, pebble):
    """renew-age 1: a second certificate with another serial."""
    state = os.path.join(top, "state4")
    d = "renew.example"
    a = Acme(top, conf_body(pebble.directory, pebble.ca_file, state, [d],
                            renew_age=1))
    first = a.wait(lambda: len(a.of("ISSUED", d)) >= 1, 60)
    ok(first, "renew-age 1: the first certificate") or diag(a.log())
    s1 = check_cert(top, pebble, state, d, "renewal 1") if first else None
    second = a.wait(lambda: len(a.of("ISSUED", d)) >= 2, 60)
    a.stop()
    ok(second, "renew-age 1: a second certificate") or diag(a.log())
    s2 = check_cert(top, pebble, state, d, "renewal 2") if second else None
    ok(s1 is not None and s2 is not None and s1 != s2,
       "the renewal has another serial (%s, %s)" % (s1, s2))


def scenario_dead(top):
    """A directory that does not answer: a failure, a back-off."""
    state = os.path.join(top, "state5")
    d = "dead.example"
    port = free_port()
    t0 = time.time()
    a = Acme(top, conf_body("https://127.0.0.1:%d/dir" % port, None, state,
                            [d]))
    got = a.wait(lambda: any(state_of(e[3])[0][4] == "1"
                             for e in a.of("STATE", d)), 60)
    ok(got, "a dead directory: a STATE with failures 1") or diag(a.log())
    st = [state_of(e[3]) for e in a.of("STATE", d)
          if state_of(e[3])[0][4] == "1"]
    if st:
        f, err = st[0]
        ok(b"127.0.0.1" in err or b"onnect" in err,
           "its last error names the failure (%r)" % err[:80])
        renew = int(f[3])
        ok(t0 + 290 <= renew <= time.time() + 310,
           "the retry is the back-off's 300 s away (%d s)"
           % (renew - int(t0)))
    time.sleep(1)
    ok(a.proc.poll() is None, "the process runs on after the failure")
    ok(re.search(r"dead\.example: .*retry at", a.log()) is not None,
       "the failure is logged with its retry time")
    a.stop()
    # The back-off outlives a restart.
    b = Acme(top, conf_body("https://127.0.0.1:%d/dir" % port, None, state,
                            [d]))
    b.wait(lambda: len(b.of("STATE", d)) >= 1, 10)
    time.sleep(2)
    sts = [state_of(e[3])[0] for e in b.of("STATE", d)]
    ok(len(sts) >= 1 and all(s[4] == "1" for s in sts),
       "a restart keeps the failure count and waits out the back-off")
    b.stop()


def scenario_pacing(top, pebble):
    """rate 2 window 60 burst 2: two orders now, the rest later."""
    state = os.path.join(top, "state6")
    doms = ["p%d.example" % i for i in range(5)]
    before = pebble.new_orders()
    a = Acme(top, conf_body(pebble.directory, pebble.ca_file, state, doms,
                            rate=2, window=60, burst=2))
    a.wait(lambda: len(a.of("ISSUED")) >= 2, 60)
    time.sleep(8)
    n = len(a.of("ISSUED"))
    ok(n == 2, "pacing: 2 of 5 domains issued in the first seconds (%d)" % n)
    ok(pebble.new_orders() - before == 2,
       "pacing: 2 newOrders at pebble (%d)" % (pebble.new_orders() - before))
    a.stop()


# ---- the sandbox ----

def sanitized(a):
    """A sanitizer build loads no filter (sandbox_linux.c)."""
    return (os.environ.get("MTS_SANITIZED", "0") == "1" or
            "sanitizer build: no seccomp filter" in a.log())


def task_status(pid):
    """{tid: (NoNewPrivs, Seccomp)} of every thread of pid now."""
    out = {}
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return out
    for tid in tids:
        nnp = sec = None
        try:
            with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
                for line in f:
                    if line.startswith("NoNewPrivs:"):
                        nnp = line.split()[1]
                    elif line.startswith("Seccomp:"):
                        sec = line.split()[1]
        except OSError:
            continue  # a resolver thread that just ended
        out[tid] = (nnp, sec)
    return out


class Sampler:
    """Reads every thread's status while the process works, so that
    libcurl's short-lived resolver threads are seen too."""

    def __init__(self, pid):
        self.pid = pid
        self.seen = {}
        self.stop = threading.Event()
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while not self.stop.is_set():
            self.seen.update(task_status(self.pid))
            time.sleep(0.002)

    def done(self):
        self.stop.set()
        self.t.join()
        return self.seen


def check_sandbox(a, label, seen=None, min_threads=1):
    """NoNewPrivs 1 and Seccomp 2 (a filter) on every thread; at least
    min_threads of them seen."""
    if sanitized(a):
        skip("%s: NoNewPrivs 1 and Seccomp 2 on every thread" % label,
             "sanitizer build: no seccomp filter")
        return
    st = dict(seen or {})
    st.update(task_status(a.proc.pid))
    vals = set(st.values())
    ok(len(st) >= min_threads and vals == {("1", "2")},
       "%s: NoNewPrivs 1 and Seccomp 2 on every thread (%d threads seen: "
       "%s)" % (label, len(st), sorted(vals)))


# ---- a stub DNS server for the CA's name ----

class DnsStub:
    """Answers A CA_NAME with 127.0.0.1 and AAAA with ::1 (RFC 1035
    §4.1); anything else NXDOMAIN.  Counts the questions for CA_NAME."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((DNS_ADDR, 53))
        self.asked = 0
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        while True:
            try:
                q, peer = self.sock.recvfrom(512)
            except OSError:
                return
            if len(q) < 17:
                continue
            i, labels = 12, []
            while i < len(q) and q[i] != 0:
                labels.append(q[i + 1:i + 1 + q[i]].decode("ascii", "replace"))
                i += 1 + q[i]
            if i + 5 > len(q):
                continue
            qtype = struct.unpack(">H", q[i + 1:i + 3])[0]
            question = q[12:i + 5]
            name = ".".join(labels).lower().rstrip(".")
            ours = name == CA_NAME
            if ours:
                self.asked += 1
            rcode = 0 if ours else 3
            ans = b""
            if ours and qtype == 1:
                ans = (b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) +
                       socket.inet_aton("127.0.0.1"))
            elif ours and qtype == 28:
                # Two addresses: glibc sorts them (RFC 6724), which reads
                # the interfaces' addresses over netlink; curl tries ::1,
                # where pebble does not listen, then 127.0.0.1.
                ans = (b"\xc0\x0c" + struct.pack(">HHIH", 28, 1, 60, 16) +
                       socket.inet_pton(socket.AF_INET6, "::1"))
            # Late, so that libcurl's resolver thread lives long enough
            # for the test to read its status.
            time.sleep(0.3)
            # QR AA RD RA, the question echoed, one answer or none.
            hdr = q[:2] + struct.pack(">HHHHH", 0x8580 | rcode, 1,
                                      1 if ans else 0, 0, 0)
            try:
                self.sock.sendto(hdr + question + ans, peer)
            except OSError:
                pass

    def close(self):
        self.sock.close()


def scenario_dns(top, pebble):
    """The directory by name: getaddrinfo in the sandbox."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        skip("the CA by its DNS name", "needs root and unshare(1)")
        return
    try:
        stub = DnsStub()
    except OSError as e:
        skip("the CA by its DNS name", "cannot bind %s:53 (%s)" % (DNS_ADDR, e))
        return
    try:
        resolv = os.path.join(top, "resolv.conf")
        with open(resolv, "w") as f:
            f.write("nameserver %s\noptions attempts:2 timeout:2\n" % DNS_ADDR)
        os.chmod(resolv, 0o644)
        # A private mount namespace whose /etc/resolv.conf names the stub.
        wrap = ["unshare", "-m", "sh", "-c",
                'mount --bind "$0" /etc/resolv.conf && exec "$@"', resolv]
        state = os.path.join(top, "state7")
        d = "dns.example"
        directory = "https://%s:%d/dir" % (CA_NAME, pebble.port)
        a = Acme(top, conf_body(directory, pebble.ca_file, state, [d]),
                 wrap=wrap)
        sampler = Sampler(a.proc.pid)
        got = a.wait(lambda: len(a.of("ISSUED", d)) == 1, 60)
        seen = sampler.done()
        ok(got, "the CA named %s: a certificate for %s" % (CA_NAME, d)) or \
            diag(a.log())
        ok(stub.asked > 0, "the CA's name was looked up in the DNS (%d "
           "questions)" % stub.asked)
        ok(a.proc.poll() is None, "the process runs on after its DNS "
           "look-ups (%s)" % a.proc.returncode)
        # Two at least: the main thread and a resolver thread.
        check_sandbox(a, "the CA by name", seen, min_threads=2)
        if got:
            check_cert(top, pebble, state, d, "the CA by name")
        a.stop()
        ok(a.proc.returncode == 0, "it exits 0 when the parent closes its "
           "end (%s)" % a.proc.returncode)
    finally:
        stub.close()


def scenarios(top, pebble):
    scenario_three(top, pebble)
    scenario_resume(top, pebble)
    scenario_renew(top, pebble)
    scenario_pacing(top, pebble)
    scenario_dead(top)
    scenario_nonces(top)
    scenario_dns(top, pebble)
    bad = []
    for name in os.listdir(top):
        if name.startswith("acme.") and name.endswith(".log"):
            text = open(os.path.join(top, name)).read()
            if "Sanitizer" in text or "runtime error" in text:
                bad.append(name)
                diag(text)
    ok(not bad, "no sanitizer report from any acme process (%s)" % bad)


if __name__ == "__main__":
    sys.exit(main())
