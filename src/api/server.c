/* server.c — the HTTP server: the listening socket, the event threads (loop.c) that read and
 * parse requests (conn.c), and the choice for each request: the memory-only routes
 * (verification, static files) are answered on the event thread; routes that may block run
 * on the worker pool, and the worker hands the connection back with its reply. Given a TLS
 * context (tls.c) the connections speak TLS, its certificate reloaded by server_reload. */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../base/log.h"
#include "../base/metrics.h"
#include "../core/telemetry.h"
#include "conn.h"
#include "http.h"
#include "loop.h"
#include "observe.h"
#include "router.h"
#include "tls.h"
#include "workers.h"

#define LISTEN_BACKLOG 1024

struct server {
    int listen_fd;
    struct loops *loops;
    int metrics_fd;               /* metrics_listen's socket, or -1 */
    struct loops *metrics_loops;  /* its one event thread */
    struct core *core;
    struct workers *workers;
    struct netaddr_list trusted_proxies;
    enum cookie_secure cookie_secure;
    struct tls *tls; /* NULL: plain HTTP */
};

/* A request answered on a worker thread while its connection is lent out. */
struct deferred {
    struct worker_job job; /* first: the job is the deferred */
    struct conn *conn;
    struct request req;
    struct route_match match;
    struct reply rep;
    struct observed seen;
};

const char *request_header(const struct request *req, const char *name)
{
    return conn_header(req->conn, name);
}

const char *request_query(const struct request *req, const char *name)
{
    return conn_query(req->conn, name);
}

const char *request_cookie(const struct request *req, const char *name)
{
    return conn_cookie(req->conn, name);
}

_Static_assert(SESSION_COOKIES_MAX == CONN_PARAMS_MAX, "one limit for cookies");

int request_query_too_many(const struct request *req)
{
    return conn_query_overflow(req->conn);
}

int request_query_malformed(const struct request *req)
{
    return conn_query_malformed(req->conn);
}

int request_cookie_values(const struct request *req, const char *name, const char **out)
{
    return conn_cookie_values(req->conn, name, out);
}

/* Whether session cookies get Secure and __Host-: always over apikeyd's own TLS; otherwise
 * cookie_secure, and with `auto` whether a trusted proxy (trusted: the peer is one) says the
 * client used HTTPS. */
static int secure_cookies(const struct server *srv, struct conn *c, int trusted)
{
    if (conn_is_tls(c))
        return 1;
    if (srv->cookie_secure != COOKIE_SECURE_AUTO)
        return srv->cookie_secure == COOKIE_SECURE_ALWAYS;
    if (!trusted)
        return 0;
    const char *proto = conn_header(c, "X-Forwarded-Proto");
    return proto && strcasecmp(proto, "https") == 0;
}

/* Copies the address text at s (n bytes) into out when it is a well-formed address. */
static int take_address(const char *s, size_t n, char *out, size_t cap, struct netaddr *parsed)
{
    char text[NETADDR_TEXT_MAX];
    while (n && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n == 0 || n >= sizeof text || n >= cap)
        return 0;
    memcpy(text, s, n);
    text[n] = '\0';
    if (!netaddr_parse(text, parsed))
        return 0;
    memcpy(out, text, n + 1);
    return 1;
}

/* The client behind a trusted proxy by X-Forwarded-For: walking from the right (the entry the
 * proxy itself added), the first address that is not a trusted proxy. A malformed entry ends
 * the walk at the last address known good. 1 when out was set. */
static int forwarded_client(const struct netaddr_list *trusted, const char *xff, char *out,
                            size_t cap)
{
    size_t end = strlen(xff);
    int found = 0;
    while (end > 0) {
        size_t start = end;
        while (start > 0 && xff[start - 1] != ',')
            start--;
        struct netaddr a;
        if (!take_address(xff + start, end - start, out, cap, &a))
            return found;
        found = 1;
        if (!netaddr_list_contains(trusted, &a))
            return 1;
        end = start ? start - 1 : 0;
    }
    return found;
}

/* The address a request is throttled and audited by: the peer's, unless the peer is one of
 * `trusted_proxies`; then the well-formed X-Real-IP it set, or else the client named by its
 * X-Forwarded-For. Headers from any other peer are ignored, so a client cannot choose the
 * address it is counted under. trusted: the peer is one of trusted_proxies. */
