/* SPDX-License-Identifier: ISC */
/* The entry point of `mtasts serve`, called by the mtasts dispatcher. */
#ifndef MTS_SERVE_MAIN_H
#define MTS_SERVE_MAIN_H

int serve_main(int argc, char **argv);

#endif /* MTS_SERVE_MAIN_H */
