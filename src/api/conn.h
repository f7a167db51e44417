/* conn.h — one client connection of the HTTP layer: the bytes read from it, the request being
 * parsed (by Debian's http-parser), and the reply being written. Only the connection's event
 * thread touches it, except while it is lent to a worker (conn_lend): then the worker reads the
 * request and the event thread leaves the connection alone until loop_give_back. */
#ifndef APIKEYD_CONN_H
#define APIKEYD_CONN_H

#include <http_parser.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "../base/netaddr.h"
#include "http.h"
#include "params.h"

#define CONN_HEAD_MAX (16 * 1024)  /* request line and headers, kept at most */
#define CONN_HEADER_COUNT_MAX 128  /* headers in one request */
#define CONN_PARAMS_MAX PARAMS_MAX /* query parameters, and cookies, read from one request */

struct conn;
struct loop;
struct ssl_st;

/* Called on the event thread for each complete request. It must either answer at once with
 * conn_reply, or lend the connection to another thread with conn_lend. Also called for a
 * request refused while it was read (conn->early set: answer that problem at once). */
typedef void (*conn_handler)(void *ctx, struct conn *c);

struct conn_span {
    uint16_t off, len; /* into the input buffer, which never exceeds 32 KiB */
};

struct conn_header {
    struct conn_span name, value;
};

struct conn {
    int fd;
    struct loop *loop;
    struct conn *idle_prev, *idle_next; /* the loop's list (not while lent) */
    int listed;                         /* in that list now */
    int64_t last_active_ms;
    int64_t request_began_ms; /* when the waiting request's first byte came; 0: none waits */
    char peer[64]; /* the peer's address as text */
    struct netaddr peer_addr; /* the same, parsed (all zero when unknown) */
    int peer_counted;         /* counted in the loops' per-client table */
    enum err refuse;          /* accepted past a limit: every request gets this problem */
    struct ssl_st *ssl;       /* served over TLS (tls.c); NULL: plain HTTP */
    int handshaken;           /* its handshake is done (till then no byte counts as activity) */

    char *in; /* bytes read; the current request starts at in[0] */
    size_t in_len, in_parsed, in_cap;
    int drained;     /* the last read emptied the socket: wait for the next readiness */
    int hung_up;     /* epoll reported the peer's end: read until recv says so, no shortcut */

    http_parser parser;
    struct conn_span url;
    struct conn_header headers[CONN_HEADER_COUNT_MAX];
    unsigned header_count;
    int last_callback; /* which header callback ran last, to join split names and values */
    size_t head_end;   /* bytes of in[] the request's line and headers use */
    int headers_complete, message_complete, expect_continue, sent_continue;
    enum err early; /* a limit broken while parsing: the answer */
    const char *early_detail; /* its problem's detail, or NULL */
    char *body;
    size_t body_len, body_cap;
    const char *path;            /* percent-decoded in place in the input buffer, no query */
    const char *query;           /* raw query text (NUL-terminated in in[]), or NULL */
    struct params query_params, cookies;
    int query_parsed, cookies_parsed;
    int close_after; /* close once the reply is out */
    int lingering;   /* output shut down; reading until the peer closes */
    size_t discarded; /* bytes thrown away while lingering */

    /* a reply not yet fully written */
    char *out_head;
    size_t out_head_len, out_head_sent;
    char *out_body;
    size_t out_body_len, out_body_sent;
    int out_body_wipe;

    int lent; /* a worker has the request */
    int dead; /* the peer went away while lent: close on return */
    void (*give_back_fn)(struct conn *c, void *arg);
    void *give_back_arg;
    struct conn *returned_next;
};

/* A connection for an accepted socket fd (non-blocking) from peer sa; NULL when out of memory
 * (fd is then closed). */
struct conn *conn_open(int fd, const struct sockaddr *sa, struct loop *loop);

/* Reads and answers whatever the socket has, for an epoll readiness (events) or a return from
 * a worker (events 0). Returns -1 when the connection is finished and must be closed. */
int conn_on_event(struct conn *c, uint32_t events, conn_handler handler, void *ctx);

/* Closes the socket and frees c (and its SSL), wiping what it read. */
void conn_close(struct conn *c);

/* 1 when c is served over TLS. */
int conn_is_tls(const struct conn *c);

/* The request's method ("GET"). */
const char *conn_method(const struct conn *c);

/* Value of request header name (case-insensitive), or NULL. */
const char *conn_header(const struct conn *c, const char *name);

/* Value of query parameter name (percent-decoded), or NULL. */
const char *conn_query(struct conn *c, const char *name);

/* Value of the cookie called name, or NULL. */
const char *conn_cookie(struct conn *c, const char *name);

/* 1 when the query string holds more than CONN_PARAMS_MAX parameters. */
int conn_query_overflow(struct conn *c);

/* 1 when a pair of the query string could not be read (a malformed percent escape, an
 * encoded NUL): it is not among the parameters, so the request must be refused, not served
 * as if the parameter had not been sent (a dropped filter would widen the answer). */
int conn_query_malformed(struct conn *c);

/* The values of every cookie called name, in order, into out (at most CONN_PARAMS_MAX);
 * their count, or -1 when the Cookie header holds more cookies than CONN_PARAMS_MAX. */
int conn_cookie_values(struct conn *c, const char *name, const char **out);

/* Answers the current request with rep (released here): writes what the socket takes now and
 * keeps the rest for when it is writable. conn_on_event then goes on to the next request. */
void conn_reply(struct conn *c, struct reply *rep);

/* Marks c as lent to another thread: its event thread leaves it alone until the other thread
 * calls loop_give_back. */
void conn_lend(struct conn *c);

#endif
