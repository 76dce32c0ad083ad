/* SPDX-License-Identifier: ISC */
/*
 * Tests of src/serve/conf.c, the mtasts.conf(5) parser: a full
 * configuration with every field checked, the defaults, the tokenizer
 * (comments, quoting, line ends), addresses, domain names (RFC 5321
 * §4.1.2 Domain, A-labels, the RFC 8461 §3.3 mta-sts host), and one
 * table row per error, each with the line it must name and the text of
 * its message.  Run under valgrind or ASan, the error rows also show that
 * a failed parse frees what it had built.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "tap.h"

#define FILE_NAME "mtasts.conf"

#define L   "listen 127.0.0.1\n"
#define CK  "certificate /c.pem\nkey /k.pem\n"
#define D   "domain example.com {\n\tpolicy /p\n}\n"
#define MIN L CK D                            /* six lines */
#define TR  "tlsrpt {\n\thost r.example\n}\n" /* three lines */

/* An error: the line it must name and a part of its message. */
static const struct conf_error_case {
	const char *name;
	const char *text;
	unsigned line;
	const char *msg;
} errors[] = {
    /* Keywords and their arguments. */
    {"unknown keyword", MIN "lisen 1.2.3.4\n", 7, "unknown keyword 'lisen'"},
    {"keyword as a string", MIN "\"listen\" 1.2.3.4\n", 7,
     "a keyword expected, not a string"},
    {"argument missing", "listen\n" CK D, 1, "listen: argument missing"},
    {"two arguments", "listen 1.2.3.4 5.6.7.8\n" CK D, 1,
     "listen: one argument expected"},
    {"too many arguments", MIN "user a b c d e\n", 7, "user: too many"},
    {"user twice", "user a\n" MIN "user b\n", 8,
     "user given twice (first at line 1)"},
    {"certificate twice", MIN "certificate /x\n", 7,
     "certificate given twice (first at line 2)"},
    {"access-log twice", MIN "access-log /a\naccess-log /b\n", 8,
     "access-log given twice (first at line 7)"},
    {"idle-timeout twice", MIN "idle-timeout 1\nidle-timeout 1\n", 8,
     "idle-timeout given twice"},
    {"policy at the top", MIN "policy /p\n", 7,
     "policy belongs in a domain block"},
    {"'{' after a plain keyword", MIN "user x {\n}\n", 7,
     "user: unexpected '{'"},
    {"'{' alone", MIN "{\n", 7, "unexpected '{'"},
    {"'}' at the top", MIN "}\n", 7, "'}' without a domain block"},

    /* Tokenizer. */
    {"unterminated string", MIN "user \"abc\n", 7, "unterminated string"},
    {"unterminated string at the end", MIN "user \"abc", 7,
     "unterminated string"},
    {"bad escape", MIN "user \"a\\nb\"\n", 7, "bad escape"},
    {"quote inside a word", MIN "user ab\"c\"\n", 7, "quote inside a word"},
    {"word glued to a string", MIN "user \"ab\"c\n", 7,
     "white space expected after a string"},
    {"control character", MIN "user a\x01\n", 7, "control character 0x01"},
    {"DEL", "listen 1.2.3.4\x7f\n", 1, "control character 0x7f"},
    {"carriage return without a line feed", L "\r" CK D, 2,
     "carriage return without a line feed"},

    /* Addresses. */
    {"listen port out of range", "listen 1.2.3.4:70000\n" CK D, 1,
     "listen: port 70000 out of range"},
    {"listen port 0", "listen 1.2.3.4:0\n" CK D, 1,
     "listen: port 0 out of range"},
    {"listen port huge", "listen 1.2.3.4:99999999999999999999\n" CK D, 1,
     "out of range"},
    {"listen port not a number", "listen 1.2.3.4:https\n" CK D, 1,
     "listen: bad port 'https'"},
    {"listen port empty", "listen 1.2.3.4:\n" CK D, 1, "listen: bad port ''"},
    {"listen a name", "listen localhost:443\n" CK D, 1,
     "'localhost' is not a numeric IPv4 address"},
    {"listen IPv4 out of range", "listen 1.2.3.256\n" CK D, 1,
     "not a numeric IPv4"},
    {"listen IPv6 without brackets", "listen ::1\n" CK D, 1,
     "put an IPv6 address in brackets"},
    {"listen missing ']'", "listen [::1:443\n" CK D, 1, "missing ']'"},
    {"listen junk after ']'", "listen [::1]443\n" CK D, 1, "bad address"},
    {"listen IPv4 in brackets", "listen [1.2.3.4]:443\n" CK D, 1,
     "not a numeric IPv6 address"},
    {"listen zone id", "listen [fe80::1%eth0]\n" CK D, 1, "not a numeric IPv6"},
    {"listen empty brackets", "listen []:443\n" CK D, 1, "bad address"},
    {"listen empty", "listen \"\"\n" CK D, 1, "bad address"},
    {"listen twice", L CK D "listen 127.0.0.1:443\n", 7,
     "listen 127.0.0.1:443 given twice (first at line 1)"},
    {"listen twice, IPv6 spelt two ways",
     "listen [::1]\nlisten [0:0::1]:443\n" CK D, 2, "(first at line 1)"},
    {"listen 17 times",
     "listen 1.1.1.1:1\nlisten 1.1.1.1:2\nlisten 1.1.1.1:3\n"
     "listen 1.1.1.1:4\nlisten 1.1.1.1:5\nlisten 1.1.1.1:6\n"
     "listen 1.1.1.1:7\nlisten 1.1.1.1:8\nlisten 1.1.1.1:9\n"
     "listen 1.1.1.1:10\nlisten 1.1.1.1:11\nlisten 1.1.1.1:12\n"
     "listen 1.1.1.1:13\nlisten 1.1.1.1:14\nlisten 1.1.1.1:15\n"
     "listen 1.1.1.1:16\nlisten 1.1.1.1:17\n",
     17, "listen: more than 16 addresses"},
    {"metrics without a port", MIN "metrics 127.0.0.1\n", 7,
     "metrics: port required"},
    {"metrics on a listen address", MIN "metrics 127.0.0.1:443\n", 7,
     "metrics: 127.0.0.1 port 443 is also a listen address"},

    /* Values. */
    {"user with a space", MIN "user \"a b\"\n", 7, "user: bad user name 'a b'"},
    {"user starting with '-'", MIN "user -x\n", 7, "bad user name"},
    {"user over 32", MIN "user abcdefghijklmnopqrstuvwxyzabcdefg\n", 7,
     "bad user name"},
    {"cache-control empty", MIN "cache-control \"\"\n", 7,
     "cache-control: empty argument"},
    {"cache-control with HTAB", MIN "cache-control \"a\tb\"\n", 7,
     "cache-control: only printable ASCII"},
    {"cache-control not ASCII", MIN "cache-control \"max-age=1\xc3\xa9\"\n", 7,
     "only printable ASCII"},
    {"cache-control leading space", MIN "cache-control \" max-age=1\"\n", 7,
     "leading or trailing space"},
    {"max-connections 0", MIN "max-connections 0\n", 7,
     "max-connections: 0 out of range (1..1000000)"},
    {"max-connections 1000001", MIN "max-connections 1000001\n", 7,
     "out of range (1..1000000)"},
    {"max-connections 2^32", MIN "max-connections 4294967296\n", 7,
     "out of range"},
    {"max-connections not a number", MIN "max-connections 10k\n", 7,
     "max-connections: '10k' is not a number"},
    {"max-connections negative", MIN "max-connections -1\n", 7,
     "is not a number"},
    {"max-connections sign", MIN "max-connections +1\n", 7, "is not a number"},
    {"idle-timeout 0", MIN "idle-timeout 0\n", 7, "out of range (1..3600)"},
    {"idle-timeout 3601", MIN "idle-timeout 3601\n", 7,
     "idle-timeout: 3601 out of range (1..3600)"},
    {"read-timeout 601", MIN "read-timeout 601\n", 7,
     "read-timeout: 601 out of range (1..600)"},
    {"access-log empty", MIN "access-log \"\"\n", 7, "access-log: empty"},
    {"domains-dir twice", MIN "domains-dir /d\ndomains-dir /d\n", 8,
     "domains-dir /d given twice"},

    /* Domain blocks. */
    {"domain without policy", L CK "domain example.com {\n}\n", 4,
     "domain example.com: no policy"},
    {"domain twice", L CK D "domain example.com {\n\tpolicy /q\n}\n", 7,
     "domain example.com configured twice (first at line 4)"},
    {"domain twice, other case and a root dot",
     L CK D "domain EXAMPLE.Com. {\n\tpolicy /q\n}\n", 7,
     "domain example.com configured twice (first at line 4)"},
    {"missing '}'", L CK "\n# x\ndomain example.com {\n\tpolicy /p\n", 7,
     "missing '}' for domain opened at line 6"},
    {"missing '}' without a final LF", L CK "domain example.com {\npolicy /p",
     5, "missing '}' for domain opened at line 4"},
    {"domain inside domain",
     L CK "domain example.com {\n\tpolicy /p\ndomain example.net {\n", 6,
     "missing '}' for domain opened at line 4"},
    {"listen in a block", L CK "domain example.com {\n\tlisten 1.2.3.4\n}\n", 5,
     "listen is not allowed in a domain block"},
    {"unknown keyword in a block",
     L CK "domain example.com {\n\tpolicyy /p\n}\n", 5,
     "unknown keyword 'policyy'"},
    {"policy twice", L CK "domain example.com {\n\tpolicy /p\n\tpolicy /q\n}\n",
     6, "domain example.com: policy given twice (first at line 5)"},
    {"policy without argument", L CK "domain example.com {\n\tpolicy\n}\n", 5,
     "policy: one argument expected"},
    {"policy empty", L CK "domain example.com {\n\tpolicy \"\"\n}\n", 5,
     "policy: empty argument"},
    {"'{' in a block", L CK "domain example.com {\n\tpolicy /p {\n}\n", 5,
     "unexpected '{'"},
    {"'}' after a value", L CK "domain example.com {\n\tpolicy /p }\n", 5,
     "'}' must be on a line of its own"},
    {"text after '{'", L CK "domain example.com { policy /p\n}\n", 4,
     "end of line expected after '{'"},
    {"text after '}'", L CK "domain example.com {\n\tpolicy /p\n} x\n", 6,
     "end of line expected after '}'"},
    {"'{' on the next line", L CK "domain example.com\n{\n\tpolicy /p\n}\n", 4,
     "domain example.com: '{' expected at the end of the line"},
    {"two names", L CK "domain a.example b.example {\n\tpolicy /p\n}\n", 4,
     "domain: one argument expected"},
    {"mta-sts host for the domain",
     L CK "domain mta-sts.example.com {\n\tpolicy /p\n}\n", 4,
     "domain mta-sts.example.com: name the policy domain (example.com), not "
     "its mta-sts host"},
    {"mta-sts host, upper case",
     L CK "domain MTA-STS.Example.com {\n\tpolicy /p\n}\n", 4,
     "name the policy domain (example.com)"},
    {"single label", L CK "domain localhost {\n\tpolicy /p\n}\n", 4,
     "domain localhost: single label"},
    {"U-label",
     L CK "domain b\xc3\xbc"
          "cher.example {\n\tpolicy /p\n}\n",
     4, "not ASCII: use the A-label"},
    {"underscore", L CK "domain a_b.example {\n\tpolicy /p\n}\n", 4,
     "bad character"},
    {"two root dots", L CK "domain example.com.. {\n\tpolicy /p\n}\n", 4,
     "name ends with a dot"},
    {"empty label", L CK "domain a..example {\n\tpolicy /p\n}\n", 4,
     "empty label"},
    {"empty name", L CK "domain \"\" {\n\tpolicy /p\n}\n", 4, "empty name"},
    {"an address for a domain", L CK "domain 192.0.2.1 {\n\tpolicy /p\n}\n", 4,
     "domain 192.0.2.1: an address, not a domain name"},

    /* Certificates and keys. */
    {"certificate without key", L "certificate /c\n" D, 2,
     "certificate without key"},
    {"key without certificate", L "key /k\n" D, 2, "key without certificate"},
    {"domain certificate without key",
     L CK "domain example.com {\n\tpolicy /p\n\tcertificate /c\n}\n", 4,
     "domain example.com: certificate without key"},
    {"domain key without certificate",
     L CK "domain example.com {\n\tpolicy /p\n\tkey /k\n}\n", 4,
     "domain example.com: key without certificate"},
    {"no certificate at all", L D, 2,
     "domain example.com: no certificate and key, and no default ones"},
    {"no certificate, domains-dir does not help", L "domains-dir /d\n" D, 3,
     "domain example.com: no certificate"},

    /* The tlsrpt block (RFC 8460 §5.4). */
    {"tlsrpt with an argument", MIN "tlsrpt x {\n\thost r.example\n}\n", 7,
     "tlsrpt: no argument expected, only '{'"},
    {"tlsrpt without '{'", MIN "tlsrpt\n", 7,
     "tlsrpt: '{' expected at the end of the line"},
    {"tlsrpt twice", MIN TR TR, 10, "tlsrpt given twice (first at line 7)"},
    {"tlsrpt without a host", MIN "tlsrpt {\n\tpath /r\n}\n", 7,
     "tlsrpt: no host"},
    {"tlsrpt missing '}'", MIN "tlsrpt {\n\thost r.example\n", 8,
     "missing '}' for tlsrpt opened at line 7"},
    {"tlsrpt host twice",
     MIN "tlsrpt {\n\thost r.example\n\thost R.Example.\n}\n", 9,
     "host r.example given twice"},
    {"tlsrpt host single label", MIN "tlsrpt {\n\thost localhost\n}\n", 8,
     "host localhost: single label"},
    {"tlsrpt host an address", MIN "tlsrpt {\n\thost 192.0.2.1\n}\n", 8,
     "host 192.0.2.1: an address, not a host name"},
    {"tlsrpt 17 hosts",
     MIN "tlsrpt {\nhost a1.x\nhost a2.x\nhost a3.x\nhost a4.x\nhost "
         "a5.x\nhost a6.x\nhost a7.x\nhost a8.x\nhost a9.x\nhost "
         "a10.x\nhost a11.x\nhost a12.x\nhost a13.x\nhost a14.x\nhost "
         "a15.x\nhost a16.x\nhost a17.x\n}\n",
     24, "host: more than 16 names"},
    {"tlsrpt relative path", MIN "tlsrpt {\n\thost r.example\n\tpath r\n}\n", 9,
     "path: an absolute path such as /tlsrpt, not 'r'"},
    {"tlsrpt path with a query",
     MIN "tlsrpt {\n\thost r.example\n\tpath /r?x=1\n}\n", 9,
     "path: visible ASCII only, no query or fragment"},
    {"tlsrpt path with a space",
     MIN "tlsrpt {\n\thost r.example\n\tpath \"/a b\"\n}\n", 9,
     "visible ASCII only"},
    {"tlsrpt path twice",
     MIN "tlsrpt {\n\thost r.example\n\tpath /a\n\tpath /b\n}\n", 10,
     "tlsrpt: path given twice (first at line 9)"},
    {"tlsrpt store of no engine",
     MIN "tlsrpt {\n\thost r.example\n\tstore mysql://x\n}\n", 9,
     "store: sqlite:PATH, an absolute path or postgresql://..., not "
     "'mysql://x'"},
    {"tlsrpt store sqlite relative",
     MIN "tlsrpt {\n\thost r.example\n\tstore sqlite:r.db\n}\n", 9,
     "the path of sqlite:PATH must be absolute"},
    {"tlsrpt max-body 255",
     MIN "tlsrpt {\n\thost r.example\n\tmax-body 255\n}\n", 9,
     "max-body: 255 out of range (256..10485760)"},
    {"tlsrpt max-body over the source's cap",
     MIN "tlsrpt {\n\thost r.example\n\tmax-body 10485761\n}\n", 9,
     "out of range (256..10485760)"},
    {"tlsrpt queue 0", MIN "tlsrpt {\n\thost r.example\n\tqueue 0\n}\n", 9,
     "queue: 0 out of range (1..1024)"},
    {"tlsrpt certificate without key",
     MIN "tlsrpt {\n\thost r.example\n\tcertificate /c\n}\n", 7,
     "tlsrpt: certificate without key"},
    {"tlsrpt without a certificate anywhere",
     L D "tlsrpt {\n\thost r.example\n}\n", 2,
     "domain example.com: no certificate"},
    {"tlsrpt no certificate, domains have theirs",
     L "domain example.com {\npolicy /p\ncertificate /c\nkey /k\n}\n"
       "tlsrpt {\n\thost r.example\n}\n",
     7, "tlsrpt: no certificate and key, and no default ones"},
    {"policy in the tlsrpt block",
     MIN "tlsrpt {\n\thost r.example\n\tpolicy /p\n}\n", 9,
     "unknown keyword 'policy'"},
    {"listen in the tlsrpt block",
     MIN "tlsrpt {\n\thost r.example\n\tlisten 1.2.3.4\n}\n", 9,
     "listen is not allowed in the tlsrpt block"},
    {"tlsrpt in a domain block",
     L CK "domain example.com {\n\tpolicy /p\n\ttlsrpt {\n}\n", 6,
     "tlsrpt is not allowed in a domain block"},

    /* What the whole file must have. */
    {"empty file", "", 1, "no listen address"},
    {"no listen address", CK D, 5, "no listen address"},
    {"nothing to serve", L CK, 3,
     "no domain and no domains-dir: nothing to serve"},
    /* ACME: the acme-* keys (mtasts.conf(5)). */
    {"acme maybe", MIN "acme maybe\n", 7, "acme: yes or no, not 'maybe'"},
    {"acme twice", MIN "acme yes\nacme no\n", 8,
     "acme given twice (first at line 7)"},
    {"acme in a block: bad value",
     L CK "domain a.test {\npolicy /p\nacme 1\n}\n", 6,
     "acme: yes or no, not '1'"},
    {"acme in a block twice",
     L CK "domain a.test {\npolicy /p\nacme yes\nacme no\n}\n", 7,
     "domain a.test: acme given twice (first at line 6)"},
    {"acme yes and a certificate in a block",
     L "domain a.test {\npolicy /p\nacme yes\ncertificate /c\nkey /k\n}\n", 2,
     "domain a.test: acme yes and a certificate: one or the other"},
    {"acme no and no certificate anywhere",
     L "acme yes\ndomain a.test {\npolicy /p\nacme no\n}\n", 3,
     "domain a.test: no certificate and key, and no default ones"},
    {"acme off: a domain still needs a certificate",
     L "acme no\ndomain a.test {\npolicy /p\n}\n", 3,
     "domain a.test: no certificate and key, and no default ones"},
    {"tlsrpt needs a certificate under acme too",
     L "acme yes\ndomain a.test {\npolicy /p\n}\n" TR, 6,
     "tlsrpt: no certificate and key, and no default ones"},
    {"acme-directory http", MIN "acme-directory http://ca.test/dir\n", 7,
     "acme-directory: an https:// URL, not 'http://ca.test/dir'"},
    {"acme-directory no host", MIN "acme-directory https:///dir\n", 7,
     "acme-directory: an https:// URL"},
    {"acme-directory empty", MIN "acme-directory \"\"\n", 7,
     "acme-directory: an https:// URL"},
    {"acme-directory with a space", MIN "acme-directory \"https://a b\"\n", 7,
     "acme-directory: an https:// URL"},
    {"acme-directory twice",
     MIN "acme-directory https://a.test/\nacme-directory https://b.test/\n", 8,
     "acme-directory given twice (first at line 7)"},
    {"acme-contact not mailto", MIN "acme-contact hostmaster@a.test\n", 7,
     "acme-contact: mailto:ADDRESS, not 'hostmaster@a.test'"},
    {"acme-contact tel", MIN "acme-contact tel:+1555\n", 7,
     "acme-contact: mailto:ADDRESS"},
    {"acme-contact no @", MIN "acme-contact mailto:hostmaster\n", 7,
     "acme-contact: mailto:ADDRESS"},
    {"acme-contact empty local part", MIN "acme-contact mailto:@a.test\n", 7,
     "acme-contact: mailto:ADDRESS"},
    {"acme-contact empty domain", MIN "acme-contact mailto:h@\n", 7,
     "acme-contact: mailto:ADDRESS"},
    {"acme-contact two addresses",
     MIN "acme-contact mailto:a@b.test,c@d.test\n", 7,
     "acme-contact: mailto:ADDRESS"},
    {"acme-contact a query", MIN "acme-contact mailto:a@b.test?subject=x\n", 7,
     "acme-contact: mailto:ADDRESS"},
    {"acme-ca-file empty", MIN "acme-ca-file \"\"\n", 7,
     "acme-ca-file: empty argument"},
    {"acme-ca-file with a space", MIN "acme-ca-file \"/a b\"\n", 7,
     "acme-ca-file: no space or control characters"},
    {"acme-state-dir relative", MIN "acme-state-dir var/lib/acme\n", 7,
     "acme-state-dir: an absolute path without spaces, not 'var/lib/acme'"},
    {"acme-state-dir with a space", MIN "acme-state-dir \"/var/a b\"\n", 7,
     "acme-state-dir: an absolute path"},
    {"acme-rate one argument", MIN "acme-rate 300\n", 7,
     "acme-rate: two arguments expected"},
    {"acme-rate three arguments", MIN "acme-rate 1 2 3\n", 7,
     "acme-rate: two arguments expected"},
    {"acme-rate 0 orders", MIN "acme-rate 0 3600\n", 7,
     "acme-rate: 0 out of range (1..1000000)"},
    {"acme-rate too many orders", MIN "acme-rate 1000001 3600\n", 7,
     "acme-rate: 1000001 out of range (1..1000000)"},
    {"acme-rate window 0", MIN "acme-rate 10 0\n", 7,
     "acme-rate: 0 out of range (1..2592000)"},
    {"acme-rate window over 30 days", MIN "acme-rate 10 2592001\n", 7,
     "acme-rate: 2592001 out of range (1..2592000)"},
    {"acme-rate not a number", MIN "acme-rate ten 60\n", 7,
     "acme-rate: 'ten' is not a number"},
    {"acme-burst 0", MIN "acme-burst 0\n", 7,
     "acme-burst: 0 out of range (1..1000000)"},
    {"acme-burst over the default rate", MIN "acme-burst 301\n", 7,
     "acme-burst: 301 is more than acme-rate's 300"},
    {"acme-burst over acme-rate", MIN "acme-burst 3\nacme-rate 2 60\n", 7,
     "acme-burst: 3 is more than acme-rate's 2"},
    {"acme-renew-age negative", MIN "acme-renew-age -1\n", 7,
     "acme-renew-age: '-1' is not a number"},
    {"acme-renew-age over 10 years", MIN "acme-renew-age 316224001\n", 7,
     "acme-renew-age: 316224001 out of range (0..316224000)"},
    {"acme-http-listen a name", MIN "acme-http-listen localhost\n", 7,
     "acme-http-listen: 'localhost' is not a numeric IPv4 address"},
    {"acme-http-listen port 0", MIN "acme-http-listen 127.0.0.1:0\n", 7,
     "acme-http-listen: port 0 out of range"},
    {"acme-http-listen twice",
     MIN "acme-http-listen *\nacme-http-listen 0.0.0.0:80\n", 8,
     "acme-http-listen 0.0.0.0:80 given twice (first at line 7)"},
    {"acme-http-listen five",
     MIN "acme-http-listen 127.0.0.1:1\nacme-http-listen 127.0.0.1:2\n"
         "acme-http-listen 127.0.0.1:3\nacme-http-listen 127.0.0.1:4\n"
         "acme-http-listen 127.0.0.1:5\n",
     11, "acme-http-listen: more than 4 addresses"},
    {"acme-http-listen is a listen address",
     MIN "acme-http-listen 127.0.0.1:443\n", 7,
     "acme-http-listen: 127.0.0.1 port 443 is also a listen address"},
    {"acme-http-listen is the metrics address",
     MIN "metrics 127.0.0.1:80\nacme-http-listen 127.0.0.1\n", 8,
     "acme-http-listen: 127.0.0.1 port 80 is also a metrics address"},
    {"listen and acme-http-listen over 16 together",
     "listen 127.0.0.1:1\nlisten 127.0.0.1:2\nlisten 127.0.0.1:3\n"
     "listen 127.0.0.1:4\nlisten 127.0.0.1:5\nlisten 127.0.0.1:6\n"
     "listen 127.0.0.1:7\nlisten 127.0.0.1:8\nlisten 127.0.0.1:9\n"
     "listen 127.0.0.1:10\nlisten 127.0.0.1:11\nlisten 127.0.0.1:12\n"
     "listen 127.0.0.1:13\nlisten 127.0.0.1:14\nlisten 127.0.0.1:15\n"
     "listen 127.0.0.1:16\n" CK D "acme-http-listen 127.0.0.1\n",
     22, "listen and acme-http-listen: more than 16 addresses together"},
    {"acme-state-dir in a block",
     L CK "domain a.test {\npolicy /p\n"
          "acme-state-dir /s\n}\n",
     6, "acme-state-dir is not allowed in a domain block"},
    {"acme-challenge dns-01", MIN "acme-challenge dns-01\n", 7,
     "acme-challenge: tls-alpn-01 or http-01, not 'dns-01'"},
    {"acme-challenge in upper case", MIN "acme-challenge HTTP-01\n", 7,
     "acme-challenge: tls-alpn-01 or http-01, not 'HTTP-01'"},
    {"acme-challenge two arguments", MIN "acme-challenge http-01 tls-alpn-01\n",
     7, "acme-challenge: one argument expected"},
    {"acme-challenge twice",
     MIN "acme-http-listen *\nacme-challenge http-01\n"
         "acme-challenge tls-alpn-01\n",
     9, "acme-challenge given twice (first at line 8)"},
    {"acme-challenge http-01 without acme-http-listen",
     MIN "acme yes\nacme-challenge http-01\n", 8,
     "acme-challenge http-01 needs an acme-http-listen"},
    {"acme-challenge http-01 without acme-http-listen, acme off",
     MIN "acme-challenge http-01\nacme-rate 10 60\n", 7,
     "acme-challenge http-01 needs an acme-http-listen"},
    {"acme-challenge in a block",
     L CK "domain a.test {\npolicy /p\n"
          "acme-challenge http-01\n}\n",
     6, "acme-challenge is not allowed in a domain block"},
};

