/* server.h — the HTTP server: listening, event threads that parse requests (loop.c, conn.c),
 * and handing each complete request to the router, on the event thread or a worker. */
#ifndef APIKEYD_SERVER_H
#define APIKEYD_SERVER_H

#include <sys/socket.h>

#include "../base/netaddr.h"
#include "../core/core.h"

struct server;
struct tls;

enum cookie_secure { COOKIE_SECURE_AUTO, COOKIE_SECURE_ALWAYS, COOKIE_SECURE_NEVER };

struct server_options {
    unsigned threads;              /* event threads: parsing, verification; 0: server_step */
    unsigned workers;              /* threads for requests that may block; 0: on the event one */
    unsigned max_connections;      /* connections past this are answered 503 and closed */
    unsigned max_connections_per_client; /* from one address (not trusted proxies): 429 past it */
    unsigned idle_timeout_seconds; /* a connection silent this long is closed */
    struct netaddr_list trusted_proxies; /* peers whose X-Real-IP / X-Forwarded-For count */
    enum cookie_secure cookie_secure;    /* auto: Secure when a trusted proxy saw HTTPS */
    struct tls *tls; /* serve TLS with it (api/tls.h; the caller's, kept past server_stop);
                        NULL: plain HTTP */
    const char *metrics_listen; /* GET /metrics on this address of its own; NULL or "": off */
    int access_log;             /* one log line per request */
    /* called once the port is bound and before any connection is served (may be NULL): what
     * it prints comes before the first answer, so a caller that waits for /healthz finds it */
    void (*before_serving)(struct server *s, void *ctx);
    void *before_serving_ctx;
};

/* Starts serving on listen ("127.0.0.1:8080", "[::1]:8080", ":8080") as opts says. Sets *out.
 * ERR_INVALID for a bad address, ERR_UNAVAILABLE when it cannot bind. */
enum err server_start(struct core *core, const char *listen, const struct server_options *opts,
                      struct server **out);

/* With threads = 0 (the HTTP fuzzer): serves in the calling thread for one wake-up, waiting
 * at most timeout_ms for something to do (loops_step). */
void server_step(struct server *s, int timeout_ms);

/* With threads = 0: serves fd (connected, non-blocking; one end of a socketpair) as a
 * connection accepted from peer sa (loops_adopt). */
void server_adopt(struct server *s, int fd, const struct sockaddr *sa);

/* The port actually bound (useful with port 0). */
unsigned server_port(struct server *s);

/* 1 when s serves TLS. */
int server_tls(const struct server *s);

/* SIGHUP: loads the TLS certificate and key again for new connections (open ones keep theirs);
 * a file that cannot be used leaves the old ones in place (logged). ERR_OK without TLS. */
enum err server_reload(struct server *s);
/* The metrics listener's port, 0 when metrics_listen is off. */
unsigned server_metrics_port(struct server *s);

/* Stops accepting, finishes in-flight requests, frees the server. */
void server_stop(struct server *s);

#endif
