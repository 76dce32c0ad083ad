#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""sts_sender.py: a scripted MTA-STS sender (RFC 8461), for the world.

What a sending MTA does for one message, in one run, with its policy
cache in a file:

  sts_sender.py --cache FILE --ca CAFILE [--lazy] send DOMAIN RCPT
  sts_sender.py --cache FILE show

send: looks up _mta-sts.DOMAIN TXT (§3.1); refetches the policy over
HTTPS (§3.3) when the record's id differs from the cached policy's or
the cached policy has expired (with --lazy only when it has expired: a
sender may keep a policy until max_age, §5.1, the worst a conformant
one does); a failed refresh keeps an unexpired cached policy (§5.1);
looks up the MX records and tries them by preference, applying the
policy to each (§4, §5): in enforce mode a host no mx pattern covers is
skipped, and a host whose STARTTLS or certificate (the CA file, the MX
host's name, RFC 6125: no CN fallback) fails is skipped; in testing
mode the failure is noted and the message delivered anyway.  Delivers
by SMTP to the first acceptable host and prints one JSON line:

  {"ok": bool, "domain": D, "mx": host or null, "policy_id": id or null,
   "mode": mode or null, "fetched": bool, "fetch_error": text or null,
   "txt_id": the live record's id or null,
   "refused": [{"mx": host, "why": text}, ...],
   "tls_failures": [{"mx": host, "why": text}, ...]}

("refused": the hosts skipped or failed, in the order tried;
"tls_failures": testing-mode failures the message was delivered past.)
Exit 0 when delivered, 1 when no MX was acceptable or every one failed
(a real MTA would defer and retry: the message is not lost yet, but it
did not go out), 2 on a usage error or an unreadable cache.

The cache FILE is a JSON object keyed by policy domain; each entry has
"id", "fetched" and "expires" (epoch seconds), "body", "mode",
"max_age" and "mx" (the patterns).  A missing FILE is an empty cache.

DNS questions go to the resolver of /etc/resolv.conf through drill (or
dig); run it inside the world (`world.sh exec python3 sts_sender.py
...`).  Python 3 standard library only.  Every failed MX is tried past,
also after a 5xx (a real MTA would bounce): the test wants to know
whether some host took the message.
"""

import argparse
import json
import os
import re
import shutil
import smtplib
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

POLICY_MAX = 64 * 1024  # RFC 8461 §3.3
MAX_AGE_MAX = 31557600  # RFC 8461 §3.2
TIMEOUT = 10
HELO = "sender.test"
MAIL_FROM = "sts-sender@sender.test"


# ---- DNS (drill or dig, parsed) ----------------------------------------


class DNSAnswer:
    def __init__(self, rcode, ad, records):
        self.rcode = rcode  # "NOERROR", "NXDOMAIN", "SERVFAIL", ...
        self.ad = ad
        self.records = records  # [(owner, type, rdata text)] of the answer


def parse_dig_output(text):
    """A DNSAnswer from drill's or dig's presentation output."""
    rcode = None
    ad = False
    records = []
    section = None
    for line in text.splitlines():
        m = re.search(r"(?:rcode|status): ([A-Z]+)", line)
        if line.startswith(";;") and m and rcode is None:
            rcode = m.group(1)
            continue
        m = re.match(r";; flags:([^;]*);", line)
        if m:
            ad = "ad" in m.group(1).split()
            continue
        m = re.match(r";; ([A-Z]+) SECTION:", line)
        if m:
            section = m.group(1)
            continue
        if not line.strip() or line.startswith(";"):
            continue
        if section != "ANSWER":
            continue
        fields = line.split(None, 4)
        if len(fields) < 5 or fields[2].upper() != "IN":
            continue
        owner, _ttl, _cls, rtype, rdata = fields
        records.append((owner.lower().rstrip("."), rtype.upper(), rdata))
    if rcode is None:
        raise ValueError("no rcode in the resolver tool's output")
    return DNSAnswer(rcode, ad, records)


def dns_query(name, rtype):
    """Asks the resolver of resolv.conf; a DNSAnswer, or raises OSError."""
    if shutil.which("drill"):
        cmd = ["drill", "-D", rtype, name]
    elif shutil.which("dig"):
        cmd = ["dig", "+dnssec", rtype, name]
    else:
        raise OSError("neither drill nor dig is installed")
    try:
        run = subprocess.run(cmd, capture_output=True, text=True,
                             timeout=TIMEOUT + 5)
    except subprocess.TimeoutExpired:
        raise OSError("%s %s: timed out" % (rtype, name))
    if run.returncode != 0:
        raise OSError("%s %s: %s" % (rtype, name,
                                     (run.stderr or run.stdout).strip()))
    try:
        return parse_dig_output(run.stdout)
    except ValueError as e:
        raise OSError("%s %s: %s" % (rtype, name, e))


def txt_strings(rdata):
    """The character-strings of a TXT rdata in presentation format
    ("a" "b\\"c" plain), escapes (\\X, \\DDD) undone."""
    out = []
    i = 0
    n = len(rdata)
    while i < n:
        if rdata[i].isspace():
            i += 1
            continue
        quoted = rdata[i] == '"'
        if quoted:
            i += 1
        buf = bytearray()
        while i < n:
            c = rdata[i]
            if quoted and c == '"':
                i += 1
                break
            if not quoted and c.isspace():
                break
            if c == "\\" and i + 1 < n:
                if rdata[i + 1:i + 4].isdigit() and len(rdata[i + 1:i + 4]) == 3:
                    buf.append(int(rdata[i + 1:i + 4]) & 0xFF)
                    i += 4
                else:
                    buf.extend(rdata[i + 1].encode())
                    i += 2
                continue
            buf.extend(c.encode())
            i += 1
        out.append(buf.decode("utf-8", "replace"))
    return out


# ---- The policy record and the policy (RFC 8461 §3.1, §3.2) ----------

STS_ID = re.compile(r"[A-Za-z0-9]{1,32}\Z")
STS_EXT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}\Z")
STS_EXT_VALUE = re.compile(r"[\x21-\x3a\x3c\x3e-\x7e]+\Z")


def parse_sts_record(text):
    """The id of a v=STSv1 record, or None when it is invalid (§3.1)."""
    m = re.match(r"v=STSv1[ \t]*;(.*)\Z", text, re.S)
    if m is None:
        return None
    ident = None
    for field in m.group(1).split(";"):
        field = field.strip(" \t")
        if not field:
            continue  # the optional final separator
        key, eq, value = field.partition("=")
        if not eq:
            return None
        if key == "id":
            if ident is not None or not STS_ID.match(value):
                return None
            ident = value
        elif not STS_EXT_NAME.match(key) or not STS_EXT_VALUE.match(value):
            return None
    return ident


def sts_id_of(answer):
    """The policy id the TXT answer publishes, or None: records that do
    not begin with v=STSv1; are discarded, and anything but exactly one
    valid record left means no policy (§3.1)."""
    records = []
    for _owner, rtype, rdata in answer.records:
        if rtype != "TXT":
            continue
        text = "".join(txt_strings(rdata))
        if re.match(r"v=STSv1[ \t]*;", text):
            records.append(text)
    if len(records) != 1:
        return None
    return parse_sts_record(records[0])


def parse_policy(body):
    """A dict (mode, max_age, mx) of a policy body, or raises ValueError."""
    fields = {}
    mx = []
    for line in re.split(r"\r?\n", body):
        if not line:
            continue
        key, colon, value = line.partition(":")
        if not colon:
            raise ValueError("policy line without a colon: %r" % line[:60])
        key = key.strip()
        value = value.strip(" \t")
        if key == "mx":
            mx.append(value)
        else:
            fields.setdefault(key, value)  # the first one counts
    if fields.get("version") != "STSv1":
        raise ValueError("policy version is not STSv1")
    mode = fields.get("mode")
    if mode not in ("enforce", "testing", "none"):
        raise ValueError("policy mode %r" % mode)
    age = fields.get("max_age", "")
    if not re.match(r"[0-9]{1,10}\Z", age) or int(age) > MAX_AGE_MAX:
        raise ValueError("policy max_age %r" % age)
    if mode != "none" and not mx:
        raise ValueError("policy has no mx")
    return {"mode": mode, "max_age": int(age), "mx": mx}


def mx_matches(pattern, host):
    """RFC 8461 §4.1: a pattern is a host name, or "*." and a domain, the
    "*" standing for exactly one leftmost label; case-insensitive."""
    pattern = pattern.lower().rstrip(".")
    host = host.lower().rstrip(".")
    if pattern.startswith("*."):
        first, dot, rest = host.partition(".")
        return bool(first) and bool(dot) and rest == pattern[2:]
    return host == pattern


# ---- The fetch (RFC 8461 §3.3) ---------------------------------------


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # urllib then raises HTTPError with the 3xx


def fetch_policy(domain, cafile):
    """(body, parsed policy) of https://mta-sts.DOMAIN/..., or raises."""
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}),
        urllib.request.HTTPSHandler(context=ctx), NoRedirect())
    url = "https://mta-sts.%s/.well-known/mta-sts.txt" % domain
    with opener.open(url, timeout=TIMEOUT) as resp:
        if resp.status != 200:
            raise ValueError("HTTP status %d" % resp.status)
        ctype = resp.headers.get("Content-Type", "")
        if ctype.split(";")[0].strip().lower() != "text/plain":
            raise ValueError("Content-Type %r is not text/plain" % ctype)
        raw = resp.read(POLICY_MAX + 1)
    if len(raw) > POLICY_MAX:
        raise ValueError("policy over %d octets" % POLICY_MAX)
    body = raw.decode("utf-8")
    return body, parse_policy(body)