static const char *
error_of(const char *text, size_t len, struct serve_conf *conf, char *err)
{
	int rc;

	memset(conf, 0x5A, sizeof(*conf));
	memset(err, 'x', CONF_ERR_SIZE);
	rc = conf_parse(text, len, FILE_NAME, conf, err);
	return rc == 0 ? NULL : err;
}

/* *conf is all zero bytes (on error, STYLE 7 and conf.h). */
static bool
is_zeroed(const struct serve_conf *conf)
{
	static const struct serve_conf zero;

	return memcmp(conf, &zero, sizeof(zero)) == 0;
}

static void
check_errors(void)
{
	struct serve_conf conf;
	char err[CONF_ERR_SIZE], prefix[64];
	const char *e;
	size_t i;
	bool ok;

	for (i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
		const struct conf_error_case *c = &errors[i];

		e = error_of(c->text, strlen(c->text), &conf, err);
		snprintf(prefix, sizeof(prefix), "%s:%u: ", FILE_NAME, c->line);
		ok = e != NULL && strncmp(e, prefix, strlen(prefix)) == 0 &&
		    strstr(e, c->msg) != NULL && is_zeroed(&conf);
		if (!tap_ok(ok, "error: %s", c->name))
			tap_diag("got \"%s\"", e != NULL ? e : "(success)");
		if (e == NULL)
			conf_free(&conf);
	}
}

