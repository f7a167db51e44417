/* conn.c — reading, parsing and answering requests on one connection. http-parser (Debian's
 * libhttp-parser) finds the request line, headers and body in the bytes read; this file keeps
 * them as spans of one input buffer, checks the limits (head, URI, headers, body) as they
 * arrive, and hands each complete request to the handler. Requests on a keep-alive connection
 * are answered in order; pipelined ones wait in the buffer. What a request sent (keys,
 * passwords, cookies) is wiped once it is answered. On a TLS connection the bytes go through
 * its SSL (tls.c) instead of recv and sendmsg; the handshake happens in the first read. */
#include "conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../base/percent.h"
#include "loop.h"
#include "tls.h"
#include "wire.h"

#define IN_CAP_FIRST 4096
#define IN_CAP_MAX (2 * CONN_HEAD_MAX)
_Static_assert(IN_CAP_MAX <= UINT16_MAX, "header spans are 16-bit offsets into the buffer");
#define BODY_CAP_FIRST 512
#define LINGER_DISCARD_MAX (256 * 1024) /* read and dropped after a final answer, at most */

enum { CB_NONE, CB_FIELD, CB_VALUE };

static struct conn *conn_of(http_parser *p)
{
    return p->data;
}

/* Starts or extends span s with the bytes at..at+len of the input buffer; -1 when they do
 * not follow the span's last byte (an obsolete folded header line). */
static int span_add(struct conn *c, struct conn_span *s, int start, const char *at, size_t len)
{
    size_t off = (size_t)(at - c->in);
    if (start) {
        s->off = (uint16_t)off;
        s->len = (uint16_t)len;
        return 0;
    }
    if ((size_t)s->off + s->len != off)
        return -1;
    s->len = (uint16_t)(s->len + len);
    return 0;
}

static int on_message_begin(http_parser *p)
{
    struct conn *c = conn_of(p);
    c->url.off = c->url.len = 0;
    c->header_count = 0;
    c->last_callback = CB_NONE;
    c->headers_complete = c->message_complete = 0;
    c->expect_continue = c->sent_continue = 0;
    c->early = ERR_OK;
    c->body_len = 0;
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
    struct conn *c = conn_of(p);
    if (span_add(c, &c->url, c->url.len == 0, at, len) != 0)
        return -1;
    if (c->url.len > HTTP_URI_MAX) {
        c->early = ERR_URI_TOO_LONG;
        return -1;
    }
    return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
    struct conn *c = conn_of(p);
    if (c->last_callback != CB_FIELD) {
        if (c->header_count == CONN_HEADER_COUNT_MAX) {
            c->early = ERR_HEADERS_TOO_LARGE;
            return -1;
        }
        struct conn_header *h = &c->headers[c->header_count++];
        memset(h, 0, sizeof *h);
        c->last_callback = CB_FIELD;
        return span_add(c, &h->name, 1, at, len);
    }
    return span_add(c, &c->headers[c->header_count - 1].name, 0, at, len);
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
    struct conn *c = conn_of(p);
    struct conn_header *h = &c->headers[c->header_count - 1];
    int start = c->last_callback != CB_VALUE;
    c->last_callback = CB_VALUE;
    if (span_add(c, &h->value, start, at, len) != 0) {
        c->early = ERR_BAD_REQUEST;
        return -1;
    }
    return 0;
}

/* NUL-terminates the URL and every header name and value in place (the bytes after them, a
 * space, colon or line end, are parsed already) and notes where the head ends. */
static void terminate_head(struct conn *c)
{
    size_t end = c->url.off + c->url.len;
    c->in[end] = '\0';
    for (unsigned i = 0; i < c->header_count; i++) {
        struct conn_header *h = &c->headers[i];
        c->in[h->name.off + h->name.len] = '\0';
        if (h->value.len == 0) /* an empty value: the name's terminator reads as "" */
            h->value.off = h->name.off + h->name.len;
        while (h->value.len > 0 && (c->in[h->value.off + h->value.len - 1] == ' ' ||
                                    c->in[h->value.off + h->value.len - 1] == '\t'))
            h->value.len--;
        c->in[h->value.off + h->value.len] = '\0';
        size_t value_end = (size_t)h->value.off + h->value.len;
        if (value_end > end)
            end = value_end;
    }
    c->head_end = end + 1;
}

