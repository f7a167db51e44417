/* loop.h — the HTTP layer's event threads. Each runs an epoll loop over the shared listening
 * socket and the connections it accepted: it reads, parses and answers them (conn.c), closes
 * the ones idle too long, and takes back connections that a worker thread has answered. */
#ifndef APIKEYD_LOOP_H
#define APIKEYD_LOOP_H

#include "conn.h"

struct loops;
struct tls;

struct loops_limits {
    unsigned max_conns;          /* connections at once; a few more are answered 503 */
    unsigned max_per_client;     /* from one address (IPv6: one /64); more are answered 429 */
    struct netaddr_list trusted; /* proxies, exempt from max_per_client */
    unsigned idle_seconds;       /* a connection idle this long is closed (and a TLS
                                    handshake not done by then) */
    struct tls *tls;             /* serve TLS with its current context (tls.c); NULL: plain */
};

/* Starts n event threads serving listen_fd (bound, listening, non-blocking); each complete
 * request goes to handler(ctx, conn), except on connections accepted past a limit, whose
 * conn->refuse says what to answer. With n = 0 no thread is started: one event loop runs
 * only inside loops_step, in the caller's thread (the HTTP fuzzer). NULL when a thread
 * cannot be started. */
struct loops *loops_start(int listen_fd, unsigned n, conn_handler handler, void *ctx,
                          const struct loops_limits *limits);

/* For loops started with n = 0: one wake-up of the event loop in the calling thread (waits
 * at most timeout_ms for readiness, then accepts, reads, answers and takes back from the
 * workers as an event thread does). A no-op for loops with threads. */
void loops_step(struct loops *all, int timeout_ms);

/* For loops started with n = 0: serves fd (a connected non-blocking socket, say one end of a
 * socketpair) as if it had been accepted from the peer sa, limits and all. Else closes fd. */
void loops_adopt(struct loops *all, int fd, const struct sockaddr *sa);

/* Stops accepting, answers what was handed back, closes every connection and joins the
 * threads. Call once no worker still holds a connection. NULL is a no-op. */
void loops_stop(struct loops *l);

/* From any thread: hands a lent connection back to its event thread, which calls fn(c, arg)
 * there (to send the reply) and then goes on reading c. */
void loop_give_back(struct conn *c, void (*fn)(struct conn *c, void *arg), void *arg);

/* Notes activity on c (event thread only), which puts off its idle timeout. */
void loop_touch(struct conn *c);

/* The event thread's clock (monotonic milliseconds, read once per wake-up). */
int64_t loop_now_ms(const struct conn *c);

#endif