static bool
listen_is(const struct conf_listen *l, const char *host, unsigned port)
{
	return strcmp(l->host, host) == 0 && l->port == port;
}

static void
check_full(void)
{
	static const char text[] =
	    "# mtasts.conf: every keyword\n"
	    "listen 127.0.0.1:8443\n"
	    "listen [::1]\n"
	    "user _mtasts\n"
	    "cache-control \"max-age=600, public\"\n"
	    "max-connections 500\n"
	    "idle-timeout 30\n"
	    "read-timeout 5\n"
	    "access-log /var/log/mtasts/access.log\n"
	    "metrics 127.0.0.1:9461\n"
	    "certificate /etc/mtasts/fullchain.pem\n"
	    "key /etc/mtasts/privkey.pem\n"
	    "\n"
	    "domain example.com {\n"
	    "\tpolicy /etc/mtasts/example.com/mta-sts.txt\n"
	    "\tcertificate /etc/mtasts/example.com/fullchain.pem\n"
	    "\tkey /etc/mtasts/example.com/privkey.pem\n"
	    "}\n"
	    "domain example.net {\n"
	    "\tpolicy /etc/mtasts/example.net/mta-sts.txt\n"
	    "}\n"
	    "domains-dir /var/lib/mtasts/domains\n"
	    "domains-dir /srv/mtasts\n";
	struct serve_conf c;
	char err[CONF_ERR_SIZE];
	const struct conf_domain *d;

	if (!tap_ok(error_of(text, sizeof(text) - 1, &c, err) == NULL,
	            "full: parses"))
		tap_diag("%s", err);
	tap_ok(c.listen_count == 2 &&
	           listen_is(&c.listen[0], "127.0.0.1", 8443) &&
	           listen_is(&c.listen[1], "::1", 443),
	       "full: listen");
	tap_ok(tap_streq(c.user, "_mtasts"), "full: user");
	tap_ok(tap_streq(c.cache_control, "max-age=600, public"),
	       "full: cache-control");
	tap_ok(c.max_connections == 500 && c.idle_timeout == 30 &&
	           c.read_timeout == 5,
	       "full: numbers");
	tap_ok(tap_streq(c.access_log, "/var/log/mtasts/access.log"),
	       "full: access-log");
	tap_ok(listen_is(&c.metrics, "127.0.0.1", 9461), "full: metrics");
	tap_ok(tap_streq(c.certificate, "/etc/mtasts/fullchain.pem") &&
	           tap_streq(c.key, "/etc/mtasts/privkey.pem"),
	       "full: default certificate and key");
	tap_ok(c.domain_count == 2, "full: two domains");
	d = &c.domains[0];
	tap_ok(tap_streq(d->name, "example.com") &&
	           tap_streq(d->policy,
	                     "/etc/mtasts/example.com/mta-sts.txt") &&
	           tap_streq(d->certificate,
	                     "/etc/mtasts/example.com/fullchain.pem") &&
	           tap_streq(d->key, "/etc/mtasts/example.com/privkey.pem") &&
	           d->line == 14,
	       "full: domain with its own certificate");
	d = &c.domains[1];
	tap_ok(tap_streq(d->name, "example.net") &&
	           tap_streq(d->policy,
	                     "/etc/mtasts/example.net/mta-sts.txt") &&
	           d->certificate == NULL && d->key == NULL && d->line == 19,
	       "full: domain with the defaults");
	tap_ok(c.domains_dir_count == 2 &&
	           tap_streq(c.domains_dirs[0], "/var/lib/mtasts/domains") &&
	           tap_streq(c.domains_dirs[1], "/srv/mtasts"),
	       "full: domains-dir twice");
	conf_free(&c);
	tap_ok(is_zeroed(&c), "full: conf_free zeroes");
	conf_free(&c);
	conf_free(NULL);
	tap_ok(is_zeroed(&c),
	       "conf_free: a second time leaves it zeroed; "
	       "NULL is a no-op");
}

