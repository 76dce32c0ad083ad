#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""The peer of `mtasts report ingest` in bench/report.sh: what a careful
Python script with the standard library only (gzip/zlib, json, sqlite3)
does to store TLS-RPT reports (RFC 8460 §4) in SQLite.

    bench/report_ingest.py DB PATH...     # a PATH is a file or a directory
    bench/report_ingest.py --floor PATH...

The same work as mtasts, and the same durability:
  - each file is read whole, inflated when it starts with the gzip magic
    (§5.2) with a cap of 10 MB of JSON (§7; a gzip bomb stops there), and
    refused when the stream is cut or followed by anything;
  - the JSON is parsed and every field checked the way mtasts checks it:
    types, required members, RFC 3339 dates (a date without a time zone
    taken as UTC), counts as non-negative integers below 2^63, the
    leniencies mtasts accepts recorded as deviations (mx-host as a
    string, contact-info null, a TLSA policy-string holding a JSON array,
    details without sending-mta-ip or receiving-mx-hostname, a missing
    policy-domain);
  - the rows go into the same tables and indexes as mtasts's version-1
    schema (src/report/store.c; bench/report.sh checks that the two
    schemas are the same), with the same derived columns, through the
    same PRAGMAs (page_size=2048, journal_mode=WAL, synchronous=NORMAL,
    a checkpoint every 20,000 pages as mtasts), one BEGIN
    IMMEDIATE ... COMMIT per report, idempotent by (organization-name,
    report-id) (§5.3); what is refused goes to the quarantine.

--floor only reads and inflates every file (no parsing, no store): the
floor of bench/report.sh in Python.  Prints one line of counts.
"""

import datetime
import json
import os
import re
import sqlite3
import sys
import time
import zlib

JSON_MAX = 10 * 1024 * 1024    # RFC 8460 §7, MTS_TLSRPT_REPORT_MAX
QUARANTINE_MAX = 1024 * 1024   # STORE_QUARANTINE_MAX
COUNT_MAX = 2**63 - 1
POLICY_TYPES = ("sts", "tlsa", "no-policy-found")
LDH = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9_]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                 r"\.)*[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?$")
EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+$")

# mtasts's version-1 schema, as store.c renders it for SQLite.
SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
INSERT INTO schema_version (version) SELECT 1 WHERE NOT EXISTS
  (SELECT 1 FROM schema_version);
CREATE TABLE IF NOT EXISTS reports ( id INTEGER PRIMARY KEY, org TEXT NOT NULL, report_id TEXT NOT NULL, range_start BIGINT NOT NULL, range_end BIGINT NOT NULL, contact TEXT, received BIGINT NOT NULL, origin TEXT, deviations TEXT NOT NULL, policies INTEGER NOT NULL, successful BIGINT NOT NULL, failed BIGINT NOT NULL, UNIQUE (org, report_id));
CREATE INDEX IF NOT EXISTS reports_start ON reports (range_start);
CREATE TABLE IF NOT EXISTS policies ( report BIGINT NOT NULL REFERENCES reports (id) ON DELETE CASCADE, idx INTEGER NOT NULL, type TEXT NOT NULL, domain TEXT, strings TEXT NOT NULL, mx_hosts TEXT NOT NULL, successful BIGINT NOT NULL, failed BIGINT NOT NULL, detail_failed BIGINT NOT NULL, PRIMARY KEY (report, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS failures ( report BIGINT NOT NULL, pidx INTEGER NOT NULL, idx INTEGER NOT NULL, result_type TEXT NOT NULL, sending_mta_ip TEXT, receiving_mx_hostname TEXT, receiving_mx_helo TEXT, receiving_ip TEXT, additional_information TEXT, failure_reason_code TEXT, failed_sessions BIGINT NOT NULL, PRIMARY KEY (report, pidx, idx), FOREIGN KEY (report, pidx) REFERENCES policies (report, idx) ON DELETE CASCADE) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS quarantine ( id INTEGER PRIMARY KEY, received BIGINT NOT NULL, origin TEXT, reason TEXT NOT NULL, raw BLOB NOT NULL, raw_size BIGINT NOT NULL);
"""

SQL_REPORT = ("INSERT INTO reports (org, report_id, range_start, range_end, "
              "contact, received, origin, deviations, policies, successful, "
              "failed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
              "ON CONFLICT (org, report_id) DO NOTHING")
