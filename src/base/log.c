/* log.c — formats a whole line first, then one write(2), so threads do not interleave.
 * Text or JSON lines (log_configure); in JSON every string is escaped, in text control
 * characters are, so a value can never start a line of its own. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "timeutil.h"

#define LINE_MAX_BYTES 2048

static enum log_format log_fmt = LOG_FORMAT_TEXT;
static enum log_level log_min = LOG_INFO;

static __thread const char *current_request;

void log_set_request(const char *id)
{
    current_request = id;
}

static const char *const level_names[] = {"error", "warn", "info", "debug"};
static const char *const level_upper[] = {"ERROR", "WARN", "INFO", "DEBUG"};

void log_configure(enum log_format format, enum log_level level)
{
    log_fmt = format;
    log_min = level;
}

int log_level_parse(const char *name)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(name, level_names[i]) == 0)
            return i;
    return -1;
}

int log_format_parse(const char *name)
{
    if (strcmp(name, "text") == 0)
        return LOG_FORMAT_TEXT;
    if (strcmp(name, "json") == 0)
        return LOG_FORMAT_JSON;
    return -1;
}

int log_enabled(enum log_level level)
{
    return level <= log_min;
}

/* A line being built; what does not fit is cut (the newline always fits). */
struct line {
    char text[LINE_MAX_BYTES];
    size_t len;
    int cut; /* something did not fit */
    enum log_level level;
};

static void add(struct line *l, const char *s, size_t n)
{
    size_t room = sizeof l->text - 1 - l->len; /* one byte kept for the newline */
    if (n > room) {
        n = room;
        l->cut = 1;
    }
    memcpy(l->text + l->len, s, n);
    l->len += n;
}

static void add_str(struct line *l, const char *s)
{
    add(l, s, strlen(s));
}

/* s escaped: JSON string rules (quote, backslash, control characters as \uXXXX); in text the
 * same, so a value holds no newline. A cut never splits an escape. */
static void add_escaped(struct line *l, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[8];
        size_t n;
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*p;
            n = 2;
        } else if (*p < 0x20 || *p == 0x7f) {
            n = (size_t)snprintf(esc, sizeof esc, "\\u%04x", *p);
        } else {
            esc[0] = (char)*p;
            n = 1;
        }
        if (l->len + n > sizeof l->text - 1) {
            l->cut = 1;
            return;
        }
        add(l, esc, n);
    }
}

static void begin(struct line *l, enum log_level level)
{
    char ts[TIME_RFC3339_LEN];
    time_format_rfc3339(time_now(), ts);
    l->len = 0;
    l->cut = 0;
    l->level = level;
    if (log_fmt == LOG_FORMAT_JSON) {
        add_str(l, "{\"time\":\"");
        add_str(l, ts);
        add_str(l, "\",\"level\":\"");
        add_str(l, level_names[level]);
        add_str(l, "\",\"msg\":\"");
    } else {
        add_str(l, ts);
        add_str(l, " ");
        add_str(l, level_upper[level]);
        add_str(l, " ");
    }
}

static void add_field(struct line *l, const char *name, const char *text, long long number);

static void finish(struct line *l)
{
    if (current_request)
        add_field(l, "request_id", current_request, 0);
    if (log_fmt == LOG_FORMAT_JSON)
        add_str(l, "}");
    if (log_fmt == LOG_FORMAT_JSON && l->cut) { /* a cut object would not parse */
        begin(l, l->level);
        add_str(l, "log line too long; left out\"}");
    }
    l->text[l->len++] = '\n';
    ssize_t w = write(STDERR_FILENO, l->text, l->len);
    (void)w;
}

__attribute__((format(printf, 2, 0))) static void log_line(enum log_level level, const char *fmt,
                                                        va_list ap)
{
    if (!log_enabled(level))
        return;
    char msg[1024];
    int m = vsnprintf(msg, sizeof msg, fmt, ap);
    if (m < 0)
        return;
    struct line l;
    begin(&l, level);
    if (log_fmt == LOG_FORMAT_JSON) {
        add_escaped(&l, msg);
        add_str(&l, "\"");
    } else {
        add_escaped(&l, msg);
    }
    finish(&l);
}

void log_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_line(LOG_ERROR, fmt, ap);
    va_end(ap);
}

void log_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_line(LOG_WARN, fmt, ap);
    va_end(ap);
}

void log_info(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_line(LOG_INFO, fmt, ap);
    va_end(ap);
}

void log_debug(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_line(LOG_DEBUG, fmt, ap);
    va_end(ap);
}

/* 1 when a text value must be quoted: empty, or holding a space, quote, '=' or control. */
static int needs_quotes(const char *s)
{
    if (!*s)
        return 1;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' || *p == 0x7f)
            return 1;
    return 0;
}

/* Appends name and its value (text, or number when text is NULL) in the line's format. */
static void add_field(struct line *l, const char *name, const char *text, long long number)
{
    char num[24];
    if (!text)
        snprintf(num, sizeof num, "%lld", number);
    if (log_fmt == LOG_FORMAT_JSON) {
        add_str(l, ",\"");
        add_escaped(l, name);
        add_str(l, "\":");
        if (text) {
            add_str(l, "\"");
            add_escaped(l, text);
            add_str(l, "\"");
        } else {
            add_str(l, num);
        }
        return;
    }
    add_str(l, " ");
    add_str(l, name);
    add_str(l, "=");
    const char *v = text ? text : num;
    int quote = text && needs_quotes(v);
    if (quote)
        add_str(l, "\"");
    add_escaped(l, v);
    if (quote)
        add_str(l, "\"");
}

void log_event(enum log_level level, const char *msg, const struct log_field *fields,
               size_t count)
{
    if (!log_enabled(level))
        return;
    struct line l;
    begin(&l, level);
    add_escaped(&l, msg);
    if (log_fmt == LOG_FORMAT_JSON)
        add_str(&l, "\"");
    for (size_t i = 0; i < count; i++)
        add_field(&l, fields[i].name, fields[i].text, fields[i].number);
    finish(&l);
}
