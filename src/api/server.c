/* server.c — libmicrohttpd glue. Each request gets a small state: the body is collected up to
 * HTTP_BODY_MAX; header and URI limits are checked on the first call; the response is queued
 * on a later call than the first (queueing on the first call breaks keep-alive). Routes that
 * may block run on the worker pool: the connection is suspended, a worker answers into a
 * deferred reply and resumes it, and the next call of the handler sends that reply. */
#include "server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "../base/log.h"
#include "http.h"
#include "router.h"
#include "workers.h"

struct server {
    struct MHD_Daemon *mhd;
    struct core *core;
    struct workers *workers;
};

/* A request answered on a worker thread while its connection is suspended. */
struct deferred {
    struct worker_job job; /* first: the job is the deferred */
    struct MHD_Connection *conn;
    struct request req;
    struct route_match match;
    struct reply rep;
    int done; /* rep is ready; set before the connection is resumed */
};

struct request_state {
    char *body;
    size_t body_len;
    enum err early;       /* a limit already broken: answer with it */
    struct deferred *def; /* while or after a worker answers */
};

const char *request_header(const struct request *req, const char *name)
{
    return MHD_lookup_connection_value((struct MHD_Connection *)req->conn, MHD_HEADER_KIND, name);
}

const char *request_query(const struct request *req, const char *name)
{
    return MHD_lookup_connection_value((struct MHD_Connection *)req->conn, MHD_GET_ARGUMENT_KIND,
                                       name);
}

const char *request_cookie(const struct request *req, const char *name)
{
    return MHD_lookup_connection_value((struct MHD_Connection *)req->conn, MHD_COOKIE_KIND, name);
}

static enum MHD_Result add_size(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *value)
{
    (void)kind;
    size_t *total = cls;
    *total += strlen(key) + (value ? strlen(value) : 0) + 4;
    return MHD_YES;
}

static enum err check_request_limits(struct MHD_Connection *conn, const char *url)
{
    size_t uri = strlen(url);
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, add_size, &uri);
    if (uri > HTTP_URI_MAX)
        return ERR_URI_TOO_LONG;
    size_t headers = 0;
    MHD_get_connection_values(conn, MHD_HEADER_KIND, add_size, &headers);
    if (headers > HTTP_HEADERS_MAX)
        return ERR_HEADERS_TOO_LARGE;
    return ERR_OK;
}

static void wipe_and_free(void *buf)
{
    /* only bodies marked wipe use this callback; their length is strlen (JSON text) */
    if (buf) {
        sodium_memzero(buf, strlen(buf));
        free(buf);
    }
}

static enum MHD_Result send_reply(struct MHD_Connection *conn, struct reply *rep)
{
    struct MHD_Response *resp;
    if (rep->body && rep->wipe) {
        resp = MHD_create_response_from_buffer_with_free_callback(rep->body_len, rep->body,
                                                                  wipe_and_free);
        rep->body = NULL; /* now owned by the response */
    } else if (rep->body) {
        resp = MHD_create_response_from_buffer(rep->body_len, rep->body, MHD_RESPMEM_MUST_FREE);
        rep->body = NULL;
    } else {
        resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    }
    if (!resp) {
        reply_release(rep);
        return MHD_NO;
    }
    if (rep->content_type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, rep->content_type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    for (size_t i = 0; i < rep->header_count; i++)
        MHD_add_response_header(resp, rep->headers[i].name, rep->headers[i].value);
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)rep->status, resp);
    MHD_destroy_response(resp);
    reply_release(rep);
    return ret;
}

/* The address requests are throttled by: the peer's, or, when the peer is a proxy on this
 * machine (loopback) that sent a well-formed X-Real-IP, that address. */
static void client_address(struct MHD_Connection *conn, char *out, size_t cap)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(out, cap, "unknown");
    if (!info || !info->client_addr)
        return;
    const struct sockaddr *sa = info->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)cap);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)cap);
    const char *real = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Real-IP");
    unsigned char probe[sizeof(struct in6_addr)];
    int loopback = strncmp(out, "127.", 4) == 0 || strcmp(out, "::1") == 0;
    if (loopback && real && strlen(real) < cap &&
        (inet_pton(AF_INET, real, probe) == 1 || inet_pton(AF_INET6, real, probe) == 1))
        snprintf(out, cap, "%s", real);
}