# ---- The cache --------------------------------------------------------


def load_cache(path):
    try:
        with open(path, encoding="utf-8") as f:
            cache = json.load(f)
    except FileNotFoundError:
        return {}
    if not isinstance(cache, dict):
        raise ValueError("%s: not a JSON object" % path)
    return cache


def save_cache(path, cache):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(cache, f, indent=1, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)


def usable(entry, now):
    """The cached policy, when there is one and it has not expired."""
    if not isinstance(entry, dict):
        return None
    try:
        if now < float(entry["fetched"]) + int(entry["max_age"]):
            return entry
    except (KeyError, TypeError, ValueError):
        pass
    return None


# ---- SMTP -------------------------------------------------------------


class TLSFailure(Exception):
    """STARTTLS missing or refused, handshake or certificate failed."""


class SMTPFailure(Exception):
    """The host could not be reached or did not take the message."""


def message(domain, rcpt):
    now = time.time()
    return ("From: <%s>\r\nTo: <%s>\r\nSubject: sts_sender.py test to %s\r\n"
            "Date: %s\r\nMessage-ID: <%d.%d@sender.test>\r\n\r\n"
            "A message from tests/e2e/sts_sender.py.\r\n" %
            (MAIL_FROM, rcpt, domain,
             time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(now)),
             int(now * 1000), os.getpid()))


