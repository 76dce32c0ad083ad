#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Generates TLS-RPT reports (RFC 8460 §4) as .json.gz files, for
bench/report.sh: seeded, so the same arguments give the same files,
octet for octet.

    bench/gen_reports.py [--count 20000] [--seed 1] DIR

The reports look like those real senders write (tests/data/tlsrpt/):

  - Google Inc.: compact JSON, report-id "START_DOMAIN", policy-string
    and mx-host arrays, failure details with the sending and receiving
    addresses;
  - Microsoft Corporation: compact JSON, report-id "NUMBER+DOMAIN", an
    STS policy and TLSA policies whose policy-string is one string
    holding a JSON array, dates without a time zone in some reports
    (seen in 2023 and 2024), details without sending-mta-ip;
  - Mail.ru: indented with three spaces, keys in sorted order, a UUID
    report-id, the date range ending at the next midnight,
    sts-policy-fetch-error details with a failure-reason-code only;
  - two smaller senders in the shape of RFC 8460 §4.5's example
    (indented, every detail field, additional-information).

Each report has 1 to 5 policies (the domain's STS policy, or
no-policy-found, then TLSA policies of its MX hosts) and 0 to 3
failure details in all, with real result types (§4.3), and session
counts that add up.  File names follow §5.1:
sender!policy-domain!begin!end!unique-id.json.gz, begin and end in
seconds since the epoch.  The gzip header carries no time and no
name, so reruns give the same octets.
"""

import argparse
import gzip
import json
import os
import random
import sys
import uuid

DAY = 86400
FIRST_DAY = 1767225600  # 2026-01-01T00:00:00Z

# (organization-name, sender domain, contact-info, shape, share)
SENDERS = [
    ("Google Inc.", "google.com", "smtp-tls-reporting@google.com",
     "google", 45),
    ("Microsoft Corporation", "microsoft.com",
     "tlsrpt-noreply@microsoft.com", "microsoft", 30),
    ("Mail.ru", "mail.ru", "tls_support@corp.mail.ru", "mailru", 10),
    ("Comcast Cable", "comcast.net", "tls-reporting@comcast.net",
     "rfc", 8),
    ("Fastmail Pty Ltd", "fastmail.com", "postmaster@fastmail.com",
     "rfc", 7),
]

# §4.3 result types, with rough weights from real reports.
RESULTS = [
    ("starttls-not-supported", 12), ("certificate-host-mismatch", 14),
    ("certificate-expired", 6), ("certificate-not-trusted", 12),
    ("validation-failure", 10), ("tlsa-invalid", 3), ("dnssec-invalid", 2),
    ("dane-required", 1), ("sts-policy-fetch-error", 22),
    ("sts-policy-invalid", 6), ("sts-webpki-invalid", 4),
]

REASONS = {
    "certificate-not-trusted": "X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
    "certificate-host-mismatch": "X509_V_ERR_HOSTNAME_MISMATCH",
    "certificate-expired": "X509_V_ERR_CERT_HAS_EXPIRED",
    "validation-failure": "X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED",
    "sts-policy-fetch-error": "bad https response code: 404",
    "sts-policy-invalid": "invalid policy: no mx",
}


def make_domains(rng, n):
    """n receiving domains, each with its MX hosts and policy."""
    tlds = ["com", "net", "org", "de", "io", "co.uk", "nl", "fr"]
    words = ["acme", "globex", "initech", "umbrella", "hooli", "stark",
             "wayne", "tyrell", "cyberdyne", "aperture", "vandelay",
             "wonka", "soylent", "oscorp", "monarch", "gringotts"]
    out = []
    for i in range(n):
        name = "%s%s.%s" % (words[i % len(words)],
                            "" if i < len(words) else i // len(words),
                            rng.choice(tlds))
        kind = rng.random()
        if kind < 0.2:
            mx = ["%s.mail.protection.outlook.com" % name.replace(".", "-")]
            pattern = ["*.mail.protection.outlook.com"]
        elif kind < 0.35:
            mx = ["aspmx.l.google.com", "alt1.aspmx.l.google.com",
                  "alt2.aspmx.l.google.com"]
            pattern = ["*.aspmx.l.google.com", "aspmx.l.google.com"]
        else:
            k = rng.randint(1, 4)
            mx = ["mx%d.%s" % (j + 1, name) for j in range(k)]
            pattern = ["*.%s" % name] if rng.random() < 0.4 else list(mx)
        out.append({
            "name": name,
            "mx": mx,
            "pattern": pattern,
            "mode": rng.choice(["enforce", "enforce", "testing"]),
            "max_age": rng.choice([86400, 604800, 1209600, 2592000]),
            "sts": rng.random() < 0.9,  # else no-policy-found
            "ips": ["203.0.113.%d" % rng.randint(1, 254) for _ in mx],
        })
    return out


def tlsa_records(rng):
    return ["3 1 1 %064X" % rng.getrandbits(256)
            for _ in range(rng.randint(1, 2))]


def sts_strings(d):
    s = ["version: STSv1", "mode: %s" % d["mode"]]
    s += ["mx: %s" % p for p in d["pattern"]]
    s.append("max_age: %d" % d["max_age"])
    return s


def sending_ip(rng):
    if rng.random() < 0.3:
        return "2001:db8:%x:%x::%x" % (rng.getrandbits(16),
                                        rng.getrandbits(16),
                                        rng.randint(1, 255))
    return "%d.%d.%d.%d" % (rng.choice([198, 192, 209, 40]),
                            rng.randint(0, 255), rng.randint(0, 255),
                            rng.randint(1, 254))


def policies_of(rng, d, shape):
    """The policy list: STS (or none found), then TLSA of MX hosts."""
    n = rng.choices([1, 2, 3, 4, 5], [50, 20, 12, 10, 8])[0]
    pols = []
    if d["sts"]:
        pol = {"policy-type": "sts", "policy-string": sts_strings(d),
               "policy-domain": d["name"]}
        if shape in ("google", "rfc"):
            pol["mx-host"] = list(d["pattern"])
        if shape == "mailru":
            del pol["policy-string"]
        pols.append(pol)
    else:
        pols.append({"policy-type": "no-policy-found",
                     "policy-domain": d["name"]})
    while len(pols) < n:
        recs = tlsa_records(rng)
        if shape == "microsoft":
            strings = [json.dumps(recs, separators=(",", ":"))]
        else:
            strings = recs
        pols.append({"policy-type": "tlsa", "policy-string": strings,
                     "policy-domain": d["name"],
                     **({"mx-host": [d["mx"][(len(pols) - 1) % len(d["mx"])]]}
                        if shape in ("google", "rfc") else {})})
    return pols


def detail(rng, d, shape, result):
    i = rng.randrange(len(d["mx"]))
    f = {"result-type": result}
    if shape == "mailru":
        f["failure-reason-code"] = REASONS.get(result,
                                               "bad https response code: 500")
        return f
    if shape == "google":
        f["sending-mta-ip"] = sending_ip(rng)
        f["receiving-mx-hostname"] = d["mx"][i]
        f["receiving-ip"] = d["ips"][i]
    elif shape == "microsoft":
        if not result.startswith("sts-"):
            f["receiving-mx-hostname"] = d["mx"][i]
            f["receiving-ip"] = d["ips"][i]
    else:
        f["sending-mta-ip"] = sending_ip(rng)
        f["receiving-mx-hostname"] = d["mx"][i]
        f["receiving-mx-helo"] = d["mx"][i]
        f["receiving-ip"] = d["ips"][i]
        f["additional-information"] = (
            "https://reports.%s/report_info?id=%08x#%s" %
            (d["name"], rng.getrandbits(32), result))
    if result in REASONS and shape != "microsoft":
        f["failure-reason-code"] = REASONS[result]
    return f


def report(rng, sender, d, day, seq):
    org, sdomain, contact, shape, _ = sender
    start, end = day, day + DAY - 1
    pols = policies_of(rng, d, shape)
    nd = rng.choices([0, 1, 2, 3], [55, 25, 12, 8])[0]
    names = [r for r, _ in RESULTS]
    weights = [w for _, w in RESULTS]
    entries = []
    for pol in pols:
        ok = int(rng.paretovariate(1.2) * 20)
        entries.append({"policy": pol,
                        "summary": {"total-successful-session-count": ok,
                                    "total-failure-session-count": 0},
                        "failure-details": []})
    for _ in range(nd):
        e = rng.choice(entries)
        f = detail(rng, d, shape, rng.choices(names, weights)[0])
        f["failed-session-count"] = rng.randint(1, 40)
        e["failure-details"].append(f)
        e["summary"]["total-failure-session-count"] += (
            f["failed-session-count"])
    for e in entries:
        if not e["failure-details"]:
            del e["failure-details"]
    if shape == "google":
        rid = "%s_%s" % (iso(start, "Z"), d["name"])
    elif shape == "microsoft":
        # A Windows FILETIME (100 ns since 1601) of when it was made.
        made = end + 1 + rng.randrange(7200) + 11644473600
        rid = "%d+%s" % (made * 10000000 + rng.randrange(10000000),
                         d["name"])
    elif shape == "mailru":
        rid = "%s@mail.ru" % uuid.UUID(int=rng.getrandbits(128), version=4)
        end = day + DAY
    else:
        rid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    # Microsoft left the time zone out in 2023 and 2024 (a deviation).
    tz = "" if shape == "microsoft" and seq % 4 == 0 else "Z"
    rep = {"organization-name": org,
           "date-range": {"start-datetime": iso(start, tz),
                          "end-datetime": iso(end, tz)},
           "contact-info": contact,
           "report-id": rid,
           "policies": entries}
    if shape in ("google", "microsoft"):
        text = json.dumps(rep, separators=(",", ":"))
    elif shape == "mailru":
        text = json.dumps(rep, indent=3, sort_keys=True)
    else:
        text = json.dumps(rep, indent=2)
    # §5.1: sender "!" policy-domain "!" begin "!" end "!" unique-id
    name = "%s!%s!%d!%d!%03d.json.gz" % (sdomain, d["name"], start, end,
                                        seq % 1000)
    return name, text.encode()


def iso(t, tz):
    import time
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + tz


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--domains", type=int, default=150)
    ap.add_argument("dir")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    domains = make_domains(rng, a.domains)
    os.makedirs(a.dir, exist_ok=True)
    shares = [s[4] for s in SENDERS]
    seen = set()
    made = 0
    day = FIRST_DAY
    # Day after day, each domain hears from some senders: one report
    # per (sender, domain, day), as real senders send them.
    while made < a.count:
        for d in domains:
            for s in SENDERS:
                if made >= a.count:
                    break
                if rng.random() * sum(shares) > s[4] * 2.2:
                    continue
                name, data = report(rng, s, d, day, made)
                if name in seen:
                    continue
                seen.add(name)
                with open(os.path.join(a.dir, name), "wb") as f:
                    f.write(gzip.compress(data, 6, mtime=0))
                made += 1
        day += DAY
    print("%d reports in %s" % (made, a.dir), file=sys.stderr)


if __name__ == "__main__":
    main()
