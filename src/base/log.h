/* log.h — one-line logs to stderr with UTC time and level, as text or JSON (log_format), at
 * or above log_level. Never pass a secret here (a key, password, cookie, code or query). */
#ifndef APIKEYD_LOG_H
#define APIKEYD_LOG_H

#include <stddef.h>

enum log_level { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };
enum log_format { LOG_FORMAT_TEXT = 0, LOG_FORMAT_JSON };

/* Sets the format and the least severe level written (defaults: text, info). Call at
 * start-up, before other threads log. */
void log_configure(enum log_format format, enum log_level level);

/* The level and format names ("error" … "debug"; "text", "json"): their value, or -1. */
int log_level_parse(const char *name);
int log_format_parse(const char *name);

/* 1 when a line of this level would be written (to skip building one that would not). */
int log_enabled(enum log_level level);

/* printf-style; text: "2026-11-22T22:14:49Z LEVEL message\n"; JSON:
 * {"time":"…","level":"info","msg":"…"}; written to stderr in one write(2). */
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Names the request this thread is answering now (NULL: none): every line logged meanwhile
 * carries it as request_id. id must stay valid until the next call. */
void log_set_request(const char *id);

/* One named value of a structured line: text, or a number when text is NULL. */
struct log_field {
    const char *name;
    const char *text;
    long long number;
};

/* A structured line: msg (a fixed word or phrase, e.g. "request" or "login failed") and the
 * fields. Text: "TIME LEVEL msg name=value …" (values with spaces or quotes are quoted);
 * JSON: the fields as members beside time, level and msg. Control characters are escaped. */
void log_event(enum log_level level, const char *msg, const struct log_field *fields,
               size_t count);

#endif
