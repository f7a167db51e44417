/* err.h — the one error enum of apikeyd and its mapping to HTTP.
 * Every fallible function returns enum err; results go through pointer arguments that are
 * set only on success. err_http_status/err_slug/err_title turn a code into a problem document. */
#ifndef APIKEYD_ERR_H
#define APIKEYD_ERR_H

enum err {
    ERR_OK = 0,
    ERR_MALFORMED_JSON,    /* 400 body is not a JSON object */
    ERR_BAD_REQUEST,       /* 400 malformed header or query */
    ERR_UNAUTHENTICATED,   /* 401 no or bad credentials */
    ERR_LOGIN_FAILED,      /* 401 login mismatch */
    ERR_OTP_REQUIRED,      /* 401 password right, one-time code needed */
    ERR_FORBIDDEN,         /* 403 not allowed */
    ERR_NOT_HELD,          /* 403 would grant (or take) more than the caller holds */
    ERR_OWN_GRANTS,        /* 403 a change of the caller's own roles or groups */
    ERR_CSRF,              /* 403 missing or wrong CSRF token */
    ERR_NOT_FOUND,         /* 404 */
    ERR_METHOD,            /* 405 */
    ERR_CONFLICT,          /* 409 name taken */
    ERR_LIMIT,             /* 409 count limit reached */
    ERR_BODY_TOO_LARGE,    /* 413 */
    ERR_URI_TOO_LONG,      /* 414 */
    ERR_MEDIA_TYPE,        /* 415 */
    ERR_INVALID,           /* 422 validation failed */
    ERR_THROTTLED,         /* 429 */
    ERR_HEADERS_TOO_LARGE, /* 431 */
    ERR_INTERNAL,          /* 500 */
    ERR_NOMEM,             /* 500 out of memory */
    ERR_STORE,             /* 500 the store failed */
    ERR_UNAVAILABLE,       /* 503 the store cannot be reached, or the view may be stale */
    ERR_STORAGE_FULL,      /* 503 the store has no room left for a write */
    ERR_DIRECTORY_UNAVAILABLE, /* 503 the LDAP directory cannot be reached or answer now */
    ERR_HTTP_VERSION,      /* 505 a version other than HTTP/1.0 and HTTP/1.1 */
    ERR__COUNT
};

/* HTTP status code for e (200 for ERR_OK). */
int err_http_status(enum err e);
/* Short stable identifier, used as the problem type suffix ("validation-failed"). */
const char *err_slug(enum err e);
/* Human title of the problem ("Validation failed"). */
const char *err_title(enum err e);
/* 1 for the errors that say "not now" rather than "no" (ERR_UNAVAILABLE, ERR_STORAGE_FULL):
 * a caller that turns store failures into a refusal of its own passes these on instead. */
int err_is_unavailable(enum err e);

#endif
