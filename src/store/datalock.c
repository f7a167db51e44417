/* datalock.c — see datalock.h. flock locks belong to the open file description, so the lock
 * lasts while the descriptor stays open: it is never closed (the kernel drops the lock at
 * exit, also after a crash or SIGKILL, so a stale file never blocks a restart). */
#include "datalock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "../base/log.h"

enum err datalock_take(const char *dir)
{
    char path[1100];
    if ((size_t)snprintf(path, sizeof path, "%s/apikeyd.lock", dir) >= sizeof path)
        return ERR_STORE;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        log_error("cannot open %s: %s", path, strerror(errno));
        return ERR_STORE;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        char pid[32] = "";
        ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
        pid[n > 0 ? n : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        log_error("the data folder %s is in use by another apikeyd (pid %s); one daemon per "
                  "folder", dir, pid[0] ? pid : "unknown");
        close(fd);
        return ERR_CONFLICT;
    }
    char pid[32];
    int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)len, 0) != len)
        log_error("cannot write the PID into %s", path); /* the lock holds regardless */
    return ERR_OK; /* fd stays open: the lock lives as long as the process */
}
