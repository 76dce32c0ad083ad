#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Makes the report mails of tests/data/tlsrpt/mail/ and the expected JSON
of google-2022-report.eml, with Python's stdlib only (email, gzip, base64,
quopri), so that what test_report_source checks the C readers against
does not come from them.  Deterministic: gzip with mtime 0, fixed
boundaries.  Run from anywhere; it writes beside itself and commits
nothing:

    python3 tests/data/tlsrpt/mail/make.py
"""
import base64
import email
import email.policy
import gzip
import os
import quopri
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.dirname(HERE)


def sample(name):
    with open(os.path.join(DATA, name), "rb") as f:
        return f.read()


def b64(data):
    s = base64.b64encode(data).decode()
    return "\n".join(s[i:i + 76] for i in range(0, len(s), 76)) + "\n"


def gz(data):
    return gzip.compress(data, mtime=0)


def png():
    """A 1x1 PNG: an extra part a report reader ignores (RPT-MAIL-13)."""
    def chunk(kind, body):
        c = struct.pack(">I", len(body)) + kind + body
        return c + struct.pack(">I", zlib.crc32(kind + body) & 0xffffffff)
    return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(b"\x00\x00")) + chunk(b"IEND", b""))


def headers(domain="example.net", submitter="mail.sender.example.com",
            rid="735ff.e317+bf22029@example.net",
            ctype='multipart/report; report-type="tlsrpt"; boundary="rpt"'):
    return ("From: tlsrpt@%s\n"
            "To: tlsrpt@%s\n"
            "Date: Fri, 16 Sep 2022 03:10:06 -0700\n"
            "Subject: Report Domain: %s Submitter: %s Report-ID: <%s>\n"
            "TLS-Report-Domain: %s\n"
            "TLS-Report-Submitter: %s\n"
            "Message-ID: <%s>\n"
            "MIME-Version: 1.0\n"
            "Content-Type: %s\n\n") % (submitter, domain, domain, submitter,
                                       rid, domain, submitter, rid, ctype)


TEXT = ('Content-Type: text/plain; charset="UTF-8"\n\n'
        "This is an aggregate TLS report from mail.sender.example.com\n\n")
NAME = "mail.sender.example.com!example.net!1470009600!1470095999!01"


def part(ctype, body, cte="base64", name=NAME + ".json.gz"):
    disp = ""
    if name is not None:
        ctype += '; name="%s"' % name
        disp = 'Content-Disposition: attachment; filename="%s"\n' % name
    return ("Content-Type: %s\n%sContent-Transfer-Encoding: %s\n\n%s" %
            (ctype, disp, cte, body))


def multipart(boundary, parts):
    out = "This is a multi-part message in MIME format.\n\n"
    for p in parts:
        out += "--%s\n%s\n" % (boundary, p)
    return out + "--%s--\n" % boundary


def write(name, text, crlf=False):
    data = text.replace("\n", "\r\n") if crlf else text
    with open(os.path.join(HERE, name), "w", newline="") as f:
        f.write(data)


def main():
    npf = sample("google-no-policy-found-2024.decoded.json")
    two = sample("google-sts-two-mx-2026.decoded.json")
    ms = sample("microsoft-no-timezone-2023.decoded.json")
    rfc = sample("rfc8460-example-mxhost-string.json")

    gzpart = part("application/tlsrpt+gzip", b64(gz(npf)))
    # RPT-MAIL-1, -2: the RFC's shape, a base64 gzip part.
    write("base64-gzip.eml", headers() + multipart("rpt", [TEXT, gzpart]))
    # A quoted-printable JSON part (the JSON's lines are long: soft breaks).
    qp = quopri.encodestring(ms).decode()
    write("qp-json.eml", headers(domain="contoso.example") + multipart(
        "rpt", [TEXT, part("application/tlsrpt+json", qp,
                           "quoted-printable", NAME + ".json")]))
    # A report inside multipart/mixed inside multipart/mixed, CRLF lines.
    inner = ('Content-Type: multipart/report; report-type=tlsrpt; '
             'boundary="in"\n\n' + multipart("in", [TEXT, part(
                 "application/tlsrpt+gzip", b64(gz(two)))]))
    middle = ('Content-Type: multipart/mixed; boundary="mid"\n\n' +
              multipart("mid", [TEXT, inner]))
    write("nested.eml", headers(ctype='multipart/mixed; boundary="out"') +
          multipart("out", [TEXT, middle]), crlf=True)
    # RPT-MAIL-13: an image/png part as well, ignored.
    write("extra-png.eml", headers() + multipart("rpt", [
        TEXT, part("image/png", b64(png()), name="logo.png"), gzpart]))
    # No report part at all.
    write("no-report.eml", headers(ctype="text/plain") +
          "Hello, this is not a report.\n")
    # RPT-MAIL-2 T2: gzip labelled +json (inflated, and noted).
    write("gzip-labelled-json.eml", headers() + multipart("rpt", [
        TEXT, part("application/tlsrpt+json", b64(gz(npf)),
                   name=NAME + ".json")]))
    # JSON labelled +gzip (read as JSON, and noted).
    write("json-labelled-gzip.eml", headers() + multipart("rpt", [
        TEXT, part("application/tlsrpt+gzip", b64(npf))]))
    # Two report parts: both given, in order.
    write("two-reports.eml", headers() + multipart("rpt", [
        TEXT, gzpart, part("application/tlsrpt+json", b64(rfc),
                           name=NAME + ".json")]))
    # §5.1's extension on a generic type: taken.
    write("octet-stream-named.eml", headers() + multipart("rpt", [
        TEXT, part("application/octet-stream", b64(gz(npf)))]))
    # A generic type without a report's name: not a report part.
    write("octet-stream-unnamed.eml", headers() + multipart("rpt", [
        TEXT, part("application/octet-stream", b64(gz(npf)), name=None)]))
    # A report mail forwarded as message/rfc822.
    fwd = ("Content-Type: message/rfc822\n\n" + headers() +
           multipart("rpt", [TEXT, gzpart]))
    write("forwarded.eml", headers(ctype='multipart/mixed; boundary="fw"')
          .replace("TLS-Report-", "X-Not-") + multipart(
              "fw", [TEXT, fwd]))
    # A gzip part whose CRC-32 is wrong.
    bad = bytearray(gz(npf))
    bad[-8] ^= 0xff
    write("gzip-crc-error.eml", headers() + multipart("rpt", [
        TEXT, part("application/tlsrpt+gzip", b64(bytes(bad)))]))
    # A 7bit JSON part, no Content-Transfer-Encoding, not multipart.
    write("single-part-json.eml", headers(
        ctype="application/tlsrpt+json") + rfc.decode())

    # The JSON of the real Google report mail, as Python reads it.
    with open(os.path.join(DATA, "google-2022-report.eml"), "rb") as f:
        msg = email.message_from_binary_file(f, policy=email.policy.default)
    for p in msg.walk():
        if p.get_content_type() == "application/tlsrpt+gzip":
            with open(os.path.join(DATA, "google-2022-report.decoded.json"),
                      "wb") as f:
                f.write(gzip.decompress(p.get_payload(decode=True)))


main()
