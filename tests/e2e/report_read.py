#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Helper of tests/e2e/report_read.sh: makes TLS-RPT reports (RFC 8460
§4.4) and computes what mtasts report summary, alert and html must say of
them, apart from the C code: from the reports themselves (as `mtasts
report parse -c` normalises them), with the rule of src/report/store.h
(struct store_row), in Python.  Python's stdlib only.

  gen DIR NOW                 writes reports to DIR (some relative to NOW)
  expect REPORTS BY [--domain D] [--since S] [--until U]
                              the rows of `summary --json --by BY` (NDJSON)
  alert REPORTS [--domain D] [--since S] [--until U]
                              the failures of `alert --json` (NDJSON)
  same EXPECTED ACTUAL        the two NDJSON files hold the same objects in
                              the same order (exit 1 with the difference)
  csv FILE EXPECTED           FILE is RFC 4180 CSV (CRLF, quoting) with the
                              rows of EXPECTED (NDJSON) under a header
  table FILE EXPECTED TOTAL   a summary table: its rows and total line
  html FILE DAYS ALERT        the page's charts hold the rows of DAYS (by
                              day,domain) and its failure table ALERT's
  png FILE                    a screenshot that is not blank
  grow N OUT                  a SQLite script of N reports (the benchmark)
S and U are seconds since the epoch.
"""
import csv
import datetime
import gzip
import html.parser
import json
import random
import re
import struct
import sys
import zlib

DAY = 86400
HOSTILE_ORG = "<script>alert(1)</script>"
HOSTILE_MX = "\"><img src=x onerror=alert(1)>"
ESC_ORG = "Esc\x1b[31mRed\x1b[0m"
ORGS = ["Org A", "Org, \"B\"", HOSTILE_ORG, ESC_ORG]
DOMAINS = ["a.example", "b.example", "c.example"]
RESULTS = ["starttls-not-supported", "certificate-expired",
           "validation-failure", "sts-policy-fetch-error"]


def iso(t):
    return datetime.datetime.fromtimestamp(
        t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def day_str(t):
    return datetime.datetime.fromtimestamp(
        t - t % DAY, datetime.timezone.utc).strftime("%Y-%m-%d")


def report(org, rid, start, policies):
    return {
        "organization-name": org,
        "date-range": {"start-datetime": iso(start),
                       "end-datetime": iso(start + DAY - 1)},
        "contact-info": "tlsrpt@example.net",
        "report-id": rid,
        "policies": policies,
    }


def policy(domain, ok, details, extra_failed=0):
    return {
        "policy": {"policy-type": "sts",
                   "policy-string": ["version: STSv1", "mode: enforce",
                                     "mx: *." + domain, "max_age: 86400"],
                   "policy-domain": domain, "mx-host": ["*." + domain]},
        "summary": {"total-successful-session-count": ok,
                    "total-failure-session-count":
                        sum(d["failed-session-count"] for d in details) +
                        extra_failed},
        "failure-details": details,
    }


def detail(result, mx, n):
    d = {"result-type": result, "sending-mta-ip": "192.0.2.1",
         "failed-session-count": n}
    if mx is not None:
        d["receiving-mx-hostname"] = mx
    return d


def gen(out, now):
    """Five days of 2026-11 (the last one without failures, 2026-11-04
    without c.example), a report of 10^9 sessions, and reports of
    r.example yesterday and five days before NOW."""
    rnd = random.Random(8460)
    n = 0
    base = int(datetime.datetime(2026, 11, 1,
                                 tzinfo=datetime.timezone.utc).timestamp())
    for d in range(5):
        start = base + d * DAY
        for org in ORGS:
            pols = []
            for dom in DOMAINS:
                if dom == "c.example" and d == 3:
                    continue
                if rnd.random() < 0.25:
                    continue
                details = []
                if d < 4:
                    for _ in range(rnd.randint(0, 3)):
                        mx = rnd.choice(["mx1." + dom, "mx2." + dom,
                                         HOSTILE_MX, None])
                        details.append(detail(rnd.choice(RESULTS), mx,
                                              rnd.randint(1, 500)))
                extra = rnd.randint(0, 4) if d < 4 else 0
                pols.append(policy(dom, rnd.randint(0, 100000), details,
                                   extra))
            if not pols:
                pols.append(policy("a.example", 7, []))
            n += 1
            write(out, n, report(org, "gen-%d" % n, start, pols))
    n += 1
    write(out, n, report("Big Org", "gen-big", base + DAY, [
        policy("b.example", 10**9, [detail("certificate-expired",
                                           "mx1.b.example", 1)])]))
    today = now - now % DAY
    n += 1
    write(out, n, report("Org A", "gen-yesterday", today - DAY, [
        policy("r.example", 10, [detail("validation-failure",
                                        "mx.r.example", 5)])]))
    n += 1
    write(out, n, report("Org A", "gen-old", today - 5 * DAY, [
        policy("r.example", 10, [detail("dnssec-invalid",
                                        "mx.r.example", 9)])]))


def write(out, n, rep):
    data = json.dumps(rep).encode()
    if n % 7 == 0:  # some gzip'd, as senders send them (RFC 8460 §5.2)
        with open("%s/gen-%03d.json.gz" % (out, n), "wb") as f:
            f.write(gzip.compress(data))
    else:
        with open("%s/gen-%03d.json" % (out, n), "wb") as f:
            f.write(data)


def load(path):
    """The distinct reports (organization, report-id: RFC 8460 §5.3)."""
    seen, reps = set(), []
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            r = json.loads(line)
            key = (r["organization-name"], r["report-id"])
            if key in seen:
                continue
            seen.add(key)
            t = datetime.datetime.fromisoformat(
                r["date-range"]["start-datetime"].replace("Z", "+00:00"))
            r["_start"] = int(t.timestamp())
            reps.append(r)
    return reps


def window(reps, args):
    since, until, domain = -2**63, 2**63 - 1, None
    i = 0
    while i < len(args):
        if args[i] == "--since":
            since = int(args[i + 1])
        elif args[i] == "--until":
            until = int(args[i + 1])
        elif args[i] == "--domain":
            domain = args[i + 1]
        else:
            sys.exit("unknown " + args[i])
        i += 2
    for r in reps:
        if not since <= r["_start"] < until:
            continue
        for p in r["policies"]:
            if domain is not None and p["policy"].get("policy-domain") != domain:
                continue
            yield r, p


KEYS = ["day", "domain", "organization", "mx", "result"]


def expect(reps, by, args):
    """store.h: per policy, or, with mx or result, per failure detail plus
    the policy's successful and undetailed failed sessions under NULL."""
    by = [k if k != "org" else "organization" for k in by.split(",")]
    rows = {}

    def add(r, p, mx, result, ok, ko):
        vals = {"day": day_str(r["_start"]),
                "domain": p["policy"].get("policy-domain"),
                "organization": r["organization-name"],
                "mx": mx, "result": result}
        key = tuple(vals[k] for k in KEYS if k in by)
        row = rows.setdefault(key, [0, 0, set()])
        row[0] += ok
        row[1] += ko
        row[2].add((r["organization-name"], r["report-id"]))

    mx_form = "mx" in by or "result" in by
    for r, p in window(reps, args):
        ok = p["summary"]["total-successful-session-count"]
        ko = p["summary"]["total-failure-session-count"]
        if not mx_form:
            add(r, p, None, None, ok, ko)
            continue
        details = p.get("failure-details", [])
        for d in details:
            add(r, p, d.get("receiving-mx-hostname"), d["result-type"], 0,
                d["failed-session-count"])
        rest = max(0, ko - sum(d["failed-session-count"] for d in details))
        if ok > 0 or rest > 0:
            add(r, p, None, None, ok, rest)
    out = []
    # NULL first, then strings in code point order (UTF-8 octet order)
    for key in sorted(rows, key=lambda k: [(v is not None, v or "")
                                           for v in k]):
        ok, ko, reps_ = rows[key]
        obj = dict(zip([k for k in KEYS if k in by], key))
        obj.update(reports=len(reps_), successful=ok, failed=ko)
        out.append(obj)
    return out


