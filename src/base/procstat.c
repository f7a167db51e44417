/* procstat.c — reads /proc/self/{stat,fd} and /proc/stat's boot time (see procstat.h). */
#include "procstat.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* Counts the entries of /proc/self/fd (less the one opendir itself holds). */
static long count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return 0;
    long n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n > 0 ? n - 1 : 0;
}

/* The boot time in seconds since the epoch (/proc/stat's btime), 0 when unknown. */
static long long boot_time(void)
{
    FILE *f = fopen("/proc/stat", "r");
    if (!f)
        return 0;
    char line[256];
    long long btime = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "btime %lld", &btime) == 1)
            break;
    fclose(f);
    return btime;
}

void procstat_read(struct procstat *ps)
{
    memset(ps, 0, sizeof *ps);
    long tick = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        ps->max_fds = rl.rlim_cur == RLIM_INFINITY ? -1 : (long)rl.rlim_cur;
    ps->open_fds = count_fds();
    FILE *f = fopen("/proc/self/stat", "r");
    if (!f)
        return;
    char buf[1024];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* the command name may hold spaces and parentheses */
    if (!p)
        return;
    /* fields from 3 on: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
     * utime(14) stime(15) cutime cstime priority nice num_threads(20) itrealvalue
     * starttime(22) vsize(23) rss(24) */
    unsigned long utime = 0, stime = 0, vsize = 0;
    long threads = 0, rss = 0;
    unsigned long long start = 0;
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d %*d %*d "
                      "%ld %*d %llu %lu %ld",
               &utime, &stime, &threads, &start, &vsize, &rss) != 6 || tick <= 0)
        return;
    ps->cpu_seconds = (double)(utime + stime) / (double)tick;
    ps->threads = threads;
    ps->virtual_bytes = (long)vsize;
    ps->resident_bytes = rss * page;
    ps->start_time_seconds = (double)boot_time() + (double)start / (double)tick;
}
