/* h_static.c — serves the portal (web/, compiled in) with a strict Content-Security-Policy:
 * no inline script or style, nothing from other origins, no framing. */
#include <stdlib.h>
#include <string.h>

#include "assets.h"
#include "handlers.h"

const struct asset *assets_find(const char *path)
{
    if (strcmp(path, "/") == 0)
        path = "/index.html";
    for (const struct asset *a = assets_table; a->path; a++)
        if (strcmp(a->path, path) == 0)
            return a;
    return NULL;
}

enum err h_static(struct request *req, struct reply *rep)
{
    const struct asset *a = assets_find(req->path);
    if (!a)
        return ERR_NOT_FOUND;
    reply_set_static(rep, 200, a->content_type, a->data, a->len);
    reply_header(rep, "Content-Security-Policy",
                 "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
                 " connect-src 'self'; object-src 'none'; base-uri 'none';"
                 " frame-ancestors 'none'; form-action 'self'");
    reply_header(rep, "X-Frame-Options", "DENY");
    reply_header(rep, "Referrer-Policy", "no-referrer");
    return ERR_OK;
}