/* The tlsrpt block, every keyword, and its defaults. */
static void
check_tlsrpt(void)
{
	static const char text[] =
	    MIN "tlsrpt {\n"
		"\thost TLSRPT.Example.COM.\n"
		"\thost mta-sts.example.com\n"
		"\tpath /.well-known/tlsrpt\n"
		"\tstore postgresql://mtasts@db/reports\n"
		"\tmax-body 65536\n"
		"\tqueue 4\n"
		"\tcertificate /r.pem\n"
		"\tkey /r.key\n"
		"}\n";
	struct serve_conf c;
	char err[CONF_ERR_SIZE];
	const struct conf_tlsrpt *t = &c.tlsrpt;

	if (!tap_ok(error_of(text, sizeof(text) - 1, &c, err) == NULL,
	            "tlsrpt: parses"))
		tap_diag("%s", err);
	tap_ok(t->enabled && t->line == 7 && t->host_count == 2 &&
	           tap_streq(t->hosts[0], "tlsrpt.example.com") &&
	           tap_streq(t->hosts[1], "mta-sts.example.com"),
	       "tlsrpt: hosts lower-cased, final dot dropped; an mta-sts "
	       "host may be one");
	tap_ok(tap_streq(t->path, "/.well-known/tlsrpt") &&
	           tap_streq(t->store, "postgresql://mtasts@db/reports") &&
	           t->max_body == 65536 && t->queue == 4 &&
	           tap_streq(t->certificate, "/r.pem") &&
	           tap_streq(t->key, "/r.key"),
	       "tlsrpt: path, store, max-body, queue, certificate, key");
	conf_free(&c);
	tap_ok(is_zeroed(&c), "tlsrpt: conf_free zeroes");

	error_of(MIN TR, sizeof(MIN TR) - 1, &c, err);
	tap_ok(t->enabled && tap_streq(t->path, CONF_REPORT_PATH) &&
	           tap_streq(t->store, CONF_REPORT_STORE) &&
	           t->max_body == CONF_REPORT_BODY &&
	           t->queue == CONF_REPORT_QUEUE && t->certificate == NULL &&
	           t->key == NULL,
	       "tlsrpt: defaults /tlsrpt, sqlite:/var/lib/mtasts/reports.db, "
	       "1 MiB, 16, the global certificate");
	conf_free(&c);
	error_of(MIN, sizeof(MIN) - 1, &c, err);
	tap_ok(!t->enabled && t->host_count == 0 && t->path == NULL,
	       "tlsrpt: none without the block");
	conf_free(&c);
	error_of(MIN "tlsrpt {\n\thost r.example\n\tstore /var/r.db\n"
	             "\tmax-body 10485760\n\tqueue 1024\n}\n",
	         sizeof(MIN "tlsrpt {\n\thost r.example\n\tstore /var/r.db\n"
	                    "\tmax-body 10485760\n\tqueue 1024\n}\n") -
	             1,
	         &c, err);
	tap_ok(t->enabled && tap_streq(t->store, "/var/r.db") &&
	           t->max_body == CONF_REPORT_BODY_MAX && t->queue == 1024,
	       "tlsrpt: a bare absolute path as the store; the largest caps");
	conf_free(&c);
}

