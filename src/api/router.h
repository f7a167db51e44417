/* router.h — maps method and path to a handler, authenticates the caller as the route
 * demands (key scope, session, CSRF), and renders errors as problem documents. */
#ifndef APIKEYD_ROUTER_H
#define APIKEYD_ROUTER_H

#include "http.h"

struct route;

/* The route a method and path name, with its {} segments; allow lists the methods the path
 * accepts when route is NULL because only the method differs. */
struct route_match {
    const struct route *route; /* NULL: no such endpoint, or not with this method */
    char params[HTTP_PATH_PARAMS][128];
    char allow[128];
};

/* Finds the route for method and path. */
void router_match(const char *method, const char *path, struct route_match *m);

/* 1 when the matched route may block (store I/O, password hashing) and so belongs on a worker
 * thread; 0 for the memory-only routes (verification, static files) and for no route. */
int router_may_block(const struct route_match *m);

/* The route table's size, route i's path template ("/v1/keys/{}"), and the index of m's route
 * (-1 when m matched none): what the HTTP metrics and the access log name a request by, never
 * the path itself. */
size_t router_route_count(void);
const char *router_route_pattern(size_t i);
int router_route_index(const struct route_match *m);

/* Answers req for the matched route m into rep (always sets a status); req's path
 * parameters point into m, which must outlive req's use. */
void router_run(struct request *req, struct route_match *m, struct reply *rep);

/* One row of the route table as the OpenAPI document (web/openapi.json) describes it. */
struct route_info {
    const char *method;     /* "GET", "POST", ... */
    const char *pattern;    /* "{}" stands for one path segment */
    int authenticated;      /* 0: public */
    const char *key_scope;  /* the scope a key caller needs, NULL: any valid key */
    const char *key_callers; /* "any", "person" or "own-account" (enum key_who) */
};

/* Route i of the table into out; 0, or -1 past the end. For tests/unit/test_openapi.c. */
int router_route_info(size_t i, struct route_info *out);

#endif
