/* render.h — JSON forms of the domain records, as docs/API.md shows them. */
#ifndef APIKEYD_RENDER_H
#define APIKEYD_RENDER_H

#include <jansson.h>

#include "../core/core.h"

/* {id, name, description, hint, scopes, created_at, expires_at, last_used_at,
 * last_used_from: [{address, last_used_at}] (newest first, at most 5), created_by}.
 * New reference, NULL when out of memory. */
json_t *render_key(const struct key_record *k);

/* {username, full_name, email, auth_source, environment, roles, groups, authorities,
 * disabled, mfa_enabled, created_at}: groups and authorities are read through core. */
json_t *render_user(struct core *c, const struct user_record *u);

/* A JSON array of the comma-separated items of csv. */
json_t *render_csv_array(const char *csv);

/* RFC 3339 string, or JSON null when t is 0. */
json_t *render_time(int64_t t);

#endif
