/* SPDX-License-Identifier: ISC */
/*
 * The acme process of mtasts serve (issue 13): the ACME client (RFC 8555)
 * that gets and renews the certificates of the mta-sts hosts whose
 * domains use ACME (conf_domain_acme()).
 *
 * The parent starts it (proc.c, role "acme") when the configuration has
 * such a domain, with one descriptor: its control channel (ctl.h frames,
 * acme_msg.h).  It is the only process that holds the ACME account key;
 * it makes and keeps the certificate keys in the state directory (0600,
 * written atomically) and tells the parent ISSUED, and the parent loads
 * them into the next set like any other pair.  The server process never
 * sees the account key: it gets only the throwaway TLS-ALPN-01 challenge
 * pairs, over the socketpair the parent hands both of them (CHAN/MTSA).
 *
 * It keeps the state directory's owner (root by default: it must read
 * and write the account key) and the file system (the CA's DNS name,
 * acme-ca-file), and has no listener.  Renewal follows acme_sched.h: 2/3
 * of the lifetime or the CA's ARI window (RFC 9773), jitter, per-domain
 * back-off, pacing under acme-rate; one domain's failure never holds up
 * another's order.  A killed process leaves a state directory from which
 * the next one resumes (an order in progress is polled, not re-ordered).
 */
#ifndef MTS_SERVE_ACME_PROC_H
#define MTS_SERVE_ACME_PROC_H

/*
 * The acme process: reads CONF frames and CHAN hand-offs on ctl_fd, keeps
 * every named domain's certificate current until the parent closes its
 * end.  Returns the exit status.
 */
int acmeproc_main(int ctl_fd, const char *user);

#endif /* MTS_SERVE_ACME_PROC_H */
