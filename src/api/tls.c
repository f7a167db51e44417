/* tls.c — see tls.h. One SSL_CTX at a time serves new connections; a reload builds another
 * from the files and swaps the pointer under a mutex (each SSL holds a reference to its own
 * context, so the old one lives on with the connections that use it). The context: TLS 1.2
 * and 1.3 only, ECDHE with AES-GCM or ChaCha20-Poly1305 for 1.2, no renegotiation, ALPN
 * http/1.1 (a client offering only other protocols is refused with no_application_protocol),
 * stateless session tickets under the context's own random key (renewed by every reload), no
 * server-side session cache, read-ahead, buffers released while idle, and decrypted input
 * cleansed once handed over (SSL_OP_CLEANSE_PLAINTEXT: keys and passwords travel in it). */
#include "tls.h"

#include <errno.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../base/log.h"

#define TLS_CIPHERS_12                                                                          \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"  \
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
#define TLS_CIPHERS_13 "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"
#define TLS_RECORD_MAX 16384 /* plaintext bytes of one record */

struct tls {
    pthread_mutex_t mu; /* guards ctx */
    SSL_CTX *ctx;
    char *cert_file, *key_file;
};

/* The newest OpenSSL error as text, the queue then cleared. */
static const char *ssl_reason(char *buf, size_t cap)
{
    unsigned long e = ERR_peek_last_error();
    if (e)
        ERR_error_string_n(e, buf, cap);
    else
        snprintf(buf, cap, "%s", strerror(errno));
    ERR_clear_error();
    return buf;
}

/* An encrypted key would make OpenSSL ask for its passphrase on the terminal: refuse it. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf, (void)size, (void)rwflag, (void)u;
    return 0;
}

/* ALPN: http/1.1 when the client offers it; a client offering only others (h2 alone) gets the
 * no_application_protocol alert rather than a protocol it did not ask for. */
static int select_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned inlen, void *arg)
{
    (void)ssl, (void)arg;
    static const unsigned char ours[] = "\x08http/1.1";
    unsigned char *chosen;
    if (SSL_select_next_proto(&chosen, outlen, ours, sizeof ours - 1, in, inlen) !=
        OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    *out = chosen;
    return SSL_TLSEXT_ERR_OK;
}

/* -1 (logged) when the key file is readable by everyone; a warning when by its group. */
static int check_key_mode(const char *key_file)
{
    struct stat st;
    if (stat(key_file, &st) != 0) {
        log_error("tls: cannot read tls_key_file %s: %s", key_file, strerror(errno));
        return -1;
    }
    if (st.st_mode & S_IROTH) {
        log_error("tls: tls_key_file %s is readable by every user (mode %03o); chmod 600 it",
                  key_file, (unsigned)(st.st_mode & 0777));
        return -1;
    }
    if (st.st_mode & S_IRGRP)
        log_warn("tls: tls_key_file %s is readable by its group (mode %03o)", key_file,
                 (unsigned)(st.st_mode & 0777));
    return 0;
}

/* A context for the files, or NULL (logged). */
static SSL_CTX *build_ctx(const char *cert_file, const char *key_file)
{
    char why[256];
    if (check_key_mode(key_file) != 0)
        return NULL;
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        log_error("tls: cannot make a context: %s", ssl_reason(why, sizeof why));
        return NULL;
    }
    SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
        log_error("tls: cannot use tls_cert_file %s: %s", cert_file, ssl_reason(why, sizeof why));
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1) {
        log_error("tls: cannot use tls_key_file %s (PEM, not encrypted): %s", key_file,
                  ssl_reason(why, sizeof why));
        goto fail;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        log_error("tls: tls_key_file %s does not match tls_cert_file %s: %s", key_file,
                  cert_file, ssl_reason(why, sizeof why));
        goto fail;
    }
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
        SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1 ||
        SSL_CTX_set_cipher_list(ctx, TLS_CIPHERS_12) != 1 ||
        SSL_CTX_set_ciphersuites(ctx, TLS_CIPHERS_13) != 1) {
        log_error("tls: cannot set the protocol versions or ciphers: %s",
                  ssl_reason(why, sizeof why));
        goto fail;
    }
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                                 SSL_OP_CLEANSE_PLAINTEXT);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_read_ahead(ctx, 1);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF); /* tickets only: no state here */
    SSL_CTX_set_alpn_select_cb(ctx, select_alpn, NULL);
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