def alert(reps, args):
    rows = {}
    for r, p in window(reps, args):
        details = p.get("failure-details", [])
        items = [(d.get("receiving-mx-hostname"), d["result-type"],
                  d["failed-session-count"]) for d in details]
        rest = p["summary"]["total-failure-session-count"] - \
            sum(d["failed-session-count"] for d in details)
        if rest > 0:
            items.append((None, None, rest))
        for mx, result, n in items:
            if n == 0:
                continue
            key = (p["policy"].get("policy-domain"), result, mx)
            row = rows.setdefault(key, [0, set()])
            row[0] += n
            row[1].add(r["organization-name"])

    def nullfirst(v):
        return (v is not None, v or "")

    keys = sorted(rows, key=lambda k: (nullfirst(k[0]), -rows[k][0],
                                       nullfirst(k[1]), nullfirst(k[2])))
    return [{"domain": k[0], "result": k[1], "mx": k[2],
             "failed": rows[k][0],
             "organizations": sorted(rows[k][1])} for k in keys]


def read_ndjson(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def same(a, b):
    x, y = read_ndjson(a), read_ndjson(b)
    if x == y:
        return 0
    for i, (p, q) in enumerate(zip(x, y)):
        if p != q:
            print("# row %d: want %s\n#         got  %s" % (i, p, q))
            return 1
    print("# want %d rows, got %d" % (len(x), len(y)))
    return 1


def check_csv(path, exp):
    raw = open(path, "rb").read()
    if raw and (not raw.endswith(b"\r\n") or
                raw.count(b"\r\n") != raw.count(b"\n")):
        print("# records do not all end with CRLF")
        return 1
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    want = read_ndjson(exp)
    keys = [k for k in want[0]] if want else []
    if rows[0] != keys:
        print("# header %s, want %s" % (rows[0], keys))
        return 1
    got = rows[1:]
    want = [["" if v is None else str(v) for v in w.values()] for w in want]
    if got != want:
        for g, w in zip(got, want):
            if g != w:
                print("# want %s\n# got  %s" % (w, g))
                break
        print("# %d rows, want %d" % (len(got), len(want)))
        return 1
    return 0


def check_table(path, exp, total):
    """Each expected row is a line of the table (its cells in order, as
    the terminal shows them: text.h escapes ESC as \\x1B), and the total
    line says the window's reports and sessions."""
    lines = open(path, encoding="utf-8").read().splitlines()
    want = read_ndjson(exp)
    if len(lines) != len(want) + 2:
        print("# %d lines, want %d" % (len(lines), len(want) + 2))
        return 1
    for line, w in zip(lines[1:], want):
        cells = re.split(r"  +", line.strip())
        vals = ["-" if v is None else str(v).replace("\x1b", "\\x1B")
                for v in w.values()]
        # the reports, successful and failed columns come last
        vals = vals[:-3] + [str(w["reports"]), str(w["successful"]),
                            str(w["failed"])]
        if cells != vals:
            print("# line %r\n# want %s" % (line, vals))
            return 1
    t = json.loads(total)
    cells = re.split(r"  +", lines[-1].strip())
    if cells != ["total", str(t["reports"]), str(t["successful"]),
                 str(t["failed"])]:
        print("# total line %r, want %s" % (lines[-1], t))
        return 1
    return 0


class PageParser(html.parser.HTMLParser):
    """The charts (h3 then svg rect titles) and the failure table."""

    def __init__(self):
        super().__init__()
        self.charts, self.rows, self.tags = {}, [], set()
        self.cur, self.in_h3, self.in_title, self.in_td = None, False, False, False
        self.section, self.row = None, None

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        if tag == "h3":
            self.in_h3, self.cur = True, ""
        elif tag == "title":
            self.in_title, self.text = True, ""
        elif tag == "tr" and self.section == "Failures":
            self.row = []
        elif tag == "td" and self.row is not None:
            self.in_td, self.text = True, ""
        elif tag == "h2":
            self.in_h2, self.text = True, ""

    def handle_endtag(self, tag):
        if tag == "h3":
            self.in_h3 = False
            self.charts[self.cur] = {}
        elif tag == "title" and self.in_title:
            self.in_title = False
            m = re.fullmatch(r"(\d{4}-\d\d-\d\d): (\d+) (successful|failed) "
                             r"sessions", self.text)
            if m and self.cur is not None:
                d = self.charts[self.cur].setdefault(m.group(1), {})
                d[m.group(3)] = int(m.group(2))
        elif tag == "td" and self.in_td:
            self.in_td = False
            self.row.append(self.text)
        elif tag == "tr" and self.row:
            self.rows.append(self.row)
            self.row = None
        elif tag == "h2":
            self.section = self.text

    def handle_data(self, data):
        if self.in_h3:
            self.cur += data
        if self.in_title or self.in_td or getattr(self, "in_h2", False):
            self.text += data


def check_html(path, days, alert_exp):
    page = open(path, encoding="utf-8").read()
    p = PageParser()
    p.feed(page)
    bad = 0
    want = {}
    for row in read_ndjson(days):
        dom = row["domain"] if row["domain"] is not None else "(no policy-domain)"
        want.setdefault(dom, {})[row["day"]] = {
            "successful": row["successful"], "failed": row["failed"]}
    if p.charts != want:
        print("# charts: %s\n# want    %s" % (p.charts, want))
        bad = 1
    rows = []
    for a in read_ndjson(alert_exp):
        rows.append([a["domain"], a["result"] or "no failure details",
                     a["mx"] or "not given", str(a["failed"]),
                     ", ".join(a["organizations"])])
    # ESC is no character for HTML: U+FFFD in its place
    rows = [[c.replace("\x1b", "\ufffd") for c in r] for r in rows]
    if p.rows != rows:
        print("# failure table: %s\n# want %s" % (p.rows[:3], rows[:3]))
        bad = 1
    if "script" in p.tags or "img" in p.tags:
        print("# a report's string became an element: %s" % p.tags)
        bad = 1
    return bad


def check_png(path):
    """Decodes an 8-bit RGB(A) PNG (what Chromium writes) and says whether
    it shows the chart: many colours, and the bars' green and red."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        print("# not a PNG")
        return 1
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, typ = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if typ == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
        elif typ == b"IDAT":
            idat += body
        pos += 12 + n
    if depth != 8 or ctype not in (2, 6):
        print("# PNG of depth %d colour type %d" % (depth, ctype))
        return 1
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(idat)
    stride = w * bpp
    prev = bytearray(stride)
    colours = {}
    i = 0
    for _ in range(h):
        f = raw[i]
        line = bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                pr = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[x] = (line[x] + pr) & 255
        for x in range(0, stride, bpp):
            px = bytes(line[x:x + 3])
            colours[px] = colours.get(px, 0) + 1
        prev = line
    green = colours.get(bytes((0x2e, 0x7d, 0x32)), 0)
    red = colours.get(bytes((0xc6, 0x28, 0x28)), 0)
    print("# %dx%d, %d colours, %d green and %d red pixels"
          % (w, h, len(colours), green, red))
    return 0 if len(colours) > 16 and green > 100 and red > 100 else 1


def grow(n, out):
    """A SQL script adding n reports of one policy and one failure detail
    each to a store of schema 1 (src/report/store.c), over 365 days, 20
    domains and 50 MX hosts: what a million reports look like."""
    base = 1767225600  # 2026-01-01
    with open(out, "w") as f:
        f.write("BEGIN;\n")
        f.write("WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 "
                "FROM c WHERE i < %d)\n" % n)
        f.write("INSERT INTO reports (id, org, report_id, range_start, "
                "range_end, contact, received, origin, deviations, policies, "
                "successful, failed) SELECT 1000000 + i, 'org' || (i %% 7), "
                "'bench-' || i, %d + (i %% 365) * 86400, %d + (i %% 365) * "
                "86400 + 86399, NULL, 0, NULL, '[]', 1, i %% 1000, i %% 3 "
                "FROM c;\n" % (base, base))
        f.write("INSERT INTO policies (report, idx, type, domain, strings, "
                "mx_hosts, successful, failed, detail_failed) SELECT id, 0, "
                "'sts', 'd' || (id % 20) || '.example', '[]', '[]', "
                "successful, failed, failed FROM reports "
                "WHERE report_id LIKE 'bench-%';\n")
        f.write("INSERT INTO failures (report, pidx, idx, result_type, "
                "receiving_mx_hostname, failed_sessions) SELECT id, 0, 0, "
                "'certificate-expired', 'mx' || (id % 50) || '.example', "
                "failed FROM reports WHERE report_id LIKE 'bench-%' "
                "AND failed > 0;\nCOMMIT;\n")


def main(argv):
    cmd = argv[1]
    if cmd == "gen":
        gen(argv[2], int(argv[3]))
    elif cmd == "expect":
        for row in expect(load(argv[2]), argv[3], argv[4:]):
            print(json.dumps(row))
    elif cmd == "alert":
        for row in alert(load(argv[2]), argv[3:]):
            print(json.dumps(row))
    elif cmd == "same":
        return same(argv[2], argv[3])
    elif cmd == "csv":
        return check_csv(argv[2], argv[3])
    elif cmd == "table":
        return check_table(argv[2], argv[3], argv[4])
    elif cmd == "html":
        return check_html(argv[2], argv[3], argv[4])
    elif cmd == "png":
        return check_png(argv[2])
    elif cmd == "grow":
        grow(int(argv[2]), argv[3])
    else:
        sys.exit("unknown command " + cmd)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
