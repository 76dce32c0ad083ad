/* SPDX-License-Identifier: ISC */
/*
 * The state files of `mtasts check --state` (state.h).
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "state.h"

static void
state_error(struct state_dir *sd, const char *path, const char *what, int err)
{
	fprintf(stderr, "mtasts: check: state %s: %s: %s\n", path, what,
	        strerror(err));
	sd->errors++;
}

int
state_dir_check(const char *dir)
{
	struct stat st;
	int err = 0;

	if (stat(dir, &st) != 0)
		err = errno;
	else if (!S_ISDIR(st.st_mode))
		err = ENOTDIR;
	if (err == 0)
		return 0;
	fprintf(stderr, "mtasts: check: state %s: %s\n", dir, strerror(err));
	return -1;
}

/* DIR/<domain>.state in path; 0, or -1 when it does not fit. */
static int
state_path(const struct state_dir *sd, const char *domain, char *path,
           size_t size)
{
	int n = snprintf(path, size, "%s/%s.state", sd->dir, domain);

	return n < 0 || (size_t)n >= size ? -1 : 0;
}

void
state_load(const struct state_dir *sd, const char *domain, struct state_fact *s,
           int *err)
{
	char path[4096];
	FILE *fp;

	memset(s, 0, sizeof(*s));
	*err = 0;
	if (sd->dir == NULL)
		return;
	s->enabled = true;
	if (state_path(sd, domain, path, sizeof(path)) != 0)
		return; /* said by state_save() */
	if ((fp = fopen(path, "r")) == NULL) {
		if (errno != ENOENT) /* none yet is the first run */
			*err = errno;
		return;
	}
	s->have_old =
	    fscanf(fp, "id %63s sha256 %79s", s->old_id, s->old_digest) == 2;
	fclose(fp);
}

/* Writes "id ID sha256 HEX" to path through path.tmp. */
static void
state_write(struct state_dir *sd, const char *path, const char *id,
            const char *digest)
{
	char tmp[4200];
	FILE *fp;
	int n;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		state_error(sd, path, "cannot write", ENAMETOOLONG);
		return;
	}
	if ((fp = fopen(tmp, "w")) == NULL) {
		state_error(sd, tmp, "cannot write", errno);
		return;
	}
	n = fprintf(fp, "id %s sha256 %s\n", id, digest);
	if (n < 0 || fflush(fp) != 0 || ferror(fp)) {
		state_error(sd, tmp, "cannot write", errno);
		fclose(fp);
		unlink(tmp);
		return;
	}
	if (fclose(fp) != 0) {
		state_error(sd, tmp, "cannot write", errno);
		unlink(tmp);
		return;
	}
	if (rename(tmp, path) != 0) {
		state_error(sd, path, "cannot replace", errno);
		unlink(tmp);
	}
}

void
state_save(struct state_dir *sd, const char *domain, const char *id,
           const char *digest, int err)
{
	char path[4096];

	if (sd->dir == NULL)
		return;
	if (state_path(sd, domain, path, sizeof(path)) != 0) {
		state_error(sd, sd->dir, domain, ENAMETOOLONG);
		return;
	}
	if (err != 0)
		state_error(sd, path, "cannot read", err);
	state_write(sd, path, id, digest);
}
