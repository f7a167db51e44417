/* router.h — maps method and path to a handler, authenticates the caller as the route
 * demands (key scope, session, CSRF), and renders errors as problem documents. */
#ifndef APIKEYD_ROUTER_H
#define APIKEYD_ROUTER_H

#include "http.h"

/* Answers req into rep (always sets a status). */
void router_dispatch(struct request *req, struct reply *rep);

#endif