SQL_POLICY = ("INSERT INTO policies (report, idx, type, domain, strings, "
              "mx_hosts, successful, failed, detail_failed) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
SQL_FAILURE = ("INSERT INTO failures (report, pidx, idx, result_type, "
               "sending_mta_ip, receiving_mx_hostname, receiving_mx_helo, "
               "receiving_ip, additional_information, failure_reason_code, "
               "failed_sessions) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
SQL_QUARANTINE = ("INSERT INTO quarantine (received, origin, reason, raw, "
                  "raw_size) VALUES (?, ?, ?, ?, ?)")


class Refused(Exception):
    """Not a report: the reason goes to the quarantine."""


def inflate(data):
    """RFC 8460 §5.2 gzip, one member, capped (§7)."""
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = d.decompress(data, JSON_MAX + 1)
    except zlib.error as e:
        raise Refused("corrupt gzip data: %s" % e)
    if len(out) > JSON_MAX:
        raise Refused("inflated report passes the cap of %d octets" % JSON_MAX)
    if not d.eof:
        raise Refused("the gzip stream ends before its trailer")
    if d.unused_data:
        raise Refused("%d octets after the gzip stream" % len(d.unused_data))
    return out


def read_input(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        return data, inflate(data)
    if len(data) > JSON_MAX:
        raise Refused("%d octets of JSON pass the cap" % len(data))
    return data, data


def member(obj, key, kind, where, required=True):
    v = obj.get(key)
    if v is None:
        if required:
            raise Refused("%s.%s is missing" % (where, key))
        return None
    if not isinstance(v, kind) or isinstance(v, bool):
        raise Refused("%s.%s has the wrong type" % (where, key))
    return v


def count(obj, key, where):
    v = obj.get(key)
    if type(v) is not int or v < 0 or v > COUNT_MAX:
        raise Refused("%s.%s is not a count" % (where, key))
    return v


def text(obj, key, where, dev, code):
    v = obj.get(key)
    if v is None:
        dev.append(code)
        return None
    if not isinstance(v, str) or len(v) > 4096:
        raise Refused("%s.%s is not a string" % (where, key))
    return v


def date(s, where, dev):
    """RFC 3339 §5.6; Microsoft's dates without a zone taken as UTC."""
    if not isinstance(s, str):
        raise Refused("%s is not a date-time" % where)
    try:
        t = datetime.datetime.fromisoformat(s)
    except ValueError:
        raise Refused("%s is not a date-time: %s" % (where, s))
    if t.tzinfo is None:
        dev.append("tlsrpt-report-date-no-zone")
        t = t.replace(tzinfo=datetime.timezone.utc)
    return int(t.timestamp())


def strings(v, where):
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise Refused("%s is not an array of strings" % where)
    return v


def policy_of(entry, i, dev):
    where = "policies[%d]" % i
    if not isinstance(entry, dict):
        raise Refused("%s is not an object" % where)
    pol = member(entry, "policy", dict, where)
    summ = member(entry, "summary", dict, where)
    ptype = member(pol, "policy-type", str, where + ".policy")
    if ptype not in POLICY_TYPES:
        raise Refused("%s.policy.policy-type %r is unknown" % (where, ptype))
    pstrings = strings(pol.get("policy-string", []),
                       where + ".policy.policy-string")
    if (ptype == "tlsa" and len(pstrings) == 1
            and pstrings[0].startswith("[")):
        try:
            pstrings = strings(json.loads(pstrings[0]), where)
        except ValueError:
            raise Refused("%s: policy-string is not a JSON array" % where)
        dev.append("tlsrpt-report-tlsa-string-array")
    domain = text(pol, "policy-domain", where + ".policy", dev,
                  "tlsrpt-report-domain-missing")
    if domain is not None and not LDH.match(domain):
        dev.append("tlsrpt-report-domain-syntax")
    mx = pol.get("mx-host", [])
    if isinstance(mx, str):
        dev.append("tlsrpt-report-mx-host-string")
        mx = [mx]
    mx = strings(mx, where + ".policy.mx-host")
    ok = count(summ, "total-successful-session-count", where + ".summary")
    ko = count(summ, "total-failure-session-count", where + ".summary")
    details = []
    for j, f in enumerate(entry.get("failure-details") or []):
        fw = "%s.failure-details[%d]" % (where, j)
        if not isinstance(f, dict):
            raise Refused("%s is not an object" % fw)
        details.append((
            j, member(f, "result-type", str, fw),
            text(f, "sending-mta-ip", fw, dev,
                 "tlsrpt-report-detail-no-sending-ip"),
            text(f, "receiving-mx-hostname", fw, dev,
                 "tlsrpt-report-detail-no-mx-hostname"),
            member(f, "receiving-mx-helo", str, fw, False),
            member(f, "receiving-ip", str, fw, False),
            member(f, "additional-information", str, fw, False),
            member(f, "failure-reason-code", str, fw, False),
            count(f, "failed-session-count", fw)))
    detail_failed = min(sum(d[-1] for d in details), COUNT_MAX)
    return (i, ptype, domain, json.dumps(pstrings, separators=(",", ":"),
                                         ensure_ascii=False),
            json.dumps(mx, separators=(",", ":"), ensure_ascii=False),
            ok, ko, detail_failed), details


def report_of(doc):
    """The rows of one report, or Refused."""
    try:
        r = json.loads(doc)
    except ValueError as e:
        raise Refused("not JSON: %s" % e)
    if not isinstance(r, dict):
        raise Refused("not a JSON object")
    dev = []
    org = member(r, "organization-name", str, "report")
    rid = member(r, "report-id", str, "report")
    rng = member(r, "date-range", dict, "report")
    start = date(rng.get("start-datetime"), "date-range.start-datetime", dev)
    end = date(rng.get("end-datetime"), "date-range.end-datetime", dev)
    if end < start:
        raise Refused("date-range ends before it starts")
    contact = r.get("contact-info")
    if contact is None or contact == "":
        dev.append("tlsrpt-report-contact-missing")
        contact = None
    elif not isinstance(contact, str):
        raise Refused("contact-info is not a string")
    elif not EMAIL.match(contact):
        dev.append("tlsrpt-report-contact-syntax")
    pols = member(r, "policies", list, "report")
    rows = [policy_of(p, i, dev) for i, p in enumerate(pols)]
    ok = min(sum(p[5] for p, _ in rows), COUNT_MAX)
    ko = min(sum(p[6] for p, _ in rows), COUNT_MAX)
    codes = json.dumps(list(dict.fromkeys(dev)), separators=(",", ":"))
    return (org, rid, start, end, contact, codes, len(rows), ok, ko), rows


def store(db, head, rows, origin, received):
    """One report in one transaction; False when already stored."""
    org, rid, start, end, contact, codes, npol, ok, ko = head
    db.execute("BEGIN IMMEDIATE")
    try:
        cur = db.execute(SQL_REPORT, (org, rid, start, end, contact, received,
                                      origin, codes, npol, ok, ko))
        if cur.rowcount == 0:
            db.execute("ROLLBACK")
            return False
        rowid = cur.lastrowid
        for pol, details in rows:
            db.execute(SQL_POLICY, (rowid,) + pol)
            for d in details:
                db.execute(SQL_FAILURE, (rowid, pol[0]) + d)
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return True


def paths_of(args):
    for p in args:
        if os.path.isdir(p):
            for name in sorted(os.listdir(p)):
                q = os.path.join(p, name)
                if os.path.isfile(q):
                    yield q
        else:
            yield p


def floor(args):
    n = octets = 0
    for p in paths_of(args):
        with open(p, "rb") as f:
            octets += len(zlib.decompress(f.read(), 16 + zlib.MAX_WBITS))
        n += 1
    print("floor: %d files, %d octets inflated" % (n, octets))


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "--floor":
        return floor(sys.argv[2:])
    if len(sys.argv) < 3:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    db = sqlite3.connect(sys.argv[1], isolation_level=None)
    db.execute("PRAGMA page_size = 2048")
    db.execute("PRAGMA busy_timeout = 15000")
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("PRAGMA wal_autocheckpoint = 20000")
    db.executescript("BEGIN IMMEDIATE;" + SCHEMA + "COMMIT;")
    received = int(time.time())
    added = known = quarantined = 0
    for path in paths_of(sys.argv[2:]):
        raw = b""
        try:
            raw, doc = read_input(path)
            head, rows = report_of(doc)
        except (Refused, OSError) as e:
            db.execute(SQL_QUARANTINE, (received, path, str(e),
                                        raw[:QUARANTINE_MAX], len(raw)))
            quarantined += 1
            continue
        if store(db, head, rows, path, received):
            added += 1
        else:
            known += 1
    db.close()
    print("report_ingest.py: %d added, %d known, %d quarantined"
          % (added, known, quarantined), file=sys.stderr)
    return 1 if quarantined else 0


if __name__ == "__main__":
    sys.exit(main())
