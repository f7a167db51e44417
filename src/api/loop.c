/* loop.c — event threads for the HTTP layer. Every thread has its own epoll set holding the
 * shared listening socket (EPOLLEXCLUSIVE: one thread wakes per new connection), an eventfd
 * that workers ring when they give a connection back, and the connections it accepted
 * (edge-triggered). Once a second a thread closes the connections idle past the timeout (a
 * TLS handshake, which moves no request byte, included), and those whose request has been
 * arriving for longer than it. */
#include "loop.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "../base/log.h"
#include "peercount.h"
#include "tls.h"

#define EVENTS_PER_WAIT 64
#define ACCEPTS_PER_WAKE 64
#define LINGER_MS 2000 /* how long a closing connection may keep sending */
#define REFUSING_MAX 64 /* connections past the limits kept just to answer 503/429 */

struct loop {
    pthread_t thread;
    int started;
    int epfd, wakefd;
    struct loops *all;
    pthread_mutex_t mu; /* guards the given-back list */
    struct conn *given_back, *given_back_tail;
    atomic_int stopping;
    struct conn *first; /* every connection not lent out */
    int64_t now_ms, swept_ms;
    int accept_paused;
};

struct loops {
    int listen_fd;
    conn_handler handler;
    void *ctx;
    unsigned max_conns;
    unsigned max_per_client;
    struct netaddr_list trusted; /* proxies: many clients behind one address, not counted */
    struct peercount *peers;
    int64_t idle_ms;
    struct tls *tls; /* NULL: plain HTTP */
    atomic_uint conns;
    unsigned n;
    int manual; /* started with no thread: one loop that loops_step runs in its caller's */
    struct loop loop[];
};

static char listen_marker, wake_marker;

static int64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void link_conn(struct loop *l, struct conn *c)
{
    if (c->listed)
        return;
    c->listed = 1;
    c->idle_prev = NULL;
    c->idle_next = l->first;
    if (l->first)
        l->first->idle_prev = c;
    l->first = c;
}

/* Takes c out of the list; a no-op when it is not in it (a lent connection gets events too). */
static void unlink_conn(struct loop *l, struct conn *c)
{
    if (!c->listed)
        return;
    c->listed = 0;
    if (c->idle_prev)
        c->idle_prev->idle_next = c->idle_next;
    else
        l->first = c->idle_next;
    if (c->idle_next)
        c->idle_next->idle_prev = c->idle_prev;
    c->idle_prev = c->idle_next = NULL;
}

/* Forgets c in the per-client count (when it was counted) and closes it. */
static void release_conn(struct loops *all, struct conn *c)
{
    if (c->peer_counted)
        peercount_release(all->peers, &c->peer_addr);
    conn_close(c);
    atomic_fetch_sub(&all->conns, 1);
}

static void close_conn(struct loop *l, struct conn *c)
{
    unlink_conn(l, c);
    release_conn(l->all, c);
}

void loop_touch(struct conn *c)
{
    c->last_active_ms = c->loop->now_ms;
}

int64_t loop_now_ms(const struct conn *c)
{
    return c->loop->now_ms;
}

/* Runs c's reading and answering; closes it when it is done, unlists it when lent. */
static void serve(struct loop *l, struct conn *c, uint32_t events)
{
    if (conn_on_event(c, events, l->all->handler, l->all->ctx) < 0)
        close_conn(l, c);
    else if (c->lent)
        unlink_conn(l, c);
}

static void set_accepting(struct loop *l, int on)
{
    if (on) {
        struct epoll_event ev = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.ptr = &listen_marker};
        if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->all->listen_fd, &ev) == 0)
            l->accept_paused = 0;
    } else {
        epoll_ctl(l->epfd, EPOLL_CTL_DEL, l->all->listen_fd, NULL);
        l->accept_paused = 1;
    }
}

/* Takes in a connected socket fd (non-blocking) from peer sa, as accepted: counts it against
 * the limits, and watches it. */