static void client_address(const struct server *srv, struct conn *c, int trusted, char *out,
                           size_t cap)
{
    struct netaddr parsed;
    if (trusted) {
        const char *real = conn_header(c, "X-Real-IP");
        if (real && take_address(real, strlen(real), out, cap, &parsed))
            return;
        const char *xff = conn_header(c, "X-Forwarded-For");
        if (xff && forwarded_client(&srv->trusted_proxies, xff, out, cap))
            return;
    }
    size_t len = strnlen(c->peer, cap - 1);
    memcpy(out, c->peer, len);
    out[len] = '\0';
}

/* Whether the request's client (as client_address resolved it from a trusted peer) is itself
 * one of trusted_proxies: a backend whose reports of its own clients count (POST /v1/verify's
 * client_ip). The peer itself, asking without forwarding headers, needs no second parse. */
static int client_trusted(const struct server *srv, const struct conn *c, const char *client)
{
    struct netaddr a;
    if (strcmp(client, c->peer) == 0)
        return 1;
    return netaddr_parse(client, &a) && netaddr_list_contains(&srv->trusted_proxies, &a);
}

static void finish_deferred(struct conn *c, void *arg)
{
    struct deferred *d = arg;
    conn_reply(c, &d->rep);
    sodium_memzero(&d->req, sizeof d->req); /* the caller's session hashes */
    free(d);
}

/* Runs the route for req into rep with the request's id on this thread's log lines, and
 * records it (metrics, access log). */
static void run_observed(struct request *req, struct route_match *m, struct reply *rep,
                         struct observed *seen)
{
    log_set_request(rep->request_id);
    router_run(req, m, rep);
    seen->actor = req->caller.username[0] ? req->caller.username : NULL;
    observe_request(seen, rep);
    log_set_request(NULL);
}

static void run_deferred(struct worker_job *job)
{
    struct deferred *d = (struct deferred *)job;
    run_observed(&d->req, &d->match, &d->rep, &d->seen);
    loop_give_back(d->conn, finish_deferred, d); /* its event thread sends d->rep */
}

/* Answers a request refused before routing, and closes the connection: one accepted past a
 * connection limit (c->refuse), or one that broke a limit or HTTP's rules while it was read
 * (c->early; its method and path may be unknown). */
static void refuse_request(struct conn *c, const char *client)
{
    uint64_t t0 = metrics_now_ns();
    struct reply rep;
    reply_init(&rep);
    request_id_make(rep.request_id);
    log_set_request(rep.request_id);
    if (c->early) {
        reply_problem(&rep, c->early, c->early_detail, NULL);
    } else {
        reply_problem(&rep, c->refuse,
                      c->refuse == ERR_THROTTLED
                          ? "this client has max_connections_per_client connections open already"
                          : "apikeyd has max_connections connections open; retry shortly",
                      NULL);
        reply_header(&rep, "Retry-After", "1");
        if (c->refuse == ERR_THROTTLED)
            telemetry_throttled(THROTTLED_CONNECTIONS, client);
    }
    struct observed seen = {c->early ? "-" : conn_method(c), -1, client, NULL, t0};
    observe_request(&seen, &rep);
    log_set_request(NULL);
    c->close_after = 1;
    conn_reply(c, &rep);
}

/* Answers one complete request: here for the memory-only routes (verification), on a worker
 * for the ones that may block. HEAD is answered as GET without the body. */
static void on_request(void *ctx, struct conn *c)
{
    struct server *srv = ctx;
    uint64_t t0 = metrics_now_ns();
    if (c->refuse || c->early) {
        refuse_request(c, c->peer);
        return;
    }
    const char *method = conn_method(c);
    struct route_match m;
    router_match(strcmp(method, "HEAD") == 0 ? "GET" : method, c->path, &m);
    struct request req;
    memset(&req, 0, sizeof req);
    req.conn = c;
    req.method = method;
    req.path = c->path;
    req.body = c->body_len ? c->body : NULL;
    req.body_len = c->body_len;
    req.core = srv->core;
    int trusted = netaddr_list_contains(&srv->trusted_proxies, &c->peer_addr);
    client_address(srv, c, trusted, req.client, sizeof req.client);
    req.client_trusted = trusted && client_trusted(srv, c, req.client);
    req.secure_cookies = secure_cookies(srv, c, trusted);
    struct observed seen = {method, router_route_index(&m), NULL, NULL, t0};
    struct deferred *d = router_may_block(&m) ? malloc(sizeof *d) : NULL;
    if (d) {
        d->job.run = run_deferred;
        d->conn = c;
        d->req = req;
        d->match = m;
        reply_init(&d->rep);
        request_id_choose(conn_header(c, "X-Request-Id"), trusted, d->rep.request_id);
        d->seen = seen;
        d->seen.client = d->req.client;
        conn_lend(c);
        if (workers_submit(srv->workers, &d->job) != 0) { /* stopping, or no threads */
            run_observed(&d->req, &d->match, &d->rep, &d->seen);
            c->lent = 0;
            finish_deferred(c, d);
        }
        sodium_memzero(&req, sizeof req);
        return;
    }
    /* memory-only routes, and blocking ones when no memory is left to defer them */
    struct reply rep;
    reply_init(&rep);
    request_id_choose(conn_header(c, "X-Request-Id"), trusted, rep.request_id);
    seen.client = req.client;
    run_observed(&req, &m, &rep, &seen);
    sodium_memzero(&req, sizeof req);
    conn_reply(c, &rep);
}

