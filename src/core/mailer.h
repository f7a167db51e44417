/* mailer.h — outgoing mail over SMTP through libcurl: one plain-text message (RFC 5322,
 * MIME UTF-8 text/plain) to one address per call, always over TLS (smtp:// upgraded with
 * STARTTLS, which is required, or smtps://), the server's certificate checked. Header
 * injection is impossible: a CR or LF in any header value or address is refused, the Subject
 * is sent as RFC 2047 encoded words and the body as base64. The SMTP password (read from
 * smtp_password_file at start) is wiped when the mailer is freed and never logged. */
#ifndef APIKEYD_MAILER_H
#define APIKEYD_MAILER_H

#include <stddef.h>
#include <stdint.h>

#include "../base/err.h"
#include "mail_settings.h"

#define MAIL_SUBJECT_MAX 998  /* bytes of UTF-8 */
#define MAIL_BODY_MAX 65536   /* bytes of UTF-8 */

struct mailer;

/* Opens the mailer for s; *out is NULL (and ERR_OK) when smtp_url is empty (mail off).
 * ERR_INVALID after logging why when the password file cannot be read. */
enum err mailer_open(const struct mail_settings *s, struct mailer **out);

/* Wipes the password and frees m (NULL is fine). */
void mailer_free(struct mailer *m);

/* Cancels the sends in progress and refuses later ones (at shut-down, so that a slow mail
 * server does not hold it up). NULL is fine. */
void mailer_cancel(struct mailer *m);

/* Sends one message: From smtp_from, To `to`, the given subject and body (UTF-8; "\n" line
 * ends). ERR_OK once the server accepted it; ERR_INVALID for an address or header value that
 * is not allowed (CR/LF, not an address, invalid UTF-8, too long); ERR_UNAVAILABLE when the
 * server could not be reached, the TLS handshake or certificate failed, or it refused the
 * message (logged without the password or the body); ERR_NOMEM. Thread-safe. */
enum err mailer_send(struct mailer *m, const char *to, const char *subject, const char *body);

/* Writes the message mailer_send would send (headers and base64 body, CRLF line ends) dated
 * `now` into a malloc'd *out of *len bytes. Same refusals as mailer_send. For tests too. */
enum err mail_compose(const char *from, const char *to, const char *subject, const char *body,
                      int64_t now, char **out, size_t *len);

#endif
