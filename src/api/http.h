/* http.h — the request and reply types that route handlers see, free of the wire.
 * server.c fills a struct request and turns a struct reply into an HTTP response. */
#ifndef APIKEYD_HTTP_H
#define APIKEYD_HTTP_H

#include <jansson.h>
#include <stddef.h>

#include "../base/err.h"
#include "../base/fielderr.h"
#include "../core/core.h"
#include "request_id.h"

#define HTTP_BODY_MAX (64 * 1024)
#define HTTP_URI_MAX 2048
#define HTTP_HEADERS_MAX (8 * 1024)
#define REPLY_HEADERS_MAX 8
#define HTTP_PATH_PARAMS 2

struct request {
    void *conn; /* the server's connection, for request_header */
    const char *method;
    const char *path;
    const char *body; /* NUL-terminated; NULL when none was sent */
    size_t body_len;
    char client[64]; /* client address as text (server.c: X-Real-IP etc. from trusted_proxies) */
    int client_trusted; /* that client is itself in trusted_proxies (a backend whose word on
                           its own clients counts: POST /v1/verify's client_ip) */
    int secure_cookies; /* set session cookies Secure and __Host- (cookie_secure, server.c) */
    struct core *core;
    struct caller caller; /* set by the router when the route needs authentication */
    const char *params[HTTP_PATH_PARAMS]; /* {id}-style path segments, NUL-terminated */
};

#define REPLY_HEADER_BYTES (64 * 66 + 1024) /* every scope name in X-Apikey-Scopes, and more */
#define REPLY_INLINE_BYTES 1024              /* bodies this small need no allocation */

struct reply_header {
    const char *name; /* both point into the reply's header text */
    const char *value;
};

struct reply {
    int status;
    char *body; /* malloc'd and owned by the reply, unless body_borrowed */
    size_t body_len;
    int body_borrowed; /* body is inline_body or static data: never freed */
    int wipe; /* body holds a secret: wipe before freeing */
    const char *content_type;
    size_t header_count;
    struct reply_header headers[REPLY_HEADERS_MAX];
    size_t header_used;                  /* bytes of header_text in use */
    char header_text[REPLY_HEADER_BYTES]; /* names and values, NUL-separated */
    char inline_body[REPLY_INLINE_BYTES]; /* a small body, written here (reply_set_small) */
    enum err problem; /* the problem document's error (reply_problem), else ERR_OK */
    char request_id[REQUEST_ID_MAX + 1]; /* sent as X-Request-Id and in problems' instance;
                                            kept by reply_release ("" = none) */
};

/* Makes r an empty reply without touching the header text (so it is cheap per request), with
 * no request id. */
void reply_init(struct reply *r);

/* Value of request header name (case-insensitive), or NULL. */
const char *request_header(const struct request *req, const char *name);
/* Value of query parameter name, or NULL. */
const char *request_query(const struct request *req, const char *name);
/* Value of the cookie called name, or NULL. */
const char *request_cookie(const struct request *req, const char *name);

/* 1 when the query string holds more parameters than apikeyd reads (32). */
int request_query_too_many(const struct request *req);
/* 1 when a query parameter could not be read (a malformed percent escape, an encoded NUL). */
int request_query_malformed(const struct request *req);

/* The portal session cookie: __Host-apikeyd_session when the request came over HTTPS (a
 * trusted proxy's X-Forwarded-Proto, or cookie_secure = always), else apikeyd_session. */
#define SESSION_COOKIE "apikeyd_session"
#define SESSION_COOKIE_HOST "__Host-apikeyd_session"
#define DEVICE_COOKIE "apikeyd_device"               /* a known browser (core/device.h) */
#define DEVICE_COOKIE_HOST "__Host-apikeyd_device"
#define SESSION_COOKIES_MAX 32 /* = CONN_PARAMS_MAX: the cookies one request is read for */

/* The values of every cookie called name, in order (at most SESSION_COOKIES_MAX into out);
 * their count, or -1 when the request sent more cookies than apikeyd reads. */
int request_cookie_values(const struct request *req, const char *name, const char **out);

/* Adds a response header (silently dropped past REPLY_HEADERS_MAX or if it would be cut). */
void reply_header(struct reply *r, const char *name, const char *value);

/* Sets a JSON body from obj (the reference is stolen) with the given status. */
enum err reply_json(struct reply *r, int status, json_t *obj);

/* A 201 that shows a secret once: obj (taken; flags as json_dumps) with "field": secret
 * spliced in first, so the secret never sits in a jansson string; the body is wiped once it
 * is sent; Location: location. */
enum err reply_created_secret(struct reply *r, json_t *obj, size_t dump_flags, const char *field,
                              const char *secret, const char *location);

/* Sets a body of len bytes copied into the reply itself (len <= REPLY_INLINE_BYTES) or, when
 * longer, into an allocation; ERR_NOMEM when that fails. */
enum err reply_set_body(struct reply *r, int status, const char *content_type, const char *text,
                        size_t len);

/* Sets text (malloc'd, len bytes) as the body, which the reply now owns and frees. */
void reply_take_body(struct reply *r, int status, const char *content_type, char *text,
                     size_t len);

/* Sets a body that lives as long as the program (a compiled-in file): not copied, not freed. */
void reply_set_static(struct reply *r, int status, const char *content_type, const void *data,
                      size_t len);

/* Sets an empty body with the given status (204 and the like). */
void reply_empty(struct reply *r, int status);

/* Sets an RFC 9457 problem document for e with a detail sentence and, for 422, the fields of
 * fe (which may be NULL); `instance` is urn:apikeyd:request:<id> when r has a request id. */
void reply_problem(struct reply *r, enum err e, const char *detail, const struct field_errors *fe);

/* Replaces whatever r holds with the problem for e (fe used on 422) and returns ERR_OK, so a
 * handler can end with `return reply_error(...)`. */
enum err reply_error(struct reply *r, enum err e, const char *detail,
                     const struct field_errors *fe);

/* Replaces whatever r holds with the 429 problem (detail) and a Retry-After of retry_after_s
 * seconds (at least 1); returns ERR_OK like reply_error. */
enum err reply_throttled(struct reply *r, int64_t retry_after_s, const char *detail);

/* Frees the body (wiping it first when r->wipe) and clears the reply but its request id. */
void reply_release(struct reply *r);

#endif
