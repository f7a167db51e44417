/* qr_svg.c — see qr_svg.h. One <path> of unit squares, a 4-module quiet zone, error
 * correction level M. */
#include "qr_svg.h"

#include <qrencode.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *qr_svg(const char *text)
{
    QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if (!qr)
        return NULL;
    int w = qr->width, size = w + 8;
    size_t cap = 256 + (size_t)w * (size_t)w * 24;
    char *svg = malloc(cap);
    if (!svg) {
        QRcode_free(qr);
        return NULL;
    }
    size_t used = (size_t)snprintf(svg, cap,
                                   "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\""
                                   " shape-rendering=\"crispEdges\"><rect width=\"%d\" height=\"%d\""
                                   " fill=\"#fff\"/><path fill=\"#000\" d=\"",
                                   size, size, size, size);
    for (int y = 0; y < w; y++)
        for (int x = 0; x < w; x++)
            if (qr->data[y * w + x] & 1)
                used += (size_t)snprintf(svg + used, cap - used, "M%d %dh1v1h-1z", x + 4, y + 4);
    snprintf(svg + used, cap - used, "\"/></svg>");
    sodium_memzero(qr->data, (size_t)w * (size_t)w);
    QRcode_free(qr);
    return svg;
}