def deliver(host, rcpt, msg, tls, cafile):
    """One SMTP session with HOST: tls "verify" (STARTTLS, the CA and the
    host's name), "any" (STARTTLS, no check) or "none" (plain text)."""
    try:
        smtp = smtplib.SMTP(host, 25, local_hostname=HELO, timeout=TIMEOUT)
    except (OSError, smtplib.SMTPException) as e:
        raise SMTPFailure("connect: %s" % e)
    broken = False  # after a failed handshake, no QUIT: just close
    try:
        code, reply = smtp.ehlo()
        if code != 250:
            raise SMTPFailure("EHLO: %d %s" % (code, reply.decode(errors="replace")))
        if tls != "none":
            if not smtp.has_extn("starttls"):
                raise TLSFailure("no STARTTLS offered")
            if tls == "verify":
                ctx = ssl.create_default_context(cafile=cafile)
                ctx.minimum_version = ssl.TLSVersion.TLSv1_2
                # RFC 8461 §4.2 by RFC 6125: subjectAltName only.
                ctx.hostname_checks_common_name = False
            else:
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            try:
                smtp.starttls(context=ctx)
            except (ssl.SSLError, OSError) as e:
                broken = True
                raise TLSFailure("TLS: %s" % e)
            except smtplib.SMTPResponseException as e:
                raise TLSFailure("STARTTLS: %d %s" %
                                 (e.smtp_code, e.smtp_error.decode(errors="replace")))
            smtp.ehlo()
        smtp.sendmail(MAIL_FROM, [rcpt], msg)
    except (TLSFailure, SMTPFailure):
        raise
    except smtplib.SMTPRecipientsRefused as e:
        raise SMTPFailure("RCPT: %s" % e.recipients)
    except smtplib.SMTPResponseException as e:
        raise SMTPFailure("%d %s" % (e.smtp_code, e.smtp_error.decode(errors="replace")))
    except (OSError, smtplib.SMTPException) as e:
        raise SMTPFailure(str(e) or e.__class__.__name__)
    finally:
        try:
            if broken:
                smtp.close()
            else:
                smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()


