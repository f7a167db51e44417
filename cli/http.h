/* http.h — the apikey client's one way to talk to apikeyd: a JSON request over libcurl with the
 * stored key as the bearer (or a session cookie and CSRF token while logging in). */
#ifndef APIKEY_HTTP_H
#define APIKEY_HTTP_H

#include <jansson.h>

struct api {
    char server[512];      /* base URL, no trailing slash */
    char token[256];       /* the API key sent as Bearer; "" while logging in */
    char csrf[128];        /* the session's CSRF token while logging in */
    void *curl;            /* one handle per run: keeps the session cookie in memory */
};

/* The answer: status (0 when apikeyd could not be reached), the parsed body (NULL when empty
 * or not JSON) and, for a refusal, the problem's type suffix and words. */
struct reply {
    long status;
    json_t *body;
    char problem[64];      /* "validation-failed" of urn:apikeyd:problem:validation-failed */
    char message[1024];    /* title: detail, or why apikeyd could not be reached */
};

/* Whether the CLI may talk to server: https://, or http:// only to this machine's loopback
 * (localhost, 127.0.0.0/8, [::1]). 0 with why filled in words otherwise. */
int api_server_allowed(const char *server, char *why, size_t cap);

/* Sets up the handle for server. 0, or -1 when libcurl cannot start. */
int api_open(struct api *a, const char *server);

/* Sends method path with body (may be NULL; not taken over) and fills r. Returns r->status. */
long api_call(struct api *a, const char *method, const char *path, json_t *body,
              struct reply *r);

/* Frees what r holds. */
void reply_free(struct reply *r);

/* Wipes the token and closes the handle. */
void api_close(struct api *a);

/* Writes s into out with every character a URL path segment cannot hold percent-encoded. */
void url_segment(const char *s, char *out, size_t cap);

#endif
