/* SPDX-License-Identifier: ISC */
/*
 * The floor of bench/report.sh in C: every file of a directory read
 * whole and inflated (gzip, RFC 1952; RFC 8460 §5.2), nothing parsed,
 * nothing stored.  No ingester can be faster than this on the same
 * files, so `mtasts report ingest` is measured as a share of it.
 *
 *   build/bench/bench_inflate_floor DIR
 *
 * As little as can be: the names listed and sorted once (as the
 * ingesters read a directory, in name order), one zlib stream reset
 * per file rather than made anew, one read buffer and one output
 * buffer reused, grown only when a file needs it.  Prints the files
 * and the octets inflated; exits 1 when a file is not one whole gzip
 * stream.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Grows *buf to at least n octets. */
static int
reserve(unsigned char **buf, size_t *cap, size_t n)
{
	unsigned char *p;

	if (n <= *cap)
		return 0;
	if ((p = realloc(*buf, n)) == NULL)
		return -1;
	*buf = p;
	*cap = n;
	return 0;
}

/* Reads the whole file into *buf; its length, or -1. */
static ssize_t
slurp(int dfd, const char *name, unsigned char **buf, size_t *cap)
{
	struct stat st;
	ssize_t n, got = 0;
	int fd;

	if ((fd = openat(dfd, name, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    reserve(buf, cap, (size_t)st.st_size + 1) == -1) {
		close(fd);
		return -1;
	}
	while ((n = read(fd, *buf + got, *cap - (size_t)got)) > 0)
		got += n;
	close(fd);
	return n < 0 ? -1 : got;
}

/* Inflates in[0..len) whole; the octets inflated, or -1. */
static long
inflate_all(z_stream *zs, const unsigned char *in, size_t len,
            unsigned char **out, size_t *cap)
{
	int rc;

	if (inflateReset(zs) != Z_OK)
		return -1;
	zs->next_in = (unsigned char *)(size_t)in;
	zs->avail_in = (uInt)len;
	zs->next_out = *out;
	zs->avail_out = (uInt)*cap;
	while ((rc = inflate(zs, Z_FINISH)) == Z_BUF_ERROR &&
	       zs->avail_out == 0) {
		size_t done = *cap;

		if (reserve(out, cap, *cap * 2) == -1)
			return -1;
		zs->next_out = *out + done;
		zs->avail_out = (uInt)(*cap - done);
	}
	if (rc != Z_STREAM_END || zs->avail_in != 0)
		return -1;
	return (long)zs->total_out;
}

int
main(int argc, char **argv)
{
	unsigned char *in = NULL, *out = NULL;
	size_t in_cap = 0, out_cap = 0, count = 0, cap = 0, i;
	unsigned long long octets = 0;
	struct dirent *de;
	char **names = NULL, **p;
	z_stream zs;
	DIR *dir;
	ssize_t n;
	long m;

	if (argc != 2) {
		fprintf(stderr, "usage: bench_inflate_floor DIR\n");
		return 2;
	}
	if ((dir = opendir(argv[1])) == NULL) {
		perror(argv[1]);
		return 2;
	}
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (count == cap) {
			cap = cap == 0 ? 1024 : cap * 2;
			if ((p = realloc(names, cap * sizeof(*names))) == NULL)
				return 2;
			names = p;
		}
		if ((names[count++] = strdup(de->d_name)) == NULL)
			return 2;
	}
	qsort(names, count, sizeof(*names), by_name);
	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, 15 + 16) != Z_OK ||
	    reserve(&out, &out_cap, 64 * 1024) == -1)
		return 2;
	for (i = 0; i < count; i++) {
		if ((n = slurp(dirfd(dir), names[i], &in, &in_cap)) < 0 ||
		    (m = inflate_all(&zs, in, (size_t)n, &out, &out_cap)) < 0) {
			fprintf(stderr, "%s/%s: not read or not gzip\n",
			        argv[1], names[i]);
			return 1;
		}
		octets += (unsigned long long)m;
		free(names[i]);
	}
	printf("floor: %zu files, %llu octets inflated\n", count, octets);
	inflateEnd(&zs);
	closedir(dir);
	free(names);
	free(in);
	free(out);
	return 0;
}