static void
check_defaults(void)
{
	struct serve_conf c;
	char err[CONF_ERR_SIZE];

	tap_ok(error_of(MIN, sizeof(MIN) - 1, &c, err) == NULL &&
	           err[0] == '\0',
	       "defaults: parses, err empty");
	tap_ok(c.listen_count == 1 && listen_is(&c.listen[0], "127.0.0.1", 443),
	       "defaults: listen port 443");
	tap_ok(tap_streq(c.cache_control, "max-age=300"),
	       "defaults: cache-control max-age=300");
	tap_ok(c.max_connections == 10000 && c.idle_timeout == 60 &&
	           c.read_timeout == 10,
	       "defaults: 10000 connections, 60 s idle, 10 s read");
	tap_ok(c.user == NULL && c.access_log == NULL && c.metrics.port == 0 &&
	           c.domains_dir_count == 0 && c.domains_dirs == NULL,
	       "defaults: no user, access log, metrics or domains-dir");
	conf_free(&c);

	tap_ok(conf_parse(MIN, sizeof(MIN) - 1, FILE_NAME, &c, NULL) == 0,
	       "err may be NULL on success");
	conf_free(&c);
	tap_ok(conf_parse("x", 1, FILE_NAME, &c, NULL) == -1 && is_zeroed(&c),
	       "err may be NULL on failure");
}

