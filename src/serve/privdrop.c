/* SPDX-License-Identifier: ISC */
/*
 * The set-up of the serve processes.  Dropping root: the server process
 * gives up every privilege once its listeners are open, in the order
 * OpenSMTPD uses (setgroups, setresgid, setresuid), and checks that root
 * cannot be regained.  Descriptors: none inherited from whoever started
 * us stays open, and the open-file limit fits max-connections.
 */
#define _GNU_SOURCE /* setresuid(2), setresgid(2) */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include <linux/capability.h>

#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sandbox.h"
#include "serve.h"

#define DEFAULT_USER  "mtasts"
#define FALLBACK_USER "nobody"

/* Descriptors beside the connections: listeners, logs, control, loop. */
#define FD_RESERVE 64

/*
 * The user a process started as root runs as: the configured one, else
 * the dedicated user mtasts (quickstart and `make install`'s documented
 * step make it), else nobody.  Never root.
 */
static struct passwd *
pick_user(const char *user, const char **name)
{
	struct passwd *pw;

	if (user != NULL) {
		*name = user;
		if ((pw = getpwnam(user)) == NULL)
			fatalx("unknown user %s", user);
		return pw;
	}
	*name = DEFAULT_USER;
	if ((pw = getpwnam(DEFAULT_USER)) != NULL)
		return pw;
	*name = FALLBACK_USER;
	if ((pw = getpwnam(FALLBACK_USER)) == NULL)
		fatalx("neither %s nor %s is a user; name one with `user`",
		       DEFAULT_USER, FALLBACK_USER);
	return pw;
}

int
privdrop_ids(const char *user, uid_t *uid, gid_t *gid)
{
	struct passwd *pw;
	const char *name;

	if (geteuid() != 0)
		return -1;
	pw = pick_user(user, &name);
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

void
privdrop(const char *user, const char *role)
{
	privdrop_into(user, role, NULL);
}

/* Chroots as privdrop_into() says; 0 or -1 (logged). */
static int
enter_root(const char *root)
{
	if (root == NULL)
		return sandbox_chroot_empty();
	if (root[0] == '\0')
		return chdir("/") == 0 ? 0 : -1;
	return sandbox_chroot_dir(root);
}

void
privdrop_into(const char *user, const char *role, const char *root)
{
	struct passwd *pw;
	const char *name;

	if (geteuid() != 0) {
		if (user != NULL)
			log_warnx("not started as root: the %s process runs as "
			          "uid %ld, not %s",
			          role, (long)geteuid(), user);
		return;
	}
	pw = pick_user(user, &name);
	if (pw->pw_uid == 0)
		fatalx("user %s is root; name an unprivileged user", name);
	/* What the chroot hides must be read before: the time zone for
	   the access log's dates (getpwnam has read its files above). */
	tzset();
	if (enter_root(root) != 0)
		fatalx("the %s process cannot leave the file system", role);
	if (setgroups(1, &pw->pw_gid) != 0 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) != 0 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) != 0)
		fatal("cannot switch to user %s", name);
	if (setuid(0) != -1 || seteuid(0) != -1)
		fatalx("could regain root after switching to %s", name);
	log_info("%s process runs as %s (uid %ld)%s%s", role, name,
	         (long)pw->pw_uid,
	         sandbox_sanitized() || (root != NULL && root[0] == '\0') ? "" :
	             root == NULL ? ", in an empty chroot" :
	                            ", chrooted to ",
	         sandbox_sanitized() || root == NULL ? "" : root);
}

