/* observe.h — what each answered request leaves behind: the HTTP metrics (requests by route
 * template and status class, durations by route template), one access log line when
 * access_log is on, and a warn line for a refused escalation (403 not-held / own-grants).
 * Routes are named by the router table's template, never by the path sent. */
#ifndef APIKEYD_OBSERVE_H
#define APIKEYD_OBSERVE_H

#include <stdint.h>

#include "http.h"

/* Registers the HTTP metric families (one series per route template) and turns the access
 * log on or off. Call before serving. */
void observe_init(int access_log);

/* One answered request. */
struct observed {
    const char *method; /* "GET"…, or "-" when it was refused before its line was read */
    int route;          /* router_route_index, -1 for none */
    const char *client; /* the client's address (server.c) */
    const char *actor;  /* the authenticated person or principal, or NULL */
    uint64_t t0_ns;     /* metrics_now_ns() when the request was complete */
};

/* Records o answered with rep (its status, problem and request id). */
void observe_request(const struct observed *o, const struct reply *rep);

#endif