/* A valid text and a check of what it gives. */
static const struct conf_ok_case {
	const char *name;
	const char *text;
	const char *what; /* "listen" "domain" "dir" "cc" "path" "num"
	                     "acme" "challenge" */
	const char *want; /* listen "host port", domain name, ... */
} oks[] = {
    /* Addresses. */
    {"listen IPv4 and port", "listen 192.0.2.1:8443\n" CK D, "listen",
     "192.0.2.1 8443"},
    {"listen IPv6 and port", "listen [::1]:8443\n" CK D, "listen", "::1 8443"},
    {"listen IPv6, port defaults", "listen [2001:DB8:0::1]\n" CK D, "listen",
     "2001:db8::1 443"},
    {"listen IPv6 any", "listen [::]:443\n" CK D, "listen", ":: 443"},
    {"listen *", "listen *\n" CK D, "listen", "0.0.0.0 443"},
    {"listen *:port", "listen *:8443\n" CK D, "listen", "0.0.0.0 8443"},
    {"listen port 1", "listen 10.0.0.1:1\n" CK D, "listen", "10.0.0.1 1"},
    {"listen port 65535", "listen 10.0.0.1:65535\n" CK D, "listen",
     "10.0.0.1 65535"},
    {"listen quoted", "listen \"127.0.0.1:80\"\n" CK D, "listen",
     "127.0.0.1 80"},
    {"listen IPv4-mapped", "listen [::ffff:192.0.2.1]\n" CK D, "listen",
     "::ffff:192.0.2.1 443"},
    {"metrics other port", MIN "metrics 127.0.0.1:9461\n", "metrics",
     "127.0.0.1 9461"},
    {"metrics IPv6", MIN "metrics [::1]:9461\n", "metrics", "::1 9461"},

    /* Domain names. */
    {"domain lower-cased, root dot dropped",
     L CK "domain Example.COM. {\n\tpolicy /p\n}\n", "domain", "example.com"},
    {"domain quoted", L CK "domain \"example.org\" {\n\tpolicy /p\n}\n",
     "domain", "example.org"},
    {"domain brace glued to the name",
     L CK "domain example.com{\n\tpolicy /p\n}\n", "domain", "example.com"},
    {"domain A-label", L CK "domain xn--bcher-kva.example {\npolicy /p\n}\n",
     "domain", "xn--bcher-kva.example"},
    {"mta-sts.com is a domain (its host is mta-sts.mta-sts.com)",
     L CK "domain mta-sts.com {\n\tpolicy /p\n}\n", "domain", "mta-sts.com"},
    {"domain with its own certificate, no default",
     L "domain example.com {\npolicy /p\ncertificate /c\nkey /k\n}\n", "domain",
     "example.com"},
    {"empty block lines and comments in a block",
     L CK "domain example.com { # c\n\n  # c\n\tpolicy /p # c\n\n} # c\n",
     "domain", "example.com"},

    /* domains-dir. */
    {"domains-dir without defaults", L "domains-dir /srv/d\n", "dir", "/srv/d"},
    {"domains-dir with a domain block", L CK D "domains-dir /srv/d\n", "dir",
     "/srv/d"},

    /* Tokenizer. */
    {"comments and blank lines",
     "# head\n\n   # indented\n" L "\t\n" CK "#\n" D "# tail", "listen",
     "127.0.0.1 443"},
    {"CRLF line ends",
     "listen 127.0.0.1\r\ncertificate /c\r\nkey /k\r\n"
     "domain example.com {\r\npolicy /p\r\n}\r\n",
     "domain", "example.com"},
    {"no final line end", L CK "domain example.com {\npolicy /p\n}", "domain",
     "example.com"},
    {"escapes in a string", MIN "cache-control \"a\\\"b\\\\c\"\n", "cc",
     "a\"b\\c"},
    {"# inside a string", MIN "access-log \"/var/log/#1 log\"\n", "log",
     "/var/log/#1 log"},
    {"# inside a word", MIN "access-log /var/log/#1\n", "log", "/var/log/#1"},
    {"comment right after a string", MIN "access-log \"/a\"# c\n", "log", "/a"},
    {"tabs between tokens", MIN "access-log\t\t/a \t\n", "log", "/a"},
    {"non-ASCII path", MIN "access-log /var/log/caf\xc3\xa9\n", "log",
     "/var/log/caf\xc3\xa9"},

    /* Numbers at their bounds. */
    {"max-connections 1", MIN "max-connections 1\n", "num", "1 60 10"},
    {"max-connections 1000000", MIN "max-connections 1000000\n", "num",
     "1000000 60 10"},
    {"max-connections leading zeros", MIN "max-connections 0007\n", "num",
     "7 60 10"},
    {"idle-timeout 3600, read-timeout 600",
     MIN "idle-timeout 3600\nread-timeout 600\n", "num", "10000 3600 600"},
    {"idle-timeout 1, read-timeout 1", MIN "idle-timeout 1\nread-timeout 1\n",
     "num", "10000 1 1"},

    /* ACME: the acme-* keys, their defaults, conf_domain_acme(). */
    {"acme off by default: nothing filled in", MIN, "acme",
     "off - - - - 300/10800 5 0 http[] d[-1:n]"},
    {"acme yes: a domain without a certificate needs no default",
     L "acme yes\ndomain a.test {\npolicy /p\n}\n", "acme",
     "on " CONF_ACME_DIRECTORY " - - " CONF_ACME_STATE_DIR
     " 300/10800 5 0 http[] d[-1:Y]"},
    {"acme yes in a block only: the defaults filled in",
     L "domain a.test {\npolicy /p\nacme yes\n}\n", "acme",
     "off " CONF_ACME_DIRECTORY " - - " CONF_ACME_STATE_DIR
     " 300/10800 5 0 http[] d[1:Y]"},
    {"acme yes: a domain with its own certificate keeps it",
     L "acme yes\ndomain a.test {\npolicy /p\ncertificate /c\nkey /k\n}\n"
       "domain b.test {\npolicy /p\n}\n",
     "acme",
     "on " CONF_ACME_DIRECTORY " - - " CONF_ACME_STATE_DIR
     " 300/10800 5 0 http[] d[-1:n -1:Y]"},
    {"acme yes, acme no in a block: the default certificate",
     MIN "acme yes\ndomain b.test {\npolicy /p\nacme no\n}\n", "acme",
     "on " CONF_ACME_DIRECTORY " - - " CONF_ACME_STATE_DIR
     " 300/10800 5 0 http[] d[-1:Y 0:n]"},
    {"acme no globally, yes in a block beside the default certificate",
     MIN "domain b.test {\npolicy /p\nacme yes\n}\n", "acme",
     "off " CONF_ACME_DIRECTORY " - - " CONF_ACME_STATE_DIR
     " 300/10800 5 0 http[] d[-1:n 1:Y]"},
    {"acme domains-dir only", L "acme yes\ndomains-dir /srv/d\n", "acme",
     "on " CONF_ACME_DIRECTORY " - - " CONF_ACME_STATE_DIR
     " 300/10800 5 0 http[] d[]"},
    {"every acme key",
     L "acme yes\ndomains-dir /d\n"
       "acme-directory https://localhost:14000/dir\n"
       "acme-contact mailto:hostmaster@example.com\n"
       "acme-ca-file /etc/mtasts/pebble.minica.pem\n"
       "acme-state-dir /var/lib/mtasts/acme2\n"
       "acme-rate 50 3600\nacme-burst 50\nacme-renew-age 86400\n"
       "acme-http-listen *\nacme-http-listen [::1]:8080\n",
     "acme",
     "on https://localhost:14000/dir mailto:hostmaster@example.com "
     "/etc/mtasts/pebble.minica.pem /var/lib/mtasts/acme2 50/3600 50 86400 "
     "http[0.0.0.0 80,::1 8080] d[]"},
    {"acme-rate below the default burst: burst follows", MIN "acme-rate 2 60\n",
     "acme", "off - - - - 2/60 2 0 http[] d[-1:n]"},
    {"acme-rate and burst at their bounds",
     MIN "acme-rate 1000000 2592000\nacme-burst 1000000\n", "acme",
     "off - - - - 1000000/2592000 1000000 0 http[] d[-1:n]"},
    {"acme-rate 1 1, burst 1", MIN "acme-rate 1 1\nacme-burst 1\n", "acme",
     "off - - - - 1/1 1 0 http[] d[-1:n]"},
    {"acme-renew-age at its bound", MIN "acme-renew-age 316224000\n", "acme",
     "off - - - - 300/10800 5 316224000 http[] d[-1:n]"},
    {"four acme-http-listen",
     MIN "acme-http-listen 127.0.0.1:1\nacme-http-listen 127.0.0.1:2\n"
         "acme-http-listen 127.0.0.1:3\nacme-http-listen 127.0.0.1:80\n",
     "acme",
     "off - - - - 300/10800 5 0 http[127.0.0.1 1,127.0.0.1 2,127.0.0.1 "
     "3,127.0.0.1 80] d[-1:n]"},
    {"acme-http-listen on the TLS address, another port",
     MIN "acme-http-listen 127.0.0.1\n", "acme",
     "off - - - - 300/10800 5 0 http[127.0.0.1 80] d[-1:n]"},
    /* acme-challenge: which challenge is answered first. */
    {"acme-challenge: tls-alpn-01 by default", MIN, "challenge", "tls-alpn-01"},
    {"acme-challenge: tls-alpn-01 by default beside a listener",
     MIN "acme yes\nacme-http-listen *\n", "challenge", "tls-alpn-01"},
    {"acme-challenge tls-alpn-01 without a listener",
     MIN "acme-challenge tls-alpn-01\n", "challenge", "tls-alpn-01"},
    {"acme-challenge http-01 with a listener",
     MIN "acme yes\nacme-http-listen 127.0.0.84:80\n"
         "acme-challenge http-01\n",
     "challenge", "http-01"},
    {"acme-challenge http-01 before its listener",
     MIN "acme-challenge http-01\nacme-http-listen [::1]\n", "challenge",
     "http-01"},
};