/* The metrics listener's requests: GET (or HEAD) /metrics, the exposition; anything else a
 * problem. No route table, no authentication: metrics_listen is for the scraper's network. */
static void on_metrics_request(void *ctx, struct conn *c)
{
    (void)ctx;
    struct reply rep;
    reply_init(&rep);
    request_id_make(rep.request_id);
    const char *method = c->early || c->refuse ? NULL : conn_method(c);
    if (!method) {
        reply_problem(&rep, c->early ? c->early : c->refuse, c->early ? c->early_detail : NULL,
                      NULL);
        c->close_after = 1;
    } else if (strcmp(c->path, "/metrics") != 0) {
        reply_problem(&rep, ERR_NOT_FOUND, "this listener serves /metrics only", NULL);
    } else if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        reply_problem(&rep, ERR_METHOD, "this path does not accept that method", NULL);
        reply_header(&rep, "Allow", "GET, HEAD");
    } else {
        size_t len = 0;
        char *text = metrics_render(&len);
        if (text)
            reply_take_body(&rep, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
        else
            reply_problem(&rep, ERR_NOMEM, NULL, NULL);
    }
    conn_reply(c, &rep);
}

/* Parses "host:port", "[v6]:port" or ":port" into a socket address. */
static int parse_listen(const char *listen, struct sockaddr_storage *ss, int *is_v6)
{
    char host[128];
    const char *port;
    memset(ss, 0, sizeof *ss);
    if (listen[0] == '[') {
        const char *end = strchr(listen, ']');
        if (!end || end[1] != ':' || (size_t)(end - listen - 1) >= sizeof host)
            return -1;
        memcpy(host, listen + 1, (size_t)(end - listen - 1));
        host[end - listen - 1] = '\0';
        port = end + 2;
    } else {
        const char *colon = strrchr(listen, ':');
        if (!colon || (size_t)(colon - listen) >= sizeof host)
            return -1;
        memcpy(host, listen, (size_t)(colon - listen));
        host[colon - listen] = '\0';
        port = colon + 1;
    }
    char *end;
    long p = strtol(port, &end, 10);
    if (*port == '\0' || *end || p < 0 || p > 65535)
        return -1;
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    if (host[0] == '\0') {
        v4->sin_family = AF_INET;
        v4->sin_addr.s_addr = htonl(INADDR_ANY);
        v4->sin_port = htons((uint16_t)p);
        *is_v6 = 0;
    } else if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)p);
        *is_v6 = 0;
    } else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)p);
        *is_v6 = 1;
    } else if (strcmp(host, "localhost") == 0) {
        v4->sin_family = AF_INET;
        v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        v4->sin_port = htons((uint16_t)p);
        *is_v6 = 0;
    } else {
        return -1;
    }
    return 0;
}

