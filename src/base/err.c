/* err.c — the table that maps enum err to HTTP status, problem slug and title. */
#include "err.h"

static const struct {
    int status;
    const char *slug;
    const char *title;
} err_table[ERR__COUNT] = {
    [ERR_OK] = {200, "ok", "OK"},
    [ERR_MALFORMED_JSON] = {400, "malformed-json", "Malformed JSON"},
    [ERR_BAD_REQUEST] = {400, "bad-request", "Bad request"},
    [ERR_UNAUTHENTICATED] = {401, "unauthenticated", "Authentication required"},
    [ERR_LOGIN_FAILED] = {401, "login-failed", "Login failed"},
    [ERR_OTP_REQUIRED] = {401, "otp-required", "One-time code required"},
    [ERR_FORBIDDEN] = {403, "forbidden", "Forbidden"},
    [ERR_NOT_HELD] = {403, "not-held",
                      "A caller grants only what it holds, and manages only people who hold no"
                      " more than it does"},
    [ERR_OWN_GRANTS] = {403, "own-grants", "Nobody changes their own roles or groups"},
    [ERR_CSRF] = {403, "csrf-token-invalid", "CSRF token missing or invalid"},
    [ERR_NOT_FOUND] = {404, "not-found", "Not found"},
    [ERR_METHOD] = {405, "method-not-allowed", "Method not allowed"},
    [ERR_CONFLICT] = {409, "conflict", "Conflict"},
    [ERR_LIMIT] = {409, "limit-reached", "Limit reached"},
    [ERR_BODY_TOO_LARGE] = {413, "body-too-large", "Request body too large"},
    [ERR_URI_TOO_LONG] = {414, "uri-too-long", "URI too long"},
    [ERR_MEDIA_TYPE] = {415, "unsupported-media-type", "Unsupported media type"},
    [ERR_INVALID] = {422, "validation-failed", "Validation failed"},
    [ERR_THROTTLED] = {429, "too-many-requests", "Too many requests"},
    [ERR_HEADERS_TOO_LARGE] = {431, "headers-too-large", "Request headers too large"},
    [ERR_INTERNAL] = {500, "internal", "Internal server error"},
    [ERR_NOMEM] = {500, "internal", "Internal server error"},
    [ERR_STORE] = {500, "internal", "Internal server error"},
    [ERR_UNAVAILABLE] = {503, "unavailable", "Service unavailable"},
    [ERR_STORAGE_FULL] = {503, "storage-full", "Storage full"},
    [ERR_DIRECTORY_UNAVAILABLE] = {503, "directory-unavailable", "Directory unavailable"},
    [ERR_HTTP_VERSION] = {505, "http-version-not-supported",
                          "Only HTTP/1.0 and HTTP/1.1 are served"},
};

int err_http_status(enum err e)
{
    return (e >= 0 && e < ERR__COUNT) ? err_table[e].status : 500;
}

const char *err_slug(enum err e)
{
    return (e >= 0 && e < ERR__COUNT) ? err_table[e].slug : "internal";
}

const char *err_title(enum err e)
{
    return (e >= 0 && e < ERR__COUNT) ? err_table[e].title : "Internal server error";
}

int err_is_unavailable(enum err e)
{
    return e == ERR_UNAVAILABLE || e == ERR_STORAGE_FULL;
}