/* 1 for a token character (RFC 9110 section 5.6.2), which header names are made of. */
static int is_tchar(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

/* One pass over the terminated headers: their size (431 over HTTP_HEADERS_MAX), what
 * http-parser lets through but RFC 9112 refuses (a version other than "HTTP/", header names
 * that are no tokens such as whitespace before the colon, obs-fold continuation lines,
 * HTTP/1.1 without Host: 400; versions other than 1.0 and 1.1: 505), a
 * Content-Length over HTTP_BODY_MAX (413); and it notes Expect: 100-continue. */
static enum err check_head(struct conn *c)
{
    const http_parser *p = &c->parser;
    int http11 = p->http_major == 1 && p->http_minor >= 1;
    size_t total = 0;
    int host = 0, bad_name = 0, folded = 0;
    for (unsigned i = 0; i < c->header_count; i++) {
        const struct conn_header *h = &c->headers[i];
        const char *name = c->in + h->name.off;
        total += h->name.len + h->value.len + 4;
        /* a line end between the colon and the value: an obs-fold continuation line
         * ("Transfer-Encoding:\r\n chunked"), which proxies may read differently */
        size_t gap_from = (size_t)h->name.off + h->name.len + 1;
        if (h->value.len && h->value.off > gap_from &&
            memchr(c->in + gap_from, '\n', h->value.off - gap_from))
            folded = 1;
        for (unsigned k = 0; k < h->name.len; k++)
            bad_name |= !is_tchar((unsigned char)name[k]);
        if (h->name.len == 4 && strcasecmp(name, "Host") == 0)
            host = 1;
        else if (h->name.len == 6 && strcasecmp(name, "Expect") == 0)
            c->expect_continue = http11 && strcasecmp(c->in + h->value.off, "100-continue") == 0;
    }
    if (total > HTTP_HEADERS_MAX)
        return ERR_HEADERS_TOO_LARGE;
    const char *version = c->in + c->url.off + c->url.len + 1;
    if (bad_name || folded || memcmp(version, "HTTP/", 5) != 0 || (!host && http11))
        return ERR_BAD_REQUEST;
    if (p->http_major != 1 || p->http_minor > 1)
        return ERR_HTTP_VERSION;
    if (!(p->flags & F_CHUNKED) && p->content_length != ULLONG_MAX &&
        p->content_length > HTTP_BODY_MAX)
        return ERR_BODY_TOO_LARGE;
    return ERR_OK;
}

static int on_headers_complete(http_parser *p)
{
    struct conn *c = conn_of(p);
    terminate_head(c);
    c->headers_complete = 1;
    c->early = check_head(c);
    return c->early ? -1 : 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    struct conn *c = conn_of(p);
    if (c->body_len + len > HTTP_BODY_MAX) {
        c->early = ERR_BODY_TOO_LARGE;
        return -1;
    }
    if (c->body_len + len + 1 > c->body_cap) {
        size_t cap = c->body_cap ? c->body_cap : BODY_CAP_FIRST;
        while (cap < c->body_len + len + 1)
            cap *= 2;
        char *grown = malloc(cap);
        if (!grown) {
            c->early = ERR_NOMEM;
            return -1;
        }
        if (c->body) { /* copy, then wipe the old buffer: it may hold a password */
            memcpy(grown, c->body, c->body_len);
            sodium_memzero(c->body, c->body_cap);
            free(c->body);
        }
        c->body = grown;
        c->body_cap = cap;
    }
    memcpy(c->body + c->body_len, at, len);
    c->body_len += len;
    c->body[c->body_len] = '\0';
    return 0;
}

static int on_message_complete(http_parser *p)
{
    struct conn *c = conn_of(p);
    c->message_complete = 1;
    http_parser_pause(p, 1); /* one request at a time: the rest waits in the buffer */
    return 0;
}

static const http_parser_settings parser_settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

struct conn *conn_open(int fd, const struct sockaddr *sa, struct loop *loop)
{
    struct conn *c = calloc(1, sizeof *c);
    char *in = malloc(IN_CAP_FIRST);
    if (!c || !in) {
        free(c);
        free(in);
        close(fd);
        return NULL;
    }
    c->fd = fd;
    c->loop = loop;
    c->in = in;
    c->in_cap = IN_CAP_FIRST;
    snprintf(c->peer, sizeof c->peer, "unknown");
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &v4->sin_addr, c->peer, sizeof c->peer);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &v6->sin6_addr, c->peer, sizeof c->peer);
    }
    netaddr_parse(c->peer, &c->peer_addr);
    http_parser_init(&c->parser, HTTP_REQUEST);
    c->parser.data = c;
    return c;
}