enum err tls_open(const char *cert_file, const char *key_file, struct tls **out)
{
    struct tls *t = calloc(1, sizeof *t);
    if (!t)
        return ERR_NOMEM;
    t->cert_file = strdup(cert_file);
    t->key_file = strdup(key_file);
    if (!t->cert_file || !t->key_file) {
        free(t->cert_file);
        free(t->key_file);
        free(t);
        return ERR_NOMEM;
    }
    t->ctx = build_ctx(cert_file, key_file);
    if (!t->ctx) {
        free(t->cert_file);
        free(t->key_file);
        free(t);
        return ERR_INVALID;
    }
    pthread_mutex_init(&t->mu, NULL);
    *out = t;
    return ERR_OK;
}

enum err tls_reload(struct tls *t)
{
    SSL_CTX *fresh = build_ctx(t->cert_file, t->key_file);
    if (!fresh) {
        log_error("tls: reload failed; still serving the previous certificate");
        return ERR_INVALID;
    }
    pthread_mutex_lock(&t->mu);
    SSL_CTX *old = t->ctx;
    t->ctx = fresh;
    pthread_mutex_unlock(&t->mu);
    SSL_CTX_free(old); /* gone once the last connection made with it closes */
    log_info("tls: reloaded %s; new connections get it", t->cert_file);
    return ERR_OK;
}

void tls_close(struct tls *t)
{
    if (!t)
        return;
    SSL_CTX_free(t->ctx);
    pthread_mutex_destroy(&t->mu);
    free(t->cert_file);
    free(t->key_file);
    free(t);
}

SSL *tls_accept(struct tls *t, int fd)
{
    pthread_mutex_lock(&t->mu);
    SSL_CTX *ctx = t->ctx;
    SSL_CTX_up_ref(ctx);
    pthread_mutex_unlock(&t->mu);
    SSL *ssl = SSL_new(ctx);
    SSL_CTX_free(ctx); /* the SSL holds its own reference */
    if (!ssl)
        return NULL;
    if (SSL_set_fd(ssl, fd) != 1) {
        SSL_free(ssl);
        ERR_clear_error();
        return NULL;
    }
    SSL_set_accept_state(ssl);
    return ssl;
}

/* Maps a failed call's result r to TLS_WANT, TLS_PLAIN or TLS_CLOSED. */
static long failed(SSL *ssl, int r)
{
    int e = SSL_get_error(ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        ERR_clear_error();
        return TLS_WANT;
    }
    long out = TLS_CLOSED;
    if (e == SSL_ERROR_SSL && ERR_GET_REASON(ERR_peek_last_error()) == SSL_R_HTTP_REQUEST)
        out = TLS_PLAIN;
    ERR_clear_error();
    return out;
}

long tls_read(SSL *ssl, char *buf, size_t cap)
{
    ERR_clear_error();
    int want = cap > INT_MAX ? INT_MAX : (int)cap;
    int r = SSL_read(ssl, buf, want);
    return r > 0 ? r : failed(ssl, r);
}

long tls_writev(SSL *ssl, const struct iovec *iov, int n)
{
    /* gathered into one record's worth: head and body leave as one record, one write */
    char one[TLS_RECORD_MAX];
    size_t len = 0;
    for (int i = 0; i < n && len < sizeof one; i++) {
        size_t take = iov[i].iov_len < sizeof one - len ? iov[i].iov_len : sizeof one - len;
        memcpy(one + len, iov[i].iov_base, take);
        len += take;
    }
    if (len == 0)
        return 0;
    ERR_clear_error();
    int r = SSL_write(ssl, one, (int)len);
    sodium_memzero(one, len); /* it may hold a new key or a session token */
    return r > 0 ? r : failed(ssl, r);
}

int tls_handshake_done(SSL *ssl)
{
    return SSL_is_init_finished(ssl);
}

void tls_shutdown(SSL *ssl)
{
    ERR_clear_error();
    if (SSL_is_init_finished(ssl))
        SSL_shutdown(ssl); /* close_notify if the socket takes it; no wait for the peer's */
    ERR_clear_error();
}

void tls_free(SSL *ssl)
{
    SSL_free(ssl);
}
