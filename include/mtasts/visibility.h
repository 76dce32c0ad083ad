/* SPDX-License-Identifier: ISC */
/*
 * Symbol visibility for libmtasts.  The library is built with hidden
 * visibility by default; only declarations marked MTS_API are exported
 * from the shared object.
 */
#ifndef MTASTS_VISIBILITY_H
#define MTASTS_VISIBILITY_H

#if defined(MTS_BUILDING_LIBRARY) && defined(__GNUC__)
#define MTS_API __attribute__((visibility("default")))
#else
#define MTS_API
#endif

#endif /* MTASTS_VISIBILITY_H */