/* Forgets the answered request: wipes what it sent and moves any pipelined bytes to the
 * front of the buffer. */
static void request_done(struct conn *c)
{
    if (c->body_len)
        sodium_memzero(c->body, c->body_len);
    c->body_len = 0;
    if (c->query_parsed)
        params_free(&c->query_params);
    if (c->cookies_parsed)
        params_free(&c->cookies);
    c->query_parsed = c->cookies_parsed = 0;
    c->query = NULL;
    size_t rest = c->in_len - c->in_parsed;
    sodium_memzero(c->in, c->in_parsed);
    if (rest)
        memmove(c->in, c->in + c->in_parsed, rest);
    c->in_len = rest;
    c->in_parsed = 0;
    c->request_began_ms = rest ? loop_now_ms(c) : 0;
    c->message_complete = 0;
    c->headers_complete = 0;
    c->head_end = 0;
}

void conn_close(struct conn *c)
{
    if (c->ssl)
        tls_free(c->ssl);
    close(c->fd);
    sodium_memzero(c->in, c->in_cap);
    free(c->in);
    if (c->body) {
        sodium_memzero(c->body, c->body_cap);
        free(c->body);
    }
    params_free(&c->query_params);
    params_free(&c->cookies);
    free(c->out_head);
    if (c->out_body && c->out_body_wipe)
        sodium_memzero(c->out_body, c->out_body_len);
    free(c->out_body);
    free(c);
}

int conn_is_tls(const struct conn *c)
{
    return c->ssl != NULL;
}

const char *conn_method(const struct conn *c)
{
    return http_method_str((enum http_method)c->parser.method);
}

const char *conn_header(const struct conn *c, const char *name)
{
    for (unsigned i = 0; i < c->header_count; i++)
        if (strcasecmp(c->in + c->headers[i].name.off, name) == 0)
            return c->in + c->headers[i].value.off;
    return NULL;
}

static void parse_query(struct conn *c)
{
    if (c->query && !c->query_parsed) {
        params_parse(&c->query_params, c->query, '&', 1);
        c->query_parsed = 1;
    }
}

const char *conn_query(struct conn *c, const char *name)
{
    if (!c->query)
        return NULL;
    parse_query(c);
    return params_find(&c->query_params, name);
}

int conn_query_overflow(struct conn *c)
{
    parse_query(c);
    return c->query_parsed && c->query_params.overflow;
}

int conn_query_malformed(struct conn *c)
{
    parse_query(c);
    return c->query_parsed && c->query_params.malformed;
}

static void parse_cookies(struct conn *c)
{
    if (!c->cookies_parsed) {
        const char *header = conn_header(c, "Cookie");
        if (header)
            params_parse(&c->cookies, header, ';', 0);
        c->cookies_parsed = 1;
    }
}

const char *conn_cookie(struct conn *c, const char *name)
{
    parse_cookies(c);
    return params_find(&c->cookies, name);
}

int conn_cookie_values(struct conn *c, const char *name, const char **out)
{
    parse_cookies(c);
    if (c->cookies.overflow)
        return -1;
    int n = 0;
    for (unsigned i = 0; i < c->cookies.count; i++)
        if (strcmp(c->cookies.names[i], name) == 0)
            out[n++] = c->cookies.values[i];
    return n;
}

/* Sets c->path (percent-decoded in place: decoding only shortens) and c->query from the
 * request target; ERR_BAD_REQUEST for a target that is no path. */
