/* candidates.h — who may be added to a project: the lookup behind the portal's member picker
 * (GET /v1/projects/{id}/candidates?q=). Only those who manage the project's members may ask;
 * a query needs 2 to 64 characters and gets at most CANDIDATES_MAX answers, each only a
 * principal, a display name and a kind, so the lookup is no way to list people or read their
 * details. */
#ifndef APIKEYD_CANDIDATES_H
#define APIKEYD_CANDIDATES_H

#include "core.h"

#define CANDIDATES_MAX 10
#define CANDIDATES_QUERY_MIN 2  /* code points */
#define CANDIDATES_QUERY_MAX 64 /* code points */

/* One suggestion: principal "user:NAME" or "service-account:ID", its display name (a user's
 * full name, or the username when there is none; an account's name) and kind ("user" or
 * "service-account"). Returns nonzero to stop. */
typedef int (*candidate_cb)(void *ctx, const char *principal, const char *name,
                            const char *kind);

/* Streams up to CANDIDATES_MAX enabled users whose username starts with q or whose full name
 * contains q, and enabled API accounts the caller manages whose name contains q (ASCII letters
 * compared without case), ordered by display name. ERR_NOT_FOUND: no project id the caller
 * reaches; ERR_FORBIDDEN: the caller does not manage its members (owner, also through a
 * parent, or manage_projects); ERR_BAD_REQUEST with *why: q missing, too short, too long, not
 * UTF-8 or with control characters. */
enum err candidates_find(struct core *c, const struct caller *who, const char *project,
                         const char *q, const char **why, candidate_cb cb, void *ctx);

#endif
