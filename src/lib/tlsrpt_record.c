/* SPDX-License-Identifier: ISC */
/* placeholder: being written */
typedef int mts_placeholder_tlsrpt_record;