static enum err split_target(struct conn *c)
{
    char *target = c->in + c->url.off;
    size_t len = c->url.len;
    if (target[0] != '/') { /* absolute-form: skip scheme and authority */
        char *scheme_end = strstr(target, "://");
        if (!scheme_end)
            return ERR_BAD_REQUEST;
        char *slash = strchr(scheme_end + 3, '/');
        if (!slash)
            return ERR_BAD_REQUEST;
        len -= (size_t)(slash - target);
        target = slash;
    }
    char *q = memchr(target, '?', len);
    size_t path_len = q ? (size_t)(q - target) : len;
    c->query = q ? q + 1 : NULL;
    if (path_len > HTTP_URI_MAX)
        return ERR_URI_TOO_LONG;
    if (percent_decode(target, target, path_len, 0) != 0)
        return ERR_BAD_REQUEST;
    c->path = target;
    return ERR_OK;
}

void conn_lend(struct conn *c)
{
    c->lent = 1;
}

/* Writes from iov as sendmsg does (through the SSL on a TLS connection): the bytes taken, or
 * -1 with errno (EAGAIN when the socket is full or TLS waits for the peer). After EAGAIN the
 * same bytes must come first again (TLS finishes the record it began). */
static ssize_t send_iov(struct conn *c, struct iovec *iov, int n)
{
    if (!c->ssl) {
        struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)n};
        return sendmsg(c->fd, &msg, MSG_NOSIGNAL);
    }
    long w = tls_writev(c->ssl, iov, n);
    if (w > 0)
        return w;
    errno = w == TLS_WANT ? EAGAIN : EPIPE;
    return -1;
}

/* Writes what is pending (head, then body); 1 when all is out, 0 when the socket is full,
 * -1 on a broken connection. */
static int flush_output(struct conn *c)
{
    while (c->out_head_sent < c->out_head_len || c->out_body_sent < c->out_body_len) {
        struct iovec iov[2];
        int n = 0;
        if (c->out_head_sent < c->out_head_len)
            iov[n++] = (struct iovec){c->out_head + c->out_head_sent,
                                      c->out_head_len - c->out_head_sent};
        if (c->out_body_sent < c->out_body_len)
            iov[n++] = (struct iovec){c->out_body + c->out_body_sent,
                                      c->out_body_len - c->out_body_sent};
        ssize_t w = send_iov(c, iov, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
        }
        loop_touch(c); /* a slow reader that reads is not idle */
        size_t left = (size_t)w;
        size_t head_left = c->out_head_len - c->out_head_sent;
        size_t from_head = left < head_left ? left : head_left;
        c->out_head_sent += from_head;
        c->out_body_sent += left - from_head;
    }
    free(c->out_head);
    c->out_head = NULL;
    c->out_head_len = c->out_head_sent = 0;
    if (c->out_body && c->out_body_wipe)
        sodium_memzero(c->out_body, c->out_body_len);
    free(c->out_body);
    c->out_body = NULL;
    c->out_body_len = c->out_body_sent = 0;
    return 1;
}

static int output_pending(const struct conn *c)
{
    return c->out_head_len > c->out_head_sent || c->out_body_len > c->out_body_sent;
}

void conn_reply(struct conn *c, struct reply *rep)
{
    char head[WIRE_HEAD_MAX];
    int head_only = c->parser.method == HTTP_HEAD || !wire_status_has_body(rep->status);
    size_t body_len = head_only ? 0 : rep->body_len;
    size_t head_len = wire_head(head, sizeof head, rep, rep->body_len, c->close_after,
                                c->parser.http_major == 1 && c->parser.http_minor == 0,
                                c->ssl != NULL);
    struct iovec iov[2] = {{head, head_len}, {rep->body, body_len}};
    ssize_t w = send_iov(c, iov, body_len ? 2 : 1);
    size_t sent = w > 0 ? (size_t)w : 0;
    if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        c->dead = 1; /* the peer is gone: conn_on_event closes */
        reply_release(rep);
        return;
    }
    if (sent < head_len + body_len) { /* keep the rest for when the socket is writable */
        c->out_head_len = head_len - (sent < head_len ? sent : head_len);
        c->out_head = c->out_head_len ? malloc(c->out_head_len) : NULL;
        if (c->out_head_len && !c->out_head) {
            c->dead = 1;
            reply_release(rep);
            return;
        }
        if (c->out_head_len)
            memcpy(c->out_head, head + sent, c->out_head_len);
        c->out_head_sent = 0;
        if (body_len) {
            size_t body_sent = sent > head_len ? sent - head_len : 0;
            c->out_body_wipe = rep->wipe;
            if (rep->body_borrowed) { /* the reply's own buffer goes with it: copy the rest */
                c->out_body = malloc(body_len - body_sent);
                if (!c->out_body) {
                    c->dead = 1;
                    reply_release(rep);
                    return;
                }
                memcpy(c->out_body, rep->body + body_sent, body_len - body_sent);
                c->out_body_len = body_len - body_sent;
                c->out_body_sent = 0;
            } else {
                c->out_body = rep->body; /* now ours */
                c->out_body_len = body_len;
                c->out_body_sent = body_sent;
                rep->body = NULL;
            }
        }
    }
    reply_release(rep);
}

