/* SPDX-License-Identifier: ISC */
/*
 * Error reporting for libmtasts.
 *
 * Library functions return 0 on success and -1 on failure.  Callers that
 * want details pass a struct mts_err, which the function fills on failure
 * only: an error code, the 1-based line (and column) where a parser gave
 * up, a constant message, and the saved errno for I/O errors.  The
 * library never prints, logs or exits.
 */
#ifndef MTASTS_ERR_H
#define MTASTS_ERR_H

#include <mtasts/visibility.h>

#ifdef __cplusplus
extern "C" {
#endif

enum mts_errcode {
	MTS_OK = 0,
	MTS_ERR_NOMEM,    /* an allocation failed */
	MTS_ERR_SYNTAX,   /* input does not match the grammar */
	MTS_ERR_INVALID,  /* well-formed, but violates a semantic rule */
	MTS_ERR_TOOBIG,   /* input or output over its size cap */
	MTS_ERR_NOTFOUND, /* no applicable record among the candidates */
	MTS_ERR_MULTIPLE, /* more than one applicable record (RFC 8461 §3.1) */
	MTS_ERR_UNUSABLE, /* a TLSA record this client cannot use */
	MTS_ERR_ARG,      /* a caller error: bad argument */
	MTS_ERR_IO,       /* an I/O adapter failed; see sys_errno */
	MTS_ERR__COUNT
};

struct mts_err {
	enum mts_errcode code;
	unsigned line;   /* 1-based line of the input, 0 if none */
	unsigned column; /* 1-based column, 0 if none */
	const char *msg; /* constant string, never NULL after a failure */
	int sys_errno;   /* errno of a failed system call, else 0 */
};

/*
 * Returns a constant, human-readable name for an error code; never NULL.
 */
MTS_API const char *mts_strerror(enum mts_errcode code);

#ifdef __cplusplus
}
#endif

#endif /* MTASTS_ERR_H */
