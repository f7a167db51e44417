/* assets.h — the portal's files compiled into the binary (generated from web/ by
 * tools/embed.c into build/.../gen/web_assets.c). */
#ifndef APIKEYD_ASSETS_H
#define APIKEYD_ASSETS_H

#include <stddef.h>

struct asset {
    const char *path; /* "/index.html", "/assets/app.js" */
    const unsigned char *data;
    size_t len;
    const char *content_type;
};

/* Ends with an entry whose path is NULL. */
extern const struct asset assets_table[];

/* The asset served at path ("/" is "/index.html"), or NULL. */
const struct asset *assets_find(const char *path);

#endif