#define OR_DASH(s) ((s) != NULL ? (s) : "-")

/* The acme-* keys and each domain's `acme` and conf_domain_acme(). */
static void
describe_acme(const struct serve_conf *c, char *out, size_t size)
{
	const struct conf_acme *a = &c->acme;
	size_t i, n;

	n = (size_t)snprintf(out, size, "%s %s %s %s %s %u/%u %u %u http[",
	                     a->enabled ? "on" : "off", OR_DASH(a->directory),
	                     OR_DASH(a->contact), OR_DASH(a->ca_file),
	                     OR_DASH(a->state_dir), a->rate_orders,
	                     a->rate_window, a->burst, a->renew_age);
	for (i = 0; i < a->http_count && n < size; i++)
		n += (size_t)snprintf(out + n, size - n, "%s%s %u",
		                      i > 0 ? "," : "", a->http[i].host,
		                      a->http[i].port);
	if (n < size)
		n += (size_t)snprintf(out + n, size - n, "] d[");
	for (i = 0; i < c->domain_count && n < size; i++)
		n +=
		    (size_t)snprintf(out + n, size - n, "%s%d:%s",
		                     i > 0 ? " " : "", c->domains[i].acme,
		                     conf_domain_acme(c, &c->domains[i]) ? "Y" :
		                                                           "n");
	if (n < size)
		snprintf(out + n, size - n, "]");
}

/* What an ok row checks, as text. */
static void
describe(const struct serve_conf *c, const char *what, char *out, size_t size)
{
	const struct conf_listen *l = &c->listen[c->listen_count - 1];

	if (strcmp(what, "listen") == 0)
		snprintf(out, size, "%s %u", l->host, l->port);
	else if (strcmp(what, "metrics") == 0)
		snprintf(out, size, "%s %u", c->metrics.host, c->metrics.port);
	else if (strcmp(what, "domain") == 0)
		snprintf(out, size, "%s", c->domains[c->domain_count - 1].name);
	else if (strcmp(what, "dir") == 0)
		snprintf(out, size, "%s", c->domains_dirs[0]);
	else if (strcmp(what, "cc") == 0)
		snprintf(out, size, "%s", c->cache_control);
	else if (strcmp(what, "log") == 0)
		snprintf(out, size, "%s", c->access_log);
	else if (strcmp(what, "acme") == 0)
		describe_acme(c, out, size);
	else if (strcmp(what, "challenge") == 0)
		snprintf(out, size, "%s",
		         c->acme.prefer_http01 ? "http-01" : "tls-alpn-01");
	else
		snprintf(out, size, "%u %u %u", c->max_connections,
		         c->idle_timeout, c->read_timeout);
}

static void
check_oks(void)
{
	struct serve_conf c;
	char err[CONF_ERR_SIZE], got[512];
	size_t i;

	for (i = 0; i < sizeof(oks) / sizeof(oks[0]); i++) {
		const struct conf_ok_case *k = &oks[i];

		if (error_of(k->text, strlen(k->text), &c, err) != NULL) {
			tap_ok(false, "ok: %s", k->name);
			tap_diag("got \"%s\"", err);
			continue;
		}
		describe(&c, k->what, got, sizeof(got));
		if (!tap_ok(strcmp(got, k->want) == 0, "ok: %s", k->name))
			tap_diag("got \"%s\", want \"%s\"", got, k->want);
		conf_free(&c);
	}
}

/* A text of n bytes: MIN, then comment lines of at most `line` bytes. */
static char *
padded(size_t n, size_t line)
{
	size_t i, k;
	char *t;

	if (n < sizeof(MIN) || (t = malloc(n + 1)) == NULL)
		abort();
	memcpy(t, MIN, sizeof(MIN) - 1);
	for (i = sizeof(MIN) - 1; i < n; i += k) {
		k = n - i < line + 1 ? n - i : line + 1;
		t[i] = '#';
		memset(t + i + 1, 'x', k - 1);
		t[i + k - 1] = '\n';
	}
	t[n] = '\0';
	return t;
}