/* Closes the descriptors lo..hi; close_range(2) where the kernel has it. */
static void
close_span(int lo, int hi)
{
	struct dirent *de;
	DIR *dp;
	long fd, max;
	char *end;

	if (lo > hi)
		return;
#ifdef SYS_close_range
	if (syscall(SYS_close_range, (unsigned)lo, (unsigned)hi, 0) == 0)
		return;
#endif
	if ((dp = opendir("/proc/self/fd")) != NULL) {
		while ((de = readdir(dp)) != NULL) {
			fd = strtol(de->d_name, &end, 10);
			if (*end == '\0' && end != de->d_name && fd >= lo &&
			    fd <= hi && fd != dirfd(dp))
				close((int)fd);
		}
		closedir(dp);
		return;
	}
	max = sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > 65536)
		max = 65536;
	for (fd = lo; fd <= hi && fd < max; fd++)
		close((int)fd);
}

void
close_fds_except(const int *keep, size_t n)
{
	int sorted[CONF_LISTEN_MAX + 8], lo = STDERR_FILENO + 1, t;
	size_t i, j, m = 0;

	for (i = 0; i < n; i++)
		if (keep[i] > STDERR_FILENO &&
		    m < sizeof(sorted) / sizeof(*sorted))
			sorted[m++] = keep[i];
	for (i = 1; i < m; i++)
		for (j = i; j > 0 && sorted[j - 1] > sorted[j]; j--) {
			t = sorted[j];
			sorted[j] = sorted[j - 1];
			sorted[j - 1] = t;
		}
	for (i = 0; i < m; i++) {
		close_span(lo, sorted[i] - 1);
		lo = sorted[i] + 1;
	}
	close_span(lo, INT_MAX);
}

void
fd_limit_fit(unsigned max_connections, bool quiet)
{
	rlim_t want = (rlim_t)max_connections + FD_RESERVE;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
		log_warn("getrlimit RLIMIT_NOFILE");
		return;
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
		rl.rlim_cur =
		    rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ?
		    want :
		    rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0 && !quiet)
			log_warn("setrlimit RLIMIT_NOFILE %llu",
			         (unsigned long long)rl.rlim_cur);
		if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
			return;
	}
	if (quiet || rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= want)
		return;
	log_warnx("open-file limit %llu is %llu short of the %llu that "
	          "max-connections %u needs (%d beside the connections); "
	          "raise LimitNOFILE or ulimit -n, or lower max-connections",
	          (unsigned long long)rl.rlim_cur,
	          (unsigned long long)(want - rl.rlim_cur),
	          (unsigned long long)want, max_connections, FD_RESERVE);
}

/*
 * The parent's capabilities once the listeners are bound: it reads
 * files as root on SIGHUP (CAP_DAC_READ_SEARCH) and signals its
 * children, which run as another user (CAP_KILL).  Its children, exec'd
 * as root, still need to chroot and switch users: those three stay
 * permitted, not effective, since with PR_SET_NO_NEW_PRIVS an exec
 * gains no capability its parent does not hold.  Every other one leaves
 * the bounding set (where CAP_SETPCAP allows; a systemd unit has done it
 * already otherwise) and the permitted set.
 */
#define CAP_BIT(c)       (1u << (c))
#define PARENT_EFFECTIVE (CAP_BIT(CAP_DAC_READ_SEARCH) | CAP_BIT(CAP_KILL))
#define PARENT_PERMITTED                                                       \
	(PARENT_EFFECTIVE | CAP_BIT(CAP_SETUID) | CAP_BIT(CAP_SETGID) |        \
	 CAP_BIT(CAP_SYS_CHROOT))

void
parent_limit(void)
{
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	int cap;

	if (geteuid() != 0)
		return;
	for (cap = 0; cap < 64 && prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0;
	     cap++)
		if (cap >= 32 || (PARENT_PERMITTED & CAP_BIT(cap)) == 0)
			(void)prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
	memset(data, 0, sizeof(data));
	data[0].permitted = PARENT_PERMITTED;
	data[0].effective = PARENT_EFFECTIVE;
	if (syscall(SYS_capset, &hdr, data) != 0)
		fatal("cannot give up the parent's capabilities");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		fatal("PR_SET_NO_NEW_PRIVS");
	log_debug("parent: capabilities DAC_READ_SEARCH and KILL, no new "
	          "privileges");
}
