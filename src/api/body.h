/* body.h — reading JSON request bodies strictly: media type, syntax, object shape, known
 * fields only, and typed field access that reports problems per field. */
#ifndef APIKEYD_BODY_H
#define APIKEYD_BODY_H

#include <jansson.h>

#include "http.h"

/* 1 when the request's Content-Type is application/json (parameters allowed), the check
 * body_object makes first (it answers ERR_MEDIA_TYPE otherwise). */
int body_media_type_ok(const struct request *req);

/* Parses the request body as a JSON object into *out (caller decrefs). ERR_MEDIA_TYPE when
 * Content-Type is not application/json, ERR_MALFORMED_JSON for bad syntax, duplicate keys or a
 * non-object; *detail then says why. */
enum err body_object(const struct request *req, json_t **out, const char **detail);

/* Adds a problem to fe for every member of obj not in the NULL-terminated list allowed. */
void body_reject_unknown(json_t *obj, const char *const *allowed, struct field_errors *fe);

/* String member field: NULL when absent or null (a problem when required), or of the wrong
 * type (always a problem). */
const char *body_string(json_t *obj, const char *field, int required, struct field_errors *fe);

/* 1 when obj has member field, null included. */
int body_has(json_t *obj, const char *field);

/* List-of-strings member field into names (at most cap; more is a problem). Returns the count;
 * sets *present when the member is there and not null. Wrong types are problems in fe. */
size_t body_string_list(json_t *obj, const char *field, const char **names, size_t cap,
                        int *present, struct field_errors *fe);

/* Boolean member field: -1 when absent or null, else 0 or 1; a non-boolean is a problem. */
int body_bool(json_t *obj, const char *field, struct field_errors *fe);

/* Wipes the text of string member field in place (for passwords) before the document is
 * freed. */
void body_wipe_string(json_t *obj, const char *field);

#endif
