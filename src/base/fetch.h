/* fetch.h — one HTTP request to another server through libcurl, bounded: http and https only,
 * no redirects followed, a connect and a total timeout, a cap on the answer's size. For the
 * OpenID Connect provider's discovery document, keys and token endpoint. */
#ifndef APIKEYD_FETCH_H
#define APIKEYD_FETCH_H

#include <stddef.h>
#include <sys/socket.h>

#include "err.h"

struct fetch_result {
    long status; /* the HTTP status */
    char *body;  /* malloc'd, NUL-terminated; free with fetch_result_free */
    size_t len;
};

/* Call once at start-up, before any thread makes requests. */
void fetch_global_init(void);

/* GETs url, or POSTs form (application/x-www-form-urlencoded) when form is not NULL, with an
 * "Authorization: <authorization>" header when that is not NULL. Accept: application/json.
 * ERR_OK with *out filled whatever the status; ERR_UNAVAILABLE when the server cannot be
 * reached, does not answer within timeout_ms, or answers more than max_bytes; ERR_NOMEM. */
enum err fetch_url(const char *url, const char *form, const char *authorization,
                   size_t max_bytes, long timeout_ms, struct fetch_result *out);

/* One POST whose answer body is not kept (webhook deliveries). */
struct fetch_post {
    const char *url;
    const char *pin;             /* a CURLOPT_RESOLVE entry "host:port:address", or NULL */
    const char *const *headers;  /* "Name: value" lines, NULL-terminated */
    const char *body;
    size_t len;
    long timeout_ms;
    /* Asked before every connection is opened: nonzero lets it go to that address. */
    int (*address_ok)(const struct sockaddr *sa, void *ctx);
    void *ctx;
};

/* POSTs p->body (no redirects followed, no proxy from the environment). ERR_OK with *status
 * set whatever the status; otherwise ERR_UNAVAILABLE with error (cap bytes) saying why
 * (refused address, connection failed, timed out), or ERR_NOMEM. At most 64 KiB of the
 * answer is read. */
enum err fetch_post(const struct fetch_post *p, long *status, char *error, size_t cap);

/* Percent-encodes in for a query or form value (all but A-Z a-z 0-9 - . _ ~) into out of cap
 * bytes. Returns 0, or -1 when it does not fit. */
int fetch_escape(const char *in, char *out, size_t cap);

/* Frees (and wipes) the body. */
void fetch_result_free(struct fetch_result *r);

#endif
