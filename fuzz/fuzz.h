/* SPDX-License-Identifier: ISC */
/*
 * What every libFuzzer target here shares: the prototype of the entry
 * point libFuzzer calls (-Wmissing-prototypes wants one), and CHECK(),
 * an invariant that aborts, which libFuzzer reports as a crash with the
 * input that broke it.
 */
#ifndef MTS_FUZZ_H
#define MTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			abort();                                               \
	} while (0)

#endif /* MTS_FUZZ_H */