static void fill_request(struct request *req, struct server *srv, struct MHD_Connection *conn,
                         const char *method, const char *url, const struct request_state *st)
{
    req->conn = conn;
    req->method = method;
    req->path = url;
    req->body = st->body;
    req->body_len = st->body_len;
    req->core = srv->core;
    client_address(conn, req->client, sizeof req->client);
}

static void run_deferred(struct worker_job *job)
{
    struct deferred *d = (struct deferred *)job;
    router_run(&d->req, &d->match, &d->rep);
    d->done = 1;
    MHD_resume_connection(d->conn); /* the handler is called again and sends d->rep */
}

static void free_deferred(struct deferred *d)
{
    reply_release(&d->rep);
    sodium_memzero(&d->req, sizeof d->req); /* the caller's session hashes */
    free(d);
}

/* Hands the request to a worker and suspends the connection until the worker resumes it. */
static enum MHD_Result defer(struct server *srv, struct MHD_Connection *conn,
                             struct request_state *st, const struct request *req,
                             const struct route_match *m)
{
    struct deferred *d = malloc(sizeof *d);
    if (!d)
        return MHD_NO;
    memset(d, 0, offsetof(struct deferred, rep));
    d->job.run = run_deferred;
    d->conn = conn;
    d->req = *req;
    d->match = *m;
    reply_init(&d->rep);
    st->def = d;
    MHD_suspend_connection(conn);
    if (workers_submit(srv->workers, &d->job) != 0)
        run_deferred(&d->job); /* the pool is stopping: answer here */
    return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    struct server *srv = cls;
    struct request_state *st = *con_cls;
    if (!st) { /* first call: headers only; never queue a response here */
        st = calloc(1, sizeof *st);
        if (!st)
            return MHD_NO;
        st->early = check_request_limits(conn, url);
        *con_cls = st;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (!st->early && st->body_len + *upload_data_size > HTTP_BODY_MAX)
            st->early = ERR_BODY_TOO_LARGE;
        if (!st->early) {
            char *grown = realloc(st->body, st->body_len + *upload_data_size + 1);
            if (!grown)
                return MHD_NO;
            st->body = grown;
            memcpy(st->body + st->body_len, upload_data, *upload_data_size);
            st->body_len += *upload_data_size;
            st->body[st->body_len] = '\0';
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (st->def) /* resumed: the worker's answer is ready */
        return st->def->done ? send_reply(conn, &st->def->rep) : MHD_YES;
    struct reply rep;
    reply_init(&rep);
    if (st->early) {
        reply_problem(&rep, st->early, NULL, NULL);
        return send_reply(conn, &rep);
    }
    struct route_match m;
    router_match(method, url, &m);
    struct request req;
    memset(&req, 0, sizeof req);
    fill_request(&req, srv, conn, method, url, st);
    if (router_may_block(&m))
        return defer(srv, conn, st, &req, &m);
    router_run(&req, &m, &rep);
    sodium_memzero(&req, sizeof req);
    return send_reply(conn, &rep);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)conn, (void)toe;
    struct request_state *st = *con_cls;
    if (!st)
        return;
    if (st->body) { /* bodies may hold passwords: wipe */
        sodium_memzero(st->body, st->body_len);
        free(st->body);
    }
    if (st->def)
        free_deferred(st->def);
    free(st);
    *con_cls = NULL;
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

enum err server_start(struct core *core, const char *listen, unsigned threads, unsigned workers,
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
    srv->workers = workers_start(workers);
    if (!srv->workers) {
        log_error("server: cannot start %u worker threads", workers);
        free(srv);
        return ERR_NOMEM;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
                     MHD_ALLOW_SUSPEND_RESUME;
    if (is_v6)
        flags |= MHD_USE_IPv6;
    srv->mhd = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(32 * 1024), MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)60, MHD_OPTION_CONNECTION_LIMIT, (unsigned)4000, MHD_OPTION_END);
    if (!srv->mhd) {
        log_error("server: cannot listen on %s", listen);
        workers_stop(srv->workers);
        free(srv);
        return ERR_UNAVAILABLE;
    }
    *out = srv;
    return ERR_OK;
}

unsigned server_port(struct server *s)
{
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
    return info ? info->port : 0;
}

void server_stop(struct server *s)
{
    if (!s)
        return;
    /* answer and resume every deferred request first: libmicrohttpd must not be stopped with
     * suspended connections; requests arriving meanwhile are answered on the event thread */
    workers_stop(s->workers);
    MHD_stop_daemon(s->mhd);
    free(s);
}
