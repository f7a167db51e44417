/* log.h — one-line logs to stderr with UTC time and level. Never pass a secret here. */
#ifndef APIKEYD_LOG_H
#define APIKEYD_LOG_H

/* printf-style; writes "2026-11-22T22:14:49Z LEVEL message\n" to stderr atomically. */
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
