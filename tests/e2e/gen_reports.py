#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Writes TLS-RPT reports (RFC 8460 §4) for the report tests: each as a
.json.gz file, and optionally the same report as a report mail (§5.3) in
a maildir-style directory and in one mbox.  Deterministic from --seed.

  gen_reports.py OUTDIR COUNT [--seed N] [--mail] [--prefix P]
                 [--policies K] [--details D]

Every report's id says its shape, "P-<n>-p<policies>-d<details>", so a
test can tell a whole report from a partial one by the id alone.
"""
import argparse
import base64
import gzip
import json
import os
import random

RESULTS = ["certificate-expired", "starttls-not-supported",
           "certificate-host-mismatch", "validation-failure",
           "sts-policy-fetch-error", "tlsa-invalid"]
ORGS = ["Google Inc.", "Microsoft Corporation", "Mail.Ru", "Example Org"]


def report(rng, n, prefix, npol, ndet):
    day = 1764547200 + 86400 * (n % 7)  # 2025-12-01 .. 07
    policies = []
    left = ndet
    for p in range(npol):
        dom = "d%d.example" % (n % 3)
        details = []
        for d in range(left if p == npol - 1 else rng.randint(0, left)):
            details.append({
                "result-type": RESULTS[(n + p + d) % len(RESULTS)],
                "sending-mta-ip": "192.0.2.%d" % (1 + d),
                "receiving-mx-hostname": "mx%d.%s" % (d % 2, dom),
                "receiving-ip": "198.51.100.%d" % (1 + p),
                "failed-session-count": 1 + (n + d) % 5,
            })
        left -= len(details)
        policies.append({
            "policy": {"policy-type": "sts",
                       "policy-string": ["version: STSv1", "mode: enforce",
                                         "mx: *.%s" % dom,
                                         "max_age: 604800"],
                       "policy-domain": dom,
                       "mx-host": ["*.%s" % dom]},
            "summary": {
                "total-successful-session-count": rng.randint(0, 5000),
                "total-failure-session-count":
                    sum(x["failed-session-count"] for x in details)},
            "failure-details": details,
        })
    org = ORGS[n % len(ORGS)]
    return org, {
        "organization-name": org,
        "date-range": {
            "start-datetime": fmt(day),
            "end-datetime": fmt(day + 86399)},
        "contact-info": "tlsrpt@sender%d.example" % (n % len(ORGS)),
        "report-id": "%s-%d-p%d-d%d" % (prefix, n, npol, ndet),
        "policies": policies,
    }


def fmt(t):
    import time
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def mail(org, body_gz, rep, n):
    dom = rep["policies"][0]["policy"]["policy-domain"]
    fname = "sender.example!%s!%d!%d!%03d.json.gz" % (dom, 0, 86399, n)
    b64 = base64.encodebytes(body_gz).decode().replace("\n", "\r\n")
    return ("From: tlsrpt@sender.example\r\n"
            "To: tlsrpt@%s\r\n"
            "Subject: Report Domain: %s Submitter: sender.example "
            "Report-ID: <%s@sender.example>\r\n"
            "TLS-Report-Domain: %s\r\n"
            "TLS-Report-Submitter: sender.example\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: multipart/report; report-type=\"tlsrpt\"; "
            "boundary=\"b%d\"\r\n\r\n"
            "--b%d\r\nContent-Type: text/plain\r\n\r\n"
            "This is a TLS report for %s.\r\n\r\n"
            "--b%d\r\nContent-Type: application/tlsrpt+gzip\r\n"
            "Content-Transfer-Encoding: base64\r\n"
            "Content-Disposition: attachment; filename=\"%s\"\r\n\r\n"
            "%s\r\n--b%d--\r\n") % (
                dom, dom, rep["report-id"], dom, n, n, dom, n, fname, b64, n)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("count", type=int)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--prefix", default="r")
    ap.add_argument("--mail", action="store_true")
    ap.add_argument("--policies", type=int, default=0)
    ap.add_argument("--details", type=int, default=-1)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    os.makedirs(os.path.join(a.out, "json"), exist_ok=True)
    if a.mail:
        os.makedirs(os.path.join(a.out, "mail"), exist_ok=True)
        mbox = open(os.path.join(a.out, "reports.mbox"), "w", newline="")
    for n in range(a.count):
        npol = a.policies or rng.randint(1, 5)
        ndet = a.details if a.details >= 0 else rng.randint(0, 3)
        org, rep = report(rng, n, a.prefix, npol, ndet)
        body = json.dumps(rep, indent=1).encode()
        gz = gzip.compress(body, mtime=0)
        with open(os.path.join(a.out, "json", "%06d.json.gz" % n), "wb") as f:
            f.write(gz)
        if a.mail:
            m = mail(org, gz, rep, n)
            with open(os.path.join(a.out, "mail", "%06d.eml" % n), "w",
                      newline="") as f:
                f.write(m)
            mbox.write("From tlsrpt@sender.example Mon Dec  1 00:00:00 2025\n")
            mbox.write(m.replace("\r\n", "\n"))
            mbox.write("\n")
    if a.mail:
        mbox.close()


main()
