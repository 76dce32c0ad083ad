/* SPDX-License-Identifier: ISC */
/*
 * libmtasts: MTA-STS (RFC 8461), SMTP TLS Reporting (RFC 8460) and DANE
 * for SMTP (RFC 7672, RFC 6698).  This header includes the whole public
 * API; see libmtasts(3).
 */
#ifndef MTASTS_MTASTS_H
#define MTASTS_MTASTS_H

#include <mtasts/visibility.h>
#include <mtasts/err.h>
#include <mtasts/diag.h>
#include <mtasts/dname.h>
#include <mtasts/sts.h>
#include <mtasts/rollout.h>
#include <mtasts/tlsrpt.h>
#include <mtasts/tlsrpt_report.h>
#include <mtasts/dane.h>
#include <mtasts/dns.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The library's version, "MAJOR.MINOR.PATCH". */
MTS_API const char *mts_version(void);

#ifdef __cplusplus
}
#endif

#endif /* MTASTS_MTASTS_H */
