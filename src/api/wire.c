/* wire.c — writes response heads with memcpy: the status line, a Date kept per thread and
 * renewed once a second, the headers every reply carries (Cache-Control: no-store, nosniff;
 * HSTS over TLS), the reply's own, and the framing (Content-Length, Connection). */
#include "wire.h"

#include <string.h>
#include <time.h>

static const char *reason_phrase(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

int wire_status_has_body(int status)
{
    return !(status < 200 || status == 204 || status == 304);
}

/* "Date: Sun, 29 Nov 2026 21:15:59 GMT\r\n", made again when the second changes. */
static size_t date_line(char *out)
{
    static __thread time_t made_at = -1;
    static __thread char line[64];
    static __thread size_t line_len;
    time_t now = time(NULL);
    if (now != made_at) {
        struct tm tm;
        gmtime_r(&now, &tm);
        line_len = strftime(line, sizeof line, "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
        made_at = now;
    }
    memcpy(out, line, line_len);
    return line_len;
}

struct head_writer {
    char *out;
    size_t len, cap;
};

static void put(struct head_writer *w, const char *text, size_t n)
{
    if (w->len + n > w->cap) /* cannot happen within WIRE_HEAD_MAX; cut rather than overrun */
        n = w->cap - w->len;
    memcpy(w->out + w->len, text, n);
    w->len += n;
}

#define PUT_LITERAL(w, s) put((w), (s), sizeof(s) - 1)

/* Appends n in decimal. */
static void put_number(struct head_writer *w, size_t n)
{
    char digits[24];
    size_t at = sizeof digits;
    do {
        digits[--at] = (char)('0' + n % 10);
        n /= 10;
    } while (n);
    put(w, digits + at, sizeof digits - at);
}

static void put_header(struct head_writer *w, const char *name, const char *value)
{
    put(w, name, strlen(name));
    PUT_LITERAL(w, ": ");
    put(w, value, strlen(value));
    PUT_LITERAL(w, "\r\n");
}

size_t wire_head(char *out, size_t cap, const struct reply *rep, size_t body_len, int close,
                 int keep_alive_1_0, int tls)
{
    struct head_writer w = {out, 0, cap};
    PUT_LITERAL(&w, "HTTP/1.1 ");
    put_number(&w, rep->status >= 100 && rep->status <= 999 ? (size_t)rep->status : 500);
    PUT_LITERAL(&w, " ");
    const char *reason = reason_phrase(rep->status);
    put(&w, reason, strlen(reason));
    PUT_LITERAL(&w, "\r\n");
    if (w.len + 64 <= w.cap)
        w.len += date_line(out + w.len);
    if (rep->content_type)
        put_header(&w, "Content-Type", rep->content_type);
    PUT_LITERAL(&w, "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n");
    if (tls) /* a year; only over TLS (RFC 6797: a browser ignores it over plain HTTP) */
        PUT_LITERAL(&w, "Strict-Transport-Security: max-age=31536000\r\n");
    for (size_t i = 0; i < rep->header_count; i++)
        put_header(&w, rep->headers[i].name, rep->headers[i].value);
    if (rep->request_id[0])
        put_header(&w, "X-Request-Id", rep->request_id);
    if (wire_status_has_body(rep->status)) {
        PUT_LITERAL(&w, "Content-Length: ");
        put_number(&w, body_len);
        PUT_LITERAL(&w, "\r\n");
    }
    if (close)
        PUT_LITERAL(&w, "Connection: close\r\n");
    else if (keep_alive_1_0)
        PUT_LITERAL(&w, "Connection: keep-alive\r\n");
    PUT_LITERAL(&w, "\r\n");
    return w.len;
}
