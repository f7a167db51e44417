/* mailer.c — see mailer.h. */
#include "mailer.h"

#include <curl/curl.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../base/log.h"
#include "../base/text.h"
#include "../base/timeutil.h"

struct mailer {
    struct mail_settings cfg;
    char password[256]; /* "" without smtp_username */
    _Atomic int cancelled;
};

void mailer_cancel(struct mailer *m)
{
    if (m)
        atomic_store(&m->cancelled, 1);
}

/* libcurl's progress callback: nonzero aborts the transfer. */
static int on_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    return atomic_load(&((struct mailer *)ctx)->cancelled);
}

enum err mailer_open(const struct mail_settings *s, struct mailer **out)
{
    *out = NULL;
    if (!s->smtp_url[0])
        return ERR_OK;
    struct mailer *m = calloc(1, sizeof *m);
    if (!m)
        return ERR_NOMEM;
    m->cfg = *s;
    if (s->smtp_password_file[0]) {
        FILE *f = fopen(s->smtp_password_file, "r");
        char buf[sizeof m->password + 2];
        size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
        if (f)
            fclose(f);
        buf[n] = '\0';
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
            buf[--n] = '\0';
        int ok = f && n > 0 && n < sizeof m->password && strlen(buf) == n &&
                 !strpbrk(buf, "\r\n");
        if (ok)
            memcpy(m->password, buf, n + 1);
        sodium_memzero(buf, sizeof buf);
        if (!ok) {
            log_error("smtp_password_file %s: cannot read one password line of 1-%zu bytes",
                      s->smtp_password_file, sizeof m->password - 1);
            mailer_free(m);
            return ERR_INVALID;
        }
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    log_info("mail: SMTP via %s from %s", s->smtp_url, s->smtp_from);
    *out = m;
    return ERR_OK;
}

void mailer_free(struct mailer *m)
{
    if (!m)
        return;
    sodium_memzero(m->password, sizeof m->password);
    free(m);
}

/* A growing output buffer. */
struct out {
    char *buf;
    size_t len, cap;
    int failed;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->failed)
        return;
    if (o->len + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 4096;
        while (cap < o->len + n + 1)
            cap *= 2;
        char *b = realloc(o->buf, cap);
        if (!b) {
            o->failed = 1;
            return;
        }
        o->buf = b;
        o->cap = cap;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = '\0';
}

static void puts_(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

/* RFC 5322 date-time in UTC, with English names whatever the locale. */
static void rfc5322_date(int64_t now, char out[40])
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t t = (time_t)now;
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, 40, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
             months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Base64 of n bytes (the standard alphabet, padded) appended to o. */
static void put_base64(struct out *o, const unsigned char *s, size_t n)
{
    char chunk[sodium_base64_ENCODED_LEN(57, sodium_base64_VARIANT_ORIGINAL)];
    for (size_t i = 0; i < n; i += 57) {
        size_t take = n - i < 57 ? n - i : 57;
        sodium_bin2base64(chunk, sizeof chunk, s + i, take, sodium_base64_VARIANT_ORIGINAL);
        puts_(o, chunk);
        if (i + take < n)
            puts_(o, "\r\n");
    }
}

/* The subject as RFC 2047 encoded words of at most 39 bytes each (cut on code-point
 * boundaries; 64 characters encoded, so every line stays under 78), folded onto
 * continuation lines: nothing in it can end the header. */
static void put_subject(struct out *o, const char *subject)
{
    puts_(o, "Subject:");
    size_t n = strlen(subject), i = 0;
    if (n == 0)
        puts_(o, " ");
    while (i < n) {
        size_t take = n - i < 39 ? n - i : 39;
        while (take > 0 && i + take < n && ((unsigned char)subject[i + take] & 0xC0) == 0x80)
            take--; /* a continuation byte starts the next word: cut before its lead byte */
        char word[sodium_base64_ENCODED_LEN(39, sodium_base64_VARIANT_ORIGINAL)];
        sodium_bin2base64(word, sizeof word, (const unsigned char *)subject + i, take,
                          sodium_base64_VARIANT_ORIGINAL);
        puts_(o, i ? "\r\n =?UTF-8?B?" : " =?UTF-8?B?");
        puts_(o, word);
        puts_(o, "?=");
        i += take;
    }
    puts_(o, "\r\n");
}

enum err mail_compose(const char *from, const char *to, const char *subject, const char *body,
                      int64_t now, char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    if (!mail_address_ok(from) || !mail_address_ok(to) || strpbrk(subject, "\r\n") ||
        text_has_control(subject, 0) || !text_utf8_valid(subject) ||
        strlen(subject) > MAIL_SUBJECT_MAX || !text_utf8_valid(body) ||
        strlen(body) > MAIL_BODY_MAX)
        return ERR_INVALID;
    char date[40], id[33];
    unsigned char rnd[16];
    rfc5322_date(now, date);
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2hex(id, sizeof id, rnd, sizeof rnd);
    struct out o = {0};
    puts_(&o, "Date: ");
    puts_(&o, date);
    puts_(&o, "\r\nFrom: apikeyd <");
    puts_(&o, from);
    puts_(&o, ">\r\nTo: <");
    puts_(&o, to);
    puts_(&o, ">\r\n");
    put_subject(&o, subject);
    puts_(&o, "Message-ID: <");
    puts_(&o, id);
    puts_(&o, strrchr(from, '@'));
    puts_(&o, ">\r\nMIME-Version: 1.0\r\n"
              "Content-Type: text/plain; charset=UTF-8\r\n"
              "Content-Transfer-Encoding: base64\r\n"
              "Auto-Submitted: auto-generated\r\n\r\n");
    /* the body with CRLF line ends, then base64 */
    struct out text = {0};
    for (const char *p = body; *p; p++) {
        if (*p == '\n' && (p == body || p[-1] != '\r'))
            puts_(&text, "\r");
        put(&text, p, 1);
    }
    if (!text.failed && text.len)
        put_base64(&o, (const unsigned char *)text.buf, text.len);
    puts_(&o, "\r\n");
    int failed = o.failed || text.failed;
    free(text.buf);
    if (failed) {
        free(o.buf);
        return ERR_NOMEM;
    }
    *out = o.buf;
    *len = o.len;
    return ERR_OK;
}

struct reader {
    const char *buf;
    size_t len, pos;
};

static size_t on_read(char *dst, size_t size, size_t n, void *ctx)
{
    struct reader *r = ctx;
    size_t room = size * n, left = r->len - r->pos;
    size_t take = left < room ? left : room;
    memcpy(dst, r->buf + r->pos, take);
    r->pos += take;
    return take;
}

enum err mailer_send(struct mailer *m, const char *to, const char *subject, const char *body)
{
    if (!m || atomic_load(&m->cancelled))
        return ERR_UNAVAILABLE;
    char *msg;
    size_t len;
    enum err e = mail_compose(m->cfg.smtp_from, to, subject, body, time_now(), &msg, &len);
    if (e)
        return e;
    CURL *h = curl_easy_init();
    if (!h) {
        free(msg);
        return ERR_NOMEM;
    }
    char from[300], rcpt[300], errbuf[CURL_ERROR_SIZE] = "";
    snprintf(from, sizeof from, "<%s>", m->cfg.smtp_from);
    snprintf(rcpt, sizeof rcpt, "<%s>", to);
    struct curl_slist *rcpts = curl_slist_append(NULL, rcpt);
    struct reader r = {msg, len, 0};
    curl_easy_setopt(h, CURLOPT_URL, m->cfg.smtp_url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(h, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL); /* STARTTLS or nothing */
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (m->cfg.smtp_ca_file[0])
        curl_easy_setopt(h, CURLOPT_CAINFO, m->cfg.smtp_ca_file);
    if (m->cfg.smtp_username[0]) {
        curl_easy_setopt(h, CURLOPT_USERNAME, m->cfg.smtp_username);
        curl_easy_setopt(h, CURLOPT_PASSWORD, m->password);
    }
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpts);
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(h, CURLOPT_READDATA, &r);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    long t = m->cfg.smtp_timeout_seconds;
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, t < 10 ? t : 10L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, t);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, m);
    CURLcode rc = curl_easy_perform(h);
    if (rc != CURLE_OK) {
        /* the server and curl's reason only: never the password or the message */
        log_warn("mail: could not send to %s via %s: %s", to, m->cfg.smtp_url,
                 errbuf[0] ? errbuf : curl_easy_strerror(rc));
        e = ERR_UNAVAILABLE;
    }
    curl_slist_free_all(rcpts);
    curl_easy_cleanup(h);
    sodium_memzero(msg, len);
    free(msg);
    return e;
}
