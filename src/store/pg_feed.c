/* pg_feed.c — the change feed of the PostgreSQL store: a thread with its own connection that
 * LISTENs on channel "apikeyd", hands each notification to the node, checks the connection
 * every heartbeat (SELECT 1 with a deadline, so a silent network is noticed; the node sets
 * the period, at most a second), and on loss
 * reconnects with doubling backoff (0.1 s to 5 s) and asks the node to resynchronise. */
#include <libpq-fe.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../base/log.h"
#include "../base/timeutil.h"
#include "pg_internal.h"

#define FEED_CHANNEL "apikeyd"
#define FEED_HEARTBEAT_MS 1000 /* when the node sets no period */
#define FEED_DEADLINE_MS 2000
#define FEED_BACKOFF_MIN_MS 100
#define FEED_BACKOFF_MAX_MS 5000

struct pg_feed {
    char *url;
    struct store_feed_handler handler;
    pthread_t thread;
    int started;
    atomic_int stop;
};

static struct pg_feed *feed_of(struct sql_store *st)
{
    return st->extra;
}

enum err pg_feed_init(struct sql_store *st, const char *url)
{
    struct pg_feed *f = calloc(1, sizeof *f);
    if (!f || !(f->url = strdup(url))) {
        free(f);
        return ERR_NOMEM;
    }
    st->extra = f;
    return ERR_OK;
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static PGconn *feed_connect(const char *url)
{
    const char *keys[] = {"dbname", "connect_timeout", NULL};
    const char *values[] = {url, "3", NULL};
    return PQconnectdbParams(keys, values, 1);
}

/* Waits up to ms for input on the connection. 1 ready, 0 timeout, -1 error. */
static int wait_input(PGconn *conn, int ms)
{
    struct pollfd p = {PQsocket(conn), POLLIN, 0};
    if (p.fd < 0)
        return -1;
    int rc = poll(&p, 1, ms);
    return rc < 0 ? -1 : rc > 0;
}

/* Hands every pending notification to the node. Returns -1 when the connection failed. */
static int deliver(struct pg_feed *f, PGconn *conn)
{
    if (!PQconsumeInput(conn))
        return -1;
    PGnotify *n;
    while ((n = PQnotifies(conn)) != NULL) {
        f->handler.event(f->handler.ctx, n->extra);
        PQfreemem(n);
    }
    return 0;
}

/* SELECT 1 within the deadline, delivering notifications that arrive meanwhile. */
static int heartbeat(struct pg_feed *f, PGconn *conn)
{
    if (!PQsendQuery(conn, "SELECT 1"))
        return -1;
    int64_t deadline = time_monotonic_ms() + FEED_DEADLINE_MS;
    for (;;) {
        while (!PQisBusy(conn)) {
            PGresult *res = PQgetResult(conn);
            if (!res)
                return deliver(f, conn);
            int ok = PQresultStatus(res) == PGRES_TUPLES_OK;
            PQclear(res);
            if (!ok)
                return -1;
        }
        int64_t left = deadline - time_monotonic_ms();
        if (left <= 0 || wait_input(conn, (int)left) <= 0 || !PQconsumeInput(conn))
            return -1;
    }
}

static void *feed_main(void *arg)
{
    struct pg_feed *f = arg;
    int64_t backoff = FEED_BACKOFF_MIN_MS;
    while (!atomic_load(&f->stop)) {
        PGconn *conn = feed_connect(f->url);
        PGresult *res = NULL;
        if (PQstatus(conn) != CONNECTION_OK ||
            PQresultStatus(res = PQexec(conn, "LISTEN " FEED_CHANNEL)) != PGRES_COMMAND_OK) {
            PQclear(res);
            PQfinish(conn);
            sleep_ms(backoff);
            backoff = backoff * 2 > FEED_BACKOFF_MAX_MS ? FEED_BACKOFF_MAX_MS : backoff * 2;
            continue;
        }
        PQclear(res);
        log_info("feed: listening for changes");
        if (f->handler.connected(f->handler.ctx) != 0) { /* reload what may have been missed */
            PQfinish(conn);
            sleep_ms(backoff);
            backoff = backoff * 2 > FEED_BACKOFF_MAX_MS ? FEED_BACKOFF_MAX_MS : backoff * 2;
            continue;
        }
        f->handler.alive(f->handler.ctx);
        backoff = FEED_BACKOFF_MIN_MS;
        int64_t beat = f->handler.heartbeat_ms > 0 ? f->handler.heartbeat_ms : FEED_HEARTBEAT_MS;
        int64_t next_beat = time_monotonic_ms() + beat;
        while (!atomic_load(&f->stop)) {
            int64_t left = next_beat - time_monotonic_ms();
            int ready = left > 0 ? wait_input(conn, left > 250 ? 250 : (int)left) : 0;
            if (ready < 0 || (ready > 0 && deliver(f, conn) != 0))
                break;
            if (time_monotonic_ms() >= next_beat) {
                if (heartbeat(f, conn) != 0)
                    break;
                f->handler.alive(f->handler.ctx);
                next_beat = time_monotonic_ms() + beat;
            }
        }
        if (!atomic_load(&f->stop))
            log_warn("feed: lost the connection to PostgreSQL; reconnecting");
        PQfinish(conn);
    }
    return NULL;
}

enum err pg_feed_watch(struct store *s, const struct store_feed_handler *h)
{
    struct pg_feed *f = feed_of(as_sql(s));
    if (!f || f->started)
        return ERR_INTERNAL;
    f->handler = *h;
    atomic_store(&f->stop, 0);
    if (pthread_create(&f->thread, NULL, feed_main, f) != 0)
        return ERR_INTERNAL;
    f->started = 1;
    return ERR_OK;
}

void pg_feed_unwatch(struct store *s)
{
    struct pg_feed *f = feed_of(as_sql(s));
    if (!f || !f->started)
        return;
    atomic_store(&f->stop, 1);
    pthread_join(f->thread, NULL);
    f->started = 0;
}

void pg_feed_stop(struct sql_store *st)
{
    struct pg_feed *f = feed_of(st);
    if (!f)
        return;
    pg_feed_unwatch(&st->base);
    free(f->url);
    free(f);
    st->extra = NULL;
}