/* A listening socket for ss: address reuse, IPv6 only for an IPv6 address, non-blocking. */
static int open_listener(const struct sockaddr_storage *ss, int is_v6)
{
    int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (is_v6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    socklen_t len = is_v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    if (bind(fd, (const struct sockaddr *)ss, len) != 0 || listen(fd, LISTEN_BACKLOG) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

#define METRICS_CONNECTIONS_MAX 16 /* scrapers at once on metrics_listen */

/* Opens metrics_listen and its event thread (the same connection code, its own limits). */
static enum err start_metrics(struct server *srv, const char *listen, unsigned idle_seconds)
{
    struct sockaddr_storage ss;
    int is_v6 = 0;
    if (parse_listen(listen, &ss, &is_v6) != 0) {
        log_error("server: cannot parse metrics_listen address '%s'", listen);
        return ERR_INVALID;
    }
    srv->metrics_fd = open_listener(&ss, is_v6);
    if (srv->metrics_fd < 0) {
        log_error("server: cannot listen on metrics_listen %s: %s", listen, strerror(errno));
        return ERR_UNAVAILABLE;
    }
    struct loops_limits limits;
    memset(&limits, 0, sizeof limits); /* no trusted proxies */
    limits.max_conns = limits.max_per_client = METRICS_CONNECTIONS_MAX;
    limits.idle_seconds = idle_seconds;
    srv->metrics_loops = loops_start(srv->metrics_fd, 1, on_metrics_request, srv, &limits);
    if (!srv->metrics_loops) {
        close(srv->metrics_fd);
        srv->metrics_fd = -1;
        return ERR_NOMEM;
    }
    log_info("metrics on http://%s/metrics", listen);
    return ERR_OK;
}

static void stop_metrics(struct server *srv)
{
    loops_stop(srv->metrics_loops);
    srv->metrics_loops = NULL;
    if (srv->metrics_fd >= 0)
        close(srv->metrics_fd);
    srv->metrics_fd = -1;
}

static unsigned port_of(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (fd < 0 || getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return 0;
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

enum err server_start(struct core *core, const char *listen, const struct server_options *opts,
                      struct server **out)
{
    struct sockaddr_storage ss;
    int is_v6 = 0;
    if (parse_listen(listen, &ss, &is_v6) != 0) {
        log_error("server: cannot parse listen address '%s'", listen);
        return ERR_INVALID;
    }
    struct server *srv = calloc(1, sizeof *srv);
    if (!srv)
        return ERR_NOMEM;
    srv->core = core;
    srv->metrics_fd = -1;
    observe_init(opts->access_log);
    srv->listen_fd = open_listener(&ss, is_v6);
    if (srv->listen_fd < 0) {
        log_error("server: cannot listen on %s: %s", listen, strerror(errno));
        free(srv);
        return ERR_UNAVAILABLE;
    }
    srv->trusted_proxies = opts->trusted_proxies;
    srv->cookie_secure = opts->cookie_secure;
    srv->tls = opts->tls;
    /* the metrics listener first: once the public port answers, metrics_listen does too */
    if (opts->metrics_listen && opts->metrics_listen[0]) {
        enum err e = start_metrics(srv, opts->metrics_listen, opts->idle_timeout_seconds);
        if (e) {
            close(srv->listen_fd);
            free(srv);
            return e;
        }
    }
    srv->workers = workers_start(opts->workers);
    if (!srv->workers) {
        log_error("server: cannot start %u worker threads", opts->workers);
        stop_metrics(srv);
        close(srv->listen_fd);
        free(srv);
        return ERR_NOMEM;
    }
    if (opts->before_serving)
        opts->before_serving(srv, opts->before_serving_ctx);
    struct loops_limits limits = {opts->max_connections, opts->max_connections_per_client,
                                  opts->trusted_proxies, opts->idle_timeout_seconds, srv->tls};
    srv->loops = loops_start(srv->listen_fd, opts->threads, on_request, srv, &limits);
    if (!srv->loops) {
        log_error("server: cannot start %u event threads", opts->threads);
        workers_stop(srv->workers);
        stop_metrics(srv);
        close(srv->listen_fd);
        free(srv);
        return ERR_NOMEM;
    }
    *out = srv;
    return ERR_OK;
}

void server_step(struct server *s, int timeout_ms)
{
    loops_step(s->loops, timeout_ms);
}

void server_adopt(struct server *s, int fd, const struct sockaddr *sa)
{
    loops_adopt(s->loops, fd, sa);
}

unsigned server_port(struct server *s)
{
    return port_of(s->listen_fd);
}

unsigned server_metrics_port(struct server *s)
{
    return port_of(s->metrics_fd);
}

int server_tls(const struct server *s)
{
    return s->tls != NULL;
}

enum err server_reload(struct server *s)
{
    return s->tls ? tls_reload(s->tls) : ERR_OK;
}

void server_stop(struct server *s)
{
    if (!s)
        return;
    /* workers first: each hands its connection back to an event thread, which answers it;
     * requests arriving meanwhile are answered on the event thread */
    workers_stop(s->workers);
    loops_stop(s->loops);
    close(s->listen_fd);
    stop_metrics(s);
    free(s);
}
