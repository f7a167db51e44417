/* server.h — the HTTP server (libmicrohttpd): listening, request limits, and handing each
 * complete request to the router. */
#ifndef APIKEYD_SERVER_H
#define APIKEYD_SERVER_H

#include "../core/core.h"

struct server;

/* Starts serving on listen ("127.0.0.1:8080", "[::1]:8080", ":8080") with `threads` event
 * threads (libmicrohttpd's pool: parsing, verification) and `workers` threads for requests
 * that may block on the store. Sets *out. ERR_INVALID for a bad address, ERR_UNAVAILABLE when
 * it cannot bind. */
enum err server_start(struct core *core, const char *listen, unsigned threads,
                      unsigned workers, struct server **out);

/* The port actually bound (useful with port 0). */
unsigned server_port(struct server *s);

/* Stops accepting, finishes in-flight requests, frees the server. */
void server_stop(struct server *s);

#endif