/* Has the handler answer with the problem for e (c->early) and closes afterwards (the rest of
 * the request is unread). */
static void reply_early(struct conn *c, enum err e, conn_handler handler, void *ctx)
{
    c->early = e;
    c->close_after = 1;
    handler(ctx, c);
}

static void send_continue(struct conn *c)
{
    static const char line[] = "HTTP/1.1 100 Continue\r\n\r\n";
    struct iovec iov = {(void *)line, sizeof line - 1};
    c->sent_continue = 1;
    if (send_iov(c, &iov, 1) != (ssize_t)(sizeof line - 1))
        c->dead = 1; /* an emptied socket buffer takes 25 bytes; else the peer is gone */
}

/* Room to read into: drops body bytes already copied out, grows the buffer, or -1 when the
 * head alone is over the limit. */
static int make_room(struct conn *c)
{
    if (c->in_len < c->in_cap)
        return 0;
    if (c->headers_complete && c->in_parsed > c->head_end) {
        size_t rest = c->in_len - c->in_parsed;
        sodium_memzero(c->in + c->head_end, c->in_parsed - c->head_end);
        memmove(c->in + c->head_end, c->in + c->in_parsed, rest);
        c->in_len = c->head_end + rest;
        c->in_parsed = c->head_end;
        if (c->in_len < c->in_cap)
            return 0;
    }
    if (!c->headers_complete && c->in_len >= CONN_HEAD_MAX)
        return -1;
    if (c->in_cap >= IN_CAP_MAX)
        return -1;
    size_t cap = c->in_cap * 2;
    char *grown = malloc(cap);
    if (!grown)
        return -1;
    memcpy(grown, c->in, c->in_len);
    sodium_memzero(c->in, c->in_cap);
    free(c->in);
    c->in = grown;
    c->in_cap = cap;
    return 0;
}

/* Reads once through the connection's SSL: like read_more. The SSL may hold bytes the socket
 * no longer has, so only its "want more" means drained, never a short read. Plain HTTP sent to
 * the TLS port is answered 400 in plain HTTP, and the connection closed. */
static int read_tls(struct conn *c, size_t room)
{
    long n = tls_read(c->ssl, c->in + c->in_len, room);
    if (n > 0) {
        if (c->in_len == 0)
            c->request_began_ms = loop_now_ms(c);
        c->in_len += (size_t)n;
        loop_touch(c);
        return 1;
    }
    if (n == TLS_WANT) {
        c->drained = 1;
        if (!c->handshaken && tls_handshake_done(c->ssl)) {
            c->handshaken = 1;
            loop_touch(c); /* done within the idle timeout: now the request gets its own */
        }
        return 0;
    }
    if (n == TLS_PLAIN) {
        tls_free(c->ssl);
        c->ssl = NULL;
        c->early = ERR_BAD_REQUEST;
        c->early_detail = "this port speaks HTTPS: send the request over TLS (https://)";
        return 1; /* parse_step answers it, then the connection closes */
    }
    return -1;
}

