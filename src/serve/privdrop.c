/* SPDX-License-Identifier: ISC */
/*
 * Dropping root: the server process gives up every privilege once its
 * listeners are open, in the order OpenSMTPD uses (setgroups, setresgid,
 * setresuid), and checks that root cannot be regained.
 */
#define _GNU_SOURCE /* setresuid(2), setresgid(2) */
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include "serve.h"

void
privdrop(const char *user)
{
	struct passwd *pw;

	if (user == NULL)
		return;
	if (geteuid() != 0) {
		log_warnx("not started as root: running as uid %ld, not %s",
		          (long)geteuid(), user);
		return;
	}
	if ((pw = getpwnam(user)) == NULL)
		fatalx("unknown user %s", user);
	if (pw->pw_uid == 0)
		fatalx("user %s is root; name an unprivileged user", user);
	if (setgroups(1, &pw->pw_gid) != 0 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) != 0 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) != 0)
		fatal("cannot switch to user %s", user);
	if (setuid(0) != -1 || seteuid(0) != -1)
		fatalx("could regain root after switching to %s", user);
	log_debug("running as %s (uid %ld)", user, (long)pw->pw_uid);
}
