#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Writes TLS-RPT reports (RFC 8460 §4.4) of one policy domain over a span
of UTC days, for the tests of `mtasts rollout` (tests/e2e/rollout.sh).

  gen_rollout_reports.py OUTDIR --domain DOMAIN --days FIRST..LAST
      [--now EPOCH] [--org ORG]... [--policy FILE | --no-policy-string]
      [--other-body FILE [--other-days SPEC]] [--policy-type TYPE]
      [--tlsa] [--fail DAY:RESULT:MX:COUNT]... [--skip SPEC]...
      [--successful N] [--strings lines|crlf|whole|mixed]
      [--noise-domain DOMAIN] [--prefix P]

Days are offsets from the UTC day of --now (default: the time the script
starts), so -1 is yesterday; a SPEC is "N", "A..B" or a comma list of
them.  Each reporter (--org, default two) sends one report a day whose
date-range is that whole UTC day, as §4.1 has it.  Each report has one
policy of DOMAIN:

  --policy FILE        its lines are the policy-string (§4.4: "an
                       encoding of the applied policy as a JSON array of
                       strings"); the mx lines also give mx-host
  --no-policy-string   no policy-string at all (a reporter may leave it
                       out; rollout counts such reports)
  --other-body FILE    on the days of --other-days (all by default), the
                       policy-string is FILE's lines instead: a sender
                       that saw another policy (rollout does not count it)
  --policy-type TYPE   sts (default), tlsa or no-policy-found
  --tlsa               a second policy, of type tlsa, in every report
  --noise-domain D     a third policy, of domain D, with 3 failed
                       sessions each day (not DOMAIN's: never counted)
  --fail DAY:RESULT:MX:COUNT
                       COUNT failed sessions of result-type RESULT at
                       receiving-mx-hostname MX (none when empty) in the
                       first reporter's report of day DAY
  --skip SPEC          no report at all on those days (a gap)
  --strings STYLE      how the body is cut into strings, as reporters
                       differ: one line per string (lines), each with its
                       CRLF (crlf), the whole body in one string (whole),
                       or each reporter its own way in turn (mixed)

Files are OUTDIR/PREFIX-YYYY-MM-DD-N.json.  The report-id is
PREFIX-DOMAIN-YYYYMMDD-N; PREFIX defaults to a digest of the arguments
(--now included), so two runs with different arguments never share a
report-id and `mtasts report ingest` keeps both.  The output is a pure
function of the arguments and --now.
"""
import argparse
import hashlib
import json
import os
import sys
import time

DAY = 86400
ORGS = ["Google Inc.", "Microsoft Corporation"]
TLSA = ["3 1 1 6007EEE553E85D8DF007A845D19EC343283D4E416E9A33F9EF3040C8B7C285BC"]


def spec(text):
    """The day offsets of a SPEC: "N", "A..B", comma lists of them."""
    days = set()
    for part in text.split(","):
        part = part.strip()
        if ".." in part:
            a, b = part.split("..", 1)
            a, b = int(a), int(b)
            if a > b:
                raise argparse.ArgumentTypeError("%s: first after last" % part)
            days.update(range(a, b + 1))
        else:
            days.add(int(part))
    return days


def span(text):
    a, sep, b = text.partition("..")
    if sep == "" or int(a) > int(b):
        raise argparse.ArgumentTypeError("--days wants FIRST..LAST")
    return int(a), int(b)


def failure(text):
    parts = text.split(":")
    if len(parts) != 4 or parts[1] == "":
        raise argparse.ArgumentTypeError("--fail wants DAY:RESULT:MX:COUNT")
    return int(parts[0]), parts[1], parts[2] or None, int(parts[3])


def body_lines(path):
    with open(path, encoding="utf-8") as f:
        return [l.rstrip("\r\n") for l in f.read().splitlines() if l.strip()]


def cut(lines, style, org_index):
    """The policy-string of a body, cut as one kind of reporter does."""
    if style == "mixed":
        style = ["lines", "crlf", "whole"][org_index % 3]
    if style == "lines":
        return list(lines)
    if style == "crlf":
        return [l + "\r\n" for l in lines]
    return ["\r\n".join(lines) + "\r\n"]


def fmt(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def policy(ptype, domain, lines, style, org_index, successful, details):
    pol = {"policy-type": ptype, "policy-domain": domain}
    if ptype == "sts" and lines is not None:
        pol["policy-string"] = cut(lines, style, org_index)
        mx = [l.split(":", 1)[1].strip() for l in lines
              if l.split(":", 1)[0].strip() == "mx"]
        if mx:
            pol["mx-host"] = mx
    elif ptype == "tlsa":
        pol["policy-string"] = list(TLSA)
    failed = sum(d["failed-session-count"] for d in details)
    p = {"policy": pol,
         "summary": {"total-successful-session-count": successful,
                     "total-failure-session-count": failed}}
    if details:
        p["failure-details"] = details
    return p


def detail(result, mx, count, n):
    d = {"result-type": result, "sending-mta-ip": "192.0.2.%d" % (1 + n)}
    if mx is not None:
        d["receiving-mx-hostname"] = mx
        d["receiving-ip"] = "198.51.100.%d" % (1 + n)
    d["failed-session-count"] = count
    return d


def joined(argv):
    """--days -20..-1 as --days=-20..-1: argparse takes a value that
    begins with '-' for an option."""
    out, i = [], 0
    while i < len(argv):
        if argv[i] in VALUED and i + 1 < len(argv):
            out.append(argv[i] + "=" + argv[i + 1])
            i += 2
        else:
            out.append(argv[i])
            i += 1
    return out


VALUED = ("--days", "--fail", "--skip", "--other-days")


def main():
    ap = argparse.ArgumentParser(
        description="TLS-RPT reports of one domain over days, for rollout")
    ap.add_argument("out")
    ap.add_argument("--domain", required=True)
    ap.add_argument("--days", type=span, required=True)
    ap.add_argument("--now", type=int, default=None)
    ap.add_argument("--org", action="append", default=None)
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--policy")
    g.add_argument("--no-policy-string", action="store_true")
    ap.add_argument("--other-body")
    ap.add_argument("--other-days", type=spec, default=None)
    ap.add_argument("--policy-type", default="sts",
                    choices=["sts", "tlsa", "no-policy-found"])
    ap.add_argument("--tlsa", action="store_true")
    ap.add_argument("--noise-domain")
    ap.add_argument("--fail", type=failure, action="append", default=[])
    ap.add_argument("--skip", type=spec, action="append", default=[])
    ap.add_argument("--successful", type=int, default=100)
    ap.add_argument("--strings", default="lines",
                    choices=["lines", "crlf", "whole", "mixed"])
    ap.add_argument("--prefix")
    a = ap.parse_args(joined(sys.argv[1:]))

    if a.now is None:
        a.now = int(time.time())
    if (a.policy_type == "sts" and a.policy is None
            and not a.no_policy_string):
        ap.error("an sts policy wants --policy FILE or --no-policy-string")
    if a.other_days is not None and a.other_body is None:
        ap.error("--other-days wants --other-body")
    orgs = a.org or ORGS
    if a.prefix is None:
        # Of every argument but OUTDIR: where the files go does not
        # change what they say.
        key = json.dumps({k: sorted(v) if isinstance(v, set) else v
                          for k, v in vars(a).items() if k != "out"},
                         sort_keys=True, default=sorted)
        a.prefix = "g" + hashlib.sha256(key.encode()).hexdigest()[:10]

    lines = body_lines(a.policy) if a.policy else None
    other = body_lines(a.other_body) if a.other_body else None
    first, last = a.days
    other_days = (a.other_days if a.other_days is not None
                  else set(range(first, last + 1)))
    skip = set().union(*a.skip) if a.skip else set()
    for f in a.fail:
        if not first <= f[0] <= last or f[0] in skip:
            ap.error("--fail %d: not a day with reports" % f[0])
    today = a.now - a.now % DAY

    os.makedirs(a.out, exist_ok=True)
    written = 0
    for off in range(first, last + 1):
        if off in skip:
            continue
        start = today + off * DAY
        date = time.strftime("%Y-%m-%d", time.gmtime(start))
        for i, org in enumerate(orgs):
            body = other if (other is not None and off in other_days) \
                else lines
            details = []
            if i == 0:
                details = [detail(r, mx, c, n) for n, (d, r, mx, c)
                           in enumerate(a.fail) if d == off]
            pols = [policy(a.policy_type, a.domain, body, a.strings, i,
                           a.successful, details)]
            if a.tlsa:
                pols.append(policy("tlsa", a.domain, None, a.strings, i,
                                   a.successful, []))
            if a.noise_domain:
                pols.append(policy(
                    "sts", a.noise_domain,
                    ["version: STSv1", "mode: enforce",
                     "mx: mx1.%s" % a.noise_domain, "max_age: 604800"],
                    "lines", i, a.successful,
                    [detail("validation-failure", "mx1.%s" % a.noise_domain,
                            3, 0)]))
            rep = {
                "organization-name": org,
                "date-range": {"start-datetime": fmt(start),
                               "end-datetime": fmt(start + DAY - 1)},
                "contact-info": "tlsrpt@reporter%d.example" % i,
                "report-id": "%s-%s-%s-%d" % (a.prefix, a.domain,
                                             date.replace("-", ""), i),
                "policies": pols,
            }
            path = os.path.join(a.out, "%s-%s-%d.json" % (a.prefix, date, i))
            with open(path, "w", encoding="utf-8", newline="\n") as f:
                json.dump(rep, f, indent=1, sort_keys=True)
                f.write("\n")
            written += 1
    print(written)


main()