static void adopt(struct loop *l, int fd, const struct sockaddr *sa)
{
    struct loops *all = l->all;
    /* past the limit a few more are kept, only to be told 503 (a quick answer, not a
     * silent close); past that they are closed at once */
    unsigned open_now = atomic_fetch_add(&all->conns, 1);
    if (open_now >= all->max_conns + REFUSING_MAX) {
        atomic_fetch_sub(&all->conns, 1);
        close(fd);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* fails on others: fine */
    struct conn *c = conn_open(fd, sa, l);
    if (!c) {
        atomic_fetch_sub(&all->conns, 1);
        return;
    }
    /* over TLS the handshake happens in the connection's first reads */
    if (all->tls && !(c->ssl = tls_accept(all->tls, fd))) {
        release_conn(all, c);
        return;
    }
    if (open_now >= all->max_conns)
        c->refuse = ERR_UNAVAILABLE;
    else if (netaddr_list_contains(&all->trusted, &c->peer_addr))
        ; /* a proxy speaks for many clients: only the global limit applies */
    else if (peercount_acquire(all->peers, &c->peer_addr, all->max_per_client))
        c->peer_counted = 1;
    else
        c->refuse = ERR_THROTTLED; /* this client holds its share of the slots */
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = c};
    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        release_conn(all, c);
        return;
    }
    link_conn(l, c);
    loop_touch(c);
}

static void accept_some(struct loop *l)
{
    struct loops *all = l->all;
    for (int i = 0; i < ACCEPTS_PER_WAKE; i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = accept4(all->listen_fd, (struct sockaddr *)&ss, &sl,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                log_error("server: cannot accept (%s); pausing for a second", strerror(errno));
                set_accepting(l, 0); /* level-triggered: it would wake us at once again */
            }
            return;
        }
        adopt(l, fd, (struct sockaddr *)&ss);
    }
}

void loop_give_back(struct conn *c, void (*fn)(struct conn *c, void *arg), void *arg)
{
    struct loop *l = c->loop;
    c->give_back_fn = fn;
    c->give_back_arg = arg;
    c->returned_next = NULL;
    pthread_mutex_lock(&l->mu);
    if (l->given_back_tail)
        l->given_back_tail->returned_next = c;
    else
        l->given_back = c;
    l->given_back_tail = c;
    pthread_mutex_unlock(&l->mu);
    uint64_t one = 1;
    ssize_t w = write(l->wakefd, &one, sizeof one);
    (void)w; /* an eventfd write fails only when its counter would overflow: it is rung then */
}

static void take_back(struct loop *l)
{
    uint64_t count;
    ssize_t r = read(l->wakefd, &count, sizeof count);
    (void)r;
    pthread_mutex_lock(&l->mu);
    struct conn *c = l->given_back;
    l->given_back = l->given_back_tail = NULL;
    pthread_mutex_unlock(&l->mu);
    while (c) {
        struct conn *next = c->returned_next;
        c->lent = 0;
        link_conn(l, c);
        loop_touch(c);
        c->give_back_fn(c, c->give_back_arg);
        serve(l, c, 0);
        c = next;
    }
}

static void sweep(struct loop *l)
{
    l->swept_ms = l->now_ms;
    if (l->accept_paused)
        set_accepting(l, 1);
    struct conn *c = l->first;
    while (c) {
        struct conn *next = c->idle_next;
        int64_t limit = c->lingering ? LINGER_MS : l->all->idle_ms;
        /* idle too long, or a request trickling in for longer than the timeout (slowloris) */
        if (l->now_ms - c->last_active_ms > limit ||
            (c->request_began_ms && l->now_ms - c->request_began_ms > l->all->idle_ms))
            close_conn(l, c);
        c = next;
    }
}

/* One wake-up of l: waits at most timeout_ms for events, serves them, takes back what the
 * workers returned, and sweeps once a second. */