static void
check_caps(void)
{
	struct serve_conf c;
	char err[CONF_ERR_SIZE], *t;
	const char *e;

	t = padded(sizeof(MIN) - 1 + CONF_LINE_MAX + 1, CONF_LINE_MAX);
	tap_ok(error_of(t, strlen(t), &c, err) == NULL,
	       "cap: a line of exactly CONF_LINE_MAX bytes");
	conf_free(&c);
	free(t);
	t = padded(sizeof(MIN) - 1 + CONF_LINE_MAX + 2, CONF_LINE_MAX + 1);
	e = error_of(t, strlen(t), &c, err);
	tap_ok(e != NULL &&
	           strcmp(e, FILE_NAME ":7: line over 4096 bytes") == 0,
	       "cap: one byte more: %s", e != NULL ? e : "(success)");
	free(t);
	t = padded(CONF_MAX_SIZE, 100);
	tap_ok(error_of(t, CONF_MAX_SIZE, &c, err) == NULL,
	       "cap: a file of exactly CONF_MAX_SIZE bytes");
	conf_free(&c);
	free(t);
	t = padded(CONF_MAX_SIZE + 1, 100);
	e = error_of(t, CONF_MAX_SIZE + 1, &c, err);
	tap_ok(e != NULL && strstr(e, "file over 4194304 bytes") != NULL &&
	           is_zeroed(&c),
	       "cap: one byte more: %s", e != NULL ? e : "(success)");
	free(t);
}

/* A NUL byte, which the table's C strings cannot hold. */
static void
check_nul(void)
{
	static const char text[] = MIN "user a\0b\n";
	struct serve_conf c;
	char err[CONF_ERR_SIZE];
	const char *e;

	e = error_of(text, sizeof(text) - 1, &c, err);
	tap_ok(e != NULL && strcmp(e, FILE_NAME ":7: NUL byte") == 0 &&
	           is_zeroed(&c),
	       "error: NUL byte: %s", e != NULL ? e : "(success)");
}

/* Many domains: the name index grows, and a late duplicate is caught. */
static void
check_many(void)
{
	enum { N = 3000 };
	struct serve_conf c;
	char err[CONF_ERR_SIZE], *t, *p;
	const char *e;
	size_t i, size = sizeof(L CK) + (N + 1) * 48;
	bool ok = true;

	if ((t = malloc(size)) == NULL)
		abort();
	p = t + snprintf(t, size, "%s", L CK);
	for (i = 0; i < N; i++)
		p +=
		    snprintf(p, size - (size_t)(p - t),
		             "domain d%zu.example {\npolicy /p/%zu\n}\n", i, i);
	tap_ok(error_of(t, strlen(t), &c, err) == NULL && c.domain_count == N,
	       "many: %d domains", N);
	for (i = 0; ok && i < c.domain_count; i++) {
		char want[32];

		snprintf(want, sizeof(want), "d%zu.example", i);
		ok = strcmp(c.domains[i].name, want) == 0 &&
		    c.domains[i].line == 4 + 3 * i;
	}
	tap_ok(ok, "many: names and lines in order");
	conf_free(&c);
	snprintf(p, size - (size_t)(p - t), "domain D1234.example {\n");
	e = error_of(t, strlen(t), &c, err);
	tap_ok(e != NULL &&
	           strstr(e,
	                  ":9004: domain d1234.example configured "
	                  "twice (first at line 3706)") != NULL,
	       "many: late duplicate: %s", e != NULL ? e : "(success)");
	free(t);
}

/* conf_domain_name(): the rules of a block's name, for domains-dir entries. */
static const struct name_case {
	const char *in;
	const char *want; /* the name, or a part of the reason */
	bool ok;
} names[] = {
    {"example.com", "example.com", true},
    {"Example.COM", "example.com", true},
    {"D00050.DD.TEST", "d00050.dd.test", true},
    {"a.test.", "a.test", true},
    {"A.Test.", "a.test", true},
    {"mta-sts.com", "mta-sts.com", true},
    {"xn--bcher-kva.test", "xn--bcher-kva.test", true},
    {"mta-sts.zz.test",
     "name the policy domain (zz.test), not its mta-sts "
     "host",
     false},
    {"MTA-STS.ZZ.TEST.", "name the policy domain (zz.test)", false},
    {"a.test..", "", false},
    {"localhost", "", false},
    {"bad_name.test", "", false},
    {"192.0.2.1", "an address, not a domain name", false},
    {"", "", false},
    {".", "", false},
};

static void
check_domain_names(void)
{
	char why[CONF_ERR_SIZE], *name;
	size_t i;
	bool ok;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const struct name_case *k = &names[i];

		name = NULL;
		memset(why, 0, sizeof(why));
		if (conf_domain_name(k->in, &name, why, sizeof(why)) == 0)
			ok = k->ok && strcmp(name, k->want) == 0;
		else
			ok = !k->ok && name == NULL && why[0] != '\0' &&
			    strstr(why, k->want) != NULL;
		if (!tap_ok(ok, "domain name '%s'", k->in))
			tap_diag("got \"%s\" / \"%s\"",
			         name != NULL ? name : "(none)", why);
		free(name);
	}
}

/* conf_check_unique(): blocks and domains-dir entries, each name once. */
static void
check_unique(void)
{
	static const struct unique_case {
		const char *name;
		struct conf_domain d[3];
		size_t n;
		const char *want; /* NULL: no duplicate */
	} cases[] = {
	    {"block and entry",
	     {{"a.test", NULL, NULL, NULL, 7, NULL, -1},
	      {"a.test", NULL, NULL, NULL, 0, "/srv/d/A.TEST", -1}},
	     2,
	     FILE_NAME ":7: domain a.test configured twice (also "
	               "/srv/d/A.TEST)"},
	    {"entry before block",
	     {{"b.test", NULL, NULL, NULL, 0, "/srv/d/b.test", -1},
	      {"a.test", NULL, NULL, NULL, 3, NULL, -1},
	      {"b.test", NULL, NULL, NULL, 9, NULL, -1}},
	     3,
	     FILE_NAME ":9: domain b.test configured twice (also "
	               "/srv/d/b.test)"},
	    {"two entries",
	     {{"d.test", NULL, NULL, NULL, 0, "/srv/d/d.test", -1},
	      {"d.test", NULL, NULL, NULL, 0, "/srv/d/D.TEST", -1}},
	     2,
	     "/srv/d/d.test: domain d.test configured twice (also "
	     "/srv/d/D.TEST)"},
	    {"two blocks",
	     {{"e.test", NULL, NULL, NULL, 4, NULL, -1},
	      {"e.test", NULL, NULL, NULL, 2, NULL, -1}},
	     2,
	     FILE_NAME ":4: domain e.test configured twice (first at line 2)"},
	    {"no duplicate",
	     {{"a.test", NULL, NULL, NULL, 1, NULL, -1},
	      {"b.test", NULL, NULL, NULL, 0, "/srv/d/b.test", -1},
	      {"c.test", NULL, NULL, NULL, 0, "/srv/d/c.test", -1}},
	     3,
	     NULL},
	};
	struct serve_conf conf;
	char err[CONF_ERR_SIZE];
	size_t i;
	int rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct unique_case *k = &cases[i];

		memset(&conf, 0, sizeof(conf));
		conf.domains = (struct conf_domain *)(uintptr_t)k->d;
		conf.domain_count = k->n;
		strcpy(err, "untouched");
		rc = conf_check_unique(&conf, FILE_NAME, err);
		if (k->want == NULL) {
			tap_ok(rc == 0 && strcmp(err, "untouched") == 0,
			       "unique: %s", k->name);
			continue;
		}
		if (!tap_ok(rc == -1 && strcmp(err, k->want) == 0, "unique: %s",
		            k->name))
			tap_diag("got \"%s\"", err);
	}
}

int
main(void)
{
	check_domain_names();
	check_unique();
	check_full();
	check_tlsrpt();
	check_defaults();
	check_oks();
	check_errors();
	check_nul();
	check_caps();
	check_many();
	return tap_done();
}
