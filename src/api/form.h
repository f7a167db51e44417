/* form.h — reading an application/x-www-form-urlencoded request body (the SAML HTTP-POST
 * binding): one named field, percent- and plus-decoded. */
#ifndef APIKEYD_FORM_H
#define APIKEYD_FORM_H

#include <stddef.h>

/* 1 when the request's Content-Type is application/x-www-form-urlencoded (parameters allowed). */
int form_media_type_ok(const char *content_type);

/* The decoded value of the first field name in body (len bytes) as a malloc'd string into
 * *out (NULL when absent). 0, or -1 when the body is malformed (a bad %-escape, a NUL) or
 * memory runs out. */
int form_value(const char *body, size_t len, const char *name, char **out);

#endif