static void loop_wake(struct loop *l, int timeout_ms)
{
    struct epoll_event events[EVENTS_PER_WAIT];
    int n = epoll_wait(l->epfd, events, EVENTS_PER_WAIT, timeout_ms);
    l->now_ms = monotonic_ms();
    int rung = 0;
    for (int i = 0; i < n; i++) {
        void *p = events[i].data.ptr;
        if (p == &listen_marker)
            accept_some(l);
        else if (p == &wake_marker)
            rung = 1;
        else
            serve(l, p, events[i].events);
    }
    /* after the batch: taking a connection back may close it, and an event for it may
     * still wait further down this batch (serve only ever closes its own connection) */
    if (rung)
        take_back(l);
    if (l->now_ms - l->swept_ms >= 1000)
        sweep(l);
}

/* The pool is stopped: answers whatever it gave back and closes every connection. */
static void loop_finish(struct loop *l)
{
    take_back(l);
    while (l->first)
        close_conn(l, l->first);
}

static void *run_loop(void *arg)
{
    struct loop *l = arg;
    while (!atomic_load(&l->stopping))
        loop_wake(l, 1000);
    loop_finish(l);
    return NULL;
}

void loops_step(struct loops *all, int timeout_ms)
{
    if (all->manual)
        loop_wake(&all->loop[0], timeout_ms);
}

void loops_adopt(struct loops *all, int fd, const struct sockaddr *sa)
{
    if (all->manual)
        adopt(&all->loop[0], fd, sa);
    else
        close(fd);
}

static void free_loops(struct loops *all)
{
    for (unsigned i = 0; i < all->n; i++) {
        struct loop *l = &all->loop[i];
        if (l->epfd >= 0)
            close(l->epfd);
        if (l->wakefd >= 0)
            close(l->wakefd);
        pthread_mutex_destroy(&l->mu);
    }
    peercount_free(all->peers);
    free(all);
}

static int open_loop(struct loops *all, struct loop *l)
{
    l->all = all;
    pthread_mutex_init(&l->mu, NULL);
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    l->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (l->epfd < 0 || l->wakefd < 0)
        return -1;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &wake_marker};
    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->wakefd, &ev) != 0)
        return -1;
    set_accepting(l, 1);
    return l->accept_paused ? -1 : 0;
}

struct loops *loops_start(int listen_fd, unsigned n, conn_handler handler, void *ctx,
                          const struct loops_limits *limits)
{
    int manual = n == 0;
    if (manual)
        n = 1;
    struct loops *all = calloc(1, sizeof *all + n * sizeof(struct loop));
    if (!all)
        return NULL;
    all->manual = manual;
    all->peers = peercount_new(limits->max_conns + REFUSING_MAX);
    if (!all->peers) {
        free(all);
        return NULL;
    }
    all->listen_fd = listen_fd;
    all->handler = handler;
    all->ctx = ctx;
    all->max_conns = limits->max_conns;
    all->max_per_client = limits->max_per_client;
    all->trusted = limits->trusted;
    all->idle_ms = (int64_t)limits->idle_seconds * 1000;
    all->tls = limits->tls;
    all->n = n;
    for (unsigned i = 0; i < n; i++)
        all->loop[i].epfd = all->loop[i].wakefd = -1;
    for (unsigned i = 0; i < n; i++) {
        struct loop *l = &all->loop[i];
        l->now_ms = l->swept_ms = monotonic_ms();
        if (open_loop(all, l) != 0 ||
            (!manual && pthread_create(&l->thread, NULL, run_loop, l) != 0)) {
            loops_stop(all);
            return NULL;
        }
        l->started = !manual;
    }
    return all;
}

void loops_stop(struct loops *all)
{
    if (!all)
        return;
    for (unsigned i = 0; i < all->n; i++) {
        struct loop *l = &all->loop[i];
        atomic_store(&l->stopping, 1);
        if (l->wakefd >= 0) {
            uint64_t one = 1;
            ssize_t w = write(l->wakefd, &one, sizeof one);
            (void)w;
        }
    }
    for (unsigned i = 0; i < all->n; i++)
        if (all->loop[i].started)
            pthread_join(all->loop[i].thread, NULL);
    if (all->manual && all->loop[0].epfd >= 0)
        loop_finish(&all->loop[0]);
    free_loops(all);
}