/* Reads once. 1 with new bytes, 0 when there is nothing now, -1 when the peer is gone. */
static int read_more(struct conn *c)
{
    if (c->drained)
        return 0;
    if (make_room(c) != 0) {
        c->early = c->header_count == 0 ? ERR_URI_TOO_LONG : ERR_HEADERS_TOO_LARGE;
        return 1; /* parse_step answers it */
    }
    size_t room = c->in_cap - c->in_len;
    if (c->ssl)
        return read_tls(c, room);
    ssize_t n;
    do
        n = recv(c->fd, c->in + c->in_len, room, 0);
    while (n < 0 && errno == EINTR);
    if (n > 0) {
        if (c->in_len == 0)
            c->request_began_ms = loop_now_ms(c);
        c->in_len += (size_t)n;
        /* a short read emptied the socket: epoll tells when more comes, unless the peer's end
         * was already reported with this readiness (no further edge would come for it) */
        if ((size_t)n < room && !c->hung_up)
            c->drained = 1;
        loop_touch(c);
        return 1;
    }
    if (n == 0)
        return -1; /* the peer closed */
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
        c->drained = 1;
        return 0;
    }
    return -1;
}

/* Parses the unparsed bytes and answers a request they complete. Returns 1 when it answered
 * or lent a request, 0 when more bytes are needed, -1 to close. */
static int parse_step(struct conn *c, conn_handler handler, void *ctx)
{
    if (c->early) { /* a limit broken while reading */
        reply_early(c, c->early, handler, ctx);
        return 1;
    }
    if (c->in_parsed == c->in_len)
        return 0;
    size_t n = http_parser_execute(&c->parser, &parser_settings, c->in + c->in_parsed,
                                   c->in_len - c->in_parsed);
    c->in_parsed += n;
    enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
    if (e == HPE_PAUSED) {
        http_parser_pause(&c->parser, 0);
    } else if (e != HPE_OK) {
        reply_early(c, c->early ? c->early : ERR_BAD_REQUEST, handler, ctx);
        return 1;
    }
    if (!c->message_complete) {
        if (c->expect_continue && !c->sent_continue)
            send_continue(c);
        return 0;
    }
    c->close_after = !http_should_keep_alive(&c->parser) || c->parser.upgrade;
    enum err target = split_target(c);
    if (target != ERR_OK) {
        reply_early(c, target, handler, ctx);
        return 1;
    }
    handler(ctx, c);
    return 1;
}

int conn_on_event(struct conn *c, uint32_t events, conn_handler handler, void *ctx)
{
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        c->drained = 0;
    else if (c->ssl && (events & EPOLLOUT))
        c->drained = 0; /* a TLS read may have waited to write (a handshake message) */
    if (events & (EPOLLRDHUP | EPOLLHUP))
        c->hung_up = 1;
    if (c->lent) {
        if (events & (EPOLLHUP | EPOLLERR))
            c->dead = 1;
        return 0;
    }
    if (c->dead || (events & EPOLLERR))
        return -1;
    for (;;) {
        if (output_pending(c)) {
            int f = flush_output(c);
            if (f < 0)
                return -1;
            if (f == 0)
                return 0; /* EPOLLOUT brings us back */
        }
        if (c->lingering) { /* discard until the peer closes (or the idle sweep does) */
            char sink[4096];
            ssize_t n;
            while ((n = recv(c->fd, sink, sizeof sink, 0)) > 0)
                if ((c->discarded += (size_t)n) > LINGER_DISCARD_MAX)
                    return -1; /* the answer went out long ago: stop feeding a flood */
            return n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK) ? -1 : 0;
        }
        if (c->message_complete) { /* the last request is answered */
            if (c->close_after) {
                if (c->ssl)
                    tls_shutdown(c->ssl); /* close_notify, then the TCP end */
                shutdown(c->fd, SHUT_WR);
                c->lingering = 1;
                loop_touch(c);
                continue;
            }
            request_done(c);
        }
        int step = parse_step(c, handler, ctx);
        if (c->dead)
            return -1;
        if (step == 1) {
            if (c->lent)
                return 0;
            if (!c->message_complete) { /* an early answer: close once it is out */
                c->message_complete = 1;
                c->close_after = 1;
            }
            continue;
        }
        int r = read_more(c);
        if (r < 0)
            return -1;
        if (r == 0)
            return 0;
    }
}
