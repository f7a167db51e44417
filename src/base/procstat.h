/* procstat.h — this process's resource use from /proc (Linux), for the process_* metrics. */
#ifndef APIKEYD_PROCSTAT_H
#define APIKEYD_PROCSTAT_H

struct procstat {
    double cpu_seconds;        /* user + system */
    long open_fds, max_fds;    /* descriptors open now; the soft limit */
    long resident_bytes, virtual_bytes;
    long threads;
    double start_time_seconds; /* since the Unix epoch */
};

/* Fills ps; what cannot be read is left 0. */
void procstat_read(struct procstat *ps);

#endif
