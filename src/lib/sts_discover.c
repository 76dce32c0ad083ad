/* SPDX-License-Identifier: ISC */
/* placeholder: being written */
typedef int mts_placeholder_sts_discover;
