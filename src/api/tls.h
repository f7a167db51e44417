/* tls.h — native TLS for the HTTP layer through OpenSSL (libssl): the server's SSL_CTX built
 * from tls_cert_file and tls_key_file (PEM; the chain in the cert file), swapped for a new one
 * on reload (SIGHUP) while open connections keep theirs, and the non-blocking read and write
 * calls the event loop makes on a connection's SSL. TLS 1.2 and 1.3 only, ALPN http/1.1. */
#ifndef APIKEYD_TLS_H
#define APIKEYD_TLS_H

#include <stddef.h>
#include <sys/uio.h>

#include "../base/err.h"

struct tls;
struct ssl_st;

/* Loads the certificate chain and key into a new context. ERR_INVALID (logged) when either
 * file cannot be read or used, the key does not match, or the key file is world-readable. */
enum err tls_open(const char *cert_file, const char *key_file, struct tls **out);

/* Builds a context from the same files again and, when that works, makes it the one new
 * connections get; otherwise the old one stays and the reason is logged. Any thread. */
enum err tls_reload(struct tls *t);

/* Frees t (connections still open keep their own reference to their context). NULL: no-op. */
void tls_close(struct tls *t);

/* A server-side SSL on the accepted socket fd with the current context; NULL without memory. */
struct ssl_st *tls_accept(struct tls *t, int fd);

/* The outcome of a read or write: bytes moved (> 0), or one of these. */
enum {
    TLS_WANT = 0,     /* nothing now: wait for the socket (any readiness retries) */
    TLS_CLOSED = -1,  /* the peer closed (close_notify or EOF) or the connection broke */
    TLS_PLAIN = -2,   /* the first bytes were a plain HTTP request, not a TLS handshake */
};

/* Reads decrypted bytes into buf (driving the handshake first). */
long tls_read(struct ssl_st *ssl, char *buf, size_t cap);

/* Writes the bytes of iov (as one TLS record when they fit in one); may write only a part,
 * and after TLS_WANT must be called again with the same bytes first. */
long tls_writev(struct ssl_st *ssl, const struct iovec *iov, int n);

/* 1 once the handshake is done. */
int tls_handshake_done(struct ssl_st *ssl);

/* Sends close_notify once when the handshake is done, without waiting for the peer's. */
void tls_shutdown(struct ssl_st *ssl);

/* Frees ssl (what it decrypted is cleansed). */
void tls_free(struct ssl_st *ssl);

#endif