def mx_hosts(domain):
    """The MX hosts by preference (ties by name), or raises OSError."""
    ans = dns_query(domain, "MX")
    if ans.rcode != "NOERROR":
        raise OSError("MX %s: %s" % (domain, ans.rcode))
    mxs = []
    for _owner, rtype, rdata in ans.records:
        if rtype != "MX":
            continue
        pref, target = rdata.split()[:2]
        mxs.append((int(pref), target.lower().rstrip(".")))
    if not mxs:
        return [domain]  # RFC 5321 §5.1: the implicit MX
    if len(mxs) == 1 and mxs[0][1] == "":
        raise OSError("MX %s: a null MX (RFC 7505)" % domain)
    return [h for _p, h in sorted(mxs) if h]


def cmd_send(args):
    now = time.time()
    domain = args.domain.lower().rstrip(".")
    cache = load_cache(args.cache)
    out = {"ok": False, "domain": domain, "mx": None, "policy_id": None,
           "mode": None, "fetched": False, "fetch_error": None,
           "txt_id": None, "refused": [], "tls_failures": []}
    cached = usable(cache.get(domain), now)

    # §3.1: the record; an error is no record (a cached policy stays).
    try:
        txt = dns_query("_mta-sts." + domain, "TXT")
        out["txt_id"] = sts_id_of(txt) if txt.rcode == "NOERROR" else None
    except OSError as e:
        out["fetch_error"] = "TXT: %s" % e
    live = out["txt_id"]
    if args.lazy:
        refetch = live is not None and cached is None
    else:
        refetch = live is not None and (cached is None or cached.get("id") != live)
    policy = cached
    if refetch:
        try:
            body, parsed = fetch_policy(domain, args.ca)
            policy = dict(parsed, id=live, fetched=round(now, 3),
                          expires=round(now + parsed["max_age"], 3), body=body)
            cache[domain] = policy
            save_cache(args.cache, cache)
            out["fetched"] = True
        except urllib.error.HTTPError as e:
            # §5.1: a failed refresh keeps an unexpired cached policy.
            out["fetch_error"] = "fetch: HTTP %d" % e.code
        except urllib.error.URLError as e:
            out["fetch_error"] = "fetch: %s" % e.reason
        except (OSError, ValueError) as e:
            out["fetch_error"] = "fetch: %s" % e
    mode = policy["mode"] if policy else None
    out["policy_id"] = policy["id"] if policy else None
    out["mode"] = mode

    try:
        hosts = mx_hosts(domain)
    except (OSError, ValueError) as e:
        out["refused"].append({"mx": None, "why": str(e)})
        return out
    msg = message(domain, args.rcpt)
    for host in hosts:
        try:
            if mode in ("enforce", "testing"):
                if not any(mx_matches(p, host) for p in policy["mx"]):
                    why = "not covered by the policy's mx patterns"
                    if mode == "enforce":
                        out["refused"].append({"mx": host, "why": why})
                        continue
                    out["tls_failures"].append({"mx": host, "why": why})
                try:
                    deliver(host, args.rcpt, msg, "verify", args.ca)
                except TLSFailure as e:
                    if mode == "enforce":
                        out["refused"].append({"mx": host, "why": str(e)})
                        continue
                    out["tls_failures"].append({"mx": host, "why": str(e)})
                    opportunistic(host, args, msg)
            else:
                opportunistic(host, args, msg)
        except SMTPFailure as e:
            out["refused"].append({"mx": host, "why": str(e)})
            continue
        out["ok"] = True
        out["mx"] = host
        break
    return out


def opportunistic(host, args, msg):
    """Without a policy (or past a testing-mode failure): STARTTLS when
    offered and it works, else plain text."""
    try:
        deliver(host, args.rcpt, msg, "any", args.ca)
    except TLSFailure:
        deliver(host, args.rcpt, msg, "none", args.ca)


def main():
    ap = argparse.ArgumentParser(
        description="A scripted MTA-STS sender (RFC 8461) for the world.")
    ap.add_argument("--cache", required=True, help="the policy cache (JSON)")
    ap.add_argument("--ca", help="the CA file (the world's $WORLD_CA)")
    ap.add_argument("--lazy", action="store_true",
                    help="refetch only an expired policy (RFC 8461 §5.1)")
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("send", help="deliver one message")
    s.add_argument("domain")
    s.add_argument("rcpt")
    sub.add_parser("show", help="print the cache")
    args = ap.parse_args()
    try:
        if args.cmd == "show":
            print(json.dumps(load_cache(args.cache), indent=1, sort_keys=True))
            return 0
        if not args.ca:
            ap.error("send needs --ca")
        out = cmd_send(args)
    except (OSError, ValueError) as e:
        print("sts_sender.py: %s" % e, file=sys.stderr)
        return 2
    print(json.dumps(out, sort_keys=True))
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
