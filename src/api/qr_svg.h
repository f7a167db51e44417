/* qr_svg.h — a QR code (libqrencode) as a small SVG document, for the MFA enrolment answer. */
#ifndef APIKEYD_QR_SVG_H
#define APIKEYD_QR_SVG_H

/* The QR code of text as an SVG document (malloc'd; the caller wipes and frees it: it encodes
 * a secret). NULL when text does not fit a QR code or memory runs out. */
char *qr_svg(const char *text);

#endif
